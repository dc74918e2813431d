/**
 * `release push|list`, `retire` and `iam-policy` of the built CLI, spawned as a user runs them,
 * against an in-process sandbox. The fleet retire works on is built with the library.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClients } from "../../src/aws/clients.js";
import { bootstrapService } from "../../src/demo/bootstrap.js";
import type { ReleaseInfo } from "../../src/release/list.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { createSwitchyard, type Switchyard } from "../../src/switchyard.js";
import { buildCli, ROOT, type Run, spawnCli } from "./helpers.js";

const SERVICE = "web/rr";
const v = (n: number) => `web-rr-v${String(n).padStart(3, "0")}`;

let sandbox: Sandbox;
let dir: string;
let configPath: string;
let lib: Switchyard;

function cli(...args: string[]): Promise<Run> {
  return spawnCli(args, { cwd: dir }).done;
}

/** The CLI with the sandbox's endpoint and the config. */
function yard(...args: string[]): Promise<Run> {
  return cli(...args, "--endpoint-url", sandbox.endpoint, "--config", configPath);
}

/** A directory holding the sample app at `version`, as a user's build would. */
async function appDir(version: string): Promise<string> {
  const app = join(dir, `app-${version}`);
  await mkdir(app, { recursive: true });
  await writeFile(join(app, "Procfile"), "web: node server.mjs\n");
  await writeFile(join(app, "VERSION"), `${version}\n`);
  await copyFile(join(ROOT, "examples/sample-app/server.mjs"), join(app, "server.mjs"));
  return app;
}

async function groupNames(): Promise<string[]> {
  return (await lib.status(SERVICE)).groups.map((g) => g.name);
}

beforeAll(async () => {
  await buildCli();
  sandbox = await startSandbox({ port: 0, timeScale: 0.01 });
  dir = await mkdtemp(join(tmpdir(), "switchyard-e2e-rr-"));
  const clients = createClients({ endpoint: sandbox.endpoint, region: sandbox.region });
  try {
    const boot = await bootstrapService({
      clients,
      service: SERVICE,
      timing: { timeScale: sandbox.clock.timeScale },
    });
    const service = boot.config.services[SERVICE]!;
    // one instance per group keeps the swaps short; the policy is bootstrap's (keep 1, minAge 1h)
    boot.config.services[SERVICE] = { ...service, capacity: { min: 1, max: 2, desired: 1 } };
    configPath = join(dir, "switchyard.config.json");
    await writeFile(configPath, JSON.stringify(boot.config, null, 2));
    lib = createSwitchyard({
      config: boot.config,
      endpoint: sandbox.endpoint,
      region: sandbox.region,
      pollIntervalMs: 50,
    });
  } finally {
    clients.destroy();
  }
});

afterAll(async () => {
  lib?.close();
  await sandbox?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("release push and release list (built)", () => {
  it("push prints the release URL and nothing else when not a terminal", async () => {
    const r = await yard(
      "release",
      "push",
      await appDir("r1"),
      "--service",
      SERVICE,
      "--version",
      "r1",
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("s3://releases/web/rr/r1.tar.gz\n");
  });

  it("push --json prints {url, version, sha256, size}", async () => {
    const r = await yard(
      "release",
      "push",
      await appDir("r2"),
      "--service",
      SERVICE,
      "--version",
      "r2",
      "--json",
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(["url", "version", "sha256", "size"]);
    expect(out).toMatchObject({
      url: "s3://releases/web/rr/r2.tar.gz",
      version: "r2",
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      size: expect.any(Number),
    });
  });

  it("list shows them newest first, as a table and as the library's ReleaseInfo", async () => {
    const table = await yard("release", "list", "--service", SERVICE);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^VERSION\s+CREATED\s+SIZE\s+SHA256$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["r2", "r1"]);

    const json = await yard("release", "list", "--service", SERVICE, "--json");
    expect(json.code).toBe(0);
    const releases = JSON.parse(json.stdout) as ReleaseInfo[];
    expect(releases.map((r) => [r.version, r.url, r.live, r.standby])).toEqual([
      ["r2", "s3://releases/web/rr/r2.tar.gz", false, false],
      ["r1", "s3://releases/web/rr/r1.tar.gz", false, false],
    ]);
  });

  it("push of a version that exists exits 2 with RELEASE_EXISTS", async () => {
    const r = await yard(
      "release",
      "push",
      join(dir, "app-r1"),
      "--service",
      SERVICE,
      "--version",
      "r1",
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error RELEASE_EXISTS: release r1 of web\/rr already exists/);
    expect(r.stdout).toBe("");
  });
});

describe("retire (built)", () => {
  it("with no service and no --all exits 2", async () => {
    const r = await yard("retire");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error INVALID_INPUT: .*name them or pass --all/);
  });

  it("with nothing to do prints nothing with -q, one line without, and exits 0", async () => {
    const quiet = await yard("retire", "--all", "-q");
    expect(quiet).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const plain = await yard("retire", SERVICE);
    expect(plain).toMatchObject({ code: 0, stdout: "nothing to retire\n", stderr: "" });
  });

  it("given an old standby, --dry-run --json reports it in deleted and deletes nothing; retire --json deletes it", async () => {
    // v001 r1, v002 r2, v003 r1: v003 live, v002 the newest standby, v001 an old standby
    for (const release of ["r1", "r2", "r1"]) {
      const r = await lib.deploy(SERVICE, { release, steps: [100], bakeMs: 20 }).result;
      expect(r.ok, r.error?.message).toBe(true);
    }
    expect(await groupNames()).toEqual([v(3), v(2), v(1)]);
    const list = await yard("release", "list", "--service", SERVICE);
    expect(list.stdout).toMatch(/\nr2 .*standby\n/);
    expect(list.stdout).toMatch(/\nr1 .*live, standby\n/);

    const dry = await yard("retire", SERVICE, "--min-age", "0", "--dry-run", "--json");
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual({
      dryRun: true,
      deleted: [v(1)],
      kept: [v(3), v(2)],
      skipped: [],
      failed: false,
      orphans: [],
    });
    expect(await groupNames()).toEqual([v(3), v(2), v(1)]);

    const real = await yard(
      "retire",
      "--all",
      "--min-age",
      "0",
      "--json",
      "--poll-interval",
      "100ms",
    );
    expect(real.stderr).toBe("");
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout)).toEqual({
      dryRun: false,
      deleted: [v(1)],
      kept: [v(3), v(2)],
      skipped: [],
      failed: false,
      orphans: [],
    });
    expect(await groupNames()).toEqual([v(3), v(2)]);

    // the policy keeps the rest: nothing to do
    const again = await yard("retire", SERVICE, "--min-age", "0", "-q");
    expect(again).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });

  it("a deletion that fails is in skipped with its reason, failed is true, and the exit code 1", async () => {
    // v004 live, v003 the newest standby, v002 an old standby
    const r = await lib.deploy(SERVICE, { release: "r2", steps: [100], bakeMs: 20 }).result;
    expect(r.ok, r.error?.message).toBe(true);
    sandbox.faults.set([
      { service: "autoscaling", action: "DeleteAutoScalingGroup", errorRate: 1 },
    ]);
    try {
      const failed = await yard("retire", SERVICE, "--min-age", "0", "--json");
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/^error AWS_ERROR: retire did not finish/);
      const report = JSON.parse(failed.stdout) as {
        skipped: Array<{ name: string; reason: string }>;
      };
      expect(report).toMatchObject({
        dryRun: false,
        deleted: [],
        kept: [v(4), v(3)],
        failed: true,
      });
      expect(report.skipped.map((s) => s.name)).toEqual([v(2)]);
      expect(report.skipped[0]?.reason).toMatch(/^delete failed: /);
    } finally {
      sandbox.faults.set([]);
    }
    expect(await groupNames()).toEqual([v(4), v(3), v(2)]);
  });
});

describe("iam-policy (built)", () => {
  it("prints the policy as pretty JSON with a Statement array", async () => {
    const r = await yard("iam-policy");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const policy = JSON.parse(r.stdout) as { Version: string; Statement: unknown[] };
    expect(policy.Version).toBe("2012-10-17");
    expect(Array.isArray(policy.Statement)).toBe(true);
    expect(policy.Statement.length).toBeGreaterThan(0);
    expect(r.stdout).toBe(`${JSON.stringify(policy, null, 2)}\n`);
  });

  it("exits 2 for a service the config does not have", async () => {
    const r = await yard("iam-policy", "api/rr");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error UNKNOWN_SERVICE: /);
  });
});
