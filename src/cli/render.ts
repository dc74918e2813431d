/**
 * The event renderer: switchyard's events as a spinner and a step timeline on a terminal, as
 * plain timestamped lines when not a terminal (or on CI), or as JSON lines with `--json`.
 * Progress goes to stderr, results to stdout; with `--json` stdout carries JSON only.
 */
import type { SwitchyardEvent } from "../core/events.js";
import { type CliIo, type CliStream, type GlobalOptions, isCI, writeLine } from "./io.js";

export type RenderMode = "tty" | "plain" | "json";

/** The last line of `deploy`, `rollback` and `resume` in `--json` mode (see the contract). */
export interface ResultObject {
  type: "result";
  ok: boolean;
  service: string | null;
  live: string | null;
  standby: string | null;
  release: string | null;
  durationMs: number;
  /** a deploy: the release it tried to ship (`release` is the one live now) */
  attempted?: string;
  /** promote, pause, abort: the request, and who applies it */
  request?: "promote" | "pause" | "abort";
  appliedBy?: "driver" | "here";
  swapId?: string;
  driver?: string;
  error?: { code: string; message: string };
}

export interface RendererOptions {
  mode: RenderMode;
  stdout: CliStream;
  stderr: CliStream;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
}

export interface Renderer {
  readonly mode: RenderMode;
  event(event: SwitchyardEvent): void;
  /** a message of the CLI's own (Ctrl-C, hints), on stderr */
  notice(message: string, level?: "info" | "warn"): void;
  /** the result: a JSON line, or one human line on stdout (nothing for a failure) */
  result(result: ResultObject): void;
  /** `--verbose`: AWS calls by operation, on stderr */
  calls(calls: ReadonlyMap<string, number>): void;
  /** stops any spinner; safe to call twice */
  stop(): void;
}

/** A sized terminal (and not CI, not --json): spinners; otherwise plain lines; --json: JSON lines. */
export function chooseMode(globals: Pick<GlobalOptions, "json">, io: CliIo): RenderMode {
  if (globals.json) return "json";
  // a terminal of zero columns (a pty nobody sized) would make spinners redraw forever
  const sized = (io.stderr.columns ?? 0) > 0;
  return io.stderr.isTTY === true && sized && !isCI(io.env) ? "tty" : "plain";
}

// ─── text ─────────────────────────────────────────────────────────────────────────────────────

/** How a line of the timeline looks: a finished step, a failure, a warning, a note. */
export type LineKind = "action" | "wait" | "done" | "fail" | "warn" | "info";

export interface Line {
  kind: LineKind;
  text: string;
  /** shown only with --verbose */
  verbose?: boolean;
}

/** `1234` → `1.2s`, `72000` → `1m12s`. */
export function formatElapsed(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, "")}s`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}h${m}m${s}s` : `${m}m${s}s`;
}

/** The version part of a release URL (`s3://…/r42.tar.gz` → `r42`). */
export function releaseVersion(release: string): string {
  const file = release.slice(release.lastIndexOf("/") + 1);
  return file.replace(/\.(tar\.gz|tgz)$/, "");
}

/** What the renderer remembers between events (green's name, the number of steps). */
export interface Timeline {
  green?: string;
  of?: number;
}

/** One event as a timeline line; pure, shared by the spinner and the plain renderer. */
export function describeEvent(e: SwitchyardEvent, t: Timeline = {}): Line {
  switch (e.type) {
    case "swap.started": {
      t.green = e.green;
      t.of = e.steps.length;
      const what = `${e.service}: ${releaseVersion(e.release)} on ${e.green}`;
      const blue = e.blue ? `, blue ${e.blue}` : " (first deploy)";
      const steps = e.steps.map((s) => `${s}%`).join(" → ");
      return {
        kind: "info",
        text: `${e.resumed ? "resuming swap" : "swap"} ${e.swapId} of ${what}${blue}; steps ${steps}`,
      };
    }
    case "lock.acquired":
      return { kind: "info", text: `lock taken (swap ${e.swapId})`, verbose: true };
    case "lock.released":
      return { kind: "info", text: `lock released (swap ${e.swapId})`, verbose: true };
    case "action":
      return { kind: "action", text: e.description };
    case "waiting":
      return { kind: "wait", text: e.reason };
    case "green.healthy":
      return {
        kind: "done",
        text: `${e.group} healthy: ${e.healthy} instance${e.healthy === 1 ? "" : "s"} in ${formatElapsed(e.elapsedMs)}`,
      };
    case "step.shifted":
      t.of = e.of;
      return {
        kind: "done",
        text: `${e.weight}% on ${t.green ?? "green"} (step ${e.step}/${e.of})`,
      };
    case "step.baked":
      return {
        kind: "done",
        text: `baked ${e.weight}% (step ${e.step}${t.of ? `/${t.of}` : ""})`,
      };
    case "gate.failed":
      return { kind: "fail", text: `gate failed: ${e.gate}${e.message ? `: ${e.message}` : ""}` };
    case "rollback.started":
      return { kind: "warn", text: `rolling back (${e.code}): ${e.reason}` };
    case "swap.completed":
      return {
        kind: "done",
        text: `swap done in ${formatElapsed(e.durationMs)}: ${e.live} is live${e.standby ? `, ${e.standby} is standby` : ""}`,
      };
    case "swap.rolled-back":
      return {
        kind: "fail",
        text: `rolled back (${e.code}): ${e.reason}${e.live ? `; ${e.live} is live` : ""}`,
      };
    case "rollback.completed":
      return {
        kind: "done",
        text: `rolled back in ${formatElapsed(e.durationMs)}: ${e.live} is live${e.standby ? `, ${e.standby} is standby` : ""}`,
      };
    case "retire.deleted":
      return { kind: "done", text: `${e.dryRun ? "would delete" : "deleted"} ${e.group}` };
    case "retire.skipped":
      return { kind: "info", text: `kept ${e.group}: ${e.reason}` };
    case "cycle.completed":
      return {
        kind: "done",
        text: `${e.group}: ${e.replaced.length} instance${e.replaced.length === 1 ? "" : "s"} replaced in ${formatElapsed(e.durationMs)}`,
      };
    case "drift":
      return { kind: "warn", text: `drift: ${e.what}; the swap stopped and left it as found` };
    case "control":
      return { kind: "info", text: `${e.request} requested by ${e.by}` };
    case "warning":
      return { kind: "warn", text: e.message };
  }
}

/** The one human line of a result, for stdout; undefined for a failure (stderr says why). */
export function describeResult(r: ResultObject): string | undefined {
  if (!r.ok) return undefined;
  if (r.appliedBy === "driver") {
    return `${r.service}: ${r.request} requested; ${r.driver} applies it at its next poll (swap ${r.swapId})`;
  }
  const release = r.release ? ` (${releaseVersion(r.release)})` : "";
  const standby = r.standby ? `; standby ${r.standby}` : "";
  return `${r.service}: ${r.live} is live${release}${standby}; ${formatElapsed(r.durationMs)}`;
}

/** `--verbose`: the AWS calls made, by operation, busiest first. */
export function describeCalls(calls: ReadonlyMap<string, number>): string[] {
  const entries = [...calls.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = entries.reduce((n, [, c]) => n + c, 0);
  return [`AWS calls: ${total}`, ...entries.map(([op, n]) => `  ${String(n).padStart(4)}  ${op}`)];
}

// ─── colour ───────────────────────────────────────────────────────────────────────────────────

export interface Palette {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function palette(color: boolean): Palette {
  const wrap = (open: number, close: number) => (s: string) =>
    color ? `\u001b[${open}m${s}\u001b[${close}m` : s;
  return {
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

function symbolOf(kind: LineKind, p: Palette): string {
  switch (kind) {
    case "action":
    case "done":
      return p.green("✔");
    case "fail":
      return p.red("✖");
    case "warn":
      return p.yellow("⚠");
    case "wait":
    case "info":
      return p.cyan("ℹ");
  }
}

// ─── renderers ────────────────────────────────────────────────────────────────────────────────

/** `HH:MM:SS` (UTC) of a moment, the prefix of plain lines. */
export function clockTime(at: number): string {
  return new Date(at).toISOString().slice(11, 19);
}

function jsonRenderer(o: RendererOptions): Renderer {
  return {
    mode: "json",
    event(event) {
      if (!o.quiet) writeLine(o.stdout, JSON.stringify(event));
    },
    notice(message) {
      writeLine(o.stderr, message);
    },
    result(result) {
      writeLine(o.stdout, JSON.stringify(result));
    },
    calls(calls) {
      for (const line of describeCalls(calls)) writeLine(o.stderr, line);
    },
    stop() {},
  };
}

function plainRenderer(o: RendererOptions): Renderer {
  const timeline: Timeline = {};
  const prefix: Record<LineKind, string> = {
    action: "",
    wait: "",
    done: "",
    fail: "error: ",
    warn: "warning: ",
    info: "",
  };
  return {
    mode: "plain",
    event(event) {
      const line = describeEvent(event, timeline);
      if (o.quiet || (line.verbose && !o.verbose)) return;
      writeLine(o.stderr, `${clockTime(event.at)} ${prefix[line.kind]}${line.text}`);
    },
    notice(message, level = "info") {
      writeLine(
        o.stderr,
        `${clockTime(Date.now())} ${level === "warn" ? "warning: " : ""}${message}`,
      );
    },
    result(result) {
      const text = describeResult(result);
      if (text !== undefined) writeLine(o.stdout, text);
    },
    calls(calls) {
      for (const line of describeCalls(calls)) writeLine(o.stderr, line);
    },
    stop() {},
  };
}

/** The bits of an ora spinner the renderer uses. */
export interface Spinner {
  text: string;
  readonly isSpinning: boolean;
  start(text?: string): unknown;
  stop(): unknown;
  stopAndPersist(options: { symbol: string; text: string }): unknown;
}

export type SpinnerFactory = (stream: CliStream, color: boolean) => Spinner;

function ttyRenderer(o: RendererOptions, makeSpinner: SpinnerFactory): Renderer {
  const p = palette(o.color !== false);
  const timeline: Timeline = {};
  const spinner = makeSpinner(o.stderr, o.color !== false);
  let pending: { kind: "action" | "wait"; text: string; since: number } | undefined;
  let ticker: NodeJS.Timeout | undefined;

  const persist = (kind: LineKind, text: string) => {
    if (spinner.isSpinning) spinner.stopAndPersist({ symbol: symbolOf(kind, p), text });
    else writeLine(o.stderr, `${symbolOf(kind, p)} ${text}`);
  };
  const settle = () => {
    if (ticker) clearInterval(ticker);
    ticker = undefined;
    if (pending?.kind === "action") persist("action", pending.text);
    else if (spinner.isSpinning) spinner.stop();
    pending = undefined;
  };
  const spin = (kind: "action" | "wait", text: string) => {
    if (pending?.kind === "action" || kind === "action") settle();
    if (pending === undefined || pending.kind !== kind) {
      pending = { kind, text, since: Date.now() };
    } else {
      pending.text = text;
    }
    const show = () => {
      if (!pending) return;
      const elapsed = Date.now() - pending.since;
      spinner.text =
        pending.kind === "wait" && elapsed >= 1000
          ? `${pending.text} ${p.dim(`(${formatElapsed(elapsed)})`)}`
          : pending.text;
    };
    show();
    if (!spinner.isSpinning) spinner.start(spinner.text);
    if (kind === "wait" && ticker === undefined) {
      ticker = setInterval(show, 1000);
      ticker.unref();
    }
  };

  return {
    mode: "tty",
    event(event) {
      const line = describeEvent(event, timeline);
      if (o.quiet || (line.verbose && !o.verbose)) return;
      if (line.kind === "action" || line.kind === "wait") {
        spin(line.kind, line.text);
        return;
      }
      settle();
      persist(line.kind, line.text);
    },
    notice(message, level = "info") {
      settle();
      persist(level === "warn" ? "warn" : "info", message);
    },
    result(result) {
      settle();
      const text = describeResult(result);
      if (text !== undefined) writeLine(o.stdout, `${p.green("✔")} ${p.bold(text)}`);
    },
    calls(calls) {
      settle();
      for (const line of describeCalls(calls)) writeLine(o.stderr, p.dim(line));
    },
    stop() {
      settle();
    },
  };
}

/**
 * A renderer for a mode. The TTY one loads ora (lazily, so `--help` stays fast) unless a
 * spinner factory is given (tests).
 */
export async function createRenderer(
  options: RendererOptions,
  makeSpinner?: SpinnerFactory,
): Promise<Renderer> {
  if (options.mode === "json") return jsonRenderer(options);
  if (options.mode === "plain") return plainRenderer(options);
  if (makeSpinner) return ttyRenderer(options, makeSpinner);
  const { default: ora } = await import("ora");
  return ttyRenderer(options, (stream, color) =>
    ora({ stream, color: color ? "cyan" : false, discardStdin: false, isEnabled: true }),
  );
}
