/**
 * The control plane's HTTP layer: one route table (method, path pattern, the role it needs), JSON
 * bodies in and out, and errors as JSON with a status. Routes are data, so more faces (a
 * dashboard's static files, a ChatOps endpoint with its own signature check) are more rows.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  ERROR_CODES,
  type ErrorCode,
  isSwitchyardError,
  toSwitchyardError,
} from "../core/errors.js";
import type { Principal, Role } from "./auth.js";

/** Who may call a route: anyone (it checks its own proof, or has nothing to hide), or a role. */
export type Access = "public" | Role;

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** undefined on public routes */
  principal: Principal | undefined;
  /** the body as JSON (an empty body is `{}`); INVALID_INPUT when it is not JSON */
  json(): Promise<unknown>;
  /** ends when the client goes away or the control plane shuts down */
  signal: AbortSignal;
}

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** `/api/services/:app/:env`: `:name` matches one path segment */
  path: string;
  access: Access;
  handler(ctx: RequestContext): Promise<Reply | undefined>;
}

/** A JSON answer; a handler that wrote the response itself (a stream) returns undefined. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function reply(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return headers ? { status, body, headers } : { status, body };
}

/** Matches `path` against a route's pattern; the decoded parameters, or undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(":")) {
      if (g === "") return undefined;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) return undefined;
  }
  return params;
}

/** Errors of the HTTP layer itself, besides the library's codes. */
export type HttpErrorCode =
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "RATE_LIMITED"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "PAYLOAD_TOO_LARGE"
  | "SHUTTING_DOWN";

export interface ErrorBody {
  error: { code: ErrorCode | HttpErrorCode; message: string; hint?: string; details?: unknown };
  /** LOCK_HELD: who holds the service's swap record */
  holder?: unknown;
}

export function errorReply(
  status: number,
  code: HttpErrorCode,
  message: string,
  headers?: Record<string, string>,
): Reply {
  return reply(status, { error: { code, message } } satisfies ErrorBody, headers);
}

/**
 * The HTTP status of a library error, from its exit code as the CLI maps it: invalid input 400
 * (an unknown service 404; promote/pause/abort with no swap, or a rollback with nothing to go
 * back to, 409), the lock held 409, anything else 500 (AWS 502, a timeout 504).
 */
export function statusOfError(code: ErrorCode): number {
  switch (code) {
    case "UNKNOWN_SERVICE":
      return 404;
    case "NO_SWAP":
    case "NOTHING_TO_RESUME":
    case "NOTHING_TO_ROLL_BACK":
    case "NO_STANDBY":
    case "PLAN_CHANGED":
      return 409;
    case "AWS_ERROR":
    case "ENDPOINT_UNREACHABLE":
    case "NO_CREDENTIALS":
    case "BAD_CREDENTIALS":
      return 502;
    case "TIMEOUT":
      return 504;
  }
  const exit = ERROR_CODES[code].exitCode;
  if (exit === 2) return 400;
  if (exit === 3) return 409;
  return 500;
}

/** A thrown value as a JSON error reply: the library's code, message, hint and facts. */
export function replyForError(thrown: unknown): Reply {
  const error = toSwitchyardError(thrown);
  const body: ErrorBody = {
    error: {
      code: error.code,
      // an unexpected error's message may hold anything: it is logged, not sent
      message: error.code === "INTERNAL" ? "internal error" : error.message,
      ...(error.hint && error.code !== "INTERNAL" ? { hint: error.hint } : {}),
      ...(Object.keys(error.details).length > 0 && error.code !== "INTERNAL"
        ? { details: { ...error.details } }
        : {}),
    },
  };
  if (isSwitchyardError(error, "LOCK_HELD") && error.details.owner !== undefined) {
    body.holder = { swapId: error.details.swapId, ...(error.details.owner as object) };
  }
  return reply(statusOfError(error.code), body);
}

export const MAX_BODY_BYTES = 64 * 1024;

export class BodyTooLarge extends Error {}

/** Reads a request's body as bytes, at most `limit` of them (a signature is checked over these). */
export async function readRawBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads a request's body, at most `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return (await readRawBody(req, limit)).toString("utf8");
}

export function sendJson(res: ServerResponse, r: Reply): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = `${JSON.stringify(r.body)}\n`;
  res.writeHead(r.status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...r.headers,
  });
  res.end(text);
}

/** The media type of a Content-Type header, lower-cased, without its parameters. */
export function mediaType(header: string | undefined): string | undefined {
  const type = header?.split(";")[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

/** Whether a method changes something (and so needs the operator role and the CSRF checks). */
export function isStateChanging(method: string): boolean {
  return method !== "GET" && method !== "HEAD" && method !== "OPTIONS";
}

/** The header a client without a JSON body sends instead of a Content-Type. */
export const REQUEST_HEADER = "x-switchyard-request";

/**
 * Why a state-changing request may have come from another site, or undefined when it cannot
 * have: its body must be JSON (an HTML form cannot send `application/json`) or, without a body,
 * it must carry the `X-Switchyard-Request` header (a form cannot set headers); an `Origin`
 * (or `Sec-Fetch-Site: cross-site`) must name this very host.
 */
export function crossSiteProblem(req: IncomingMessage): Reply | undefined {
  const type = mediaType(req.headers["content-type"]);
  const json = type === "application/json" || (type?.endsWith("+json") ?? false);
  const hasBody =
    (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0") ||
    req.headers["transfer-encoding"] !== undefined;
  if (!json && (type !== undefined || hasBody || req.headers[REQUEST_HEADER] === undefined)) {
    return errorReply(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      `a request that changes something sends a JSON body (Content-Type: application/json) or, with no body, the header ${REQUEST_HEADER}: 1`,
    );
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== "null") {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host === undefined || host !== req.headers.host) {
      return errorReply(403, "FORBIDDEN", "cross-origin request refused");
    }
  } else if (origin === "null" || req.headers["sec-fetch-site"] === "cross-site") {
    return errorReply(403, "FORBIDDEN", "cross-origin request refused");
  }
  return undefined;
}
