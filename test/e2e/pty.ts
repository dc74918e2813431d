/**
 * The built CLI on a pseudo-terminal: util-linux `script` gives it a pty of a set size, and its
 * screen is read through a headless xterm (keys in, screen out).
 */
import { spawn } from "node:child_process";
import xterm from "@xterm/headless";
import { MAIN } from "./helpers.js";

export const KEY = { enter: "\r", down: "\x1b[B", up: "\x1b[A", ctrlC: "\x03" } as const;

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface PtyOptions {
  cwd: string;
  cols?: number;
  rows?: number;
  /** added to the environment a user's shell gives the CLI */
  env?: Record<string, string>;
}

/** The environment a user's shell would give the CLI on a terminal of this size. */
function terminalEnv(cols: number, rows: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", TERM: "xterm-256color" };
  for (const name of ["AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "CI"]) {
    delete env[name];
  }
  return { ...env, COLUMNS: String(cols), LINES: String(rows) };
}

/** The CLI on a pseudo-terminal, its screen read through a headless xterm. */
export class Pty {
  private readonly term;
  private readonly child;
  private parsed: Promise<void> = Promise.resolve();
  readonly exited: Promise<number | null>;

  constructor(args: string[], options: PtyOptions) {
    const cols = options.cols ?? 120;
    const rows = options.rows ?? 40;
    this.term = new xterm.Terminal({ cols, rows, allowProposedApi: true });
    const command = `stty cols ${cols} rows ${rows}; exec ${[process.execPath, MAIN, ...args].map(sh).join(" ")}`;
    this.child = spawn("script", ["-qfec", command, "/dev/null"], {
      cwd: options.cwd,
      env: { ...terminalEnv(cols, rows), ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout.on("data", (chunk: Buffer) => {
      this.parsed = this.parsed.then(() => new Promise((r) => this.term.write(chunk, r)));
    });
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code) => resolve(code));
    });
  }

  /** Every line written so far (scrollback and screen), trailing blanks trimmed. */
  lines(): string[] {
    const buffer = this.term.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < buffer.length; i++)
      out.push(buffer.getLine(i)?.translateToString(true) ?? "");
    while (out.length && out.at(-1) === "") out.pop();
    return out;
  }

  text(): string {
    return this.lines().join("\n");
  }

  keys(keys: string): void {
    this.child.stdin.write(keys);
  }

  /** Waits until the screen shows `pattern`; fails with the screen after `timeoutMs`. */
  async waitFor(pattern: string | RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.parsed;
      const text = this.text();
      if (typeof pattern === "string" ? text.includes(pattern) : pattern.test(text)) return;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${String(pattern)}; the screen:\n${text}`);
      }
      await new Promise((r) => setTimeout(r, 40));
    }
  }

  /** Moves the open select's cursor (❯) to the choice containing `label`, then Enter. */
  async choose(label: string): Promise<void> {
    await this.parsed;
    const lines = this.lines();
    const cursor = lines.findLastIndex((l) => l.startsWith("❯ "));
    if (cursor < 0) throw new Error(`no open menu; the screen:\n${lines.join("\n")}`);
    const isChoice = (l: string | undefined) =>
      l !== undefined && (l.startsWith("❯ ") || l.startsWith("  ")) && l.trim() !== "";
    let target = -1;
    for (let i = cursor; isChoice(lines[i]) && target < 0; i--)
      if (lines[i]!.includes(label)) target = i;
    for (let i = cursor; isChoice(lines[i]) && target < 0; i++)
      if (lines[i]!.includes(label)) target = i;
    if (target < 0) throw new Error(`no choice "${label}"; the screen:\n${lines.join("\n")}`);
    const move = target > cursor ? KEY.down : KEY.up;
    this.keys(move.repeat(Math.abs(target - cursor)));
    await this.waitFor(new RegExp(`❯ .*${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`), 5_000);
    this.keys(KEY.enter);
  }

  /** The exit code, within `timeoutMs` (else the child is killed and the test fails). */
  async exit(timeoutMs = 30_000): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    try {
      const code = await this.exited;
      await this.parsed;
      return code;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}
