/**
 * The one way switchyard calls AWS: the SDK's own modest retry, then p-retry on top for
 * throttling and transient failures (exponential, jittered, bounded, abortable), and errors
 * that name the operation. Not-found errors are the caller's to interpret (`errorName`).
 */
import pRetry, { AbortError } from "p-retry";

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

export interface CallOptions {
  signal?: AbortSignal;
  /** error names that are also worth retrying here (eventual consistency right after a create) */
  retryOn?: string[];
  /** retries after the SDK's own attempts (default 6) */
  retries?: number;
}

/** The AWS error name of a thrown value (`TargetGroupNotFoundException`, `NoSuchKey`, …). */
export function errorName(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const e = error as { name?: unknown; code?: unknown; Code?: unknown };
  const name = typeof e.name === "string" ? e.name : undefined;
  if (name && name !== "Error") return name;
  if (typeof e.code === "string") return e.code;
  return typeof e.Code === "string" ? e.Code : name;
}

export function httpStatus(error: unknown): number | undefined {
  const meta = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
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

export async function call<T>(fn: () => Promise<T>, options: CallOptions = {}): Promise<T> {
  const { signal, retryOn = [], retries = 6 } = options;
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
    { retries, factor: 2, minTimeout: 100, maxTimeout: 5_000, randomize: true, signal },
  );
}
