/**
 * `switchyard wizard` in a real pseudo-terminal: util-linux `script` gives the built CLI a pty,
 * the test types keys into it and reads the screen through a headless xterm (keys in, screen
 * out). The world is an in-process sandbox with a bootstrapped service whose r1 is live.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeListenersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSampleRelease } from "../../examples/sample-app/release.js";
import { type Clients, createClients } from "../../src/aws/clients.js";
import type { SwitchyardConfig } from "../../src/core/config.js";
import { bootstrapService } from "../../src/demo/bootstrap.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { createSwitchyard } from "../../src/switchyard.js";
import { buildCli, MAIN, userEnv } from "./helpers.js";
import { KEY, Pty } from "./pty.js";

const SERVICE = "web/wiz";

let sandbox: Sandbox;
let clients: Clients;
let dir: string;
let base: SwitchyardConfig;
let listenerArn: string;

/** A config file for the bootstrapped service with these steps and bake. */
async function configWith(name: string, service: Record<string, unknown>): Promise<string> {
  const file = join(dir, `${name}.json`);
  const config = {
    ...base,
    services: { [SERVICE]: { ...base.services[SERVICE], ...service } },
  };
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

function wizard(config: string): Pty {
  return new Pty(
    ["wizard", "--config", config, "--endpoint-url", sandbox.endpoint, "--poll-interval", "100ms"],
    { cwd: dir },
  );
}

/** The listener's forward weights by target group name, highest first. */
async function weights(): Promise<Array<[string, number]>> {
  const out = await clients.elbv2.send(
    new DescribeListenersCommand({ ListenerArns: [listenerArn] }),
  );
  const groups = out.Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups ?? [];
  return groups
    .map((t): [string, number] => [
      /targetgroup\/([^/]+)/.exec(t.TargetGroupArn ?? "")?.[1] ?? "?",
      t.Weight ?? 0,
    ])
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

async function groupNames(): Promise<string[]> {
  const out = await clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({}));
  return (out.AutoScalingGroups ?? []).map((g) => g.AutoScalingGroupName ?? "").sort();
}

/** Walks the questions before the swap: release, (plan shown), steps, confirm. */
async function startSwap(pty: Pty, release: string, steps = "configured"): Promise<void> {
  await pty.waitFor("Release to swap web/wiz to");
  await pty.choose(`${release} `);
  await pty.waitFor("Steps (percent of traffic on green)");
  await pty.choose(steps);
  await pty.waitFor(/Swap web\/wiz from .* \(y\/N\)/);
  pty.keys("y");
  pty.keys(KEY.enter);
}

beforeAll(async () => {
  await buildCli();
  sandbox = await startSandbox({ port: 0, timeScale: 0.01 });
  clients = createClients({ endpoint: sandbox.endpoint, region: sandbox.region });
  dir = await mkdtemp(join(tmpdir(), "switchyard-wizard-"));
  const boot = await bootstrapService({
    clients,
    service: SERVICE,
    timing: { timeScale: sandbox.clock.timeScale },
  });
  base = boot.config;
  listenerArn = boot.listenerArn;
  for (const version of ["r1", "r2", "r3"]) {
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: "releases",
        Key: `web/wiz/${version}.tar.gz`,
        Body: await buildSampleRelease({ version }),
      }),
    );
  }
  const yard = createSwitchyard({ config: base, clients, pollIntervalMs: 100 });
  const first = await yard.deploy(SERVICE, { release: "r1", bakeMs: 100 }).result;
  if (!first.ok) throw new Error(`the first deploy failed: ${first.error?.message}`);
});

afterAll(async () => {
  clients?.destroy();
  await sandbox?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("switchyard wizard (in a pseudo-terminal)", () => {
  it("Ctrl-C at the release prompt exits 1 and changes nothing", async () => {
    const before = { weights: await weights(), groups: await groupNames() };
    const pty = wizard(await configWith("ctrl-c", {}));
    try {
      await pty.waitFor("Release to swap web/wiz to");
      expect(pty.text()).toMatch(/❯ r3 .*\n {2}r2 .*\n {2}r1 .*\(live\)/);
      pty.keys(KEY.ctrlC);
      expect(await pty.exit(), pty.text()).toBe(1);
      expect(pty.text()).toContain(
        "error ABORTED: wizard cancelled at the release prompt; nothing was changed",
      );
      expect(pty.text()).not.toMatch(/\n\s+at /); // no stack trace
      expect({ weights: await weights(), groups: await groupNames() }).toEqual(before);
    } finally {
      pty.kill();
    }
  });

  it("shows a plan that fails its checks plainly, then lets the operator pick again or quit", async () => {
    const pty = wizard(await configWith("bad-release", {}));
    try {
      for (const version of ["r9", "r8"]) {
        await pty.waitFor(/Release to swap web\/wiz to(?![\s\S]*Release \(version)/);
        await pty.choose("type a version or URL");
        await pty.waitFor(/Release \(version or URL\)(?![\s\S]*✖)/);
        pty.keys(`${version}${KEY.enter}`);
        await pty.waitFor(
          `✖ RELEASE_NOT_FOUND: release s3://releases/web/wiz/${version}.tar.gz does not exist`,
        );
        await pty.waitFor(/Nothing was changed\. Next\?\n❯ pick another release/);
        await pty.choose(version === "r9" ? "pick another release" : "quit");
      }
      expect(await pty.exit(), pty.text()).toBe(2);
      expect(pty.text()).toMatch(
        /hint: push it first: `switchyard release push <folder|file.tar.gz> /,
      );
      expect(pty.text()).toContain(
        "error RELEASE_NOT_FOUND: release s3://releases/web/wiz/r8.tar.gz does not exist",
      );
    } finally {
      pty.kill();
    }
  });

  it("rolls back at the 25% step when asked: exit 4, blue at 100, green removed", async () => {
    const pty = wizard(await configWith("rollback", { steps: [25, 100], bake: "60s" }));
    try {
      await startSwap(pty, "r2");
      await pty.waitFor("Step 1/2: 25% on web-wiz-v002, baking 1m. Next?");
      expect(await weights()).toEqual([
        ["web-wiz-v001", 75],
        ["web-wiz-v002", 25],
      ]);
      await pty.choose("roll back");
      expect(await pty.exit(), pty.text()).toBe(4);
      expect(pty.text()).toContain("rolling back at your request: traffic returns to web-wiz-v001");
      expect(pty.text()).toMatch(
        /error ROLLED_BACK: web\/wiz: the swap was rolled back at your request; web-wiz-v001 is live/,
      );
      expect(await weights()).toEqual([["web-wiz-v001", 100]]);
      expect(await groupNames()).toEqual(["web-wiz-v001"]);
    } finally {
      pty.kill();
    }
  });

  it("swaps to r2 with the configured steps, promoting each one before its bake ends", async () => {
    const pty = wizard(await configWith("promote", { steps: [25, 50, 100], bake: "60s" }));
    try {
      await pty.waitFor("Release to swap web/wiz to");
      // the plan side by side, then the steps
      await startSwap(pty, "r2");
      const plan = pty.text();
      expect(plan).toMatch(/live \(blue\) +green \(this swap\)/);
      expect(plan).toMatch(/group +web-wiz-v001 +web-wiz-v00\d/);
      expect(plan).toMatch(/release +r1 +r2 +← changed/);
      expect(plan).toMatch(/steps +100% +25% → 50% → 100% +← changed/);
      expect(plan).toMatch(/bake +100ms +1m +← changed/);
      for (const [step, weight] of [
        [1, 25],
        [2, 50],
        [3, 100],
      ] as const) {
        await pty.waitFor(`Step ${step}/3: ${weight}% on web-wiz-v003, baking 1m. Next?`);
        await pty.choose("promote now");
        await pty.waitFor(`promoted ${weight}% (step ${step}/3)`);
      }
      expect(await pty.exit(), pty.text()).toBe(0);
      expect(pty.text()).toMatch(/web\/wiz: web-wiz-v003 is live \(r2\); standby web-wiz-v001/);
      expect(await weights()).toEqual([
        ["web-wiz-v003", 100],
        ["web-wiz-v001", 0],
      ]);
      // three bakes of a minute each, all cut short: the swap took less than one
      // (formatElapsed: under a minute is `850ms` or `12.5s`, a minute or more `1m3s`)
      expect(/standby web-wiz-v001; (\S+)/.exec(pty.text())?.[1]).toMatch(/^(\d+ms|\d+(\.\d)?s)$/);
    } finally {
      pty.kill();
    }
  });

  it("holds the first step past its bake until promoted, then finishes", async () => {
    const bakeMs = 3_000;
    const pty = wizard(await configWith("hold", { steps: [50, 100], bake: "3s" }));
    try {
      await startSwap(pty, "r3");
      await pty.waitFor("Step 1/2: 50% on web-wiz-v004, baking 3s. Next?");
      const bakeStarted = Date.now();
      await pty.choose("hold");
      await pty.waitFor("Step 1/2: 50% on web-wiz-v004, held (gates still checked). Next?");
      // well past the bake, the traffic stays at the first step
      while (Date.now() - bakeStarted < bakeMs + 2_000) {
        expect(await weights()).toEqual([
          ["web-wiz-v003", 50],
          ["web-wiz-v004", 50],
          ["web-wiz-v001", 0],
        ]);
        await new Promise((r) => setTimeout(r, 250));
      }
      await pty.choose("promote now");
      await pty.waitFor("Step 2/2: 100% on web-wiz-v004, baking 3s. Next?");
      // unanswered, the question closes by itself when the bake ends and the swap finishes
      expect(await pty.exit(), pty.text()).toBe(0);
      expect(pty.text()).toContain("holding at 50%: the swap waits for you");
      expect(pty.text()).toContain("promoted 50% (step 1/2)");
      expect(pty.text()).not.toContain("promoted 100%");
      expect(pty.text()).not.toContain("Next?");
      expect(await weights()).toEqual([
        ["web-wiz-v004", 100],
        ["web-wiz-v003", 0],
      ]);
    } finally {
      pty.kill();
    }
  });

  it("Ctrl-C at a step question rolls back (exit 4), as deploy's first Ctrl-C does", async () => {
    const pty = wizard(await configWith("ctrl-c-swap", { steps: [25, 100], bake: "60s" }));
    try {
      await startSwap(pty, "r2");
      await pty.waitFor("Step 1/2: 25% on web-wiz-v005, baking 1m. Next?");
      pty.keys(KEY.ctrlC);
      expect(await pty.exit(), pty.text()).toBe(4);
      expect(pty.text()).toContain(
        "interrupted: rolling web/wiz back; traffic returns to blue (Ctrl-C again to exit at once)",
      );
      expect(pty.text()).toContain(
        "error ROLLED_BACK: web/wiz: the swap was rolled back after Ctrl-C; web-wiz-v004 is live",
      );
      expect(pty.text()).not.toMatch(/\n\s+at /);
      expect(await weights()).toEqual([
        ["web-wiz-v004", 100],
        ["web-wiz-v003", 0],
      ]);
      expect(await groupNames()).toEqual(["web-wiz-v001", "web-wiz-v003", "web-wiz-v004"]);
    } finally {
      pty.kill();
    }
  });

  it("refuses without a terminal", async () => {
    const child = spawnSync(
      process.execPath,
      [MAIN, "wizard", "--config", await configWith("no-tty", {})],
      { cwd: dir, env: userEnv(), encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] },
    );
    expect(child.status).toBe(2);
    expect(child.stderr).toContain(
      "error INVALID_INPUT: wizard needs a terminal; use `switchyard deploy`",
    );
  });
});
