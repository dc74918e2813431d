/**
 * Docs that cannot lie: the getting-started guide's commands run as written and in order against
 * a sandbox; the README's library snippet runs as written and handles both ways a swap fails;
 * every command the CLI prints as a hint or a `next:` line runs as printed.
 */
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { buildSampleRelease } from "../../examples/sample-app/release.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { buildCli, MAIN, ROOT, shell, userEnv } from "./helpers.js";

/** Runs `script` with bash in `cwd`, with `switchyard` and `npx switchyard` being this build. */
function bash(script: string, cwd: string, env: Record<string, string> = {}) {
  return shell(`set -e\n${script}`, {
    cwd,
    shell: "bash",
    env: { ...userEnv(), ...env, PATH: `${join(cwd, ".bin")}:${process.env.PATH}` },
  });
}

/** A folder where `switchyard …` and `npx switchyard …` run this build, as after `npm install`. */
async function workspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-docs-"));
  await mkdir(join(dir, ".bin"));
  const bin = join(dir, ".bin");
  await writeFile(
    join(bin, "switchyard"),
    `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`,
  );
  // npx of the project's own bin: the same command
  await writeFile(
    join(bin, "npx"),
    `#!/bin/sh\nif [ "$1" = switchyard ]; then shift; exec "${process.execPath}" "${MAIN}" "$@"; fi\necho "npx $1: not in this test" >&2; exit 127\n`,
  );
  await chmod(join(bin, "switchyard"), 0o755);
  await chmod(join(bin, "npx"), 0o755);
  await symlink(join(ROOT, "examples"), join(dir, "examples"));
  return dir;
}

/** The fenced blocks of a markdown text with their language, in order. */
function codeBlocks(markdown: string): Array<{ lang: string; code: string; heading: string }> {
  const blocks: Array<{ lang: string; code: string; heading: string }> = [];
  let heading = "";
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("#")) heading = line;
    const open = /^```(\w*)$/.exec(line);
    if (!open) continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]!);
    blocks.push({ lang: open[1] ?? "", code: body.join("\n"), heading });
  }
  return blocks;
}

/**
 * The commands a run printed for the user to run next: `next:` lines and backticked
 * `switchyard …` commands in hints. Placeholders (`<version>`) are the user's to fill.
 */
function printedCommands(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/`(switchyard [^`]+)`/g)) found.add(m[1]!);
  for (const m of text.matchAll(/^next: (switchyard .+?)(?:\s+#.*)?$/gm)) found.add(m[1]!);
  return [...found];
}

beforeAll(buildCli, 120_000);

describe("the getting-started guide", () => {
  let dir: string;
  let sandbox: ReturnType<typeof spawn> | undefined;

  beforeAll(async () => {
    dir = await workspace();
  });
  afterAll(async () => {
    sandbox?.kill("SIGINT");
    await new Promise((r) => sandbox?.once("close", r) ?? r(undefined));
    await rm(dir, { recursive: true, force: true });
  });

  it("runs as written, in order: sandbox, bootstrap, releases, deploy, swap, status, rollback", async () => {
    const guide = await readFile(join(ROOT, "docs/getting-started.md"), "utf8");
    const blocks = codeBlocks(guide).filter(
      (b) => b.lang === "sh" && /^## [234]\./.test(b.heading),
    );
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    // "in one terminal": the sandbox, in the foreground there, in the background here
    const [first, ...rest] = blocks;
    const serve = first!.code.trim();
    expect(serve).toMatch(/^npx switchyard sandbox /);
    sandbox = spawn("bash", ["-c", `exec ${serve}`], {
      cwd: dir,
      env: { ...userEnv(), PATH: `${join(dir, ".bin")}:${process.env.PATH}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let served = "";
    sandbox.stdout?.on("data", (c: Buffer) => {
      served += c.toString();
    });
    sandbox.stderr?.on("data", (c: Buffer) => {
      served += c.toString();
    });
    const deadline = Date.now() + 20_000;
    while (!served.includes("switchyard sandbox on")) {
      if (Date.now() > deadline || sandbox.exitCode !== null) {
        throw new Error(`the guide's sandbox did not start (is port 4566 taken?):\n${served}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // "in another": every other command, one shell, in order, stopping at the first failure
    const script = rest.map((b) => b.code).join("\n");
    const run = await bash(script, dir);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    // the swap went through, status showed it, the rollback put r1 back, and r1 answers
    expect(run.stdout).toContain("web/dev: web-dev-v002 is live (r2); standby web-dev-v001");
    expect(run.stdout).toMatch(/web-dev-v002\s+live\s+r2\s+100%/);
    expect(run.stdout).toContain("web/dev: web-dev-v001 is live (r1); standby web-dev-v002");
    expect(run.stdout).toMatch(/"version":"r1"/);

    // a mistake the guide invites: deploying a version never pushed; its hint names the fix
    const missing = await bash("npx switchyard deploy web/dev --release r3", dir, {
      AWS_ENDPOINT_URL: "http://127.0.0.1:4566",
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("error RELEASE_NOT_FOUND");

    // every command the runs printed as a hint or next: works as printed (placeholders filled)
    const printed = printedCommands(`${run.stdout}\n${run.stderr}\n${missing.stderr}`).filter(
      (c) => !/^switchyard sandbox\b/.test(c),
    );
    expect(printed).toContain("switchyard status web/dev");
    expect(printed).toContain(
      "switchyard release push <folder|file.tar.gz> --service web/dev --version r3",
    );
    for (const command of printed) {
      const filled = command
        .replace("<version>", "r1")
        .replace("<folder|file.tar.gz>", "examples/sample-app");
      const ran = await bash(filled, dir, { AWS_ENDPOINT_URL: "http://127.0.0.1:4566" });
      expect(ran.code, `${filled}\n${ran.stderr}`).toBe(0);
    }
  }, 240_000);
});

describe("the README's library snippet", () => {
  let sb: Sandbox;
  let dir: string;
  let snippet: string;

  beforeAll(async () => {
    sb = await startSandbox({ port: 0, timeScale: 0.02 });
    dir = await workspace();
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    const block = codeBlocks(readme).find(
      (b) => b.lang === "ts" && b.code.includes("createSwitchyard"),
    );
    snippet = block!.code;
    // as a user's project has it: `switchyard` in node_modules
    await mkdir(join(dir, "node_modules"));
    await symlink(ROOT, join(dir, "node_modules/switchyard"));
    await writeFile(join(dir, "deploy.mjs"), snippet);
    const boot = await bash(
      "switchyard sandbox bootstrap web/prod --write-config switchyard.config.yaml",
      dir,
      { AWS_ENDPOINT_URL: sb.endpoint },
    );
    expect(boot.code, boot.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await sb?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const runSnippet = () =>
    bash(`"${process.execPath}" deploy.mjs`, dir, { AWS_ENDPOINT_URL: sb.endpoint });

  async function push(version: string, variant: "healthy" | "never-healthy", prefix = "web/prod") {
    const { PutObjectCommand, S3Client } = await import("@aws-sdk/client-s3");
    const s3 = new S3Client({
      endpoint: sb.endpoint,
      region: sb.region,
      forcePathStyle: true,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    await s3.send(
      new PutObjectCommand({
        Bucket: "releases",
        Key: `${prefix}/${version}.tar.gz`,
        Body: await buildSampleRelease({ version, variant }),
      }),
    );
    s3.destroy();
  }

  it("reports a swap that could not start (the result rejects): exit 2, the error, no stack trace", async () => {
    const run = await runSnippet();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "error RELEASE_NOT_FOUND: release s3://releases/web/prod/r42.tar.gz does not exist",
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it("reports a swap that was rolled back (ok: false): exit 4, the attempted release", async () => {
    await push("r42", "never-healthy");
    const config = parse(await readFile(join(dir, "switchyard.config.yaml"), "utf8"));
    config.services["web/prod"].healthyTimeout = "3s";
    await writeFile(join(dir, "switchyard.config.yaml"), stringify(config));
    const run = await runSnippet();
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toContain("s3://releases/web/prod/r42.tar.gz rolled back:");
    expect(run.stdout).toContain("swap.rolled-back");
  }, 60_000);

  it("swaps and exits 0 when the release is good", async () => {
    await push("r42", "healthy", "web/prod-good");
    const config = parse(await readFile(join(dir, "switchyard.config.yaml"), "utf8"));
    config.services["web/prod"].releases = "s3://releases/web/prod-good/";
    config.services["web/prod"].healthyTimeout = "1m";
    config.services["web/prod"].bake = "0s";
    await writeFile(join(dir, "switchyard.config.yaml"), stringify(config));
    const run = await runSnippet();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split("\n")).toContain("swap.completed");
  }, 60_000);
});
