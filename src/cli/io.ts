/**
 * What a CLI run talks to (its streams, environment, signals) and the global options every
 * command reads. Kept free of heavy imports: `switchyard --help` loads this.
 */
import type { Command } from "commander";

/** A stream the CLI writes to; `isTTY` decides spinners vs plain lines. */
export type CliStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export type SignalName = "SIGINT" | "SIGTERM";

export interface CliIo {
  /** where prompts read keys (the wizard); default `process.stdin` */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: CliStream;
  stderr: CliStream;
  env: Record<string, string | undefined>;
  /** working directory for the config file (default `process.cwd()`) */
  cwd?: string;
  /** subscribes to a signal; returns the unsubscribe (default: `process.on`) */
  onSignal?: (signal: SignalName, handler: () => void) => () => void;
  /** exits at once (the second Ctrl-C); default `process.exit` */
  exit?: (code: number) => void;
}

/** What one run has learnt, for the top-level catch. */
export interface RunState {
  /** the top-level command being run (`deploy`, `status`, …) */
  command?: string;
  /** the service named on the command line */
  service?: string;
  json: boolean;
  verbose: boolean;
  /** the result object has been written already (deploy/rollback/resume) */
  resultPrinted: boolean;
  startedAt: number;
}

export function createRunState(): RunState {
  return { json: false, verbose: false, resultPrinted: false, startedAt: Date.now() };
}

/**
 * The commands that with --json put one result object on stdout when they fail before printing
 * their own: every command with JSON output (deploy, rollback and resume end with one anyway;
 * the others print theirs on success).
 */
export const RESULT_COMMANDS: ReadonlySet<string> = new Set([
  "deploy",
  "rollback",
  "resume",
  "reconcile",
  "status",
  "retire",
  "cycle",
  "adopt",
  "promote",
  "pause",
  "abort",
  "unlock",
  "release",
  "init",
]);

export interface GlobalOptions {
  config?: string;
  region?: string;
  profile?: string;
  endpointUrl?: string;
  json: boolean;
  yes: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
  /** the global flags as given (`--config`, `--region`, `--profile`, `--endpoint-url`), for hints */
  hintArgs: string[];
}

export interface RawGlobals {
  config?: string;
  region?: string;
  profile?: string;
  endpointUrl?: string;
  json?: boolean;
  yes?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
}

/** The global options as a command sees them, with the environment's say (NO_COLOR, AWS_ENDPOINT_URL). */
export function globalsOf(command: Command, io: CliIo): GlobalOptions {
  const o = command.optsWithGlobals<RawGlobals>();
  const noColor = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== "";
  const endpointUrl = o.endpointUrl ?? (io.env.AWS_ENDPOINT_URL || undefined);
  return {
    ...(o.config === undefined ? {} : { config: o.config }),
    ...(o.region === undefined ? {} : { region: o.region }),
    ...(o.profile === undefined ? {} : { profile: o.profile }),
    ...(endpointUrl === undefined ? {} : { endpointUrl }),
    json: o.json === true,
    yes: o.yes === true,
    quiet: o.quiet === true,
    verbose: o.verbose === true,
    color: o.color !== false && !noColor,
    hintArgs: hintArgsOf(o),
  };
}

/**
 * The global flags a command printed as a hint needs to work as printed: the ones that say which
 * config and which AWS (a flag given on the command line; the environment is still there).
 */
export function hintArgsOf(o: RawGlobals): string[] {
  const args: string[] = [];
  if (o.config !== undefined) args.push("--config", shellWord(o.config));
  if (o.region !== undefined) args.push("--region", shellWord(o.region));
  if (o.profile !== undefined) args.push("--profile", shellWord(o.profile));
  if (o.endpointUrl !== undefined) args.push("--endpoint-url", shellWord(o.endpointUrl));
  return args;
}

/** A word a POSIX shell reads back as it is: quoted only when it has to be. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `switchyard <args>` with the run's global flags, so that a printed command works as printed. */
export function commandLine(args: string, hintArgs: readonly string[] = []): string {
  return ["switchyard", args, ...hintArgs].join(" ");
}

/**
 * Every `` `switchyard …` `` command in a hint or message, given the run's global flags
 * (a hint written by the library knows nothing of `--config` or `--endpoint-url`).
 */
export function withHintArgs(text: string, hintArgs: readonly string[]): string {
  if (hintArgs.length === 0) return text;
  return text.replace(/`switchyard ([^`]+)`/g, (all, args: string) => {
    // the sandbox is not an AWS client of a config: it takes none of these
    if (/^sandbox\b/.test(args)) return all;
    const extra: string[] = [];
    for (let i = 0; i + 1 < hintArgs.length; i += 2) {
      if (!args.includes(hintArgs[i]!)) extra.push(hintArgs[i]!, hintArgs[i + 1]!);
    }
    return `\`${commandLine(args, extra)}\``;
  });
}

/** True on CI systems, where spinners only clutter logs. */
export function isCI(env: Record<string, string | undefined>): boolean {
  const ci = env.CI;
  if (ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false") return true;
  return Boolean(
    env.CONTINUOUS_INTEGRATION || env.GITHUB_ACTIONS || env.BUILD_NUMBER || env.RUN_ID,
  );
}

export function onSignal(io: CliIo, signal: SignalName, handler: () => void): () => void {
  if (io.onSignal) return io.onSignal(signal, handler);
  process.on(signal, handler);
  return () => {
    process.off(signal, handler);
  };
}

export function exitNow(io: CliIo, code: number): void {
  if (io.exit) io.exit(code);
  else process.exit(code);
}

/**
 * Makes a pipe closed by its reader (`switchyard status | head -1`) end quietly instead of with
 * an EPIPE stack trace: later writes to `stream` go nowhere and `onClosed` is called once.
 * Any other stream error is thrown as before.
 */
export function quietOnClosedPipe(stream: CliStream, onClosed: () => void = () => {}): void {
  let closed = false;
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    if (closed) return;
    closed = true;
    stream.write = (() => true) as CliStream["write"];
    onClosed();
  });
}

/** Writes one line. */
export function writeLine(stream: CliStream, line = ""): void {
  stream.write(`${line}\n`);
}
