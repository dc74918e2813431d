/**
 * The swap loop: observe → decide → act, until nextAction says the swap has ended. All progress
 * lives in the swap record, so running this loop again (resume) picks up where a crashed run
 * stopped. An abort signal (Ctrl-C) turns the swap into a rollback; it never leaves traffic on a
 * group that is not healthy.
 */
import type { Clients, TrafficTarget } from "../aws/index.js";
import { effectiveSteps, nextAction } from "../core/decide.js";
import {
  isSwitchyardError,
  SwapError,
  type SwitchyardError,
  toSwitchyardError,
} from "../core/errors.js";
import type { EventSink } from "../core/events.js";
import type { BakeOverride, GateResult, SwapCursor, SwapPlan } from "../core/swap-model.js";
import { act, describeAction } from "./act.js";
import { observe } from "./observe.js";
import type { SwapLock } from "./record.js";
import { sleep } from "./wait.js";

/** What a gate is told about the step it checks. */
export interface GateContext {
  service: string;
  /** green's server group */
  group: string;
  release: string;
  /** percent of traffic on green */
  weight: number;
  step: number;
  signal: AbortSignal;
}

/** A user check run at every poll of every bake; false (or `{ ok: false }`) rolls back. */
export interface Gate {
  name: string;
  check(ctx: GateContext): Promise<boolean | { ok: boolean; message?: string }>;
}

/**
 * Steers a running swap from outside, e.g. an operator at a terminal (`switchyard wizard`).
 * Consulted at every pass while a step bakes; it never changes what a step does, only when its
 * bake ends. Not persisted: a resumed swap bakes each step for its planned time.
 */
export interface SwapControl {
  /**
   * The override of the bake of `step` (1-based, `weight` percent on green): `"hold"` keeps the
   * step past the end of its bake while gates are still checked, `"promote"` ends the bake now,
   * undefined lets it run its time.
   */
  bake(step: { step: number; weight: number }): BakeOverride | undefined;
  /** Subscribes to changes, so a waiting swap reacts at once instead of at its next poll; returns the unsubscribe. */
  subscribe?(wake: () => void): () => void;
}

export interface SwapResult {
  ok: boolean;
  service: string;
  outcome: "completed" | "rolled-back";
  live: string | null;
  standby: string | null;
  release: string;
  durationMs: number;
  error?: SwitchyardError;
}

export interface LoopOptions {
  clients: Clients;
  traffic: TrafficTarget;
  lock: SwapLock;
  emit: EventSink;
  gates: Gate[];
  /** how often the world is observed while waiting (default 5 s) */
  pollIntervalMs: number;
  /** how often the swap record's heartbeat is refreshed while waiting (default 15 s) */
  heartbeatMs: number;
  signal?: AbortSignal;
  /** an operator's hold or promote of the current step */
  control?: SwapControl;
}

const MAX_CONSECUTIVE_ERRORS = 4;

export async function runSwap(options: LoopOptions): Promise<SwapResult> {
  const { clients, traffic, lock, emit, gates } = options;
  const plan: SwapPlan = lock.record.plan;
  const started = Date.parse(lock.record.startedAt);
  const known: { greenTargetGroupArn?: string; greenLaunchTemplateId?: string } = {};
  const gateSignal = new AbortController();
  const ev = { service: plan.service };
  let lastWait = "";
  let errors = 0;
  let lastHeartbeat = Date.now();
  let aborted = false;

  const runGates = async (): Promise<GateResult[]> => {
    const c = lock.record.cursor;
    const steps = effectiveSteps(plan);
    const weight = steps[Math.min(c.stepIndex, steps.length - 1)] ?? 0;
    const results: GateResult[] = [];
    for (const gate of gates) {
      try {
        const r = await gate.check({
          service: plan.service,
          group: plan.green.name,
          release: plan.release.url,
          weight,
          step: c.stepIndex + 1,
          signal: gateSignal.signal,
        });
        const ok = typeof r === "boolean" ? r : r.ok;
        const message = typeof r === "boolean" ? undefined : r.message;
        results.push({ name: gate.name, ok, message });
        if (!ok)
          emit({
            ...ev,
            at: Date.now(),
            type: "gate.failed",
            gate: gate.name,
            message: message ?? "",
          });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        results.push({ name: gate.name, ok: false, message });
        emit({ ...ev, at: Date.now(), type: "gate.failed", gate: gate.name, message });
      }
      if (!results.at(-1)?.ok) break;
    }
    return results;
  };

  for (;;) {
    const cursor = lock.record.cursor;
    if (options.signal?.aborted && !aborted && cursor.phase !== "rolling-back") {
      aborted = true;
      gateSignal.abort();
      await lock.update({
        cursor: {
          phase: "rolling-back",
          failure: { code: "ABORTED", message: "the swap was cancelled" },
        },
      });
      emit({
        ...ev,
        at: Date.now(),
        type: "rollback.started",
        code: "ABORTED",
        reason: "the swap was cancelled",
      });
      continue;
    }
    try {
      const observed = await observe({ clients, traffic, plan, cursor, known, runGates });
      const bake = bakeOverride(options.control, plan, cursor);
      const snapshot = bake ? { ...observed, bake } : observed;
      const decision = nextAction(snapshot, plan, cursor);
      if (decision.kind === "done") {
        await lock.close(decision.outcome);
        emit({ ...ev, at: Date.now(), type: "lock.released", swapId: plan.swapId });
        return finish(plan, decision.outcome, started, emit, lock.record.cursor.failure);
      }
      if (decision.kind === "wait") {
        if (decision.reason !== lastWait) {
          lastWait = decision.reason;
          emit({ ...ev, at: Date.now(), type: "waiting", reason: decision.reason });
        }
        if (Date.now() - lastHeartbeat >= options.heartbeatMs) {
          await lock.heartbeat();
          lastHeartbeat = Date.now();
        }
        const until = decision.until ? decision.until - Date.now() : options.pollIntervalMs;
        await pause(
          Math.max(1, Math.min(options.pollIntervalMs, until)),
          aborted ? undefined : options.signal,
          options.control,
        );
        errors = 0;
        continue;
      }
      const action = decision.action;
      if (action.type !== "updateCursor") {
        emit({
          ...ev,
          at: Date.now(),
          type: "action",
          action: action.type,
          description: describeAction(action, plan),
        });
      }
      await act(
        { clients, traffic, plan, lock, known, pollIntervalMs: options.pollIntervalMs },
        action,
      );
      lastHeartbeat = Date.now();
      errors = 0;
      announce(action, plan, lock, snapshot.now, emit, started);
    } catch (error) {
      if (isSwitchyardError(error, "LOCK_LOST")) throw error;
      errors++;
      const e = toSwitchyardError(error);
      emit({
        ...ev,
        at: Date.now(),
        type: "warning",
        message: `${e.message}${errors > 1 ? ` (${errors} in a row)` : ""}`,
      });
      if (errors >= MAX_CONSECUTIVE_ERRORS) {
        if (lock.record.cursor.phase !== "rolling-back") {
          // AWS keeps failing: stop moving forward and undo, leaving traffic on blue
          errors = 0;
          await lock
            .update({
              cursor: { phase: "rolling-back", failure: { code: "AWS_ERROR", message: e.message } },
            })
            .catch(() => undefined);
          emit({
            ...ev,
            at: Date.now(),
            type: "rollback.started",
            code: "AWS_ERROR",
            reason: e.message,
          });
          continue;
        }
        throw new SwapError(
          "SWAP_INCOMPLETE",
          `${plan.service}: the swap could not finish rolling back: ${e.message}`,
          {
            cause: error,
            hint: `run \`switchyard status ${plan.service}\` to see where it stopped, then \`switchyard resume ${plan.service}\``,
          },
        );
      }
      await sleep(options.pollIntervalMs);
    }
  }
}

/** The control's say over the bake of the cursor's step; only while a step bakes. */
function bakeOverride(
  control: SwapControl | undefined,
  plan: SwapPlan,
  cursor: SwapCursor,
): BakeOverride | undefined {
  if (!control || cursor.phase !== "shifting" || cursor.bakeStartedAt === undefined) return;
  const steps = effectiveSteps(plan);
  const index = Math.min(cursor.stepIndex, steps.length - 1);
  return control.bake({ step: index + 1, weight: steps[index] ?? 100 });
}

/** Sleeps like `sleep`, and also wakes when the control changes. */
async function pause(ms: number, signal: AbortSignal | undefined, control?: SwapControl) {
  if (!control?.subscribe) return sleep(ms, signal);
  const wake = new AbortController();
  const off = control.subscribe(() => wake.abort());
  try {
    await sleep(ms, signal ? AbortSignal.any([signal, wake.signal]) : wake.signal);
  } finally {
    off();
  }
}

/** Events that mark progress, emitted once an action has been made. */
function announce(
  action: Parameters<typeof describeAction>[0],
  plan: SwapPlan,
  lock: SwapLock,
  now: number,
  emit: EventSink,
  started: number,
) {
  const ev = { service: plan.service, at: Date.now() };
  if (action.type !== "updateCursor") return;
  const c = action.cursor;
  const steps = effectiveSteps(plan);
  if (c.phase === "shifting" && c.stepIndex === 0) {
    emit({
      ...ev,
      type: "green.healthy",
      group: plan.green.name,
      healthy: plan.capacity.desired,
      elapsedMs: now - started,
    });
  } else if (c.bakeStartedAt !== undefined) {
    const index = lock.record.cursor.stepIndex;
    emit({
      ...ev,
      type: "step.shifted",
      step: index + 1,
      of: steps.length,
      weight: steps[index] ?? 100,
      weights: [],
    });
  } else if (c.stepIndex !== undefined || c.phase === "finalizing") {
    const index = c.phase === "finalizing" ? steps.length - 1 : c.stepIndex! - 1;
    emit({ ...ev, type: "step.baked", step: index + 1, weight: steps[index] ?? 100 });
  } else if (c.phase === "rolling-back" && c.failure) {
    emit({ ...ev, type: "rollback.started", code: c.failure.code, reason: c.failure.message });
  }
}

function finish(
  plan: SwapPlan,
  outcome: "completed" | "rolled-back",
  started: number,
  emit: EventSink,
  failure?: { code: string; message: string },
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
  });
  // a cancelled swap or one that AWS errors stopped is ROLLED_BACK: blue is live, exit 4
  const known = ["GATE_FAILED", "GREEN_UNHEALTHY", "LAUNCH_FAILED"] as const;
  const swapCode = (known as readonly string[]).includes(code)
    ? (code as (typeof known)[number])
    : "ROLLED_BACK";
  return {
    ok: false,
    service: plan.service,
    outcome,
    live: plan.blue?.name ?? null,
    standby: null,
    release: plan.blue?.release ?? plan.release.url,
    durationMs,
    error: new SwapError(
      swapCode,
      `${plan.service}: ${reason}; rolled back${plan.blue ? `, ${plan.blue.name} is live` : ""}`,
    ),
  };
}
