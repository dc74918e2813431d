/**
 * The one way switchyard waits: poll a predicate with backoff until it holds, a deadline passes
 * or the signal aborts.
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

export async function waitFor(check: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let interval = options.intervalMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() + interval > deadline) {
      throw new AwsError(
        "TIMEOUT",
        `timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${options.what}`,
      );
    }
    await sleep(interval, options.signal);
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
