/**
 * Delivering notifications: one HTTP request with a timeout, retried with exponential backoff on
 * network errors, timeouts, 5xx and 429 (honouring Retry-After); and a queue per notifier that
 * keeps its notifications in order, off the swap's path. Nothing here ever throws into a swap:
 * a notification that cannot be delivered ends as a warning.
 */

export interface DeliveryPolicy {
  /** attempts per request, the first included (default 4: the first and 3 retries) */
  attempts: number;
  /** the wait before the first retry, doubled before each next one (default 1 s: 1, 2, 4 s) */
  baseDelayMs: number;
  /** the longest wait between attempts, Retry-After included (default 30 s) */
  maxDelayMs: number;
  /** how long one attempt may take, response body included (default 5 s) */
  timeoutMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  attempts: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  timeoutMs: 5_000,
};

/** A request that could not be delivered; the message names no URL, header or body. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly attempts = 1,
  ) {
    super(message);
    this.name = "DeliveryError";
  }
}

/** One HTTP answer, its body read. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: string;
}

/** Waits `ms`, or less when `signal` aborts (then rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Whether an answer is worth another attempt: 408, 429 and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), or undefined. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The wait before attempt `attempt + 1` (attempt counts from 1): base × 2^(attempt-1), capped. */
export function backoffMs(attempt: number, policy: DeliveryPolicy, retryAfter?: number): number {
  const exponential = policy.baseDelayMs * 2 ** (attempt - 1);
  return Math.min(policy.maxDelayMs, Math.max(exponential, retryAfter ?? 0));
}

/** Why an attempt failed, in words that carry no URL or secret. */
function failureOf(error: unknown, timedOut: boolean): string {
  if (timedOut) return "no answer in time";
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === "string" ? cause.code : undefined;
  return code ?? (error instanceof Error ? error.name : "network error");
}

/**
 * Sends a request with the policy's retries. `attempt` builds and sends one try (so a signed
 * request is signed afresh each time) under the signal it is given. Resolves with the first 2xx
 * (or other non-retryable) answer's status and body; throws DeliveryError when every attempt
 * failed or the answer was a 4xx. `signal` (closing the notifier) cuts every wait short.
 */
export async function deliver(
  attempt: (signal: AbortSignal) => Promise<Response>,
  policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY,
  signal?: AbortSignal,
): Promise<HttpAnswer> {
  let last = "";
  let lastStatus: number | undefined;
  for (let n = 1; n <= policy.attempts; n++) {
    if (signal?.aborted) throw new DeliveryError("closed before delivery", lastStatus, n - 1);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error("timeout"));
    }, policy.timeoutMs);
    const onClose = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onClose, { once: true });
    let retryAfter: number | undefined;
    try {
      const response = await attempt(controller.signal);
      const body = await response.text();
      if (response.ok) return { status: response.status, headers: response.headers, body };
      lastStatus = response.status;
      last = `HTTP ${response.status}`;
      if (!isRetryableStatus(response.status)) {
        throw new DeliveryError(`${last}${snippet(body)}`, response.status, n);
      }
      retryAfter = retryAfterMs(response.headers.get("retry-after"));
    } catch (error) {
      if (error instanceof DeliveryError) throw error;
      if (signal?.aborted) throw new DeliveryError("closed before delivery", lastStatus, n);
      last = failureOf(error, timedOut);
      lastStatus = undefined;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onClose);
    }
    if (n < policy.attempts) {
      try {
        await sleep(backoffMs(n, policy, retryAfter), signal);
      } catch {
        throw new DeliveryError("closed before delivery", lastStatus, n);
      }
    }
  }
  throw new DeliveryError(
    `${last} after ${policy.attempts} attempt${policy.attempts === 1 ? "" : "s"}`,
    lastStatus,
    policy.attempts,
  );
}

/** A short, single-line piece of an error body (receivers' error texts, never our request). */
function snippet(body: string): string {
  const line = body.replace(/\s+/g, " ").trim().slice(0, 120);
  return line === "" ? "" : `: ${line}`;
}

/**
 * The notifications of one notifier, sent one at a time in the order they came: a slow receiver
 * delays only its own later messages. `push` returns at once. At most `limit` wait; beyond that
 * the oldest waiting one is dropped (and reported).
 */
export class DeliveryQueue<T> {
  private readonly waiting: T[] = [];
  private running: Promise<void> | undefined;
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly send: (item: T) => Promise<void>,
    private readonly onDrop: (item: T) => void,
    private readonly limit = 100,
  ) {}

  /** How many are waiting or being sent. */
  get pending(): number {
    return this.waiting.length + (this.running ? 1 : 0);
  }

  push(item: T): void {
    this.waiting.push(item);
    if (this.waiting.length > this.limit) {
      const dropped = this.waiting.shift();
      if (dropped !== undefined) this.onDrop(dropped);
    }
    if (!this.running) this.running = this.drain();
  }

  /** Resolves once nothing is waiting or being sent. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  /** Drops everything still waiting (the one being sent finishes or is aborted by its notifier). */
  clear(): T[] {
    return this.waiting.splice(0);
  }

  private async drain(): Promise<void> {
    for (;;) {
      const item = this.waiting.shift();
      if (item === undefined) break;
      try {
        await this.send(item);
      } catch {
        // `send` reports its own failures; a queue never stops on one
      }
    }
    this.running = undefined;
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }
}
