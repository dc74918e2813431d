/**
 * resume: finishes (or with `abort`, undoes) a swap whose process stopped, from its swap record
 * and what is observed now. unlock: breaks a stale lock. Both refuse while the holder is alive.
 */
import type { ServiceConfig } from "../core/config.js";
import { InputError, LockError, SwapError } from "../core/errors.js";
import { runLocked, type SwapDeps } from "./deploy.js";
import type { Gate, SwapResult } from "./loop.js";
import { currentOwner, describeHolder, readRecord, SwapLock, type SwapRecord } from "./record.js";

export interface ResumeOptions {
  /** roll the swap back instead of finishing it */
  abort?: boolean;
  gates?: Gate[];
  /** a heartbeat older than this means the holder is gone (default 60 s) */
  staleAfterMs?: number;
}

/** Whether the record's holder is certainly gone: a dead pid on this host, or a stale heartbeat. */
export function holderIsGone(record: SwapRecord, staleAfterMs: number, now = Date.now()): boolean {
  const me = currentOwner();
  if (record.owner.host === me.host) {
    if (record.owner.pid === me.pid) return true;
    try {
      process.kill(record.owner.pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH") return true;
    }
  }
  return now - Date.parse(record.heartbeatAt) > staleAfterMs;
}

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
  const staleAfterMs = options.staleAfterMs ?? 60_000;
  if (!holderIsGone(read.record, staleAfterMs)) {
    throw new LockError(
      "LOCK_HELD",
      `${service.name} is still being swapped: ${describeHolder(read.record)}`,
      {
        hint: `its heartbeat is fresh; if that process is gone, wait ${Math.round(staleAfterMs / 1000)}s and try again`,
      },
    );
  }
  const lock = await SwapLock.adopt(deps.clients, deps.state, read);
  if (options.abort && lock.record.cursor.phase !== "rolling-back") {
    await lock.update({
      cursor: {
        phase: "rolling-back",
        failure: { code: "ABORTED", message: "aborted with resume --abort" },
      },
    });
  }
  return runLocked(deps, service, lock, { gates: options.gates, resumed: true });
}

export interface UnlockResult {
  service: string;
  swapId: string;
  owner: SwapRecord["owner"];
  phase: string;
}

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
  if (!read) {
    throw new SwapError("NOTHING_TO_RESUME", `${service.name} is not locked`);
  }
  const staleAfterMs = options.staleAfterMs ?? 60_000;
  if (!holderIsGone(read.record, staleAfterMs)) {
    throw new LockError(
      "LOCK_NOT_STALE",
      `${service.name} is held by a live swap: ${describeHolder(read.record)}`,
      {
        hint: `its heartbeat is younger than ${Math.round(staleAfterMs / 1000)}s; wait for it or stop that process first`,
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
