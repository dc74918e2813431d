/**
 * The swap process killed (SIGKILL) right after each action it announces, then `resume`: every
 * run must end in the same consistent state as an uninterrupted swap.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import {
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import { DescribeListenersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SwitchyardEvent } from "../../src/core/events.js";
import { readRecord } from "../../src/swap/record.js";
import { buildCli } from "../e2e/helpers.js";
import { SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";

const CHILD = new URL("./fixtures/deploy-child.mjs", import.meta.url);

/** Runs a swap in a child process and SIGKILLs it right after its `killAfter`-th action event. */
function deployAndKill(
  world: SwapWorld,
  release: string,
  killAfter: number,
  extra: Record<string, unknown> = {},
) {
  return new Promise<{ killed: boolean; actions: string[] }>((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD.pathname], {
      env: {
        ...process.env,
        SWITCHYARD_TEST_JOB: JSON.stringify({
          endpoint: world.sandbox.endpoint,
          config: world.config,
          service: SERVICE,
          release,
          bakeMs: 100,
          ...extra,
        }),
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const actions: string[] = [];
    let killed = false;
    createInterface({ input: child.stdout }).on("line", (line) => {
      const event = JSON.parse(line) as SwitchyardEvent | { type: "result" };
      if (event.type === "action") {
        actions.push((event as { description: string }).description);
        if (actions.length === killAfter && !killed) {
          killed = true;
          child.kill("SIGKILL");
        }
      }
    });
    child.on("error", reject);
    child.on("exit", () => resolve({ killed, actions }));
  });
}

async function endState(world: SwapWorld) {
  const listener = await world.clients.elbv2.send(
    new DescribeListenersCommand({ ListenerArns: [world.listenerArn] }),
  );
  const tgs = listener.Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups ?? [];
  const groups = await world.clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({}));
  const byTg = new Map(
    (groups.AutoScalingGroups ?? []).map((g) => [g.TargetGroupARNs?.[0], g] as const),
  );
  const inAction = tgs.map((t) => {
    const g = byTg.get(t.TargetGroupArn);
    return {
      weight: t.Weight,
      role: g?.Tags?.find((x) => x.Key === "switchyard:role")?.Value,
      min: g?.MinSize,
      desired: g?.DesiredCapacity,
      suspended: (g?.SuspendedProcesses ?? []).map((p) => p.ProcessName).sort(),
    };
  });
  const others = (groups.AutoScalingGroups ?? [])
    .filter((g) => !tgs.some((t) => t.TargetGroupArn === g.TargetGroupARNs?.[0]))
    .map((g) => g.Tags?.find((x) => x.Key === "switchyard:role")?.Value);
  return {
    inAction: inAction.sort((a, b) => (b.weight ?? 0) - (a.weight ?? 0)),
    liveElsewhere: others.filter((r) => r === "live" || r === "green").length,
    locked: (await readRecord(world.clients, world.config.state as never, SERVICE)) !== undefined,
  };
}

const CONSISTENT = {
  inAction: [
    { weight: 100, role: "live", min: 1, desired: 2, suspended: [] },
    {
      weight: 0,
      role: "standby",
      min: 1,
      desired: 2,
      suspended: ["AlarmNotification", "ScheduledActions"],
    },
  ],
  liveElsewhere: 0,
  locked: false,
};

describe("a swap killed after any action, then resumed", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    await buildCli();
    world = await swapWorld();
    expect((await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result).ok).toBe(true);
    expect((await world.yard.deploy(SERVICE, { release: "r2", bakeMs: 50 }).result).ok).toBe(true);
  });
  afterAll(() => world?.stop());

  it("ends consistent after every kill point, finishing forward or with --abort", async () => {
    const total = (await deployAndKill(world, "r1", Number.POSITIVE_INFINITY)).actions.length;
    expect(total).toBeGreaterThanOrEqual(10);
    expect(await endState(world)).toEqual(CONSISTENT);
    const seen: string[] = [];
    for (let k = 1; k < total; k++) {
      const release = k % 2 ? "r2" : "r1";
      const run = await deployAndKill(world, release, k);
      expect(run.killed).toBe(true);
      seen.push(run.actions.at(-1) ?? "");
      const abort = k % 3 === 0;
      const result = await world.yard.resume(SERVICE, { abort }).result.catch((error: unknown) => {
        throw new Error(`killed after "${run.actions.at(-1)}" (k=${k}, abort ${abort}): ${error}`);
      });
      expect(
        result.outcome,
        `killed after "${run.actions.at(-1)}": ${result.error?.code ?? ""} ${result.error?.message ?? ""}`,
      ).toBe(abort ? "rolled-back" : "completed");
      expect(await endState(world), `killed after "${run.actions.at(-1)}"`).toEqual(CONSISTENT);
    }
    expect(new Set(seen).size).toBeGreaterThan(5);
  }, 240_000);
});

describe("a rollback killed after any action, then resumed", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    await buildCli();
    world = await swapWorld();
    expect((await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result).ok).toBe(true);
    expect((await world.yard.deploy(SERVICE, { release: "r2", bakeMs: 50 }).result).ok).toBe(true);
  });
  afterAll(() => world?.stop());

  /** The standby at no instances, so the rollback scales it up and waits: more kill points. */
  async function shrinkStandby() {
    const status = await world.yard.status(SERVICE);
    const standby = status.groups.find((g) => g.role === "standby" && g.weight === 0)!;
    await world.clients.autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: standby.name,
        MinSize: 1,
        DesiredCapacity: 1,
      }),
    );
    return standby.name;
  }

  /** Traffic on one group, tagged live with its alarms on; the other its standby. */
  async function rolledBackTo(expected: string) {
    const status = await world.yard.status(SERVICE);
    expect(status.warnings).toEqual([]);
    expect(status.swap).toBeNull();
    const live = status.groups.find((g) => g.weight === 100)!;
    expect(live).toMatchObject({ name: expected, role: "live", suspendedProcesses: [] });
    expect(live.capacity.desired).toBe(2);
    const standby = status.groups.filter((g) => g.weight === 0);
    expect(standby.map((g) => g.role)).toEqual(standby.map(() => "standby"));
    for (const g of standby) {
      expect([...g.suspendedProcesses].sort()).toEqual(["AlarmNotification", "ScheduledActions"]);
    }
  }

  it("ends with the target live and tags agreeing with the listener after every kill point", async () => {
    const target = await shrinkStandby();
    const full = await deployAndKill(world, "", Number.POSITIVE_INFINITY, { op: "rollback" });
    const total = full.actions.length;
    expect(total).toBeGreaterThanOrEqual(4);
    await rolledBackTo(target);
    for (let k = 1; k <= total; k++) {
      const next = await shrinkStandby();
      const run = await deployAndKill(world, "", k, { op: "rollback" });
      expect(run.killed).toBe(true);
      // the operator's next move: `resume`, or simply `rollback` again, which finishes it too
      const result =
        k % 2 ? await world.yard.resume(SERVICE).result : await world.yard.rollback(SERVICE).result;
      expect(result.live, `killed after "${run.actions.at(-1)}"`).toBe(next);
      await rolledBackTo(next);
    }
  });
});

describe("a cycle killed between batches, then resumed", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    await buildCli();
    world = await swapWorld({ desired: 3 });
    expect((await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result).ok).toBe(true);
  });
  afterAll(() => world?.stop());

  it("resume replaces the instances the killed cycle had not, and no more", async () => {
    const instances = async () =>
      (
        await world.clients.autoscaling.send(
          new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ["web-test-v001"] }),
        )
      ).AutoScalingGroups?.[0]?.Instances?.map((i) => i.InstanceId ?? "") ?? [];
    const before = await instances();
    expect(before).toHaveLength(3);
    const run = await deployAndKill(world, "", 1, { op: "cycle", batch: 1 });
    expect(run.killed).toBe(true);
    const result = await world.yard.resume(SERVICE).result;
    expect(result).toMatchObject({ ok: true, live: "web-test-v001" });
    const after = await instances();
    expect(after).toHaveLength(3);
    expect(after.filter((id) => before.includes(id))).toEqual([]);
    expect((await world.yard.status(SERVICE)).swap).toBeNull();
  });
});
