/**
 * CloudWatch's two wire protocols on the sandbox endpoint.
 *
 * JSON 1.0: `POST /` with `X-Amz-Target: GraniteServiceVersion20100801.<Operation>`; results are
 * JSON with timestamps as epoch seconds; errors carry `__type` and, because CloudWatch is
 * "query compatible", an `x-amzn-query-error: <Code>;<Sender|Receiver>` header, from which the
 * SDK picks its named exception (`ResourceNotFound`, `InvalidParameterValueException`, …).
 * Query: form bodies with `Action=` and `Version=2010-08-01`, XML answers like the other query
 * services.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import { decodeQuery, encodeQueryError, encodeQueryResult } from "../../protocol/query.js";
import { cloudwatchHandlers } from "./index.js";

const TARGET_PREFIX = "GraniteServiceVersion20100801.";
const SERVICE = "monitoring";

/** Dates become epoch seconds; `undefined` members are left out. */
function toJson(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
    return out;
  }
  return value;
}

function toAwsError(error: unknown): AwsError {
  if (error instanceof AwsError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AwsError("InternalServiceError", `sandbox internal error: ${message}`, 500);
}

export async function serveCloudWatch(
  ctx: SandboxContext,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
): Promise<void> {
  const target = req.headers["x-amz-target"];
  const json = typeof target === "string";
  let action = "";
  let params: Record<string, unknown> = {};
  let verdict: "reply" | "drop-reply" = "reply";
  const reply = (status: number, contentType: string, text: string, extra = {}) => {
    res.writeHead(status, {
      "content-type": contentType,
      "content-length": Buffer.byteLength(text),
      ...extra,
    });
    res.end(text);
  };
  try {
    if (json) {
      action = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
      const text = body.toString("utf8");
      try {
        params = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        throw new AwsError("SerializationException", "The request body is not valid JSON.");
      }
    } else {
      params = decodeQuery(body.toString("utf8"));
      action = typeof params.Action === "string" ? params.Action : "";
    }
    const handler = cloudwatchHandlers[action];
    if (!handler) {
      throw new AwsError(
        "InvalidAction",
        `The action ${action || "(none)"} is not valid for this web service (the sandbox supports: ${Object.keys(cloudwatchHandlers).join(", ")}).`,
      );
    }
    verdict = await ctx.faults.apply(SERVICE, action, req.headers);
    const result = (await handler(params, ctx)) ?? {};
    if (verdict === "drop-reply") return void req.socket.destroy();
    if (json) reply(200, "application/x-amz-json-1.0", JSON.stringify(toJson(result)));
    else reply(200, "text/xml", encodeQueryResult(SERVICE, action, result));
  } catch (error) {
    if (verdict === "drop-reply") return void req.socket.destroy();
    const e = toAwsError(error);
    if (json) {
      reply(
        e.status,
        "application/x-amz-json-1.0",
        JSON.stringify({ __type: `com.amazonaws.cloudwatch#${e.code}`, message: e.message }),
        { "x-amzn-query-error": `${e.code};${e.type}` },
      );
    } else {
      reply(e.status, "text/xml", encodeQueryError(SERVICE, e));
    }
  }
}
