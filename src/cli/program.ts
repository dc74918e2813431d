/**
 * The commander program: a factory, so each run (and each test) gets a fresh one. Only commander
 * and the command definitions load here; every action imports what it needs when it runs, so
 * `switchyard --help` stays fast.
 */
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { registerAdopt } from "./commands/adopt.js";
import { registerCycle } from "./commands/cycle.js";
import { registerDemo } from "./commands/demo.js";
import { registerDeploy } from "./commands/deploy.js";
import { registerIamPolicy } from "./commands/iam-policy.js";
import { registerInit } from "./commands/init.js";
import { registerReconcile } from "./commands/reconcile.js";
import { registerRelease } from "./commands/release.js";
import { registerResume } from "./commands/resume.js";
import { registerRetire } from "./commands/retire.js";
import { registerRollback } from "./commands/rollback.js";
import { registerSandbox } from "./commands/sandbox.js";
import { registerServe } from "./commands/serve.js";
import { registerStatus } from "./commands/status.js";
import { registerSteer } from "./commands/steer.js";
import { registerUnlock } from "./commands/unlock.js";
import { registerWizard } from "./commands/wizard.js";
import { addHelpTrailers } from "./help.js";
import { type CliIo, createRunState, type RunState } from "./io.js";

export interface CommandContext {
  io: CliIo;
  state: RunState;
}

function packageVersion(): string {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    return (JSON.parse(text) as { version?: string }).version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/**
 * A commander error message (`error: unknown option '--relase'\n(Did you mean --release?)`) as
 * switchyard's one-line message: `unknown option '--relase' (did you mean --release?)`.
 */
export function usageErrorMessage(text: string): string {
  const lines = text.replace(/\n+$/, "").split("\n");
  let message = (lines[0] ?? "").replace(/^error: /, "");
  const rest: string[] = [];
  for (const line of lines.slice(1)) {
    const suggestion = /^\(Did you mean (.+)\?\)$/.exec(line.trim());
    if (suggestion) message += ` (did you mean ${suggestion[1]}?)`;
    else rest.push(line);
  }
  return [message, ...rest].join("\n");
}

/**
 * Commander's own error messages (`error: unknown option '--x'`) in switchyard's form:
 * `error INVALID_INPUT: unknown option '--x' (did you mean --y?)`.
 */
export function formatUsageError(text: string): string {
  return `error INVALID_INPUT: ${usageErrorMessage(text)}\n`;
}

/**
 * Makes the required options of `root`'s commands checked after unknown options and arguments:
 * commander checks them first, so `deploy web/x --relase r2` said "required option --release
 * not specified" instead of naming the typo. The check moves to a `preAction` hook, with
 * commander's own message.
 */
function checkRequiredOptionsLast(root: Command): void {
  const required = new Map<Command, Option[]>();
  const walk = (command: Command) => {
    const options = command.options.filter((o) => o.mandatory);
    for (const option of options) option.mandatory = false;
    if (options.length > 0) required.set(command, options);
    for (const sub of command.commands) walk(sub);
  };
  walk(root);
  root.hook("preAction", (_root, action) => {
    for (const option of required.get(action) ?? []) {
      if (action.getOptionValue(option.attributeName()) === undefined) {
        action.error(`error: required option '${option.flags}' not specified`, {
          code: "commander.missingMandatoryOptionValue",
        });
      }
    }
  });
}

export function createProgram(io: CliIo, state: RunState = createRunState()): Command {
  const program = new Command("switchyard");
  const ctx: CommandContext = { io, state };
  program
    .description("Blue/green swaps of EC2 Auto Scaling groups behind an Application Load Balancer.")
    .version(packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(formatUsageError(s)),
      getOutHelpWidth: () => io.stdout.columns ?? 100,
      getErrHelpWidth: () => io.stderr.columns ?? 100,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .option(
      "-c, --config <file>",
      "config file (default: switchyard.config.{yaml,yml,json,ts,mts,js,mjs} in the working directory)",
    )
    .option(
      "--region <region>",
      "AWS region (default: the config's region, else the AWS SDK chain)",
    )
    .option("--profile <profile>", "AWS profile from the shared config files")
    .option(
      "--endpoint-url <url>",
      "send every AWS call to this endpoint, e.g. the sandbox (also: AWS_ENDPOINT_URL)",
    )
    .option("--json", "machine output: JSON only on stdout")
    .option("-y, --yes", "answer yes to confirmations")
    .option("-q, --quiet", "print only the result and errors")
    .option("-v, --verbose", "more detail, and the AWS calls made by operation at the end")
    .addOption(new Option("--no-color", "no colours in output (also: NO_COLOR)"))
    .addHelpCommand("help [command]", "show help for a command");

  program.hook("preSubcommand", (_program, sub) => {
    state.command = sub.name();
    const opts = program.opts<{ json?: boolean; verbose?: boolean }>();
    state.json = opts.json === true;
    state.verbose = opts.verbose === true;
  });

  registerSandbox(program, ctx);
  registerDemo(program, ctx);
  registerInit(program, ctx);
  registerRelease(program, ctx);
  registerDeploy(program, ctx);
  registerStatus(program, ctx);
  registerRollback(program, ctx);
  registerResume(program, ctx);
  registerReconcile(program, ctx);
  registerSteer(program, ctx);
  registerCycle(program, ctx);
  registerRetire(program, ctx);
  registerAdopt(program, ctx);
  registerWizard(program, ctx);
  registerUnlock(program, ctx);
  registerIamPolicy(program, ctx);
  registerServe(program, ctx);
  checkRequiredOptionsLast(program);
  addHelpTrailers(program);
  return program;
}
