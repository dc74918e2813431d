/**
 * The AWS query protocol (Auto Scaling, ELBv2) and its EC2 variant: decoding form bodies into
 * plain nested objects, encoding results and errors as XML.
 *
 * Decoding: `A.member.2.B=x` becomes `{ A: [undefined, { B: "x" }] }`-style arrays (1-based on the
 * wire, 0-based here, holes removed); EC2's `A.2.B=x` decodes the same way. An empty list sent
 * as `A=` decodes to the empty string: read lists through `list()`.
 */
import { randomUUID } from "node:crypto";
import type { AwsError } from "./errors.js";

export type Params = Record<string, unknown>;

const INDEX = /^\d+$/;

export function decodeQuery(body: string): Params {
  const root: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.split(".").filter((segment) => segment !== "member" && segment !== "entry");
    let node: Record<string, unknown> = root;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i]!;
      if (i === path.length - 1) {
        node[segment] = value;
        break;
      }
      const next = node[segment];
      if (next === undefined || typeof next !== "object" || next === null) {
        const child: Record<string, unknown> = {};
        node[segment] = child;
        node = child;
      } else {
        node = next as Record<string, unknown>;
      }
    }
  }
  return toArrays(root) as Params;
}

/** Objects whose keys are all 1-based indexes become arrays, in index order. */
function toArrays(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > 0 && keys.every((k) => INDEX.test(k))) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => toArrays(record[String(k)]));
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = toArrays(record[k]);
  return out;
}

/** A list parameter: absent or sent empty (`Name=`) is `[]`. */
export function list<T = unknown>(value: unknown): T[] {
  if (Array.isArray(value)) return value as T[];
  if (value === undefined || value === "") return [];
  return [value as T];
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function int(value: unknown): number | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

export function bool(value: unknown): boolean | undefined {
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * Encodes a plain value as XML elements. Arrays become repeated `itemTag` elements under the
 * array's element, Dates ISO 8601, `undefined` and `null` are left out.
 */
export function toXml(value: unknown, itemTag: "member" | "item"): string {
  if (value === undefined || value === null) return "";
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    return value.map((v) => `<${itemTag}>${toXml(v, itemTag)}</${itemTag}>`).join("");
  }
  if (typeof value === "object") {
    let out = "";
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined || v === null) continue;
      out += `<${k}>${toXml(v, itemTag)}</${k}>`;
    }
    return out;
  }
  return escapeXml(String(value));
}

export const NAMESPACES: Record<string, string> = {
  autoscaling: "http://autoscaling.amazonaws.com/doc/2011-01-01/",
  elasticloadbalancing: "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
  ec2: "http://ec2.amazonaws.com/doc/2016-11-15/",
  monitoring: "http://monitoring.amazonaws.com/doc/2010-08-01/",
  iam: "https://iam.amazonaws.com/doc/2010-05-08/",
  sts: "https://sts.amazonaws.com/doc/2011-06-15/",
};

export function encodeQueryResult(service: string, action: string, result: unknown): string {
  const requestId = randomUUID();
  if (service === "ec2") {
    return `<?xml version="1.0" encoding="UTF-8"?><${action}Response xmlns="${NAMESPACES.ec2}"><requestId>${requestId}</requestId>${toXml(result, "item")}</${action}Response>`;
  }
  return `<?xml version="1.0" encoding="UTF-8"?><${action}Response xmlns="${NAMESPACES[service]}"><${action}Result>${toXml(result, "member")}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

export function encodeQueryError(service: string, error: AwsError): string {
  const requestId = randomUUID();
  const code = escapeXml(error.code);
  const message = escapeXml(error.message);
  if (service === "ec2") {
    return `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
  }
  return `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="${NAMESPACES[service]}"><Error><Type>${error.type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

export function encodeS3Error(error: AwsError, resource = ""): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message><Resource>${escapeXml(resource)}</Resource><RequestId>${randomUUID()}</RequestId></Error>`;
}

/**
 * The answer to a request for a service the sandbox does not serve, in the protocol the client
 * most likely expects: JSON (`__type`, with `x-amzn-ErrorType`) for JSON and REST-JSON clients,
 * the query protocol's XML error for form-encoded requests. The message names the service.
 */
export function encodeUnservedError(
  service: string,
  headers: Record<string, string | string[] | undefined>,
  served: readonly string[],
): { status: number; headers: Record<string, string>; body: string } {
  const code = "UnrecognizedService";
  const message = `the switchyard sandbox does not serve the '${service}' service (it serves ${served.join(", ")})`;
  const contentType = String(headers["content-type"] ?? "");
  if (contentType.startsWith("application/x-www-form-urlencoded")) {
    const body = `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
    return { status: 400, headers: { "content-type": "text/xml" }, body };
  }
  return {
    status: 400,
    headers: { "content-type": "application/json", "x-amzn-errortype": code },
    body: JSON.stringify({ __type: code, message }),
  };
}
