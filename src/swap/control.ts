/**
 * Steering a swap from anywhere: promote, pause and abort are requests written into the swap
 * record (If-Match); the process driving the swap applies them at its next observe. When no live
 * process drives the swap (it crashed, or stopped on drift), the requesting process takes the
 * lock over and drives the swap itself, as `resume` does. resume and unlock live here too: they
 * are the other ways to act on a record someone else wrote.
 */
import { describeTraffic } from "../aws/index.js";
import type { ServiceConfig } from "../core/config.js";
import { effectiveSteps } from "../core/decide.js";
import { InputError, LockError, SwapError } from "../core/errors.js";
import type { ControlRequests, SwapCursor } from "../core/swap-model.js";
import {
  currentOwner,
  describeHolder,
  holderIsGone,
  readRecord,
  SwapLock,
  type SwapRecord,
  writeControl,
} from "./record.js";
import { type RollbackResult, runRollback } from "./rollback.js";
import { type Gate, runLocked, type SwapDeps, type SwapResult } from "./swap.js";
import { trafficTarget } from "./traffic.js";
import { sleep } from "./wait.js";

/** A heartbeat older than this means the holder on another host is gone (default 60 s). */
export const STALE_AFTER_MS = 60_000;

export interface ControlOptions {
  /** gates for a swap this process takes over */
  gates?: Gate[];
  staleAfterMs?: number;
}

export interface ControlOutcome {
  service: string;
  swapId: string;
  request: keyof ControlRequests;
  /**
   * `driver`: the live process driving the swap (or, for a detached swap, the next reconcile
   * pass) applies it; `here`: this process took the swap over and drove it to its end
   */
  appliedBy: "driver" | "here";
  driver: SwapRecord["owner"];
  /** no process drives the swap: the next `reconcile` pass applies the request */
  detached?: boolean;
  /** when this process drove the swap to its end */
  result?: SwapResult;
}

function by(): string {
  const me = currentOwner();
  return `${me.user}@${me.host} (pid ${me.pid})`;
}

async function request(
  deps: SwapDeps,
  service: ServiceConfig,
  kind: keyof ControlRequests,
  value: (record: SwapRecord) => NonNullable<ControlRequests[keyof ControlRequests]>,
  options: ControlOptions,
): Promise<ControlOutcome> {
  const written = await writeControl(deps.clients, deps.state, service.name, (record) => {
    if (record.kind === "retire") {
      throw new LockError(
        "LOCK_HELD",
        `${service.name} is being retired: ${describeHolder(record)}`,
        { hint: "try again when it ends" },
      );
    }
    if (record.kind === "rollback" && kind !== "abort") {
      throw new SwapError(
        "NO_SWAP",
        `${service.name}: a rollback is in flight, not a swap; ${kind} applies to swaps`,
      );
    }
    return { ...record.control, [kind]: value(record) };
  });
  if (!written) {
    throw new SwapError("NO_SWAP", `${service.name} has no swap in flight`, {
      hint: `run \`switchyard status ${service.name}\` to see its groups`,
    });
  }
  deps.emit({
    service: service.name,
    at: Date.now(),
    type: "control",
    request: kind,
    by: by(),
    detail: JSON.stringify(written.control?.[kind] ?? {}),
  });
  const outcome: ControlOutcome = {
    service: service.name,
    swapId: written.swapId,
    request: kind,
    appliedBy: "driver",
    driver: written.owner,
    ...(written.detached ? { detached: true } : {}),
  };
  const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS;
  // a pause of a swap stopped on drift is kept for whoever drives it next; a detached swap's
  // next reconcile pass applies the request
  if (kind === "pause" || written.detached || !holderIsGone(written, staleAfterMs)) return outcome;
  const read = await readRecord(deps.clients, deps.state, service.name);
  if (!read) return outcome;
  return {
    ...outcome,
    appliedBy: "here",
    result: await takeOver(deps, service, read, {
      gates: options.gates,
      adoptDrift: kind === "promote",
    }),
  };
}

/** Ends the current bake now (`full`: skips the remaining steps too). */
export function promoteSwap(
  deps: SwapDeps,
  service: ServiceConfig,
  options: ControlOptions & { full?: boolean } = {},
) {
  return request(
    deps,
    service,
    "promote",
    (r) => ({
      step: Math.max(1, r.cursor.stepIndex + 1),
      full: options.full ?? false,
      by: by(),
      at: new Date().toISOString(),
    }),
    options,
  );
}

/** Holds the current step once its weights are in place, until promoted (or for `forMs`). */
export function pauseSwap(
  deps: SwapDeps,
  service: ServiceConfig,
  options: ControlOptions & { forMs?: number } = {},
) {
  return request(
    deps,
    service,
    "pause",
    () => ({
      ...(options.forMs ? { until: Date.now() + options.forMs } : {}),
      by: by(),
      at: new Date().toISOString(),
    }),
    options,
  );
}

/**
 * Rolls the swap in flight back to blue. With `wait`, returns once the swap has ended (driving it
 * here if its driver dies meanwhile) with blue live.
 */
export async function abortSwap(
  deps: SwapDeps,
  service: ServiceConfig,
  options: ControlOptions & { wait?: boolean } = {},
): Promise<{ live: string | null; release: string; attempted: string; outcome: ControlOutcome }> {
  const before = await readRecord(deps.clients, deps.state, service.name);
  const outcome = await request(
    deps,
    service,
    "abort",
    () => ({ by: by(), at: new Date().toISOString() }),
    options,
  );
  const plan = before?.record.plan;
  const summary = (o: ControlOutcome) => ({
    live: o.result?.live ?? plan?.blue?.name ?? null,
    release: o.result?.release ?? plan?.blue?.release ?? "",
    attempted: plan?.release.url ?? "",
    outcome: o,
  });
  if (outcome.appliedBy === "here" || !options.wait) return summary(outcome);
  // the driver applies the abort at its next observe; wait for the record to go
  const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS;
  for (;;) {
    await sleep(deps.pollIntervalMs, deps.signal);
    if (deps.signal?.aborted)
      throw new SwapError("ABORTED", `${service.name}: stopped waiting for the abort`);
    const read = await readRecord(deps.clients, deps.state, service.name);
    if (!read || read.record.swapId !== outcome.swapId) return summary(outcome);
    if (holderIsGone(read.record, staleAfterMs)) {
      const result = await takeOver(deps, service, read, { gates: options.gates });
      return summary({ ...outcome, appliedBy: "here", result });
    }
  }
}

/**
 * Takes over a record whose holder is gone and drives it to its end: a deploy forward (or back,
 * with an abort request), a rollback to its target. A deploy that never got its plan, or a
 * retire, had changed nothing the record tracks: the record is closed.
 */
export async function takeOver(
  deps: SwapDeps,
  service: ServiceConfig,
  read: { record: SwapRecord; etag: string },
  options: { gates?: Gate[]; adoptDrift?: boolean; abort?: boolean } = {},
): Promise<SwapResult> {
  const lock = await SwapLock.adopt(deps.clients, deps.state, read);
  const drift = read.record.halted?.drift;
  if (drift && options.adoptDrift) {
    // promote after drift: the listener as found now is the swap's own from here on, and the
    // swap goes on to its next step from there
    const now = await describeTraffic(deps.clients, trafficTarget(service));
    const c = lock.record.cursor;
    const steps = lock.record.plan ? effectiveSteps(lock.record.plan) : [];
    const next: Partial<SwapCursor> =
      c.phase !== "shifting"
        ? {}
        : c.stepIndex < steps.length - 1
          ? { stepIndex: c.stepIndex + 1, bakeStartedAt: undefined }
          : { phase: "finalizing" };
    await lock.update({
      cursor: { ...next, traffic: now?.targetGroups ?? drift.found },
      consume: ["promote", "pause"],
    });
  }
  if (
    options.abort &&
    lock.record.kind !== "rollback" &&
    lock.record.cursor.phase !== "rolling-back"
  ) {
    await lock.update({
      cursor: {
        phase: "rolling-back",
        failure: { code: "ABORTED", message: "aborted with resume --abort" },
        bakeStartedAt: undefined,
      },
    });
  }
  if (lock.record.kind === "rollback") {
    const plan = lock.record.rollback?.plan;
    if (!plan) {
      // the rollback stopped before it recorded its plan: plan again from what is live now
      const { rollback } = await import("./rollback.js");
      await lock.close("cancelled");
      return fromRollback(
        await rollback(
          deps,
          service,
          lock.record.rollback?.to ? { to: lock.record.rollback.to } : {},
        ),
      );
    }
    return fromRollback(await runRollback(deps, service, lock, plan));
  }
  if (lock.record.kind === "cycle" && lock.record.cycle) {
    const { runCycle } = await import("./cycle.js");
    const c = await runCycle(deps, service, lock);
    return {
      ok: true,
      service: c.service,
      outcome: "completed",
      live: c.group,
      standby: null,
      release: "",
      attempted: "",
      durationMs: c.durationMs,
    };
  }
  if (lock.record.kind === "retire" || !lock.record.plan) {
    await lock.close("cancelled");
    throw new SwapError(
      "NOTHING_TO_RESUME",
      `${service.name}: the interrupted ${lock.record.kind ?? "swap"} had changed nothing; its record was removed`,
    );
  }
  // a detached swap was announced when it was written; a pass goes on with it quietly
  return runLocked(deps, service, lock, {
    gates: options.gates,
    resumed: true,
    announce: read.record.detached === undefined,
  });
}

/** A rollback driven by resume or a takeover, reported like a swap. */
function fromRollback(r: RollbackResult): SwapResult {
  return {
    ok: true,
    service: r.service,
    outcome: "completed",
    live: r.live,
    standby: r.standby,
    release: r.release,
    attempted: r.release,
    durationMs: r.durationMs,
  };
}

export interface ResumeOptions {
  /** roll the swap back instead of finishing it */
  abort?: boolean;
  gates?: Gate[];
  /** a heartbeat older than this means the holder is gone (default 60 s) */
  staleAfterMs?: number;
}

/** Finishes (or with `abort`, undoes) an operation whose process stopped. */
export async function resume(
  deps: SwapDeps,
  service: ServiceConfig,
  options: ResumeOptions = {},
): Promise<SwapResult> {
  const read = await readRecord(deps.clients, deps.state, service.name);
  if (!read) {
    throw new SwapError("NOTHING_TO_RESUME", `${service.name} has no swap in flight`, {
      hint: `run \`switchyard status ${service.name}\` to see its groups`,
    });
  }
  const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS;
  if (!holderIsGone(read.record, staleAfterMs)) {
    throw new LockError(
      "LOCK_HELD",
      `${service.name} is still being swapped: ${describeHolder(read.record)}`,
      {
        hint: `to stop it, run \`switchyard abort ${service.name}\`; if that process is gone, wait ${Math.round(staleAfterMs / 1000)}s and try again`,
        details: {
          swapId: read.record.swapId,
          owner: read.record.owner,
          kind: read.record.kind ?? "deploy",
        },
      },
    );
  }
  return takeOver(deps, service, read, { gates: options.gates, abort: options.abort });
}

/** What one `reconcile` pass did for a service. */
export interface PassResult {
  service: string;
  /**
   * `none`: no swap in flight; `held`: a live process drives it (the pass leaves it alone);
   * `advanced`: what was due is done and the swap waits for the next pass; `completed`,
   * `rolled-back`: it ended in this pass
   */
  outcome: "none" | "held" | "advanced" | "completed" | "rolled-back";
  swapId?: string;
  /** the holder, when `held` */
  holder?: string;
  /** the swap's result, when it ended in this pass */
  result?: SwapResult;
  /** what the swap waits for until the next pass, when `advanced` */
  waiting?: string;
}

/**
 * One `reconcile` pass over a service: takes its swap record when no live process drives it (a
 * `deploy --detach`, an earlier pass, a process that died), does what is due (an action, a
 * finished bake, a gate check) and lets go again, detached. Rollbacks and cycles found this way
 * are finished in the pass (they take seconds, not a bake).
 */
export async function reconcilePass(
  deps: SwapDeps,
  service: ServiceConfig,
  options: { gates?: Gate[]; staleAfterMs?: number } = {},
): Promise<PassResult> {
  const read = await readRecord(deps.clients, deps.state, service.name);
  if (!read) return { service: service.name, outcome: "none" };
  const swapId = read.record.swapId;
  if (!holderIsGone(read.record, options.staleAfterMs ?? STALE_AFTER_MS)) {
    return { service: service.name, outcome: "held", swapId, holder: describeHolder(read.record) };
  }
  let waiting: string | undefined;
  const emit: SwapDeps["emit"] = (event) => {
    if (event.type === "waiting") waiting = event.reason;
    deps.emit(event);
  };
  try {
    const result = await takeOver({ ...deps, emit, pass: true }, service, read, {
      ...(options.gates ? { gates: options.gates } : {}),
    });
    if (result.outcome === "in-flight") {
      return {
        service: service.name,
        outcome: "advanced",
        swapId,
        result,
        ...(waiting ? { waiting } : {}),
      };
    }
    return { service: service.name, outcome: result.outcome, swapId, result };
  } catch (error) {
    // another pass or process took it first: it is driven; this pass leaves it alone
    if (error instanceof LockError && error.code === "LOCK_HELD") {
      return { service: service.name, outcome: "held", swapId, holder: error.message };
    }
    throw error;
  }
}

export interface UnlockResult {
  service: string;
  swapId: string;
  owner: SwapRecord["owner"];
  phase: string;
}

/** Breaks a lock whose holder is gone; refused while its heartbeat is fresh or its pid lives here. */
export async function unlock(
  deps: Pick<SwapDeps, "clients" | "state">,
  service: ServiceConfig,
  options: { force?: boolean; staleAfterMs?: number } = {},
): Promise<UnlockResult> {
  if (!options.force) {
    throw new InputError("INVALID_INPUT", `unlock ${service.name} needs --force`, {
      hint: "breaking a lock abandons the swap that holds it; prefer `switchyard resume` to finish or undo it",
    });
  }
  const read = await readRecord(deps.clients, deps.state, service.name);
  if (!read) throw new SwapError("NOTHING_TO_RESUME", `${service.name} is not locked`);
  const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS;
  if (!holderIsGone(read.record, staleAfterMs)) {
    throw new LockError(
      "LOCK_NOT_STALE",
      `${service.name} is held by a live swap: ${describeHolder(read.record)}`,
      {
        hint: `its process is alive or its heartbeat is younger than ${Math.round(staleAfterMs / 1000)}s; to stop it, run \`switchyard abort ${service.name}\``,
      },
    );
  }
  const lock = await SwapLock.adopt(deps.clients, deps.state, read);
  await lock.close("unlocked");
  return {
    service: service.name,
    swapId: read.record.swapId,
    owner: read.record.owner,
    phase: read.record.cursor.phase,
  };
}
