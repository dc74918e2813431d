import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  backoffMs,
  DEFAULT_DELIVERY_POLICY,
  DeliveryError,
  DeliveryQueue,
  deliver,
  retryAfterMs,
} from "../../../src/notify/delivery.js";

/** A fake receiver: answers from `script` in turn (a status, "hang" or "refuse"), recording times. */
function receiver(
  script: Array<number | "hang" | "refuse" | { status: number; retryAfter: string }>,
) {
  const calls: number[] = [];
  const attempt = (signal: AbortSignal): Promise<Response> => {
    calls.push(Date.now());
    const step = script[Math.min(calls.length - 1, script.length - 1)];
    if (step === "refuse") {
      return Promise.reject(
        Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } }),
      );
    }
    if (step === "hang") {
      return new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason)),
      );
    }
    if (typeof step === "object") {
      return Promise.resolve(
        new Response("slow down", {
          status: step.status,
          headers: { "retry-after": step.retryAfter },
        }),
      );
    }
    return Promise.resolve(new Response(step === 200 ? "ok" : "nope", { status: step ?? 200 }));
  };
  return { calls, attempt };
}

describe("delivery policy", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("retries 5xx and network errors after 1 s, 2 s and 4 s, then gives up naming the last failure", async () => {
    const r = receiver([500, "refuse", 502, 503]);
    const done = deliver(r.attempt).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const error = await done;
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).message).toBe("HTTP 503 after 4 attempts");
    expect((error as DeliveryError).attempts).toBe(4);
    expect(r.calls).toEqual([0, 1_000, 3_000, 7_000]);
  });

  it("stops at the first success", async () => {
    const r = receiver([500, 200]);
    const done = deliver(r.attempt);
    await vi.runAllTimersAsync();
    await expect(done).resolves.toMatchObject({ status: 200, body: "ok" });
    expect(r.calls).toEqual([0, 1_000]);
  });

  it("does not retry a 4xx other than 408 and 429", async () => {
    const r = receiver([404]);
    const done = deliver(r.attempt).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(((await done) as DeliveryError).message).toBe("HTTP 404: nope");
    expect(r.calls).toHaveLength(1);
  });

  it("gives each attempt 5 s: a hanging receiver costs 5 s per attempt, not forever", async () => {
    const r = receiver(["hang"]);
    const done = deliver(r.attempt).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(((await done) as DeliveryError).message).toBe("no answer in time after 4 attempts");
    expect(r.calls).toEqual([0, 6_000, 13_000, 22_000]);
  });

  it("honours Retry-After on 429, capped at 30 s", async () => {
    const r = receiver([{ status: 429, retryAfter: "3" }, { status: 429, retryAfter: "120" }, 200]);
    const done = deliver(r.attempt);
    await vi.runAllTimersAsync();
    await done;
    expect(r.calls).toEqual([0, 3_000, 33_000]);
  });

  it("stops waiting when closed", async () => {
    const closing = new AbortController();
    const r = receiver([500]);
    const done = deliver(r.attempt, DEFAULT_DELIVERY_POLICY, closing.signal).catch(
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(500);
    closing.abort();
    expect(((await done) as DeliveryError).message).toBe("closed before delivery");
    expect(r.calls).toHaveLength(1);
  });

  it("computes backoff and Retry-After", () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffMs(n, DEFAULT_DELIVERY_POLICY))).toEqual([
      1_000, 2_000, 4_000, 8_000, 30_000,
    ]);
    expect(backoffMs(1, DEFAULT_DELIVERY_POLICY, 10_000)).toBe(10_000);
    expect(retryAfterMs("2")).toBe(2_000);
    expect(retryAfterMs(new Date(5_000).toUTCString(), 1_000)).toBe(4_000);
    expect(retryAfterMs("soon")).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});

describe("delivery queue", () => {
  it("sends in order, one at a time, and push never waits", async () => {
    const sent: number[] = [];
    let inFlight = 0;
    let most = 0;
    const queue = new DeliveryQueue<number>(
      async (n) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5 - n));
        inFlight--;
        if (n === 2) throw new Error("receiver down");
        sent.push(n);
      },
      () => undefined,
    );
    const started = performance.now();
    for (const n of [0, 1, 2, 3]) queue.push(n);
    expect(performance.now() - started).toBeLessThan(50);
    expect(queue.pending).toBe(4);
    await queue.whenIdle();
    expect(sent).toEqual([0, 1, 3]);
    expect(most).toBe(1);
    expect(queue.pending).toBe(0);
  });

  it("drops the oldest waiting beyond its limit", async () => {
    const dropped: number[] = [];
    let release: () => void = () => undefined;
    const queue = new DeliveryQueue<number>(
      () => new Promise<void>((resolve) => (release = resolve)),
      (n) => dropped.push(n),
      2,
    );
    for (const n of [0, 1, 2, 3]) queue.push(n);
    expect(dropped).toEqual([1]);
    release();
  });
});
