import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitCodeOf } from "../../src/core/errors.js";
import {
  listenerWeights,
  SERVICE,
  type SwapWorld,
  setWeightsByHand,
  swapWorld,
} from "../helpers/swap-world.js";

describe("a change switchyard did not make stops the swap", () => {
  let world: SwapWorld;
  beforeAll(async () => {
    world = await swapWorld({ pollIntervalMs: 100 });
    const first = await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result;
    expect(first.ok).toBe(true);
  });
  afterAll(() => world?.stop());

  /** A swap to `release` that an operator interrupts by hand at its first step. */
  async function driftedSwap(release: string, green: string, blue: string) {
    const op = world.yard.deploy(SERVICE, {
      release,
      steps: [25, 50, 100],
      // long enough for the drift to be seen at its first step, short enough for what follows
      bakeMs: 2_000,
      onEvent: (e) => {
        if (e.type === "step.shifted" && e.step === 1)
          void setWeightsByHand(world, { [blue]: 100, [green]: 0 });
      },
    });
    const error = await op.result.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "DRIFT" });
    expect(exitCodeOf(error)).toBe(1);
    expect((error as Error).message).toContain(`${green}=25`);
    return error;
  }

  it("an operator's blue=100 mid-swap is left as found: exit 1, status names the drift", async () => {
    await driftedSwap("r2", "web-test-v002", "web-test-v001");
    // not overwritten, now or later
    await new Promise((r) => setTimeout(r, 500));
    expect(await listenerWeights(world)).toEqual({ "web-test-v001": 100, "web-test-v002": 0 });
    const status = await world.yard.status(SERVICE);
    expect(status.swap).toMatchObject({ phase: "halted", halted: { code: "DRIFT" } });
    expect(status.swap?.halted?.drift?.what).toMatch(/changed outside this swap/);
    expect(status.swap?.halted?.drift?.found).toContainEqual(
      expect.objectContaining({ weight: 100 }),
    );
  });

  it("promote adopts the operator's state and goes on to the next step", async () => {
    const shifted: number[] = [];
    const outcome = await world.another().promote(SERVICE, {
      onEvent: (e) => {
        if (e.type === "step.shifted") shifted.push(e.weight);
      },
    }).result;
    expect(outcome).toMatchObject({
      appliedBy: "here",
      result: { ok: true, live: "web-test-v002" },
    });
    // from the operator's state straight to the next step: 25 % is not put back first
    expect(shifted).toEqual([50, 100]);
    expect(await listenerWeights(world)).toEqual({ "web-test-v002": 100, "web-test-v001": 0 });
    expect((await world.yard.status(SERVICE)).swap).toBeNull();
  });

  it("abort after a drift puts blue back", async () => {
    await driftedSwap("r1", "web-test-v003", "web-test-v002");
    const outcome = await world.another().abort(SERVICE).result;
    expect(outcome).toMatchObject({
      appliedBy: "here",
      result: { ok: false, live: "web-test-v002" },
    });
    expect(await listenerWeights(world)).toEqual({ "web-test-v002": 100, "web-test-v001": 0 });
  });

  it("a confirmed plan is refused when the live group changed since, naming the change", async () => {
    const plan = await world.yard.plan(SERVICE, { release: "r1", steps: [100], bakeMs: 20 });
    expect(plan.blue?.name).toBe("web-test-v002");
    // a hotfix deployed meanwhile from another terminal
    const hotfix = await world
      .another()
      .deploy(SERVICE, { release: "r1", steps: [100], bakeMs: 20 }).result;
    expect(hotfix.ok).toBe(true);
    const before = await listenerWeights(world);
    const error = await world.yard
      .deploy(SERVICE, { release: "r1", plan })
      .result.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "PLAN_CHANGED" });
    expect(exitCodeOf(error)).toBe(2);
    expect((error as Error).message).toContain(`the live group is now ${hotfix.live}`);
    expect(await listenerWeights(world)).toEqual(before);
    expect((await world.yard.status(SERVICE)).swap).toBeNull();
  });

  it("a confirmed plan whose world is unchanged runs exactly as shown", async () => {
    const plan = await world.yard.plan(SERVICE, { release: "r2", steps: [30, 100], bakeMs: 20 });
    const steps: number[] = [];
    const result = await world.yard.deploy(SERVICE, {
      release: "r2",
      plan,
      onEvent: (e) => {
        if (e.type === "step.shifted") steps.push(e.weight);
      },
    }).result;
    expect(result).toMatchObject({ ok: true, live: plan.green.name });
    expect(steps).toEqual([30, 100]);
  });
});
