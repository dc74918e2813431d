/** `switchyard resume <service> [--abort]`: finish (or undo) a swap that was interrupted. */
import type { Command } from "commander";
import { globalsOf } from "../io.js";
import type { CommandContext } from "../program.js";
import {
  afterSwap,
  configuredGates,
  noteService,
  openRenderer,
  openSwitchyard,
  pollIntervalOption,
  runOperation,
  swapResultObject,
} from "../shared.js";

interface ResumeFlags {
  abort?: boolean;
  pollInterval?: number;
}

export function registerResume(program: Command, { io, state }: CommandContext): void {
  program
    .command("resume")
    .description(
      "finish a swap whose process stopped, from its swap record (or undo it with --abort)",
    )
    .argument("<service>", "the service, <app>/<env>")
    .option("--abort", "roll the interrupted swap back instead of finishing it")
    .addOption(pollIntervalOption())
    .action(async (service: string, flags: ResumeFlags, command: Command) => {
      noteService(state, service);
      const globals = globalsOf(command, io);
      const renderer = await openRenderer(globals, io);
      try {
        // the first line, before the config and the AWS SDK load
        renderer.begin(`${service}: reading the swap record`);
        const yard = await openSwitchyard(globals, io, {
          service,
          ...(flags.pollInterval === undefined ? {} : { pollIntervalMs: flags.pollInterval }),
        });
        const gates = await configuredGates(yard, service, io);
        await runOperation({
          io,
          state,
          globals,
          yard,
          service,
          renderer,
          interrupt: "rolls-back",
          start: (signal) =>
            yard.resume(service, { ...(flags.abort ? { abort: true } : {}), gates, signal }),
          toResult: swapResultObject,
          next: (r) => afterSwap(r, globals),
          failure: (r) => r.error,
        });
      } finally {
        renderer.stop();
      }
    });
}
