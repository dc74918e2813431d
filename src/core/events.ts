/**
 * Everything a swap, rollback, resume or retire reports while it runs: one discriminated union.
 * The CLI renders these as spinners, plain lines or JSON lines; library users iterate them.
 * Every event carries `type`, `service` and `at` (ms since epoch). Documented in docs/events.md.
 */
import type { CycleAction } from "./cycle-rules.js";
import type { Action } from "./decide.js";
import type { RollbackAction } from "./rollback-rules.js";
import type { Weighted } from "./swap-model.js";

interface Base {
  service: string;
  at: number;
}

export type SwitchyardEvent =
  | (Base & {
      type: "swap.started";
      swapId: string;
      release: string;
      green: string;
      blue: string | null;
      steps: number[];
      resumed: boolean;
    })
  /** one AWS change is about to be made */
  | (Base & { type: "action"; action: ActionName; description: string })
  /** the swap is waiting; emitted when the reason changes, not on every poll */
  | (Base & { type: "waiting"; reason: string })
  | (Base & { type: "green.healthy"; group: string; healthy: number; elapsedMs: number })
  | (Base & { type: "step.shifted"; step: number; of: number; weight: number; weights: Weighted[] })
  | (Base & { type: "step.baked"; step: number; weight: number })
  | (Base & { type: "gate.failed"; gate: string; message: string })
  | (Base & { type: "rollback.started"; code: string; reason: string })
  | (Base & { type: "swap.completed"; live: string; standby: string | null; durationMs: number })
  | (Base & { type: "swap.rolled-back"; live: string | null; code: string; reason: string })
  | (Base & {
      type: "rollback.completed";
      live: string;
      standby: string | null;
      durationMs: number;
    })
  | (Base & { type: "lock.acquired"; swapId: string })
  | (Base & { type: "lock.released"; swapId: string })
  | (Base & { type: "cycle.completed"; group: string; replaced: string[]; durationMs: number })
  | (Base & { type: "retire.deleted"; group: string; dryRun: boolean })
  | (Base & { type: "retire.skipped"; group: string; reason: string })
  /** someone else changed the listener or green: the swap stopped and left it as found */
  | (Base & { type: "drift"; what: string; expected: Weighted[]; found: Weighted[] })
  /** a control request was written into the swap record (by this or another process) */
  | (Base & { type: "control"; request: "promote" | "pause" | "abort"; by: string; detail: string })
  | (Base & { type: "warning"; message: string });

export type EventType = SwitchyardEvent["type"];

/** The name of an AWS change a deploy or a rollback makes. */
export type ActionName = Action["type"] | RollbackAction["type"] | CycleAction["type"];

/** A sink for events; lower layers call it and never print. */
export type EventSink = (event: SwitchyardEvent) => void;
