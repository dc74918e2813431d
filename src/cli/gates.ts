/**
 * Gates from the command line and the config: each command becomes a library `Gate` that runs
 * `sh -c <command>` with the step in its environment. Exit 0 passes; a non-zero exit, a signal or
 * a timeout fails, with a message holding the exit code and the last line the command wrote to
 * stderr (or stdout, when stderr is empty).
 */
import { spawn } from "node:child_process";
import { formatDuration } from "../core/duration.js";
import type { Gate, GateContext } from "../swap/swap.js";

export const DEFAULT_GATE_TIMEOUT_MS = 60_000;
const KEEP_BYTES = 16 * 1024;
const KILL_GRACE_MS = 2_000;

export interface CommandGateOptions {
  /** how long a run may take (default 60 s) */
  timeoutMs?: number;
  /** the environment the command starts from (default `process.env`) */
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export interface GateOutcome {
  ok: boolean;
  message?: string;
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

function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]) return lines[i]!;
  }
  return "";
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
    const stdout = tail();
    const stderr = tail();
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
    child.stdout?.on("data", (c: Buffer) => stdout.push(c));
    child.stderr?.on("data", (c: Buffer) => stderr.push(c));

    const finish = (outcome: GateOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    child.on("error", (error) => {
      finish({ ok: false, message: `could not run: ${error.message}` });
    });
    child.on("close", (code, signal) => {
      if (graceTimer) clearTimeout(graceTimer);
      const last = lastLine(stderr.text) || lastLine(stdout.text);
      const said = last ? `: ${last}` : "";
      if (why === "timeout") {
        finish({ ok: false, message: `timed out after ${formatDuration(timeoutMs)}${said}` });
      } else if (why === "cancelled") {
        finish({ ok: false, message: `cancelled${said}` });
      } else if (code === 0) {
        finish({ ok: true });
      } else if (code !== null) {
        finish({ ok: false, message: `exited with code ${code}${said}` });
      } else {
        finish({ ok: false, message: `killed by ${signal ?? "a signal"}${said}` });
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
