/**
 * A spinner on stderr for commands that are not event timelines (`release push`, `retire`): only
 * on a sized terminal (not CI, not --json, not --quiet), else nothing at all. ora loads lazily.
 */
import { type CliIo, type GlobalOptions, writeLine } from "./io.js";
import { chooseMode, palette, type Spinner } from "./render.js";

export interface Progress {
  /** shows (or replaces) the spinner's text */
  update(text: string): void;
  /** stops the spinner, leaving `text` behind with a ✔ */
  succeed(text: string): void;
  /** stops the spinner, leaving nothing behind; safe to call twice */
  stop(): void;
}

const NONE: Progress = { update() {}, succeed() {}, stop() {} };

export async function progressFor(
  globals: Pick<GlobalOptions, "json" | "quiet" | "color">,
  io: CliIo,
): Promise<Progress> {
  if (globals.quiet || chooseMode(globals, io) !== "tty") return NONE;
  const { default: ora } = await import("ora");
  const spinner: Spinner = ora({
    stream: io.stderr,
    color: globals.color ? "cyan" : false,
    discardStdin: false,
    isEnabled: true,
  });
  const p = palette(globals.color);
  return {
    update(text) {
      spinner.text = text;
      if (!spinner.isSpinning) spinner.start(text);
    },
    succeed(text) {
      if (spinner.isSpinning) spinner.stopAndPersist({ symbol: p.green("✔"), text });
      else writeLine(io.stderr, `${p.green("✔")} ${text}`);
    },
    stop() {
      if (spinner.isSpinning) spinner.stop();
    },
  };
}
