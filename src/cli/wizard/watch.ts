/**
 * Watching a swap from the wizard: the deploy renderer's spinner and step timeline, and at each
 * step a question (promote now / hold / roll back) answered through a `SwapControl` while the
 * swap keeps running. The question closes by itself when the swap moves on (the bake ended, a
 * gate failed). Ctrl-C works as in `deploy`: the first rolls back, the second exits at once.
 */

import { SwapError, type SwitchyardError } from "../../core/errors.js";
import type { SwitchyardEvent } from "../../core/events.js";
import type { SwapResult } from "../../swap/swap.js";
import type { Operation, Switchyard } from "../../switchyard.js";
import {
  type CliIo,
  exitNow,
  type GlobalOptions,
  onSignal,
  type RunState,
  writeLine,
} from "../io.js";
import type { Renderer } from "../render.js";
import { closeSwitchyard, openRenderer, swapResultObject } from "../shared.js";
import { isPromptClosed, isPromptExit, type Prompter } from "./prompts.js";
import { type StepAt, type StepChoice, stepChoices, stepQuestion } from "./text.js";

export interface WatchRun {
  io: CliIo;
  state: RunState;
  globals: GlobalOptions;
  yard: Switchyard;
  service: string;
  prompter: Prompter;
  /** blue's name (null on a first deploy) and each step's bake, for the questions */
  blue: string | null;
  bakeMs: number;
  start(signal: AbortSignal): Operation<SwapResult>;
}

/** Events that leave the step question open: they change nothing the operator decides on. */
const QUIET: ReadonlySet<SwitchyardEvent["type"]> = new Set(["waiting", "warning"]);

/** Who ended the swap early, for the exit: a rollback asked for is a clean rollback (exit 4). */
type Stopper = "operator" | "interrupt";

export async function watchSwap(run: WatchRun): Promise<void> {
  const { io, globals, state, service, prompter } = run;
  const renderer: Renderer = await openRenderer(globals, io);
  const controller = new AbortController();
  // hold, promote and roll back go through the swap record, like any other process's: another
  // terminal sees them, and they outlive this one
  let holding: number | undefined;
  const steer = (op: Operation<unknown>) => {
    op.result.catch((error: unknown) => {
      renderer.notice(
        `could not steer the swap: ${error instanceof Error ? error.message : String(error)}`,
        "warn",
      );
    });
  };
  let stopper: Stopper | undefined;
  let interrupts = 0;
  let green = "green";
  let failure: unknown;
  /** the open step question, if any */
  let open: { close: AbortController; done: Promise<void> } | undefined;
  /** events that came while a question was open, shown once it closes */
  const later: SwitchyardEvent[] = [];

  const rollBack = (who: Stopper) => {
    stopper ??= who;
    open?.close.abort();
    if (who === "operator") steer(run.yard.abort(service));
    else controller.abort();
  };

  const interrupt = () => {
    interrupts++;
    if (interrupts === 1) {
      rollBack("interrupt");
      const say = () =>
        renderer.notice(
          `interrupted: rolling ${service} back; traffic returns to blue (Ctrl-C again to exit at once)`,
          "warn",
        );
      // a question being closed still owns the screen until it has cleaned up
      if (open) void open.done.then(say);
      else say();
      return;
    }
    renderer.stop();
    writeLine(
      io.stderr,
      `warning: exiting before the rollback finished; the swap record keeps its state, so \`switchyard resume ${service}\` finishes the rollback`,
    );
    // the record writes under way (the first Ctrl-C's abort) land first, for at most 2 s
    void import("../../swap/record.js")
      .then((m) => m.settleRecordWrites(2_000))
      .finally(() => exitNow(io, 130));
  };

  const answer = (at: StepAt, choice: StepChoice): "again" | "done" => {
    switch (choice) {
      case "promote":
        holding = undefined;
        steer(run.yard.promote(service));
        renderer.notice(`promoted ${at.weight}% (step ${at.step}/${at.of}) before its bake ended`);
        return "done";
      case "hold":
        holding = at.step;
        steer(run.yard.pause(service));
        renderer.notice(
          `holding at ${at.weight}%: the swap waits for you, gates are still checked`,
          "warn",
        );
        return "again";
      case "resume":
        holding = undefined;
        // a pause that has already expired: the bake runs out its planned time
        steer(run.yard.pause(service, { forMs: 1 }));
        renderer.notice(`hold released at ${at.weight}%: the bake runs out its time`);
        return "again";
      case "rollback":
        rollBack("operator");
        renderer.notice(
          `rolling back at your request: traffic returns to ${run.blue ?? "the listener's previous action"}`,
          "warn",
        );
        return "done";
    }
  };

  const ask = (at: StepAt) => {
    renderer.stop();
    const close = new AbortController();
    const questions = async () => {
      for (;;) {
        const held = holding === at.step;
        const choice = await prompter.select(
          {
            message: stepQuestion(at, green, run.bakeMs, held),
            choices: stepChoices(at, run.blue, held),
          },
          { signal: close.signal, clear: true },
        );
        if (answer(at, choice) === "done" || stopper) return;
      }
    };
    const done = questions()
      .catch((error: unknown) => {
        if (isPromptClosed(error)) return;
        if (isPromptExit(error)) {
          interrupt();
          return;
        }
        // the terminal failed us: put traffic back on blue, then report it
        failure ??= error;
        rollBack("interrupt");
      })
      .finally(() => {
        if (open?.close === close) open = undefined;
        for (const event of later.splice(0)) renderer.event(event);
      });
    open = { close, done };
  };

  const offInt = onSignal(io, "SIGINT", interrupt);
  const offTerm = onSignal(io, "SIGTERM", () => {
    if (!controller.signal.aborted) interrupt();
  });
  try {
    const operation = run.start(controller.signal);
    for await (const event of operation.events) {
      if (event.type === "swap.started") green = event.green;
      if (open && !QUIET.has(event.type)) {
        open.close.abort();
        await open.done;
      }
      if (open) {
        later.push(event);
        continue;
      }
      renderer.event(event);
      if (event.type === "step.shifted" && !stopper) ask(event);
    }
    if (open) {
      open.close.abort();
      await open.done;
    }
    const result = await operation.result;
    renderer.result(swapResultObject(result));
    state.resultPrinted = true;
    if (failure) throw failure;
    if (!result.ok) throw outcomeError(service, result, stopper);
  } finally {
    renderer.stop();
    if (globals.verbose) renderer.calls(run.yard.clients.calls);
    offInt();
    offTerm();
    await closeSwitchyard(run.yard, io, globals);
  }
}

/**
 * The error a rolled-back swap exits with. A rollback the operator asked for (the menu, or
 * Ctrl-C) ended cleanly with blue live: ROLLED_BACK, exit 4. Otherwise the swap's own reason.
 */
export function outcomeError(
  service: string,
  result: SwapResult,
  stopper: Stopper | undefined,
): SwitchyardError {
  if (stopper && result.outcome === "rolled-back") {
    const live = result.live ? `${result.live} is live` : "the listener is as it was";
    const why = stopper === "operator" ? "at your request" : "after Ctrl-C";
    return new SwapError("ROLLED_BACK", `${service}: the swap was rolled back ${why}; ${live}`);
  }
  return result.error ?? new SwapError("ROLLED_BACK", `${service}: the swap was rolled back`);
}
