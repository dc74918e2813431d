/**
 * `switchyard release push <dir|tar.gz> --service S --version V`: package and upload a release,
 * printing its URL; `switchyard release list --service S`: the releases, newest first, marking
 * the live and standby ones.
 */
import type { Command } from "commander";
import type { ReleaseInfo } from "../../release/list.js";
import { exitNow, globalsOf, onSignal, writeLine } from "../io.js";
import type { CommandContext } from "../program.js";
import { noteService, openSwitchyard } from "../shared.js";
import { table } from "./status.js";

// ─── text ─────────────────────────────────────────────────────────────────────────────────────

/** `512` → `512 B`, `1536` → `1.5 KiB`, `8388608` → `8.0 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.max(0, Math.round(bytes))} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The spinner's text while a release uploads: `uploading r42: 40% (1.2 MiB of 3.0 MiB)`. */
export function uploadProgressText(
  version: string,
  progress: { loaded: number; total: number },
): string {
  const { loaded, total } = progress;
  const percent = total > 0 ? Math.min(100, Math.floor((100 * loaded) / total)) : 100;
  return `uploading ${version}: ${percent}% (${formatBytes(loaded)} of ${formatBytes(total)})`;
}

/** The first 12 hex digits of a digest, or `-` when there is none. */
export function shortSha(sha256: string | null): string {
  return sha256 ? sha256.slice(0, 12) : "-";
}

/** `2026-03-04T05:06:07.000Z` → `2026-03-04 05:06:07Z`; anything else as it is. */
export function formatCreated(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]}Z` : iso || "-";
}

/** `live`, `standby`, `live, standby` (two groups run it) or nothing. */
export function releaseMarks(r: Pick<ReleaseInfo, "live" | "standby">): string {
  return [r.live ? "live" : "", r.standby ? "standby" : ""].filter(Boolean).join(", ");
}

/** The releases as a table, in the order given (newest first). */
export function describeReleases(releases: readonly ReleaseInfo[]): string[] {
  const rows = [["VERSION", "CREATED", "SIZE", "SHA256", ""]];
  for (const r of releases) {
    rows.push([
      r.version,
      formatCreated(r.createdAt),
      formatBytes(r.size),
      shortSha(r.sha256),
      releaseMarks(r),
    ]);
  }
  return table(rows);
}

// ─── `--version` after `release push` ────────────────────────────────────────────────────────

/** The index of `push` in `release push …`, skipping the program's own options; else undefined. */
function pushIndex(program: Command, args: readonly string[]): number | undefined {
  const operands: number[] = [];
  for (let i = 0; i < args.length && operands.length < 2; i++) {
    const arg = args[i]!;
    if (arg === "--") return undefined;
    if (arg.startsWith("-") && arg.length > 1) {
      const option = program.options.find((o) => o.long === arg || o.short === arg);
      if (option && (option.required || option.optional) && !arg.includes("=")) i++;
      continue;
    }
    operands.push(i);
  }
  const [first, second] = operands;
  return first !== undefined &&
    second !== undefined &&
    args[first] === "release" &&
    args[second] === "push"
    ? second
    : undefined;
}

/**
 * `release push … --version V` names the release. commander lets a program's options appear
 * anywhere on the command line, so the program's `-V, --version` would take it and print
 * switchyard's version instead. This hands every `--version` after `release push` to `push`.
 */
export function routeReleaseVersionFlag(program: Command): void {
  const parseOptions = program.parseOptions.bind(program);
  program.parseOptions = (args: string[]) => {
    const at = pushIndex(program, args);
    if (at === undefined) return parseOptions(args);
    const kept: string[] = [];
    const moved: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (i > at && arg === "--") {
        kept.push(...args.slice(i));
        break;
      }
      if (i > at && arg === "--version") {
        moved.push(arg);
        if (i + 1 < args.length) moved.push(args[++i]!);
      } else if (i > at && arg.startsWith("--version=")) {
        moved.push(arg);
      } else {
        kept.push(arg);
      }
    }
    const parsed = parseOptions(kept);
    return { operands: parsed.operands, unknown: [...parsed.unknown, ...moved] };
  };
}

// ─── the commands ─────────────────────────────────────────────────────────────────────────────

interface PushFlags {
  service: string;
  version: string;
}

export function registerRelease(program: Command, { io, state }: CommandContext): void {
  routeReleaseVersionFlag(program);
  const release = program
    .command("release")
    .description("package and upload releases to a service's releases location, and list them");

  release
    .command("push")
    .description(
      "package a directory (or take a ready .tar.gz) and upload it as <releases><version>.tar.gz; prints the release URL",
    )
    .argument("<source>", "a directory with a Procfile (a web: line) at its root, or a .tar.gz")
    .requiredOption("--service <service>", "the service, <app>/<env>")
    .requiredOption(
      "--version <version>",
      "the release version, e.g. r42: letters, digits, '.', '-', '_'; releases are immutable",
    )
    .action(async (source: string, flags: PushFlags, command: Command) => {
      noteService(state, flags.service);
      const globals = globalsOf(command, io);
      const yard = await openSwitchyard(globals, io, { service: flags.service });
      const { progressFor } = await import("../spinner.js");
      const progress = await progressFor(globals, io);
      const controller = new AbortController();
      let interrupts = 0;
      const interrupt = () => {
        interrupts++;
        progress.stop();
        if (interrupts > 1) exitNow(io, 130);
        else {
          writeLine(io.stderr, "interrupted: stopping the upload (Ctrl-C again to exit at once)");
          controller.abort();
        }
      };
      const offInt = onSignal(io, "SIGINT", interrupt);
      const offTerm = onSignal(io, "SIGTERM", interrupt);
      try {
        progress.update(`packing ${source}`);
        const result = await yard.releases.push(flags.service, {
          source,
          version: flags.version,
          cwd: io.cwd ?? process.cwd(),
          signal: controller.signal,
          onProgress: (p) => progress.update(uploadProgressText(flags.version, p)),
        });
        progress.succeed(
          `pushed ${result.version} of ${flags.service}: ${formatBytes(result.size)}, sha256 ${shortSha(result.sha256)}`,
        );
        if (globals.json) {
          const { url, version, sha256, size } = result;
          writeLine(io.stdout, JSON.stringify({ url, version, sha256, size }));
        } else {
          writeLine(io.stdout, result.url);
        }
      } catch (error) {
        progress.stop();
        if (controller.signal.aborted) {
          const { SwitchyardError, isSwitchyardError } = await import("../../core/errors.js");
          if (!isSwitchyardError(error, "ABORTED")) {
            throw new SwitchyardError(
              "ABORTED",
              `release push of ${flags.version} was interrupted`,
              {
                cause: error,
                hint: `\`switchyard release list --service ${flags.service}\` shows whether it landed; if not, push it again`,
              },
            );
          }
        }
        throw error;
      } finally {
        offInt();
        offTerm();
        yard.close();
      }
    });

  release
    .command("list")
    .description("the releases of a service, newest first, marking the live and standby ones")
    .requiredOption("--service <service>", "the service, <app>/<env>")
    .action(async (flags: { service: string }, command: Command) => {
      noteService(state, flags.service);
      const globals = globalsOf(command, io);
      const yard = await openSwitchyard(globals, io, { service: flags.service });
      try {
        const releases = await yard.releases.list(flags.service);
        if (globals.json) {
          writeLine(io.stdout, JSON.stringify(releases));
        } else if (releases.length === 0) {
          if (!globals.quiet) {
            const location = yard.config.services[flags.service]?.releases ?? "";
            writeLine(io.stdout, `no releases in ${location}`);
            writeLine(
              io.stderr,
              `hint: switchyard release push <dir> --service ${flags.service} --version <version>`,
            );
          }
        } else {
          for (const line of describeReleases(releases)) writeLine(io.stdout, line);
        }
      } finally {
        yard.close();
      }
    });
}
