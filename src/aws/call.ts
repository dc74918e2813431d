/**
 * The one way switchyard calls AWS, and its only retry layer: the SDK clients send each request
 * once (`maxAttempts: 1`, see clients.ts) and `call` retries throttling and transient failures
 * with p-retry (exponential, jittered, bounded, abortable). Worst case per call: 1 + `retries`
 * requests (7 by default) and about 11 s of backoff; docs/errors.md ("Retries") has the numbers.
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
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
]);

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

/** The AWS error behind a thrown value: itself, or the cause of an AWS_ERROR. */
function awsCause(error: unknown): unknown {
  return isSwitchyardError(error, "AWS_ERROR") && error.cause !== undefined ? error.cause : error;
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
  const name = errorName(error);
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
  return pRetry(
    async () => {
      try {
        return await fn();
      } catch (error) {
        if (!isRetryable(error, retryOn)) {
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
