import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommanderError } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configTemplate } from "../../../src/cli/commands/init.js";
import { statusJson } from "../../../src/cli/commands/status.js";
import { quietOnClosedPipe } from "../../../src/cli/io.js";
import { createProgram, formatUsageError, usageErrorMessage } from "../../../src/cli/program.js";
import { runCli } from "../../../src/cli/run.js";
import { checkConfig } from "../../../src/core/config.js";
import type { ServiceStatus } from "../../../src/swap/status.js";
import { memoryIo } from "./helpers.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchyard-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[], options: { cwd?: string } = {}) {
  const m = memoryIo({ cwd: options.cwd ?? dir });
  const code = await runCli(argv, m.io);
  return { code, stdout: m.stdout.text(), stderr: m.stderr.text() };
}

describe("createProgram", () => {
  it("builds a fresh program whose usage errors throw instead of exiting", async () => {
    const m = memoryIo();
    const program = createProgram(m.io);
    await expect(program.parseAsync(["nope"], { from: "user" })).rejects.toBeInstanceOf(
      CommanderError,
    );
    expect(m.stderr.text()).toBe("error INVALID_INPUT: unknown command 'nope'\n");
  });

  it("has the contract's global options", () => {
    const program = createProgram(memoryIo().io);
    const flags = program.options.map((o) => o.flags);
    for (const flag of [
      "-c, --config <file>",
      "--region <region>",
      "--profile <profile>",
      "--endpoint-url <url>",
      "--json",
      "-y, --yes",
      "-q, --quiet",
      "-v, --verbose",
      "--no-color",
    ]) {
      expect(flags).toContain(flag);
    }
  });

  it("hides --poll-interval from help but accepts it", () => {
    const program = createProgram(memoryIo().io);
    const deploy = program.commands.find((c) => c.name() === "deploy")!;
    expect(deploy.helpInformation()).not.toContain("poll-interval");
    expect(deploy.options.some((o) => o.long === "--poll-interval")).toBe(true);
  });
});

describe("argument errors exit 2 and name what is wrong", () => {
  it("steps that do not increase to 100", async () => {
    const r = await run(["deploy", "web/prod", "--release", "r1", "--steps", "50,20,100"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^error INVALID_INPUT: steps must increase and end at 100; got 50,20,100/,
    );
    expect(r.stderr).toContain("hint: pass e.g. --steps 5,25,50,100");
  });

  it("steps that are not numbers", async () => {
    const r = await run(["deploy", "web/prod", "--release", "r1", "--steps", "5,half,100"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "error INVALID_INPUT: option '--steps <list>' argument '5,half,100' is invalid",
    );
    expect(r.stderr).toContain("steps must be whole percents");
  });

  it("a bad duration names the flag", async () => {
    const r = await run(["deploy", "web/prod", "--release", "r1", "--bake", "soon"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '--bake <duration>' argument 'soon' is invalid");
  });

  it("an unknown command, with a suggestion", async () => {
    const r = await run(["deplyo"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error INVALID_INPUT: unknown command 'deplyo' (did you mean deploy?)\n");
  });

  it("an unknown option", async () => {
    const r = await run(["status", "--colour"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error INVALID_INPUT: unknown option '--colour'");
  });

  it("an unknown option is named, with the nearest known one, before a required option is missed", async () => {
    const r = await run(["deploy", "web/x", "--relase", "r2"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "error INVALID_INPUT: unknown option '--relase' (did you mean --release?)\n",
    );
  });

  it("an unknown option's suggestion is in the --json result's message too", async () => {
    const r = await run(["deploy", "web/x", "--json", "--relase", "r2"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({
      type: "result",
      ok: false,
      error: {
        code: "INVALID_INPUT",
        message: "unknown option '--relase' (did you mean --release?)",
      },
    });
  });

  it("a global option misspelt after a command is suggested too", async () => {
    const r = await run(["status", "--endpoint-ur", "http://127.0.0.1:4566"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "error INVALID_INPUT: unknown option '--endpoint-ur' (did you mean --endpoint-url?)",
    );
  });

  it("a missing --release", async () => {
    const r = await run(["deploy", "web/prod"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '--release <url|version>' not specified");
  });

  it("unlock without --force", async () => {
    const r = await run(["unlock", "web/prod"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error INVALID_INPUT: unlock web\/prod needs --force/);
  });

  it("with --json, a deploy's usage error is also the result object on stdout", async () => {
    const r = await run(["deploy", "web/prod", "--json", "--release", "r1", "--steps", "x"]);
    expect(r.code).toBe(2);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ type: "result", ok: false, error: { code: "INVALID_INPUT" } });
  });
});

describe("help and version", () => {
  it("--help prints the commands on stdout and exits 0", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    for (const command of [
      "sandbox",
      "demo",
      "init",
      "release",
      "deploy",
      "status",
      "rollback",
      "resume",
      "retire",
      "unlock",
      "iam-policy",
    ]) {
      expect(r.stdout).toContain(command);
    }
  });

  it("--version prints the package version", async () => {
    const pkg = JSON.parse(
      await readFile(new URL("../../../package.json", import.meta.url), "utf8"),
    ) as {
      version: string;
    };
    const r = await run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it("no command prints help and exits 2", async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: switchyard");
  });
});

describe("the config file", () => {
  it("a missing one is CONFIG_NOT_FOUND, exit 2, with a hint", async () => {
    const r = await run(["status"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error CONFIG_NOT_FOUND: no config file in /);
    expect(r.stderr).toContain("hint: run `switchyard init`");
  });

  it("with --json a deploy also prints the failed result object, without the hint", async () => {
    const r = await run(["deploy", "web/prod", "--release", "r1", "--json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain("hint:");
    expect(JSON.parse(r.stdout)).toMatchObject({
      type: "result",
      ok: false,
      service: "web/prod",
      live: null,
      standby: null,
      release: null,
      error: { code: "CONFIG_NOT_FOUND" },
    });
  });

  it("an unknown service is UNKNOWN_SERVICE, exit 2, before any AWS call", async () => {
    const cwd = await mkdtemp(join(dir, "unknown-"));
    await writeFile(join(cwd, "switchyard.config.yaml"), configTemplate("web/prod"));
    const r = await run(["deploy", "api/prod", "--release", "r1"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      // after the first line (what the deploy checks), before any AWS call
      /^\d\d:\d\d:\d\d api\/prod: checking release r1, the listener and the groups\nerror UNKNOWN_SERVICE: unknown service "api\/prod"; the config has web\/prod/,
    );
  });
});

describe("--json on error: exactly one result object on stdout", () => {
  function onlyObject(stdout: string): Record<string, unknown> {
    const lines = stdout.split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(1);
    return JSON.parse(lines[0] ?? "") as Record<string, unknown>;
  }

  it.each([
    [
      "status with no config file",
      ["status", "web/prod", "--json"],
      "CONFIG_NOT_FOUND",
      "web/prod",
    ],
    ["status of every service with no config file", ["status", "--json"], "CONFIG_NOT_FOUND", null],
    ["status --wait without a service", ["status", "--wait", "--json"], "INVALID_INPUT", null],
    ["status with an unknown option", ["status", "--json", "--colour"], "INVALID_INPUT", null],
    [
      "retire with no config file",
      ["retire", "web/prod", "--json"],
      "CONFIG_NOT_FOUND",
      "web/prod",
    ],
    ["retire without services", ["retire", "--json"], "INVALID_INPUT", null],
    ["cycle with no config file", ["cycle", "web/prod", "--json"], "CONFIG_NOT_FOUND", "web/prod"],
    ["adopt without --group", ["adopt", "web/prod", "--json"], "INVALID_INPUT", null],
    [
      "promote with no config file",
      ["promote", "web/prod", "--json"],
      "CONFIG_NOT_FOUND",
      "web/prod",
    ],
    ["abort with a typo", ["abort", "web/prod", "--jsno", "--json"], "INVALID_INPUT", null],
    ["unlock without --force", ["unlock", "web/prod", "--json"], "INVALID_INPUT", "web/prod"],
    ["release push without --version", ["release", "push", "dir", "--json"], "INVALID_INPUT", null],
    [
      "retire with a bad --keep",
      ["retire", "--all", "--keep", "many", "--json"],
      "INVALID_INPUT",
      null,
    ],
  ])("%s", async (_name, argv, code, service) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error ${code}: `);
    const result = onlyObject(r.stdout);
    expect(result).toMatchObject({ type: "result", ok: false, service, error: { code } });
    // the documented shape: a code, a message, and the facts behind it when there are any
    const { details, ...rest } = result.error as { details?: unknown };
    expect(Object.keys(rest)).toEqual(["code", "message"]);
    if (details !== undefined) expect(typeof details).toBe("object");
  });

  it("without --json, stdout stays empty", async () => {
    const r = await run(["status", "web/prod"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
  });
});

describe("a health check matcher AWS would refuse", () => {
  it.each([
    ["600", `"600" is not a valid HTTP code; use codes 200-499, e.g. "200" or "200-299"`],
    ["200-100", `"200-100" has the range 200-100, whose first code is above its last`],
  ])(
    "deploy --dry-run with matcher %s is CONFIG_INVALID, exit 2, naming the field",
    async (matcher, message) => {
      const cwd = await mkdtemp(join(dir, "matcher-"));
      const config = configTemplate("web/prod").replace('matcher: "200"', `matcher: "${matcher}"`);
      expect(config).toContain(`matcher: "${matcher}"`);
      await writeFile(join(cwd, "switchyard.config.yaml"), config);
      const r = await run(["deploy", "web/prod", "--release", "r1", "--dry-run"], { cwd });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^(\d\d:\d\d:\d\d .*\n)?error CONFIG_INVALID: /);
      expect(r.stderr).toContain(`services."web/prod".targetGroup.healthCheck.matcher: ${message}`);
    },
  );
});

describe("init", () => {
  it("writes a commented config that validates, and refuses to overwrite it without --yes", async () => {
    const cwd = await mkdtemp(join(dir, "init-"));
    const first = await run(["init", "--service", "shop/staging"], { cwd });
    expect(first.code).toBe(0);
    const text = await readFile(join(cwd, "switchyard.config.yaml"), "utf8");
    expect(text).toContain("# ");
    const { parse } = await import("yaml");
    const check = checkConfig(parse(text));
    expect(check.ok).toBe(true);
    expect(Object.keys(check.ok ? check.config.services : {})).toEqual(["shop/staging"]);

    const again = await run(["init"], { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /^error INVALID_INPUT: .*switchyard\.config\.yaml already exists\nhint: pass --yes to overwrite it\n$/,
    );

    const forced = await run(["init", "--yes"], { cwd });
    expect(forced.code).toBe(0);
  });
});

describe("status --json", () => {
  it("keeps exactly the contract's fields", () => {
    const status: ServiceStatus = {
      service: "web/prod",
      groups: [
        {
          name: "web-prod-v002",
          role: "live",
          release: "s3://releases/web/prod/r2.tar.gz",
          sequence: 2,
          createdAt: "2026-01-01T00:00:00.000Z",
          capacity: { min: 2, max: 6, desired: 2 },
          instances: { inService: 2, healthy: 2 },
          weight: 100,
          suspendedProcesses: [],
          targetGroupArn:
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-prod-v002/1",
          deleting: false,
        },
      ],
      swap: null,
      warnings: ["something"],
    };
    const json = statusJson(status);
    expect(Object.keys(json)).toEqual(["service", "groups", "swap"]);
    expect(Object.keys(json.groups[0]!)).toEqual([
      "name",
      "role",
      "release",
      "sequence",
      "createdAt",
      "capacity",
      "instances",
      "weight",
      "suspendedProcesses",
    ]);
  });
});

describe("formatUsageError", () => {
  it("turns commander's messages into switchyard's error form", () => {
    expect(formatUsageError("error: missing required argument 'service'\n")).toBe(
      "error INVALID_INPUT: missing required argument 'service'\n",
    );
  });

  it("keeps commander's suggestion on the error line", () => {
    expect(formatUsageError("error: unknown option '--relase'\n(Did you mean --release?)\n")).toBe(
      "error INVALID_INPUT: unknown option '--relase' (did you mean --release?)\n",
    );
    expect(usageErrorMessage("error: unknown command 'deplyo'\n(Did you mean deploy?)")).toBe(
      "unknown command 'deplyo' (did you mean deploy?)",
    );
  });
});

describe("quietOnClosedPipe", () => {
  it("swallows EPIPE once, calls back, and makes later writes no-ops", () => {
    const m = memoryIo();
    let closed = 0;
    quietOnClosedPipe(m.io.stdout, () => closed++);
    const epipe = Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
    m.io.stdout.emit("error", epipe);
    m.io.stdout.emit("error", epipe);
    expect(closed).toBe(1);
    expect(m.io.stdout.write("after\n")).toBe(true);
    expect(m.stdout.text()).toBe("");
  });

  it("throws any other stream error", () => {
    const m = memoryIo();
    quietOnClosedPipe(m.io.stdout);
    const other = Object.assign(new Error("write EIO"), { code: "EIO" });
    expect(() => m.io.stdout.emit("error", other)).toThrow("EIO");
  });
});
