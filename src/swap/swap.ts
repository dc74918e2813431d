/**
 * A deploy's reconciler: observe (observe.ts), nextAction (core/decide.ts) and act (act.ts)
 * plugged into the loop, and the result when it ends. Used by deploy, resume and any process
 * that takes over a swap whose driver is gone.
 */
import type { Clients } from "../aws/index.js";
import type { ServiceConfig } from "../core/config.js";
import {
  type Action,
  analysisDueAt,
  currentVerdict,
  effectiveSteps,
  nextAction,
} from "../core/decide.js";
import { rolledBackCode, SwapError, type SwitchyardError } from "../core/errors.js";
import type { EventSink, GateVerdict, GroupProgress, WaitProgress } from "../core/events.js";
import type {
  GateResult,
  Snapshot,
  SwapCursor,
  SwapFailure,
  SwapPlan,
} from "../core/swap-model.js";
import { act, describeAction } from "./act.js";
import { reconcile } from "./loop.js";
import { describeAlarms, metricGates } from "./metric-gates.js";
import { observe } from "./observe.js";
import { groupProgress } from "./progress.js";
import type { StateLocation, SwapLock } from "./record.js";
import { trafficTarget } from "./traffic.js";

/** What a gate is told about the step it checks. */
export interface GateContext {
  service: string;
  /** green's server group */
  group: string;
  release: string;
  /** percent of traffic on green */
  weight: number;
  step: number;
  /** aborted when the swap is cancelled or stopped: a gate should stop at once */
  signal: AbortSignal;
}

/** A user check run at every poll of every bake; false (or `{ ok: false }`) rolls back. */
export interface Gate {
  name: string;
  check(ctx: GateContext): Promise<boolean | Omit<GateResult, "name">>;
}

export interface SwapResult {
  ok: boolean;
  service: string;
  /** `in-flight`: a `deploy --detach` or a `reconcile` pass left the swap for the next pass */
  outcome: "completed" | "rolled-back" | "in-flight";
  live: string | null;
  standby: string | null;
  /** the release live now */
  release: string;
  /** the release the swap tried to ship */
  attempted: string;
  durationMs: number;
  error?: SwitchyardError;
  /** the swap's id, when it is left in flight (`deploy --detach`, a reconcile pass) */
  swapId?: string;
}

export interface SwapDeps {
  clients: Clients;
  state: StateLocation;
  emit: EventSink;
  pollIntervalMs: number;
  heartbeatMs: number;
  signal?: AbortSignal;
  /** one `reconcile` pass: do what is due, then leave the swap detached for the next pass */
  pass?: boolean;
}

/** Announces a swap whose lock is held (new, resumed or taken over) and drives it to its end. */
export async function runLocked(
  deps: SwapDeps,
  service: ServiceConfig,
  lock: SwapLock,
  options: {
    gates?: Gate[];
    resumed: boolean;
    /** `swap.started` (false: a reconcile pass goes on with a detached swap, announced already) */
    announce?: boolean;
  },
): Promise<SwapResult> {
  const plan = lock.record.plan;
  if (!plan) throw new SwapError("SWAP_INCOMPLETE", `${service.name}: the swap record has no plan`);
  const { clients, emit } = deps;
  const gates = options.gates ?? [];
  const started = Date.parse(lock.record.startedAt);
  const traffic = trafficTarget(service);
  const known: { greenTargetGroupArn?: string; greenLaunchTemplateId?: string } = {};
  const ev = () => ({ service: plan.service, at: Date.now() });
  if (options.announce !== false) announceStart(plan, options.resumed, emit);

  const runGates = async (signal: AbortSignal): Promise<GateResult[]> => {
    const c = lock.record.cursor;
    const steps = effectiveSteps(plan);
    const weight = steps[Math.min(c.stepIndex, steps.length - 1)] ?? 0;
    const results: GateResult[] = [];
    for (const gate of gates) {
      let result: GateResult;
      try {
        const r = await gate.check({
          service: plan.service,
          group: plan.green.name,
          release: plan.release.url,
          weight,
          step: c.stepIndex + 1,
          signal,
        });
        result = typeof r === "boolean" ? { name: gate.name, ok: r } : { name: gate.name, ...r };
      } catch (error) {
        result = {
          name: gate.name,
          ok: false,
          message: error instanceof Error ? error.message : String(error),
        };
      }
      results.push(result);
      if (!result.ok) {
        // a gate stopped because the swap was cancelled did not fail: the cancel decides
        if (!signal.aborted)
          emit({
            ...ev(),
            type: "gate.failed",
            gate: gate.name,
            message: result.message ?? "",
            ...(result.output ? { output: result.output } : {}),
            ...(result.outputFile ? { outputFile: result.outputFile } : {}),
          });
        break;
      }
    }
    return results;
  };

  const metrics = plan.alarms || plan.analysis ? metricGates(clients, plan) : undefined;
  try {
    const ended = await reconcile<Snapshot, Action>(
      {
        observe: async (pass) => {
          const observed = await observe({
            clients,
            traffic,
            plan,
            cursor: lock.record.cursor,
            known,
            runGates: () => runGates(pass.signal),
            ...(metrics ? { metricGates: metrics } : {}),
          });
          // gates cut short by a cancel are not a failing gate
          const gatesOk = pass.signal.aborted ? [] : observed.gates;
          return { ...observed, gates: gatesOk, failures: pass.failures };
        },
        decide: (s, cursor) => nextAction(s, plan, cursor),
        act: (action) =>
          act({ clients, traffic, plan, lock, known, pollIntervalMs: deps.pollIntervalMs }, action),
        describe: (action) =>
          action.type === "updateCursor" ? undefined : describeAction(action, plan),
        purpose: (action) => (action.type === "setTraffic" ? action.purpose : undefined),
        progress: (s) => swapProgress(s, plan),
        announce: (action, before, s) => announce(action, before, plan, lock, s, emit, started),
      },
      {
        lock,
        emit,
        pollIntervalMs: deps.pollIntervalMs,
        heartbeatMs: deps.heartbeatMs,
        signal: deps.signal,
        ...(deps.pass ? { pass: true } : {}),
      },
    );
    if (ended.outcome === "passed") {
      await lock.detach();
      return inFlight(plan, started);
    }
    // a deploy's decider never stops half-way: it completes or rolls back
    const outcome = ended.outcome === "completed" ? "completed" : "rolled-back";
    await lock.close(
      outcome,
      outcome === "completed"
        ? {
            swapId: plan.swapId,
            kind: "deploy",
            endedAt: new Date().toISOString(),
            before: plan.blue
              ? {
                  name: plan.blue.name,
                  targetGroupArn: plan.blue.targetGroupArn,
                  release: plan.blue.release,
                }
              : null,
            after: {
              name: plan.green.name,
              targetGroupArn: known.greenTargetGroupArn ?? "",
              release: plan.release.url,
            },
          }
        : undefined,
    );
    emit({ ...ev(), type: "lock.released", swapId: plan.swapId });
    return finish(plan, outcome, started, emit, lock.record.cursor.failure);
  } finally {
    lock.release();
  }
}

/** `swap.started`: the swap, its steps and bake, as planned. */
export function announceStart(plan: SwapPlan, resumed: boolean, emit: EventSink): void {
  emit({
    service: plan.service,
    at: Date.now(),
    type: "swap.started",
    swapId: plan.swapId,
    release: plan.release.url,
    green: plan.green.name,
    blue: plan.blue?.name ?? null,
    steps: effectiveSteps(plan),
    bakeMs: plan.bakeMs,
    ...(plan.blue ? { blueRelease: plan.blue.release } : {}),
    resumed,
  });
}

/** A swap left detached for the next `reconcile` pass: blue still live, green on its way. */
export function inFlight(plan: SwapPlan, started: number): SwapResult {
  return {
    ok: true,
    service: plan.service,
    outcome: "in-flight",
    live: plan.blue?.name ?? null,
    standby: null,
    release: plan.blue?.release ?? "",
    attempted: plan.release.url,
    durationMs: Date.now() - started,
    swapId: plan.swapId,
  };
}

/** Events that mark progress, derived from the action just made. */
function announce(
  action: Action,
  before: SwapCursor,
  plan: SwapPlan,
  lock: SwapLock,
  s: Snapshot,
  emit: EventSink,
  started: number,
) {
  const ev = { service: plan.service, at: Date.now() };
  const steps = effectiveSteps(plan);
  if (action.type === "setTraffic" && action.purpose === "shift") {
    const index = lock.record.cursor.stepIndex;
    emit({
      ...ev,
      type: "step.shifted",
      step: index + 1,
      of: steps.length,
      weight: steps[index] ?? 100,
      weights: action.targetGroups,
    });
    return;
  }
  if (action.type !== "updateCursor") return;
  const c = action.cursor;
  if (c.phase === "shifting" && c.stepIndex === 0) {
    emit({
      ...ev,
      type: "green.healthy",
      group: plan.green.name,
      healthy: plan.capacity.desired,
      elapsedMs: s.now - started,
    });
  } else if (c.phase === "rolling-back" && c.failure) {
    const failed = failedVerdict(c.failure, before, plan, s);
    if (failed) {
      const index = Math.max(0, before.stepIndex);
      emit({
        ...ev,
        type: "gate.verdict",
        step: index + 1,
        weight: steps[index] ?? 100,
        ...failed,
      });
    }
    emit({
      ...ev,
      type: "rollback.started",
      code: c.failure.code,
      reason: c.failure.message,
      ...(c.failure.details ? { details: c.failure.details } : {}),
    });
  } else if (
    before.phase === "shifting" &&
    (c.phase === "finalizing" || (c.stepIndex !== undefined && c.stepIndex > before.stepIndex))
  ) {
    const index = Math.max(0, before.stepIndex);
    const weight = steps[index] ?? 100;
    const verdicts = stepVerdicts(before, plan, s);
    for (const v of verdicts) emit({ ...ev, type: "gate.verdict", step: index + 1, weight, ...v });
    emit({
      ...ev,
      type: "step.baked",
      step: index + 1,
      weight,
      ...(before.bakeStartedAt === undefined ? {} : { bakedMs: s.now - before.bakeStartedAt }),
      gates: s.gates.filter((g) => g.ok).length,
      ...(verdicts.length > 0 ? { verdicts } : {}),
    });
  }
}

/**
 * The metric gates' verdicts on a step that baked: the alarms as last read, and the judge's
 * verdict (or why it did not judge: the 100 % step, a promote before the bake's metrics were in).
 */
function stepVerdicts(before: SwapCursor, plan: SwapPlan, s: Snapshot): GateVerdict[] {
  const out: GateVerdict[] = [];
  if (plan.alarms && plan.alarms.names.length > 0) {
    out.push({
      gate: "alarms",
      result: "pass",
      sentence: describeAlarms(s.alarms, plan.alarms.names),
    });
  }
  if (plan.analysis && plan.blue) {
    const v = currentVerdict(s, plan, before);
    if (v) {
      const passed = v.result === "insufficient" ? " (onInsufficientData: pass)" : "";
      out.push({
        gate: "judge",
        result: v.result,
        sentence: v.sentence + passed,
        figures: v.figures,
      });
    } else if (analysisDueAt(plan, before) === undefined) {
      out.push({
        gate: "judge",
        result: "skipped",
        sentence:
          "not judged at 100%: blue serves no traffic to compare with (the earlier steps were judged; alarms still hold)",
      });
    } else {
      out.push({
        gate: "judge",
        result: "skipped",
        sentence: "not judged: the step was promoted before its metrics were in",
      });
    }
  }
  return out;
}

/** The verdict of the metric gate that rolled the swap back, for its `gate.verdict` event. */
function failedVerdict(
  failure: SwapFailure,
  before: SwapCursor,
  plan: SwapPlan,
  s: Snapshot,
): GateVerdict | undefined {
  if (failure.code === "ALARM_FIRED" && failure.details?.alarm) {
    return { gate: "alarms", result: "fail", sentence: failure.message };
  }
  if (failure.code === "ANALYSIS_FAILED") {
    const v = currentVerdict(s, plan, before);
    return {
      gate: "judge",
      result: v?.result ?? "fail",
      sentence: v?.sentence ?? failure.message,
      ...(v ? { figures: v.figures } : {}),
    };
  }
  return undefined;
}

/** Blue's and green's health against desired, and the gates of the last check, for a wait. */
function swapProgress(s: Snapshot, plan: SwapPlan): Pick<WaitProgress, "groups" | "gates"> {
  const groups: GroupProgress[] = [];
  if (plan.blue) groups.push(groupProgress(s.blue, plan.blue.name, "blue", plan.capacity.desired));
  groups.push(groupProgress(s.green, plan.green.name, "green", plan.capacity.desired));
  return {
    groups,
    ...(s.gates.length > 0
      ? { gates: { passed: s.gates.filter((g) => g.ok).length, total: s.gates.length } }
      : {}),
  };
}

function finish(
  plan: SwapPlan,
  outcome: "completed" | "rolled-back",
  started: number,
  emit: EventSink,
  failure?: SwapFailure,
): SwapResult {
  const durationMs = Date.now() - started;
  const at = Date.now();
  if (outcome === "completed") {
    emit({
      service: plan.service,
      at,
      type: "swap.completed",
      live: plan.green.name,
      standby: plan.blue?.name ?? null,
      durationMs,
    });
    return {
      ok: true,
      service: plan.service,
      outcome,
      live: plan.green.name,
      standby: plan.blue?.name ?? null,
      release: plan.release.url,
      attempted: plan.release.url,
      durationMs,
    };
  }
  const code = failure?.code ?? "ROLLED_BACK";
  const reason = failure?.message ?? "the swap was rolled back";
  emit({
    service: plan.service,
    at,
    type: "swap.rolled-back",
    live: plan.blue?.name ?? null,
    code,
    reason,
    ...(failure?.details ? { details: failure.details } : {}),
  });
  const swapCode = rolledBackCode(code);
  return {
    ok: false,
    service: plan.service,
    outcome,
    live: plan.blue?.name ?? null,
    standby: null,
    release: plan.blue?.release ?? plan.release.url,
    attempted: plan.release.url,
    durationMs,
    error: new SwapError(
      swapCode,
      `${plan.service}: ${reason}; rolled back${plan.blue ? `, ${plan.blue.name} is live` : ""}`,
      failure?.details ? { details: { ...failure.details } } : {},
    ),
  };
}
