/**
 * Gates from the command line and the config: each command becomes a library `Gate` that runs
 * `sh -c <command>` with the step in its environment. Exit 0 passes; a non-zero exit, a signal or
 * a timeout fails, with a message holding the exit code, the last lines of its output and the
 * path of a file holding all of it (kept only when the gate fails).
 */
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, rmSync, type WriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatDuration } from "../core/duration.js";
import type { Gate, GateContext } from "../swap/swap.js";

export const DEFAULT_GATE_TIMEOUT_MS = 60_000;
const KEEP_BYTES = 16 * 1024;
/** how many of a failed gate's last output lines are shown */
export const SHOWN_LINES = 10;
const KILL_GRACE_MS = 2_000;

export interface CommandGateOptions {
  /** how long a run may take (default 60 s) */
  timeoutMs?: number;
  /** the environment the command starts from (default `process.env`) */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** where a failed gate's whole output is kept (default: `switchyard-gates` in the temp folder) */
  outputDir?: string;
}

export interface GateOutcome {
  ok: boolean;
  message?: string;
  /** a failed gate: its last output lines, and the file holding all of it */
  output?: string;
  outputFile?: string;
}

/** The environment a gate command sees besides the inherited one. */
export function gateEnv(ctx: Omit<GateContext, "signal">): Record<string, string> {
  return {
    SWITCHYARD_SERVICE: ctx.service,
    SWITCHYARD_GROUP: ctx.group,
    SWITCHYARD_RELEASE: ctx.release,
    SWITCHYARD_WEIGHT: String(ctx.weight),
    SWITCHYARD_STEP: String(ctx.step),
  };
}

/** The last `n` non-empty lines of `text`. */
export function lastLines(text: string, n: number): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  return lines.slice(-n).join("\n");
}

/** The file a run's whole output goes to: one per run, named after the group, step and time. */
function outputFileFor(ctx: GateContext, dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    return undefined;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const nonce = Math.random().toString(36).slice(2, 6);
  return join(dir, `${ctx.group}-step${ctx.step}-${stamp}-${nonce}.log`);
}

/** Keeps the tail of a stream's output. */
function tail() {
  let text = "";
  return {
    push(chunk: Buffer) {
      text += chunk.toString("utf8");
      if (text.length > KEEP_BYTES) text = text.slice(-KEEP_BYTES);
    },
    get text() {
      return text;
    },
  };
}

/** Runs one gate command once. Never throws: a failure to start is a failed gate. */
export function runGateCommand(
  command: string,
  ctx: GateContext,
  options: CommandGateOptions = {},
): Promise<GateOutcome> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_GATE_TIMEOUT_MS;
  return new Promise((resolve) => {
    if (ctx.signal.aborted) {
      resolve({ ok: false, message: "cancelled before it ran" });
      return;
    }
    const output = tail();
    const file = outputFileFor(ctx, options.outputDir ?? join(tmpdir(), "switchyard-gates"));
    let log: WriteStream | undefined;
    if (file) {
      log = createWriteStream(file);
      log.on("error", () => {
        log = undefined;
      });
    }
    let settled = false;
    let why: "timeout" | "cancelled" | undefined;
    const child = spawn("sh", ["-c", command], {
      env: { ...(options.env ?? process.env), ...gateEnv(ctx) },
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      // its own process group, so a timeout stops the command's children too
      detached: true,
    });
    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        child.kill(signal);
      }
    };
    let graceTimer: NodeJS.Timeout | undefined;
    const stop = (reason: "timeout" | "cancelled") => {
      why ??= reason;
      killGroup("SIGTERM");
      graceTimer = setTimeout(() => killGroup("SIGKILL"), KILL_GRACE_MS);
      graceTimer.unref();
    };
    const timer = setTimeout(() => stop("timeout"), timeoutMs);
    const onAbort = () => stop("cancelled");
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    const take = (c: Buffer) => {
      output.push(c);
      log?.write(c);
    };
    child.stdout?.on("data", take);
    child.stderr?.on("data", take);

    const finish = (outcome: GateOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onAbort);
      const kept = !outcome.ok && log !== undefined && file !== undefined && output.text !== "";
      const done = () => {
        if (!kept && file) rmSync(file, { force: true });
        const shown = lastLines(output.text, SHOWN_LINES);
        resolve(
          outcome.ok
            ? outcome
            : {
                ...outcome,
                message: `${outcome.message}${kept ? ` (all of its output: ${file})` : ""}`,
                ...(shown ? { output: shown } : {}),
                ...(kept ? { outputFile: file } : {}),
              },
        );
      };
      if (log) log.end(done);
      else done();
    };
    child.on("error", (error) => {
      finish({ ok: false, message: `could not run: ${error.message}` });
    });
    child.on("close", (code, signal) => {
      if (graceTimer) clearTimeout(graceTimer);
      if (why === "timeout") {
        finish({ ok: false, message: `timed out after ${formatDuration(timeoutMs)}` });
      } else if (why === "cancelled") {
        finish({ ok: false, message: "cancelled" });
      } else if (code === 0) {
        finish({ ok: true });
      } else if (code !== null) {
        finish({ ok: false, message: `exited with code ${code}` });
      } else {
        finish({ ok: false, message: `killed by ${signal ?? "a signal"}` });
      }
    });
  });
}

/** A library gate that runs `command` with `sh -c` at every check. */
export function commandGate(command: string, options: CommandGateOptions = {}): Gate {
  return { name: command, check: (ctx) => runGateCommand(command, ctx, options) };
}

/** The gates of a deploy: the config's, then the `--gate` flags', each command once. */
export function commandGates(
  configured: readonly string[],
  flags: readonly string[],
  options: CommandGateOptions = {},
): Gate[] {
  return [...new Set([...configured, ...flags])].map((c) => commandGate(c, options));
}
