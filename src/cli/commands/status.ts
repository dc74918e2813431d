/**
 * `switchyard status [service]`: server groups, roles, releases, capacity, health, weights, swaps.
 * `--watch` follows a service's status as it changes, `--wait` blocks until its swap has ended
 * (see ../status-watch.ts).
 */
import { type Command, Option } from "commander";
import type { ServiceStatus } from "../../swap/status.js";
import { type CliStream, commandLine, globalsOf, writeLine } from "../io.js";
import { parseDurationFlag } from "../options.js";
import type { CommandContext } from "../program.js";
import { formatElapsed, type Palette, palette, releaseVersion } from "../render.js";
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

/** Left-aligned columns separated by two spaces; `paint` colours a padded cell. */
export function table(
  rows: string[][],
  paint: (row: number, column: number, cell: string) => string = (_r, _c, cell) => cell,
): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row, r) => {
    const last = row.length - 1;
    return row
      .map((cell, i) => paint(r, i, i === last ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  });
}

/**
 * A line cut at `width` between words, the rest indented under it: status lines stay within the
 * terminal (80 columns when piped) rather than wrap where the terminal breaks them.
 */
export function wrap(line: string, width: number, indent = "    "): string[] {
  if (line.length <= width) return [line];
  // a command in backticks is never cut: it has to be copied whole
  const words = line.match(/(?:`[^`]*`|\S)+|\s+/g) ?? [line];
  const out: string[] = [];
  let current = "";
  for (const word of words) {
    if (/^\s+$/.test(word)) {
      current += word;
      continue;
    }
    if (current.trim() !== "" && current.trimEnd().length + word.length + 1 > width) {
      out.push(current.trimEnd());
      current = indent;
    }
    current += word;
  }
  out.push(current.trimEnd());
  return out;
}

export interface StatusViewOptions {
  /** the width to fit (default 80) */
  width?: number;
  /** colour the roles (a terminal, and not NO_COLOR / --no-color) */
  color?: boolean;
  /** the retire policy's `keep`: more old groups than this earn a nudge to retire */
  keep?: number;
  /** the run's global flags, so that printed commands work as printed */
  hintArgs?: readonly string[];
}

const ROLE_COLOURS: Record<string, keyof Palette> = {
  live: "green",
  standby: "cyan",
  failed: "red",
};

/** A service's status as lines for a terminal, within `width` columns. */
export function describeStatus(s: ServiceStatus, options: StatusViewOptions = {}): string[] {
  const width = options.width ?? 80;
  const p = palette(options.color === true);
  const cmd = (args: string) => `\`${commandLine(args, options.hintArgs)}\``;
  const lines = [s.service];
  const say = (line: string) => lines.push(...wrap(line, width));
  if (s.groups.length === 0) {
    say(`  no server groups yet: ${cmd(`deploy ${s.service} --release <version>`)}`);
  } else {
    const header = ["GROUP", "ROLE", "RELEASE", "TRAFFIC", "HEALTHY", "MIN/DES/MAX"];
    const outside = s.groups.filter((g) => g.weight === null);
    const rows = [
      header,
      ...s.groups.map((g) => [
        g.name,
        g.deleting ? `${g.role} (deleting)` : g.role,
        releaseVersion(g.release),
        g.weight === null ? "-" : `${g.weight}%`,
        // a target group outside the listener is not health-checked: its health is unknown
        g.weight === null
          ? `-/${g.capacity.desired}`
          : `${g.instances.healthy}/${g.capacity.desired}`,
        `${g.capacity.min}/${g.capacity.desired}/${g.capacity.max}`,
      ]),
    ];
    // too wide: the capacity goes first, then long release names are cut
    let cells = rows;
    if (Math.max(...table(cells).map((l) => l.length)) + 2 > width) {
      cells = rows.map((r) => r.slice(0, 5));
    }
    const over = Math.max(...table(cells).map((l) => l.length)) + 2 - width;
    if (over > 0) {
      const longest = Math.max(...cells.map((r) => r[2]!.length));
      const keep = Math.max(8, longest - over);
      cells = cells.map((r) =>
        r.map((c, i) => (i === 2 && c.length > keep ? `${c.slice(0, keep - 1)}…` : c)),
      );
    }
    const painted = table(cells, (row, column, cell) => {
      if (row === 0) return p.dim(cell);
      if (column !== 1) return cell;
      const colour = ROLE_COLOURS[s.groups[row - 1]!.role];
      return colour ? p[colour](cell) : cell;
    });
    lines.push(...painted.map((l) => `  ${l}`));
    const bySuspended = new Map<string, string[]>();
    for (const g of s.groups) {
      if (g.suspendedProcesses.length === 0) continue;
      const key = g.suspendedProcesses.join(", ");
      bySuspended.set(key, [...(bySuspended.get(key) ?? []), g.name]);
    }
    for (const [processes, names] of bySuspended)
      say(`  suspended on ${names.join(", ")}: ${processes}`);
    if (outside.length > 0) {
      say(
        "  -: not in the listener's action, so no traffic and no health checks (an old standby; rollback --to adds it back)",
      );
    }
    const old = s.groups.filter((g) => g.role !== "live" && (g.weight ?? 0) === 0 && !g.deleting);
    const keep = options.keep ?? 1;
    if (old.length > keep) {
      say(
        `  ${old.length} groups without traffic, ${keep} kept by the retire policy: ${cmd(`retire ${s.service} --dry-run`)} shows what it would delete`,
      );
    }
  }
  const w = s.swap;
  if (w) {
    const at = w.step > 0 ? `step ${w.step}/${w.of}` : "launching";
    const progress =
      w.phase === "rolling-back"
        ? `rolling back: ${w.failure?.message ?? "the swap was aborted"}`
        : `${w.phase}, ${at}${w.weight === null ? "" : ` (${w.weight}%)`}`;
    say(
      `  swap in flight: ${w.swapId}, ${progress}, ${releaseVersion(w.release)} on ${w.green}${w.blue ? ` (blue ${w.blue})` : ""}`,
    );
    say(
      w.detachedAt
        ? `    driven by reconcile passes (the last at ${w.detachedAt}, by ${w.owner.user}@${w.owner.host}); started ${w.startedAt}: ${cmd(`reconcile ${s.service}`)} goes on`
        : `    by ${w.owner.user}@${w.owner.host} pid ${w.owner.pid}, started ${w.startedAt}, heartbeat ${formatElapsed(w.heartbeatAgeMs)} ago`,
    );
    if (w.phase === "rolling-back") {
      say(
        `    failed ${w.step > 0 ? `at ${at}` : "while launching"}${w.failure ? ` (${w.failure.code})` : ""}`,
      );
    } else if (w.failure) {
      say(`    failure ${w.failure.code}: ${w.failure.message}`);
    }
    if (w.verdict) say(`    judge at step ${w.verdict.step}: ${w.verdict.sentence}`);
    if (w.halted) {
      say(`    stopped (${w.halted.code}): ${w.halted.message}; no process drives it`);
      say(
        `    ${cmd(`promote ${s.service}`)} adopts what is there and goes on; ${cmd(`abort ${s.service}`)} puts blue back`,
      );
    }
    if (w.paused) {
      say(
        `    paused by ${w.control.pause?.by ?? "an operator"}: ${cmd(`promote ${s.service}`)} goes on`,
      );
    }
    if (w.control.abort) say(`    abort requested by ${w.control.abort.by}`);
    if (w.control.promote) {
      say(`    promote of step ${w.control.promote.step} requested by ${w.control.promote.by}`);
    }
  } else {
    lines.push("  no swap in flight");
  }
  for (const warning of s.warnings) say(`  warning: ${warning}`);
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
            const view = {
              width: Math.min(io.stdout.columns || 80, 120),
              color: globals.color && io.stdout.isTTY === true,
              keep: yard.config.services[s.service]?.retire.keep ?? 1,
              hintArgs: globals.hintArgs,
            };
            for (const line of describeStatus(s, view)) writeLine(io.stdout, line);
          });
        }
      } finally {
        yard.close();
      }
    });
}
