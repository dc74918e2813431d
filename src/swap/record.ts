/**
 * The swap record: one JSON object per service in S3 that is the lock, the cursor and the control
 * channel of whatever changes the service's traffic (a deploy, a rollback, a retire).
 *
 * - Created with `If-None-Match: *`, so only one operation holds it; updated with `If-Match`.
 * - Every conditional write is sent once. When its answer is lost (timeout, reset, 5xx) the record
 *   is read back and the outcome decided by the write's id and the owner, never by sending it
 *   again into our own 412.
 * - Other processes write control requests (promote, pause, abort) into it; the holder merges
 *   them into its next write. A record that is gone (404) or held by someone else is a lost lock.
 * - Closed into a history object when the operation ends; a completed deploy or rollback also
 *   writes `last.json`, which names the group that was live before it (rollback's target).
 */
import { randomBytes } from "node:crypto";
import { hostname, userInfo } from "node:os";
import {
  type Clients,
  deleteObject,
  errorName,
  getJson,
  httpStatus,
  listObjects,
  PreconditionFailed,
  putJson,
} from "../aws/index.js";
import type { CycleCursor, CyclePlan } from "../core/cycle-rules.js";
import { LockError } from "../core/errors.js";
import type {
  ControlRequests,
  Drift,
  RollbackPlan,
  SwapCursor,
  SwapPlan,
} from "../core/swap-model.js";

export interface StateLocation {
  bucket: string;
  prefix: string;
}

export interface Owner {
  host: string;
  pid: number;
  user: string;
  /** tells apart two holders in one process (a library driving and steering) */
  token?: string;
}

export type RecordKind = "deploy" | "rollback" | "retire" | "cycle" | "adopt";

export interface SwapRecord {
  version: 1;
  /** what holds the record; absent in records written before rollbacks and retires took it */
  kind?: RecordKind;
  swapId: string;
  service: string;
  owner: Owner;
  startedAt: string;
  heartbeatAt: string;
  /** a fresh id per write: a write whose answer was lost is recognised by reading it back */
  writeId?: string;
  /** a deploy's plan, once made (a deploy takes the lock first, then plans) */
  plan?: SwapPlan;
  /** a rollback's request and, once made, its plan */
  rollback?: { to?: string; plan?: RollbackPlan };
  cursor: SwapCursor;
  /** a cycle's plan and the instances it has replaced so far */
  cycle?: { plan: CyclePlan } & CycleCursor;
  control?: ControlRequests;
  /** the operation stopped without finishing and no process drives it (drift, a lost lock) */
  halted?: { code: string; message: string; at: string; drift?: Drift };
  /**
   * No process drives the swap: `deploy --detach` wrote it, or a `reconcile` pass advanced it by
   * what was due and let go. The next pass (or `resume`, or any process) takes it over.
   */
  detached?: { at: string };
  /** set when the operation ends, in the history copy */
  outcome?: "completed" | "rolled-back" | "unlocked" | "cancelled";
  endedAt?: string;
}

/** A completed deploy or rollback: which group was live before it and which after. */
export interface LastChange {
  swapId: string;
  kind: "deploy" | "rollback";
  endedAt: string;
  before: { name: string; targetGroupArn: string; release: string } | null;
  after: { name: string; targetGroupArn: string; release: string };
}

export function currentOwner(): Owner {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return { host: hostname(), pid: process.pid, user, token: newId() };
}

const newId = () => randomBytes(6).toString("hex");

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, "");
}

function serviceKey(location: StateLocation, service: string, name: string): string {
  const prefix = trimSlashes(location.prefix);
  return `${prefix ? `${prefix}/` : ""}${service}/${name}`;
}

export function recordKey(location: StateLocation, service: string): string {
  return serviceKey(location, service, "swap.json");
}

export function lastChangeKey(location: StateLocation, service: string): string {
  return serviceKey(location, service, "last.json");
}

export function historyKey(location: StateLocation, record: SwapRecord): string {
  const group =
    record.plan?.green.name ??
    record.rollback?.plan?.to.name ??
    record.cycle?.plan.group ??
    record.kind ??
    "swap";
  return `${historyKeyPrefix(location, record)}${group}.json`;
}

/** The start of a record's history key, whatever group it named by the time it ended. */
export function historyKeyPrefix(
  location: StateLocation,
  record: Pick<SwapRecord, "service" | "startedAt" | "swapId">,
): string {
  const stamp = record.startedAt.replace(/[:.]/g, "-");
  return `${historyPrefix(location, record.service)}${stamp}-${record.swapId}-`;
}

export function historyPrefix(location: StateLocation, service: string): string {
  return serviceKey(location, service, "history/");
}

/**
 * Sequences used by earlier swaps, read from the history keys, so a group deleted after a
 * failed swap never has its name reused.
 */
export async function usedSequences(
  clients: Clients,
  location: StateLocation,
  service: string,
): Promise<number[]> {
  const objects = await listObjects(clients, location.bucket, historyPrefix(location, service));
  return objects.flatMap((o) => {
    const m = /-v(\d+)\.json$/.exec(o.key);
    return m ? [Number(m[1])] : [];
  });
}

export function describeHolder(record: SwapRecord, now = Date.now()): string {
  const age = Math.round((now - Date.parse(record.heartbeatAt)) / 1000);
  const swap = !record.kind || record.kind === "deploy";
  const what = swap ? "swap" : record.kind;
  const c = record.cursor;
  const where = swap ? `, ${c.phase}${c.stepIndex >= 0 ? ` at step ${c.stepIndex + 1}` : ""}` : "";
  if (record.detached) {
    return `${what} ${record.swapId}${where}, driven by reconcile passes (last one ${record.detached.at} by ${record.owner.user}@${record.owner.host}), started ${record.startedAt}`;
  }
  return `${what} ${record.swapId} by ${record.owner.user}@${record.owner.host} (pid ${record.owner.pid})${where}, started ${record.startedAt}, last heartbeat ${age}s ago`;
}

export async function readRecord(
  clients: Clients,
  location: StateLocation,
  service: string,
): Promise<{ record: SwapRecord; etag: string } | undefined> {
  const got = await getJson<SwapRecord>(clients, location.bucket, recordKey(location, service));
  return got ? { record: got.value, etag: got.etag } : undefined;
}

export async function readLastChange(
  clients: Clients,
  location: StateLocation,
  service: string,
): Promise<LastChange | undefined> {
  const got = await getJson<LastChange>(clients, location.bucket, lastChangeKey(location, service));
  return got?.value;
}

/** Tokens of the locks this process holds and drives now. */
const held = new Set<string>();

/** Record writes this process has under way. */
const pending = new Set<Promise<unknown>>();

/**
 * Waits (at most `ms`) for this process's record writes under way to land: a process about to
 * exit at once (a second Ctrl-C) leaves the record as it last meant it to be.
 */
export async function settleRecordWrites(ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all([...pending]),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Whether the record's holder is certainly gone: the operation halted, a dead pid (or a lock this
 * process no longer drives) on this host, or, on another host, a heartbeat older than
 * `staleAfterMs`. A live pid on this host is never gone, whatever its heartbeat says.
 */
export function holderIsGone(record: SwapRecord, staleAfterMs: number, now = Date.now()): boolean {
  if (record.halted || record.detached) return true;
  const me = currentOwner();
  if (record.owner.host === me.host) {
    if (record.owner.pid === me.pid) {
      return record.owner.token === undefined || !held.has(record.owner.token);
    }
    try {
      process.kill(record.owner.pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ESRCH";
    }
  }
  return now - Date.parse(record.heartbeatAt) > staleAfterMs;
}

/** What a holder changes in its record. */
export interface RecordPatch {
  cursor?: Partial<SwapCursor>;
  plan?: SwapPlan;
  rollback?: SwapRecord["rollback"];
  cycle?: SwapRecord["cycle"];
  owner?: Owner;
  halted?: SwapRecord["halted"];
  detached?: SwapRecord["detached"];
  /** control requests answered by this write: removed, unless a newer one replaced them */
  consume?: Array<keyof ControlRequests>;
  /** control requests this process makes of itself (a cancel written as an abort) */
  request?: ControlRequests;
}

/** Whether a failed write may have been applied: anything but a definite answer from S3. */
function ambiguous(error: unknown): boolean {
  if (error instanceof PreconditionFailed) return false;
  if (errorName(error) === "NoSuchKey") return false;
  const status = httpStatus(error);
  return status === undefined || status >= 500 || status === 408 || status === 429;
}

/** A write that gets no definite answer this many times in a row gives up. */
const MAX_WRITE_ATTEMPTS = 5;

/** A held swap record. Every write is conditional on the ETag of the last one, and sent once. */
export class SwapLock {
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private writing: Promise<unknown> = Promise.resolve();
  private lostError: LockError | undefined;
  private listeners = new Set<() => void>();
  /** when S3 last confirmed this process holds the record (a write or a read) */
  private syncedAt = Date.now();

  private constructor(
    private readonly clients: Clients,
    private readonly location: StateLocation,
    private current: SwapRecord,
    private etag: string,
  ) {
    if (current.owner.token) held.add(current.owner.token);
  }

  get record(): SwapRecord {
    return this.current;
  }

  /** Set once the lock is known lost (deleted, or taken by another process). */
  get lost(): LockError | undefined {
    return this.lostError;
  }

  /** Called when another process's control request arrives or the lock is lost. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes the lock for a new operation; LOCK_HELD (naming the holder) if a record exists. */
  static async acquire(
    clients: Clients,
    location: StateLocation,
    record: SwapRecord,
  ): Promise<SwapLock> {
    const key = recordKey(location, record.service);
    const mine: SwapRecord = { ...record, writeId: newId() };
    for (let attempt = 1; ; attempt++) {
      try {
        const etag = await putJson(
          clients,
          location.bucket,
          key,
          mine,
          { ifNoneMatch: true },
          { retries: 0 },
        );
        return new SwapLock(clients, location, mine, etag);
      } catch (error) {
        if (!(error instanceof PreconditionFailed) && !ambiguous(error)) throw error;
        // the answer was lost, or the key exists: whose record is there decides
        const found = await readRecord(clients, location, record.service);
        if (found && found.record.writeId === mine.writeId) {
          return new SwapLock(clients, location, mine, found.etag);
        }
        if (found) throw lockHeld(found.record);
        if (!ambiguous(error) || attempt >= MAX_WRITE_ATTEMPTS) {
          if (error instanceof PreconditionFailed) throw lockHeld(undefined, record.service);
          throw error;
        }
      }
    }
  }

  /** Takes over an existing record (resume, a takeover), conditional on it not having changed. */
  static async adopt(
    clients: Clients,
    location: StateLocation,
    read: { record: SwapRecord; etag: string },
  ): Promise<SwapLock> {
    // the takeover is one conditional write naming the new owner; a change meanwhile fails it
    const { halted: _halted, detached: _detached, ...rest } = read.record;
    const taken: SwapRecord = { ...rest, owner: currentOwner() };
    const lock = new SwapLock(clients, location, taken, read.etag);
    try {
      await lock.write(
        { ...taken, heartbeatAt: new Date().toISOString(), writeId: newId() },
        read.record,
      );
    } catch (error) {
      lock.release();
      if (error instanceof LockError) {
        throw new LockError(
          "LOCK_HELD",
          `${read.record.service} was taken over by another process first`,
          {
            hint: `run \`switchyard status ${read.record.service}\``,
          },
        );
      }
      throw error;
    }
    return lock;
  }

  /** Changes the record; writes are serialised, so a heartbeat never races a cursor update. */
  update(patch: RecordPatch = {}): Promise<void> {
    const run = this.writing.then(() => this.apply(patch));
    const settled = run.catch(() => undefined);
    this.writing = settled;
    pending.add(settled);
    void settled.then(() => pending.delete(settled));
    return run;
  }

  heartbeat(): Promise<void> {
    return this.update({});
  }

  /** Refreshes the heartbeat every `ms` on its own timer, also while a long gate runs. */
  startHeartbeat(ms: number): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      if (this.lostError) return this.stopHeartbeat();
      this.heartbeat().catch(() => undefined);
    }, ms);
    this.heartbeatTimer.unref();
  }

  stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /**
   * Reads the record to see other processes' control requests and whether the lock still holds.
   * One GetObject; nothing is written.
   */
  async refresh({ unlessSyncedWithinMs = 0 } = {}): Promise<void> {
    await this.writing;
    this.assertHeld();
    // S3 said so a moment ago (the lock was just taken or written): no read on the critical path
    if (Date.now() - this.syncedAt < unlessSyncedWithinMs) return;
    const found = await readRecord(this.clients, this.location, this.current.service);
    this.syncedAt = Date.now();
    if (found?.etag === this.etag) return;
    this.absorb(found);
  }

  /** Throws LOCK_LOST once the lock is known lost. */
  assertHeld(): void {
    if (this.lostError) throw this.lostError;
  }

  /** Leaves the record in place, marked as no longer driven (drift), so another process may take over. */
  async halt(halted: NonNullable<SwapRecord["halted"]>): Promise<void> {
    this.stopHeartbeat();
    try {
      await this.update({ halted });
    } finally {
      this.release();
    }
  }

  /**
   * Leaves the record in place for the next `reconcile` pass (or any process) to take over: marked
   * detached, its heartbeat stopped, no longer driven here.
   */
  async detach(): Promise<void> {
    this.stopHeartbeat();
    try {
      await this.update({ detached: { at: new Date().toISOString() } });
    } finally {
      this.release();
    }
  }

  /** Writes the history copy (and `last.json` for a completed change), then deletes the record. */
  async close(outcome: NonNullable<SwapRecord["outcome"]>, last?: LastChange): Promise<void> {
    this.stopHeartbeat();
    await this.writing;
    this.assertHeld();
    const ended: SwapRecord = { ...this.current, outcome, endedAt: new Date().toISOString() };
    const { bucket } = this.location;
    // the history keeps deploys and rollbacks that made it to a plan, not retires' locks
    const worthKeeping =
      ended.plan !== undefined ||
      ended.rollback?.plan !== undefined ||
      (ended.cycle?.replaced.length ?? 0) > 0;
    await Promise.all([
      worthKeeping
        ? putJson(this.clients, bucket, historyKey(this.location, ended), ended)
        : undefined,
      last
        ? putJson(this.clients, bucket, lastChangeKey(this.location, ended.service), last)
        : undefined,
    ]);
    const key = recordKey(this.location, this.current.service);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await deleteObject(this.clients, bucket, key, this.etag, { retries: 0 });
          return;
        } catch (error) {
          if (!(error instanceof PreconditionFailed) && !ambiguous(error)) throw error;
          const found = await readRecord(this.clients, this.location, this.current.service);
          if (!found) return; // deleted: our delete went through
          this.absorb(found); // a control request that came too late, or a lost lock
          if (attempt >= MAX_WRITE_ATTEMPTS) throw error;
        }
      }
    } finally {
      this.release();
    }
  }

  /** This process no longer drives the record. */
  release(): void {
    this.stopHeartbeat();
    if (this.current.owner.token) held.delete(this.current.owner.token);
  }

  private async apply(patch: RecordPatch): Promise<void> {
    this.assertHeld();
    const next: SwapRecord = {
      ...this.current,
      ...(patch.plan ? { plan: patch.plan } : {}),
      ...(patch.rollback ? { rollback: patch.rollback } : {}),
      ...(patch.cycle ? { cycle: patch.cycle } : {}),
      ...(patch.owner ? { owner: patch.owner } : {}),
      ...(patch.halted ? { halted: patch.halted } : {}),
      ...(patch.detached ? { detached: patch.detached } : {}),
      cursor: withoutUndefined({ ...this.current.cursor, ...patch.cursor }),
      control: { ...consumed(this.current.control, patch.consume ?? []), ...patch.request },
      heartbeatAt: new Date().toISOString(),
      writeId: newId(),
    };
    if (next.control && Object.keys(next.control).length === 0) delete next.control;
    await this.write(next, this.current, patch.consume ?? [], patch.request);
  }

  /**
   * Sends `next` with If-Match once per round; after a lost answer reads back and decides. A
   * control request written meanwhile is merged and the write sent again with the new ETag.
   */
  private async write(
    next: SwapRecord,
    base: SwapRecord,
    consume: Array<keyof ControlRequests> = [],
    request: ControlRequests = {},
  ) {
    const key = recordKey(this.location, next.service);
    let wanted = next;
    let seen = base;
    for (let attempt = 1; ; attempt++) {
      try {
        this.etag = await putJson(
          this.clients,
          this.location.bucket,
          key,
          wanted,
          { ifMatch: this.etag },
          { retries: 0 },
        );
        this.current = wanted;
        this.syncedAt = Date.now();
        return;
      } catch (error) {
        if (errorName(error) === "NoSuchKey") throw this.lose("deleted");
        if (!(error instanceof PreconditionFailed) && !ambiguous(error)) throw error;
        const found = await readRecord(this.clients, this.location, next.service);
        if (!found) throw this.lose("deleted");
        if (found.record.writeId === wanted.writeId) {
          // our write went through; only its answer was lost
          this.etag = found.etag;
          this.current = wanted;
          return;
        }
        if (
          found.record.swapId !== wanted.swapId ||
          found.record.owner.token !== wanted.owner.token
        ) {
          if (found.record.swapId === wanted.swapId && found.record.writeId === seen.writeId) {
            // nothing changed since we read it (a takeover's first write): send again
          } else {
            throw this.lose(
              `taken by ${found.record.owner.user}@${found.record.owner.host} (pid ${found.record.owner.pid})`,
            );
          }
        }
        // another process wrote a control request: keep it, send ours again on top
        this.etag = found.etag;
        wanted = {
          ...wanted,
          control: { ...mergeControl(seen.control, found.record.control, consume), ...request },
          writeId: newId(),
        };
        if (wanted.control && Object.keys(wanted.control).length === 0) delete wanted.control;
        seen = found.record;
        if (attempt >= MAX_WRITE_ATTEMPTS) throw error;
        this.notify();
      }
    }
  }

  /** Takes in a record read from S3: a newer control request, or the sign of a lost lock. */
  private absorb(found: { record: SwapRecord; etag: string } | undefined): void {
    if (!found) throw this.lose("deleted");
    const r = found.record;
    if (r.swapId !== this.current.swapId || r.owner.token !== this.current.owner.token) {
      throw this.lose(`taken by ${r.owner.user}@${r.owner.host} (pid ${r.owner.pid})`);
    }
    this.etag = found.etag;
    this.current = { ...this.current, control: r.control, writeId: r.writeId };
    if (!r.control) delete this.current.control;
    this.notify();
  }

  private lose(how: string): LockError {
    this.lostError ??= new LockError(
      "LOCK_LOST",
      `the swap record of ${this.current.service} was ${how} under ${this.current.kind ?? "swap"} ${this.current.swapId}: it stopped and changed nothing more`,
      {
        hint: `traffic is as it was left; run \`switchyard status ${this.current.service}\` to see it, then deploy or rollback`,
      },
    );
    this.release();
    this.notify();
    return this.lostError;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function lockHeld(record: SwapRecord | undefined, service = record?.service ?? ""): LockError {
  return new LockError(
    "LOCK_HELD",
    `${service} is locked by ${record ? describeHolder(record) : "an operation that has just ended"}`,
    {
      hint: record
        ? `wait for it to finish; to stop a swap run \`switchyard abort ${service}\`; if its process is gone, \`switchyard resume ${service}\``
        : "try again",
      details: record
        ? { swapId: record.swapId, owner: record.owner, kind: record.kind ?? "deploy" }
        : {},
    },
  );
}

function withoutUndefined(cursor: SwapCursor): SwapCursor {
  for (const [k, v] of Object.entries(cursor)) {
    if (v === undefined) delete (cursor as unknown as Record<string, unknown>)[k];
  }
  return cursor;
}

function consumed(
  control: ControlRequests | undefined,
  keys: Array<keyof ControlRequests>,
): ControlRequests | undefined {
  if (!control) return undefined;
  const out = { ...control };
  for (const k of keys) delete out[k];
  return out;
}

/**
 * The control requests to write: the ones found in S3, minus those this write answers, unless
 * the one found is a newer request than the one answered.
 */
function mergeControl(
  seen: ControlRequests | undefined,
  found: ControlRequests | undefined,
  consume: Array<keyof ControlRequests>,
): ControlRequests | undefined {
  if (!found) return undefined;
  const out: ControlRequests = { ...found };
  for (const k of consume) {
    if (seen?.[k] !== undefined && JSON.stringify(found[k]) === JSON.stringify(seen[k])) {
      delete out[k];
    }
  }
  return out;
}

/** Writes a control request into a service's record (If-Match), merging with others. */
export async function writeControl(
  clients: Clients,
  location: StateLocation,
  service: string,
  change: (record: SwapRecord) => ControlRequests,
): Promise<SwapRecord | undefined> {
  const key = recordKey(location, service);
  for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
    const found = await readRecord(clients, location, service);
    if (!found) return undefined;
    const next: SwapRecord = { ...found.record, control: change(found.record), writeId: newId() };
    try {
      await putJson(clients, location.bucket, key, next, { ifMatch: found.etag }, { retries: 0 });
      return next;
    } catch (error) {
      if (errorName(error) === "NoSuchKey") return undefined;
      if (!(error instanceof PreconditionFailed) && !ambiguous(error)) throw error;
      const back = await readRecord(clients, location, service);
      if (back?.record.writeId === next.writeId) return next;
      // the holder wrote meanwhile: read again and retry on top of its write
    }
  }
  throw new LockError("LOCK_HELD", `${service}: the swap record kept changing; try again`);
}
