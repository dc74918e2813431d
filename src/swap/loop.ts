/**
 * The one loop every traffic change runs through: observe → decide → act, one idempotent action
 * per pass, until the decider says the change has ended. The swap record is lock, cursor and
 * control channel; the loop reads it each pass (another process's promote, pause or abort, or a
 * lost lock) and refreshes its heartbeat on a timer of its own. Deploy and rollback are two
 * reconcilers plugged into it.
 */
import type { Decision } from "../core/decide.js";
import { ERROR_BUDGET } from "../core/decide.js";
import { isSwitchyardError, SwapError, toSwitchyardError } from "../core/errors.js";
import type { ActionName, EventSink, TrafficPurpose, WaitProgress } from "../core/events.js";
import type { ControlRequests, SwapCursor } from "../core/swap-model.js";
import { currentOwner, type SwapLock } from "./record.js";
import { sleep } from "./wait.js";

/** What the loop tells a reconciler's observe about this pass. */
export interface Pass {
  failures: number;
  /** aborted as soon as the process is cancelled or the lock is lost: gates stop at once */
  signal: AbortSignal;
}

export interface Reconciler<
  S extends { now: number; control?: ControlRequests; cancelled?: boolean },
  A extends { type: ActionName },
> {
  observe(pass: Pass): Promise<S>;
  decide(snapshot: S, cursor: SwapCursor): Decision<A>;
  act(action: A): Promise<void>;
  /** the `action` event's description; undefined for bookkeeping that emits no event */
  describe(action: A): string | undefined;
  /** why a listener change is made, for the `action` event */
  purpose?(action: A): TrafficPurpose | undefined;
  /** the groups' health and the gates, for a wait's progress */
  progress?(snapshot: S): Pick<WaitProgress, "groups" | "gates">;
  /** events that follow from an action once it has been made */
  announce(action: A, before: SwapCursor, snapshot: S): void;
}

/** How a reconciled change ended. */
export type Ended =
  | { outcome: "completed" | "rolled-back" }
  /** a `reconcile` pass: everything due was done; what is left waits for the next pass */
  | { outcome: "passed" }
  | { outcome: "stopped"; code: "ABORTED" | "GREEN_UNHEALTHY"; message: string };

export interface LoopOptions {
  lock: SwapLock;
  emit: EventSink;
  /** how often the world is observed while waiting */
  pollIntervalMs: number;
  /** how often the swap record's heartbeat is refreshed, on its own timer */
  heartbeatMs: number;
  signal?: AbortSignal;
  /** one pass (`reconcile`): return at the first wait instead of sleeping through it */
  pass?: boolean;
}

export async function reconcile<
  S extends { now: number; control?: ControlRequests; cancelled?: boolean },
  A extends { type: ActionName },
>(
  r: Reconciler<S, A>,
  { lock, emit, pollIntervalMs, heartbeatMs, signal, pass }: LoopOptions,
): Promise<Ended> {
  const service = lock.record.service;
  const stop = new AbortController(); // cancels a running gate
  const wake = new Wake();
  const onAbort = () => {
    stop.abort();
    wake.now();
    // the cancel is written into the record at once, so that a process killed right after it
    // (a second Ctrl-C) leaves a record that `resume` rolls back rather than finishes
    lock
      .update({ request: { abort: { ...cancelledBy(), reason: "the swap was cancelled" } } })
      .catch(() => undefined);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  const offLock = lock.onChange(() => {
    if (lock.lost || lock.record.control?.abort) stop.abort();
    wake.now();
  });
  lock.startHeartbeat(heartbeatMs);
  let failures = 0;
  let lastWait = "";
  let first = true;
  try {
    for (;;) {
      try {
        // the record (another process's request, a lost lock: seen within one poll) is read
        // beside the world; the first pass follows the write that took the lock, so it skips it
        const [, observed] = await Promise.all([
          lock.refresh({ unlessSyncedWithinMs: first ? 1_000 : 0 }),
          r.observe({ failures, signal: stop.signal }),
        ]);
        first = false;
        lock.assertHeld();
        const snapshot: S = {
          ...observed,
          control: lock.record.control,
          ...(signal?.aborted ? { cancelled: true } : {}),
        };
        const decision = r.decide(snapshot, lock.record.cursor);
        if (decision.kind === "done") return { outcome: decision.outcome };
        if (decision.kind === "stopped") {
          return { outcome: "stopped", code: decision.code, message: decision.message };
        }
        if (decision.kind === "drift") {
          const at = new Date().toISOString();
          emit({
            service,
            at: Date.now(),
            type: "drift",
            what: decision.drift.what,
            expected: decision.drift.expected,
            found: decision.drift.found,
          });
          await lock.halt({
            code: "DRIFT",
            message: decision.drift.what,
            at,
            drift: { ...decision.drift, at },
          });
          throw new SwapError(
            "DRIFT",
            `${service}: ${decision.drift.what}; the swap stopped and left it as found`,
            {
              hint: `\`switchyard promote ${service}\` adopts the change and goes on; \`switchyard abort ${service}\` puts blue back`,
            },
          );
        }
        if (decision.kind === "wait") {
          const progress: WaitProgress = { ...decision.progress, ...r.progress?.(snapshot) };
          // a new event when the reason or the health and gates change, not on every poll
          const key = JSON.stringify([decision.reason, progress]);
          if (key !== lastWait) {
            lastWait = key;
            emit({
              service,
              at: Date.now(),
              type: "waiting",
              reason: decision.reason,
              ...(Object.keys(progress).length > 0 ? { progress } : {}),
            });
          }
          if (pass) return { outcome: "passed" };
          const until = decision.until ? decision.until - Date.now() : pollIntervalMs;
          await wake.sleep(Math.max(1, Math.min(pollIntervalMs, until)));
          failures = 0;
          continue;
        }
        const action = decision.action;
        const description = r.describe(action);
        if (description !== undefined) {
          const purpose = r.purpose?.(action);
          emit({
            service,
            at: Date.now(),
            type: "action",
            action: action.type,
            description,
            ...(purpose ? { purpose } : {}),
          });
        }
        const before = lock.record.cursor;
        await r.act(action);
        failures = 0;
        lastWait = "";
        r.announce(action, before, snapshot);
      } catch (error) {
        if (isSwitchyardError(error, "LOCK_LOST", "DRIFT")) throw error;
        failures++;
        const e = toSwitchyardError(error);
        emit({
          service,
          at: Date.now(),
          type: "warning",
          message: `${e.message}${failures > 1 ? ` (${failures} in a row)` : ""}`,
        });
        // the decider rolls a swap back once the budget is spent; past twice that, give up
        if (failures >= 2 * ERROR_BUDGET) {
          throw new SwapError(
            "SWAP_INCOMPLETE",
            `${service}: stopped part-way after ${failures} failures in a row: ${e.message}`,
            {
              cause: error,
              hint: `run \`switchyard status ${service}\` to see where it stopped, then \`switchyard resume ${service}\``,
            },
          );
        }
        await sleep(pollIntervalMs);
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    offLock();
    lock.stopHeartbeat();
  }
}

function cancelledBy(): { by: string; at: string } {
  const me = currentOwner();
  return { by: `${me.user}@${me.host} (pid ${me.pid}), cancelled`, at: new Date().toISOString() };
}

/** A sleep that another event (a control request, Ctrl-C) can cut short, any number of times. */
class Wake {
  private wakeUp: (() => void) | undefined;
  now(): void {
    this.wakeUp?.();
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeUp = undefined;
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
