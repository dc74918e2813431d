/**
 * What the commands share: loading the config and the library (lazily), running a long operation
 * with its renderer and Ctrl-C handling, and the `--poll-interval` option.
 */
import { Option } from "commander";
import { parseDuration } from "../core/duration.js";
import { InputError, type SwitchyardError } from "../core/errors.js";
import type { RollbackResult } from "../swap/rollback.js";
import type { SwapResult } from "../swap/swap.js";
import type { Operation, Switchyard } from "../switchyard.js";
import {
  type CliIo,
  commandLine,
  exitNow,
  type GlobalOptions,
  onSignal,
  type RunState,
  writeLine,
} from "./io.js";
import { parseDurationFlag } from "./options.js";
import { chooseMode, createRenderer, type Renderer, type ResultObject } from "./render.js";

/** The hidden `--poll-interval <duration>` (tests against a fast sandbox use ~100ms). */
export function pollIntervalOption(): Option {
  return new Option("--poll-interval <duration>", "how often a waiting swap observes the world")
    .argParser(parseDurationFlag)
    .hideHelp();
}

/** Loads the config file (`--config`, else the working directory's) and opens the library on it. */
export async function openSwitchyard(
  globals: GlobalOptions,
  io: CliIo,
  options: {
    service?: string;
    pollIntervalMs?: number;
  } = {},
): Promise<Switchyard> {
  const { loadConfig, serviceConfig } = await import("../core/config.js");
  const { config } = await loadConfig({ path: globals.config, cwd: io.cwd, env: io.env });
  // an unknown service fails here, before any AWS client exists
  if (options.service !== undefined) serviceConfig(config, options.service);
  const { createSwitchyard } = await import("../switchyard.js");
  return createSwitchyard({
    config,
    ...(globals.region === undefined ? {} : { region: globals.region }),
    ...(globals.endpointUrl === undefined ? {} : { endpoint: globals.endpointUrl }),
    ...(globals.profile === undefined ? {} : { profile: globals.profile }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
  });
}

/** The service's configured gates as commands, run in the CLI's environment and folder. */
export async function configuredGates(
  yard: Switchyard,
  service: string,
  io: CliIo,
  extra: readonly string[] = [],
) {
  const { commandGates } = await import("./gates.js");
  return commandGates(yard.config.services[service]?.gates ?? [], extra, {
    env: io.env,
    ...(io.cwd ? { cwd: io.cwd } : {}),
  });
}

/** What to run after a swap went through: watch it, and undo it while blue is standby. */
export function afterSwap(r: SwapResult, globals: GlobalOptions): string[] {
  const next = [
    `${commandLine(`status ${r.service}`, globals.hintArgs)}    # the groups, their roles and weights`,
  ];
  if (r.standby) {
    next.push(
      `${commandLine(`rollback ${r.service}`, globals.hintArgs)}    # undo: ${r.standby} back to 100% in one listener change`,
    );
  }
  return next;
}

/** The contract's result object of a swap or resume. */
export function swapResultObject(r: SwapResult): ResultObject {
  return {
    type: "result",
    ok: r.ok,
    service: r.service,
    live: r.live,
    standby: r.standby,
    release: r.release,
    attempted: r.attempted,
    durationMs: r.durationMs,
    ...(r.error ? { error: errorObject(r.error) } : {}),
  };
}

export function rollbackResultObject(r: RollbackResult): ResultObject {
  return {
    type: "result",
    ok: true,
    service: r.service,
    live: r.live,
    standby: r.standby,
    release: r.release,
    durationMs: r.durationMs,
  };
}

/** An error in a result object: its code, its message and its facts (`details`), if any. */
function errorObject(error: SwitchyardError): NonNullable<ResultObject["error"]> {
  return {
    code: error.code,
    message: error.message,
    ...(Object.keys(error.details).length > 0 ? { details: { ...error.details } } : {}),
  };
}

/** The result object for an error that ended a deploy, rollback or resume before its result. */
export function failureResultObject(state: RunState, error: SwitchyardError): ResultObject {
  return {
    type: "result",
    ok: false,
    service: state.service ?? null,
    live: null,
    standby: null,
    release: null,
    durationMs: Date.now() - state.startedAt,
    error: errorObject(error),
  };
}

/** The renderer of a long operation, made before anything slow so its first line comes at once. */
export async function openRenderer(globals: GlobalOptions, io: CliIo): Promise<Renderer> {
  return createRenderer({
    mode: chooseMode(globals, io),
    stdout: io.stdout,
    stderr: io.stderr,
    quiet: globals.quiet,
    verbose: globals.verbose,
    color: globals.color,
    ...heartbeatOf(io),
  });
}

/** `SWITCHYARD_HEARTBEAT` (a duration): how often plain output repeats a wait's progress. */
function heartbeatOf(io: CliIo): { heartbeatMs?: number } {
  const value = io.env.SWITCHYARD_HEARTBEAT;
  if (!value) return {};
  try {
    return { heartbeatMs: parseDuration(value) };
  } catch {
    throw new InputError(
      "INVALID_INPUT",
      `SWITCHYARD_HEARTBEAT must be a duration like 30s or 1m; got ${JSON.stringify(value)}`,
    );
  }
}

export interface OperationRun<T> {
  io: CliIo;
  /** the renderer opened before the operation's set-up (default: one made now) */
  renderer?: Renderer;
  /** what to run next after a successful result (commands print with the run's global flags) */
  next?(result: T): string[];
  state: RunState;
  globals: GlobalOptions;
  yard: Switchyard;
  service: string;
  /** what the first Ctrl-C does, for its message */
  interrupt: "rolls-back" | "stops";
  start(signal: AbortSignal): Operation<T>;
  toResult(result: T): ResultObject;
  /** the error a settled-but-failed result carries (a swap that was rolled back) */
  failure?(result: T): SwitchyardError | undefined;
}

/**
 * Runs a long operation: renders its events, answers Ctrl-C (the first aborts the operation,
 * which rolls back; the second exits 130 at once), prints the result. Throws the operation's
 * error (for the top-level catch) after the result object has been printed.
 */
export async function runOperation<T>(run: OperationRun<T>): Promise<void> {
  const { io, globals, state, service } = run;
  const renderer = run.renderer ?? (await openRenderer(globals, io));
  const controller = new AbortController();
  let interrupts = 0;
  const interrupt = () => {
    interrupts++;
    if (interrupts === 1) {
      controller.abort();
      renderer.notice(
        run.interrupt === "rolls-back"
          ? `interrupted: rolling ${service} back; traffic returns to blue (Ctrl-C again to exit at once)`
          : `interrupted: stopping (Ctrl-C again to exit at once)`,
        "warn",
      );
      return;
    }
    renderer.stop();
    writeLine(
      io.stderr,
      run.interrupt === "rolls-back"
        ? `warning: exiting before the rollback finished; the swap record keeps its state, so \`switchyard resume ${service}\` finishes the rollback`
        : "warning: exiting before the operation finished; run `switchyard status` to see where it stopped",
    );
    // the record writes under way (the first Ctrl-C's abort) land first, for at most 2 s
    void import("../swap/record.js")
      .then((m) => m.settleRecordWrites(2_000))
      .finally(() => exitNow(io, 130));
  };
  const offInt = onSignal(io, "SIGINT", interrupt);
  const offTerm = onSignal(io, "SIGTERM", () => {
    if (!controller.signal.aborted) interrupt();
  });
  try {
    const operation = run.start(controller.signal);
    for await (const event of operation.events) renderer.event(event);
    const result = await operation.result;
    const failure = run.failure?.(result);
    renderer.result(run.toResult(result), failure ? [] : (run.next?.(result) ?? []));
    state.resultPrinted = true;
    if (failure) throw failure;
  } finally {
    renderer.stop();
    if (globals.verbose) renderer.calls(run.yard.clients.calls);
    offInt();
    offTerm();
    await closeSwitchyard(run.yard, io, globals);
  }
}

/** How long a CLI run waits at its end for its last notifications to go out. */
export const NOTIFY_FLUSH_MS = 2_000;

/**
 * Closes the library after a long operation: its last notifications get at most 2 s to go out
 * (a short run's "completed" must reach Slack), then whatever is left is dropped, with a warning.
 */
export async function closeSwitchyard(
  yard: Switchyard,
  io: CliIo,
  globals: GlobalOptions,
): Promise<void> {
  try {
    const { pending } = await yard.flush({ timeoutMs: NOTIFY_FLUSH_MS });
    if (pending > 0 && !globals.quiet) {
      writeLine(
        io.stderr,
        `warning: ${pending} notification${pending === 1 ? "" : "s"} not delivered before exit`,
      );
    }
  } finally {
    yard.close();
  }
}

/** The global options and positional service of a command, remembered for the top-level catch. */
export function noteService(state: RunState, service: string | undefined): void {
  if (service !== undefined) state.service = service;
}
