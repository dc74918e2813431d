import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SwitchyardEvent } from "../../src/core/events.js";
import { readRecord } from "../../src/swap/record.js";
import { eventually } from "../helpers/sandbox.js";
import { listenerWeights, SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";

describe("a swap steered from another process through its record", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld();
    const first = await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result;
    expect(first.ok).toBe(true);
  });
  afterAll(() => world?.stop());

  it("pause holds a step past its bake with gates still checked; promote ends it within a poll", async () => {
    const POLL = 2_000;
    const driver = world.another({ pollIntervalMs: POLL });
    const operator = world.another();
    const gateChecks: number[] = [];
    const events: SwitchyardEvent[] = [];
    let paused: Promise<unknown> | undefined;
    const op = driver.deploy(SERVICE, {
      release: "r2",
      steps: [50, 100],
      // long enough for the pause to land on a loaded machine; the hold outlasts it anyway
      bakeMs: 1_500,
      gates: [
        {
          name: "count",
          check: async (ctx) => {
            gateChecks.push(ctx.step);
            return true;
          },
        },
      ],
      onEvent: (e) => {
        events.push(e);
        // pause the first step from the other switchyard as soon as it shifts
        if (e.type === "step.shifted" && e.step === 1) paused = operator.pause(SERVICE).result;
      },
    });
    await eventually(() => paused, { timeoutMs: 30_000, what: "the first step" });
    const outcome = await paused;
    expect(outcome).toMatchObject({ request: "pause", appliedBy: "driver" });
    const heldSince = Date.now();
    await new Promise((r) => setTimeout(r, 2 * POLL + 500));
    // the pause outlasts the bake many times over, and the driver keeps checking gates
    expect((await listenerWeights(world))["web-test-v002"]).toBe(50);
    expect(events.some((e) => e.type === "step.baked")).toBe(false);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: "waiting",
        reason: "paused at 50% (gates still checked; promote to go on)",
      }),
    );
    expect(gateChecks.filter((s) => s === 1).length).toBeGreaterThanOrEqual(2);
    expect(Date.now() - heldSince).toBeGreaterThan(2 * POLL);
    const held = await readRecord(
      world.clients,
      { bucket: "releases", prefix: ".switchyard" },
      SERVICE,
    );
    expect(held?.record.control?.pause).toBeDefined();

    const promotedAt = Date.now();
    await operator.promote(SERVICE).result;
    await eventually(() => events.find((e) => e.type === "step.baked" && e.step === 1), {
      timeoutMs: 10_000,
      what: "the promoted step",
    });
    // within one poll of the driving process (plus the S3 round trips)
    expect(Date.now() - promotedAt).toBeLessThan(POLL + 1_500);
    const result = await op.result;
    expect(result).toMatchObject({ ok: true, live: "web-test-v002" });
    // the promote of step 1 was consumed and did not skip step 2's bake
    const s2 = events.find((e) => e.type === "step.shifted" && e.step === 2)!;
    const done = events.find((e) => e.type === "step.baked" && e.step === 2)!;
    expect(done.at - s2.at).toBeGreaterThanOrEqual(1_500);
    driver.close();
    operator.close();
  });

  it("abort from another process rolls the swap back to blue; the driver exits rolled back", async () => {
    const driver = world.another({ pollIntervalMs: 200 });
    const operator = world.another();
    let aborted: Promise<unknown> | undefined;
    const op = driver.deploy(SERVICE, {
      release: "r1",
      steps: [25, 100],
      bakeMs: 60_000,
      onEvent: (e) => {
        if (e.type === "step.shifted" && e.step === 1) aborted = operator.abort(SERVICE).result;
      },
    });
    const result = await op.result;
    expect(await aborted).toMatchObject({ request: "abort", appliedBy: "driver" });
    expect(result).toMatchObject({ ok: false, outcome: "rolled-back", live: "web-test-v002" });
    expect(result.error?.message).toMatch(/aborted by .*@/);
    expect((await listenerWeights(world))["web-test-v002"]).toBe(100);
    driver.close();
    operator.close();
  });

  it("promote, pause and abort with no swap in flight say so (exit 2)", async () => {
    const operator = world.another();
    for (const call of [
      operator.promote(SERVICE),
      operator.pause(SERVICE),
      operator.abort(SERVICE),
    ]) {
      await expect(call.result).rejects.toMatchObject({ code: "NO_SWAP" });
    }
    operator.close();
  });
});
