/**
 * `switchyard adopt <service> --group <asg> [--dry-run]`: take an Auto Scaling group another tool
 * made under management as the service's live group. Every check runs first; then, on a terminal
 * without `--yes`, the operator confirms what will change; without a terminal `--yes` is required.
 * With `--json`, stdout is one result object.
 */
import type { Command } from "commander";
import type { AdoptResult } from "../../swap/adopt.js";
import { globalsOf, writeLine } from "../io.js";
import type { CommandContext } from "../program.js";
import { noteService, openSwitchyard } from "../shared.js";
import type { Prompter } from "../wizard/prompts.js";

interface AdoptFlags {
  group: string;
  dryRun?: boolean;
}

/** The result object `--json` prints. */
export function adoptJson(r: AdoptResult) {
  return {
    service: r.service,
    group: r.group,
    targetGroupArn: r.targetGroupArn,
    changed: r.changed,
    dryRun: r.dryRun,
    release: r.release,
    sequence: r.sequence,
    instances: r.instances,
    changes: r.changes,
    tags: r.tags,
  };
}

/** The result as lines for stdout. */
export function describeAdopt(r: AdoptResult): string[] {
  const verb = r.changed ? "did" : "would";
  return [
    `${r.changed ? "adopted" : "would adopt"} ${r.group} as the live group of ${r.service} (${r.instances.healthy} healthy targets in ${r.targetGroupArn})`,
    ...r.changes.map((c) => `  ${verb}: ${c}`),
    r.changed
      ? `next: \`switchyard deploy ${r.service} --release <version>\` swaps away from ${r.group} and keeps it as the standby to roll back to`
      : "dry run: nothing was changed",
  ];
}

/** Asks the operator to confirm the adoption the checks found possible. */
export async function confirmAdoption(checked: AdoptResult, prompter: Prompter): Promise<boolean> {
  return prompter.confirm({
    message: `Adopt ${checked.group} as the live group of ${checked.service}? (${checked.changes.length} tag changes, no traffic change)`,
    default: false,
  });
}

export function registerAdopt(program: Command, { io, state }: CommandContext): void {
  program
    .command("adopt")
    .description(
      "take an Auto Scaling group another tool made (Terraform, the console) under management as the service's live group",
    )
    .argument("<service>", "the service, <app>/<env>")
    .requiredOption(
      "--group <asg>",
      "the Auto Scaling group to adopt: the listener forwards all traffic to its one target group",
    )
    .option("--dry-run", "make every check and print what would change; change nothing")
    .action(async (service: string, flags: AdoptFlags, command: Command) => {
      noteService(state, service);
      const globals = globalsOf(command, io);
      const stdin = io.stdin ?? process.stdin;
      const terminal = !globals.json && stdin.isTTY === true && io.stdout.isTTY === true;
      if (!flags.dryRun && !globals.yes && !terminal) {
        const { InputError } = await import("../../core/errors.js");
        throw new InputError(
          "INVALID_INPUT",
          `adopt ${service} tags ${flags.group} as switchyard's and needs confirmation: pass --yes (no terminal to ask on)`,
          {
            hint: `see first what it would change: switchyard adopt ${service} --group ${flags.group} --dry-run`,
          },
        );
      }
      const yard = await openSwitchyard(globals, io, { service });
      try {
        if (!flags.dryRun && !globals.yes) {
          // the checks first, so the operator confirms what will really change
          const checked = await yard.adopt(service, { group: flags.group, dryRun: true });
          for (const line of describeAdopt(checked).slice(0, -1)) writeLine(io.stdout, line);
          const { inquirerPrompter, isPromptExit } = await import("../wizard/prompts.js");
          const prompter = await inquirerPrompter(io);
          const yes = await confirmAdoption(checked, prompter).catch((error: unknown) => {
            if (isPromptExit(error)) return false;
            throw error;
          });
          if (!yes) {
            const { SwapError } = await import("../../core/errors.js");
            throw new SwapError("ABORTED", "not confirmed; nothing was changed");
          }
        }
        const result = await yard.adopt(service, {
          group: flags.group,
          dryRun: flags.dryRun === true,
        });
        if (globals.json) writeLine(io.stdout, JSON.stringify(adoptJson(result)));
        else if (!globals.quiet || result.changed) {
          for (const line of describeAdopt(result)) writeLine(io.stdout, line);
        }
      } finally {
        yard.close();
      }
    });
}
