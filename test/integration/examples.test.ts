/**
 * Every example under examples/ runs here, so none of them rots: the deploy script and the
 * retire Lambda against a sandbox world; the cron and CI ones by checking that the commands
 * they run parse with the CLI program, and that their files are well-formed.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { main as deployScript } from "../../examples/deploy-script/deploy.js";
import { createHandler } from "../../examples/retire-lambda/handler.js";
import { createProgram } from "../../src/cli/program.js";
import { eventually } from "../helpers/sandbox.js";
import { SERVICE, type SwapWorld, sampleAppDir, swapWorld } from "../helpers/swap-world.js";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));

/** What the listener answers on `/`, once it answers 200 (health checks are real and run on
 * a shrunk clock, so a loaded machine can briefly see a 503). */
function answer(world: SwapWorld): Promise<{ version?: string }> {
  return eventually(
    async () => {
      const res = await fetch(world.listenerUrl());
      return res.status === 200 ? ((await res.json()) as { version?: string }) : undefined;
    },
    { timeoutMs: 10_000, what: "the listener to answer 200" },
  );
}

describe("examples against a sandbox", () => {
  let world: SwapWorld;
  let root: string;
  beforeAll(async () => {
    world = await swapWorld({
      releases: [],
      desired: 1,
    });
    root = await mkdtemp(join(tmpdir(), "switchyard-examples-"));
  });
  afterAll(async () => {
    await world?.stop();
    await rm(root, { recursive: true, force: true });
  });

  const deploy = (version: string, extra: Partial<Parameters<typeof deployScript>[0]> = {}) => {
    const lines: string[] = [];
    return deployScript({
      service: SERVICE,
      version,
      dir: join(root, version),
      config: world.config,
      clients: world.clients,
      smokeUrl: world.listenerUrl(),
      // a loaded machine can see the odd 503 from the sandbox's shrunk health-check clock
      maxErrorRate: 0.3,
      steps: [50, 100],
      bakeMs: 100,
      pollIntervalMs: 50,
      log: (line) => lines.push(line),
      ...extra,
    }).then((result) => ({ result, lines }));
  };

  it("deploy-script: pushes the build and deploys it, first deploy then a swap", async () => {
    await sampleAppDir(root, "d1");
    // the listener has no proxy before the first deploy; the first smoke gate runs once green
    // carries all traffic, so the URL is read after the sandbox has made one
    const first = await deployScript({
      service: SERVICE,
      version: "d1",
      dir: join(root, "d1"),
      config: world.config,
      clients: world.clients,
      bakeMs: 100,
      pollIntervalMs: 50,
      log: () => undefined,
    });
    expect(first).toMatchObject({
      ok: true,
      exitCode: 0,
      release: "s3://releases/web/test/d1.tar.gz",
      live: "web-test-v001",
    });

    await sampleAppDir(root, "d2");
    const { result, lines } = await deploy("d2");
    expect(result).toMatchObject({
      ok: true,
      exitCode: 0,
      live: "web-test-v002",
      standby: "web-test-v001",
    });
    expect(lines[0]).toMatch(/^upload \d+%$/);
    expect(lines.some((l) => l.startsWith("pushed s3://releases/web/test/d2.tar.gz"))).toBe(true);
    expect(lines).toContain("step 1/2: 50% on green");
    expect(lines.at(-1)).toBe("done: web-test-v002 live, web-test-v001 standby");
    expect(await answer(world)).toMatchObject({ version: "d2" });
  });

  it("deploy-script: its smoke gate rolls a bad swap back (exit 4); a re-run reuses the release", async () => {
    await sampleAppDir(root, "d3");
    const { result, lines } = await deploy("d3", { smokeUrl: `${world.listenerUrl()}/missing` });
    expect(result).toMatchObject({ ok: false, exitCode: 4, live: "web-test-v002" });
    expect(result.error?.code).toBe("GATE_FAILED");
    expect(
      lines.some((l) => /gate smoke .* failed: \d+\/10 smoke requests failed \(.*404/.test(l)),
    ).toBe(true);
    expect(await answer(world)).toMatchObject({ version: "d2" });

    const again = await deploy("d3");
    expect(again.result).toMatchObject({
      ok: false,
      exitCode: 2,
      error: { code: "RELEASE_EXISTS" },
    });
    const reused = await deploy("d3", { allowExisting: true });
    expect(reused.result).toMatchObject({
      ok: true,
      live: "web-test-v004",
      standby: "web-test-v002",
    });
    expect(reused.lines).toContain("d3 is already pushed; deploying it as it is");
  });

  it("retire-lambda: a scheduled invocation retires what the policy no longer keeps", async () => {
    const logs: string[] = [];
    // the config as the function's environment holds it, clients built from the endpoint
    const handler = createHandler({
      env: { SWITCHYARD_CONFIG_JSON: JSON.stringify(world.config) },
      endpoint: world.sandbox.endpoint,
      pollIntervalMs: 50,
      log: (line) => logs.push(line),
    });
    const context = { getRemainingTimeInMillis: () => 60_000 };
    // the deploys above left live + standbys: keep 1 keeps live and the newest standby
    const groups = (await world.yard.status(SERVICE)).groups; // newest first
    const live = groups.filter((g) => g.role === "live").map((g) => g.name);
    const standbys = groups.filter((g) => g.role === "standby").map((g) => g.name);
    expect(live).toHaveLength(1);
    expect(standbys.length).toBeGreaterThanOrEqual(2);
    const dry = await handler({ dryRun: true, keep: 1, minAge: 0 }, context);
    expect(dry).toEqual({
      dryRun: true,
      deleted: standbys.slice(1),
      kept: [...live, standbys[0]],
      skipped: [],
      failed: false,
      orphans: [],
    });
    const report = await handler({ keep: 1, minAge: "0s" }, context);
    expect(report).toMatchObject({ dryRun: false, deleted: standbys.slice(1), failed: false });
    expect(logs.map((l) => JSON.parse(l).type)).toContain("retire.deleted");
    expect(JSON.parse(logs.at(-1)!)).toMatchObject({
      type: "retire.report",
      deleted: standbys.slice(1),
    });
    // the schedule fires again: nothing left to do
    expect(await handler({}, context)).toMatchObject({ deleted: [], failed: false });
  });
});

// ─── cron and CI: the commands they run ──────────────────────────────────────────────────────

/** `switchyard …` invocations in a shell line, up to the first redirection or pipe. */
function switchyardArgs(line: string): string[] | undefined {
  const words = line.trim().split(/\s+/);
  const at = words.indexOf("switchyard");
  if (at < 0 || line.trim().startsWith("#")) return undefined;
  const args: string[] = [];
  for (const w of words.slice(at + 1)) {
    if (/^(\||\|\||&&|;|>|>>|2>|<)/.test(w) || w.startsWith(">")) break;
    args.push(w);
  }
  return args;
}

async function commandsIn(file: string): Promise<string[][]> {
  const text = await readFile(join(EXAMPLES, file), "utf8");
  if (file.endsWith(".yml")) {
    const workflow = parseYaml(text) as {
      jobs: Record<string, { steps: Array<{ run?: string }> }>;
    };
    return Object.values(workflow.jobs)
      .flatMap((job) => job.steps.flatMap((s) => (s.run ? s.run.split("\n") : [])))
      .flatMap((line) => {
        const args = switchyardArgs(line);
        return args ? [args] : [];
      });
  }
  return text.split("\n").flatMap((line) => {
    const args = switchyardArgs(line);
    return args ? [args] : [];
  });
}

function sink(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  stream.text = "";
  return stream;
}

/** Parses `args` with a fresh CLI program whose command actions only record what they got. */
async function parseWithCli(args: string[]) {
  const stderr = sink();
  const program = createProgram({ stdout: sink(), stderr, env: {} });
  let ran: { command: string; options: Record<string, unknown> } | undefined;
  const stub = (cmd: (typeof program.commands)[number], path: string) => {
    cmd.action(() => {
      ran = { command: path, options: { ...program.opts(), ...cmd.opts() } };
    });
    for (const sub of cmd.commands) stub(sub, `${path} ${sub.name()}`);
  };
  for (const cmd of program.commands) stub(cmd, cmd.name());
  await program.parseAsync(["node", "switchyard", ...args]);
  return { ran, stderr: stderr.text };
}

describe("retire-cron and retire-ci-schedule", () => {
  it("the cron script is valid bash and the crontab line runs it on a 5-field schedule", async () => {
    execFileSync("bash", ["-n", join(EXAMPLES, "retire-cron", "retire.sh")]);
    expect((await stat(join(EXAMPLES, "retire-cron", "retire.sh"))).mode & 0o111).not.toBe(0);
    const crontab = await readFile(join(EXAMPLES, "retire-cron", "crontab"), "utf8");
    const jobs = crontab
      .split("\n")
      .filter((l) => l.trim() && !l.trim().startsWith("#") && !/^[A-Z_]+=/.test(l));
    expect(jobs).toHaveLength(1);
    const fields = jobs[0]!.trim().split(/\s+/);
    for (const f of fields.slice(0, 5)) expect(f).toMatch(/^[\d*,/-]+$/);
    expect(fields[5]).toMatch(/examples\/retire-cron\/retire\.sh$/);
  });

  it("the CI workflow is a scheduled workflow whose steps run switchyard retire", async () => {
    const workflow = parseYaml(
      await readFile(join(EXAMPLES, "retire-ci-schedule", "retire.yml"), "utf8"),
    ) as { on: { schedule: Array<{ cron: string }> } };
    expect(workflow.on.schedule[0]?.cron.split(" ")).toHaveLength(5);
    expect(await commandsIn("retire-ci-schedule/retire.yml")).toEqual([
      ["retire", "--all", "--dry-run", "--json"],
      ["retire", "--all", "--json"],
    ]);
    expect(await commandsIn("retire-cron/retire.sh")).toEqual([["retire", "--all", "--json"]]);
  });

  it("their commands parse with the CLI program, as retire --all --json", async () => {
    const commands = [
      ...(await commandsIn("retire-cron/retire.sh")),
      ...(await commandsIn("retire-ci-schedule/retire.yml")),
    ];
    expect(commands).toHaveLength(3);
    for (const args of commands) {
      const { ran, stderr } = await parseWithCli(args);
      expect(stderr, args.join(" ")).toBe("");
      expect(ran?.command).toBe("retire");
      expect(ran?.options).toMatchObject({ all: true, json: true });
      expect(ran?.options.dryRun === true, args.join(" ")).toBe(args.includes("--dry-run"));
    }
  });

  it("a command the parser rejects fails the check (the check is not vacuous)", async () => {
    await expect(parseWithCli(["retire", "--all", "--jsno"])).rejects.toThrow(/unknown option/);
  });
});
