/**
 * The sandbox's HTTP endpoint: one port on 127.0.0.1 serving Auto Scaling, ELBv2, EC2, IAM and
 * STS (query protocols) and S3 (REST-XML, path-style), told apart by the SigV4 credential scope,
 * plus `/_sandbox/*` for things AWS has no API for (listener URLs, fault rules). A request for any
 * other service is answered with an error naming it. Fault rules are applied around each call:
 * latency and injected errors before the handler runs, a lost reply after it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Clock, createClock } from "./clock.js";
import type { QueryHandlers, SandboxContext, SandboxSettings } from "./context.js";
import { type FaultRule, Faults } from "./faults.js";
import { AwsError } from "./protocol/errors.js";
import {
  decodeQuery,
  encodeQueryError,
  encodeQueryResult,
  encodeS3Error,
  encodeUnservedError,
} from "./protocol/query.js";
import { createRuntime } from "./runtime/index.js";
import { seed } from "./seed.js";
import { autoscalingHandlers, startAutoScaling } from "./services/autoscaling/index.js";
import { serveCloudWatch } from "./services/cloudwatch/http.js";
import { startCloudWatch } from "./services/cloudwatch/index.js";
import { ec2Handlers } from "./services/ec2/index.js";
import { elbv2Handlers } from "./services/elbv2/index.js";
import { iamHandlers } from "./services/iam/index.js";
import { BUCKET_SETTINGS, bucketSettingOf } from "./services/s3/bucket-config.js";
import { handleS3 } from "./services/s3/index.js";
import { stsHandlers } from "./services/sts/index.js";
import { SandboxState } from "./state.js";

export interface SandboxOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one (default 4566) */
  port?: number;
  /** multiplier on every sandbox timer, 0 < f ≤ 1 (default 0.05: twenty times faster than AWS) */
  timeScale?: number;
  region?: string;
  /** folder for instance working directories (default: a new temporary folder, removed on stop) */
  stateDir?: string;
  /** AWS seconds from launch to `running` (default 20) */
  bootSeconds?: number;
  /** AWS seconds until listener changes reach the proxy (default 5) */
  propagationSeconds?: number;
  /** AWS seconds after a minute ends until its CloudWatch metrics are published (default 60) */
  metricLagSeconds?: number;
  faults?: FaultRule[];
}

export interface Sandbox {
  /** e.g. `http://127.0.0.1:4566`: give it to SDK clients as `endpoint` */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly clock: Clock;
  readonly faults: Faults;
  /** the whole state, for tests and tools that look behind the API */
  readonly context: SandboxContext;
  /** image ids whose instances never become healthy */
  readonly unhealthyImages: Set<string>;
  /** Loopback URL where a listener serves traffic (undefined until its proxy is up). */
  listenerUrl(listenerArn: string): string | undefined;
  /** Stops every proxy, instance process and timer, then the endpoint. Safe to call twice. */
  stop(): Promise<void>;
}

const QUERY_SERVICES: Record<string, QueryHandlers> = {
  autoscaling: autoscalingHandlers,
  elasticloadbalancing: elbv2Handlers,
  ec2: ec2Handlers,
  iam: iamHandlers,
  sts: stsHandlers,
};
const VERSION_TO_SERVICE: Record<string, string> = {
  "2011-01-01": "autoscaling",
  "2015-12-01": "elasticloadbalancing",
  "2016-11-15": "ec2",
  "2010-08-01": "monitoring",
  "2010-05-08": "iam",
  "2011-06-15": "sts",
};
const MAX_BODY = 1024 * 1024 * 1024;

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const region = options.region ?? "us-east-1";
  const clock = createClock(options.timeScale ?? 0.05);
  const ownStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "switchyard-sandbox-"));
  const state = new SandboxState(region, clock);
  seed(state);
  const faults = new Faults(options.faults ?? []);
  const settings: SandboxSettings = {
    region,
    timeScale: clock.timeScale,
    stateDir,
    bootSeconds: options.bootSeconds ?? 20,
    propagationSeconds: options.propagationSeconds ?? 5,
    metricLagSeconds: options.metricLagSeconds ?? 60,
    endpoint: "",
  };
  const unhealthyImages = new Set<string>();
  const runtime = createRuntime({ state, clock, settings, unhealthyImages });
  const ctx: SandboxContext = { state, clock, faults, settings, runtime, unhealthyImages };

  const server = createServer((req, res) => {
    handle(ctx, req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "text/plain" });
      }
      res.end(String(error));
    });
  });
  server.keepAliveTimeout = 5000;
  await listen(server, options.port ?? 4566);
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  settings.endpoint = endpoint;
  await runtime.start();
  const stopAutoScaling = startAutoScaling(ctx);
  const stopCloudWatch = startCloudWatch(ctx);

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    region,
    clock,
    faults,
    context: ctx,
    unhealthyImages,
    listenerUrl: (arn) => runtime.listenerUrl(arn),
    stop() {
      stopped ??= (async () => {
        stopAutoScaling();
        stopCloudWatch();
        await runtime.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        if (ownStateDir) rmSync(stateDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new AwsError("EntityTooLarge", "Request body too large", 400);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The service named in the SigV4 credential scope: `Credential=AKID/date/region/<service>/aws4_request`. */
export function serviceOf(req: IncomingMessage, body: Buffer): string | undefined {
  const auth = req.headers.authorization ?? "";
  const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\/aws4_request/.exec(auth);
  if (scope) return scope[1];
  const contentType = req.headers["content-type"] ?? "";
  if (req.method === "POST" && contentType.startsWith("application/x-www-form-urlencoded")) {
    const version = new URLSearchParams(body.toString("utf8")).get("Version") ?? "";
    return VERSION_TO_SERVICE[version];
  }
  return "s3";
}

async function handle(ctx: SandboxContext, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (url.pathname.startsWith("/_sandbox/")) {
    return handleInternal(ctx, req, res, url);
  }
  const body = await readBody(req);
  const service = serviceOf(req, body) ?? "s3";
  if (service === "monitoring") return serveCloudWatch(ctx, req, res, body);
  const handlers = QUERY_SERVICES[service];
  if (handlers) {
    const params =
      req.method === "POST" ? decodeQuery(body.toString("utf8")) : decodeQuery(url.search.slice(1));
    const action = typeof params.Action === "string" ? params.Action : "";
    let verdict: "reply" | "drop-reply" = "reply";
    try {
      const handler = handlers[action];
      if (!handler) {
        throw new AwsError(
          "InvalidAction",
          `The action ${action || "(none)"} is not valid for this web service (the sandbox supports: ${Object.keys(handlers).join(", ")}).`,
        );
      }
      verdict = await ctx.faults.apply(service, action, req.headers);
      const result = await handler(params, ctx);
      if (verdict === "drop-reply") return dropReply(req);
      send(res, 200, encodeQueryResult(service, action, result ?? {}));
    } catch (error) {
      if (verdict === "drop-reply") return dropReply(req);
      const awsError = toAwsError(error);
      send(res, awsError.status, encodeQueryError(service, awsError));
    }
    return;
  }
  if (service !== "s3") {
    const { status, headers, body } = encodeUnservedError(service, req.headers, [
      ...Object.keys(QUERY_SERVICES),
      "s3",
    ]);
    res.writeHead(status, headers);
    res.end(req.method === "HEAD" ? undefined : body);
    return;
  }
  // S3, path-style: /bucket/key
  const [, bucket, ...rest] = url.pathname.split("/");
  const key = rest.length > 0 ? decodeURIComponent(rest.join("/")) : undefined;
  const s3Req = {
    method: req.method ?? "GET",
    bucket: bucket ? decodeURIComponent(bucket) : undefined,
    key: key === "" ? undefined : key,
    query: url.searchParams,
    headers: req.headers,
    body,
  };
  let verdict: "reply" | "drop-reply" = "reply";
  try {
    verdict = await ctx.faults.apply("s3", s3OperationName(s3Req), req.headers);
    const out = await handleS3(s3Req, ctx);
    if (verdict === "drop-reply") return dropReply(req);
    res.writeHead(out.status, out.headers ?? {});
    res.end(req.method === "HEAD" ? undefined : out.body);
  } catch (error) {
    if (verdict === "drop-reply") return dropReply(req);
    const awsError = toAwsError(error);
    const headers: Record<string, string> = { "content-type": "application/xml" };
    res.writeHead(awsError.status, headers);
    res.end(req.method === "HEAD" ? undefined : encodeS3Error(awsError, url.pathname));
  }
}

/** The S3 operation a REST request is, by method and shape, for fault rules and logs. */
export function s3OperationName(req: {
  method: string;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  headers?: Record<string, string | string[] | undefined>;
}): string {
  if (!req.bucket) return "ListBuckets";
  if (!req.key) {
    const setting = bucketSettingOf(req.query);
    if (setting) {
      const verb = req.method === "PUT" ? "Put" : req.method === "DELETE" ? "Delete" : "Get";
      return `${verb}${BUCKET_SETTINGS[setting]!.operation}`;
    }
    if (req.method === "PUT") return "CreateBucket";
    if (req.method === "HEAD") return "HeadBucket";
    if (req.method === "DELETE") return "DeleteBucket";
    if (req.method === "POST" && req.query.has("delete")) return "DeleteObjects";
    return req.query.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
  }
  if (req.query.has("uploadId") || req.query.has("uploads")) {
    if (req.method === "POST")
      return req.query.has("uploads") ? "CreateMultipartUpload" : "CompleteMultipartUpload";
    if (req.method === "PUT") return "UploadPart";
    if (req.method === "DELETE") return "AbortMultipartUpload";
  }
  switch (req.method) {
    case "PUT":
      return req.headers?.["x-amz-copy-source"] ? "CopyObject" : "PutObject";
    case "HEAD":
      return "HeadObject";
    case "DELETE":
      return "DeleteObject";
    default:
      return "GetObject";
  }
}

function toAwsError(error: unknown): AwsError {
  if (error instanceof AwsError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AwsError("InternalFailure", `sandbox internal error: ${message}`, 500);
}

/**
 * A lost reply: the request has been carried out, and the connection closes without a byte of
 * the answer, so the client sees its socket hang up.
 */
function dropReply(req: IncomingMessage): void {
  req.socket.destroy();
}

function send(res: ServerResponse, status: number, xml: string) {
  res.writeHead(status, { "content-type": "text/xml", "content-length": Buffer.byteLength(xml) });
  res.end(xml);
}

async function handleInternal(
  ctx: SandboxContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
) {
  const json = (status: number, value: unknown) => {
    const text = JSON.stringify(value);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(text);
  };
  switch (`${req.method} ${url.pathname}`) {
    case "GET /_sandbox/health":
      return json(200, {
        ok: true,
        region: ctx.settings.region,
        timeScale: ctx.clock.timeScale,
        propagationSeconds: ctx.settings.propagationSeconds,
      });
    case "GET /_sandbox/listeners":
      return json(
        200,
        [...ctx.state.listeners.values()].map((l) => ({
          listenerArn: l.arn,
          url: ctx.runtime.listenerUrl(l.arn) ?? null,
        })),
      );
    case "GET /_sandbox/faults":
      return json(200, {
        rules: ctx.faults.list(),
        unhealthyImages: [...ctx.unhealthyImages],
        injected: Object.fromEntries(ctx.faults.injected),
      });
    case "PUT /_sandbox/faults": {
      try {
        const body = JSON.parse((await readBody(req)).toString("utf8")) as {
          rules?: FaultRule[];
          unhealthyImages?: string[];
        };
        ctx.faults.set(body.rules ?? []);
        ctx.unhealthyImages.clear();
        for (const id of body.unhealthyImages ?? []) ctx.unhealthyImages.add(id);
        return json(200, { rules: ctx.faults.list(), unhealthyImages: [...ctx.unhealthyImages] });
      } catch (error) {
        return json(400, { error: error instanceof Error ? error.message : String(error) });
      }
    }
    default:
      return json(404, { error: `no such sandbox route: ${req.method} ${url.pathname}` });
  }
}
