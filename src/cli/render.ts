/**
 * The event renderer: switchyard's events as a spinner and a step timeline on a terminal, as
 * plain timestamped lines when not a terminal (or on CI), or as JSON lines with `--json`.
 * Progress goes to stderr, results to stdout; with `--json` stdout carries JSON only.
 */
import { formatDuration } from "../core/duration.js";
import type { ActionName, SwitchyardEvent } from "../core/events.js";
import { targetGroupNameOf } from "../core/names.js";
import { releaseVersion } from "../core/release-url.js";
import type { Weighted } from "../core/swap-model.js";
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
  /** `deploy --detach`: the swap is written; reconcile passes drive it */
  detached?: boolean;
  /** a cycle: the instances replaced */
  replaced?: string[];
  /** promote, pause, abort: the request, and who applies it */
  request?: "promote" | "pause" | "abort";
  appliedBy?: "driver" | "here";
  swapId?: string;
  driver?: string;
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

export interface RendererOptions {
  mode: RenderMode;
  stdout: CliStream;
  stderr: CliStream;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  /** plain mode: a wait's progress is printed again after this long without a line (30 s) */
  heartbeatMs?: number;
}

/** How long plain output stays silent during a wait before it says where the wait stands. */
export const HEARTBEAT_MS = 30_000;

export interface Renderer {
  readonly mode: RenderMode;
  /** the first line, before any AWS call: what is being checked (not in JSON mode) */
  begin(text: string): void;
  event(event: SwitchyardEvent): void;
  /** a message of the CLI's own (Ctrl-C, hints), on stderr */
  notice(message: string, level?: "info" | "warn"): void;
  /**
   * The result: a JSON line, or one human line on stdout (nothing for a failure) followed by
   * `next:` lines on stderr (what to run now: how to watch, how to undo).
   */
  result(result: ResultObject, next?: readonly string[]): void;
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
  /** said again by the result line (or the error) that follows: not printed by the human modes */
  result?: boolean;
  /** lines printed under this one (a failed gate's last output lines) */
  more?: string[];
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

/** Whole seconds, the way a wait counts: `0s`, `4s`, `1m12s`. */
export function formatSeconds(ms: number): string {
  const whole = Math.max(0, Math.round(ms / 1000)) * 1000;
  return whole === 0 ? "0s" : formatElapsed(whole);
}

export { releaseVersion };

/** What the renderer remembers between events (green's name, the number of steps). */
export interface Timeline {
  green?: string;
  of?: number;
}

/** The AWS changes that are a swap's internals: shown with --verbose only. */
const INTERNAL_ACTIONS: ReadonlySet<ActionName> = new Set<ActionName>([
  "createLaunchTemplate",
  "createTargetGroup",
  "createWarmupRule",
  "deleteWarmupRule",
  "pinBlue",
  "releaseBluePin",
  "suspendStandby",
  "resumeBlue",
  "tagRole",
  "deleteGreenTargetGroup",
  "deleteGreenLaunchTemplate",
  "referenceTarget",
  "resumeTarget",
  "suspendPrevious",
]);

/** Listener changes the step lines or the result already show, or that move no traffic. */
const INTERNAL_PURPOSES: ReadonlySet<string> = new Set(["reference-green", "shift", "finalize"]);

/**
 * Listener weights by group name, in name order (so sequence order): `v001 95 · v002 5`. Groups
 * at 0 (a standby kept in the action) are left out.
 */
export function describeWeights(weights: readonly Weighted[]): string {
  return weights
    .filter((w) => w.weight > 0)
    .map((w) => [targetGroupNameOf(w.targetGroupArn), w.weight] as const)
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([name, weight]) => `${name} ${weight}`)
    .join(" · ");
}

/** One event as a timeline line; pure, shared by the spinner and the plain renderer. */
export function describeEvent(e: SwitchyardEvent, t: Timeline = {}): Line {
  switch (e.type) {
    case "swap.started": {
      t.green = e.green;
      t.of = e.steps.length;
      const release = releaseVersion(e.release);
      const from = e.blue
        ? `${e.blueRelease ? `${releaseVersion(e.blueRelease)} on ` : ""}${e.blue} → `
        : "";
      const first = e.blue ? "" : " (first deploy)";
      const steps = `${e.steps.join(" → ")}%`;
      const bake = e.bakeMs > 0 ? `, bake ${formatDuration(e.bakeMs)} each` : "";
      return {
        kind: "info",
        text: `${e.resumed ? "resuming swap" : "swap"} ${e.swapId}: ${e.service} ${from}${release} on ${e.green}${first}; steps ${steps}${bake}`,
      };
    }
    case "lock.acquired":
      return { kind: "info", text: `lock taken (swap ${e.swapId})`, verbose: true };
    case "lock.released":
      return { kind: "info", text: `lock released (swap ${e.swapId})`, verbose: true };
    case "action":
      return {
        kind: "action",
        text: e.description,
        verbose:
          INTERNAL_ACTIONS.has(e.action) ||
          (e.purpose !== undefined && INTERNAL_PURPOSES.has(e.purpose)),
      };
    case "waiting":
      return { kind: "wait", text: describeWait(e, e.at) };
    case "green.healthy":
      return {
        kind: "done",
        text: `${e.group} healthy: ${e.healthy}/${e.healthy} in ${formatElapsed(e.elapsedMs)}`,
      };
    case "step.shifted": {
      t.of = e.of;
      const weights = e.weights.length > 0 ? ` (${describeWeights(e.weights)})` : "";
      return {
        kind: "done",
        text: `step ${e.step}/${e.of}: ${e.weight}% on ${t.green ?? "green"}${weights}`,
      };
    }
    case "step.baked": {
      const gates = e.gates ? `, ${e.gates} gate${e.gates === 1 ? "" : "s"} passed` : "";
      const baked = e.bakedMs === undefined ? "" : ` ${formatSeconds(e.bakedMs)}`;
      return {
        kind: "done",
        text: `step ${e.step}${t.of ? `/${t.of}` : ""} baked${baked} at ${e.weight}%${gates}`,
      };
    }
    case "gate.verdict":
      return {
        kind: e.result === "fail" ? "fail" : e.result === "pass" ? "done" : "info",
        text: `${e.gate}: ${e.sentence}`,
      };
    case "gate.failed": {
      const more = (e.output ?? "")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => `  │ ${l}`);
      return {
        kind: "fail",
        text: `gate failed: ${e.gate}${e.message ? `: ${e.message}` : ""}`,
        ...(more.length > 0 ? { more } : {}),
      };
    }
    case "rollback.started":
      return { kind: "warn", text: `rolling back (${e.code}): ${e.reason}` };
    case "swap.completed":
      return {
        kind: "done",
        text: `swap done in ${formatElapsed(e.durationMs)}: ${e.live} is live${e.standby ? `, ${e.standby} is standby` : ""}`,
        result: true,
      };
    case "swap.rolled-back":
      return {
        kind: "fail",
        text: `rolled back (${e.code}): ${e.reason}${e.live ? `; ${e.live} is live` : ""}`,
        result: true,
      };
    case "rollback.completed":
      return {
        kind: "done",
        text: `rolled back in ${formatElapsed(e.durationMs)}: ${e.live} is live${e.standby ? `, ${e.standby} is standby` : ""}`,
        result: true,
      };
    case "retire.deleted":
      return { kind: "done", text: `${e.dryRun ? "would delete" : "deleted"} ${e.group}` };
    case "retire.skipped":
      return { kind: "info", text: `kept ${e.group}: ${e.reason}` };
    case "cycle.completed":
      return {
        kind: "done",
        text: `${e.group}: ${e.replaced.length} instance${e.replaced.length === 1 ? "" : "s"} replaced in ${formatElapsed(e.durationMs)}`,
        result: true,
      };
    case "drift":
      return { kind: "warn", text: `drift: ${e.what}; the swap stopped and left it as found` };
    case "control":
      return { kind: "info", text: `${e.request} requested by ${e.by}` };
    case "warning":
      return { kind: "warn", text: e.message };
  }
}

type WaitingEvent = Extract<SwitchyardEvent, { type: "waiting" }>;

/**
 * A wait as a line, at `now`: the step, the time waited of the whole (and what is left), each
 * group's healthy targets against desired, the gates of the last check.
 * `step 2/4: baking at 25% · 30s of 5m, 4m30s left · web-v001 2/2 healthy, web-v002 2/2 healthy`
 */
export function describeWait(e: WaitingEvent, now: number): string {
  const p = e.progress ?? {};
  const parts = [
    p.step !== undefined && p.of !== undefined ? `step ${p.step}/${p.of}: ${e.reason}` : e.reason,
  ];
  if (p.startedAt !== undefined) {
    const waited = Math.max(0, now - p.startedAt);
    parts.push(
      p.until === undefined
        ? formatSeconds(waited)
        : `${formatSeconds(waited)} of ${formatSeconds(p.until - p.startedAt)}, ${formatSeconds(p.until - now)} left`,
    );
  }
  if (p.groups?.length) {
    parts.push(
      p.groups
        .map(
          (g) =>
            `${g.name} ${g.healthy}/${g.desired} healthy${g.unhealthy ? ` (${g.unhealthy.join("; ")})` : ""}`,
        )
        .join(", "),
    );
  }
  if (p.gates) parts.push(`gates ${p.gates.passed}/${p.gates.total} passed`);
  return parts.join(" · ");
}

/** The shift as a bar of ten cells: `█░░░░░░░░░  5%`. */
export function shiftBar(weight: number): string {
  const cells = Math.round(Math.max(0, Math.min(100, weight)) / 10);
  const filled = weight > 0 ? Math.max(1, cells) : 0;
  return `${"█".repeat(filled)}${"░".repeat(10 - filled)} ${String(weight).padStart(3)}%`;
}

/** The one human line of a result, for stdout; undefined for a failure (stderr says why). */
export function describeResult(r: ResultObject): string | undefined {
  if (!r.ok) return undefined;
  if (r.appliedBy === "driver") {
    const when = r.driver === "the next reconcile pass" ? "" : " at its next poll";
    return `${r.service}: ${r.request} requested; ${r.driver} applies it${when} (swap ${r.swapId})`;
  }
  if (r.detached) {
    return `${r.service}: swap ${r.swapId} of ${r.attempted ? releaseVersion(r.attempted) : "the release"} written; ${r.live ?? "nothing"} is live until reconcile passes drive it`;
  }
  if (r.replaced) {
    const n = r.replaced.length;
    return `${r.service}: ${n} instance${n === 1 ? "" : "s"} of ${r.live} replaced; ${formatElapsed(r.durationMs)}`;
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
    begin() {},
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

/** Whether the human modes print a line: not a result's repeat, internals only with --verbose. */
function shown(line: Line, o: RendererOptions): boolean {
  return !o.quiet && !line.result && (!line.verbose || o.verbose === true);
}

function plainRenderer(o: RendererOptions): Renderer {
  const timeline: Timeline = {};
  const heartbeatMs = o.heartbeatMs ?? HEARTBEAT_MS;
  const prefix: Record<LineKind, string> = {
    action: "",
    wait: "",
    done: "",
    fail: "error: ",
    warn: "warning: ",
    info: "",
  };
  let lastLineAt = Date.now();
  let waiting: WaitingEvent | undefined;
  const print = (at: number, text: string) => {
    writeLine(o.stderr, `${clockTime(at)} ${text}`);
    lastLineAt = Date.now();
  };
  // in CI a long wait (a bake) says where it stands at least every heartbeat
  const ticker = setInterval(
    () => {
      const now = Date.now();
      if (waiting && !o.quiet && now - lastLineAt >= heartbeatMs) {
        print(now, describeWait(waiting, now));
      }
    },
    Math.min(1_000, heartbeatMs),
  );
  ticker.unref();
  return {
    mode: "plain",
    begin(text) {
      if (!o.quiet) print(Date.now(), text);
    },
    event(event) {
      if (event.type === "waiting") waiting = event;
      else if (!QUIET_DURING_WAIT.has(event.type)) waiting = undefined;
      const line = describeEvent(event, timeline);
      if (!shown(line, o)) return;
      print(event.at, `${prefix[line.kind]}${line.text}`);
      for (const more of line.more ?? []) writeLine(o.stderr, more);
    },
    notice(message, level = "info") {
      print(Date.now(), `${level === "warn" ? "warning: " : ""}${message}`);
    },
    result(result, next = []) {
      waiting = undefined;
      const text = describeResult(result);
      if (text !== undefined) writeLine(o.stdout, text);
      if (!o.quiet) for (const line of next) writeLine(o.stderr, `next: ${line}`);
    },
    calls(calls) {
      for (const line of describeCalls(calls)) writeLine(o.stderr, line);
    },
    stop() {
      waiting = undefined;
      clearInterval(ticker);
    },
  };
}

/** Events that come during a wait without ending it. */
const QUIET_DURING_WAIT: ReadonlySet<SwitchyardEvent["type"]> = new Set([
  "warning",
  "control",
  "lock.acquired",
  "lock.released",
]);

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
  let pending:
    | { kind: "action" | "wait"; text: string; since: number; wait?: WaitingEvent }
    | undefined;
  let ticker: NodeJS.Timeout | undefined;
  // one line on the terminal: a spinner that wraps would redraw a line per tick
  const oneLine = (text: string) => {
    const room = Math.max(20, (o.stderr.columns ?? 80) - 3);
    return text.length > room ? `${text.slice(0, room - 1)}…` : text;
  };

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
  const show = () => {
    if (!pending) return;
    const now = Date.now();
    if (pending.wait) {
      const weight = pending.wait.progress?.weight;
      const bar = weight === undefined ? "" : `${p.cyan(shiftBar(weight))}  `;
      spinner.text = bar + oneLine(describeWait(pending.wait, now));
      return;
    }
    const elapsed = now - pending.since;
    spinner.text =
      pending.kind === "wait" && elapsed >= 1000
        ? `${oneLine(pending.text)} ${p.dim(`(${formatElapsed(elapsed)})`)}`
        : oneLine(pending.text);
  };
  const spin = (kind: "action" | "wait", text: string, wait?: WaitingEvent) => {
    if (pending?.kind === "action" || kind === "action") settle();
    if (pending === undefined || pending.kind !== kind) {
      pending = { kind, text, since: Date.now() };
    } else {
      pending.text = text;
    }
    pending.wait = wait;
    show();
    if (!spinner.isSpinning) spinner.start(spinner.text);
    if (kind === "wait" && ticker === undefined) {
      ticker = setInterval(show, 1000);
      ticker.unref();
    }
  };

  return {
    mode: "tty",
    begin(text) {
      if (!o.quiet) spin("wait", text);
    },
    event(event) {
      const line = describeEvent(event, timeline);
      if (!shown(line, o)) return;
      if (line.kind === "action" || line.kind === "wait") {
        spin(line.kind, line.text, event.type === "waiting" ? event : undefined);
        return;
      }
      settle();
      persist(line.kind, line.text);
      for (const more of line.more ?? []) writeLine(o.stderr, p.dim(more));
    },
    notice(message, level = "info") {
      settle();
      persist(level === "warn" ? "warn" : "info", message);
    },
    result(result, next = []) {
      settle();
      const text = describeResult(result);
      if (text !== undefined) writeLine(o.stdout, `${p.green("✔")} ${p.bold(text)}`);
      if (!o.quiet) for (const line of next) writeLine(o.stderr, `${p.dim("next:")} ${line}`);
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
