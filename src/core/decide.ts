/**
 * `nextAction`: the pure heart of a swap. Given what was observed, the plan and the cursor, it
 * names the one change to make next, or says to wait, that the swap has ended, or that it must
 * stop because someone else changed what it manages. Every action converges the world toward the
 * plan and is safe to repeat, so a crashed swap resumes by observing again.
 *
 * Each phase is a list of named rules, tried in order; the first that answers decides. Abort
 * requests, control requests (pause, promote), a cancelled process and the AWS error budget are
 * inputs in the Snapshot like everything else the swap observed.
 */
import { formatDuration } from "./duration.js";
import type { WaitProgress } from "./events.js";
import { targetGroupNameOf } from "./names.js";
import type {
  AnalysisVerdict,
  ControlRequests,
  Drift,
  FailureDetails,
  GroupView,
  Role,
  Snapshot,
  SwapCursor,
  SwapFailure,
  SwapPlan,
  TrafficView,
  UnhealthyTarget,
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
  | {
      type: "updateCursor";
      cursor: Partial<SwapCursor>;
      reason: string;
      /** control requests this change answers, removed from the record with it */
      consume?: Array<keyof ControlRequests>;
    };

export type Decision<A = Action> =
  | { kind: "act"; action: A }
  | { kind: "wait"; reason: string; until?: number; progress?: WaitProgress }
  | { kind: "done"; outcome: "completed" | "rolled-back" }
  /** someone else changed the listener or green: stop, change nothing, say what changed */
  | { kind: "drift"; drift: Omit<Drift, "at"> }
  /** the operation ended without doing its change (a rollback cancelled before traffic moved) */
  | { kind: "stopped"; code: "ABORTED" | "GREEN_UNHEALTHY"; message: string };

/** Processes suspended on a standby so it keeps its capacity at weight 0. */
export const STANDBY_SUSPENDED = ["AlarmNotification", "ScheduledActions"] as const;

/** Passes in a row that may fail on AWS errors before a swap gives up and rolls back. */
export const ERROR_BUDGET = 4;

/** A rule of a phase: answers with a decision, or passes to the next rule. */
type Rule = (s: Snapshot, plan: SwapPlan, cursor: SwapCursor) => Decision | undefined;

/** Tries named rules in order; the first that answers decides. */
export function decideBy<R extends (...args: never[]) => unknown>(
  rules: Array<[string, R]>,
  ...args: Parameters<R>
): NonNullable<ReturnType<R>> {
  for (const [, rule] of rules) {
    const decision = rule(...args);
    if (decision) return decision as NonNullable<ReturnType<R>>;
  }
  throw new Error("no rule decided"); // every phase ends with a rule that always answers
}

const act = (action: Action): Decision => ({ kind: "act", action });
const fail = (code: string, message: string, details?: FailureDetails): Decision =>
  act({
    type: "updateCursor",
    cursor: {
      phase: "rolling-back",
      failure: { code, message, ...(details ? { details } : {}) },
      bakeStartedAt: undefined,
    },
    reason: message,
    consume: ["abort", "pause", "promote"],
  });

export function nextAction(s: Snapshot, plan: SwapPlan, cursor: SwapCursor): Decision {
  if (cursor.phase === "rolling-back") return decideBy(ROLLING_BACK, s, plan, cursor);
  if (cursor.phase === "finalizing") return decideBy(FINALIZING, s, plan, cursor);
  if (cursor.phase === "launching") return decideBy(LAUNCHING, s, plan, cursor);
  return decideBy(SHIFTING, s, plan, cursor);
}

// ─── rules every forward phase starts with ──────────────────────────────────────────────────

/** The operator (abort request), this process (Ctrl-C) or AWS (errors) stops the swap: roll back. */
const stopRequested: Rule = (s) => {
  const abort = s.control?.abort;
  if (abort) return fail("ABORTED", abort.reason ?? `aborted by ${abort.by}`);
  if (s.cancelled) return fail("ABORTED", "the swap was cancelled");
  if ((s.failures ?? 0) >= ERROR_BUDGET) {
    return fail("AWS_ERROR", `AWS calls failed ${s.failures} times in a row`);
  }
  return undefined;
};

/**
 * The listener as the swap last left it, or as the swap is about to set it: anything else is
 * someone else's change. The latter is the swap's own change whose record write never happened
 * (a crash, a failed write between the listener change and the record): it is recorded now, so
 * the next comparison is against what the listener really has.
 */
function trafficDrift(
  s: Snapshot,
  plan: SwapPlan,
  c: SwapCursor,
  next?: Weighted[],
): Decision | undefined {
  const expected = c.traffic ?? plan.originalTargetGroups;
  const found = s.traffic.targetGroups;
  if (sameWeights(found, expected)) return undefined;
  if (next && sameWeights(found, next)) {
    return act({
      type: "updateCursor",
      cursor: { traffic: next },
      reason: "the listener shows the weights this swap set",
    });
  }
  const where = c.phase === "shifting" ? ` at step ${c.stepIndex + 1}` : ` while ${c.phase}`;
  return {
    kind: "drift",
    drift: {
      what: `the listener's action changed outside this swap${where}: expected ${formatWeights(expected)}, found ${formatWeights(found)}`,
      expected,
      found,
    },
  } satisfies Decision;
}

/** The first deploy's warm-up rule goes once green is live or gone. */
const noWarmupRule: Rule = (s) =>
  s.traffic.warmupRule
    ? act({ type: "deleteWarmupRule", ruleArn: s.traffic.warmupRule.arn })
    : undefined;

/** Green's group deleted by someone else once the shift began. */
const greenGone: Rule = (s, plan) => {
  if (s.green?.asg && !s.green.asg.deleting) return undefined;
  return {
    kind: "drift",
    drift: {
      what: `green ${plan.green.name} was deleted outside this swap`,
      expected: [],
      found: s.traffic.targetGroups,
    },
  };
};

// ─── launching: green's parts, health-checked through the listener at weight 0 ──────────────

const LAUNCHING: Array<[string, Rule]> = [
  ["stop requested → roll back", stopRequested],
  [
    "launch template exists",
    (s) => (s.greenLaunchTemplateId ? undefined : act({ type: "createLaunchTemplate" })),
  ],
  [
    "target group exists",
    (s) => (s.greenTargetGroupArn ? undefined : act({ type: "createTargetGroup" })),
  ],
  [
    "listener not changed by others",
    (s, plan, c) => trafficDrift(s, plan, c, referencingGreen(s, plan, c)),
  ],
  [
    "green's target group is health-checked",
    (s, plan, c) => {
      if (isReferenced(s.traffic, s.greenTargetGroupArn!)) return undefined;
      const next = referencingGreen(s, plan, c);
      if (next) {
        return act({
          type: "setTraffic",
          purpose: "reference-green",
          targetGroups: next,
          stickinessSeconds: stickinessNow(s.traffic),
        });
      }
      return act({ type: "createWarmupRule" });
    },
  ],
  ["green's group exists", (s) => (s.green?.asg ? undefined : act({ type: "createGroup" }))],
  [
    "green launched",
    (s) =>
      s.green?.launchFailure
        ? fail(
            "LAUNCH_FAILED",
            `green ${s.green.name} could not launch: ${s.green.launchFailure}`,
            {
              activity: { statusMessage: s.green.launchFailure },
            },
          )
        : undefined,
  ],
  [
    "green healthy in time",
    (s, plan, c) => {
      const green = s.green!;
      if (isHealthy(green, plan.capacity.desired)) return undefined;
      if (s.now - c.launchStartedAt > plan.healthyTimeoutMs) {
        const targets = green.health?.unhealthyTargets ?? [];
        return fail(
          "GREEN_UNHEALTHY",
          `green ${green.name} was not healthy within ${Math.round(plan.healthyTimeoutMs / 1000)}s: ${healthSummary(green, plan)}`,
          targets.length > 0 ? { targets } : undefined,
        );
      }
      return {
        kind: "wait",
        reason: `waiting for green ${green.name} to be healthy`,
        progress: {
          startedAt: c.launchStartedAt,
          until: c.launchStartedAt + plan.healthyTimeoutMs,
        },
      };
    },
  ],
  [
    "paused before the first step",
    (s) =>
      paused(s)
        ? { kind: "wait", reason: "paused before the first step (promote to go on)" }
        : undefined,
  ],
  [
    "start shifting",
    (s) =>
      act({
        type: "updateCursor",
        cursor: { phase: "shifting", stepIndex: 0, bakeStartedAt: undefined },
        reason: `green ${s.green!.name} is healthy`,
      }),
  ],
];

/**
 * The action as the swap last left it with green's target group added at weight 0, when traffic
 * is forwarded to blue: what the swap sets to have green health-checked.
 */
function referencingGreen(s: Snapshot, plan: SwapPlan, c: SwapCursor): Weighted[] | undefined {
  const greenTg = s.greenTargetGroupArn;
  if (!greenTg || !s.traffic.forwarding || !plan.blue) return undefined;
  const last = c.traffic ?? plan.originalTargetGroups;
  if (last.some((t) => t.targetGroupArn === greenTg)) return undefined;
  return [...last, { targetGroupArn: greenTg, weight: 0 }];
}

// ─── shifting: a step's weights, its bake, the next step ────────────────────────────────────

const SHIFTING: Array<[string, Rule]> = [
  ["stop requested → roll back", stopRequested],
  ["green still exists", greenGone],
  [
    "listener not changed by others",
    (s, plan, c) => trafficDrift(s, plan, c, stepWeights(s, plan, c)),
  ],
  [
    "blue pinned at its capacity",
    (s, plan, c) => {
      const blue = s.blue;
      if (!plan.blue || !blue?.asg || c.blueOriginalMin !== undefined) return undefined;
      return act({ type: "pinBlue", originalMin: blue.asg.min, min: blue.asg.desired });
    },
  ],
  [
    "gates hold",
    (s, plan) => {
      const breach = gateBreach(s, s.green!, plan);
      return breach ? fail(breach.code, breach.message, breach.details) : undefined;
    },
  ],
  [
    "alarms hold",
    (s, plan) => {
      const breach = alarmBreach(s, plan);
      return breach ? fail(breach.code, breach.message, breach.details) : undefined;
    },
  ],
  [
    "the step's weights are set",
    (s, plan, c) => {
      const weight = stepWeight(plan, c);
      const wanted = stepWeights(s, plan, c)!;
      if (
        sameWeights(s.traffic.targetGroups, wanted) &&
        stickinessNow(s.traffic) === stickinessFor(plan, weight)
      ) {
        return undefined;
      }
      return act({
        type: "setTraffic",
        purpose: "shift",
        targetGroups: wanted,
        stickinessSeconds: stickinessFor(plan, weight),
      });
    },
  ],
  [
    "the bake has started",
    (s, plan, c) =>
      c.bakeStartedAt === undefined
        ? act({
            type: "updateCursor",
            cursor: { bakeStartedAt: s.now },
            reason: `${stepWeight(plan, c)}% of traffic on green; baking`,
          })
        : undefined,
  ],
  [
    "a promote of an earlier step is dropped",
    (s, plan, c) => {
      const promote = s.control?.promote;
      if (!promote || promote.step >= stepIndex(plan, c) + 1) return undefined;
      return act({
        type: "updateCursor",
        cursor: {},
        reason: `promote of step ${promote.step} came after it ended`,
        consume: ["promote"],
      });
    },
  ],
  [
    "promoted",
    (s, plan, c) => {
      const promote = s.control?.promote;
      if (!promote || promote.step !== stepIndex(plan, c) + 1) return undefined;
      const steps = effectiveSteps(plan);
      const index = stepIndex(plan, c);
      const by = `promoted by ${promote.by}`;
      if (promote.full || index >= steps.length - 1) {
        return act({
          type: "updateCursor",
          cursor: { phase: "finalizing" },
          reason: `step ${steps[index]}% ${by}${promote.full && index < steps.length - 1 ? "; the remaining steps skipped" : ""}`,
          consume: ["promote", "pause"],
        });
      }
      return act({
        type: "updateCursor",
        cursor: { stepIndex: index + 1, bakeStartedAt: undefined },
        reason: `step ${steps[index]}% ${by}`,
        consume: ["promote", "pause"],
      });
    },
  ],
  [
    "paused",
    (s, plan, c) =>
      paused(s)
        ? {
            kind: "wait",
            reason: `paused at ${stepWeight(plan, c)}% (gates still checked; promote to go on)`,
            ...(s.control?.pause?.until ? { until: s.control.pause.until } : {}),
            progress: {
              ...stepProgress(plan, c),
              ...(s.control?.pause?.until ? { until: s.control.pause.until } : {}),
            },
          }
        : undefined,
  ],
  [
    "baked",
    (s, plan, c) => {
      const bakeEnds = c.bakeStartedAt! + plan.bakeMs;
      if (s.now >= bakeEnds) return undefined;
      return {
        kind: "wait",
        reason: `baking at ${stepWeight(plan, c)}%`,
        until: bakeEnds,
        progress: { ...stepProgress(plan, c), startedAt: c.bakeStartedAt!, until: bakeEnds },
      };
    },
  ],
  [
    "green judged against blue",
    (s, plan, c) => {
      const due = analysisDueAt(plan, c);
      if (due === undefined || !plan.analysis) return undefined;
      const weight = stepWeight(plan, c);
      const progress = { ...stepProgress(plan, c), startedAt: c.bakeStartedAt! };
      if (s.now < due) {
        return {
          kind: "wait",
          reason: `baked at ${weight}%; waiting for CloudWatch to publish the bake's last metrics`,
          until: due,
          progress: { ...progress, until: due },
        };
      }
      const v = currentVerdict(s, plan, c);
      if (!v) {
        return { kind: "wait", reason: `judging green against blue at ${weight}%`, progress };
      }
      if (v.result === "fail") {
        return fail("ANALYSIS_FAILED", `the judge failed green at ${weight}%: ${v.sentence}`, {
          verdict: { sentence: v.sentence, figures: v.figures },
        });
      }
      if (v.result === "insufficient") {
        const limit = due + plan.analysis.maxExtensionMs;
        if (s.now < limit) {
          return {
            kind: "wait",
            reason: `too little traffic to judge green at ${weight}%; the bake is extended by up to ${formatDuration(plan.analysis.maxExtensionMs)}`,
            until: limit,
            progress: { ...progress, until: limit },
          };
        }
        if (plan.analysis.onInsufficientData === "fail") {
          return fail(
            "ANALYSIS_FAILED",
            `too little traffic to judge green at ${weight}% (onInsufficientData: fail): ${v.sentence}`,
            { verdict: { sentence: v.sentence, figures: v.figures } },
          );
        }
      }
      return undefined;
    },
  ],
  [
    "next step, or finalize after the last",
    (s, plan, c) => {
      const steps = effectiveSteps(plan);
      const index = stepIndex(plan, c);
      const v = currentVerdict(s, plan, c);
      const verdict = v
        ? { lastVerdict: { step: v.step, result: v.result, sentence: v.sentence } }
        : {};
      if (index < steps.length - 1) {
        return act({
          type: "updateCursor",
          cursor: { stepIndex: index + 1, bakeStartedAt: undefined, ...verdict },
          reason: `step ${steps[index]}% baked`,
        });
      }
      return act({
        type: "updateCursor",
        cursor: { phase: "finalizing", ...verdict },
        reason: "every step baked",
      });
    },
  ],
];

function stepIndex(plan: SwapPlan, c: SwapCursor): number {
  return Math.max(0, Math.min(c.stepIndex, effectiveSteps(plan).length - 1));
}

/** Step N of M and its weight, for a wait's progress. */
function stepProgress(plan: SwapPlan, c: SwapCursor): WaitProgress {
  return {
    step: stepIndex(plan, c) + 1,
    of: effectiveSteps(plan).length,
    weight: stepWeight(plan, c),
  };
}

function stepWeight(plan: SwapPlan, c: SwapCursor): number {
  return effectiveSteps(plan)[stepIndex(plan, c)]!;
}

function stepWeights(s: Snapshot, plan: SwapPlan, c: SwapCursor): Weighted[] | undefined {
  if (!s.greenTargetGroupArn) return undefined;
  return shiftWeights(s.traffic, plan, s.greenTargetGroupArn, stepWeight(plan, c));
}

function paused(s: Snapshot): boolean {
  const pause = s.control?.pause;
  return pause !== undefined && (pause.until === undefined || s.now < pause.until);
}

// ─── finalizing: green live, blue the standby ───────────────────────────────────────────────

const FINALIZING: Array<[string, Rule]> = [
  ["stop requested → roll back", stopRequested],
  ["green still exists", greenGone],
  [
    "listener not changed by others",
    (s, plan, c) => trafficDrift(s, plan, c, finalWeights(s, plan)),
  ],
  [
    "green at 100%, blue at 0%",
    (s, plan) => {
      const wanted = finalWeights(s, plan);
      if (sameWeights(s.traffic.targetGroups, wanted) && stickinessNow(s.traffic) === 0) {
        return undefined;
      }
      return act({
        type: "setTraffic",
        purpose: "finalize",
        targetGroups: wanted,
        stickinessSeconds: 0,
      });
    },
  ],
  ["no warm-up rule", noWarmupRule],
  ["blue's pin released", (s, _plan, c) => releasePin(s.blue, c)],
  [
    "blue keeps its capacity as the standby",
    (s) => {
      const blue = s.blue;
      if (!blue?.asg || STANDBY_SUSPENDED.every((p) => blue.asg?.suspended.includes(p))) {
        return undefined;
      }
      return act({ type: "suspendStandby", group: blue.name });
    },
  ],
  [
    "blue tagged standby",
    (s) =>
      s.blue && s.blue.role !== "standby"
        ? act({ type: "tagRole", group: s.blue.name, role: "standby" })
        : undefined,
  ],
  [
    "green tagged live",
    (s) =>
      s.green!.role !== "live"
        ? act({ type: "tagRole", group: s.green!.name, role: "live" })
        : undefined,
  ],
  ["completed", () => ({ kind: "done", outcome: "completed" })],
];

/** Live + newest standby stay in the action; older standbys leave it (retire deletes them later). */
function finalWeights(s: Snapshot, plan: SwapPlan): Weighted[] {
  const wanted: Weighted[] = [{ targetGroupArn: s.greenTargetGroupArn ?? "", weight: 100 }];
  if (plan.blue) wanted.push({ targetGroupArn: plan.blue.targetGroupArn, weight: 0 });
  return wanted;
}

// ─── rolling back: traffic back on blue, then green leaves once its traffic has ─────────────

const ROLLING_BACK: Array<[string, Rule]> = [
  [
    "traffic back on blue in one listener change",
    (s, plan) => {
      if (plan.blue) {
        const wanted = rollbackWeights(s, plan);
        if (sameWeights(s.traffic.targetGroups, wanted) && stickinessNow(s.traffic) === 0) {
          return undefined;
        }
        return act({
          type: "setTraffic",
          purpose: "rollback",
          targetGroups: wanted,
          stickinessSeconds: 0,
        });
      }
      if (s.greenTargetGroupArn && isInAction(s.traffic, s.greenTargetGroupArn)) {
        return act({ type: "restoreTraffic" });
      }
      return undefined;
    },
  ],
  ["no warm-up rule", noWarmupRule],
  ["blue's pin released", (s, _plan, c) => releasePin(s.blue, c)],
  [
    "blue's alarms and schedules back on",
    (s, plan) => {
      const blue = s.blue;
      if (!blue?.asg || !plan.blue) return undefined;
      const before = plan.blue.suspended;
      const processes = STANDBY_SUSPENDED.filter(
        (p) => blue.asg?.suspended.includes(p) && !before.includes(p),
      );
      return processes.length > 0 ? act({ type: "resumeBlue", processes }) : undefined;
    },
  ],
  [
    "blue tagged live",
    (s, plan) =>
      s.blue?.asg && plan.blue && s.blue.role !== "live"
        ? act({ type: "tagRole", group: s.blue.name, role: "live" })
        : undefined,
  ],
  [
    "green kept, tagged failed",
    (s, plan) => {
      if (!plan.keepFailed) return undefined;
      if (s.green && s.green.role !== "failed") {
        return act({ type: "tagRole", group: s.green.name, role: "failed" });
      }
      return { kind: "done", outcome: "rolled-back" };
    },
  ],
  [
    "green's traffic has drained",
    (s, plan, c) => {
      // green never carried traffic before its first step
      if (!s.green?.asg || s.green.asg.deleting || c.trafficMovedAt === undefined) return undefined;
      if (c.stepIndex < 0) return undefined;
      const drained = c.trafficMovedAt + (plan.drainMs ?? 0);
      if (s.now >= drained) return undefined;
      return {
        kind: "wait",
        reason: `waiting for traffic to leave green ${s.green.name} (listener propagation and deregistration delay)`,
        until: drained,
        progress: { startedAt: c.trafficMovedAt, until: drained },
      };
    },
  ],
  [
    "green's group deleted",
    (s) => {
      if (!s.green?.asg) return undefined;
      if (s.green.asg.deleting) {
        return { kind: "wait", reason: `waiting for green ${s.green.name} to be deleted` };
      }
      return act({ type: "deleteGreenGroup" });
    },
  ],
  [
    "green's target group deleted",
    (s) => (s.greenTargetGroupArn ? act({ type: "deleteGreenTargetGroup" }) : undefined),
  ],
  [
    "green's launch template deleted",
    (s) => (s.greenLaunchTemplateId ? act({ type: "deleteGreenLaunchTemplate" }) : undefined),
  ],
  ["rolled back", () => ({ kind: "done", outcome: "rolled-back" })],
];

/** The action as it was before the swap, blue at 100, green out. */
function rollbackWeights(s: Snapshot, plan: SwapPlan): Weighted[] {
  const blueTg = plan.blue!.targetGroupArn;
  const wanted = plan.originalTargetGroups
    .filter((t) => t.targetGroupArn !== s.greenTargetGroupArn)
    .map((t) => ({
      targetGroupArn: t.targetGroupArn,
      weight: t.targetGroupArn === blueTg ? 100 : 0,
    }));
  if (!wanted.some((t) => t.targetGroupArn === blueTg)) {
    wanted.unshift({ targetGroupArn: blueTg, weight: 100 });
  }
  return wanted;
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

export function stickinessNow(traffic: TrafficView): number {
  return traffic.stickiness.enabled ? traffic.stickiness.durationSeconds : 0;
}

/** Same target groups with the same weights, in any order. */
export function sameWeights(a: Weighted[], b: Weighted[]): boolean {
  if (a.length !== b.length) return false;
  const weights = new Map(a.map((t) => [t.targetGroupArn, t.weight]));
  return b.every((t) => weights.get(t.targetGroupArn) === t.weight);
}

/** `name=weight` pairs in name order, for messages: target group names rather than whole ARNs. */
export function formatWeights(weights: readonly Weighted[]): string {
  if (weights.length === 0) return "(no forward action)";
  return weights
    .map((t) => `${targetGroupNameOf(t.targetGroupArn)}=${t.weight}`)
    .sort()
    .join(", ");
}

export function isInAction(traffic: TrafficView, tg: string): boolean {
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

export function healthSummary(green: GroupView, plan: { capacity: { desired: number } }): string {
  const h = green.health;
  const inService = green.asg?.instances.filter((i) => i.lifecycle === "InService").length ?? 0;
  const parts = [`${h?.healthy ?? 0}/${plan.capacity.desired} healthy`, `${inService} in service`];
  if (h?.unhealthy)
    parts.push(`${h.unhealthy} unhealthy: ${describeUnhealthy(h.unhealthyTargets)}`);
  return parts.join(", ");
}

/**
 * Unhealthy targets grouped by why: `Target.ResponseCodeMismatch (Health checks failed with
 * these codes: [500]) on i-1, i-2`.
 */
export function describeUnhealthy(targets: readonly UnhealthyTarget[]): string {
  const byReason = new Map<string, string[]>();
  for (const t of targets) {
    const why = t.code && t.code !== t.reason ? `${t.code} (${t.reason})` : t.reason;
    byReason.set(why, [...(byReason.get(why) ?? []), t.id]);
  }
  return [...byReason].map(([why, ids]) => `${why} on ${ids.join(", ")}`).join("; ");
}

/**
 * When the judge can read a step's whole bake: its end plus the publishing lag and one period
 * (the period the bake ends in). Undefined for a step the judge does not judge: no analysis, a
 * first deploy (no blue), or the 100 % step, where blue serves nothing to compare with.
 */
export function analysisDueAt(plan: SwapPlan, c: SwapCursor): number | undefined {
  const a = plan.analysis;
  if (!a || !plan.blue || c.phase !== "shifting" || c.bakeStartedAt === undefined) return undefined;
  if (stepWeight(plan, c) >= 100) return undefined;
  return c.bakeStartedAt + plan.bakeMs + a.lagMs + a.periodMs;
}

/** The verdict in the snapshot when it is about the current step's bake. */
export function currentVerdict(
  s: Snapshot,
  plan: SwapPlan,
  c: SwapCursor,
): AnalysisVerdict | undefined {
  const v = s.verdict;
  if (!v || v.step !== stepIndex(plan, c) + 1 || v.bakeStartedAt !== c.bakeStartedAt) {
    return undefined;
  }
  return v;
}

/** An alarm in ALARM, or alarms that could not be read (unless the config says to ignore that). */
function alarmBreach(s: Snapshot, plan: SwapPlan): SwapFailure | undefined {
  const alarms = s.alarms;
  if (!alarms || !plan.alarms) return undefined;
  const firing = alarms.states.find((a) => a.state === "ALARM");
  if (firing) {
    return {
      code: "ALARM_FIRED",
      message: `alarm ${firing.name} is in ALARM: ${firing.reason || "(no reason given)"}`,
      details: { alarm: { name: firing.name, reason: firing.reason } },
    };
  }
  if (alarms.error !== undefined && plan.alarms.unreadable === "fail") {
    return {
      code: "GATE_FAILED",
      message: `the alarms could not be read (alarmsUnreadable: fail): ${alarms.error}`,
      details: { gate: { name: "alarms" } },
    };
  }
  return undefined;
}

/** What breaks a bake: an unhealthy green target, instances being replaced, a failing user gate. */
function gateBreach(s: Snapshot, green: GroupView, plan: SwapPlan): SwapFailure | undefined {
  const h = green.health;
  if (h && h.unhealthy > 0) {
    return {
      code: "GREEN_UNHEALTHY",
      message: `green target unhealthy during the shift: ${describeUnhealthy(h.unhealthyTargets)}`,
      details: { targets: h.unhealthyTargets },
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
      details: {
        gate: {
          name: failed.name,
          ...(failed.outputFile ? { outputFile: failed.outputFile } : {}),
        },
      },
    };
  }
  return undefined;
}
