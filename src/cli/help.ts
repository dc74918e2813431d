/**
 * Every command's help ends with the global options it honours and one or two examples, so
 * `switchyard deploy --help` answers "does --json work here?" and "what does a call look like?".
 * One table for all commands; a unit test checks each command has its entry and that each
 * example parses.
 */
import type { Command, Option } from "commander";

/** The global options, by their long name. */
export type GlobalName =
  | "config"
  | "region"
  | "profile"
  | "endpoint-url"
  | "json"
  | "yes"
  | "quiet"
  | "verbose"
  | "no-color";

export interface CommandHelp {
  globals: readonly GlobalName[];
  /** command lines, without the leading `switchyard` */
  examples: readonly string[];
}

/** The options that say which config and which AWS account and endpoint. */
const AWS: readonly GlobalName[] = ["config", "region", "profile", "endpoint-url"];
/** The options of a long operation's output. */
const OUTPUT: readonly GlobalName[] = ["json", "quiet", "verbose", "no-color"];

export const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  sandbox: {
    globals: ["region", "json", "quiet"],
    examples: ["sandbox", "sandbox --port 4566 --time-scale 0.02"],
  },
  "sandbox bootstrap": {
    globals: ["region", "profile", "endpoint-url", "json", "quiet"],
    examples: ["sandbox bootstrap web/dev --write-config switchyard.config.yaml"],
  },
  demo: { globals: ["json", "verbose"], examples: ["demo"] },
  init: {
    globals: ["config", "json", "quiet", "yes"],
    examples: ["init", "init --service api/staging --config staging.yaml"],
  },
  "release push": {
    globals: [...AWS, "json", "quiet"],
    examples: [
      "release push ./build --service web/prod --version r42",
      "release push app.tar.gz --service web/prod --version r42 --json",
    ],
  },
  "release list": {
    globals: [...AWS, "json"],
    examples: ["release list --service web/prod"],
  },
  deploy: {
    globals: [...AWS, ...OUTPUT],
    examples: [
      "deploy web/prod --release r42",
      "deploy web/prod --release r42 --steps 5,50,100 --bake 5m --gate ./smoke.sh",
      "deploy web/prod --release r42 --detach",
    ],
  },
  status: {
    globals: [...AWS, "json", "no-color"],
    examples: ["status", "status web/prod --wait --timeout 30m"],
  },
  rollback: {
    globals: [...AWS, ...OUTPUT],
    examples: ["rollback web/prod", "rollback web/prod --to web-prod-v041"],
  },
  resume: {
    globals: [...AWS, ...OUTPUT],
    examples: ["resume web/prod", "resume web/prod --abort"],
  },
  reconcile: {
    globals: [...AWS, ...OUTPUT],
    examples: ["reconcile --all", "reconcile web/prod web/staging --json"],
  },
  promote: {
    globals: [...AWS, "json", "quiet", "no-color"],
    examples: ["promote web/prod", "promote web/prod --full"],
  },
  pause: {
    globals: [...AWS, "json", "quiet", "no-color"],
    examples: ["pause web/prod", "pause web/prod --for 30m"],
  },
  abort: {
    globals: [...AWS, "json", "quiet", "no-color"],
    examples: ["abort web/prod"],
  },
  cycle: {
    globals: [...AWS, ...OUTPUT],
    examples: ["cycle web/prod --dry-run", "cycle web/prod --batch 2"],
  },
  retire: {
    globals: [...AWS, "json", "quiet"],
    examples: ["retire --all --dry-run", "retire web/prod --keep 2"],
  },
  adopt: {
    globals: [...AWS, "json", "quiet", "yes"],
    examples: [
      "adopt web/prod --group web-prod-asg --dry-run",
      "adopt web/prod --group web-prod-asg --yes",
    ],
  },
  wizard: { globals: [...AWS, "no-color"], examples: ["wizard", "wizard --config prod.yaml"] },
  unlock: {
    globals: [...AWS, "json", "quiet"],
    examples: ["unlock web/prod", "unlock web/prod --force"],
  },
  "iam-policy": {
    globals: ["config"],
    examples: ["iam-policy > switchyard-policy.json", "iam-policy web/prod --instance-role"],
  },
  serve: {
    globals: [...AWS, "json", "quiet"],
    examples: ["serve", "serve --host 0.0.0.0 --port 8080", "serve --insecure-local --port 9000"],
  },
  "serve hash-password": {
    globals: [],
    examples: ["serve hash-password --name alice --role operator"],
  },
  "serve new-token": {
    globals: [],
    examples: ["serve new-token --name ci --role operator >> tokens.txt"],
  },
};

/** The full name of a command below the program (`release push`). */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Every command below `program`, groups (`release`) and their commands alike, but `help`. */
export function allCommands(program: Command): Command[] {
  const out: Command[] = [];
  const walk = (c: Command) => {
    for (const sub of c.commands) {
      if (sub.name() === "help") continue;
      out.push(sub);
      walk(sub);
    }
  };
  walk(program);
  return out;
}

/** The program's global options that `help` names, in the program's order. */
export function honouredOptions(program: Command, help: CommandHelp): Option[] {
  return program.options.filter((o) => {
    const name = (o.long ?? "").replace(/^--/, "");
    return (help.globals as readonly string[]).includes(name);
  });
}

/** The text after a command's own options: its global options and its examples. */
export function helpTrailer(program: Command, command: Command, columns = 80): string {
  const help = COMMAND_HELP[commandPath(command)];
  if (!help) return "";
  const formatter = command.createHelp();
  formatter.prepareContext({ helpWidth: columns });
  const options = honouredOptions(program, help);
  const width = Math.max(0, ...options.map((o) => formatter.optionTerm(o).length));
  const lines = ["", "Global options it honours:"];
  if (options.length === 0) lines.push("  (none)");
  for (const o of options) {
    lines.push(
      formatter.formatItem(
        formatter.optionTerm(o),
        width,
        formatter.optionDescription(o),
        formatter,
      ),
    );
  }
  lines.push("", "Examples:", ...help.examples.map((e) => `  $ switchyard ${e}`));
  return lines.join("\n");
}

/** Adds the trailer to every command's help. */
export function addHelpTrailers(program: Command): void {
  for (const command of allCommands(program)) {
    if (COMMAND_HELP[commandPath(command)]) {
      command.addHelpText("after", (context) => {
        const output = command.configureOutput();
        const width = context.error ? output.getErrHelpWidth?.() : output.getOutHelpWidth?.();
        return helpTrailer(program, command, width ?? 80);
      });
    }
  }
}
