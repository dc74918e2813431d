/** `switchyard unlock <service> --force`: break a stale swap lock after checking its heartbeat. */
import type { Command } from "commander";
import { globalsOf, writeLine } from "../io.js";
import type { CommandContext } from "../program.js";
import { noteService, openSwitchyard } from "../shared.js";

export function registerUnlock(program: Command, { io, state }: CommandContext): void {
  program
    .command("unlock")
    .description("break a stale swap lock, once its heartbeat shows its process is gone")
    .argument("<service>", "the service, <app>/<env>")
    .option("--force", "required: breaking a lock abandons the swap that holds it")
    .action(async (service: string, flags: { force?: boolean }, command: Command) => {
      noteService(state, service);
      const globals = globalsOf(command, io);
      if (!flags.force) {
        const { InputError } = await import("../../core/errors.js");
        throw new InputError("INVALID_INPUT", `unlock ${service} needs --force`, {
          hint: `breaking a lock abandons the swap that holds it; prefer \`switchyard resume ${service}\` (or \`resume ${service} --abort\`)`,
        });
      }
      const yard = await openSwitchyard(globals, io, { service });
      try {
        const result = await yard.unlock(service, { force: true });
        if (globals.json) writeLine(io.stdout, JSON.stringify(result));
        else {
          const o = result.owner;
          writeLine(
            io.stdout,
            `unlocked ${result.service}: swap ${result.swapId} by ${o.user}@${o.host} (pid ${o.pid}) was in phase ${result.phase}`,
          );
          if (!globals.quiet) {
            writeLine(
              io.stderr,
              `hint: run \`switchyard status ${service}\` to see the groups that swap left behind`,
            );
          }
        }
      } finally {
        yard.close();
      }
    });
}
