/**
 * `switchyard reconcile [service...] [--all]`: one pass over the services' swap records, advancing
 * each swap no live process drives by what is due (for cron, a CI schedule, a scheduled Lambda).
 * Exit 0 when every pass went through, 4 when a swap was rolled back in it, else the first
 * failure's code.
 */
import type { Command } from "commander";
import { InputError } from "../../core/errors.js";
import type { ReconcileReport } from "../../switchyard.js";
import { globalsOf, onSignal, writeLine } from "../io.js";
import type { CommandContext } from "../program.js";
import { closeSwitchyard, openRenderer, openSwitchyard, pollIntervalOption } from "../shared.js";

interface ReconcileFlags {
  all?: boolean;
  pollInterval?: number;
}

type Entry = ReconcileReport["services"][number];

/** One line per service: what the pass did. */
export function describePass(entry: Entry): string {
  switch (entry.outcome) {
    case "none":
      return `${entry.service}: no swap in flight`;
    case "held":
      return `${entry.service}: left alone, driven elsewhere: ${entry.holder}`;
    case "advanced":
      return `${entry.service}: swap ${entry.swapId} advanced; ${entry.waiting ?? "waiting"} (next pass goes on)`;
    case "completed":
      return `${entry.service}: swap ${entry.swapId} completed: ${entry.result?.live} is live`;
    case "rolled-back":
      return `${entry.service}: swap ${entry.swapId} rolled back (${entry.result?.error?.code}): ${entry.result?.live} is live`;
    case "failed":
      return `${entry.service}: failed: error ${entry.error.code}: ${entry.error.message}`;
  }
}

/** The report as the contract's JSON result object. */
export function passJson(report: ReconcileReport) {
  return {
    type: "result",
    ok: report.services.every((e) => e.outcome !== "failed" && e.outcome !== "rolled-back"),
    services: report.services.map((e) => ({
      service: e.service,
      outcome: e.outcome,
      ...("swapId" in e && e.swapId ? { swapId: e.swapId } : {}),
      ...("holder" in e && e.holder ? { holder: e.holder } : {}),
      ...("waiting" in e && e.waiting ? { waiting: e.waiting } : {}),
      ...("result" in e && e.result ? { live: e.result.live, release: e.result.release } : {}),
      ...(e.outcome === "failed"
        ? { error: { code: e.error.code, message: e.error.message } }
        : "result" in e && e.result?.error
          ? { error: { code: e.result.error.code, message: e.result.error.message } }
          : {}),
    })),
  };
}

export function registerReconcile(program: Command, { io, state }: CommandContext): void {
  program
    .command("reconcile")
    .description(
      "one pass advancing every swap no process drives (deploy --detach, a dead process): for cron, schedulers, Lambda",
    )
    .argument("[service...]", "services, <app>/<env> (or --all)")
    .option("--all", "every service in the config")
    .addOption(pollIntervalOption())
    .action(async (services: string[], flags: ReconcileFlags, command: Command) => {
      if (services.length === 1) state.service = services[0];
      const globals = globalsOf(command, io);
      if (services.length === 0 && !flags.all) {
        throw new InputError("INVALID_INPUT", "name the services to reconcile, or pass --all", {
          hint: "switchyard reconcile --all",
        });
      }
      const renderer = await openRenderer(globals, io);
      try {
        const yard = await openSwitchyard(globals, io, {
          ...(services.length === 1 ? { service: services[0] } : {}),
          ...(flags.pollInterval === undefined ? {} : { pollIntervalMs: flags.pollInterval }),
        });
        const { commandGates } = await import("../gates.js");
        const controller = new AbortController();
        const offInt = onSignal(io, "SIGINT", () => controller.abort());
        const offTerm = onSignal(io, "SIGTERM", () => controller.abort());
        let report: ReconcileReport;
        try {
          const pass = yard.reconcile({
            ...(flags.all ? {} : { services }),
            gates: (service) =>
              commandGates(yard.config.services[service]?.gates ?? [], [], {
                env: io.env,
                ...(io.cwd ? { cwd: io.cwd } : {}),
              }),
            signal: controller.signal,
          });
          for await (const event of pass.events) renderer.event(event);
          report = await pass.result;
        } finally {
          offInt();
          offTerm();
          renderer.stop();
          await closeSwitchyard(yard, io, globals);
        }
        if (globals.json) writeLine(io.stdout, JSON.stringify(passJson(report)));
        else for (const entry of report.services) writeLine(io.stdout, describePass(entry));
        state.resultPrinted = true;
        // the exit code and the error line: a failure first, else a rollback (exit 4)
        for (const entry of report.services) {
          if (entry.outcome === "failed") throw entry.error;
        }
        for (const entry of report.services) {
          if (entry.outcome === "rolled-back" && entry.result?.error) throw entry.result.error;
        }
      } finally {
        renderer.stop();
      }
    });
}
