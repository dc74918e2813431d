/**
 * `nextAction`: the pure heart of a swap. Given what was observed, the plan and the cursor, it
 * names the one change to make next, or says to wait, or that the swap has ended. Every action
 * converges the world toward the plan and is safe to repeat, so a crashed swap resumes by
 * observing again.
 */
import type {
  GroupView,
  Role,
  Snapshot,
  SwapCursor,
  SwapPlan,
  TrafficView,
  Weighted,
} from "./swap-model.js";

export type Action =
  | { type: "createLaunchTemplate" }
  | { type: "createTargetGroup" }
  /** first deploy: a rule that never matches, so green's target group is health-checked */
  | { type: "createWarmupRule" }
  | { type: "deleteWarmupRule"; ruleArn: string }
  | { type: "createGroup" }
  | { type: "pinBlue"; originalMin: number; min: number }
  | { type: "releaseBluePin"; min: number }
  | {
      type: "setTraffic";
      purpose: "reference-green" | "shift" | "finalize" | "rollback";
      targetGroups: Weighted[];
      stickinessSeconds: number;
    }
  /** first deploy rolled back: put back the listener's original actions (e.g. the fixed 503) */
  | { type: "restoreTraffic" }
  | { type: "suspendStandby"; group: string }
  /** a rollback after finalize began: blue's alarms and schedules back on */
  | { type: "resumeBlue"; processes: string[] }
  | { type: "tagRole"; group: string; role: Role }
  | { type: "deleteGreenGroup" }
  | { type: "deleteGreenTargetGroup" }
  | { type: "deleteGreenLaunchTemplate" }
  | { type: "updateCursor"; cursor: Partial<SwapCursor>; reason: string };

export type Decision =
  | { kind: "act"; action: Action }
  | { kind: "wait"; reason: string; until?: number }
  | { kind: "done"; outcome: "completed" | "rolled-back" };

/** Processes suspended on a standby so it keeps its capacity at weight 0. */
export const STANDBY_SUSPENDED = ["AlarmNotification", "ScheduledActions"] as const;

const act = (action: Action): Decision => ({ kind: "act", action });
const fail = (code: string, message: string): Decision =>
  act({
    type: "updateCursor",
    cursor: { phase: "rolling-back", failure: { code, message }, bakeStartedAt: undefined },
    reason: message,
  });

export function nextAction(s: Snapshot, plan: SwapPlan, cursor: SwapCursor): Decision {
  if (cursor.phase === "rolling-back") return rollingBack(s, plan, cursor);
  if (cursor.phase === "finalizing") return finalizing(s, plan, cursor);

  // launching: the green server group, health-checked through the listener at weight 0
  if (!s.greenLaunchTemplateId) return act({ type: "createLaunchTemplate" });
  if (!s.greenTargetGroupArn) return act({ type: "createTargetGroup" });
  const greenTg = s.greenTargetGroupArn;
  if (!isReferenced(s.traffic, greenTg)) {
    if (s.traffic.forwarding && plan.blue) {
      return act({
        type: "setTraffic",
        purpose: "reference-green",
        targetGroups: [...s.traffic.targetGroups, { targetGroupArn: greenTg, weight: 0 }],
        stickinessSeconds: stickinessNow(s.traffic),
      });
    }
    return act({ type: "createWarmupRule" });
  }
  const green = s.green;
  if (!green?.asg) return act({ type: "createGroup" });
  if (green.launchFailure) {
    return fail("LAUNCH_FAILED", `green ${green.name} could not launch: ${green.launchFailure}`);
  }

  if (cursor.phase === "launching") {
    if (!isHealthy(green, plan.capacity.desired)) {
      if (s.now - cursor.launchStartedAt > plan.healthyTimeoutMs) {
        return fail(
          "GREEN_UNHEALTHY",
          `green ${green.name} ${healthSummary(green, plan)} after ${Math.round(plan.healthyTimeoutMs / 1000)}s`,
        );
      }
      return {
        kind: "wait",
        reason: `waiting for green ${green.name} to be healthy: ${healthSummary(green, plan)}`,
      };
    }
    return act({
      type: "updateCursor",
      cursor: { phase: "shifting", stepIndex: 0, bakeStartedAt: undefined },
      reason: `green ${green.name} is healthy`,
    });
  }

  // shifting
  const blue = s.blue;
  if (plan.blue && blue?.asg && cursor.blueOriginalMin === undefined) {
    return act({ type: "pinBlue", originalMin: blue.asg.min, min: blue.asg.desired });
  }
  const breach = gateBreach(s, green, plan);
  if (breach) return fail(breach.code, breach.message);

  const steps = effectiveSteps(plan);
  const index = Math.min(cursor.stepIndex, steps.length - 1);
  const weight = steps[index]!;
  const wanted = shiftWeights(s.traffic, plan, greenTg, weight);
  if (
    !sameWeights(s.traffic.targetGroups, wanted) ||
    stickinessNow(s.traffic) !== stickinessFor(plan, weight)
  ) {
    return act({
      type: "setTraffic",
      purpose: "shift",
      targetGroups: wanted,
      stickinessSeconds: stickinessFor(plan, weight),
    });
  }
  if (cursor.bakeStartedAt === undefined) {
    return act({
      type: "updateCursor",
      cursor: { bakeStartedAt: s.now },
      reason: `${weight}% of traffic on green; baking`,
    });
  }
  // an operator may hold the step past its bake (gates still run above) or end the bake early
  if (s.bake === "hold") {
    return { kind: "wait", reason: `holding at ${weight}% (gates still checked)` };
  }
  const bakeEnds = cursor.bakeStartedAt + plan.bakeMs;
  if (s.now < bakeEnds && s.bake !== "promote") {
    return { kind: "wait", reason: `baking at ${weight}%`, until: bakeEnds };
  }
  const promoted = s.now < bakeEnds;
  if (index < steps.length - 1) {
    return act({
      type: "updateCursor",
      cursor: { stepIndex: index + 1, bakeStartedAt: undefined },
      reason: `step ${weight}% ${promoted ? "promoted" : "baked"}`,
    });
  }
  return act({
    type: "updateCursor",
    cursor: { phase: "finalizing" },
    reason: promoted ? `step ${weight}% promoted` : "every step baked",
  });
}

function finalizing(s: Snapshot, plan: SwapPlan, cursor: SwapCursor): Decision {
  const greenTg = s.greenTargetGroupArn;
  if (!greenTg || !s.green) {
    return fail("SWAP_INCOMPLETE", `green ${plan.green.name} disappeared before the swap finished`);
  }
  // live + newest standby stay in the action; older standbys leave it (retire deletes them later)
  const wanted: Weighted[] = [{ targetGroupArn: greenTg, weight: 100 }];
  if (plan.blue) wanted.push({ targetGroupArn: plan.blue.targetGroupArn, weight: 0 });
  if (!sameWeights(s.traffic.targetGroups, wanted) || stickinessNow(s.traffic) !== 0) {
    return act({
      type: "setTraffic",
      purpose: "finalize",
      targetGroups: wanted,
      stickinessSeconds: 0,
    });
  }
  if (s.traffic.warmupRule)
    return act({ type: "deleteWarmupRule", ruleArn: s.traffic.warmupRule.arn });
  const blue = s.blue;
  const unpin = releasePin(blue, cursor);
  if (unpin) return unpin;
  if (blue?.asg && !STANDBY_SUSPENDED.every((p) => blue.asg?.suspended.includes(p))) {
    return act({ type: "suspendStandby", group: blue.name });
  }
  if (blue && blue.role !== "standby")
    return act({ type: "tagRole", group: blue.name, role: "standby" });
  if (s.green.role !== "live") return act({ type: "tagRole", group: s.green.name, role: "live" });
  return { kind: "done", outcome: "completed" };
}

function rollingBack(s: Snapshot, plan: SwapPlan, cursor: SwapCursor): Decision {
  // 1. traffic back on blue in one listener change: the action as it was before the swap,
  //    blue at 100, green out, stickiness off
  if (plan.blue) {
    const blueTg = plan.blue.targetGroupArn;
    const wanted = plan.originalTargetGroups
      .filter((t) => t.targetGroupArn !== s.greenTargetGroupArn)
      .map((t) => ({
        targetGroupArn: t.targetGroupArn,
        weight: t.targetGroupArn === blueTg ? 100 : 0,
      }));
    if (!wanted.some((t) => t.targetGroupArn === blueTg)) {
      wanted.unshift({ targetGroupArn: blueTg, weight: 100 });
    }
    if (!sameWeights(s.traffic.targetGroups, wanted) || stickinessNow(s.traffic) !== 0) {
      return act({
        type: "setTraffic",
        purpose: "rollback",
        targetGroups: wanted,
        stickinessSeconds: 0,
      });
    }
  } else if (s.greenTargetGroupArn && isInAction(s.traffic, s.greenTargetGroupArn)) {
    return act({ type: "restoreTraffic" });
  }
  if (s.traffic.warmupRule)
    return act({ type: "deleteWarmupRule", ruleArn: s.traffic.warmupRule.arn });
  // 2. blue's pin released
  const blue = s.blue;
  const unpin = releasePin(blue, cursor);
  if (unpin) return unpin;
  // 3. blue live again in every respect, if finalize had begun to make it the standby
  if (blue?.asg && plan.blue) {
    const before = plan.blue.suspended;
    const processes = STANDBY_SUSPENDED.filter(
      (p) => blue.asg?.suspended.includes(p) && !before.includes(p),
    );
    if (processes.length > 0) return act({ type: "resumeBlue", processes });
    if (blue.role !== "live") return act({ type: "tagRole", group: blue.name, role: "live" });
  }
  // 4. green kept (tagged failed) or removed
  if (plan.keepFailed) {
    if (s.green && s.green.role !== "failed") {
      return act({ type: "tagRole", group: s.green.name, role: "failed" });
    }
    return { kind: "done", outcome: "rolled-back" };
  }
  if (s.green?.asg) {
    if (s.green.asg.deleting) {
      return { kind: "wait", reason: `waiting for green ${s.green.name} to be deleted` };
    }
    return act({ type: "deleteGreenGroup" });
  }
  if (s.greenTargetGroupArn) return act({ type: "deleteGreenTargetGroup" });
  if (s.greenLaunchTemplateId) return act({ type: "deleteGreenLaunchTemplate" });
  return { kind: "done", outcome: "rolled-back" };
}

/** Blue's MinSize back to what it was before the swap pinned it, when it is not already. */
function releasePin(blue: GroupView | undefined, cursor: SwapCursor): Decision | undefined {
  const min = cursor.blueOriginalMin;
  if (blue?.asg && min !== undefined && blue.asg.min !== min) {
    return act({ type: "releaseBluePin", min });
  }
  return undefined;
}

/** A first deploy goes straight to 100%: there is no blue to share traffic with. */
export function effectiveSteps(plan: SwapPlan): number[] {
  return plan.blue ? plan.steps : [100];
}

/**
 * The forward action for a step: green at `weight`, blue at the rest, every other group kept
 * at 0 (standbys stay health-checked). Never a weight on a group that is not in the plan.
 */
export function shiftWeights(
  traffic: TrafficView,
  plan: SwapPlan,
  greenTg: string,
  weight: number,
): Weighted[] {
  const out: Weighted[] = [];
  const blueTg = plan.blue?.targetGroupArn;
  for (const t of traffic.targetGroups) {
    if (t.targetGroupArn === greenTg || t.targetGroupArn === blueTg) continue;
    out.push({ targetGroupArn: t.targetGroupArn, weight: 0 });
  }
  if (blueTg) out.unshift({ targetGroupArn: blueTg, weight: 100 - weight });
  out.push({ targetGroupArn: greenTg, weight });
  return out;
}

function stickinessFor(plan: SwapPlan, weight: number): number {
  return weight >= 100 ? 0 : plan.stickinessSeconds;
}

function stickinessNow(traffic: TrafficView): number {
  return traffic.stickiness.enabled ? traffic.stickiness.durationSeconds : 0;
}

/** Same target groups with the same weights, in any order. */
export function sameWeights(a: Weighted[], b: Weighted[]): boolean {
  if (a.length !== b.length) return false;
  const weights = new Map(a.map((t) => [t.targetGroupArn, t.weight]));
  return b.every((t) => weights.get(t.targetGroupArn) === t.weight);
}

function isInAction(traffic: TrafficView, tg: string): boolean {
  return traffic.targetGroups.some((t) => t.targetGroupArn === tg);
}

function isReferenced(traffic: TrafficView, tg: string): boolean {
  return isInAction(traffic, tg) || (traffic.warmupRule?.targetGroupArns.includes(tg) ?? false);
}

/** Every desired instance InService and every target healthy. */
export function isHealthy(group: GroupView, desired: number): boolean {
  const inService = group.asg?.instances.filter((i) => i.lifecycle === "InService").length ?? 0;
  const health = group.health;
  return (
    inService >= desired &&
    health !== undefined &&
    health.healthy >= desired &&
    health.unhealthy === 0 &&
    health.initial === 0
  );
}

function healthSummary(green: GroupView, plan: SwapPlan): string {
  const h = green.health;
  const inService = green.asg?.instances.filter((i) => i.lifecycle === "InService").length ?? 0;
  const parts = [`${h?.healthy ?? 0}/${plan.capacity.desired} healthy`, `${inService} in service`];
  if (h?.unhealthy) {
    parts.push(
      `${h.unhealthy} unhealthy (${h.unhealthyTargets.map((t) => `${t.id}: ${t.reason}`).join(", ")})`,
    );
  }
  return parts.join(", ");
}

/** What breaks a bake: an unhealthy green target, instances being replaced, a failing user gate. */
function gateBreach(
  s: Snapshot,
  green: GroupView,
  plan: SwapPlan,
): { code: string; message: string } | undefined {
  const h = green.health;
  if (h && h.unhealthy > 0) {
    return {
      code: "GREEN_UNHEALTHY",
      message: `green target unhealthy during the shift: ${h.unhealthyTargets.map((t) => `${t.id} (${t.reason})`).join(", ")}`,
    };
  }
  const replacing =
    green.asg?.instances.filter((i) => i.lifecycle !== "InService" || i.health !== "Healthy") ?? [];
  if (replacing.length > 0 || (green.asg && green.asg.instances.length < plan.capacity.desired)) {
    return {
      code: "GREEN_UNHEALTHY",
      message: `green ${green.name} is replacing instances during the shift (${replacing.map((i) => `${i.id} ${i.lifecycle}/${i.health}`).join(", ") || "capacity below desired"})`,
    };
  }
  const failed = s.gates.find((g) => !g.ok);
  if (failed) {
    return {
      code: "GATE_FAILED",
      message: `gate ${failed.name} failed${failed.message ? `: ${failed.message}` : ""}`,
    };
  }
  return undefined;
}
