import { describe, expect, it } from "vitest";
import { commandGate, commandGates, gateEnv, runGateCommand } from "../../../src/cli/gates.js";
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

describe("a gate command", () => {
  it("passes when it exits 0", async () => {
    expect(await runGateCommand("true", context())).toEqual({ ok: true });
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

  it("fails on a non-zero exit with the code and the last line of its stderr", async () => {
    const outcome = await runGateCommand(
      'echo checking >&2; echo "p99 latency 900ms > 500ms" >&2; echo ignored; exit 3',
      context(),
    );
    expect(outcome).toEqual({
      ok: false,
      message: "exited with code 3: p99 latency 900ms > 500ms",
    });
  });

  it("falls back to the last line of stdout when stderr is empty", async () => {
    expect(await runGateCommand("echo 'smoke: 2 of 10 failed'; exit 1", context())).toEqual({
      ok: false,
      message: "exited with code 1: smoke: 2 of 10 failed",
    });
  });

  it("fails when it runs past its timeout, and stops its children", async () => {
    const started = Date.now();
    const outcome = await runGateCommand("echo waiting >&2; sleep 30 & wait", context(), {
      timeoutMs: 200,
    });
    expect(outcome).toEqual({ ok: false, message: "timed out after 200ms: waiting" });
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
    const outcome = await runGateCommand("./no-such-gate.sh", context());
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toMatch(/^exited with code 127: .*no-such-gate\.sh/);
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
