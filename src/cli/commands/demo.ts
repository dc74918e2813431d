/** `switchyard demo`: the whole tour on an in-process sandbox, no AWS account needed. */
import type { Command } from "commander";
import { exitNow, globalsOf, onSignal, writeLine } from "../io.js";
import type { CommandContext } from "../program.js";

export function registerDemo(program: Command, { io }: CommandContext): void {
  program
    .command("demo")
    .description(
      "in-process sandbox, sample app r1 → r2 swap under live traffic, rollback, retire; no AWS account needed",
    )
    .action(async (_flags: unknown, command: Command) => {
      const globals = globalsOf(command, io);
      const { runDemo } = await import("../../demo/index.js");
      const controller = new AbortController();
      let interrupts = 0;
      const interrupt = () => {
        interrupts++;
        if (interrupts === 1) {
          writeLine(
            io.stderr,
            "interrupted: stopping the demo and its sandbox (Ctrl-C again to exit at once)",
          );
          controller.abort();
        } else {
          exitNow(io, 130);
        }
      };
      const offInt = onSignal(io, "SIGINT", interrupt);
      const offTerm = onSignal(io, "SIGTERM", interrupt);
      try {
        const summary = await runDemo({
          out: globals.json ? io.stderr : io.stdout,
          verbose: globals.verbose,
          signal: controller.signal,
        });
        if (globals.json) writeLine(io.stdout, JSON.stringify({ type: "demo", ...summary }));
        if (!summary.ok) {
          const { SwitchyardError } = await import("../../core/errors.js");
          throw new SwitchyardError(
            controller.signal.aborted ? "ABORTED" : "INTERNAL",
            controller.signal.aborted
              ? "the demo was interrupted"
              : "the demo did not complete its swap, rollback and retire",
          );
        }
      } finally {
        offInt();
        offTerm();
      }
    });
}
