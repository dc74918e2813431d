/** `switchyard deploy <service> --release <url|version>`: the swap, or its plan with --dry-run. */
import type { Command } from "commander";
import { commandLine, globalsOf, writeLine } from "../io.js";
import { collect, parseDurationFlag, parseSteps } from "../options.js";
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

interface DeployFlags {
  release: string;
  steps?: number[];
  bake?: number;
  gate?: string[];
  alarm?: string[];
  stickiness: boolean;
  keepFailed?: boolean;
  dryRun?: boolean;
  detach?: boolean;
  pollInterval?: number;
}

export function registerDeploy(program: Command, { io, state }: CommandContext): void {
  program
    .command("deploy")
    .description(
      "swap a service to a release: launch green, shift traffic in steps, keep blue as standby",
    )
    .argument("<service>", "the service, <app>/<env>")
    .requiredOption(
      "--release <url|version>",
      "a release URL (s3://…/r42.tar.gz) or a version under the service's releases",
    )
    .option(
      "--steps <list>",
      "percent of traffic on green at each step, ending at 100 (e.g. 5,25,100)",
      parseSteps,
    )
    .option(
      "--bake <duration>",
      "wait at each step while gates are checked (e.g. 30s)",
      parseDurationFlag,
    )
    .option(
      "--gate <command>",
      "a command run at each bake; non-zero exit rolls back (repeatable)",
      collect,
    )
    .option(
      "--alarm <name>",
      "a CloudWatch alarm checked during every bake; ALARM rolls back (repeatable)",
      collect,
    )
    .option("--no-stickiness", "no target-group stickiness during the shift")
    .option("--keep-failed", "keep a failed green group (tagged failed) for inspection")
    .option("--dry-run", "print the plan and change nothing")
    .option(
      "--detach",
      "write the swap and return; `switchyard reconcile` passes (cron, a scheduler) drive it",
    )
    .addOption(pollIntervalOption())
    .action(async (service: string, flags: DeployFlags, command: Command) => {
      noteService(state, service);
      const globals = globalsOf(command, io);
      const renderer = await openRenderer(globals, io);
      try {
        if (flags.steps) (await import("../../core/config-schema.js")).checkSteps(flags.steps);
        // the first line, before the config and the AWS SDK load
        renderer.begin(
          `${service}: checking release ${flags.release}, the listener and the groups${flags.dryRun ? " (dry run)" : ""}`,
        );
        const yard = await openSwitchyard(globals, io, {
          service,
          ...(flags.pollInterval === undefined ? {} : { pollIntervalMs: flags.pollInterval }),
        });
        const gates = await configuredGates(yard, service, io, flags.gate ?? []);
        const options = {
          release: flags.release,
          ...(flags.steps ? { steps: flags.steps } : {}),
          ...(flags.bake === undefined ? {} : { bakeMs: flags.bake }),
          ...(flags.stickiness === false ? { stickiness: false } : {}),
          ...(flags.keepFailed ? { keepFailed: true } : {}),
          ...(flags.alarm?.length ? { alarms: flags.alarm } : {}),
          gates,
        };
        if (flags.dryRun) {
          try {
            const [plan, { describePlan }] = await Promise.all([
              yard.plan(service, options),
              import("../../swap/deploy.js"),
            ]);
            renderer.stop();
            if (globals.json) writeLine(io.stdout, JSON.stringify(plan));
            else for (const line of describePlan(plan)) writeLine(io.stdout, line);
          } finally {
            yard.close();
          }
          return;
        }
        await runOperation({
          io,
          state,
          globals,
          yard,
          service,
          renderer,
          interrupt: "rolls-back",
          start: (signal) =>
            yard.deploy(service, { ...options, ...(flags.detach ? { detach: true } : {}), signal }),
          toResult: (r) => ({
            ...swapResultObject(r),
            ...(flags.detach ? { detached: true, swapId: r.swapId } : {}),
          }),
          next: (r) =>
            flags.detach
              ? [
                  `${commandLine(`reconcile ${service}`, globals.hintArgs)}    # one pass: run it every minute from cron or a scheduler`,
                  `${commandLine(`status ${service}`, globals.hintArgs)}    # where the swap stands`,
                ]
              : afterSwap(r, globals),
          failure: (r) => r.error,
        });
      } finally {
        renderer.stop();
      }
    });
}
