/**
 * Watching a service and waiting for its swap. What counts as a change of status is a stable
 * projection of it (heartbeats and their ages are not changes); the watch polls `status` and
 * yields each change. The wait polls the swap record until it is gone (or halted), then reads how
 * the swap ended from its history copy and maps that to the exit code a script expects.
 */
import { type Clients, getJson, listObjects } from "../aws/index.js";
import {
  AwsError,
  ExitCode,
  InputError,
  LockError,
  rolledBackCode,
  SwapError,
  type SwitchyardError,
} from "../core/errors.js";
import {
  historyKeyPrefix,
  historyPrefix,
  type RecordKind,
  readRecord,
  type StateLocation,
  type SwapRecord,
} from "./record.js";
import type { ServiceStatus } from "./status.js";
import { abortedError, sleep } from "./wait.js";

// ─── what counts as a change ──────────────────────────────────────────────────────────────────

/**
 * The parts of a status a change is made of: the groups' roles, releases, weights, capacity and
 * health counts; the swap's phase, step, weights set, bake, pause, control requests, failure and
 * halt; the warnings. Not heartbeats nor their ages, which change on every read.
 */
export function statusProjection(s: ServiceStatus) {
  const w = s.swap;
  return {
    service: s.service,
    groups: s.groups.map((g) => ({
      name: g.name,
      role: g.role,
      release: g.release,
      weight: g.weight,
      capacity: { min: g.capacity.min, max: g.capacity.max, desired: g.capacity.desired },
      instances: { inService: g.instances.inService, healthy: g.instances.healthy },
      suspendedProcesses: [...g.suspendedProcesses],
      deleting: g.deleting,
    })),
    swap: w
      ? {
          kind: w.kind,
          swapId: w.swapId,
          phase: w.phase,
          step: w.step,
          of: w.of,
          weight: w.weight,
          release: w.release,
          green: w.green,
          blue: w.blue,
          owner: { host: w.owner.host, pid: w.owner.pid, user: w.owner.user },
          bakeStartedAt: w.bake?.startedAt ?? null,
          traffic: w.traffic,
          paused: w.paused,
          control: w.control,
          failure: w.failure,
          halted: w.halted,
        }
      : null,
    warnings: [...s.warnings],
  };
}

export type StatusProjection = ReturnType<typeof statusProjection>;

/** The projection as a string: two statuses are the same when their keys are equal. */
export function statusKey(s: ServiceStatus): string {
  return JSON.stringify(statusProjection(s));
}

/** Whether `next` differs from `previous` in anything but heartbeats (always, after none). */
export function statusChanged(previous: ServiceStatus | undefined, next: ServiceStatus): boolean {
  return previous === undefined || statusKey(previous) !== statusKey(next);
}

// ─── watching ─────────────────────────────────────────────────────────────────────────────────

export interface WatchOptions {
  /** ends the watch (without an error) */
  signal?: AbortSignal;
  /** how often the status is read (default: the switchyard's `pollIntervalMs`) */
  intervalMs?: number;
}

/**
 * Reads the status now and then every `intervalMs`, yielding the first at once and then each one
 * that differs from the last yielded (`statusChanged`). Ends when the signal aborts, also during a
 * read; an error of `read` ends it with that error.
 */
export async function* watchStatus(
  read: () => Promise<ServiceStatus>,
  options: { intervalMs: number; signal?: AbortSignal },
): AsyncGenerator<ServiceStatus, void, undefined> {
  const { signal, intervalMs } = options;
  let last: string | undefined;
  while (!signal?.aborted) {
    const startedAt = Date.now();
    const s = await unlessAborted(read(), signal);
    if (s === undefined) return;
    const key = statusKey(s);
    if (key !== last) {
      last = key;
      yield s;
    }
    await sleep(Math.max(0, intervalMs - (Date.now() - startedAt)), signal);
  }
}

/** The promise's value, or undefined as soon as the signal aborts (its later outcome ignored). */
function unlessAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T | undefined> {
  if (!signal) return promise;
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => undefined);
      resolve(undefined);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

// ─── how a swap ended ─────────────────────────────────────────────────────────────────────────

/**
 * How the swap in flight when a wait began ended: `none` (there was none), an `outcome` of its
 * history copy, `halted` (it stopped on drift or a lost lock and no process drives it), or
 * `unknown` (its record went without a history copy: removed by hand).
 */
export type SwapEndOutcome =
  | "none"
  | "completed"
  | "rolled-back"
  | "halted"
  | "cancelled"
  | "unlocked"
  | "unknown";

/** The exit code of each ending: what `switchyard status --wait` exits with. */
export const ENDING_EXIT_CODES: Readonly<Record<SwapEndOutcome, ExitCode>> = {
  none: ExitCode.ok,
  completed: ExitCode.ok,
  "rolled-back": ExitCode.rolledBack,
  halted: ExitCode.failed,
  cancelled: ExitCode.failed,
  unlocked: ExitCode.failed,
  unknown: ExitCode.failed,
};

export interface SwapEnding {
  service: string;
  outcome: SwapEndOutcome;
  /** 0 completed (or none in flight), 4 rolled back (blue is live), 1 halted, cancelled, unlocked */
  exitCode: ExitCode;
  /** the swap that was in flight; null for `none` */
  swapId: string | null;
  kind: RecordKind | null;
  /** the release it was putting live */
  release: string | null;
  /** the group it was putting live (a rollback's target), and the one live before */
  green: string | null;
  blue: string | null;
  /** why it rolled back, or why it halted */
  failure: { code: string; message: string } | null;
  halted: SwapRecord["halted"] | null;
  endedAt: string | null;
  /** how long the wait took */
  waitedMs: number;
  /** the error a script sees: set whenever `exitCode` is not 0, with that exit code */
  error?: SwitchyardError;
}

/**
 * How a swap ended, from its record: the history copy (with `outcome`), a halted record, or the
 * last record seen in flight before it went without a history copy (`unknown`). Pure.
 */
export function swapEnding(record: SwapRecord, waitedMs: number): SwapEnding {
  const outcome: SwapEndOutcome = record.outcome ?? (record.halted ? "halted" : "unknown");
  const service = record.service;
  const target = record.rollback?.plan;
  const release = record.plan?.release.url ?? target?.to.release ?? null;
  const green = record.plan?.green.name ?? target?.to.name ?? record.rollback?.to ?? null;
  const blue = record.plan ? (record.plan.blue?.name ?? null) : (target?.from?.name ?? null);
  const halted = record.halted ?? null;
  const failure =
    outcome === "halted" && halted
      ? { code: halted.code, message: halted.message }
      : (record.cursor.failure ?? null);
  const what = `${kindName(record)} ${record.swapId}`;
  const error = endingError(outcome, { service, what, failure, halted, blue });
  return {
    service,
    outcome,
    exitCode: ENDING_EXIT_CODES[outcome],
    swapId: record.swapId,
    kind: record.kind ?? "deploy",
    release,
    green,
    blue,
    failure,
    halted,
    endedAt: record.endedAt ?? halted?.at ?? null,
    waitedMs,
    ...(error ? { error } : {}),
  };
}

/** The ending when no swap was in flight. */
export function noSwapEnding(service: string, waitedMs: number): SwapEnding {
  return {
    service,
    outcome: "none",
    exitCode: ExitCode.ok,
    swapId: null,
    kind: null,
    release: null,
    green: null,
    blue: null,
    failure: null,
    halted: null,
    endedAt: null,
    waitedMs,
  };
}

function endingError(
  outcome: SwapEndOutcome,
  r: {
    service: string;
    what: string;
    failure: { code: string; message: string } | null;
    halted: SwapRecord["halted"] | null;
    blue: string | null;
  },
): SwitchyardError | undefined {
  const { service, what } = r;
  switch (outcome) {
    case "none":
    case "completed":
      return undefined;
    case "rolled-back": {
      const code = r.failure?.code ?? "ROLLED_BACK";
      const known = rolledBackCode(code);
      const why = r.failure ? ` (${r.failure.message})` : "";
      return new SwapError(
        known,
        `${service}: ${what} was rolled back${why}${r.blue ? `; ${r.blue} is live` : ""}`,
      );
    }
    case "halted": {
      const h = r.halted;
      const message = `${service}: ${what} stopped: ${h?.message ?? "no process drives it"}`;
      if (h?.code === "DRIFT") {
        return new SwapError("DRIFT", `${message}; it left the change as found`, {
          hint: `\`switchyard promote ${service}\` adopts the change and goes on; \`switchyard abort ${service}\` puts blue back`,
        });
      }
      if (h?.code === "LOCK_LOST") {
        return new LockError("LOCK_LOST", message, {
          hint: `run \`switchyard status ${service}\`, then \`switchyard resume ${service}\``,
        });
      }
      return new SwapError("SWAP_INCOMPLETE", message, {
        hint: `\`switchyard resume ${service}\` finishes it (or \`--abort\` undoes it)`,
      });
    }
    case "cancelled":
      return new SwapError(
        "ABORTED",
        `${service}: ${what} was cancelled before it finished${r.failure ? ` (${r.failure.code}: ${r.failure.message})` : ""}`,
        { hint: `run \`switchyard status ${service}\` to see its groups` },
      );
    case "unlocked":
      return new LockError(
        "LOCK_LOST",
        `${service}: the lock of ${what} was broken with unlock; it stopped where it was`,
        { hint: `run \`switchyard status ${service}\` to see what it left behind` },
      );
    case "unknown":
      return new LockError(
        "LOCK_LOST",
        `${service}: the record of ${what} was removed without a history copy; how it ended is unknown`,
        { hint: `run \`switchyard status ${service}\` to see its groups` },
      );
  }
}

// ─── waiting ──────────────────────────────────────────────────────────────────────────────────

/** How long a wait lasts unless told otherwise. */
export const DEFAULT_WAIT_TIMEOUT_MS = 60 * 60_000;

export interface WaitForSwapOptions {
  /** TIMEOUT once this has passed with the swap still in flight (default 1 h) */
  timeoutMs?: number;
  /** ABORTED when it aborts; the swap goes on */
  signal?: AbortSignal;
  /** how often the swap record is read (default: the switchyard's `pollIntervalMs`) */
  intervalMs?: number;
}

export interface WaitDeps {
  clients: Clients;
  state: StateLocation;
  pollIntervalMs: number;
}

/**
 * Waits until no swap record is in flight for the service, or the one there is halted, and says
 * how the swap in flight when the wait began ended. With none in flight, returns at once
 * (`none`, exit 0). One GetObject per poll; the history is read once, at the end.
 */
export async function waitForSwap(
  deps: WaitDeps,
  service: string,
  options: WaitForSwapOptions = {},
): Promise<SwapEnding> {
  const { signal } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const intervalMs = options.intervalMs ?? deps.pollIntervalMs;
  if (!(timeoutMs > 0) || !(intervalMs > 0)) {
    throw new InputError(
      "INVALID_INPUT",
      `waitForSwap needs a positive timeoutMs and intervalMs; got ${timeoutMs} and ${intervalMs}`,
    );
  }
  const startedAt = Date.now();
  const deadline = startedAt + timeoutMs;
  const what = `waiting for the swap of ${service}`;
  if (signal?.aborted) throw abortedError(what);
  const first = await readRecord(deps.clients, deps.state, service);
  if (!first) return noSwapEnding(service, Date.now() - startedAt);
  let seen = first.record;
  for (;;) {
    if (seen.halted) return swapEnding(seen, Date.now() - startedAt);
    const left = deadline - Date.now();
    if (left <= 0) throw timedOut(seen, timeoutMs);
    await sleep(Math.min(intervalMs, left), signal);
    if (signal?.aborted) {
      throw new SwapError("ABORTED", `${service}: stopped waiting for ${describeSwap(seen)}`, {
        hint: `it goes on; \`switchyard abort ${service}\` stops it`,
      });
    }
    const now = await readRecord(deps.clients, deps.state, service);
    if (!now || now.record.swapId !== seen.swapId) {
      const ended = await readHistoryCopy(deps.clients, deps.state, seen);
      return swapEnding(ended ?? seen, Date.now() - startedAt);
    }
    seen = now.record;
  }
}

function describeSwap(r: SwapRecord): string {
  const at = r.cursor.stepIndex >= 0 ? `, step ${r.cursor.stepIndex + 1}` : "";
  return `${kindName(r)} ${r.swapId} (${r.cursor.phase}${at})`;
}

/** `swap` for a deploy, else what holds the record (`rollback`, `retire`). */
function kindName(r: SwapRecord): string {
  return r.kind === "rollback" || r.kind === "retire" ? r.kind : "swap";
}

function timedOut(r: SwapRecord, timeoutMs: number): AwsError {
  return new AwsError(
    "TIMEOUT",
    `${r.service}: timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${describeSwap(r)} to end`,
    {
      hint: `it goes on; \`switchyard status ${r.service} --watch\` follows it`,
      details: { swapId: r.swapId },
    },
  );
}

/**
 * The history copy of a swap record that has gone. Its key is `<stamp>-<swapId>-<group>.json`,
 * the group being whatever the swap named by the time it ended: listed by the part before it.
 */
export async function readHistoryCopy(
  clients: Clients,
  state: StateLocation,
  record: SwapRecord,
): Promise<SwapRecord | undefined> {
  const prefix = historyKeyPrefix(state, record);
  let keys = (await listObjects(clients, state.bucket, prefix)).map((o) => o.key);
  if (keys.length === 0) {
    keys = (await listObjects(clients, state.bucket, historyPrefix(state, record.service)))
      .map((o) => o.key)
      .filter((k) => k.includes(`-${record.swapId}-`));
  }
  const key = keys.sort().at(-1);
  if (key === undefined) return undefined;
  return (await getJson<SwapRecord>(clients, state.bucket, key))?.value;
}
