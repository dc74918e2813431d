/**
 * Everything a swap, rollback, resume or retire reports while it runs: one discriminated union.
 * The CLI renders these as spinners, plain lines or JSON lines; library users iterate them.
 * Every event carries `type`, `service` and `at` (ms since epoch). Documented in docs/events.md.
 */
import type { CycleAction } from "./cycle-rules.js";
import type { Action } from "./decide.js";
import type { RollbackAction } from "./rollback-rules.js";
import type { FailureDetails, VerdictFigures, Weighted } from "./swap-model.js";

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
      /** how long each step bakes */
      bakeMs: number;
      /** the release live before this swap, when known */
      blueRelease?: string;
      resumed: boolean;
    })
  /** one AWS change is about to be made */
  | (Base & {
      type: "action";
      action: ActionName;
      description: string;
      /** for a listener change: why it is made */
      purpose?: TrafficPurpose;
    })
  /** the operation is waiting; emitted when the reason or the progress changes, not every poll */
  | (Base & { type: "waiting"; reason: string; progress?: WaitProgress })
  | (Base & { type: "green.healthy"; group: string; healthy: number; elapsedMs: number })
  | (Base & { type: "step.shifted"; step: number; of: number; weight: number; weights: Weighted[] })
  | (Base & {
      type: "step.baked";
      step: number;
      weight: number;
      /** how long the step baked, and how many gates passed at its last check */
      bakedMs?: number;
      gates?: number;
      /** the metric gates' verdicts on the step, as their `gate.verdict` events gave them */
      verdicts?: GateVerdict[];
    })
  /** a metric gate's verdict on a step: once per step per gate (alarms, judge) */
  | (Base & { type: "gate.verdict"; step: number; weight: number } & GateVerdict)
  | (Base & {
      type: "gate.failed";
      gate: string;
      message: string;
      /** the last lines the gate wrote, and the file holding all of it (command gates) */
      output?: string;
      outputFile?: string;
    })
  | (Base & { type: "rollback.started"; code: string; reason: string; details?: FailureDetails })
  | (Base & { type: "swap.completed"; live: string; standby: string | null; durationMs: number })
  | (Base & {
      type: "swap.rolled-back";
      live: string | null;
      code: string;
      reason: string;
      details?: FailureDetails;
    })
  | (Base & {
      type: "rollback.completed";
      live: string;
      standby: string | null;
      durationMs: number;
      /** the release live now (the live group's), when known */
      release?: string;
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

/** A metric gate's verdict on a step, in words and figures. */
export interface GateVerdict {
  gate: "alarms" | "judge";
  result: "pass" | "fail" | "insufficient" | "skipped";
  /** e.g. `green 5xx 0.2 % (3/1500) vs blue 0.1 % (29/28500), p = 0.41: pass` */
  sentence: string;
  figures?: VerdictFigures;
}

/** Why a listener change is made. */
export type TrafficPurpose = "reference-green" | "shift" | "finalize" | "rollback";

/** Where a wait stands: the step, the time waited and left, each group's health, the gates. */
export interface WaitProgress {
  /** the step being baked (1-based), of how many, and its weight on green */
  step?: number;
  of?: number;
  weight?: number;
  /** when the wait began and when it ends by itself (a bake, a timed pause, a deadline) */
  startedAt?: number;
  until?: number;
  /** healthy targets against desired capacity, per group, in a stable order (blue first) */
  groups?: GroupProgress[];
  /** the gates of the bake's last check */
  gates?: { passed: number; total: number };
}

export interface GroupProgress {
  name: string;
  /** blue and green in a deploy; from and to in a rollback; the live group in a cycle */
  role: "blue" | "green" | "from" | "to" | "live";
  healthy: number;
  desired: number;
  /** why targets are unhealthy, each distinct reason once */
  unhealthy?: string[];
}

/** The name of an AWS change a deploy or a rollback makes. */
export type ActionName = Action["type"] | RollbackAction["type"] | CycleAction["type"];

/** A sink for events; lower layers call it and never print. */
export type EventSink = (event: SwitchyardEvent) => void;
