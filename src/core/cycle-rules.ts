/**
 * A cycle's decider: the live group's instances replaced a batch at a time. A batch is taken out
 * only while every desired instance is in service and healthy behind the listener, so healthy
 * capacity never drops below desired − batch; the group drains each one (deregistration delay)
 * before it terminates it, and launches its replacement. Pure, a list of named rules like the
 * deploy's and the rollback's.
 */
import { type Decision, decideBy, isHealthy } from "./decide.js";
import type { ControlRequests, GroupView } from "./swap-model.js";

export interface CyclePlan {
  group: string;
  targetGroupArn: string;
  /** instances to replace, in order */
  instances: string[];
  batch: number;
  /** the group's desired capacity when the cycle began */
  desired: number;
  healthyTimeoutMs: number;
}

export type CycleAction = { type: "replaceInstances"; instances: string[] };

export interface CycleSnapshot {
  now: number;
  group?: GroupView;
  control?: ControlRequests;
  cancelled?: boolean;
}

export interface CycleCursor {
  /** instances this cycle has asked the group to replace */
  replaced: string[];
  /** when the last batch went, for the healthy timeout */
  batchAt?: number;
}

type Rule = (
  s: CycleSnapshot,
  plan: CyclePlan,
  c: CycleCursor,
) => Decision<CycleAction> | undefined;

const CYCLING: Array<[string, Rule]> = [
  [
    "cancelled or aborted → stop between batches",
    (s) =>
      s.cancelled || s.control?.abort
        ? {
            kind: "stopped",
            code: "ABORTED",
            message: s.control?.abort
              ? `the cycle was aborted by ${s.control.abort.by}`
              : "the cycle was cancelled",
          }
        : undefined,
  ],
  [
    "the group exists",
    (s, plan) =>
      s.group?.asg
        ? undefined
        : { kind: "stopped", code: "ABORTED", message: `${plan.group} no longer exists` },
  ],
  [
    "every desired instance healthy before the next batch",
    (s, plan, c) => {
      const group = s.group!;
      const replacing = group.asg!.instances.filter((i) => c.replaced.includes(i.id));
      if (replacing.length === 0 && isHealthy(group, plan.desired)) return undefined;
      if (c.batchAt !== undefined && s.now - c.batchAt > plan.healthyTimeoutMs) {
        return {
          kind: "stopped",
          code: "GREEN_UNHEALTHY",
          message: `${plan.group} was not back to ${plan.desired} healthy instances within ${Math.round(plan.healthyTimeoutMs / 1000)}s of its last batch (${group.health?.healthy ?? 0} healthy)`,
        };
      }
      return {
        kind: "wait",
        reason: `waiting for ${plan.group} to be back at ${plan.desired} healthy${replacing.length ? ` (${replacing.length} leaving)` : ""}`,
        ...(c.batchAt === undefined
          ? {}
          : { progress: { startedAt: c.batchAt, until: c.batchAt + plan.healthyTimeoutMs } }),
      };
    },
  ],
  [
    "the next batch",
    (s, plan, c) => {
      const present = new Set(s.group!.asg!.instances.map((i) => i.id));
      const next = plan.instances
        .filter((id) => !c.replaced.includes(id) && present.has(id))
        .slice(0, plan.batch);
      return next.length > 0
        ? { kind: "act", action: { type: "replaceInstances", instances: next } }
        : undefined;
    },
  ],
  ["every instance replaced", () => ({ kind: "done", outcome: "completed" })],
];

export function nextCycleAction(
  s: CycleSnapshot,
  plan: CyclePlan,
  cursor: CycleCursor,
): Decision<CycleAction> {
  return decideBy(CYCLING, s, plan, cursor);
}
