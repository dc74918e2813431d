/**
 * `switchyard status [service]`: server groups, roles, releases, capacity, health, weights, swaps.
 * `--watch` follows a service's status as it changes, `--wait` blocks until its swap has ended
 * (see ../status-watch.ts).
 */
import { type Command, Option } from "commander";
import type { ServiceStatus } from "../../swap/status.js";
import { type CliStream, globalsOf, writeLine } from "../io.js";
import { parseDurationFlag } from "../options.js";
import type { CommandContext } from "../program.js";
import { formatElapsed, releaseVersion } from "../render.js";
import { noteService, openSwitchyard, pollIntervalOption } from "../shared.js";

interface StatusFlags {
  watch?: boolean;
  wait?: boolean;
  timeout?: number;
  pollInterval?: number;
}

/** The contract's `status --json` object: exactly these fields, in this order. */
export function statusJson(s: ServiceStatus) {
  return {
    service: s.service,
    groups: s.groups.map((g) => ({
      name: g.name,
      role: g.role,
      release: g.release,
      sequence: g.sequence,
      createdAt: g.createdAt,
      capacity: { min: g.capacity.min, max: g.capacity.max, desired: g.capacity.desired },
      instances: { inService: g.instances.inService, healthy: g.instances.healthy },
      weight: g.weight,
      suspendedProcesses: [...g.suspendedProcesses],
    })),
    swap: s.swap,
  };
}

/** Left-aligned columns separated by two spaces. */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

/** A service's status as lines for a terminal. */
export function describeStatus(s: ServiceStatus): string[] {
  const lines = [s.service];
  if (s.groups.length === 0) {
    lines.push(`  no server groups yet: switchyard deploy ${s.service} --release <version>`);
  } else {
    const rows = [
      [
        "GROUP",
        "ROLE",
        "RELEASE",
        "WEIGHT",
        "MIN/DESIRED/MAX",
        "IN SERVICE",
        "HEALTHY",
        "SUSPENDED",
      ],
    ];
    for (const g of s.groups) {
      rows.push([
        g.name,
        g.deleting ? `${g.role} (deleting)` : g.role,
        releaseVersion(g.release),
        g.weight === null ? "-" : String(g.weight),
        `${g.capacity.min}/${g.capacity.desired}/${g.capacity.max}`,
        String(g.instances.inService),
        String(g.instances.healthy),
        g.suspendedProcesses.length ? g.suspendedProcesses.join(",") : "-",
      ]);
    }
    lines.push(...table(rows).map((l) => `  ${l}`));
  }
  const w = s.swap;
  if (w) {
    const at = w.step > 0 ? `step ${w.step}/${w.of}` : "launching";
    const progress =
      w.phase === "rolling-back"
        ? `rolling back: ${w.failure?.message ?? "the swap was aborted"}`
        : `${w.phase}, ${at}${w.weight === null ? "" : ` (${w.weight}%)`}`;
    lines.push(
      `  swap in flight: ${w.swapId}, ${progress}, ${releaseVersion(w.release)} on ${w.green}${w.blue ? ` (blue ${w.blue})` : ""}`,
      `    by ${w.owner.user}@${w.owner.host} pid ${w.owner.pid}, started ${w.startedAt}, heartbeat ${formatElapsed(w.heartbeatAgeMs)} ago`,
    );
    if (w.phase === "rolling-back") {
      lines.push(
        `    failed ${w.step > 0 ? `at ${at}` : "while launching"}${w.failure ? ` (${w.failure.code})` : ""}`,
      );
    } else if (w.failure) {
      lines.push(`    failure ${w.failure.code}: ${w.failure.message}`);
    }
    if (w.halted) {
      lines.push(
        `    stopped (${w.halted.code}): ${w.halted.message}; no process drives it`,
        `    \`switchyard promote ${s.service}\` adopts what is there and goes on; \`switchyard abort ${s.service}\` puts blue back`,
      );
    }
    if (w.paused)
      lines.push(
        `    paused by ${w.control.pause?.by ?? "an operator"}: \`switchyard promote ${s.service}\` goes on`,
      );
    if (w.control.abort) lines.push(`    abort requested by ${w.control.abort.by}`);
    if (w.control.promote)
      lines.push(
        `    promote of step ${w.control.promote.step} requested by ${w.control.promote.by}`,
      );
  } else {
    lines.push("  no swap in flight");
  }
  for (const warning of s.warnings) lines.push(`  warning: ${warning}`);
  return lines;
}

function printWarnings(stderr: CliStream, statuses: ServiceStatus[]) {
  for (const s of statuses) {
    for (const warning of s.warnings) writeLine(stderr, `warning: ${s.service}: ${warning}`);
  }
}

export function registerStatus(program: Command, { io, state }: CommandContext): void {
  program
    .command("status")
    .description(
      "server groups, roles, releases, capacity, health, listener weights and any swap in flight",
    )
    .argument("[service]", "the service, <app>/<env> (default: every service in the config)")
    .option(
      "--watch",
      "follow the service: redraw on every change (a line, or a JSON object, per change when not a terminal); Ctrl-C stops",
    )
    .option(
      "--wait",
      "block until no swap is in flight, then exit with its code: 0 completed, 4 rolled back, 1 halted or cancelled",
    )
    .addOption(
      new Option(
        "--timeout <duration>",
        "with --wait: give up after this long, the swap going on (TIMEOUT, exit 1; default 1h)",
      ).argParser(parseDurationFlag),
    )
    .addOption(pollIntervalOption())
    .action(async (service: string | undefined, flags: StatusFlags, command: Command) => {
      noteService(state, service);
      const globals = globalsOf(command, io);
      const following = flags.watch === true || flags.wait === true;
      if (following && service === undefined) {
        const { InputError } = await import("../../core/errors.js");
        const flag = flags.watch ? "--watch" : "--wait";
        throw new InputError("INVALID_INPUT", `status ${flag} needs a service`, {
          hint: `switchyard status <service> ${flag}`,
        });
      }
      if (flags.timeout !== undefined && !flags.wait) {
        const { InputError } = await import("../../core/errors.js");
        throw new InputError("INVALID_INPUT", "--timeout applies to status --wait", {
          hint: `switchyard status ${service ?? "<service>"} --wait --timeout 30m`,
        });
      }
      const yard = await openSwitchyard(globals, io, {
        ...(service === undefined ? {} : { service }),
        ...(flags.pollInterval === undefined ? {} : { pollIntervalMs: flags.pollInterval }),
      });
      try {
        if (following && service !== undefined) {
          const { runStatusWatch } = await import("../status-watch.js");
          await runStatusWatch({
            io,
            globals,
            yard,
            service,
            state,
            watch: flags.watch === true,
            wait: flags.wait === true,
            ...(flags.timeout === undefined ? {} : { timeoutMs: flags.timeout }),
          });
          return;
        }
        const statuses =
          service === undefined ? await yard.statusAll() : [await yard.status(service)];
        if (globals.json) {
          const out = statuses.map(statusJson);
          writeLine(io.stdout, JSON.stringify(service === undefined ? out : out[0]));
          state.resultPrinted = true;
          printWarnings(io.stderr, statuses);
        } else {
          statuses.forEach((s, i) => {
            if (i > 0) writeLine(io.stdout);
            for (const line of describeStatus(s)) writeLine(io.stdout, line);
          });
        }
      } finally {
        yard.close();
      }
    });
}
