import { Command } from "commander";
import { describe, expect, it } from "vitest";
import {
  describeReleases,
  formatBytes,
  formatCreated,
  releaseMarks,
  routeReleaseVersionFlag,
  shortSha,
  uploadProgressText,
} from "../../../src/cli/commands/release.js";
import { describeRetire, retireJson } from "../../../src/cli/commands/retire.js";
import { createProgram } from "../../../src/cli/program.js";
import { runCli } from "../../../src/cli/run.js";
import type { ReleaseInfo } from "../../../src/release/list.js";
import type { RetireReport } from "../../../src/retire/retire.js";
import { memoryIo } from "./helpers.js";

async function run(argv: string[]) {
  const m = memoryIo();
  const code = await runCli(argv, m.io);
  return { code, stdout: m.stdout.text(), stderr: m.stderr.text() };
}

/** Parses with a fresh program whose actions only record their arguments and options. */
async function parse(argv: string[]) {
  const m = memoryIo();
  const program = createProgram(m.io);
  let ran: { path: string; args: unknown[]; options: Record<string, unknown> } | undefined;
  const stub = (cmd: Command, path: string) => {
    cmd.action((...args: unknown[]) => {
      ran = { path, args: args.slice(0, -2), options: cmd.opts() };
    });
    for (const sub of cmd.commands) stub(sub, `${path} ${sub.name()}`);
  };
  for (const cmd of program.commands) stub(cmd, cmd.name());
  await program.parseAsync(argv, { from: "user" });
  return { ran, globals: program.opts(), stdout: m.stdout.text() };
}

describe("release formatting", () => {
  it("formatBytes uses binary units with one decimal", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(8 * 1024 * 1024)).toBe("8.0 MiB");
    expect(formatBytes(3 * 1024 ** 3)).toBe("3.0 GiB");
  });

  it("uploadProgressText gives a whole percent, never above 100", () => {
    expect(uploadProgressText("r42", { loaded: 0, total: 2048 })).toBe(
      "uploading r42: 0% (0 B of 2.0 KiB)",
    );
    expect(uploadProgressText("r42", { loaded: 1023, total: 2048 })).toBe(
      "uploading r42: 49% (1023 B of 2.0 KiB)",
    );
    expect(uploadProgressText("r42", { loaded: 0, total: 0 })).toBe(
      "uploading r42: 100% (0 B of 0 B)",
    );
  });

  it("shortSha, formatCreated and releaseMarks", () => {
    expect(shortSha("9f2c".padEnd(64, "0"))).toBe("9f2c00000000");
    expect(shortSha(null)).toBe("-");
    expect(formatCreated("2026-03-04T05:06:07.000Z")).toBe("2026-03-04 05:06:07Z");
    expect(formatCreated("")).toBe("-");
    expect(releaseMarks({ live: true, standby: false })).toBe("live");
    expect(releaseMarks({ live: true, standby: true })).toBe("live, standby");
    expect(releaseMarks({ live: false, standby: false })).toBe("");
  });

  it("describeReleases is a table in the order given, marking live and standby", () => {
    const release = (version: string, marks: Partial<ReleaseInfo>): ReleaseInfo => ({
      version,
      url: `s3://releases/web/prod/${version}.tar.gz`,
      size: 2154,
      createdAt: "2026-03-04T05:06:07.000Z",
      lastModified: "2026-03-04T05:06:08.000Z",
      sha256: "ab".repeat(32),
      gitCommit: null,
      live: false,
      standby: false,
      ...marks,
    });
    expect(
      describeReleases([
        release("r10", { live: true }),
        release("r9", { standby: true, sha256: null }),
        release("r8", {}),
      ]),
    ).toEqual([
      "VERSION  CREATED               SIZE     SHA256",
      "r10      2026-03-04 05:06:07Z  2.1 KiB  abababababab  live",
      "r9       2026-03-04 05:06:07Z  2.1 KiB  -             standby",
      "r8       2026-03-04 05:06:07Z  2.1 KiB  abababababab",
    ]);
  });
});

describe("release push --version", () => {
  it("names the release, wherever it stands, with global options around it", async () => {
    for (const argv of [
      ["release", "push", "./build", "--service", "web/prod", "--version", "r42"],
      ["release", "push", "--version", "r42", "./build", "--service", "web/prod", "--json"],
      ["--json", "release", "push", "./build", "--version=r42", "--service", "web/prod"],
      ["-c", "x.yaml", "release", "push", "./build", "--service", "web/prod", "--version", "r42"],
    ]) {
      const { ran, stdout } = await parse(argv);
      expect(stdout, argv.join(" ")).toBe("");
      expect(ran?.path).toBe("release push");
      expect(ran?.args).toEqual(["./build"]);
      expect(ran?.options).toEqual({ service: "web/prod", version: "r42" });
    }
  });

  it("leaves the program's --version alone elsewhere", async () => {
    const r = await run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+/);
    const list = await run(["release", "list", "--service", "web/prod", "--version"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("routeReleaseVersionFlag keeps a `--` and what follows it for the command", async () => {
    const program = new Command("x").exitOverride().version("1.0.0");
    routeReleaseVersionFlag(program);
    let got: unknown[] = [];
    program
      .command("release")
      .command("push")
      .argument("[rest...]")
      .option("--version <v>")
      .action((rest: string[], flags: Record<string, unknown>) => {
        got = [rest, flags];
      });
    await program.parseAsync(["release", "push", "--version", "r1", "--", "--version"], {
      from: "user",
    });
    expect(got).toEqual([["--version"], { version: "r1" }]);
  });

  it("push without --version or --service is a usage error (exit 2)", async () => {
    const r = await run(["release", "push", "./build", "--service", "web/prod"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error INVALID_INPUT: required option '--version <version>'");
  });
});

describe("retire output", () => {
  const report = (r: Partial<RetireReport>): RetireReport => ({
    dryRun: false,
    deleted: [],
    kept: [],
    skipped: [],
    failed: false,
    orphans: [],
    ...r,
  });

  it("one line per deleted group, then kept and skipped", () => {
    expect(
      describeRetire(
        report({
          deleted: ["web-prod-v003", "web-prod-v002"],
          kept: ["web-prod-v005", "web-prod-v004"],
          skipped: [{ name: "api-prod-v007", reason: "swap in flight: swap ab12 by ops@ci" }],
        }),
      ),
    ).toEqual([
      "deleted web-prod-v003",
      "deleted web-prod-v002",
      "kept 2: web-prod-v005, web-prod-v004",
      "skipped api-prod-v007: swap in flight: swap ab12 by ops@ci",
    ]);
  });

  it("a dry run says would delete, and that nothing was deleted", () => {
    expect(
      describeRetire(report({ dryRun: true, deleted: ["a-b-v001"], kept: ["a-b-v002"] })),
    ).toEqual(["would delete a-b-v001", "kept 1: a-b-v002", "dry run: nothing was deleted"]);
  });

  it("quiet: only the deletions; nothing at all when there is nothing to do", () => {
    const r = report({ deleted: ["a-b-v001"], kept: ["a-b-v002"] });
    expect(describeRetire(r, { quiet: true })).toEqual(["deleted a-b-v001"]);
    expect(describeRetire(report({ kept: ["a-b-v002"] }), { quiet: true })).toEqual([]);
    expect(describeRetire(report({ kept: ["a-b-v002"] }))).toEqual(["nothing to retire"]);
  });

  it("a failure is never 'nothing to retire'", () => {
    const r = report({
      skipped: [{ name: "a/b", reason: "could not read the state of a/b: boom" }],
      failed: true,
    });
    expect(describeRetire(r)).toEqual(["skipped a/b: could not read the state of a/b: boom"]);
  });

  it("orphaned parts count as work: listed, and never 'nothing to retire'", () => {
    const r = report({
      dryRun: true,
      orphans: [
        { name: "web-prod-v001", kind: "target-group" },
        { name: "switchyard-web-prod-v001", kind: "launch-template" },
      ],
    });
    expect(describeRetire(r)).toEqual([
      "would delete orphaned target group web-prod-v001",
      "would delete orphaned launch template switchyard-web-prod-v001",
      "dry run: nothing was deleted",
    ]);
  });

  it("retireJson is the contract's report plus failed and orphans, in that order", () => {
    const json = retireJson(
      report({ deleted: ["x"], skipped: [{ name: "y", reason: "z" }], failed: true }),
    );
    expect(JSON.stringify(json)).toBe(
      '{"dryRun":false,"deleted":["x"],"kept":[],"skipped":[{"name":"y","reason":"z"}],"failed":true,"orphans":[]}',
    );
  });
});

describe("retire arguments", () => {
  it("no service and no --all exits 2 before reading any config", async () => {
    const r = await run(["retire"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^error INVALID_INPUT: retire needs services: name them or pass --all\n/,
    );
    expect(r.stdout).toBe("");
  });

  it("services and --all together exit 2", async () => {
    const r = await run(["retire", "web/prod", "--all"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not both");
  });

  it("bad --keep and --min-age values name the flag", async () => {
    const keep = await run(["retire", "--all", "--keep", "-1"]);
    expect(keep.code).toBe(2);
    expect(keep.stderr).toContain("--keep <n>");
    const minAge = await run(["retire", "--all", "--min-age", "soon"]);
    expect(minAge.code).toBe(2);
    expect(minAge.stderr).toContain("option '--min-age <duration>' argument 'soon' is invalid");
  });

  it("parses the contract's flags", async () => {
    const { ran } = await parse([
      "retire",
      "web/prod",
      "api/prod",
      "--keep",
      "2",
      "--min-age",
      "24h",
      "--dry-run",
    ]);
    expect(ran).toEqual({
      path: "retire",
      args: [["web/prod", "api/prod"]],
      options: { keep: 2, minAge: "24h", dryRun: true },
    });
  });
});
