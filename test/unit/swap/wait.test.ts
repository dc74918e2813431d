import { describe, expect, it } from "vitest";
import { isSwitchyardError } from "../../../src/core/errors.js";
import { waitFor } from "../../../src/swap/wait.js";

const WHAT = "the listener to show the new weights";

/** A check that never holds, counting its calls; `onCall` runs at each call. */
function never(onCall: (calls: number) => void = () => undefined) {
  const counter = {
    calls: 0,
    check: async () => {
      counter.calls++;
      onCall(counter.calls);
      return false;
    },
  };
  return counter;
}

describe("waitFor", () => {
  it("returns once the check holds", async () => {
    let calls = 0;
    await waitFor(async () => ++calls === 3, { timeoutMs: 5_000, intervalMs: 1, what: WHAT });
    expect(calls).toBe(3);
  });

  it("throws TIMEOUT naming what it waited for when the check never holds", async () => {
    const error = await waitFor(never().check, { timeoutMs: 20, intervalMs: 5, what: WHAT }).catch(
      (e: unknown) => e,
    );
    expect(isSwitchyardError(error, "TIMEOUT")).toBe(true);
    expect((error as Error).message).toContain(`waiting for ${WHAT}`);
  });

  it("stops at once when the signal aborts during a sleep, and never checks again", async () => {
    const abort = new AbortController();
    const counter = never();
    const waiting = waitFor(counter.check, {
      timeoutMs: 5_000,
      intervalMs: 4_000,
      what: WHAT,
      signal: abort.signal,
    });
    await new Promise((r) => setTimeout(r, 20));
    const before = counter.calls;
    const started = Date.now();
    abort.abort();
    const error = await waiting.catch((e: unknown) => e);
    expect(isSwitchyardError(error, "ABORTED")).toBe(true);
    expect((error as Error).message).toBe(`waiting for ${WHAT} was cancelled`);
    expect(counter.calls - before).toBeLessThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("stops when the signal aborts during a check, without calling it again", async () => {
    const abort = new AbortController();
    const counter = never((calls) => {
      if (calls === 2) abort.abort();
    });
    const error = await waitFor(counter.check, {
      timeoutMs: 5_000,
      intervalMs: 1,
      what: WHAT,
      signal: abort.signal,
    }).catch((e: unknown) => e);
    expect(isSwitchyardError(error, "ABORTED")).toBe(true);
    expect(counter.calls).toBe(2);
  });

  it("never calls the check when the signal is already aborted", async () => {
    const counter = never();
    const error = await waitFor(counter.check, {
      timeoutMs: 5_000,
      intervalMs: 1,
      what: WHAT,
      signal: AbortSignal.abort(),
    }).catch((e: unknown) => e);
    expect(isSwitchyardError(error, "ABORTED")).toBe(true);
    expect(counter.calls).toBe(0);
  });
});
