import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  commandGate,
  commandGates,
  gateEnv,
  runGateCommand,
  SHOWN_LINES,
} from "../../../src/cli/gates.js";
import type { GateContext } from "../../../src/swap/swap.js";

function context(signal = new AbortController().signal): GateContext {
  return {
    service: "web/prod",
    group: "web-prod-v002",
    release: "s3://releases/web/prod/r2.tar.gz",
    weight: 25,
    step: 2,
    signal,
  };
}

/** A folder of its own for the output files of one test's gates. */
const outputDir = () => mkdtempSync(join(tmpdir(), "switchyard-gate-test-"));

describe("a gate command", () => {
  it("passes when it exits 0, and keeps no output file", async () => {
    const dir = outputDir();
    expect(await runGateCommand("echo all good", context(), { outputDir: dir })).toEqual({
      ok: true,
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it("sees the step in its environment", async () => {
    const check = [
      'test "$SWITCHYARD_SERVICE" = web/prod',
      'test "$SWITCHYARD_GROUP" = web-prod-v002',
      'test "$SWITCHYARD_RELEASE" = s3://releases/web/prod/r2.tar.gz',
      'test "$SWITCHYARD_WEIGHT" = 25',
      'test "$SWITCHYARD_STEP" = 2',
    ].join(" && ");
    expect(await runGateCommand(check, context())).toEqual({ ok: true });
    expect(gateEnv(context())).toEqual({
      SWITCHYARD_SERVICE: "web/prod",
      SWITCHYARD_GROUP: "web-prod-v002",
      SWITCHYARD_RELEASE: "s3://releases/web/prod/r2.tar.gz",
      SWITCHYARD_WEIGHT: "25",
      SWITCHYARD_STEP: "2",
    });
  });

  it("fails on a non-zero exit: the code, its last lines, and a file with all of it", async () => {
    const dir = outputDir();
    const outcome = await runGateCommand(
      'for i in $(seq 1 40); do echo "check $i ok"; done; echo "p99 latency 900ms > 500ms" >&2; exit 3',
      context(),
      { outputDir: dir },
    );
    expect(outcome.ok).toBe(false);
    const file = outcome.outputFile!;
    expect(readdirSync(dir)).toEqual([file.slice(dir.length + 1)]);
    expect(file).toMatch(/web-prod-v002-step2-.*\.log$/);
    expect(outcome.message).toBe(`exited with code 3 (all of its output: ${file})`);
    // shown: the last lines only; kept: every line, stdout and stderr
    const shown = outcome.output!.split("\n");
    expect(shown).toHaveLength(SHOWN_LINES);
    expect(shown.at(-1)).toBe("p99 latency 900ms > 500ms");
    expect(shown[0]).toBe("check 32 ok");
    const kept = readFileSync(file, "utf8").trim().split("\n");
    expect(kept).toHaveLength(41);
    expect(kept[0]).toBe("check 1 ok");
  });

  it("fails on a non-zero exit with no output: no file, no lines", async () => {
    const dir = outputDir();
    expect(await runGateCommand("exit 1", context(), { outputDir: dir })).toEqual({
      ok: false,
      message: "exited with code 1",
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it("fails when it runs past its timeout, and stops its children", async () => {
    const started = Date.now();
    const outcome = await runGateCommand("echo waiting >&2; sleep 30 & wait", context(), {
      timeoutMs: 200,
      outputDir: outputDir(),
    });
    expect(outcome).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^timed out after 200ms \(all of its output: .*\.log\)$/),
      output: "waiting",
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("fails as cancelled when the swap's signal aborts", async () => {
    const controller = new AbortController();
    const running = runGateCommand("sleep 30", context(controller.signal));
    setTimeout(() => controller.abort(), 50);
    expect(await running).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^cancelled/),
    });
  });

  it("fails when the command is not found", async () => {
    const outcome = await runGateCommand("./no-such-gate.sh", context(), {
      outputDir: outputDir(),
    });
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toMatch(/^exited with code 127 /);
    expect(outcome.output).toMatch(/no-such-gate\.sh/);
  });
});

describe("gates of a deploy", () => {
  it("are the config's then the flags', each command once, named by the command", async () => {
    const gates = commandGates(["./smoke.sh", "true"], ["true", "exit 1"]);
    expect(gates.map((g) => g.name)).toEqual(["./smoke.sh", "true", "exit 1"]);
    expect(await commandGate("exit 1").check(context())).toEqual({
      ok: false,
      message: "exited with code 1",
    });
  });
});
