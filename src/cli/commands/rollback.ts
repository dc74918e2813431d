/** `switchyard rollback <service> [--to <group>]`: the standby back to 100% in one listener change. */
import type { Command } from "commander";
import { commandLine, globalsOf } from "../io.js";
import type { CommandContext } from "../program.js";
import {
  noteService,
  openRenderer,
  openSwitchyard,
  pollIntervalOption,
  rollbackResultObject,
  runOperation,
} from "../shared.js";

interface RollbackFlags {
  to?: string;
  pollInterval?: number;
}

export function registerRollback(program: Command, { io, state }: CommandContext): void {
  program
    .command("rollback")
    .description("put the standby group back to 100% of traffic in one listener change")
    .argument("<service>", "the service, <app>/<env>")
    .option("--to <group>", "the server group to roll back to (default: the newest standby)")
    .addOption(pollIntervalOption())
    .action(async (service: string, flags: RollbackFlags, command: Command) => {
      noteService(state, service);
      const globals = globalsOf(command, io);
      const renderer = await openRenderer(globals, io);
      try {
        // the first line, before the config and the AWS SDK load
        renderer.begin(`${service}: reading the swap record, the listener and the groups`);
        const yard = await openSwitchyard(globals, io, {
          service,
          ...(flags.pollInterval === undefined ? {} : { pollIntervalMs: flags.pollInterval }),
        });
        await runOperation({
          io,
          state,
          globals,
          yard,
          service,
          renderer,
          interrupt: "stops",
          start: (signal) =>
            yard.rollback(service, { ...(flags.to ? { to: flags.to } : {}), signal }),
          toResult: rollbackResultObject,
          next: (r) => [
            `${commandLine(`status ${service}`, globals.hintArgs)}    # ${r.live} live, ${r.standby ?? "no standby"} standby`,
          ],
        });
      } finally {
        renderer.stop();
      }
    });
}
