/**
 * The swap record is an exactly-once lock: a conditional write whose answer is lost (S3 applied
 * it, the reply never came) is read back and decided by its write id, never retried into its own
 * 412; a record deleted under a live swap stops it within one poll with nothing more changed;
 * the heartbeat runs on its own timer, so `unlock --force` is refused while a gate hangs.
 */

import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitCodeOf } from "../../src/core/errors.js";
import { readRecord } from "../../src/swap/record.js";
import { eventually } from "../helpers/sandbox.js";
import {
  listenerWeights,
  SERVICE,
  type SwapWorld,
  setWeightsByHand,
  swapWorld,
} from "../helpers/swap-world.js";

const STATE = { bucket: "releases", prefix: ".switchyard" };

describe("the swap record as an exactly-once lock", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld({
      releases: [{ version: "r1" }, { version: "r2" }, { version: "r3" }],
    });
    const first = await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result;
    expect(first.ok).toBe(true);
  });
  afterAll(() => world?.stop());

  it("a lost answer to the lock's create: the swap sees its own write and goes on", async () => {
    world.sandbox.faults.set([
      {
        service: "s3",
        action: "PutObject",
        condition: "if-none-match",
        dropReplyRate: 1,
        limit: 1,
      },
    ]);
    const result = await world.yard.deploy(SERVICE, { release: "r2", steps: [50, 100], bakeMs: 50 })
      .result;
    expect(world.sandbox.faults.injected.get("s3:PutObject")).toBe(1);
    world.sandbox.faults.clear();
    expect(result).toMatchObject({ ok: true, live: "web-test-v002" });
    expect(await readRecord(world.clients, STATE, SERVICE)).toBeUndefined();
  });

  it("lost answers to progress writes: the swap neither stops with LOCK_LOST nor repeats a step", async () => {
    world.sandbox.faults.set([
      { service: "s3", action: "PutObject", condition: "if-match", dropReplyRate: 0.5, limit: 4 },
    ]);
    const result = await world.yard.deploy(SERVICE, { release: "r3", steps: [50, 100], bakeMs: 50 })
      .result;
    const lost = world.sandbox.faults.injected.get("s3:PutObject") ?? 0;
    world.sandbox.faults.clear();
    expect(lost).toBeGreaterThanOrEqual(1);
    expect(result).toMatchObject({ ok: true, live: "web-test-v003" });
    expect(await listenerWeights(world)).toEqual({ "web-test-v003": 100, "web-test-v002": 0 });
  });

  it("the record deleted under a live swap: it stops within one poll, changes nothing more, exit 1", async () => {
    const POLL = 300;
    const driver = world.another({ pollIntervalMs: POLL });
    let deletedAt = 0;
    const op = driver.deploy(SERVICE, {
      release: "r1",
      steps: [25, 100],
      bakeMs: 60_000,
      onEvent: async (e) => {
        if (e.type === "step.shifted" && e.step === 1) {
          await world.clients.s3.send(
            new DeleteObjectCommand({ Bucket: "releases", Key: ".switchyard/web/test/swap.json" }),
          );
          deletedAt = Date.now();
        }
      },
    });
    const error = await op.result.then(
      () => undefined,
      (e: unknown) => e,
    );
    const stoppedAt = Date.now();
    expect(error).toMatchObject({ code: "LOCK_LOST" });
    expect(exitCodeOf(error)).toBe(1);
    expect(stoppedAt - deletedAt).toBeLessThan(POLL + 1_000);
    // traffic as the swap left it: 25 % on green, nothing re-imposed afterwards
    const left = await listenerWeights(world);
    expect(left).toMatchObject({ "web-test-v003": 75, "web-test-v004": 25 });
    await new Promise((r) => setTimeout(r, 3 * POLL));
    expect(await listenerWeights(world)).toEqual(left);
    // status explains what the stopped swap left
    const after = await world.yard.status(SERVICE);
    expect(after.swap).toBeNull();
    expect(after.warnings.join("\n")).toMatch(
      /traffic is split \(web-test-v004 25, web-test-v003 75\) with no swap in flight/,
    );
    expect(after.warnings.join("\n")).toContain(
      "web-test-v004 is tagged green but no swap is in flight",
    );
    // an operator puts traffic back on blue by hand
    await setWeightsByHand(world, { "web-test-v003": 100 });
    driver.close();
  });

  it("unlock --force is refused while the holder lives, even with a gate hanging for longer than the staleness limit", async () => {
    const driver = world.another({ pollIntervalMs: 100 });
    let release: () => void = () => undefined;
    const hanging = new Promise<void>((r) => {
      release = r;
    });
    let gateStarted = false;
    const op = driver.deploy(SERVICE, {
      release: "r2",
      steps: [100],
      bakeMs: 60_000,
      gates: [
        {
          name: "hangs",
          check: async () => {
            gateStarted = true;
            await hanging;
            return false;
          },
        },
      ],
    });
    await eventually(() => gateStarted, { timeoutMs: 30_000, what: "the gate to start" });
    // the heartbeat keeps going while the gate hangs (heartbeatMs 500 in these worlds)
    const first = (await readRecord(world.clients, STATE, SERVICE))!.record.heartbeatAt;
    await new Promise((r) => setTimeout(r, 1_200));
    const later = (await readRecord(world.clients, STATE, SERVICE))!.record.heartbeatAt;
    expect(Date.parse(later)).toBeGreaterThan(Date.parse(first));
    // a staleness limit shorter than the gate: still refused, the holder is alive
    await expect(
      world.yard.unlock(SERVICE, { force: true, staleAfterMs: 1 }),
    ).rejects.toMatchObject({
      code: "LOCK_NOT_STALE",
    });
    release();
    const result = await op.result;
    expect(result).toMatchObject({ ok: false, live: "web-test-v003" });
    driver.close();
  });

  it("Ctrl-C while a gate runs stops the gate and rolls back at once", async () => {
    const cancel = new AbortController();
    const driver = world.another({ pollIntervalMs: 100 });
    let gateStopped = 0;
    let cancelledAt = 0;
    let rollbackAt = 0;
    const op = driver.deploy(SERVICE, {
      release: "r2",
      steps: [100],
      bakeMs: 60_000,
      signal: cancel.signal,
      gates: [
        {
          name: "slow",
          // a 40 s check that stops when told to
          check: (ctx) =>
            new Promise((resolve) => {
              const timer = setTimeout(() => resolve(true), 40_000);
              if (!cancelledAt) {
                setTimeout(() => {
                  cancelledAt = Date.now();
                  cancel.abort();
                }, 200);
              }
              ctx.signal.addEventListener("abort", () => {
                gateStopped = Date.now();
                clearTimeout(timer);
                resolve(false);
              });
            }),
        },
      ],
      onEvent: (e) => {
        if (e.type === "rollback.started") rollbackAt = Date.now();
      },
    });
    const result = await op.result;
    expect(result).toMatchObject({ ok: false, outcome: "rolled-back", live: "web-test-v003" });
    expect(result.error?.message).toContain("cancelled");
    expect(gateStopped - cancelledAt).toBeLessThan(100);
    expect(rollbackAt - cancelledAt).toBeLessThan(1_000);
    driver.close();
  });
});
