import {
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
} from "@aws-sdk/client-auto-scaling";
import { DescribeLaunchTemplatesCommand } from "@aws-sdk/client-ec2";
import { DescribeTargetGroupsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { exitCodeOf, isSwitchyardError } from "../../src/core/errors.js";
import { createSwitchyard } from "../../src/switchyard.js";
import { listenerWeights, SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";

const MUTATING =
  /:(Create|Delete|Modify|Register|Deregister|Add|Remove|Set|Put|Update|Suspend|Resume|Attach|Detach)/;

function mutatingCalls(calls: Map<string, number>, since: Map<string, number> = new Map()) {
  const out: Record<string, number> = {};
  for (const [op, n] of calls) {
    const d = n - (since.get(op) ?? 0);
    if (d > 0 && MUTATING.test(op) && !op.startsWith("s3:")) out[op] = d;
  }
  return out;
}

async function asg(world: SwapWorld, name: string) {
  const out = await world.clients.autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return out.AutoScalingGroups?.[0];
}

describe("failures during a swap roll back to blue", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld({
      releases: [
        { version: "r1" },
        { version: "r2" },
        { version: "bad", variant: "never-healthy" },
      ],
      config: { healthyTimeout: 3 },
    });
    const first = await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result;
    expect(first.ok).toBe(true);
  });
  afterAll(() => world?.stop());

  it("green never healthy → rolled back after healthyTimeout, blue untouched, exit 4", async () => {
    const before = await asg(world, "web-test-v001");
    const result = await world.yard.deploy(SERVICE, { release: "bad", bakeMs: 50 }).result;
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe("GREEN_UNHEALTHY");
    expect(exitCodeOf(result.error)).toBe(4);
    expect(result.live).toBe("web-test-v001");
    expect(await listenerWeights(world)).toEqual({ "web-test-v001": 100 });
    const after = await asg(world, "web-test-v001");
    expect({ min: after?.MinSize, max: after?.MaxSize, desired: after?.DesiredCapacity }).toEqual({
      min: before?.MinSize,
      max: before?.MaxSize,
      desired: before?.DesiredCapacity,
    });
    expect(after?.SuspendedProcesses).toEqual(before?.SuspendedProcesses);
    // green is gone: group, target group and launch template
    expect(await asg(world, "web-test-v002")).toBeUndefined();
    await expect(
      world.clients.elbv2.send(new DescribeTargetGroupsCommand({ Names: ["web-test-v002"] })),
    ).rejects.toMatchObject({ name: "TargetGroupNotFoundException" });
    await expect(
      world.clients.ec2.send(
        new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ["switchyard-web-test-v002"] }),
      ),
    ).rejects.toMatchObject({ name: expect.stringMatching(/^InvalidLaunchTemplateName/) });
    const res = await fetch(world.listenerUrl());
    expect(await res.json()).toMatchObject({ version: "r1" });
  });

  it("a gate failing at the 25% step → rolled back at its first failing poll, exit 4", async () => {
    const seen: number[] = [];
    const result = await world.yard.deploy(SERVICE, {
      release: "r2",
      bakeMs: 300,
      keepFailed: true,
      gates: [
        {
          name: "error-rate",
          check: async ({ weight }) => {
            seen.push(weight);
            return weight === 25 ? { ok: false, message: "5xx rate 7% > 1%" } : true;
          },
        },
      ],
    }).result;
    expect(result.error?.code).toBe("GATE_FAILED");
    expect(result.error?.message).toContain("5xx rate 7% > 1%");
    expect(exitCodeOf(result.error)).toBe(4);
    expect(seen.filter((w) => w === 25)).toHaveLength(1);
    expect(seen).not.toContain(50);
    const w = await listenerWeights(world);
    expect(w["web-test-v001"]).toBe(100);
    expect(Object.keys(w)).not.toContain("web-test-v003");
    // blue's pin released
    expect((await asg(world, "web-test-v001"))?.MinSize).toBe(1);
    // --keep-failed: green kept, tagged failed
    const green = await asg(world, "web-test-v003");
    expect(green?.Tags?.find((t) => t.Key === "switchyard:role")?.Value).toBe("failed");
  });
});

describe("rollback", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld();
    expect((await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result).ok).toBe(true);
    expect((await world.yard.deploy(SERVICE, { release: "r2", bakeMs: 50 }).result).ok).toBe(true);
  });
  afterAll(() => world?.stop());

  it("after a swap makes exactly one mutating ELBv2 call when the standby is ready", async () => {
    const before = new Map(world.clients.calls);
    const result = await world.yard.rollback(SERVICE).result;
    expect(result).toMatchObject({
      ok: true,
      live: "web-test-v001",
      standby: "web-test-v002",
      scaledUp: false,
    });
    const elb = Object.entries(mutatingCalls(world.clients.calls, before)).filter(([op]) =>
      op.startsWith("elbv2:"),
    );
    expect(Object.fromEntries(elb)).toEqual({ "elbv2:ModifyListener": 1 });
    expect(await listenerWeights(world)).toEqual({ "web-test-v001": 100, "web-test-v002": 0 });
    const standby = await asg(world, "web-test-v002");
    expect(standby?.SuspendedProcesses?.map((p) => p.ProcessName).sort()).toEqual([
      "AlarmNotification",
      "ScheduledActions",
    ]);
    expect((await asg(world, "web-test-v001"))?.SuspendedProcesses).toEqual([]);
    // traffic reaches r1 once the change has propagated
    const deadline = Date.now() + 5_000;
    let version = "";
    while (Date.now() < deadline && version !== "r1") {
      version = ((await (await fetch(world.listenerUrl())).json()) as { version: string }).version;
    }
    expect(version).toBe("r1");
  });
});

describe("locking", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld();
  });
  afterAll(() => world?.stop());

  it("two deploys of one service at once: one proceeds, the other exits 3 naming the holder", async () => {
    const a = world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result;
    const b = world.another().deploy(SERVICE, { release: "r1", bakeMs: 50 }).result;
    const settled = await Promise.allSettled([a, b]);
    const ok = settled.filter((s) => s.status === "fulfilled" && s.value.ok);
    const locked = settled
      .filter((s) => s.status === "rejected")
      .map((s) => (s as PromiseRejectedResult).reason);
    expect(ok).toHaveLength(1);
    expect(locked).toHaveLength(1);
    expect(isSwitchyardError(locked[0], "LOCK_HELD")).toBe(true);
    expect(exitCodeOf(locked[0])).toBe(3);
    expect(String(locked[0].message)).toMatch(
      /locked by .*swap [0-9a-f]{8} by \S+@\S+ \(pid \d+\)/,
    );
  });
});

describe("invalid input is refused before any change", () => {
  let world: SwapWorld;
  let baseline: Map<string, number>;
  beforeAll(async () => {
    world = await swapWorld();
    baseline = new Map(world.clients.calls);
  });
  afterAll(() => world?.stop());
  afterEach(() => {
    expect(mutatingCalls(world.clients.calls, baseline)).toEqual({});
  });

  const refuse = async (p: () => Promise<unknown>, code: string, message: RegExp) => {
    const error = await p().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSwitchyardError(error), String(error)).toBe(true);
    expect(exitCodeOf(error)).toBe(2);
    expect((error as { code: string }).code).toBe(code);
    expect((error as Error).message).toMatch(message);
  };

  it.each([
    ["a malformed release URL", { release: "s3:/nope" }, "INVALID_INPUT", /release/],
    [
      "a release that does not exist",
      { release: "r9" },
      "RELEASE_NOT_FOUND",
      /s3:\/\/releases\/web\/test\/r9\.tar\.gz does not exist/,
    ],
    [
      "steps not ending at 100",
      { release: "r1", steps: [5, 50] },
      "INVALID_INPUT",
      /end at 100; got 5,50/,
    ],
    [
      "steps not increasing",
      { release: "r1", steps: [50, 20, 100] },
      "INVALID_INPUT",
      /increase.*got 50,20,100/,
    ],
    ["a step out of range", { release: "r1", steps: [0, 100] }, "INVALID_INPUT", /1 to 100/],
  ])("%s", async (_name, options, code, message) => {
    await refuse(() => world.yard.deploy(SERVICE, options).result, code, message);
  });

  it("an unknown service", async () => {
    await refuse(
      () => world.yard.deploy("web/nope", { release: "r1" }).result,
      "UNKNOWN_SERVICE",
      /web\/nope/,
    );
  });

  it.each([
    ["a bad duration", { bake: "5 minutes" }, /bake/],
    ["weights (steps) out of range", { steps: [5, 150] }, /steps/],
    ["a service name too long", undefined, /services/],
  ])("a config with %s", async (_name, change, message) => {
    const base = world.config.services[SERVICE]!;
    const services = change
      ? { [SERVICE]: { ...base, ...change } }
      : { [`${"a".repeat(40)}/${"b".repeat(40)}`]: base };
    await refuse(
      async () =>
        createSwitchyard({
          config: { ...world.config, services } as never,
          clients: world.clients,
        }),
      "CONFIG_INVALID",
      message,
    );
  });
});

describe("under throttling", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld();
  });
  afterAll(() => world?.stop());

  it("a swap still completes with 20% of calls throttled", async () => {
    expect((await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result).ok).toBe(true);
    world.sandbox.faults.set([{ throttleRate: 0.2 }]);
    const result = await world.yard.deploy(SERVICE, { release: "r2", bakeMs: 50 }).result;
    expect(result).toMatchObject({ ok: true, live: "web-test-v002" });
    const injected = [...world.sandbox.faults.injected.values()].reduce((a, b) => a + b, 0);
    expect(injected).toBeGreaterThan(10);
    world.sandbox.faults.clear();
    const activities = await world.clients.autoscaling.send(
      new DescribeScalingActivitiesCommand({ AutoScalingGroupName: "web-test-v002" }),
    );
    expect(activities.Activities?.every((a) => a.StatusCode === "Successful")).toBe(true);
  });
});
