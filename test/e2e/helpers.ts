/**
 * What the e2e tests share: building the CLI once (whichever test file gets there first), and
 * spawning `node dist/cli/main.js` as a user's shell would.
 */
import { type ChildProcessByStdio, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const MAIN = join(ROOT, "dist/cli/main.js");

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment a user's shell would give the CLI, without anything that hides its warnings. */
export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const name of [
    "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED",
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "CI",
  ]) {
    delete env[name];
  }
  return env;
}

/** Spawns the built CLI in `cwd` (with `env` added to the user's); its output so far, and its end. */
export function spawnCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
) {
  const env = { ...userEnv(), ...options.env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: options.cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { child, ...collect(child) };
}

/** A child's output as it comes, and its end (a failure to start ends it too, with code null). */
export function collect(child: ChildProcessByStdio<null, Readable, Readable>) {
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const done = new Promise<Run>((resolve) => {
    child.on("error", (error) => {
      stderr += String(error);
      resolve({ code: null, signal: null, stdout, stderr });
    });
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { done, stdout: () => stdout, stderr: () => stderr };
}

/** Runs a shell script (`sh -c`) in `cwd`; its output and exit code once it has ended. */
export function shell(
  script: string,
  options: { cwd: string; env?: NodeJS.ProcessEnv; shell?: "sh" | "bash" },
): Promise<Run> {
  const child = spawn(options.shell ?? "sh", ["-c", script], {
    cwd: options.cwd,
    env: options.env ?? userEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  return collect(child).done;
}

export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}

const TMP = join(ROOT, ".tmp");
const LOCK = join(TMP, "e2e-build.lock");
const STAMP = join(TMP, "e2e-build.stamp");

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? await newestSource(path) : (await stat(path)).mtimeMs;
    newest = Math.max(newest, mtime);
  }
  return newest;
}

async function upToDate(): Promise<boolean> {
  if (!existsSync(MAIN) || !existsSync(STAMP)) return false;
  const built = (await stat(STAMP)).mtimeMs;
  const sources = Math.max(
    await newestSource(join(ROOT, "src")),
    (await stat(join(ROOT, "tsconfig.build.json"))).mtimeMs,
  );
  return built >= sources;
}

/**
 * Builds dist/ (TypeScript 7's tsc takes about a second), unless another e2e file has built it
 * from the same sources already. Test files run in parallel workers: the build is serialised by
 * a lock directory, so no test spawns the CLI while another rewrites it.
 */
export async function buildCli(): Promise<void> {
  await mkdir(TMP, { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // a lock left by a killed run is stale after two minutes
      const age = Date.now() - (await stat(LOCK).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 120_000) await rm(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${LOCK}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    if (await upToDate()) return;
    const startedAt = new Date();
    const build = spawnSync(
      process.execPath,
      [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
      { cwd: ROOT, encoding: "utf8" },
    );
    // type errors elsewhere in the tree still emit; what matters here is the CLI
    if (!existsSync(MAIN))
      throw new Error(`the build did not produce ${MAIN}:\n${build.stdout}${build.stderr}`);
    // the dashboard's static files, as `npm run build` copies them
    const copy = spawnSync(process.execPath, [join(ROOT, "scripts/copy-dashboard.mjs")], {
      cwd: ROOT,
      encoding: "utf8",
    });
    if (copy.status !== 0) throw new Error(`copying the dashboard failed:\n${copy.stderr}`);
    // stamped with the build's start: a source saved during the build makes the next one rebuild
    await writeFile(STAMP, startedAt.toISOString());
    await utimes(STAMP, startedAt, startedAt);
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}
