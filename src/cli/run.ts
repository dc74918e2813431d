/**
 * One CLI run: build the program, parse, and the one top-level catch that maps every error to
 * an exit code (see the contract). Kept apart from main.ts so tests can run the CLI in-process.
 */
import { CommanderError } from "commander";
import { ExitCode, exitCodeOf, InputError, toSwitchyardError } from "../core/errors.js";
import {
  type CliIo,
  createRunState,
  hintArgsOf,
  type RawGlobals,
  RESULT_COMMANDS,
  withHintArgs,
  writeLine,
} from "./io.js";
import { createProgram, usageErrorMessage } from "./program.js";
import { failureResultObject } from "./shared.js";

/** Runs the CLI on `argv` (the user's arguments, without `node` and the script); returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const state = createRunState();
  const program = createProgram(io, state);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return ExitCode.ok;
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      // help and --version end by "throwing" with exit code 0; commander printed the rest already
      if (thrown.exitCode === 0) return ExitCode.ok;
      if (state.json && state.command && RESULT_COMMANDS.has(state.command)) {
        const message = usageErrorMessage(thrown.message).split("\n")[0] ?? thrown.message;
        writeLine(
          io.stdout,
          JSON.stringify(failureResultObject(state, new InputError("INVALID_INPUT", message))),
        );
      }
      return ExitCode.invalid;
    }
    const error = toSwitchyardError(thrown);
    writeLine(io.stderr, `error ${error.code}: ${error.message}`);
    if (error.hint && !state.json) {
      // a command in a hint works as printed: with the --config, --endpoint-url… of this run
      writeLine(
        io.stderr,
        `hint: ${withHintArgs(error.hint, hintArgsOf(program.opts<RawGlobals>()))}`,
      );
    }
    if (error.code === "INTERNAL" && state.verbose) {
      writeLine(io.stderr, String((error.cause as Error | undefined)?.stack ?? error.stack));
    }
    if (state.json && state.command && RESULT_COMMANDS.has(state.command) && !state.resultPrinted) {
      writeLine(io.stdout, JSON.stringify(failureResultObject(state, error)));
    }
    return exitCodeOf(error);
  }
}
