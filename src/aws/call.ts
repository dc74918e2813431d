/**
 * The one way switchyard calls AWS, and its only retry layer: the SDK clients send each request
 * once (`maxAttempts: 1`, see clients.ts) and `call` retries throttling and transient failures
 * with p-retry (exponential, jittered, bounded, abortable). Worst case per call: 1 + `retries`
 * requests (7 by default) and about 11 s of backoff; docs/errors.md ("Retries") has the numbers.
 * An endpoint that cannot be reached at all (nothing listening, no such host) is retried only
 * `UNREACHABLE_RETRIES` times, quickly: it fails in under a second, naming the endpoint.
 * Not-found errors are the caller's to interpret (`errorName`).
 */
import pRetry, { AbortError } from "p-retry";
import { AwsError, isSwitchyardError } from "../core/errors.js";

const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "SlowDown",
  "PriorRequestNotComplete",
]);
const TRANSIENT = new Set([
  "InternalFailure",
  "InternalError",
  "ServiceUnavailable",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
]);

/**
 * Network errors saying the endpoint cannot be reached at all: nothing listens on the port, the
 * host name does not resolve, there is no route. Retrying them for long only delays the answer.
 */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "EADDRNOTAVAIL",
]);

/** Retries of an unreachable endpoint: 2, so about 0.3–0.6 s of backoff before ENDPOINT_UNREACHABLE. */
export const UNREACHABLE_RETRIES = 2;

/** AWS error names meaning AWS does not accept the credentials sent. */
const BAD_CREDENTIALS = new Set([
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidAccessKeyId",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "AuthFailure",
  "InvalidToken",
]);

/** The SDK's errors for credentials it could not load (no profile, no keys, an expired SSO session). */
const NO_CREDENTIALS = new Set(["CredentialsProviderError", "TokenProviderError"]);

/** Retries after the first request when `CallOptions.retries` is not given. */
export const DEFAULT_RETRIES = 6;

/**
 * The backoff before retry n (1-based): `minTimeoutMs × factor^(n-1)`, times a random factor
 * in [1, 2), capped at `maxTimeoutMs`. So 100–200 ms, 200–400 ms, … and at most 5 s.
 */
export const RETRY_BACKOFF = { minTimeoutMs: 100, factor: 2, maxTimeoutMs: 5_000 } as const;

export interface CallOptions {
  signal?: AbortSignal;
  /** error names that are also worth retrying here (eventual consistency right after a create) */
  retryOn?: string[];
  /**
   * Retries after the first request (default 6): at most `retries + 1` requests are sent.
   * 0 sends the request exactly once, for a write whose outcome must be read back instead.
   */
  retries?: number;
}

/** The AWS error behind a thrown value: itself, or the cause of the error `toAwsError` made of it. */
function awsCause(error: unknown): unknown {
  return isSwitchyardError(
    error,
    "AWS_ERROR",
    "NO_CREDENTIALS",
    "BAD_CREDENTIALS",
    "ENDPOINT_UNREACHABLE",
  ) && error.cause !== undefined
    ? error.cause
    : error;
}

/**
 * Where a request was sent, as the clients (clients.ts) note it on every error a request throws:
 * the configured endpoint (none: AWS itself) and profile. The errors use it to name the fix.
 */
export interface RequestContext {
  endpoint?: string;
  profile?: string;
}

const REQUEST_CONTEXT: unique symbol = Symbol.for("switchyard.requestContext");

/** Notes on a thrown value where its request was sent (see `RequestContext`). */
export function noteRequestContext(error: unknown, context: RequestContext): void {
  if (typeof error !== "object" || error === null || REQUEST_CONTEXT in error) return;
  Object.defineProperty(error, REQUEST_CONTEXT, { value: context, configurable: true });
}

function requestContext(error: unknown): RequestContext | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  return (error as { [REQUEST_CONTEXT]?: RequestContext })[REQUEST_CONTEXT];
}

/**
 * The network error code of a thrown value (`ECONNREFUSED`, `ENOTFOUND`…) when it says the
 * endpoint cannot be reached; Node's AggregateError (one per address tried) counts by its first.
 */
export function unreachableCode(error: unknown): string | undefined {
  const e = awsCause(error) as { code?: unknown; errors?: unknown } | null;
  if (typeof e !== "object" || e === null) return undefined;
  if (typeof e.code === "string" && UNREACHABLE.has(e.code)) return e.code;
  const first = Array.isArray(e.errors)
    ? (e.errors[0] as { code?: unknown } | undefined)
    : undefined;
  return typeof first?.code === "string" && UNREACHABLE.has(first.code) ? first.code : undefined;
}

/** The AWS error name of a thrown value (`TargetGroupNotFoundException`, `NoSuchKey`, …). */
export function errorName(thrown: unknown): string | undefined {
  const error = awsCause(thrown);
  if (typeof error !== "object" || error === null) return undefined;
  const e = error as { name?: unknown; code?: unknown; Code?: unknown };
  const name = typeof e.name === "string" ? e.name : undefined;
  if (name && name !== "Error") return name;
  if (typeof e.code === "string") return e.code;
  return typeof e.Code === "string" ? e.Code : name;
}

export function httpStatus(error: unknown): number | undefined {
  const meta = (awsCause(error) as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return meta?.httpStatusCode;
}

export function isRetryable(error: unknown, extra: readonly string[] = []): boolean {
  const name = errorName(error) ?? "";
  if (THROTTLING.has(name) || TRANSIENT.has(name) || extra.includes(name)) return true;
  if (unreachableCode(error) !== undefined) return true;
  const status = httpStatus(error);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && TRANSIENT.has(code);
}

/**
 * An AWS error that retries did not cure, as a switchyard AWS_ERROR whose cause is the SDK's
 * error (so `errorName` and `httpStatus` still see it) and whose hint says what to check.
 */
export function toAwsError(error: unknown): unknown {
  if (isSwitchyardError(error)) return error;
  const unreachable = unreachableCode(error);
  if (unreachable) return endpointUnreachable(error, unreachable);
  const name = errorName(error);
  if (
    (name && NO_CREDENTIALS.has(name)) ||
    /could not (load|resolve) credentials/i.test(error instanceof Error ? error.message : "")
  ) {
    return noCredentials(error);
  }
  if (name && BAD_CREDENTIALS.has(name)) return badCredentials(error, name);
  const fromAws = typeof (error as { $metadata?: unknown } | null)?.$metadata === "object";
  if (!name || !(fromAws || TRANSIENT.has(name))) return error;
  const message = error instanceof Error ? error.message : String(error);
  const denied = /AccessDenied|UnauthorizedOperation|NotAuthorized|Forbidden/i.test(name);
  const credentials = /Credentials|ExpiredToken|InvalidClientTokenId|SignatureDoesNotMatch/i.test(
    `${name} ${message}`,
  );
  return new AwsError("AWS_ERROR", `AWS ${name}: ${message}`, {
    cause: error,
    hint: denied
      ? "the credentials in use lack a permission: compare their policy with `switchyard iam-policy`"
      : credentials
        ? "check the AWS credentials (profile, environment, SSO session)"
        : undefined,
    details: { awsError: name, httpStatus: httpStatus(error) },
  });
}

const LOOPBACK = /^(127\.|localhost$|::1$|\[::1\]$|0\.0\.0\.0$)/;

/** The host (and port) a network error names, when no endpoint was configured. */
function hostOf(error: unknown): string | undefined {
  const e = error as { hostname?: unknown; address?: unknown; port?: unknown; errors?: unknown };
  const first = Array.isArray(e.errors) ? (e.errors[0] as typeof e | undefined) : undefined;
  const host = e.hostname ?? e.address ?? first?.hostname ?? first?.address;
  const port = e.port ?? first?.port;
  if (typeof host !== "string") return undefined;
  return port === undefined ? host : `${host.includes(":") ? `[${host}]` : host}:${String(port)}`;
}

const WHY: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "the host name could not be resolved",
  EHOSTUNREACH: "no route to the host",
  ENETUNREACH: "the network is unreachable",
  EHOSTDOWN: "the host is down",
  EADDRNOTAVAIL: "the address is not available",
};

function endpointUnreachable(error: unknown, code: string): AwsError {
  const context = requestContext(error);
  const endpoint = context?.endpoint;
  const target = endpoint ?? hostOf(error) ?? "the AWS endpoint";
  let host = "";
  let port = "";
  try {
    const url = new URL(endpoint ?? `http://${hostOf(error) ?? ""}`);
    host = url.hostname;
    port = url.port;
  } catch {
    // no URL to read: the hint stays general
  }
  const local = LOOPBACK.test(host) || port === "4566";
  const hint = local
    ? "is `switchyard sandbox` running? Start it in another terminal (`switchyard sandbox`, port 4566 by default), or pass the --endpoint-url it prints"
    : endpoint !== undefined
      ? "check --endpoint-url (or AWS_ENDPOINT_URL): the host, the port, and that the network lets you through"
      : "check the network (a proxy, a VPN, DNS) and the region (--region, AWS_REGION)";
  return new AwsError(
    "ENDPOINT_UNREACHABLE",
    `cannot reach ${target}: ${WHY[code] ?? code} (${code})`,
    { cause: error, hint, details: { endpoint: endpoint ?? null, networkError: code } },
  );
}

const SANDBOX_HINT =
  "no endpoint is set, so this is AWS itself: for the local sandbox pass --endpoint-url http://127.0.0.1:4566 (or set AWS_ENDPOINT_URL)";

function noCredentials(error: unknown): AwsError {
  const context = requestContext(error);
  const profile = context?.profile;
  const message = error instanceof Error ? error.message : String(error);
  const fix =
    profile !== undefined
      ? `check that profile ${profile} exists in ~/.aws/config or ~/.aws/credentials (\`aws configure list-profiles\`); for an SSO profile run \`aws sso login --profile ${profile}\``
      : "set AWS_PROFILE (or pass --profile) to a profile in ~/.aws/config, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for an SSO profile run `aws sso login`";
  return new AwsError(
    "NO_CREDENTIALS",
    `no AWS credentials could be loaded${profile !== undefined ? ` for profile ${profile}` : ""}: ${message}`,
    {
      cause: error,
      hint:
        context !== undefined && context.endpoint === undefined ? `${fix}; ${SANDBOX_HINT}` : fix,
      details: { profile: profile ?? null, endpoint: context?.endpoint ?? null },
    },
  );
}

function badCredentials(error: unknown, name: string): AwsError {
  const context = requestContext(error);
  const message = error instanceof Error ? error.message : String(error);
  const fix =
    "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or the profile in use (AWS_PROFILE, --profile); an expired session needs new credentials (`aws sso login`)";
  return new AwsError("BAD_CREDENTIALS", `AWS refused the credentials (${name}): ${message}`, {
    cause: error,
    hint: context !== undefined && context.endpoint === undefined ? `${fix}; ${SANDBOX_HINT}` : fix,
    details: { awsError: name, httpStatus: httpStatus(error) },
  });
}

export async function call<T>(fn: () => Promise<T>, options: CallOptions = {}): Promise<T> {
  try {
    return await retrying(fn, options);
  } catch (error) {
    throw toAwsError(error);
  }
}

function retrying<T>(fn: () => Promise<T>, options: CallOptions): Promise<T> {
  const { signal, retryOn = [], retries = DEFAULT_RETRIES } = options;
  const { minTimeoutMs, factor, maxTimeoutMs } = RETRY_BACKOFF;
  let unreachable = 0;
  return pRetry(
    async () => {
      try {
        return await fn();
      } catch (error) {
        const stop = unreachableCode(error) !== undefined && ++unreachable > UNREACHABLE_RETRIES;
        if (stop || !isRetryable(error, retryOn)) {
          throw new AbortError(error instanceof Error ? error : new Error(String(error)));
        }
        throw error;
      }
    },
    {
      retries,
      factor,
      minTimeout: minTimeoutMs,
      maxTimeout: maxTimeoutMs,
      randomize: true,
      signal,
    },
  );
}

interface Sender {
  send(...args: never[]): Promise<unknown>;
}

/**
 * `client` with every request it sends going through `call` (with `options`), for code that
 * sends requests on its own: the SDK's paginators and lib-storage's `Upload`. Everything but
 * `send` is the client's own (its prototype is the client). The paginators accept only an
 * instance of their client class (`instanceof`) and use nothing but `send`; for a client that is
 * not one (the lazily loaded EC2 client), pass `as`, that class: the result is then an object of
 * the class whose only own member is `send`.
 */
export function throughCall<C extends Sender>(client: C, options?: CallOptions): C;
export function throughCall<C>(
  client: Sender,
  options: CallOptions,
  as: { readonly prototype: C },
): C;
export function throughCall(
  client: Sender,
  options: CallOptions = {},
  as?: { readonly prototype: unknown },
): unknown {
  const send = (...args: never[]) => call(() => client.send(...args), options);
  return Object.create(as ? (as.prototype as object) : client, {
    send: { value: send, enumerable: false, writable: false, configurable: true },
  });
}
