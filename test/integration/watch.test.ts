/**
 * Watching a swap and waiting for it from another switchyard (another terminal, a CI job):
 * the watch yields each change of status once, from launching through every step; the wait
 * resolves when the swap has ended, with the exit code of how it ended, read from its history.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRecord } from "../../src/swap/record.js";
import type { ServiceStatus } from "../../src/swap/status.js";
import { statusKey } from "../../src/swap/watch.js";
import { eventually } from "../helpers/sandbox.js";
import { SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";

const STATE = { bucket: "releases", prefix: ".switchyard" };

describe("status watch and wait, from another switchyard", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld();
    const first = await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result;
    expect(first.ok).toBe(true);
  });
  afterAll(() => world?.stop());

  /** The swap record's id, once the swap has taken its lock. */
  async function inFlight(): Promise<string> {
    const read = await eventually(() => readRecord(world.clients, STATE, SERVICE), {
      timeoutMs: 10_000,
      what: "the swap record",
    });
    return read.record.swapId;
  }

  it("with no swap in flight, the wait returns at once: none, exit 0", async () => {
    const watcher = world.another();
    const startedAt = Date.now();
    const ending = await watcher.waitForSwap(SERVICE, { timeoutMs: 5_000 });
    expect(ending).toMatchObject({ outcome: "none", exitCode: 0, swapId: null });
    expect(ending.error).toBeUndefined();
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    watcher.close();
  });

  it("the watch yields each change once, launching through every step; the wait resolves 0", async () => {
    const watcher = world.another({ pollIntervalMs: 100 });
    const stop = new AbortController();
    const seen: ServiceStatus[] = [];
    const watching = (async () => {
      for await (const s of watcher.watch(SERVICE, { signal: stop.signal })) seen.push(s);
    })();
    // the first status comes at once: no swap yet
    await eventually(() => seen.length > 0, { what: "the first status" });
    expect(seen[0]?.swap).toBeNull();
    const op = world.yard.deploy(SERVICE, { release: "r2", steps: [50, 100], bakeMs: 1_500 });
    const swapId = await inFlight();
    const ending = await watcher.waitForSwap(SERVICE, { timeoutMs: 60_000 });
    const result = await op.result;
    expect(result).toMatchObject({ ok: true, live: "web-test-v002" });
    expect(ending).toMatchObject({
      outcome: "completed",
      exitCode: 0,
      swapId,
      kind: "deploy",
      green: "web-test-v002",
      blue: "web-test-v001",
      release: "s3://releases/web/test/r2.tar.gz",
      failure: null,
    });
    expect(ending.error).toBeUndefined();

    // the last change (no swap, v002 live) reaches the watch within a poll or two
    await eventually(
      () =>
        seen.at(-1)?.swap === null &&
        seen.at(-1)?.groups.find((g) => g.name === "web-test-v002")?.weight === 100,
      { timeoutMs: 10_000, what: "the watch to see the swap end" },
    );
    stop.abort();
    await watching;

    const keys = seen.map(statusKey);
    for (let i = 1; i < keys.length; i++) expect(keys[i]).not.toBe(keys[i - 1]);
    const where = seen.map((s) => (s.swap ? `${s.swap.phase} ${s.swap.step}` : "none"));
    // the ordered milestones of the swap, each seen
    const milestones = ["launching 0", "shifting 1", "shifting 2", "none"];
    let from = 0;
    for (const m of milestones.slice(0, -1)) {
      const at = where.indexOf(m, from);
      expect(at, `${m} in ${where.join(", ")}`).toBeGreaterThan(from);
      from = at;
    }
    expect(where.at(-1)).toBe("none");
    // while shifting the weights set are there, and the bake of the step
    const step1 = seen.find((s) => s.swap?.phase === "shifting" && s.swap.bake !== null);
    expect(step1?.swap?.bake?.ms).toBe(1_500);
    expect(step1?.swap?.traffic?.length).toBeGreaterThan(0);
    watcher.close();
  });

  it("a swap aborted from a third process: the wait resolves 4, ROLLED_BACK", async () => {
    const waiter = world.another({ pollIntervalMs: 100 });
    const op = world.yard.deploy(SERVICE, {
      release: "r1",
      steps: [25, 100],
      bakeMs: 60_000,
    });
    const swapId = await inFlight();
    const waiting = waiter.waitForSwap(SERVICE, { timeoutMs: 60_000 });
    // abort once the first step is baking
    await eventually(
      async () => {
        const read = await readRecord(world.clients, STATE, SERVICE);
        return read?.record.cursor.bakeStartedAt !== undefined;
      },
      { timeoutMs: 30_000, what: "the first bake" },
    );
    const operator = world.another();
    await operator.abort(SERVICE).result;
    operator.close();
    const ending = await waiting;
    expect(ending).toMatchObject({
      outcome: "rolled-back",
      exitCode: 4,
      swapId,
      green: "web-test-v003",
      blue: "web-test-v002",
      failure: { code: "ABORTED", message: expect.stringMatching(/aborted by /) },
    });
    expect(ending.error?.code).toBe("ROLLED_BACK");
    expect(ending.error?.exitCode).toBe(4);
    expect(ending.error?.message).toMatch(/was rolled back .*; web-test-v002 is live$/);
    expect(await op.result).toMatchObject({ ok: false, outcome: "rolled-back" });
    waiter.close();
  });

  it("a wait past its timeout is TIMEOUT (exit 1), and the swap goes on", async () => {
    const waiter = world.another({ pollIntervalMs: 100 });
    const op = world.yard.deploy(SERVICE, { release: "r1", steps: [25, 100], bakeMs: 60_000 });
    const swapId = await inFlight();
    const startedAt = Date.now();
    const error = await waiter.waitForSwap(SERVICE, { timeoutMs: 700 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "TIMEOUT", exitCode: 1, details: { swapId } });
    expect((error as Error).message).toMatch(/timed out after 1s waiting for swap .* to end/);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(700);
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    // still in flight
    expect((await readRecord(world.clients, STATE, SERVICE))?.record.swapId).toBe(swapId);

    // an aborted wait says so, and leaves the swap alone too
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 200);
    await expect(waiter.waitForSwap(SERVICE, { signal: stop.signal })).rejects.toMatchObject({
      code: "ABORTED",
    });

    const operator = world.another();
    await operator.abort(SERVICE, { wait: true }).result;
    operator.close();
    expect(await op.result).toMatchObject({ ok: false });
    waiter.close();
  });
});
