/**
 * A rollback's decider: the group that was live before the last change back to 100% in one
 * listener change, then the bookkeeping that makes it live in every respect. Like a deploy's
 * phases, a list of named rules tried in order; pure, so every case is a table test.
 *
 * Before traffic moves, a cancel (Ctrl-C) or an abort request ends the rollback at once with no
 * further change. After it moved, the rollback finishes its bookkeeping.
 */
import {
  type Decision,
  decideBy,
  isHealthy,
  isInAction,
  STANDBY_SUSPENDED,
  sameWeights,
  stickinessNow,
} from "./decide.js";
import type {
  ControlRequests,
  GroupView,
  RollbackPlan,
  SwapCursor,
  TrafficView,
  Weighted,
} from "./swap-model.js";

export type RollbackAction =
  /** the target's target group into the action at weight 0, so it is health-checked */
  | { type: "referenceTarget"; targetGroups: Weighted[]; stickinessSeconds: number }
  | { type: "scaleTarget"; desired: number; max: number }
  | { type: "setTraffic"; targetGroups: Weighted[] }
  | { type: "resumeTarget"; processes: string[] }
  | { type: "suspendPrevious"; group: string }
  | { type: "tagRole"; group: string; role: "live" | "standby" };

export interface RollbackSnapshot {
  now: number;
  traffic: TrafficView;
  /** the group becoming live; health from its target group (or, on the first pass, its instances) */
  to?: GroupView;
  from?: GroupView;
  control?: ControlRequests;
  cancelled?: boolean;
  failures?: number;
}

export type RollbackDecision = Decision<RollbackAction>;

type Rule = (
  s: RollbackSnapshot,
  plan: RollbackPlan,
  c: SwapCursor,
) => RollbackDecision | undefined;

const act = (action: RollbackAction): RollbackDecision => ({ kind: "act", action });

const RESTORING: Array<[string, Rule]> = [
  [
    "cancelled before traffic moved → stop, change nothing more",
    (s, _plan, c) => {
      if (c.trafficMovedAt !== undefined) return undefined;
      if (s.control?.abort) {
        return {
          kind: "stopped",
          code: "ABORTED",
          message: `the rollback was aborted by ${s.control.abort.by} before traffic moved`,
        };
      }
      if (s.cancelled)
        return {
          kind: "stopped",
          code: "ABORTED",
          message: "the rollback was cancelled before traffic moved",
        };
      return undefined;
    },
  ],
  [
    "the target is health-checked",
    (s, plan, c) => {
      if (c.trafficMovedAt !== undefined || isInAction(s.traffic, plan.to.targetGroupArn))
        return undefined;
      return act({
        type: "referenceTarget",
        targetGroups: [
          ...s.traffic.targetGroups,
          { targetGroupArn: plan.to.targetGroupArn, weight: 0 },
        ],
        stickinessSeconds: stickinessNow(s.traffic),
      });
    },
  ],
  [
    "the target has the live group's capacity",
    (s, plan, c) => {
      const asg = s.to?.asg;
      if (c.trafficMovedAt !== undefined || !asg || asg.desired >= plan.desired) return undefined;
      return act({
        type: "scaleTarget",
        desired: plan.desired,
        max: Math.max(asg.max, plan.desired),
      });
    },
  ],
  [
    "the target is healthy",
    (s, plan, c) => {
      if (c.trafficMovedAt !== undefined) return undefined;
      if (s.to && isHealthy(s.to, plan.desired)) return undefined;
      if (s.now - c.launchStartedAt > plan.healthyTimeoutMs) {
        return {
          kind: "stopped",
          code: "GREEN_UNHEALTHY",
          message: `${plan.to.name} did not become healthy within ${Math.round(plan.healthyTimeoutMs / 1000)}s (${s.to?.health?.healthy ?? 0}/${plan.desired} healthy); traffic was not moved`,
        };
      }
      return {
        kind: "wait",
        reason: `waiting for ${plan.to.name} to be healthy`,
        progress: {
          startedAt: c.launchStartedAt,
          until: c.launchStartedAt + plan.healthyTimeoutMs,
        },
      };
    },
  ],
  [
    "traffic on the target in one listener change",
    (s, plan) => {
      const wanted = rollbackWeights(s.traffic, plan);
      if (sameWeights(s.traffic.targetGroups, wanted) && stickinessNow(s.traffic) === 0)
        return undefined;
      return act({ type: "setTraffic", targetGroups: wanted });
    },
  ],
  [
    "the target's alarms and schedules back on",
    (s) => {
      const processes = STANDBY_SUSPENDED.filter((p) => s.to?.asg?.suspended.includes(p));
      return processes.length > 0 ? act({ type: "resumeTarget", processes }) : undefined;
    },
  ],
  [
    "the previous live group keeps its capacity as the standby",
    (s) => {
      const asg = s.from?.asg;
      if (!s.from || !asg || STANDBY_SUSPENDED.every((p) => asg.suspended.includes(p)))
        return undefined;
      return act({ type: "suspendPrevious", group: s.from.name });
    },
  ],
  [
    "the target tagged live",
    (s, plan) =>
      s.to && s.to.role !== "live"
        ? act({ type: "tagRole", group: plan.to.name, role: "live" })
        : undefined,
  ],
  [
    "the previous live group tagged standby",
    (s) =>
      s.from?.asg && s.from.role !== "standby"
        ? act({ type: "tagRole", group: s.from.name, role: "standby" })
        : undefined,
  ],
  ["completed", () => ({ kind: "done", outcome: "completed" })],
];

export function nextRollbackAction(
  s: RollbackSnapshot,
  plan: RollbackPlan,
  cursor: SwapCursor,
): RollbackDecision {
  return decideBy(RESTORING, s, plan, cursor);
}

/** Every group in the action kept, the target at 100 and the rest at 0. */
export function rollbackWeights(traffic: TrafficView, plan: RollbackPlan): Weighted[] {
  const out = traffic.targetGroups.map((t) => ({
    targetGroupArn: t.targetGroupArn,
    weight: t.targetGroupArn === plan.to.targetGroupArn ? 100 : 0,
  }));
  if (!out.some((t) => t.targetGroupArn === plan.to.targetGroupArn)) {
    out.unshift({ targetGroupArn: plan.to.targetGroupArn, weight: 100 });
  }
  return out;
}
