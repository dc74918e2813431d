/**
 * Retire on a real fleet built by real swaps: live + 4 standbys + 1 failed group. Given the
 * fleet, when retire runs with a policy, then exactly the groups the policy names are gone
 * (ASG, target group, launch template), the listener still serves, and a second run changes
 * nothing.
 */
import {
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from "@aws-sdk/client-auto-scaling";
import { DescribeLaunchTemplatesCommand } from "@aws-sdk/client-ec2";
import {
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeTargetGroupsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteObject } from "../../src/aws/s3.js";
import type { SwitchyardEvent } from "../../src/core/events.js";
import { DEFAULT_VPC_ID } from "../../src/sandbox/index.js";
import { currentOwner, recordKey, SwapLock } from "../../src/swap/record.js";
import { eventually } from "../helpers/sandbox.js";
import { SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";

const MUTATING =
  /:(Create|Delete|Modify|Register|Deregister|Add|Remove|Set|Put|Update|Suspend|Resume|Attach|Detach|Complete|Upload|Copy)/;

/** Mutating calls (S3 included) made since `since`. */
function mutatingCalls(calls: Map<string, number>, since: Map<string, number>) {
  const out: Record<string, number> = {};
  for (const [op, n] of calls) {
    const d = n - (since.get(op) ?? 0);
    if (d > 0 && MUTATING.test(op)) out[op] = d;
  }
  return out;
}

async function forward(world: SwapWorld) {
  const out = await world.clients.elbv2.send(
    new DescribeListenersCommand({ ListenerArns: [world.listenerArn] }),
  );
  const action = out.Listeners?.[0]?.DefaultActions?.[0];
  return {
    type: action?.Type,
    weights: Object.fromEntries(
      (action?.ForwardConfig?.TargetGroups ?? []).map((t) => [
        /targetgroup\/([^/]+)/.exec(t.TargetGroupArn ?? "")?.[1],
        t.Weight,
      ]),
    ),
  };
}

async function asgNames(world: SwapWorld): Promise<string[]> {
  const out = await world.clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({}));
  return (out.AutoScalingGroups ?? []).map((g) => g.AutoScalingGroupName ?? "").sort();
}

async function targetGroupExists(world: SwapWorld, name: string): Promise<boolean> {
  try {
    await world.clients.elbv2.send(new DescribeTargetGroupsCommand({ Names: [name] }));
    return true;
  } catch (error) {
    if ((error as Error).name === "TargetGroupNotFoundException") return false;
    throw error;
  }
}

async function launchTemplateExists(world: SwapWorld, name: string): Promise<boolean> {
  try {
    await world.clients.ec2.send(
      new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [name] }),
    );
    return true;
  } catch (error) {
    if (/^InvalidLaunchTemplateName/.test((error as Error).name)) return false;
    throw error;
  }
}

/** What the listener answers on `/`, once it answers 200 (health checks are real and run on
 * a shrunk clock, so a loaded machine can briefly see a 503). */
function answer(world: SwapWorld): Promise<{ version?: string }> {
  return eventually(
    async () => {
      const res = await fetch(world.listenerUrl());
      return res.status === 200 ? ((await res.json()) as { version?: string }) : undefined;
    },
    { timeoutMs: 10_000, what: "the listener to answer 200" },
  );
}

const v = (n: number) => `web-test-v${String(n).padStart(3, "0")}`;

describe("retire on live + 4 standbys + 1 failed", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld({ desired: 1 });
    // v001 … v005: a first deploy and four swaps; v006: a swap failed by its gate, kept
    for (const release of ["r1", "r2", "r1", "r2", "r1"]) {
      // one step and a short bake: the fleet is what matters here, not the shift
      const r = await world.yard.deploy(SERVICE, { release, bakeMs: 20, steps: [100] }).result;
      expect(r.ok, r.error?.message).toBe(true);
    }
    const failed = await world.yard.deploy(SERVICE, {
      release: "r2",
      bakeMs: 20,
      steps: [100],
      keepFailed: true,
      gates: [{ name: "smoke", check: async () => ({ ok: false, message: "smoke test failed" }) }],
    }).result;
    expect(failed.error?.code).toBe("GATE_FAILED");
    expect(await asgNames(world)).toEqual([v(1), v(2), v(3), v(4), v(5), v(6)]);
    expect((await forward(world)).weights).toEqual({ [v(5)]: 100, [v(4)]: 0 });
  }, 120_000);
  afterAll(() => world?.stop());

  it("with the configured policy (keep 1, minAge 24h) a young fleet is kept whole", async () => {
    const before = new Map(world.clients.calls);
    const report = await world.yard.retire();
    expect(report).toEqual({
      dryRun: false,
      deleted: [],
      kept: [v(6), v(5), v(4), v(3), v(2), v(1)],
      skipped: [],
      orphans: [],
      failed: false,
    });
    expect(mutatingCalls(world.clients.calls, before)).toEqual({});
  });

  it("dry run with keep 1, minAge 0 names live + newest standby kept, the rest deleted; changes nothing", async () => {
    const before = new Map(world.clients.calls);
    const events: SwitchyardEvent[] = [];
    const report = await world.yard.retire({
      keep: 1,
      minAge: 0,
      dryRun: true,
      onEvent: (e) => events.push(e),
    });
    expect(report).toEqual({
      dryRun: true,
      deleted: [v(6), v(3), v(2), v(1)],
      kept: [v(5), v(4)],
      skipped: [],
      orphans: [],
      failed: false,
    });
    expect(mutatingCalls(world.clients.calls, before)).toEqual({});
    expect(events.map((e) => e.type === "retire.deleted" && [e.group, e.dryRun])).toEqual([
      [v(6), true],
      [v(3), true],
      [v(2), true],
      [v(1), true],
    ]);
    expect(await asgNames(world)).toHaveLength(6);
  });

  it("keep 1, minAge 0 deletes exactly the failed group and the older standbys, whole", async () => {
    const events: SwitchyardEvent[] = [];
    const report = await world.yard.retire({
      services: [SERVICE],
      keep: 1,
      minAge: "0s",
      onEvent: (e) => events.push(e),
    });
    expect(report).toEqual({
      dryRun: false,
      deleted: [v(6), v(3), v(2), v(1)],
      kept: [v(5), v(4)],
      skipped: [],
      orphans: [],
      failed: false,
    });
    expect(
      events
        .filter((e) => e.type === "retire.deleted")
        .map((e) => e.type === "retire.deleted" && e.group)
        .sort(),
    ).toEqual([v(1), v(2), v(3), v(6)]);
    // ASGs, target groups and launch templates gone; the kept ones whole
    expect(await asgNames(world)).toEqual([v(4), v(5)]);
    for (const n of [1, 2, 3, 6]) {
      expect(await targetGroupExists(world, v(n)), v(n)).toBe(false);
      expect(await launchTemplateExists(world, `switchyard-${v(n)}`), v(n)).toBe(false);
    }
    for (const n of [4, 5]) {
      expect(await targetGroupExists(world, v(n))).toBe(true);
      expect(await launchTemplateExists(world, `switchyard-${v(n)}`)).toBe(true);
    }
    // the listener still forwards to live + standby only, weights summing to 100, and serves
    const after = await forward(world);
    expect(after).toEqual({ type: "forward", weights: { [v(5)]: 100, [v(4)]: 0 } });
    expect(Object.values(after.weights).reduce((a: number, b) => a + Number(b), 0)).toBe(100);
    expect(await answer(world)).toMatchObject({ version: "r1" });
  });

  it("running it again changes nothing: no mutating call, nothing deleted", async () => {
    const before = new Map(world.clients.calls);
    const report = await world.yard.retire({ keep: 1, minAge: 0 });
    expect(report).toEqual({
      dryRun: false,
      deleted: [],
      kept: [v(5), v(4)],
      skipped: [],
      orphans: [],
      failed: false,
    });
    expect(mutatingCalls(world.clients.calls, before)).toEqual({});
  });

  it("skips a service whose swap is in flight, touching nothing", async () => {
    const plan = await world.yard.plan(SERVICE, { release: "r2" });
    const now = new Date();
    const state = world.yard.config.state;
    await SwapLock.acquire(world.clients, state, {
      version: 1,
      swapId: plan.swapId,
      service: SERVICE,
      owner: currentOwner(),
      startedAt: now.toISOString(),
      heartbeatAt: now.toISOString(),
      plan,
      cursor: { phase: "launching", stepIndex: -1, launchStartedAt: now.getTime() },
    });
    try {
      const before = new Map(world.clients.calls);
      const report = await world.yard.retire({ keep: 0, minAge: 0 });
      expect(report.deleted).toEqual([]);
      expect(report.kept).toEqual([]);
      expect(report.skipped.map((s) => s.name)).toEqual([v(5), v(4)]);
      for (const s of report.skipped) {
        expect(s.reason).toMatch(new RegExp(`^swap in flight: swap ${plan.swapId} by `));
      }
      expect(report.failed).toBe(false);
      expect(mutatingCalls(world.clients.calls, before)).toEqual({});
      expect(await asgNames(world)).toEqual([v(4), v(5)]);
    } finally {
      await deleteObject(world.clients, state.bucket, recordKey(state, SERVICE));
    }
  });

  it("keep 0 takes the standby out of the forward action in one change, then deletes it", async () => {
    const before = new Map(world.clients.calls);
    const report = await world.yard.retire({ keep: 0, minAge: 0 });
    expect(report).toEqual({
      dryRun: false,
      deleted: [v(4)],
      kept: [v(5)],
      skipped: [],
      orphans: [],
      failed: false,
    });
    const mutating = mutatingCalls(world.clients.calls, before);
    expect(mutating["elbv2:ModifyListener"]).toBe(1);
    expect(mutating["elbv2:DeleteTargetGroup"]).toBe(1);
    expect(await forward(world)).toEqual({ type: "forward", weights: { [v(5)]: 100 } });
    expect(await asgNames(world)).toEqual([v(5)]);
    expect(await targetGroupExists(world, v(4))).toBe(false);
    expect(await answer(world)).toMatchObject({ version: "r1" });
  });

  it("a retire run during a real swap's bake skips the service; the swap completes", async () => {
    let during: Awaited<ReturnType<typeof world.yard.retire>> | undefined;
    const result = await world.yard.deploy(SERVICE, {
      release: "r2",
      bakeMs: 50,
      steps: [100],
      gates: [
        {
          name: "retire-during-bake",
          check: async () => {
            during ??= await world.yard.retire({ keep: 0, minAge: 0 });
            return true;
          },
        },
      ],
    }).result;
    expect(result).toMatchObject({ ok: true, live: v(7), standby: v(5) });
    expect(during?.deleted).toEqual([]);
    expect(during?.skipped.map((s) => s.name)).toEqual([v(7), v(5)]);
    expect(during?.skipped.every((s) => s.reason.startsWith("swap in flight: "))).toBe(true);
    expect(await asgNames(world)).toEqual([v(5), v(7)]);
  });

  it("refuses bad options before any call", async () => {
    const before = new Map(world.clients.calls);
    await expect(world.yard.retire({ keep: -1 })).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(world.yard.retire({ minAge: "soon" })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    await expect(world.yard.retire({ services: ["web/nope"] })).rejects.toMatchObject({
      code: "UNKNOWN_SERVICE",
    });
    expect(world.clients.calls).toEqual(before);
  });
});

describe("retire sweeps orphaned target groups and launch templates", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld({ desired: 1 });
    // v001 … v003: v003 live, v002 the standby in the forward action at weight 0, v001 out of it
    for (const release of ["r1", "r2", "r1"]) {
      const r = await world.yard.deploy(SERVICE, { release, bakeMs: 20, steps: [100] }).result;
      expect(r.ok, r.error?.message).toBe(true);
    }
    expect((await forward(world)).weights).toEqual({ [v(3)]: 100, [v(2)]: 0 });
    // v001's Auto Scaling group deleted behind switchyard's back: its parts are left over
    await world.clients.autoscaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: v(1), ForceDelete: true }),
    );
    await eventually(async () => !(await asgNames(world)).includes(v(1)) || undefined, {
      timeoutMs: 10_000,
      what: `${v(1)} to be gone`,
    });
    // a target group named like a server group of the service, made by someone else (no tags)
    await world.clients.elbv2.send(
      new CreateTargetGroupCommand({
        Name: v(9),
        Protocol: "HTTP",
        Port: 8080,
        VpcId: DEFAULT_VPC_ID,
        TargetType: "instance",
      }),
    );
    expect(await targetGroupExists(world, v(1))).toBe(true);
    expect(await launchTemplateExists(world, `switchyard-${v(1)}`)).toBe(true);
  }, 120_000);
  afterAll(() => world?.stop());

  const ORPHANS = [
    { name: v(1), kind: "target-group" },
    { name: `switchyard-${v(1)}`, kind: "launch-template" },
  ];

  it("dry run reports the orphans and changes nothing", async () => {
    const before = new Map(world.clients.calls);
    const report = await world.yard.retire({ dryRun: true });
    expect(report).toEqual({
      dryRun: true,
      deleted: [],
      kept: [v(3), v(2)],
      skipped: [],
      orphans: ORPHANS,
      failed: false,
    });
    expect(mutatingCalls(world.clients.calls, before)).toEqual({});
    expect(await targetGroupExists(world, v(1))).toBe(true);
    expect(await launchTemplateExists(world, `switchyard-${v(1)}`)).toBe(true);
  });

  it("deletes the orphaned target group and launch template, and nothing else", async () => {
    const before = new Map(world.clients.calls);
    const report = await world.yard.retire();
    expect(report).toEqual({
      dryRun: false,
      deleted: [],
      kept: [v(3), v(2)],
      skipped: [],
      orphans: ORPHANS,
      failed: false,
    });
    expect(mutatingCalls(world.clients.calls, before)).toEqual({
      "elbv2:DeleteTargetGroup": 1,
      "ec2:DeleteLaunchTemplate": 1,
      // the service's lock: taken and released around the deletions
      "s3:PutObject": 1,
      "s3:DeleteObject": 1,
    });
    expect(await targetGroupExists(world, v(1))).toBe(false);
    expect(await launchTemplateExists(world, `switchyard-${v(1)}`)).toBe(false);
    // the kept groups whole, the untagged look-alike untouched, the listener as it was
    for (const n of [2, 3]) {
      expect(await targetGroupExists(world, v(n))).toBe(true);
      expect(await launchTemplateExists(world, `switchyard-${v(n)}`)).toBe(true);
    }
    expect(await targetGroupExists(world, v(9))).toBe(true);
    expect(await asgNames(world)).toEqual([v(2), v(3)]);
    expect((await forward(world)).weights).toEqual({ [v(3)]: 100, [v(2)]: 0 });
  });

  it("a second run finds nothing and makes no mutating call", async () => {
    const before = new Map(world.clients.calls);
    const report = await world.yard.retire();
    expect(report.orphans).toEqual([]);
    expect(report.failed).toBe(false);
    expect(mutatingCalls(world.clients.calls, before)).toEqual({});
    expect(await targetGroupExists(world, v(9))).toBe(true);
  });
});
