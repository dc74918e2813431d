import { describe, expect, it } from "vitest";
import { nextRollbackAction, type RollbackSnapshot } from "../../../src/core/rollback-rules.js";
import type { GroupView, RollbackPlan, SwapCursor } from "../../../src/core/swap-model.js";

const NOW = 1_000_000;
const LIVE_TG = "arn:tg/v002";
const TARGET_TG = "arn:tg/v001";

const plan: RollbackPlan = {
  to: { name: "web-prod-v001", targetGroupArn: TARGET_TG, release: "r1" },
  from: { name: "web-prod-v002", targetGroupArn: LIVE_TG, release: "r2" },
  desired: 2,
  healthyTimeoutMs: 60_000,
};

function group(
  name: string,
  role: GroupView["role"],
  o: Partial<NonNullable<GroupView["asg"]>> = {},
  healthy = 2,
): GroupView {
  return {
    name,
    sequence: 1,
    release: "",
    role,
    asg: {
      min: 1,
      max: 4,
      desired: 2,
      deleting: false,
      suspended: [],
      instances: Array.from({ length: healthy }, (_, i) => ({
        id: `i-${i}`,
        lifecycle: "InService",
        health: "Healthy",
      })),
      ...o,
    },
    health: {
      healthy,
      unhealthy: 0,
      initial: 0,
      draining: 0,
      unused: 0,
      total: healthy,
      unhealthyTargets: [],
    },
  };
}

const STANDBY = ["AlarmNotification", "ScheduledActions"];

function world(o: Partial<RollbackSnapshot> = {}): RollbackSnapshot {
  return {
    now: NOW,
    traffic: {
      targetGroups: [
        { targetGroupArn: LIVE_TG, weight: 100 },
        { targetGroupArn: TARGET_TG, weight: 0 },
      ],
      stickiness: { enabled: false, durationSeconds: 0 },
      forwarding: true,
    },
    to: group("web-prod-v001", "standby", { suspended: STANDBY }),
    from: group("web-prod-v002", "live"),
    ...o,
  };
}

const cursor = (c: Partial<SwapCursor> = {}): SwapCursor => ({
  phase: "restoring",
  stepIndex: -1,
  launchStartedAt: NOW - 1_000,
  ...c,
});

const moved = {
  targetGroups: [
    { targetGroupArn: LIVE_TG, weight: 0 },
    { targetGroupArn: TARGET_TG, weight: 100 },
  ],
  stickiness: { enabled: false, durationSeconds: 0 },
  forwarding: true,
};

describe("nextRollbackAction", () => {
  it("a ready standby: the listener change is the first action", () => {
    expect(nextRollbackAction(world(), plan, cursor())).toEqual({
      kind: "act",
      action: { type: "setTraffic", targetGroups: moved.targetGroups },
    });
  });

  it("a target out of the action is referenced at weight 0 first, keeping stickiness", () => {
    const s = world({
      traffic: {
        ...world().traffic,
        targetGroups: [{ targetGroupArn: LIVE_TG, weight: 100 }],
        stickiness: { enabled: true, durationSeconds: 60 },
      },
    });
    expect(nextRollbackAction(s, plan, cursor())).toMatchObject({
      action: {
        type: "referenceTarget",
        targetGroups: [
          { targetGroupArn: LIVE_TG, weight: 100 },
          { targetGroupArn: TARGET_TG, weight: 0 },
        ],
        stickinessSeconds: 60,
      },
    });
  });

  it("a target below the live group's capacity is scaled up, then waited for, then timed out", () => {
    const small = world({ to: group("web-prod-v001", "standby", { desired: 1 }, 1) });
    expect(nextRollbackAction(small, plan, cursor())).toMatchObject({
      action: { type: "scaleTarget", desired: 2, max: 4 },
    });
    const starting = world({ to: group("web-prod-v001", "standby", {}, 1) });
    expect(nextRollbackAction(starting, plan, cursor()).kind).toBe("wait");
    expect(
      nextRollbackAction(starting, plan, cursor({ launchStartedAt: NOW - 60_001 })),
    ).toMatchObject({
      kind: "stopped",
      code: "GREEN_UNHEALTHY",
    });
  });

  it("a cancel or an abort before traffic moved stops with nothing more changed; after, it finishes", () => {
    const starting = world({ to: group("web-prod-v001", "standby", {}, 1) });
    expect(nextRollbackAction({ ...starting, cancelled: true }, plan, cursor())).toMatchObject({
      kind: "stopped",
      code: "ABORTED",
    });
    expect(
      nextRollbackAction(
        { ...starting, control: { abort: { by: "op", at: "t" } } },
        plan,
        cursor(),
      ),
    ).toMatchObject({ kind: "stopped", code: "ABORTED" });
    const after = world({ traffic: moved, cancelled: true });
    expect(nextRollbackAction(after, plan, cursor({ trafficMovedAt: NOW }))).toMatchObject({
      action: { type: "resumeTarget", processes: STANDBY },
    });
  });

  it("after the listener change: alarms back on the target, off the old live group, roles, done", () => {
    const c = cursor({ trafficMovedAt: NOW });
    const steps: RollbackSnapshot[] = [
      world({ traffic: moved, to: group("web-prod-v001", "standby", {}) }),
      world({
        traffic: moved,
        to: group("web-prod-v001", "standby", {}),
        from: group("web-prod-v002", "live", { suspended: STANDBY }),
      }),
      world({
        traffic: moved,
        to: group("web-prod-v001", "live", {}),
        from: group("web-prod-v002", "live", { suspended: STANDBY }),
      }),
      world({
        traffic: moved,
        to: group("web-prod-v001", "live", {}),
        from: group("web-prod-v002", "standby", { suspended: STANDBY }),
      }),
    ];
    expect(
      steps.map((s) => {
        const d = nextRollbackAction(s, plan, c);
        return d.kind === "act" ? d.action.type : d.kind;
      }),
    ).toEqual(["suspendPrevious", "tagRole", "tagRole", "done"]);
  });
});
