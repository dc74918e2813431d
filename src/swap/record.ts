/**
 * The swap record: one JSON object per service in S3 that is both the lock and the cursor of a
 * swap. Created with `If-None-Match: *` (so only one swap can hold it), updated with
 * `If-Match: <etag>` (so a swap whose lock was broken notices at its next write), and closed
 * into a history object when the swap ends.
 */
import { hostname, userInfo } from "node:os";
import {
  type Clients,
  deleteObject,
  getJson,
  listObjects,
  PreconditionFailed,
  putJson,
} from "../aws/index.js";
import { LockError } from "../core/errors.js";
import type { SwapCursor, SwapPlan } from "../core/swap-model.js";

export interface StateLocation {
  bucket: string;
  prefix: string;
}

export interface Owner {
  host: string;
  pid: number;
  user: string;
}

export interface SwapRecord {
  version: 1;
  swapId: string;
  service: string;
  owner: Owner;
  startedAt: string;
  heartbeatAt: string;
  plan: SwapPlan;
  cursor: SwapCursor;
  /** set when the swap ends, in the history copy */
  outcome?: "completed" | "rolled-back" | "unlocked";
  endedAt?: string;
}

export function currentOwner(): Owner {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return { host: hostname(), pid: process.pid, user };
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, "");
}

export function recordKey(location: StateLocation, service: string): string {
  const prefix = trimSlashes(location.prefix);
  return `${prefix ? `${prefix}/` : ""}${service}/swap.json`;
}

export function historyKey(location: StateLocation, record: SwapRecord): string {
  const stamp = record.startedAt.replace(/[:.]/g, "-");
  return `${historyPrefix(location, record.service)}${stamp}-${record.swapId}-${record.plan.green.name}.json`;
}

export function historyPrefix(location: StateLocation, service: string): string {
  const prefix = trimSlashes(location.prefix);
  return `${prefix ? `${prefix}/` : ""}${service}/history/`;
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
  return `swap ${record.swapId} by ${record.owner.user}@${record.owner.host} (pid ${record.owner.pid}), started ${record.startedAt}, last heartbeat ${age}s ago`;
}

export async function readRecord(
  clients: Clients,
  location: StateLocation,
  service: string,
): Promise<{ record: SwapRecord; etag: string } | undefined> {
  const got = await getJson<SwapRecord>(clients, location.bucket, recordKey(location, service));
  return got ? { record: got.value, etag: got.etag } : undefined;
}

/** A held swap record. Every write is conditional on the ETag of the last one. */
export class SwapLock {
  private constructor(
    private readonly clients: Clients,
    private readonly location: StateLocation,
    private current: SwapRecord,
    private etag: string,
  ) {}

  get record(): SwapRecord {
    return this.current;
  }

  /** Takes the lock for a new swap; LOCK_HELD (naming the holder) if a swap record exists. */
  static async acquire(
    clients: Clients,
    location: StateLocation,
    record: SwapRecord,
  ): Promise<SwapLock> {
    const key = recordKey(location, record.service);
    try {
      const etag = await putJson(clients, location.bucket, key, record, { ifNoneMatch: true });
      return new SwapLock(clients, location, record, etag);
    } catch (error) {
      if (!(error instanceof PreconditionFailed)) throw error;
      const held = await readRecord(clients, location, record.service);
      const holder = held ? describeHolder(held.record) : "a swap that has just ended";
      throw new LockError("LOCK_HELD", `${record.service} is locked by ${holder}`, {
        hint: held
          ? `wait for it to finish; if its process is gone, run \`switchyard resume ${record.service}\` (or \`unlock ${record.service} --force\` once its heartbeat has expired)`
          : "try again",
        details: held ? { swapId: held.record.swapId, owner: held.record.owner } : {},
      });
    }
  }

  /** Takes over an existing record (resume), conditional on it not having changed since read. */
  static async adopt(
    clients: Clients,
    location: StateLocation,
    read: { record: SwapRecord; etag: string },
  ): Promise<SwapLock> {
    const lock = new SwapLock(clients, location, read.record, read.etag);
    await lock.update({ owner: currentOwner() });
    return lock;
  }

  async update(change: Partial<Omit<SwapRecord, "cursor">> & { cursor?: Partial<SwapCursor> }) {
    const next: SwapRecord = {
      ...this.current,
      ...change,
      cursor: { ...this.current.cursor, ...change.cursor },
      heartbeatAt: new Date().toISOString(),
    };
    for (const [k, v] of Object.entries(next.cursor)) {
      if (v === undefined) delete (next.cursor as unknown as Record<string, unknown>)[k];
    }
    try {
      this.etag = await putJson(
        this.clients,
        this.location.bucket,
        recordKey(this.location, next.service),
        next,
        { ifMatch: this.etag },
      );
      this.current = next;
    } catch (error) {
      if (error instanceof PreconditionFailed) throw this.lost();
      throw error;
    }
  }

  heartbeat(): Promise<void> {
    return this.update({});
  }

  /** Writes the history copy, then deletes the record (only if it is still ours). */
  async close(outcome: NonNullable<SwapRecord["outcome"]>): Promise<void> {
    const ended: SwapRecord = { ...this.current, outcome, endedAt: new Date().toISOString() };
    await putJson(this.clients, this.location.bucket, historyKey(this.location, ended), ended);
    try {
      await deleteObject(
        this.clients,
        this.location.bucket,
        recordKey(this.location, this.current.service),
        this.etag,
      );
    } catch (error) {
      if (error instanceof PreconditionFailed) throw this.lost();
      throw error;
    }
  }

  private lost(): LockError {
    return new LockError(
      "LOCK_LOST",
      `the swap record of ${this.current.service} changed under swap ${this.current.swapId}: another process broke or took the lock`,
      { hint: `run \`switchyard status ${this.current.service}\` to see the state it left` },
    );
  }
}
