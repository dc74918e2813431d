/**
 * `switchyard status <service> --watch` and `--wait`. The watch redraws the status view on every
 * change on a terminal (with a header: the step, the weights set and read back, the bake, the
 * pause, health, failure or drift), and prints one line (or one JSON object) per change
 * otherwise. The wait blocks until no swap is in flight and exits with the code of the swap that
 * was: 0 completed, 4 rolled back, 1 halted, cancelled or unlocked. Ctrl-C ends a watch with exit
 * 0 and a wait with ABORTED; the swap goes on either way.
 */
import { type SwitchyardError, toSwitchyardError } from "../core/errors.js";
import { targetGroupNameOf } from "../core/names.js";
import type { Weighted } from "../core/swap-model.js";
import type { GroupStatus, ServiceStatus, SwapStatus } from "../swap/status.js";
import { type SwapEnding, statusChanged } from "../swap/watch.js";
import type { Switchyard } from "../switchyard.js";
import { describeStatus, statusJson } from "./commands/status.js";
import {
  type CliIo,
  type CliStream,
  exitNow,
  type GlobalOptions,
  isCI,
  onSignal,
  type RunState,
  writeLine,
} from "./io.js";
import { clockTime, formatElapsed, releaseVersion } from "./render.js";

export type WatchMode = "tty" | "plain" | "json";

/** The redrawn view on a sized terminal (not CI, not --json); else a line per change. */
export function watchMode(globals: Pick<GlobalOptions, "json">, io: CliIo): WatchMode {
  if (globals.json) return "json";
  const sized = (io.stdout.columns ?? 0) > 0;
  return io.stdout.isTTY === true && sized && !isCI(io.env) ? "tty" : "plain";
}

// ─── text ─────────────────────────────────────────────────────────────────────────────────────

/** A target group's name: its group's, else the name inside its ARN. */
function groupName(s: ServiceStatus, targetGroupArn: string): string {
  const group = s.groups.find((g) => g.targetGroupArn === targetGroupArn);
  return group?.name ?? targetGroupNameOf(targetGroupArn);
}

function weightList(s: ServiceStatus, weights: Weighted[]): string {
  if (weights.length === 0) return "none (not forwarding)";
  return weights.map((w) => `${groupName(s, w.targetGroupArn)} ${w.weight}`).join(" · ");
}

/** The weights the listener reads back, as `group weight` pairs. */
function readBack(s: ServiceStatus): Weighted[] {
  return s.groups.flatMap((g) =>
    g.weight !== null && g.targetGroupArn
      ? [{ targetGroupArn: g.targetGroupArn, weight: g.weight }]
      : [],
  );
}

/** Whether two forward actions differ (a group missing counts as weight 0). */
function weightsDiffer(a: Weighted[], b: Weighted[]): boolean {
  const weight = (list: Weighted[], arn: string) =>
    list.find((w) => w.targetGroupArn === arn)?.weight ?? 0;
  const arns = new Set([...a, ...b].map((w) => w.targetGroupArn));
  return [...arns].some((arn) => weight(a, arn) !== weight(b, arn));
}

/** The listener's weights, and the ones the swap set when they differ. */
export function describeWeights(s: ServiceStatus): string {
  const read = readBack(s);
  const set = s.swap?.traffic;
  const shown = weightList(s, read);
  if (!set || !weightsDiffer(set, read)) return shown;
  return `${shown} (set: ${weightList(s, set)})`;
}

/** The groups a swap is about (green, blue), else every group. */
function groupsOfInterest(s: ServiceStatus): GroupStatus[] {
  const w = s.swap;
  if (!w) return s.groups;
  const named = s.groups.filter((g) => g.name === w.green || g.name === w.blue);
  return named.length > 0 ? named : s.groups;
}

/** Healthy targets of the desired count, per group. */
export function describeHealth(s: ServiceStatus): string {
  const groups = groupsOfInterest(s);
  if (groups.length === 0) return "no groups";
  return groups
    .map((g) => {
      const { healthy, inService } = g.instances;
      const launching = inService === g.capacity.desired ? "" : `, ${inService} in service`;
      return `${g.name} ${healthy}/${g.capacity.desired} healthy${launching}`;
    })
    .join(" · ");
}

function kindLabel(w: SwapStatus): string {
  return w.kind === "deploy" ? "swap" : w.kind;
}

/** Where the swap is: `step 2/4 (25%)`, `launching`, `rolling back from step 2/4`, … */
export function describeProgress(w: SwapStatus): string {
  const at = w.step > 0 ? `step ${w.step}/${w.of}` : "";
  switch (w.phase) {
    case "launching":
      // a deploy takes its lock first, then plans: until then green has no name
      return w.green ? `launching ${w.green}` : "starting";
    case "shifting":
      return `${at}${w.weight === null ? "" : ` (${w.weight}%)`}`;
    case "rolling-back":
      return `rolling back${at ? ` from ${at}` : " while launching"}`;
    case "halted":
      return `halted${at ? ` at ${at}` : ""}`;
    case "restoring":
      return `restoring ${w.green}`;
    default:
      return `${w.phase}${at ? `, ${at}` : ""}`;
  }
}

/** The bake of the step reached: elapsed and remaining, or why it is held. */
export function describeBake(w: SwapStatus, now: number): string | undefined {
  const pause = w.control.pause;
  const held = w.paused
    ? `paused${pause?.until ? ` for ${formatElapsed(pause.until - now)} more` : " until promoted"}${pause ? ` by ${pause.by}` : ""}`
    : undefined;
  if (!w.bake) return held;
  const elapsed = Math.max(0, now - w.bake.startedAt);
  const left = w.bake.ms - elapsed;
  const bake =
    left > 0
      ? `${formatElapsed(elapsed)} of ${formatElapsed(w.bake.ms)}, ${formatElapsed(left)} left`
      : `${formatElapsed(w.bake.ms)} done ${formatElapsed(-left)} ago`;
  return held ? `${held}; baked ${bake}` : bake;
}

/** Control requests waiting for the driving process (a pause shows in the bake line). */
function describeRequests(w: SwapStatus): string | undefined {
  const parts: string[] = [];
  const { promote, abort } = w.control;
  if (promote)
    parts.push(`promote${promote.full ? " --full" : ""} of step ${promote.step} by ${promote.by}`);
  if (abort) parts.push(`abort by ${abort.by}`);
  return parts.length > 0 ? parts.join(" · ") : undefined;
}

/** The header above the status view: the swap at a glance, as of `now`. */
export function watchHeader(s: ServiceStatus, now: number): string[] {
  const w = s.swap;
  if (!w) {
    return [`${s.service}: no swap in flight`, `  weights   ${describeWeights(s)}`];
  }
  const lines = [
    `${s.service}: ${kindLabel(w)} ${w.swapId}, ${describeProgress(w)}${w.paused ? ", paused" : ""}${w.release && w.green ? `; ${releaseVersion(w.release)} on ${w.green}` : ""}`,
    `  weights   ${describeWeights(s)}`,
  ];
  const bake = describeBake(w, now);
  if (bake) lines.push(`  bake      ${bake}`);
  lines.push(`  health    ${describeHealth(s)}`);
  const requests = describeRequests(w);
  if (requests) lines.push(`  requests  ${requests}`);
  if (w.halted) {
    lines.push(`  halted    ${w.halted.code}: ${w.halted.message}`);
    const drift = w.halted.drift;
    if (drift) {
      lines.push(
        `  drift     expected ${weightList(s, drift.expected)}; found ${weightList(s, drift.found)}`,
      );
    }
  } else if (w.failure) {
    lines.push(`  failure   ${w.failure.code}: ${w.failure.message}`);
  }
  return lines;
}

/** One line per change when not on a terminal. */
export function describeChange(s: ServiceStatus): string {
  const w = s.swap;
  const parts = [`${s.service}:`];
  if (!w) {
    parts.push("no swap in flight;");
  } else {
    const baking = w.bake && !w.paused ? `, baking ${formatElapsed(w.bake.ms)}` : "";
    parts.push(
      `${kindLabel(w)} ${w.swapId} ${describeProgress(w)}${w.paused ? ", paused" : baking};`,
    );
  }
  parts.push(`weights ${describeWeights(s)}; health ${describeHealth(s)}`);
  let line = parts.join(" ");
  if (w?.halted) line += `; halted ${w.halted.code}: ${w.halted.message}`;
  else if (w?.failure) line += `; failure ${w.failure.code}: ${w.failure.message}`;
  return line;
}

/** The one line of a wait that ended well, for stdout; undefined for a failure (stderr says why). */
export function describeEnding(e: SwapEnding): string | undefined {
  if (e.error) return undefined;
  const waited = `waited ${formatElapsed(e.waitedMs)}`;
  if (e.outcome === "none") return `${e.service}: no swap in flight`;
  const what = `${e.kind === "deploy" || e.kind === null ? "swap" : e.kind} ${e.swapId}`;
  const live = e.green
    ? `: ${e.green} is live${e.release ? ` (${releaseVersion(e.release)})` : ""}`
    : "";
  return `${e.service}: ${what} ${e.outcome}${live}; ${waited}`;
}

/** The result object of `status --wait --json`: how the swap ended, or the error of the wait. */
export function endingJson(e: SwapEnding) {
  return {
    type: "result" as const,
    ok: e.exitCode === 0,
    service: e.service,
    outcome: e.outcome,
    exitCode: e.exitCode,
    swapId: e.swapId,
    kind: e.kind,
    release: e.release,
    green: e.green,
    blue: e.blue,
    failure: e.failure,
    halted: e.halted,
    endedAt: e.endedAt,
    waitedMs: e.waitedMs,
    ...(e.error ? { error: { code: e.error.code, message: e.error.message } } : {}),
  };
}

/** The result object when the wait itself failed (TIMEOUT, ABORTED, AWS errors). */
export function waitErrorJson(service: string, error: SwitchyardError, waitedMs: number) {
  const swapId = error.details.swapId;
  return {
    type: "result" as const,
    ok: false,
    service,
    outcome: null,
    exitCode: error.exitCode,
    swapId: typeof swapId === "string" ? swapId : null,
    kind: null,
    release: null,
    green: null,
    blue: null,
    failure: null,
    halted: null,
    endedAt: null,
    waitedMs,
    error: { code: error.code, message: error.message },
  };
}

// ─── the view ─────────────────────────────────────────────────────────────────────────────────

export interface WatchView {
  /** a status read: drawn (or printed) when it changed */
  show(s: ServiceStatus): void;
  /** stops redrawing; leaves the last view on screen */
  stop(): void;
}

const CLEAR_SCREEN = "\u001b[2J";
const HOME = "\u001b[H";
const CLEAR_LINE_END = "\u001b[K";
const CLEAR_BELOW = "\u001b[J";
const HIDE_CURSOR = "\u001b[?25l";
const SHOW_CURSOR = "\u001b[?25h";

function clip(line: string, columns: number): string {
  return line.length <= columns ? line : `${line.slice(0, Math.max(0, columns - 1))}…`;
}

/**
 * The terminal view: the header and the status view, redrawn in place on every change and once
 * a second (the bake's elapsed and remaining time move on between changes).
 */
export function ttyView(
  stream: CliStream & { rows?: number },
  options: { now?: () => number } = {},
): WatchView {
  const now = options.now ?? Date.now;
  let last: ServiceStatus | undefined;
  let changedAt = now();
  let first = true;
  let stopped = false;
  const draw = () => {
    if (!last || stopped) return;
    const columns = stream.columns ?? 100;
    const lines = [
      `watching ${last.service}: last change ${clockTime(changedAt)}, now ${clockTime(now())} (Ctrl-C to stop)`,
      "",
      ...watchHeader(last, now()),
      "",
      ...describeStatus(last, { width: columns }),
    ];
    const rows = stream.rows ?? 0;
    const shown = (rows > 1 ? lines.slice(0, rows - 1) : lines).map((l) => clip(l, columns));
    const frame = shown.map((l) => `${l}${CLEAR_LINE_END}`).join("\n");
    stream.write(`${first ? `${HIDE_CURSOR}${CLEAR_SCREEN}` : ""}${HOME}${frame}\n${CLEAR_BELOW}`);
    first = false;
  };
  const ticker = setInterval(draw, 1000);
  ticker.unref();
  return {
    show(s) {
      if (statusChanged(last, s)) changedAt = now();
      last = s;
      draw();
    },
    stop() {
      if (stopped) return;
      clearInterval(ticker);
      stopped = true;
      if (!first) stream.write(SHOW_CURSOR);
    },
  };
}

/**
 * A JSON object per change, or a line per change the line shows (a change it does not show, such
 * as blue's capacity pinned for the swap, would print the same line again).
 */
export function lineView(stream: CliStream, mode: "plain" | "json"): WatchView {
  let last: ServiceStatus | undefined;
  let lastLine: string | undefined;
  return {
    show(s) {
      if (!statusChanged(last, s)) return;
      last = s;
      if (mode === "json") return writeLine(stream, JSON.stringify(statusJson(s)));
      const line = describeChange(s);
      if (line === lastLine) return;
      lastLine = line;
      writeLine(stream, `${clockTime(Date.now())} ${line}`);
    },
    stop() {},
  };
}

// ─── the command ──────────────────────────────────────────────────────────────────────────────

export interface StatusWatchRun {
  io: CliIo;
  globals: GlobalOptions;
  yard: Switchyard;
  service: string;
  /** the run's state: a --wait --json result printed is noted there, so no second one follows */
  state?: RunState;
  watch: boolean;
  wait: boolean;
  timeoutMs?: number;
  /** how often the status (and the swap record) is read; default the switchyard's */
  intervalMs?: number;
}

/**
 * Runs `--watch`, `--wait` or both. A wait that ends with a swap that did not complete throws
 * that swap's error after its summary (exit 4 for a rollback, 1 for the rest).
 */
export async function runStatusWatch(run: StatusWatchRun): Promise<void> {
  const { io, globals, yard, service } = run;
  const mode = watchMode(globals, io);
  const view = run.watch
    ? mode === "tty"
      ? ttyView(io.stdout)
      : lineView(io.stdout, mode)
    : undefined;
  const interrupted = new AbortController();
  let interrupts = 0;
  const interrupt = () => {
    interrupts++;
    if (interrupts === 1) {
      interrupted.abort();
      return;
    }
    view?.stop();
    exitNow(io, 130);
  };
  const offInt = onSignal(io, "SIGINT", interrupt);
  const offTerm = onSignal(io, "SIGTERM", interrupt);
  const options = run.intervalMs === undefined ? {} : { intervalMs: run.intervalMs };
  try {
    if (!run.wait) {
      // a watch alone runs until Ctrl-C, which ends it cleanly
      for await (const s of yard.watch(service, { signal: interrupted.signal, ...options })) {
        view?.show(s);
      }
      return;
    }
    if (!view && !globals.json && !globals.quiet && io.stderr.isTTY) {
      writeLine(io.stderr, `waiting for the swap of ${service} to end (Ctrl-C stops waiting)`);
    }
    const startedAt = Date.now();
    let ending: SwapEnding;
    try {
      ending = await waitWatching(run, view, interrupted.signal, options);
    } catch (error) {
      view?.stop();
      if (globals.json) {
        const e = toSwitchyardError(error);
        writeLine(io.stdout, JSON.stringify(waitErrorJson(service, e, Date.now() - startedAt)));
        if (run.state) run.state.resultPrinted = true;
      }
      throw error;
    }
    view?.stop();
    if (globals.json) {
      writeLine(io.stdout, JSON.stringify(endingJson(ending)));
      if (run.state) run.state.resultPrinted = true;
    } else {
      const line = describeEnding(ending);
      if (line !== undefined) writeLine(io.stdout, line);
    }
    if (ending.error) throw ending.error;
  } finally {
    view?.stop();
    offInt();
    offTerm();
  }
}

/**
 * Waits for the swap in flight to end, watching it meanwhile when there is a view; shows the
 * status once more after it ended, so the last view is the world it left.
 */
async function waitWatching(
  run: StatusWatchRun,
  view: WatchView | undefined,
  interrupted: AbortSignal,
  options: { intervalMs?: number },
): Promise<SwapEnding> {
  const { yard, service } = run;
  const stopWatch = new AbortController();
  const stopWait = new AbortController();
  const onInterrupt = () => stopWait.abort();
  interrupted.addEventListener("abort", onInterrupt, { once: true });
  let watchFailure: { error: unknown } | undefined;
  const watching = view
    ? (async () => {
        try {
          const signal = AbortSignal.any([interrupted, stopWatch.signal]);
          for await (const s of yard.watch(service, { signal, ...options })) view.show(s);
        } catch (error) {
          // a watch that fails (AWS errors after retries) ends the wait with its error
          watchFailure = { error };
          stopWait.abort();
        }
      })()
    : Promise.resolve();
  let ending: SwapEnding;
  try {
    ending = await yard.waitForSwap(service, {
      signal: stopWait.signal,
      ...(run.timeoutMs === undefined ? {} : { timeoutMs: run.timeoutMs }),
      ...options,
    });
  } catch (error) {
    throw watchFailure ? watchFailure.error : error;
  } finally {
    stopWatch.abort();
    interrupted.removeEventListener("abort", onInterrupt);
    await watching;
  }
  if (watchFailure) throw watchFailure.error;
  if (view && ending.outcome !== "none") {
    // a last look, for the view only: failing it must not hide how the swap ended
    const last = await yard.status(service).catch(() => undefined);
    if (last) view.show(last);
  }
  return ending;
}
