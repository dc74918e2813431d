/**
 * docs/cli.md, generated from the commander definitions so it cannot drift from them:
 * `npm run docs:cli` writes it, a unit test checks it.
 */
import type { Command, Help } from "commander";
import { ERROR_CODES, ExitCode } from "../core/errors.js";
import { COMMAND_HELP, commandPath } from "./help.js";

const EXIT_MEANINGS: Record<number, string> = {
  [ExitCode.ok]: "done",
  [ExitCode.failed]: "failed; the world may need `resume` (the message says what state it is in)",
  [ExitCode.invalid]: "invalid input or config; nothing was changed",
  [ExitCode.locked]: "another swap holds the lock for this service",
  [ExitCode.rolledBack]: "the swap failed a gate or health check and was rolled back; blue is live",
};

/** Text for a markdown table cell: no pipes or newlines, and `<x>` shown rather than taken as HTML. */
function cell(text: string): string {
  return text
    .replace(/\s*\n\s*/g, " ")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|");
}

/** Prose: `<x>` shown rather than taken as HTML. */
function text(prose: string): string {
  return prose.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function code(text: string): string {
  return `\`${text.replace(/\|/g, "\\|")}\``;
}

function fullName(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

function optionsTable(help: Help, command: Command): string[] {
  // -h, --help is listed once, with the global options
  const options = help
    .visibleOptions(command)
    .filter((o) => command.parent === null || o.long !== "--help");
  if (options.length === 0) return [];
  return [
    "| option | description |",
    "| --- | --- |",
    ...options.map((o) => `| ${code(help.optionTerm(o))} | ${cell(help.optionDescription(o))} |`),
    "",
  ];
}

function commandsOf(help: Help, command: Command): Command[] {
  return help.visibleCommands(command).filter((c) => c.name() !== "help");
}

function section(help: Help, command: Command): string[] {
  const lines = [
    `### ${code(fullName(command))}`,
    "",
    text(command.description()),
    "",
    "```",
    help.commandUsage(command),
    "```",
    "",
  ];
  const args = help.visibleArguments(command);
  if (args.length > 0) {
    lines.push(
      "| argument | description |",
      "| --- | --- |",
      ...args.map(
        (a) => `| ${code(help.argumentTerm(a))} | ${cell(help.argumentDescription(a))} |`,
      ),
      "",
    );
  }
  lines.push(...optionsTable(help, command));
  const more = COMMAND_HELP[commandPath(command)];
  if (more) {
    lines.push(
      more.globals.length === 0
        ? "Global options it honours: none."
        : `Global options it honours: ${more.globals.map((g) => code(`--${g}`)).join(", ")}.`,
      "",
      "```sh",
      ...more.examples.map((e) => `switchyard ${e}`),
      "```",
      "",
    );
  }
  for (const sub of commandsOf(help, command)) lines.push(...section(help, sub));
  return lines;
}

/** The CLI reference (markdown) of a program built by `createProgram`. */
export function renderCliReference(program: Command): string {
  const help = program.createHelp();
  const lines: string[] = [
    "# switchyard CLI reference",
    "",
    "<!-- Generated from the commander definitions in src/cli/ by `npm run docs:cli`. Do not edit by hand. -->",
    "",
    text(program.description()),
    "",
    "```",
    help.commandUsage(program),
    "```",
    "",
    "## Global options",
    "",
    "These work with every command, before or after the command's name.",
    "",
    ...optionsTable(help, program),
    "## Commands",
    "",
    "| command | description |",
    "| --- | --- |",
  ];
  const all: Command[] = [];
  const walk = (c: Command) => {
    for (const sub of commandsOf(help, c)) {
      all.push(sub);
      walk(sub);
    }
  };
  walk(program);
  for (const c of all)
    lines.push(`| ${code(fullName(c).replace(/^\S+ /, ""))} | ${cell(c.description())} |`);
  lines.push("");
  for (const c of commandsOf(help, program)) lines.push(...section(help, c));
  lines.push(
    "## Output",
    "",
    "Progress goes to stderr: a spinner and a step timeline on a terminal, plain timestamped lines",
    "otherwise (and on CI). Results go to stdout. With `--json`, stdout carries JSON only: `deploy`,",
    "`rollback` and `resume` print one JSON event per line, the last one the result object",
    '`{"type":"result","ok":true|false,"service","live","standby","release","durationMs","error"?:{"code","message","details"?}}`;',
    "`status` prints one object (an array of them when no service is named), `retire` its report.",
    'A command that fails before its own result prints `{"type":"result","ok":false,…,"error":{"code","message"}}` instead.',
    "",
    "A long operation's first line says what it is checking, before any AWS call. A wait (a bake, a",
    "health check) shows its step, the time waited and left, each group's healthy targets and the",
    "gates: on a terminal beside a bar of the shift, otherwise again at least every 30 s",
    "(`SWITCHYARD_HEARTBEAT=<duration>` changes that). The AWS changes behind each step show with",
    "`--verbose`. A successful result is followed by `next:` lines on stderr: how to watch it and",
    "how to undo it, with the run's `--config` and `--endpoint-url`, ready to paste.",
    "",
    "Errors go to stderr as `error <CODE>: <message>`, then `hint: …` when there is one (not with `--json`).",
    "The facts behind a rolled-back swap (unhealthy targets' reason codes, a failed launch's message, a",
    "failed gate's output file) are in the result's `error.details` (see docs/events.md).",
    "",
    "A reader that goes away (`switchyard status | head -1`) ends the output quietly: a short command",
    "finishes with its own exit code; a swap or `--watch` is interrupted as by Ctrl-C.",
    "",
    "## Exit codes",
    "",
    "| code | meaning |",
    "| --- | --- |",
    ...Object.values(ExitCode).map((n) => `| ${n} | ${cell(EXIT_MEANINGS[n] ?? "")} |`),
    "",
    "## Error codes",
    "",
    "| code | exit | meaning |",
    "| --- | --- | --- |",
    ...Object.entries(ERROR_CODES).map(
      ([name, info]) => `| ${code(name)} | ${info.exitCode} | ${cell(info.summary)} |`,
    ),
    "",
  );
  return lines.join("\n");
}

/** Writes the reference of a fresh program to `path` (`npm run docs:cli`: docs/cli.md). */
export async function writeCliReference(path = "docs/cli.md"): Promise<void> {
  const [{ writeFile }, { createProgram }] = await Promise.all([
    import("node:fs/promises"),
    import("./program.js"),
  ]);
  const program = createProgram({ stdout: process.stdout, stderr: process.stderr, env: {} });
  await writeFile(path, renderCliReference(program));
}
