/**
 * The one way switchyard calls AWS: the SDK's own modest retry, then p-retry on top for
 * throttling and transient failures (exponential, jittered, bounded, abortable), and errors
 * that name the operation. Not-found errors are the caller's to interpret (`errorName`).
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

export interface CallOptions {
  signal?: AbortSignal;
  /** error names that are also worth retrying here (eventual consistency right after a create) */
  retryOn?: string[];
  /** retries after the SDK's own attempts (default 6) */
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
