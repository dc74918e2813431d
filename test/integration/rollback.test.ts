/**
 * rollback through the locked loop: it restores the group that was live before the last
 * completed change (not the highest sequence), takes the lock (a second rollback, a deploy or a
 * retire at the same time exits 3), means abort during a deploy, stops at once on Ctrl-C while it
 * waits, and leaves tags that agree with the listener every time.
 */
import { UpdateAutoScalingGroupCommand } from "@aws-sdk/client-auto-scaling";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitCodeOf } from "../../src/core/errors.js";
import { readRecord } from "../../src/swap/record.js";
import { eventually } from "../helpers/sandbox.js";
import { listenerWeights, SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";

const STATE = { bucket: "releases", prefix: ".switchyard" };

/** The live group by the listener, and every group's role tag agrees with it. */
async function liveAndConsistent(world: SwapWorld) {
  const status = await world.yard.status(SERVICE);
  expect(status.warnings).toEqual([]);
  const live = status.groups.filter((g) => g.role === "live");
  expect(live).toHaveLength(1);
  return { live: live[0]!.name, release: live[0]!.release, status };
}

const version = (url: string) => /([^/]+)\.tar\.gz$/.exec(url)?.[1];

describe("rollback restores what was live before", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld();
  });
  afterAll(() => world?.stop());

  it("deploy r1, r2, rollback, r2, rollback: r1 is live", async () => {
    const deploy = async (release: string) => {
      const r = await world.yard.deploy(SERVICE, { release, steps: [100], bakeMs: 20 }).result;
      expect(r.ok).toBe(true);
    };
    await deploy("r1");
    await deploy("r2");
    const first = await world.yard.rollback(SERVICE).result;
    expect(first).toMatchObject({ live: "web-test-v001" });
    await deploy("r2");
    const second = await world.yard.rollback(SERVICE).result;
    expect(second).toMatchObject({ live: "web-test-v001" });
    const { live, release } = await liveAndConsistent(world);
    expect(live).toBe("web-test-v001");
    expect(version(release)).toBe("r1");
  });

  it("a rollback that would not change the release says so and changes nothing (exit 2)", async () => {
    // v001 (r1) is live; the last change's "before" is v003 (r2): roll back to it...
    await world.yard.rollback(SERVICE).result;
    // ...and v002 also runs r2, so asking for it from v003 changes no release
    const before = await listenerWeights(world);
    const error = await world.yard
      .rollback(SERVICE, { to: "web-test-v002" })
      .result.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "NOTHING_TO_ROLL_BACK" });
    expect(exitCodeOf(error)).toBe(2);
    expect(await listenerWeights(world)).toEqual(before);
    expect(await readRecord(world.clients, STATE, SERVICE)).toBeUndefined();
  });
});

describe("rollback and other operations at the same time", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld({ pollIntervalMs: 50 });
    for (const release of ["r1", "r2"]) {
      const r = await world.yard.deploy(SERVICE, { release, steps: [100], bakeMs: 20 }).result;
      expect(r.ok).toBe(true);
    }
  });
  afterAll(() => world?.stop());

  /** Makes the standby need a scale-up, so a rollback waits for it to be healthy. */
  async function shrinkStandby(name: string) {
    await world.clients.autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        MinSize: 0,
        DesiredCapacity: 0,
      }),
    );
    await eventually(
      async () =>
        (await world.yard.status(SERVICE)).groups.find((g) => g.name === name)?.instances
          .inService === 0,
      {
        timeoutMs: 20_000,
        what: `${name} to have no instances`,
      },
    );
  }

  it("a second rollback and a deploy during a rollback's wait exit 3; one rollback proceeds", async () => {
    await shrinkStandby("web-test-v001");
    const first = world.another().rollback(SERVICE);
    await eventually(() => readRecord(world.clients, STATE, SERVICE), {
      what: "the rollback's lock",
    });
    const [second, deploy] = await Promise.all([
      world
        .another()
        .rollback(SERVICE)
        .result.catch((e: unknown) => e),
      world
        .another()
        .deploy(SERVICE, { release: "r1" })
        .result.catch((e: unknown) => e),
    ]);
    expect(second).toMatchObject({ code: "LOCK_HELD" });
    expect(exitCodeOf(second)).toBe(3);
    expect(deploy).toMatchObject({ code: "LOCK_HELD" });
    expect(exitCodeOf(deploy)).toBe(3);
    const done = await first.result;
    expect(done).toMatchObject({ live: "web-test-v001", scaledUp: true });
    expect((await liveAndConsistent(world)).live).toBe("web-test-v001");
  });

  it("Ctrl-C during a rollback's wait stops at once: no further change, bounded describe calls", async () => {
    await shrinkStandby("web-test-v002");
    const cancel = new AbortController();
    const yard = world.another({ pollIntervalMs: 100 });
    const before = new Map(world.clients.calls);
    const op = yard.rollback(SERVICE, { signal: cancel.signal });
    await eventually(
      async () => (await readRecord(world.clients, STATE, SERVICE))?.record.rollback?.plan,
      {
        what: "the rollback to start waiting",
      },
    );
    const weightsBefore = await listenerWeights(world);
    const cancelledAt = Date.now();
    cancel.abort();
    const error = await op.result.catch((e: unknown) => e);
    const stoppedIn = Date.now() - cancelledAt;
    expect(error).toMatchObject({ code: "ABORTED" });
    expect(stoppedIn).toBeLessThan(1_000);
    const health =
      (world.clients.calls.get("elbv2:DescribeTargetHealth") ?? 0) -
      (before.get("elbv2:DescribeTargetHealth") ?? 0);
    expect(health).toBeLessThan(100);
    // traffic untouched, lock released
    expect(await listenerWeights(world)).toEqual(weightsBefore);
    expect(await readRecord(world.clients, STATE, SERVICE)).toBeUndefined();
    expect((await liveAndConsistent(world)).live).toBe("web-test-v001");
    yard.close();
  });

  it("rollback during a deploy's bake aborts that swap: blue live, the deploy exits 4", async () => {
    const events: string[] = [];
    let rolledBack: Promise<unknown> | undefined;
    const deploy = world.another({ pollIntervalMs: 100 }).deploy(SERVICE, {
      release: "r2",
      steps: [25, 100],
      bakeMs: 60_000,
      onEvent: (e) => {
        events.push(e.type);
        if (e.type === "step.shifted" && e.step === 1)
          rolledBack = world.another().rollback(SERVICE).result;
      },
    });
    const result = await deploy.result;
    expect(result).toMatchObject({ ok: false, live: "web-test-v001" });
    expect(exitCodeOf(result.error)).toBe(4);
    expect(await rolledBack).toMatchObject({
      live: "web-test-v001",
      abortedSwap: expect.stringContaining("r2"),
    });
    expect((await liveAndConsistent(world)).live).toBe("web-test-v001");
  });

  it("retire during a deploy's preflight: exactly one proceeds, the other exits 3", async () => {
    const results = await Promise.all([
      world
        .another()
        .deploy(SERVICE, { release: "r2", steps: [100], bakeMs: 20 })
        .result.then(
          (r) => ({ op: "deploy", ok: r.ok }),
          (e: unknown) => ({ op: "deploy", code: (e as { code?: string }).code }),
        ),
      world
        .another()
        .retire({ services: [SERVICE], keep: 0, minAge: 0 })
        .then(
          (r) => ({ op: "retire", deleted: r.deleted, skipped: r.skipped.map((s) => s.reason) }),
          (e: unknown) => ({ op: "retire", code: (e as { code?: string }).code }),
        ),
    ]);
    const [deploy, retire] = results as [
      { ok?: boolean; code?: string },
      { deleted?: string[]; skipped?: string[] },
    ];
    const deployed = deploy.ok === true;
    const retired = (retire.deleted?.length ?? 0) > 0;
    // one of them ran; the other met the lock
    expect(deployed !== retired).toBe(true);
    if (deployed) expect(retire.skipped?.join()).toMatch(/swap in flight/);
    else expect(deploy.code).toBe("LOCK_HELD");
    await liveAndConsistent(world);
  });
});
