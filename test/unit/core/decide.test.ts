import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  analysisDueAt,
  type Decision,
  nextAction,
  shiftWeights,
} from "../../../src/core/decide.js";
import type {
  AnalysisPlan,
  AnalysisVerdict,
  GroupView,
  Snapshot,
  SwapCursor,
  SwapPlan,
  TargetHealthCounts,
  VerdictFigures,
} from "../../../src/core/swap-model.js";

import { BLUE_TG, GREEN_TG, OLD_TG, samplePlan as plan } from "../../helpers/plan.js";

const NOW = 1_000_000;

const health = (healthy: number, extra: Partial<TargetHealthCounts> = {}): TargetHealthCounts => ({
  healthy,
  unhealthy: 0,
  initial: 0,
  draining: 0,
  unused: 0,
  total: healthy,
  unhealthyTargets: [],
  ...extra,
});

function group(name: string, tg: string, overrides: Partial<GroupView> = {}): GroupView {
  return {
    name,
    sequence: 1,
    release: "",
    role: "green",
    targetGroupArn: tg,
    asg: {
      min: 2,
      max: 4,
      desired: 2,
      deleting: false,
      suspended: [],
      instances: [
        { id: "i-1", lifecycle: "InService", health: "Healthy" },
        { id: "i-2", lifecycle: "InService", health: "Healthy" },
      ],
    },
    health: health(2),
    ...overrides,
  };
}

/** The world mid-swap: blue live at 100, green in the action at 0, healthy. */
function world(overrides: Partial<Snapshot> = {}): Snapshot {
  return {
    now: NOW,
    traffic: {
      targetGroups: [
        { targetGroupArn: BLUE_TG, weight: 100 },
        { targetGroupArn: GREEN_TG, weight: 0 },
      ],
      stickiness: { enabled: false, durationSeconds: 0 },
      forwarding: true,
    },
    green: group("web-prod-v002", GREEN_TG),
    blue: group("web-prod-v001", BLUE_TG, { role: "live", health: health(2) }),
    greenTargetGroupArn: GREEN_TG,
    greenLaunchTemplateId: "lt-2",
    gates: [],
    ...overrides,
  };
}

const cursor = (c: Partial<SwapCursor> = {}): SwapCursor => ({
  phase: "launching",
  stepIndex: -1,
  launchStartedAt: NOW - 1000,
  ...c,
});

/** The world as the swap last left it, unless a test says otherwise (drift). */
const decide = (s: Snapshot, p: SwapPlan, c: SwapCursor) =>
  nextAction(s, p, { traffic: s.traffic.targetGroups, ...c });

const actionOf = (d: Decision) => (d.kind === "act" ? d.action : undefined);

const HOLD = { pause: { by: "op@host", at: "2026-12-03T00:00:00Z" } };
const promoteStep = (step: number) => ({
  promote: { step, full: false, by: "op@host", at: "2026-12-03T00:00:00Z" },
});

describe("nextAction while launching green", () => {
  it.each([
    [
      "no launch template yet → create it",
      { greenLaunchTemplateId: undefined },
      "createLaunchTemplate",
    ],
    ["no target group yet → create it", { greenTargetGroupArn: undefined }, "createTargetGroup"],
    ["no Auto Scaling group yet → create it", { green: undefined }, "createGroup"],
  ])("%s", (_name, change, type) => {
    expect(actionOf(decide(world(change as Partial<Snapshot>), plan(), cursor()))?.type).toBe(type);
  });

  it("adds green's target group to the forward action at weight 0 before launching", () => {
    const s = world({
      green: undefined,
      traffic: { ...world().traffic, targetGroups: [{ targetGroupArn: BLUE_TG, weight: 100 }] },
    });
    expect(actionOf(decide(s, plan(), cursor()))).toEqual({
      type: "setTraffic",
      purpose: "reference-green",
      targetGroups: [
        { targetGroupArn: BLUE_TG, weight: 100 },
        { targetGroupArn: GREEN_TG, weight: 0 },
      ],
      stickinessSeconds: 0,
    });
  });

  it("on a first deploy behind a fixed response, keeps green health-checked through a warm-up rule", () => {
    const s = world({
      blue: undefined,
      green: undefined,
      traffic: {
        targetGroups: [],
        stickiness: { enabled: false, durationSeconds: 0 },
        forwarding: false,
      },
    });
    expect(actionOf(decide(s, plan({ blue: null }), cursor()))?.type).toBe("createWarmupRule");
  });

  it("rolls back on a failed launch activity, naming AWS's message", () => {
    const s = world({
      green: group("web-prod-v002", GREEN_TG, {
        launchFailure: "The image id '[ami-1]' does not exist",
        health: health(0),
      }),
    });
    expect(actionOf(decide(s, plan(), cursor()))).toMatchObject({
      type: "updateCursor",
      cursor: { phase: "rolling-back", failure: { code: "LAUNCH_FAILED" } },
    });
  });

  it("waits while green is not yet healthy, then rolls back after healthyTimeout", () => {
    const s = world({
      green: group("web-prod-v002", GREEN_TG, { health: health(1, { initial: 1, total: 2 }) }),
    });
    expect(decide(s, plan(), cursor()).kind).toBe("wait");
    const late = cursor({ launchStartedAt: NOW - 600_001 });
    expect(actionOf(decide(s, plan(), late))).toMatchObject({
      cursor: { phase: "rolling-back", failure: { code: "GREEN_UNHEALTHY" } },
    });
  });

  it("moves to shifting once every instance is in service and healthy", () => {
    expect(actionOf(decide(world(), plan(), cursor()))).toMatchObject({
      type: "updateCursor",
      cursor: { phase: "shifting", stepIndex: 0 },
    });
  });
});

describe("nextAction while shifting", () => {
  const shifting = (c: Partial<SwapCursor> = {}) =>
    cursor({ phase: "shifting", stepIndex: 0, blueOriginalMin: 1, ...c });

  it("pins blue's min capacity to its desired capacity before the first shift", () => {
    const s = world({
      blue: group("web-prod-v001", BLUE_TG, {
        asg: { ...group("b", BLUE_TG).asg!, min: 1, desired: 3 },
      }),
    });
    expect(actionOf(decide(s, plan(), shifting({ blueOriginalMin: undefined })))).toEqual({
      type: "pinBlue",
      originalMin: 1,
      min: 3,
    });
  });

  it("sets the step's weights with stickiness, keeping other groups at 0", () => {
    const s = world({
      traffic: {
        ...world().traffic,
        targetGroups: [
          { targetGroupArn: BLUE_TG, weight: 100 },
          { targetGroupArn: OLD_TG, weight: 0 },
          { targetGroupArn: GREEN_TG, weight: 0 },
        ],
      },
    });
    expect(actionOf(decide(s, plan(), shifting()))).toEqual({
      type: "setTraffic",
      purpose: "shift",
      targetGroups: [
        { targetGroupArn: BLUE_TG, weight: 95 },
        { targetGroupArn: OLD_TG, weight: 0 },
        { targetGroupArn: GREEN_TG, weight: 5 },
      ],
      stickinessSeconds: 3600,
    });
  });

  const at5 = () =>
    world({
      traffic: {
        targetGroups: [
          { targetGroupArn: BLUE_TG, weight: 95 },
          { targetGroupArn: GREEN_TG, weight: 5 },
        ],
        stickiness: { enabled: true, durationSeconds: 3600 },
        forwarding: true,
      },
    });

  it("starts the bake once the listener shows the weights", () => {
    expect(actionOf(decide(at5(), plan(), shifting()))).toMatchObject({
      type: "updateCursor",
      cursor: { bakeStartedAt: NOW },
    });
  });

  it("waits out the bake, then moves to the next step", () => {
    const baking = decide(at5(), plan(), shifting({ bakeStartedAt: NOW - 10_000 }));
    expect(baking).toEqual({
      kind: "wait",
      reason: "baking at 5%",
      until: NOW + 50_000,
      // step 1 of 3 at 5%, 10 s of a minute baked
      progress: { step: 1, of: 3, weight: 5, startedAt: NOW - 10_000, until: NOW + 50_000 },
    });
    expect(
      actionOf(decide(at5(), plan(), shifting({ bakeStartedAt: NOW - 60_000 }))),
    ).toMatchObject({
      cursor: { stepIndex: 1, bakeStartedAt: undefined },
    });
  });

  it("rolls back when a gate fails during a bake", () => {
    const s = { ...at5(), gates: [{ name: "smoke", ok: false, message: "exit 1" }] };
    expect(actionOf(decide(s, plan(), shifting({ bakeStartedAt: NOW - 1 })))).toMatchObject({
      cursor: {
        phase: "rolling-back",
        failure: { code: "GATE_FAILED", message: "gate smoke failed: exit 1" },
      },
    });
  });

  it("holds the step past its bake while the operator holds it, without a deadline", () => {
    const held = { ...at5(), control: HOLD };
    for (const bakeStartedAt of [NOW - 10_000, NOW - 60_000, NOW - 3_600_000]) {
      expect(decide(held, plan(), shifting({ bakeStartedAt }))).toEqual({
        kind: "wait",
        reason: "paused at 5% (gates still checked; promote to go on)",
        progress: { step: 1, of: 3, weight: 5 },
      });
    }
  });

  it("still rolls back on a failing gate or an unhealthy green while held", () => {
    const gate = { ...at5(), control: HOLD, gates: [{ name: "smoke", ok: false }] };
    expect(actionOf(decide(gate, plan(), shifting({ bakeStartedAt: NOW - 1 })))).toMatchObject({
      cursor: { phase: "rolling-back", failure: { code: "GATE_FAILED" } },
    });
    const sick = {
      ...at5(),
      control: HOLD,
      green: group("g", GREEN_TG, {
        health: health(1, { unhealthy: 1, unhealthyTargets: [{ id: "i-2", reason: "500" }] }),
      }),
    };
    expect(actionOf(decide(sick, plan(), shifting({ bakeStartedAt: NOW })))).toMatchObject({
      cursor: { failure: { code: "GREEN_UNHEALTHY" } },
    });
  });

  it("ends the bake at once when the operator promotes the step", () => {
    const promoted = { ...at5(), control: promoteStep(1) };
    expect(actionOf(decide(promoted, plan(), shifting({ bakeStartedAt: NOW })))).toEqual({
      type: "updateCursor",
      cursor: { stepIndex: 1, bakeStartedAt: undefined },
      reason: "step 5% promoted by op@host",
      consume: ["promote", "pause"],
    });
  });

  it("a promote does not skip the shift or the start of the bake", () => {
    const before = { ...world(), control: promoteStep(1) };
    expect(actionOf(decide(before, plan(), shifting()))).toMatchObject({
      type: "setTraffic",
      purpose: "shift",
    });
    expect(
      actionOf(decide({ ...at5(), control: promoteStep(1) }, plan(), shifting())),
    ).toMatchObject({
      type: "updateCursor",
      cursor: { bakeStartedAt: NOW },
    });
  });

  it("a promoted last step goes on to finalize", () => {
    const at100 = world({
      control: promoteStep(3),
      traffic: {
        targetGroups: [
          { targetGroupArn: BLUE_TG, weight: 0 },
          { targetGroupArn: GREEN_TG, weight: 100 },
        ],
        stickiness: { enabled: false, durationSeconds: 0 },
        forwarding: true,
      },
    });
    expect(
      actionOf(decide(at100, plan(), shifting({ stepIndex: 2, bakeStartedAt: NOW }))),
    ).toMatchObject({ cursor: { phase: "finalizing" }, reason: "step 100% promoted by op@host" });
  });

  it("rolls back when a green target turns unhealthy or an instance is replaced", () => {
    const sick = {
      ...at5(),
      green: group("g", GREEN_TG, {
        health: health(1, { unhealthy: 1, unhealthyTargets: [{ id: "i-2", reason: "500" }] }),
      }),
    };
    expect(actionOf(decide(sick, plan(), shifting({ bakeStartedAt: NOW })))).toMatchObject({
      cursor: { failure: { code: "GREEN_UNHEALTHY" } },
    });
    const replacing = {
      ...at5(),
      green: group("g", GREEN_TG, {
        asg: {
          ...group("g", GREEN_TG).asg!,
          instances: [
            { id: "i-1", lifecycle: "InService", health: "Healthy" },
            { id: "i-3", lifecycle: "Pending", health: "Healthy" },
          ],
        },
      }),
    };
    expect(actionOf(decide(replacing, plan(), shifting({ bakeStartedAt: NOW })))).toMatchObject({
      cursor: { failure: { code: "GREEN_UNHEALTHY" } },
    });
  });

  it("finalizes after the last step has baked", () => {
    const at100 = world({
      traffic: {
        targetGroups: [
          { targetGroupArn: BLUE_TG, weight: 0 },
          { targetGroupArn: GREEN_TG, weight: 100 },
        ],
        stickiness: { enabled: false, durationSeconds: 0 },
        forwarding: true,
      },
    });
    expect(
      actionOf(decide(at100, plan(), shifting({ stepIndex: 2, bakeStartedAt: NOW - 60_000 }))),
    ).toMatchObject({
      cursor: { phase: "finalizing" },
    });
  });
});

describe("nextAction while finalizing", () => {
  const fin = cursor({ phase: "finalizing", stepIndex: 2, blueOriginalMin: 1 });
  const done = (): Snapshot =>
    world({
      traffic: {
        targetGroups: [
          { targetGroupArn: GREEN_TG, weight: 100 },
          { targetGroupArn: BLUE_TG, weight: 0 },
        ],
        stickiness: { enabled: false, durationSeconds: 0 },
        forwarding: true,
      },
      green: group("web-prod-v002", GREEN_TG, { role: "live" }),
      blue: group("web-prod-v001", BLUE_TG, {
        role: "standby",
        asg: {
          ...group("b", BLUE_TG).asg!,
          min: 1,
          suspended: ["AlarmNotification", "ScheduledActions"],
        },
      }),
    });

  it("leaves only live and the newest standby in the action", () => {
    const s = done();
    s.traffic.targetGroups.push({ targetGroupArn: OLD_TG, weight: 0 });
    expect(actionOf(decide(s, plan(), fin))).toMatchObject({
      type: "setTraffic",
      purpose: "finalize",
      targetGroups: [
        { targetGroupArn: GREEN_TG, weight: 100 },
        { targetGroupArn: BLUE_TG, weight: 0 },
      ],
    });
  });

  it("restores blue's min, suspends its alarms and schedules, tags roles, then is done", () => {
    const pinned = done();
    pinned.blue!.asg!.min = 2;
    expect(actionOf(decide(pinned, plan(), fin))).toEqual({ type: "releaseBluePin", min: 1 });
    const unsuspended = done();
    unsuspended.blue!.asg!.suspended = [];
    expect(actionOf(decide(unsuspended, plan(), fin))?.type).toBe("suspendStandby");
    const untagged = done();
    untagged.green!.role = "green";
    expect(actionOf(decide(untagged, plan(), fin))).toEqual({
      type: "tagRole",
      group: "web-prod-v002",
      role: "live",
    });
    expect(decide(done(), plan(), fin)).toEqual({ kind: "done", outcome: "completed" });
  });
});

describe("nextAction while rolling back", () => {
  const rb = cursor({
    phase: "rolling-back",
    stepIndex: 1,
    blueOriginalMin: 1,
    failure: { code: "GATE_FAILED", message: "x" },
  });
  const at25 = () =>
    world({
      traffic: {
        targetGroups: [
          { targetGroupArn: BLUE_TG, weight: 75 },
          { targetGroupArn: OLD_TG, weight: 0 },
          { targetGroupArn: GREEN_TG, weight: 25 },
        ],
        stickiness: { enabled: true, durationSeconds: 3600 },
        forwarding: true,
      },
    });

  it("moves all traffic to blue in one listener change, green out, stickiness off", () => {
    expect(actionOf(decide(at25(), plan(), rb))).toEqual({
      type: "setTraffic",
      purpose: "rollback",
      targetGroups: [
        { targetGroupArn: BLUE_TG, weight: 100 },
        { targetGroupArn: OLD_TG, weight: 0 },
      ],
      stickinessSeconds: 0,
    });
  });

  it("then releases blue's pin and deletes green's group, target group and launch template", () => {
    const back = world({
      traffic: {
        targetGroups: [
          { targetGroupArn: BLUE_TG, weight: 100 },
          { targetGroupArn: OLD_TG, weight: 0 },
        ],
        stickiness: { enabled: false, durationSeconds: 0 },
        forwarding: true,
      },
    });
    back.blue!.asg!.min = 2;
    expect(actionOf(decide(back, plan(), rb))).toEqual({ type: "releaseBluePin", min: 1 });
    back.blue!.asg!.min = 1;
    expect(actionOf(decide(back, plan(), rb))?.type).toBe("deleteGreenGroup");
    back.green!.asg!.deleting = true;
    expect(decide(back, plan(), rb).kind).toBe("wait");
    back.green = undefined;
    expect(actionOf(decide(back, plan(), rb))?.type).toBe("deleteGreenTargetGroup");
    back.greenTargetGroupArn = undefined;
    expect(actionOf(decide(back, plan(), rb))?.type).toBe("deleteGreenLaunchTemplate");
    back.greenLaunchTemplateId = undefined;
    expect(decide(back, plan(), rb)).toEqual({ kind: "done", outcome: "rolled-back" });
  });

  it("after finalize had begun, resumes blue's alarms and schedules and tags it live again", () => {
    const back = world({
      traffic: {
        targetGroups: [
          { targetGroupArn: BLUE_TG, weight: 100 },
          { targetGroupArn: OLD_TG, weight: 0 },
        ],
        stickiness: { enabled: false, durationSeconds: 0 },
        forwarding: true,
      },
    });
    back.blue!.asg!.min = 1;
    back.blue!.asg!.suspended = ["AlarmNotification", "ScheduledActions"];
    back.blue!.role = "standby";
    expect(actionOf(decide(back, plan(), rb))).toEqual({
      type: "resumeBlue",
      processes: ["AlarmNotification", "ScheduledActions"],
    });
    back.blue!.asg!.suspended = [];
    expect(actionOf(decide(back, plan(), rb))).toEqual({
      type: "tagRole",
      group: "web-prod-v001",
      role: "live",
    });
  });

  it("restores the pre-swap action, bringing back a standby that finalize had pruned", () => {
    const pruned = world({
      traffic: {
        targetGroups: [
          { targetGroupArn: GREEN_TG, weight: 100 },
          { targetGroupArn: BLUE_TG, weight: 0 },
        ],
        stickiness: { enabled: false, durationSeconds: 0 },
        forwarding: true,
      },
    });
    expect(actionOf(decide(pruned, plan(), rb))).toMatchObject({
      targetGroups: [
        { targetGroupArn: BLUE_TG, weight: 100 },
        { targetGroupArn: OLD_TG, weight: 0 },
      ],
    });
  });

  it("with keepFailed, tags green failed and keeps it", () => {
    const back = world({
      traffic: {
        targetGroups: [
          { targetGroupArn: BLUE_TG, weight: 100 },
          { targetGroupArn: OLD_TG, weight: 0 },
        ],
        stickiness: { enabled: false, durationSeconds: 0 },
        forwarding: true,
      },
    });
    back.blue!.asg!.min = 1;
    expect(actionOf(decide(back, plan({ keepFailed: true }), rb))).toEqual({
      type: "tagRole",
      group: "web-prod-v002",
      role: "failed",
    });
  });
});

describe("shiftWeights", () => {
  it("always sums to 100, with every weight in 0–100 and green at the step", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 3 }),
        (weight, others) => {
          const traffic = {
            ...world().traffic,
            targetGroups: [
              { targetGroupArn: BLUE_TG, weight: 100 },
              ...Array.from({ length: others }, (_, i) => ({
                targetGroupArn: `arn:tg/o${i}`,
                weight: 0,
              })),
            ],
          };
          const w = shiftWeights(traffic, plan(), GREEN_TG, weight);
          expect(w.reduce((a, t) => a + t.weight, 0)).toBe(100);
          expect(w.every((t) => t.weight >= 0 && t.weight <= 100)).toBe(true);
          expect(w.find((t) => t.targetGroupArn === GREEN_TG)?.weight).toBe(weight);
        },
      ),
    );
  });
});

describe("nextAction: what others did and asked", () => {
  const shifting = (c: Partial<SwapCursor> = {}) =>
    cursor({ phase: "shifting", stepIndex: 0, blueOriginalMin: 1, bakeStartedAt: NOW - 10, ...c });
  const at5 = world({
    traffic: {
      targetGroups: [
        { targetGroupArn: BLUE_TG, weight: 95 },
        { targetGroupArn: GREEN_TG, weight: 5 },
      ],
      stickiness: { enabled: true, durationSeconds: 3600 },
      forwarding: true,
    },
  });
  const byHand = world({
    traffic: {
      targetGroups: [
        { targetGroupArn: BLUE_TG, weight: 100 },
        { targetGroupArn: GREEN_TG, weight: 0 },
      ],
      stickiness: { enabled: true, durationSeconds: 3600 },
      forwarding: true,
    },
  });
  const wrote5 = [
    { targetGroupArn: BLUE_TG, weight: 95 },
    { targetGroupArn: GREEN_TG, weight: 5 },
  ];

  it("a listener unlike what the swap last wrote is drift: stop, change nothing", () => {
    const d = nextAction(byHand, plan(), shifting({ traffic: wrote5 }));
    expect(d).toMatchObject({
      kind: "drift",
      drift: { expected: wrote5, found: byHand.traffic.targetGroups },
    });
    if (d.kind === "drift")
      expect(d.drift.what).toContain("expected arn:tg/blue=95, arn:tg/green=5");
  });

  it("the listener the swap was about to set (a crash before its record write) is not drift", () => {
    // cursor says 25 % was last written; the listener shows step 2's weights: the swap's own
    const at25 = world({
      traffic: {
        ...at5.traffic,
        targetGroups: [
          { targetGroupArn: BLUE_TG, weight: 75 },
          { targetGroupArn: GREEN_TG, weight: 25 },
        ],
      },
    });
    const c = shifting({ stepIndex: 1, bakeStartedAt: undefined, traffic: wrote5 });
    // first the record catches up with the listener, then the swap goes on from there
    expect(actionOf(nextAction(at25, plan(), c))).toEqual({
      type: "updateCursor",
      cursor: { traffic: at25.traffic.targetGroups },
      reason: "the listener shows the weights this swap set",
    });
    expect(
      actionOf(nextAction(at25, plan(), { ...c, traffic: at25.traffic.targetGroups })),
    ).toMatchObject({ type: "updateCursor", cursor: { bakeStartedAt: NOW } });
  });

  it("green deleted by someone else mid-shift is drift", () => {
    const d = nextAction({ ...at5, green: undefined }, plan(), shifting({ traffic: wrote5 }));
    expect(d).toMatchObject({ kind: "drift", drift: { what: expect.stringContaining("deleted") } });
  });

  it("an abort request, a cancel, or the AWS error budget spent rolls back, before anything else", () => {
    const abort = { abort: { by: "op@host (pid 1)", at: "t" } };
    for (const [s, code] of [
      [{ ...byHand, control: abort }, "ABORTED"],
      [{ ...byHand, cancelled: true }, "ABORTED"],
      [{ ...byHand, failures: 4 }, "AWS_ERROR"],
    ] as const) {
      expect(actionOf(nextAction(s, plan(), shifting({ traffic: wrote5 })))).toMatchObject({
        type: "updateCursor",
        cursor: { phase: "rolling-back", failure: { code } },
        consume: ["abort", "pause", "promote"],
      });
    }
    expect(nextAction({ ...at5, failures: 3 }, plan(), shifting({ traffic: wrote5 })).kind).toBe(
      "wait",
    );
  });

  it("pause holds before the first step, and a timed pause ends by itself", () => {
    expect(decide({ ...world(), control: HOLD }, plan(), cursor())).toMatchObject({
      kind: "wait",
      reason: "paused before the first step (promote to go on)",
    });
    const timed = { pause: { until: NOW + 5_000, by: "op", at: "t" } };
    expect(
      decide({ ...at5, control: timed }, plan(), shifting({ bakeStartedAt: NOW - 120_000 })),
    ).toMatchObject({
      kind: "wait",
      until: NOW + 5_000,
    });
    const over = { pause: { until: NOW - 1, by: "op", at: "t" } };
    expect(
      actionOf(
        decide({ ...at5, control: over }, plan(), shifting({ bakeStartedAt: NOW - 120_000 })),
      ),
    ).toMatchObject({ cursor: { stepIndex: 1 } });
  });

  it("promote --full skips the remaining steps; a promote of a step already past is dropped", () => {
    const full = { promote: { step: 1, full: true, by: "op", at: "t" } };
    expect(actionOf(decide({ ...at5, control: full }, plan(), shifting()))).toMatchObject({
      cursor: { phase: "finalizing" },
      consume: ["promote", "pause"],
    });
    const late = { promote: { step: 1, full: false, by: "op", at: "t" } };
    const at25 = world({
      traffic: {
        ...at5.traffic,
        targetGroups: [
          { targetGroupArn: BLUE_TG, weight: 75 },
          { targetGroupArn: GREEN_TG, weight: 25 },
        ],
      },
    });
    expect(
      actionOf(
        decide({ ...at25, control: late }, plan(), shifting({ stepIndex: 1, bakeStartedAt: NOW })),
      ),
    ).toMatchObject({
      type: "updateCursor",
      cursor: {},
      consume: ["promote"],
    });
  });
});

describe("nextAction: green leaves only after its traffic has", () => {
  const rollingBack = (c: Partial<SwapCursor> = {}) =>
    cursor({ phase: "rolling-back", stepIndex: 1, blueOriginalMin: 2, ...c });
  const restored = world({
    traffic: {
      targetGroups: [
        { targetGroupArn: BLUE_TG, weight: 100 },
        { targetGroupArn: OLD_TG, weight: 0 },
      ],
      stickiness: { enabled: false, durationSeconds: 0 },
      forwarding: true,
    },
  });
  const p = plan({ drainMs: 20_000 });

  it("waits out the listener's propagation and the deregistration delay before deleting green", () => {
    const d = decide(restored, p, rollingBack({ trafficMovedAt: NOW - 5_000 }));
    expect(d).toMatchObject({ kind: "wait", until: NOW + 15_000 });
    expect(actionOf(decide(restored, p, rollingBack({ trafficMovedAt: NOW - 20_000 })))).toEqual({
      type: "deleteGreenGroup",
    });
  });

  it("a green that never had traffic (before its first step) goes at once", () => {
    expect(
      actionOf(decide(restored, p, rollingBack({ stepIndex: -1, trafficMovedAt: NOW }))),
    ).toEqual({ type: "deleteGreenGroup" });
  });
});

describe("nextAction after a crash between a listener change and its record write", () => {
  it("green referenced by the swap itself (the record not yet saying so) is not drift", () => {
    // the record still holds the action from before the swap; the listener already has green at 0
    const s = world({ green: undefined });
    const before = [
      { targetGroupArn: BLUE_TG, weight: 100 },
      { targetGroupArn: OLD_TG, weight: 0 },
    ];
    const withGreen = world({
      green: undefined,
      traffic: { ...s.traffic, targetGroups: [...before, { targetGroupArn: GREEN_TG, weight: 0 }] },
    });
    expect(actionOf(nextAction(withGreen, plan(), cursor({ traffic: before })))).toMatchObject({
      type: "updateCursor",
      cursor: { traffic: withGreen.traffic.targetGroups },
    });
    const caughtUp = cursor({ traffic: withGreen.traffic.targetGroups });
    expect(actionOf(nextAction(withGreen, plan(), caughtUp))?.type).toBe("createGroup");
    // anything else is someone else's change
    const other = world({
      green: undefined,
      traffic: { ...s.traffic, targetGroups: [{ targetGroupArn: OLD_TG, weight: 100 }] },
    });
    expect(nextAction(other, plan(), cursor({ traffic: before })).kind).toBe("drift");
  });
});

describe("nextAction: metric gates", () => {
  const shifting = (c: Partial<SwapCursor> = {}) =>
    cursor({ phase: "shifting", stepIndex: 0, blueOriginalMin: 1, ...c });
  const at5 = (overrides: Partial<Snapshot> = {}) =>
    world({
      traffic: {
        targetGroups: [
          { targetGroupArn: BLUE_TG, weight: 95 },
          { targetGroupArn: GREEN_TG, weight: 5 },
        ],
        stickiness: { enabled: true, durationSeconds: 3600 },
        forwarding: true,
      },
      ...overrides,
    });
  const analysis: AnalysisPlan = {
    loadBalancer: "app/web/1",
    periodMs: 60_000,
    lagMs: 60_000,
    maxExtensionMs: 300_000,
    onInsufficientData: "fail",
    alpha: 0.01,
    minDifference: 0.005,
    minRequests: 500,
  };
  const gated = (a: Partial<AnalysisPlan> = {}) =>
    plan({
      alarms: { names: ["web-5xx"], unreadable: "fail" },
      analysis: { ...analysis, ...a },
    });
  const figures: VerdictFigures = {
    green: { requests: 1500, errors: 3, rate: 0.002 },
    blue: { requests: 28_500, errors: 29, rate: 0.001 },
    pValue: 0.41,
    window: { start: 0, end: 1 },
  };
  // the bake of step 1 started 60 s ago (a 60 s bake); the judge may read it 120 s after its end
  const BAKE = NOW - 60_000;
  const DUE = BAKE + 60_000 + 60_000 + 60_000;
  const verdict = (result: AnalysisVerdict["result"], over: Partial<AnalysisVerdict> = {}) => ({
    step: 1,
    bakeStartedAt: BAKE,
    result,
    sentence: `green 5xx … : ${result}`,
    figures,
    at: NOW,
    ...over,
  });

  it("rolls back when an alarm is in ALARM, naming it with its reason", () => {
    const s = at5({
      alarms: {
        states: [
          { name: "web-ok", state: "OK", reason: "" },
          { name: "web-5xx", state: "ALARM", reason: "Threshold Crossed: 1 datapoint [5.0]" },
        ],
      },
    });
    expect(actionOf(decide(s, gated(), shifting({ bakeStartedAt: NOW - 1 })))).toMatchObject({
      cursor: {
        phase: "rolling-back",
        failure: {
          code: "ALARM_FIRED",
          message: "alarm web-5xx is in ALARM: Threshold Crossed: 1 datapoint [5.0]",
          details: { alarm: { name: "web-5xx", reason: "Threshold Crossed: 1 datapoint [5.0]" } },
        },
      },
    });
  });

  it("OK and INSUFFICIENT_DATA alarms hold", () => {
    const s = at5({
      alarms: {
        states: [
          { name: "a", state: "OK", reason: "" },
          { name: "b", state: "INSUFFICIENT_DATA", reason: "" },
        ],
      },
    });
    expect(decide(s, gated(), shifting({ bakeStartedAt: NOW - 1 }))).toMatchObject({
      kind: "wait",
      reason: "baking at 5%",
    });
  });

  it("unreadable alarms fail the step, unless alarmsUnreadable is ignore", () => {
    const s = at5({ alarms: { states: [], error: "Throttling" } });
    const c = shifting({ bakeStartedAt: NOW - 1 });
    expect(actionOf(decide(s, gated(), c))).toMatchObject({
      cursor: { failure: { code: "GATE_FAILED", details: { gate: { name: "alarms" } } } },
    });
    const lenient = { ...gated(), alarms: { names: ["web-5xx"], unreadable: "ignore" as const } };
    expect(decide(s, lenient, c)).toMatchObject({ kind: "wait", reason: "baking at 5%" });
  });

  it("waits after the bake until its last period is published", () => {
    const d = decide(at5(), gated(), shifting({ bakeStartedAt: BAKE }));
    expect(d).toMatchObject({ kind: "wait", until: DUE, progress: { until: DUE } });
    expect(d.kind === "wait" && d.reason).toMatch(/waiting for CloudWatch/);
  });

  it("waits for the verdict once due, then moves on when it passes", () => {
    const c = shifting({ bakeStartedAt: BAKE });
    const due = { now: DUE };
    expect(decide(at5(due), gated(), c)).toMatchObject({
      kind: "wait",
      reason: "judging green against blue at 5%",
    });
    // a verdict on another bake is not this step's
    const stale = at5({ ...due, verdict: verdict("pass", { bakeStartedAt: BAKE - 1 }) });
    expect(decide(stale, gated(), c).kind).toBe("wait");
    // the verdict goes into the record with the cursor, for `status`
    expect(actionOf(decide(at5({ ...due, verdict: verdict("pass") }), gated(), c))).toMatchObject({
      cursor: {
        stepIndex: 1,
        bakeStartedAt: undefined,
        lastVerdict: { step: 1, result: "pass", sentence: "green 5xx … : pass" },
      },
    });
  });

  it("rolls back on a failing verdict with its sentence and figures", () => {
    const s = at5({ now: DUE, verdict: verdict("fail") });
    expect(actionOf(decide(s, gated(), shifting({ bakeStartedAt: BAKE })))).toMatchObject({
      cursor: {
        phase: "rolling-back",
        failure: {
          code: "ANALYSIS_FAILED",
          message: "the judge failed green at 5%: green 5xx … : fail",
          details: { verdict: { sentence: "green 5xx … : fail", figures } },
        },
      },
    });
  });

  it("extends the bake on insufficient data, then fails or passes per onInsufficientData", () => {
    const c = shifting({ bakeStartedAt: BAKE });
    const limit = DUE + 300_000;
    const extended = decide(at5({ now: DUE + 1000, verdict: verdict("insufficient") }), gated(), c);
    expect(extended).toMatchObject({ kind: "wait", until: limit });
    expect(extended.kind === "wait" && extended.reason).toMatch(/too little traffic/);

    const spent = at5({ now: limit, verdict: verdict("insufficient") });
    expect(actionOf(decide(spent, gated(), c))).toMatchObject({
      cursor: { failure: { code: "ANALYSIS_FAILED" } },
    });
    expect(actionOf(decide(spent, gated({ onInsufficientData: "pass" }), c))).toMatchObject({
      cursor: { stepIndex: 1 },
    });
  });

  it("does not judge the 100% step, a first deploy, or a swap without analysis", () => {
    const last = shifting({ stepIndex: 2, bakeStartedAt: BAKE });
    expect(analysisDueAt(gated(), last)).toBeUndefined();
    expect(analysisDueAt({ ...gated(), blue: null }, shifting({ bakeStartedAt: BAKE }))).toBe(
      undefined,
    );
    expect(analysisDueAt(plan(), shifting({ bakeStartedAt: BAKE }))).toBeUndefined();
    expect(analysisDueAt(gated(), shifting({ bakeStartedAt: BAKE }))).toBe(DUE);
  });
});
