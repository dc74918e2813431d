/**
 * Instance processes. When an instance becomes `running`, its release is fetched from sandbox S3
 * (the URL comes from its user data), unpacked into `<stateDir>/instances/<instanceId>/`, and the
 * Procfile's `web:` command runs there through `sh -c` with `PORT` set to a free loopback port.
 *
 * Every release runs in its own process group, so stopping an instance stops everything its
 * command started; nothing outlives the sandbox (a process `exit` hook kills what is left if the
 * sandbox process exits without being stopped).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { delimiter, dirname, join } from "node:path";
import { x as extract } from "tar";
import type { Instance } from "../state.js";
import type { RuntimeDeps } from "./index.js";
import { decodeUserData, findReleaseUrl, parseProcfileWeb, parseS3Url } from "./release.js";

/** Real milliseconds a release gets to exit after SIGTERM before its process group is killed. */
export const STOP_GRACE_MS = 1500;
/** The file in the instance's folder that collects the release's stdout and stderr. */
export const RELEASE_LOG = "release.log";

class BootError extends Error {}

interface Running {
  instance: Instance;
  /** settles when the boot sequence has finished, started the process or not */
  boot: Promise<void>;
  stopping: boolean;
  child?: ChildProcess;
  pgid?: number;
  exited?: Promise<void>;
  /** the release's process group is known to be gone (it crashed and was cleaned up) */
  gone?: boolean;
}

/** Process groups still alive, across every sandbox in this process, for the exit hook. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pgid of liveGroups) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    liveGroups.clear();
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.());

/**
 * Stops a process group: SIGTERM to every member, then SIGKILL to whatever is left once the
 * leader has exited or the grace period is over.
 */
async function killGroup(pgid: number, exited: Promise<void> | undefined): Promise<void> {
  signalGroup(pgid, "SIGTERM");
  await Promise.race([exited ?? Promise.resolve(), pause(STOP_GRACE_MS)]);
  if (groupAlive(pgid)) signalGroup(pgid, "SIGKILL");
  await Promise.race([exited ?? Promise.resolve(), pause(STOP_GRACE_MS)]);
  liveGroups.delete(pgid);
}

const SHELL_SYNTAX = /[;&|()`<>\n]/;
const SHELL_WORDS = new Set([
  "!",
  ".",
  ":",
  "{",
  "case",
  "cd",
  "eval",
  "exec",
  "exit",
  "export",
  "for",
  "if",
  "set",
  "source",
  "trap",
  "ulimit",
  "umask",
  "unset",
  "until",
  "wait",
  "while",
]);

/**
 * The script `sh -c` runs for a Procfile command. A simple command (one program and its
 * arguments) is `exec`ed, so the release process itself leads the group and its exit is seen
 * at once; anything else runs as written.
 */
export function shellScript(command: string): string {
  const first = command.trim().split(/\s+/, 1)[0] ?? "";
  if (SHELL_SYNTAX.test(command) || first.includes("=") || SHELL_WORDS.has(first)) return command;
  return `exec ${command.trim()}`;
}

/** A port nothing listens on right now: listen on 0, note the port, close. */
async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function unpack(body: Buffer, dir: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const stream = extract({ cwd: dir, strict: true });
    stream.on("error", reject);
    stream.on("close", () => resolve());
    stream.end(body);
  });
}

export interface InstanceProcesses {
  start(instance: Instance): void;
  stop(instance: Instance): Promise<void>;
  close(): Promise<void>;
}

export function createInstanceProcesses(deps: RuntimeDeps): InstanceProcesses {
  const { state, settings, unhealthyImages } = deps;
  const running = new Map<string, Running>();
  /** ports handed to instances whose release may not have bound them yet */
  const assignedPorts = new Set<number>();
  let closed = false;

  async function pickPort(): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const port = await freeLoopbackPort();
      if (!assignedPorts.has(port)) return port;
    }
    throw new BootError("no free loopback port for the release");
  }

  async function boot(instance: Instance, run: Running): Promise<void> {
    const image = state.images.get(instance.imageId);
    if (!image || image.behaviour === "never-healthy" || unhealthyImages.has(instance.imageId)) {
      return; // boots, but never starts a release: its targets never pass a health check
    }
    const url = findReleaseUrl(decodeUserData(instance.userData));
    if (!url) {
      throw new BootError(
        "user data names no release (expected a line `# switchyard:release-url=s3://bucket/key`)",
      );
    }
    const address = parseS3Url(url);
    if (!address)
      throw new BootError(`release URL ${url} is not an S3 object URL (s3://bucket/key)`);
    const bucket = state.buckets.get(address.bucket);
    if (!bucket) throw new BootError(`cannot fetch release ${url}: NoSuchBucket`);
    const object = bucket.objects.get(address.key);
    if (!object) throw new BootError(`cannot fetch release ${url}: NoSuchKey`);

    const dir = join(settings.stateDir, "instances", instance.instanceId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    try {
      await unpack(object.body, dir);
    } catch (error) {
      throw new BootError(
        `release ${url} is not a readable .tar.gz: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    let procfile: string;
    try {
      procfile = await readFile(join(dir, "Procfile"), "utf8");
    } catch {
      throw new BootError(`release ${url} has no Procfile at its root`);
    }
    const command = parseProcfileWeb(procfile);
    if (!command) throw new BootError(`the Procfile of release ${url} has no web: line`);
    const port = await pickPort();
    if (run.stopping || closed) return;

    const log = openSync(join(dir, RELEASE_LOG), "a");
    let child: ChildProcess;
    try {
      child = spawn("sh", ["-c", shellScript(command)], {
        cwd: dir,
        detached: true,
        stdio: ["ignore", log, log],
        env: {
          ...process.env,
          PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
          PORT: String(port),
          HOST: "127.0.0.1",
          SWITCHYARD_INSTANCE_ID: instance.instanceId,
          SWITCHYARD_RELEASE_URL: url,
        },
      });
    } finally {
      closeSync(log);
    }
    child.once("error", (error) => {
      if (!run.stopping) instance.bootError = `the release's web command failed: ${error.message}`;
    });
    const pgid = child.pid;
    if (pgid === undefined) {
      throw new BootError(`could not start the release's web command: ${command}`);
    }
    installExitHook();
    liveGroups.add(pgid);
    assignedPorts.add(port);
    run.child = child;
    run.pgid = pgid;
    instance.hostPort = port;
    instance.bootError = undefined;
    run.exited = new Promise<void>((resolve) => {
      child.once("exit", (code, signal) => {
        assignedPorts.delete(port);
        if (!run.stopping) {
          instance.bootError = `the release's web command exited with ${code !== null ? `code ${code}` : `signal ${signal}`} (see ${join(dir, RELEASE_LOG)})`;
          if (instance.hostPort === port) instance.hostPort = 0;
          // anything the command left behind in its group goes too
          signalGroup(pgid, "SIGKILL");
          liveGroups.delete(pgid);
          run.gone = true;
        }
        resolve();
      });
    });
  }

  async function stop(instance: Instance): Promise<void> {
    const run = running.get(instance.instanceId);
    if (!run) return;
    run.stopping = true;
    await run.boot;
    if (run.pgid !== undefined && !run.gone) await killGroup(run.pgid, run.exited);
    running.delete(instance.instanceId);
    instance.hostPort = 0;
  }

  return {
    start(instance) {
      if (closed || running.has(instance.instanceId)) return;
      const run: Running = { instance, boot: Promise.resolve(), stopping: false };
      run.boot = boot(instance, run).catch((error: unknown) => {
        if (run.stopping) return;
        instance.bootError =
          error instanceof BootError
            ? error.message
            : `boot failed: ${error instanceof Error ? error.message : String(error)}`;
      });
      running.set(instance.instanceId, run);
    },

    stop,

    async close() {
      closed = true;
      await Promise.all([...running.values()].map((run) => stop(run.instance)));
    },
  };
}
