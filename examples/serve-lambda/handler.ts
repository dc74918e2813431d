/**
 * switchyard's HTTP control plane as an AWS Lambda behind a function URL (auth type NONE: the
 * control plane checks HTTP Basic users and bearer tokens itself). It keeps no state of its own,
 * so a cold start, many concurrent instances, or a `switchyard serve` on ECS beside it all show
 * the same truth: what AWS and the swap records say.
 *
 * On its first invocation the handler starts the control plane on a loopback port inside the
 * execution environment and forwards each function URL request (payload format 2.0) to it; the
 * answer goes back as the function URL response. Credentials come from the environment as for
 * `switchyard serve` (SWITCHYARD_SERVE_USERS, SWITCHYARD_SERVE_TOKENS or their _FILE forms).
 *
 * A deploy started here is driven by the invocation that started it only while it runs: start
 * swaps with `detach: true` semantics instead, and let examples/reconcile-lambda drive them.
 * The event stream (Server-Sent Events) needs a connection that stays open: read it with
 * `?until=idle`, or serve the stream from a container (examples/serve-container).
 *
 * No dependencies besides switchyard; in your own project import from "switchyard".
 */
import {
  type Clients,
  type ControlPlane,
  createControlPlane,
  createSwitchyard,
  loadConfigFromEnvironment,
  loadCredentials,
  type ResolvedConfig,
  type SwitchyardConfig,
} from "../../src/index.js";

/** A Lambda function URL request (payload format version 2.0), the fields used here. */
export interface FunctionUrlEvent {
  rawPath: string;
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { http: { method: string; sourceIp?: string } };
}

export interface FunctionUrlResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

export interface HandlerOptions {
  config?: ResolvedConfig | SwitchyardConfig;
  /** default: process.env */
  env?: Record<string, string | undefined>;
  /** another AWS endpoint (default: AWS_ENDPOINT_URL) */
  endpoint?: string;
  clients?: Clients;
}

/** Headers a function URL sets or that describe the hop, not the request. */
const HOP = new Set(["host", "content-length", "connection", "x-forwarded-for"]);

/** The config given, else the one the function's environment names (see the module comment). */
function configOf(options: HandlerOptions): Promise<ResolvedConfig | SwitchyardConfig> {
  return options.config
    ? Promise.resolve(options.config)
    : loadConfigFromEnvironment(options.env ?? process.env);
}

export function createHandler(options: HandlerOptions = {}) {
  // built on the first invocation and reused while the execution environment stays warm
  let started: Promise<{ plane: ControlPlane; url: string }> | undefined;
  const start = async () => {
    const env = options.env ?? process.env;
    const credentials = await loadCredentials(env);
    const yard = createSwitchyard({
      config: await configOf(options),
      ...(options.clients ? { clients: options.clients } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    });
    // the function URL's caller, not this loopback hop, is whom failed logins are counted against
    const plane = createControlPlane({ yard, auth: credentials, trustProxy: true });
    const { url } = await plane.listen({ port: 0, host: "127.0.0.1" });
    return { plane, url };
  };

  return async function handler(event: FunctionUrlEvent): Promise<FunctionUrlResult> {
    started ??= start();
    const { url } = await started;
    const headers = new Headers();
    for (const [name, value] of Object.entries(event.headers ?? {})) {
      if (value !== undefined && !HOP.has(name.toLowerCase())) headers.set(name, value);
    }
    const method = event.requestContext.http.method.toUpperCase();
    const body =
      event.body === undefined || method === "GET" || method === "HEAD"
        ? undefined
        : event.isBase64Encoded
          ? Buffer.from(event.body, "base64")
          : event.body;
    headers.set("x-forwarded-for", event.requestContext.http.sourceIp ?? "unknown");
    const query = event.rawQueryString ? `?${event.rawQueryString}` : "";
    const answer = await fetch(`${url}${event.rawPath}${query}`, { method, headers, body });
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (!HOP.has(name)) out[name] = value;
    });
    return {
      statusCode: answer.status,
      headers: out,
      body: await answer.text(),
      isBase64Encoded: false,
    };
  };
}

/** The Lambda entry point (`handler.handler`). */
export const handler = createHandler();
