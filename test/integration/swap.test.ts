import { DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeListenersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLoad } from "../helpers/load.js";
import { SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";

async function forwardWeights(world: SwapWorld) {
  const out = await world.clients.elbv2.send(
    new DescribeListenersCommand({ ListenerArns: [world.listenerArn] }),
  );
  const action = out.Listeners?.[0]?.DefaultActions?.[0];
  return {
    type: action?.Type,
    // order-free: sorted by weight, highest first
    weights: (action?.ForwardConfig?.TargetGroups ?? [])
      .map((t) => ({
        tg: /targetgroup\/([^/]+)/.exec(t.TargetGroupArn ?? "")?.[1],
        weight: t.Weight,
      }))
      .sort((a, b) => (b.weight ?? 0) - (a.weight ?? 0)),
    sticky: action?.ForwardConfig?.TargetGroupStickinessConfig?.Enabled ?? false,
  };
}

async function group(world: SwapWorld, name: string) {
  const out = await world.clients.autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return out.AutoScalingGroups?.[0];
}

describe("a first deploy, then a swap under load", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld();
  });
  afterAll(() => world?.stop());

  it("first deploy launches v001 and points the listener at it in one step", async () => {
    const result = await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 100 }).result;
    expect(result).toMatchObject({
      ok: true,
      outcome: "completed",
      live: "web-test-v001",
      standby: null,
    });
    expect(await forwardWeights(world)).toEqual({
      type: "forward",
      weights: [{ tg: "web-test-v001", weight: 100 }],
      sticky: false,
    });
    const res = await fetch(world.listenerUrl());
    expect(await res.json()).toMatchObject({ version: "r1" });
    const v1 = await group(world, "web-test-v001");
    expect(v1?.Tags?.find((t) => t.Key === "switchyard:role")?.Value).toBe("live");
  });

  it("swaps r1 → r2 step by step under steady load with zero failed requests", async () => {
    const load = startLoad(world.listenerUrl(), { workers: 4, maxMs: 60_000 });
    const result = await world.yard.deploy(SERVICE, { release: "r2", bakeMs: 400 }).result;
    const report = await load.stop();
    expect(result).toMatchObject({ ok: true, live: "web-test-v002", standby: "web-test-v001" });
    expect(report.failures, report.failureSamples.join("\n")).toBe(0);
    expect(report.byVersion.r1).toBeGreaterThan(0);
    expect(report.byVersion.r2).toBeGreaterThan(0);
    // green live at 100, blue standby at 0 and still in the action (health-checked)
    expect(await forwardWeights(world)).toEqual({
      type: "forward",
      weights: [
        { tg: "web-test-v002", weight: 100 },
        { tg: "web-test-v001", weight: 0 },
      ],
      sticky: false,
    });
    const blue = await group(world, "web-test-v001");
    expect(blue?.DesiredCapacity).toBe(2);
    expect(blue?.MinSize).toBe(1);
    expect(blue?.SuspendedProcesses?.map((p) => p.ProcessName).sort()).toEqual([
      "AlarmNotification",
      "ScheduledActions",
    ]);
    expect(blue?.Tags?.find((t) => t.Key === "switchyard:role")?.Value).toBe("standby");
    const green = await group(world, "web-test-v002");
    expect(green?.Tags?.find((t) => t.Key === "switchyard:role")?.Value).toBe("live");
    const shifted = world.events
      .filter((e) => e.type === "step.shifted")
      .map((e) => (e as { weight: number }).weight);
    expect(shifted.slice(-4)).toEqual([5, 25, 50, 100]);
  });
});
