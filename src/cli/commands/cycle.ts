/** `switchyard cycle <service> [--batch N] [--instance ID...] [--dry-run]`: replace the live group's instances. */
import { type Command, InvalidArgumentError } from "commander";
import type { CycleResult } from "../../swap/cycle.js";
import { commandLine, globalsOf, writeLine } from "../io.js";
import { collect } from "../options.js";
import type { CommandContext } from "../program.js";
import type { ResultObject } from "../render.js";
import {
  noteService,
  openRenderer,
  openSwitchyard,
  pollIntervalOption,
  runOperation,
} from "../shared.js";

interface CycleFlags {
  batch?: number;
  instance?: string[];
  dryRun?: boolean;
  pollInterval?: number;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a whole number ≥ 1; got ${JSON.stringify(value)}`);
  }
  return n;
}

export function registerCycle(program: Command, { io, state }: CommandContext): void {
  program
    .command("cycle")
    .description(
      "replace the live group's instances a batch at a time: each drained, then replaced, the next batch once all are healthy",
    )
    .argument("<service>", "the service, <app>/<env>")
    .option("--batch <n>", "instances replaced at a time (default 1)", wholeNumber)
    .option("--instance <id>", "replace only this instance (repeatable)", collect)
    .option("--dry-run", "print which instances would be replaced and change nothing")
    .addOption(pollIntervalOption())
    .action(async (service: string, flags: CycleFlags, command: Command) => {
      noteService(state, service);
      const globals = globalsOf(command, io);
      const renderer = await openRenderer(globals, io);
      try {
        // the first line, before the config and the AWS SDK load
        renderer.begin(`${service}: checking the live group${flags.dryRun ? " (dry run)" : ""}`);
        const yard = await openSwitchyard(globals, io, {
          service,
          ...(flags.pollInterval === undefined ? {} : { pollIntervalMs: flags.pollInterval }),
        });
        const options = {
          ...(flags.batch === undefined ? {} : { batch: flags.batch }),
          ...(flags.instance ? { instances: flags.instance } : {}),
          ...(flags.dryRun ? { dryRun: true } : {}),
        };
        if (flags.dryRun) {
          try {
            const plan = await yard.cycle(service, options).result;
            renderer.stop();
            if (globals.json)
              writeLine(io.stdout, JSON.stringify({ type: "result", ok: true, ...plan }));
            else {
              writeLine(
                io.stdout,
                `${service}: would replace ${plan.replaced.length} instance(s) of ${plan.group}, ${plan.batch} at a time:`,
              );
              for (const id of plan.replaced) writeLine(io.stdout, `  ${id}`);
            }
          } finally {
            yard.close();
          }
          return;
        }
        await runOperation<CycleResult>({
          io,
          state,
          globals,
          yard,
          service,
          renderer,
          interrupt: "stops",
          start: (signal) => yard.cycle(service, { ...options, signal }),
          toResult: (r): ResultObject => ({
            type: "result",
            ok: true,
            service: r.service,
            live: r.group,
            standby: null,
            release: null,
            replaced: r.replaced,
            durationMs: r.durationMs,
          }),
          next: () => [commandLine(`status ${service}`, globals.hintArgs)],
        });
      } finally {
        renderer.stop();
      }
    });
}
