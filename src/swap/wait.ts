/**
 * The one way switchyard waits: poll a predicate with backoff until it holds, a deadline passes
 * (TIMEOUT) or the signal aborts (ABORTED).
 */
import { AwsError, SwapError } from "../core/errors.js";

export interface WaitOptions {
  timeoutMs: number;
  intervalMs: number;
  /** growth of the interval per poll (default 1.5), capped at `maxIntervalMs` */
  backoff?: number;
  maxIntervalMs?: number;
  signal?: AbortSignal;
  what: string;
}

/**
 * Polls `check` until it returns true. Throws TIMEOUT when the next poll would fall past the
 * deadline, and ABORTED as soon as the signal is aborted: before each check and after each sleep
 * (a sleep ends early on abort), so an aborted wait never calls `check` again.
 */
export async function waitFor(check: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const { signal } = options;
  const deadline = Date.now() + options.timeoutMs;
  let interval = options.intervalMs;
  const stopIfAborted = () => {
    if (signal?.aborted) throw abortedError(`waiting for ${options.what}`);
  };
  for (;;) {
    stopIfAborted();
    if (await check()) return;
    stopIfAborted();
    if (Date.now() + interval > deadline) {
      throw new AwsError(
        "TIMEOUT",
        `timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${options.what}`,
      );
    }
    await sleep(interval, signal);
    interval = Math.min(interval * (options.backoff ?? 1.5), options.maxIntervalMs ?? 5_000);
  }
}

/** Sleeps `ms`; resolves early (not rejects) when the signal aborts, so callers can react. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

export function abortedError(what: string): SwapError {
  return new SwapError("ABORTED", `${what} was cancelled`);
}
