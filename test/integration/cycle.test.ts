/**
 * cycle replaces the live group's instances a batch at a time under steady traffic: every one of
 * a 4-instance group, in batches of 1 and then 2, with zero failed requests (each instance is
 * drained before it goes), the group's desired, min and max unchanged, and the service locked
 * while it runs.
 */
import { DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitCodeOf } from "../../src/core/errors.js";
import { startLoad } from "../helpers/load.js";
import { eventually } from "../helpers/sandbox.js";
import { SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";

async function group(world: SwapWorld, name: string) {
  const out = await world.clients.autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  const g = out.AutoScalingGroups?.[0];
  return {
    capacity: { min: g?.MinSize, max: g?.MaxSize, desired: g?.DesiredCapacity },
    instances: (g?.Instances ?? []).map((i) => i.InstanceId ?? "").sort(),
  };
}

describe("cycle: the live group's instances replaced in batches", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld({ desired: 4, pollIntervalMs: 50 });
    const first = await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result;
    expect(first.ok).toBe(true);
    // the listener applies the first deploy's change a propagation delay later
    await new Promise((r) => setTimeout(r, 200));
  });
  afterAll(() => world?.stop());

  for (const batch of [1, 2]) {
    it(`replaces all 4 instances ${batch} at a time under load with 0 failed requests`, async () => {
      const before = await group(world, "web-test-v001");
      expect(before.instances).toHaveLength(4);
      const load = startLoad(world.listenerUrl(), { workers: 4, maxMs: 120_000 });
      const actions: string[] = [];
      const result = await world.yard.cycle(SERVICE, {
        batch,
        onEvent: (e) => {
          if (e.type === "action") actions.push(e.description);
        },
      }).result;
      await new Promise((r) => setTimeout(r, 300));
      const report = await load.stop();
      expect(result).toMatchObject({ group: "web-test-v001", dryRun: false, batch });
      expect([...result.replaced].sort()).toEqual(before.instances);
      expect(actions).toHaveLength(4 / batch);
      const after = await group(world, "web-test-v001");
      expect(after.capacity).toEqual(before.capacity);
      expect(after.instances).toHaveLength(4);
      expect(after.instances.filter((id) => before.instances.includes(id))).toEqual([]);
      expect(report.requests).toBeGreaterThan(100);
      expect(report.failureSamples).toEqual([]);
      expect(report.failures).toBe(0);
      expect((await world.yard.status(SERVICE)).swap).toBeNull();
    }, 120_000);
  }

  it("--dry-run changes nothing; a batch as large as the group, or a foreign instance, is refused (exit 2)", async () => {
    const before = await group(world, "web-test-v001");
    const dry = await world.yard.cycle(SERVICE, { batch: 2, dryRun: true }).result;
    expect(dry).toMatchObject({ dryRun: true, batch: 2 });
    expect([...dry.replaced].sort()).toEqual(before.instances);
    expect(await group(world, "web-test-v001")).toEqual(before);
    for (const options of [{ batch: 4 }, { instances: ["i-0notinthisgroup00"] }, { batch: 0 }]) {
      const error = await world.yard.cycle(SERVICE, options).result.catch((e: unknown) => e);
      expect(exitCodeOf(error), JSON.stringify(options)).toBe(2);
    }
  });

  it("holds the service's lock: a deploy during a cycle exits 3", async () => {
    const op = world.another().cycle(SERVICE, { batch: 1 });
    await eventually(async () => (await world.yard.status(SERVICE)).swap?.kind === "cycle", {
      what: "the cycle's lock",
    });
    const deploy = await world.yard
      .deploy(SERVICE, { release: "r2" })
      .result.catch((e: unknown) => e);
    expect(exitCodeOf(deploy)).toBe(3);
    const done = await op.result;
    expect(done.replaced).toHaveLength(4);
  }, 120_000);
});
