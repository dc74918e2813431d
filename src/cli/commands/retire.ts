/**
 * `switchyard retire [service...] [--all] [--keep N] [--min-age D] [--dry-run]`: delete the
 * standby groups the retire policy no longer keeps. Meant for cron and CI: with `--json` stdout
 * is the contract's report; the exit code is 1 when any deletion failed.
 */
import type { Command } from "commander";
import type { RetireReport } from "../../retire/retire.js";
import { exitNow, globalsOf, onSignal, writeLine } from "../io.js";
import { parseCount, parseDurationFlag } from "../options.js";
import type { CommandContext } from "../program.js";
import { noteService, openSwitchyard, pollIntervalOption } from "../shared.js";

interface RetireFlags {
  all?: boolean;
  keep?: number;
  minAge?: string;
  dryRun?: boolean;
  pollInterval?: number;
}

/** The contract's retire report (plus `failed`): exactly these fields, in this order. */
export function retireJson(r: RetireReport) {
  return {
    dryRun: r.dryRun,
    deleted: [...r.deleted],
    kept: [...r.kept],
    skipped: r.skipped.map((s) => ({ name: s.name, reason: s.reason })),
    failed: r.failed,
    orphans: r.orphans.map((o) => ({ name: o.name, kind: o.kind })),
  };
}

/** Nothing deleted (or to delete), nothing skipped, nothing failed. */
export function nothingToRetire(r: RetireReport): boolean {
  return r.deleted.length === 0 && r.orphans.length === 0 && r.skipped.length === 0 && !r.failed;
}

/**
 * The report as lines for stdout: one per deleted (or would-be-deleted) group, then what was
 * kept and skipped. With `quiet`, only the deletions; when there is nothing to do, one line
 * saying so (nothing at all with `quiet`).
 */
export function describeRetire(r: RetireReport, options: { quiet?: boolean } = {}): string[] {
  if (nothingToRetire(r)) return options.quiet ? [] : ["nothing to retire"];
  const verb = r.dryRun ? "would delete" : "deleted";
  const lines = [
    ...r.deleted.map((name) => `${verb} ${name}`),
    ...r.orphans.map((o) => `${verb} orphaned ${o.kind.replace("-", " ")} ${o.name}`),
  ];
  const deletions = lines.length;
  if (options.quiet) return lines;
  if (r.kept.length > 0) lines.push(`kept ${r.kept.length}: ${r.kept.join(", ")}`);
  for (const s of r.skipped) lines.push(`skipped ${s.name}: ${s.reason}`);
  if (r.dryRun && deletions > 0) lines.push("dry run: nothing was deleted");
  return lines;
}

/** A duration flag kept as written (the library reads it), checked when parsed. */
function durationText(value: string): string {
  parseDurationFlag(value);
  return value;
}

export function registerRetire(program: Command, { io, state }: CommandContext): void {
  program
    .command("retire")
    .description(
      "delete the standby groups the retire policy no longer keeps (each service's retire: { keep, minAge })",
    )
    .argument("[service...]", "services, <app>/<env> (or --all)")
    .option("--all", "every service in the config")
    .option(
      "--keep <n>",
      "standby groups to keep per service, newest first (overrides retire.keep)",
      parseCount,
    )
    .option(
      "--min-age <duration>",
      "keep groups younger than this, e.g. 24h (overrides retire.minAge)",
      durationText,
    )
    .option("--dry-run", "report what would be deleted and change nothing")
    .addOption(pollIntervalOption())
    .action(async (services: string[], flags: RetireFlags, command: Command) => {
      const globals = globalsOf(command, io);
      if (services.length === 0 && !flags.all) {
        const { InputError } = await import("../../core/errors.js");
        throw new InputError("INVALID_INPUT", "retire needs services: name them or pass --all", {
          hint: "e.g. `switchyard retire web/prod`, or `switchyard retire --all --dry-run` to see what would go",
        });
      }
      if (services.length > 0 && flags.all) {
        const { InputError } = await import("../../core/errors.js");
        throw new InputError(
          "INVALID_INPUT",
          `retire takes services or --all, not both; got ${services.join(" ")} and --all`,
        );
      }
      if (services.length === 1) noteService(state, services[0]);
      const yard = await openSwitchyard(globals, io, {
        ...(flags.pollInterval === undefined ? {} : { pollIntervalMs: flags.pollInterval }),
      });
      const { progressFor } = await import("../spinner.js");
      const progress = await progressFor(globals, io);
      const controller = new AbortController();
      let interrupts = 0;
      const interrupt = () => {
        interrupts++;
        progress.stop();
        if (interrupts > 1) exitNow(io, 130);
        else {
          writeLine(
            io.stderr,
            "interrupted: stopping retire after the deletions under way (Ctrl-C again to exit at once)",
          );
          controller.abort();
        }
      };
      const offInt = onSignal(io, "SIGINT", interrupt);
      const offTerm = onSignal(io, "SIGTERM", interrupt);
      let report: RetireReport;
      try {
        progress.update(
          flags.dryRun ? "retire (dry run): reading services" : "retire: reading services",
        );
        report = await yard.retire({
          services: flags.all ? "all" : services,
          ...(flags.keep === undefined ? {} : { keep: flags.keep }),
          ...(flags.minAge === undefined ? {} : { minAge: flags.minAge }),
          dryRun: flags.dryRun === true,
          signal: controller.signal,
          onEvent: (event) => {
            if (event.type === "retire.deleted" && !event.dryRun) {
              progress.update(`retire: deleted ${event.group}`);
            }
          },
        });
      } finally {
        progress.stop();
        offInt();
        offTerm();
        yard.close();
      }
      if (globals.json) {
        writeLine(io.stdout, JSON.stringify(retireJson(report)));
        state.resultPrinted = true;
      } else
        for (const line of describeRetire(report, { quiet: globals.quiet }))
          writeLine(io.stdout, line);
      if (!report.failed && report.locked?.length) {
        const { LockError } = await import("../../core/errors.js");
        throw new LockError(
          "LOCK_HELD",
          `retire left ${report.locked.join(", ")} alone: another operation holds ${report.locked.length > 1 ? "their locks" : "its lock"}`,
          { hint: "run it again once that swap or rollback has ended" },
        );
      }
      if (report.failed) {
        const { SwitchyardError } = await import("../../core/errors.js");
        const cancelled = controller.signal.aborted;
        throw new SwitchyardError(
          cancelled ? "ABORTED" : "AWS_ERROR",
          cancelled
            ? "retire was interrupted before it finished; the skipped groups say what is left"
            : "retire did not finish: a deletion failed or a service could not be read; the skipped groups say why",
          { hint: "run it again: retire finishes what an earlier run left half-done" },
        );
      }
    });
}
