/**
 * Steering a running swap through `deploy({ control })`: a hold keeps a step past its bake while
 * gates still run, a promote ends a bake at once (without waiting for the next poll), and a
 * promote that arrives late never shortens the next step's bake.
 */
import { DescribeListenersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SwitchyardEvent } from "../../src/core/events.js";
import { createSwapControl } from "../../src/swap/control.js";
import { eventually } from "../helpers/sandbox.js";
import { SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";

async function greenWeight(world: SwapWorld, green: string): Promise<number | undefined> {
  const out = await world.clients.elbv2.send(
    new DescribeListenersCommand({ ListenerArns: [world.listenerArn] }),
  );
  const groups = out.Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups ?? [];
  return groups.find((t) => t.TargetGroupArn?.includes(`/${green}/`))?.Weight;
}

describe("a swap steered by a control", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld();
    const first = await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result;
    expect(first.ok).toBe(true);
  });
  afterAll(() => world?.stop());

  it("holds a step past its bake with gates still checked, and promotes without waiting for a poll", async () => {
    // slow polls: a promote must wake the sleeping loop rather than wait for the next poll
    const yard = world.another({ pollIntervalMs: 3_000 });
    const control = createSwapControl();
    const gateChecks: number[] = [];
    const events: SwitchyardEvent[] = [];
    const op = yard.deploy(SERVICE, {
      release: "r2",
      steps: [50, 100],
      bakeMs: 300,
      control,
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
        // hold the first step as soon as its bake begins
        if (e.type === "step.shifted" && e.step === 1) control.hold(1);
      },
    });
    const shifted = () => events.find((e) => e.type === "step.shifted" && e.step === 1);
    await eventually(shifted, { timeoutMs: 30_000, what: "the first step" });
    const heldSince = Date.now();
    // the hold outlasts the bake many times over, and the loop keeps checking gates
    await new Promise((r) => setTimeout(r, 3_500));
    expect(await greenWeight(world, "web-test-v002")).toBe(50);
    expect(events.some((e) => e.type === "step.baked")).toBe(false);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "waiting", reason: "holding at 50% (gates still checked)" }),
    );
    expect(gateChecks.filter((s) => s === 1).length).toBeGreaterThanOrEqual(2);
    expect(Date.now() - heldSince).toBeGreaterThan(3_000);

    const promotedAt = Date.now();
    control.promote(1);
    await eventually(() => events.find((e) => e.type === "step.baked" && e.step === 1), {
      timeoutMs: 10_000,
      what: "the promoted step",
    });
    // well under the 3 s poll interval: the promote woke the loop
    expect(Date.now() - promotedAt).toBeLessThan(2_000);
    const result = await op.result;
    expect(result).toMatchObject({ ok: true, live: "web-test-v002" });
    // the late promote of step 1 did not skip step 2's bake
    const s2 = events.find((e) => e.type === "step.shifted" && e.step === 2)!;
    const done = events.find((e) => e.type === "step.baked" && e.step === 2)!;
    expect(done.at - s2.at).toBeGreaterThanOrEqual(300);
    yard.close();
  });
});
