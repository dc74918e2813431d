/**
 * The built CLI (`node dist/cli/main.js`), spawned as a user runs it, against an in-process
 * sandbox. The build runs once before the tests (see ./helpers.ts).
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { buildSampleRelease } from "../../examples/sample-app/release.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { buildCli, jsonLines, type Run, spawnCli, until } from "./helpers.js";

const SERVICE = "web/e2e";
const FAST = ["--poll-interval", "100ms"];

let sandbox: Sandbox;
let dir: string;
let configPath: string;

function start(args: string[], options: { cwd?: string } = {}) {
  return spawnCli(args, { cwd: options.cwd ?? dir });
}

function cli(...args: string[]): Promise<Run> {
  return start(args).done;
}

/** The CLI with the sandbox's endpoint and the bootstrapped config. */
function yard(...args: string[]): Promise<Run> {
  return cli(...args, "--endpoint-url", sandbox.endpoint, "--config", configPath);
}

beforeAll(async () => {
  await buildCli();
  sandbox = await startSandbox({ port: 0, timeScale: 0.01 });
  dir = await mkdtemp(join(tmpdir(), "switchyard-e2e-"));
  configPath = join(dir, "switchyard.config.yaml");
});

afterAll(async () => {
  await sandbox?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function uploadReleases() {
  const s3 = new S3Client({
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    forcePathStyle: true,
    credentials: { accessKeyId: "e2e", secretAccessKey: "e2e" },
  });
  try {
    for (const version of ["r1", "r2"]) {
      await s3.send(
        new PutObjectCommand({
          Bucket: "releases",
          Key: `web/e2e/${version}.tar.gz`,
          Body: await buildSampleRelease({ version }),
        }),
      );
    }
  } finally {
    s3.destroy();
  }
}

describe("switchyard (built)", () => {
  it("--help exits 0 with nothing on stderr", async () => {
    const r = await cli("--help");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("Usage: switchyard");
  });

  it("an unknown command exits 2", async () => {
    const r = await cli("deplyo");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error INVALID_INPUT: unknown command 'deplyo'");
  });

  it("sandbox bootstrap writes a complete config, and running it again changes nothing", async () => {
    const first = await cli(
      "sandbox",
      "bootstrap",
      SERVICE,
      "--write-config",
      configPath,
      "--endpoint-url",
      sandbox.endpoint,
    );
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`wrote ${configPath}`);
    const written = await readFile(configPath, "utf8");
    const config = parse(written) as {
      state: { bucket: string };
      services: Record<string, Record<string, unknown>>;
    };
    expect(config.state.bucket).toBe("releases");
    expect(config.services[SERVICE]).toMatchObject({
      image: "switchyard-sandbox-base",
      releases: "s3://releases/web/e2e/",
      vpcId: expect.stringMatching(/^vpc-/),
      listenerArn: expect.stringMatching(/:listener\/app\/web-e2e\//),
    });

    const again = await cli(
      "sandbox",
      "bootstrap",
      SERVICE,
      "--write-config",
      configPath,
      "--endpoint-url",
      sandbox.endpoint,
    );
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("load balancer web-e2e already there");
    expect(await readFile(configPath, "utf8")).toBe(written);
  });

  it("deploy --dry-run accepts the bootstrapped config, prints the plan and changes nothing", async () => {
    await uploadReleases();
    const r = await yard("deploy", SERVICE, "--release", "r1", "--dry-run");
    expect(r.code).toBe(0);
    // the first line says what is being checked; the plan goes to stdout
    expect(r.stderr).toMatch(
      /^\d\d:\d\d:\d\d web\/e2e: checking release r1, the listener and the groups \(dry run\)\n$/,
    );
    expect(r.stdout).toContain("release      s3://releases/web/e2e/r1.tar.gz");
    expect(r.stdout).toContain("blue         none: first deploy");

    const json = await yard("deploy", SERVICE, "--release", "r1", "--dry-run", "--json");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      service: SERVICE,
      release: { version: "r1" },
      blue: null,
    });
  });

  it("deploy of a release that does not exist exits 2 with RELEASE_NOT_FOUND", async () => {
    const r = await yard("deploy", SERVICE, "--release", "r9");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /\nerror RELEASE_NOT_FOUND: release s3:\/\/releases\/web\/e2e\/r9\.tar\.gz does not exist\nhint: /,
    );
  });

  it("deploy of a service not in the config exits 2 with UNKNOWN_SERVICE", async () => {
    const r = await yard("deploy", "api/e2e", "--release", "r1");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /\nerror UNKNOWN_SERVICE: unknown service "api\/e2e"; the config has web\/e2e/,
    );
  });

  it("status --json prints the contract's object, and nothing on stderr", async () => {
    const r = await yard("status", SERVICE, "--json");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ service: SERVICE, groups: [], swap: null });
  });

  it("swaps, reports status, rolls back and rolls a failing gate back (exit 4)", async () => {
    const first = await yard(
      "deploy",
      SERVICE,
      "--release",
      "r1",
      "--bake",
      "200ms",
      "--json",
      ...FAST,
    );
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const firstResult = jsonLines(first.stdout).at(-1);
    expect(firstResult).toMatchObject({
      type: "result",
      ok: true,
      live: "web-e2e-v001",
      standby: null,
    });

    const swap = await yard(
      "deploy",
      SERVICE,
      "--release",
      "r2",
      "--steps",
      "50,100",
      "--bake",
      "300ms",
      "--json",
      ...FAST,
    );
    expect(swap.code).toBe(0);
    const events = jsonLines(swap.stdout);
    expect(events.filter((e) => e.type === "step.shifted").map((e) => e.weight)).toEqual([50, 100]);
    expect(events.at(-1)).toEqual({
      type: "result",
      ok: true,
      service: SERVICE,
      live: "web-e2e-v002",
      standby: "web-e2e-v001",
      release: "s3://releases/web/e2e/r2.tar.gz",
      attempted: "s3://releases/web/e2e/r2.tar.gz",
      durationMs: expect.any(Number),
    });

    const status = await yard("status", "--json");
    expect(status.code).toBe(0);
    const [service] = JSON.parse(status.stdout) as Array<{
      service: string;
      groups: Array<Record<string, unknown>>;
      swap: unknown;
    }>;
    expect(service?.swap).toBeNull();
    expect(service?.groups.map((g) => [g.name, g.role, g.weight])).toEqual([
      ["web-e2e-v002", "live", 100],
      ["web-e2e-v001", "standby", 0],
    ]);
    expect(service?.groups[0]).toMatchObject({
      release: "s3://releases/web/e2e/r2.tar.gz",
      sequence: 2,
      capacity: { min: 1, max: 4, desired: 2 },
      instances: { inService: 2, healthy: 2 },
      suspendedProcesses: [],
    });

    const back = await yard("rollback", SERVICE, "--json", ...FAST);
    expect(back.code).toBe(0);
    expect(jsonLines(back.stdout).at(-1)).toMatchObject({
      type: "result",
      ok: true,
      live: "web-e2e-v001",
      standby: "web-e2e-v002",
    });

    const gated = await yard(
      "deploy",
      SERVICE,
      "--release",
      "r2",
      "--bake",
      "300ms",
      "--gate",
      "echo 'smoke: 3 of 10 failed' >&2; exit 7",
      ...FAST,
    );
    expect(gated.code).toBe(4);
    // the gate's output once, under its line; all of it in the file the error names
    const file = /\nerror GATE_FAILED: .*exited with code 7 \(all of its output: (\S+\.log)\)/.exec(
      gated.stderr,
    )?.[1];
    expect(file, gated.stderr).toBeDefined();
    const shown = gated.stderr.split("\n").filter((l) => l.startsWith("  │ "));
    expect(shown, gated.stderr).toEqual(["  │ smoke: 3 of 10 failed"]);
    expect(readFileSync(file!, "utf8")).toBe("smoke: 3 of 10 failed\n");
    expect(gated.stdout).toBe("");
  }, 180_000);

  it("Ctrl-C during a deploy rolls back (exit 4); a second Ctrl-C exits 130 and resume finishes the rollback", async () => {
    const once = start([
      "deploy",
      SERVICE,
      "--release",
      "r2",
      "--bake",
      "30s",
      ...FAST,
      "--endpoint-url",
      sandbox.endpoint,
      "--config",
      configPath,
    ]);
    await until(() => once.stderr().includes("baking at"));
    once.child.kill("SIGINT");
    const r = await once.done;
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("interrupted: rolling web/e2e back");
    expect(r.stderr).toMatch(/error ROLLED_BACK: .*cancelled; rolled back, web-e2e-v001 is live/);

    const twice = start([
      "deploy",
      SERVICE,
      "--release",
      "r2",
      "--bake",
      "30s",
      ...FAST,
      "--endpoint-url",
      sandbox.endpoint,
      "--config",
      configPath,
    ]);
    await until(() => twice.stderr().includes("baking at"));
    twice.child.kill("SIGINT");
    await until(() => twice.stderr().includes("interrupted"));
    twice.child.kill("SIGINT");
    const t = await twice.done;
    expect(t.code).toBe(130);
    expect(t.stderr).toContain("switchyard resume web/e2e");

    const resumed = await yard("resume", SERVICE, "--json", ...FAST);
    // the record was left mid-rollback: resume finishes it, and blue is live
    expect(jsonLines(resumed.stdout).at(-1)).toMatchObject({
      type: "result",
      ok: false,
      live: "web-e2e-v001",
    });
    const status = JSON.parse((await yard("status", SERVICE, "--json")).stdout) as {
      swap: unknown;
    };
    expect(status.swap).toBeNull();
  }, 180_000);

  it("pause, promote and abort from another terminal; promote drives a swap whose process died", async () => {
    const deploy = () =>
      start([
        "deploy",
        SERVICE,
        "--release",
        "r2",
        "--steps",
        "50,100",
        "--bake",
        "1m",
        "--json",
        ...FAST,
        "--endpoint-url",
        sandbox.endpoint,
        "--config",
        configPath,
      ]);
    const events = (run: { stdout(): string }) => jsonLines(run.stdout());
    const driver = deploy();
    await until(() => events(driver).some((e) => e.type === "step.shifted"), 60_000);
    const pid = driver.child.pid;

    const paused = await yard("pause", SERVICE, "--json");
    expect(paused.code).toBe(0);
    expect(jsonLines(paused.stdout).at(-1)).toMatchObject({
      request: "pause",
      appliedBy: "driver",
      driver: expect.stringContaining(`pid ${pid}`),
    });
    await until(() =>
      events(driver).some(
        (e) => e.type === "waiting" && String(e.reason).startsWith("paused at 50%"),
      ),
    );

    const promoted = await yard("promote", SERVICE, "--json");
    expect(promoted.code).toBe(0);
    await until(() => events(driver).some((e) => e.type === "step.baked" && e.step === 1));

    const aborted = await yard("abort", SERVICE, "--json");
    expect(aborted.code).toBe(0);
    const end = await driver.done;
    expect(end.code).toBe(4);
    expect(events({ stdout: () => end.stdout }).at(-1)).toMatchObject({
      type: "result",
      ok: false,
      live: "web-e2e-v001",
      error: { code: "ROLLED_BACK" },
    });

    // the driving process dies mid-swap: promote --full takes the swap over and finishes it
    const doomed = deploy();
    await until(() => events(doomed).some((e) => e.type === "step.shifted"), 60_000);
    doomed.child.kill("SIGKILL");
    await doomed.done;
    const takeover = await yard("promote", SERVICE, "--full", "--json", ...FAST);
    expect(takeover.code).toBe(0);
    expect(jsonLines(takeover.stdout).at(-1)).toMatchObject({
      type: "result",
      ok: true,
      appliedBy: "here",
      request: "promote",
      release: "s3://releases/web/e2e/r2.tar.gz",
    });
    const status = JSON.parse((await yard("status", SERVICE, "--json")).stdout) as {
      swap: unknown;
      groups: Array<{ role: string; weight: number | null; release: string }>;
    };
    expect(status.swap).toBeNull();
    expect(status.groups.find((g) => g.weight === 100)).toMatchObject({
      role: "live",
      release: "s3://releases/web/e2e/r2.tar.gz",
    });
  }, 180_000);

  it("status --wait exits with the code of the swap in flight; --watch prints each change", async () => {
    const noService = await yard("status", "--wait");
    expect(noService.code).toBe(2);
    expect(noService.stderr).toContain("error INVALID_INPUT: status --wait needs a service");

    const idle = await yard("status", SERVICE, "--wait");
    expect(idle).toMatchObject({ code: 0, stdout: "web/e2e: no swap in flight\n" });

    const endpoint = ["--endpoint-url", sandbox.endpoint, "--config", configPath];
    const deploy = start([
      "deploy",
      SERVICE,
      "--release",
      "r2",
      "--bake",
      "1s",
      ...FAST,
      ...endpoint,
    ]);
    await until(() => /swap \w+: web\/e2e .*r2 on /.test(deploy.stderr()));
    const waiting = start(["status", SERVICE, "--wait", "--json", ...FAST, ...endpoint]);
    const watching = start(["status", SERVICE, "--watch", "--wait", ...FAST, ...endpoint]);
    const [deployed, waited, watched] = await Promise.all([
      deploy.done,
      waiting.done,
      watching.done,
    ]);
    expect(deployed.code).toBe(0);
    expect(waited.stderr).toBe("");
    expect(waited.code).toBe(0);
    expect(JSON.parse(waited.stdout)).toMatchObject({
      type: "result",
      ok: true,
      service: SERVICE,
      outcome: "completed",
      exitCode: 0,
      release: "s3://releases/web/e2e/r2.tar.gz",
    });
    expect(watched.code).toBe(0);
    const lines = watched.stdout.trimEnd().split("\n");
    // a line per change: the steps as they come, then the swap gone, then the summary
    // (which steps it sees depends on how soon it starts: at least one, each once)
    expect(lines.some((l) => / step [1-4]\/4 \((5|25|50|100)%\)[,;] /.test(l))).toBe(true);
    expect(lines.at(-2)).toMatch(/ web\/e2e: no swap in flight; weights /);
    expect(lines.at(-1)).toMatch(
      /^web\/e2e: swap \w+ completed: web-e2e-v\d+ is live \(r2\); waited /,
    );
    const changes = lines.map((l) => l.replace(/^\d\d:\d\d:\d\d /, ""));
    for (let i = 1; i < changes.length; i++) expect(changes[i]).not.toBe(changes[i - 1]);

    // a swap rolled back by its gate: exit 4, with the gate's error
    const gated = start([
      "deploy",
      SERVICE,
      "--release",
      "r1",
      "--bake",
      "1s",
      "--gate",
      "exit 7",
      ...FAST,
      ...endpoint,
    ]);
    await until(() => /swap \w+: web\/e2e .*r1 on /.test(gated.stderr()));
    const rolledBack = await yard("status", SERVICE, "--wait", ...FAST);
    expect((await gated.done).code).toBe(4);
    expect(rolledBack.code).toBe(4);
    expect(rolledBack.stdout).toBe("");
    expect(rolledBack.stderr).toMatch(/^error GATE_FAILED: web\/e2e: swap \w+ was rolled back /);
  }, 180_000);

  it("cycle --dry-run names the instances it would replace; cycle replaces them one at a time", async () => {
    const bad = await yard("cycle", SERVICE, "--batch", "0");
    expect(bad.code).toBe(2);
    const dry = await yard("cycle", SERVICE, "--dry-run", "--json");
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as { group: string; replaced: string[]; batch: number };
    expect(plan).toMatchObject({ batch: 1, dryRun: true });
    expect(plan.replaced).toHaveLength(2);
    const run = await yard("cycle", SERVICE, "--json", ...FAST);
    expect(run.code).toBe(0);
    const events = jsonLines(run.stdout);
    expect(events.filter((e) => e.type === "action")).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ type: "result", ok: true, live: plan.group });
  }, 180_000);

  it("deploy --detach writes the swap and returns; reconcile passes drive it to the end", async () => {
    const written = await yard(
      "deploy",
      SERVICE,
      "--release",
      "r1",
      "--steps",
      "100",
      "--bake",
      "300ms",
      "--detach",
    );
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toMatch(
      /^web\/e2e: swap \w+ of r1 written; web-e2e-v\d+ is live until reconcile passes drive it\n$/,
    );
    expect(written.stderr).toMatch(
      /\nnext: switchyard reconcile web\/e2e --config \S+ --endpoint-url \S+ {4}# one pass/,
    );
    const status = await yard("status", SERVICE);
    expect(status.stdout).toContain("driven by reconcile passes");
    let last: Record<string, unknown> | undefined;
    for (let i = 0; i < 100; i++) {
      const pass = await yard("reconcile", SERVICE, "--json", ...FAST);
      expect(pass.code, pass.stderr).toBe(0);
      last = jsonLines(pass.stdout).at(-1);
      const outcome = ((last?.services ?? []) as Array<{ outcome: string }>)[0]?.outcome;
      if (outcome !== "advanced") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(last).toMatchObject({
      type: "result",
      ok: true,
      services: [
        { service: SERVICE, outcome: "completed", release: "s3://releases/web/e2e/r1.tar.gz" },
      ],
    });
    const none = await yard("reconcile", "--all");
    expect(none).toMatchObject({ code: 0, stdout: "web/e2e: no swap in flight\n" });
  }, 180_000);

  it("sandbox serves in the foreground and stops cleanly on SIGINT", async () => {
    const run = start(["sandbox", "--port", "0", "--json"]);
    await until(() => run.stdout().includes("\n"));
    const { endpoint } = JSON.parse(run.stdout().split("\n")[0]!) as { endpoint: string };
    const health = await fetch(`${endpoint}/_sandbox/health`);
    expect(health.status).toBe(200);
    run.child.kill("SIGINT");
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
  });
});
