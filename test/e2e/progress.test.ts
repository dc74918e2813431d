/**
 * Progress as people and CI see it: a deploy on an 80-column pseudo-terminal (the first line at
 * once, the shift as a bar, no internals, the result once and `next:` lines) and on a pipe (plain
 * lines, a heartbeat during a bake); `status` within 80 columns on a terminal.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSampleRelease } from "../../examples/sample-app/release.js";
import { type Clients, createClients } from "../../src/aws/clients.js";
import { bootstrapService } from "../../src/demo/bootstrap.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { buildCli, spawnCli } from "./helpers.js";
import { Pty } from "./pty.js";

const SERVICE = "web/prog";
let sandbox: Sandbox;
let clients: Clients;
let dir: string;
let config: string;

beforeAll(async () => {
  await buildCli();
  sandbox = await startSandbox({ port: 0, timeScale: 0.01 });
  clients = createClients({ endpoint: sandbox.endpoint, region: sandbox.region });
  dir = await mkdtemp(join(tmpdir(), "switchyard-progress-"));
  const boot = await bootstrapService({
    clients,
    service: SERVICE,
    timing: { timeScale: sandbox.clock.timeScale },
  });
  for (const version of ["r1", "r2", "r3"]) {
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: "releases",
        Key: `web/prog/${version}.tar.gz`,
        Body: await buildSampleRelease({ version }),
      }),
    );
  }
  config = join(dir, "switchyard.config.json");
  await writeFile(config, JSON.stringify(boot.config, null, 2));
}, 120_000);

afterAll(async () => {
  clients?.destroy();
  await sandbox?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const aws = () => ["--config", config, "--endpoint-url", sandbox.endpoint];

describe("a deploy on a pipe (CI)", () => {
  it("prints plain lines and, during a long bake, a heartbeat with the time left and the health", async () => {
    const run = await spawnCli(
      ["deploy", SERVICE, "--release", "r1", "--bake", "4s", "--poll-interval", "100ms", ...aws()],
      { cwd: dir, env: { SWITCHYARD_HEARTBEAT: "1s" } },
    ).done;
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d web\/prog: checking release r1, the listener and the groups$/,
    );
    const beats = lines.filter((l) =>
      /step 1\/1: baking at 100% · \d+s of 4s, \d+s left · /.test(l),
    );
    expect(beats.length, run.stderr).toBeGreaterThanOrEqual(3);
    expect(beats.at(-1)).toMatch(/web-prog-v001 2\/2 healthy$/);
    // internals only with --verbose
    expect(run.stderr).not.toMatch(/create launch template|create target group|warm-up rule|tag /);
    // the result once, on stdout; next: after it
    expect(run.stdout).toMatch(/^web\/prog: web-prog-v001 is live \(r1\); [\dhms.]+\n$/);
    expect(run.stderr).not.toContain("swap done");
    expect(lines.at(-1)).toMatch(
      /^next: switchyard status web\/prog --config \S+ --endpoint-url \S+ {4}# the groups/,
    );
  }, 60_000);
});

describe("a deploy on a terminal", () => {
  it("shows what it checks at once, the shift as a bar, then the result and next: lines", async () => {
    const pty = new Pty(
      [
        "deploy",
        SERVICE,
        "--release",
        "r2",
        "--steps",
        "25,100",
        "--bake",
        "2s",
        "--poll-interval",
        "100ms",
        ...aws(),
      ],
      { cwd: dir, cols: 80, rows: 30 },
    );
    try {
      await pty.waitFor("web/prog: checking release r2");
      await pty.waitFor(/███░░░░░░░ {2}25% {2}step 1\/2: baking at 25% · \d+s of 2s/);
      expect(await pty.exit()).toBe(0);
      const text = pty.text();
      expect(text).toContain(
        "✔ step 1/2: 25% on web-prog-v002 (web-prog-v001 75 · web-prog-v002 25)",
      );
      expect(text).toMatch(/✔ web\/prog: web-prog-v002 is live \(r2\); standby web-prog-v001;/);
      // (the command with its --config and --endpoint-url is longer than the terminal is wide)
      expect(pty.lines().join("")).toMatch(
        /next: switchyard rollback web\/prog .*# undo: web-prog-v001 back/,
      );
      expect(text).not.toContain("create launch template");
    } finally {
      pty.kill();
    }
  }, 60_000);

  it("status fits 80 columns", async () => {
    const pty = new Pty(["status", SERVICE, ...aws()], { cwd: dir, cols: 80, rows: 30 });
    try {
      expect(await pty.exit()).toBe(0);
      const lines = pty.lines();
      expect(lines[1]).toMatch(/^ {2}GROUP +ROLE +RELEASE +TRAFFIC +HEALTHY/);
      expect(lines.some((l) => /web-prog-v002 +live +r2 +100%/.test(l))).toBe(true);
      // the terminal never wrapped a line: every line ends before the last column
      for (const line of lines) expect(line.length, line).toBeLessThan(80);
    } finally {
      pty.kill();
    }
  }, 30_000);
});
