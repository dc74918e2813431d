/**
 * Metric gates in swaps: CloudWatch alarms read during each bake, and the judge comparing green
 * with blue on the load balancer's metrics at the end of each bake. One world, scenarios in
 * order, at time scale 0.01 (a metric period is 0.6 s, the publishing lag 0.6 s).
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { PutMetricAlarmCommand } from "@aws-sdk/client-cloudwatch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run.js";
import { exitCodeOf } from "../../src/core/errors.js";
import type { SwitchyardEvent } from "../../src/core/events.js";
import { type Load, startLoad } from "../helpers/load.js";
import { listenerWeights, SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";
import { memoryIo } from "../unit/cli/helpers.js";

const SCALE = 0.01;

type Verdict = Extract<SwitchyardEvent, { type: "gate.verdict" }>;

describe("metric gates", () => {
  let world: SwapWorld;
  let load: Load;
  const verdictsSince = (from: number): Verdict[] =>
    world.events.slice(from).filter((e): e is Verdict => e.type === "gate.verdict");
  const groups = async () => {
    const out = await world.clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({}));
    return (out.AutoScalingGroups ?? []).map((g) => g.AutoScalingGroupName).sort();
  };

  beforeAll(async () => {
    world = await swapWorld({
      timeScale: SCALE,
      releases: [
        { version: "r1" },
        { version: "r2" },
        { version: "r3" },
        { version: "flaky", variant: "flaky", failRate: 0.05 },
      ],
      config: {
        steps: [50, 100],
        bake: 1.5,
        // the bake is extended (a period at a time) while a side has fewer than 200 requests:
        // enough for 5 % errors against none to be significant on a busy machine's traffic;
        // latency with a wide margin, as loopback's p99 jitters on a loaded machine
        analysis: {
          minRequests: 200,
          maxExtension: "5s",
          latency: { stat: "p99", maxRatio: 3, floor: "250ms" },
        },
        metrics: { period: 60 * SCALE, lag: 60 * SCALE * 1.5 },
      },
    });
    const first = await world.yard.deploy(SERVICE, { release: "r1" }).result;
    expect(first.ok).toBe(true);
    load = startLoad(world.listenerUrl(), { workers: 4, pauseMs: 1 });
  }, 60_000);
  afterAll(async () => {
    await load?.stop();
    await world?.stop();
  });

  it("A/A: a healthy green judged against blue passes, the 100% step says why it is not judged", async () => {
    const from = world.events.length;
    const result = await world.yard.deploy(SERVICE, { release: "r2" }).result;
    expect(result.error?.message).toBeUndefined();
    expect(result.ok).toBe(true);
    const verdicts = verdictsSince(from);
    expect(verdicts.map((v) => [v.step, v.gate, v.result])).toEqual([
      [1, "judge", "pass"],
      [2, "judge", "skipped"],
    ]);
    expect(verdicts[0]?.sentence).toMatch(
      /^green 5xx 0 % \(0\/\d+\) vs blue 0 % \(0\/\d+\), p = 1\.000: pass; green p99 \d+ ms vs blue p99 \d+ ms \(limit \d+ ms\): pass$/,
    );
    expect(verdicts[0]?.figures?.latency).toMatchObject({
      stat: "p99",
      green: expect.any(Number),
      blue: expect.any(Number),
    });
    expect(verdicts[0]?.figures?.green.requests).toBeGreaterThanOrEqual(200);
    const baked = world.events.slice(from).find((e) => e.type === "step.baked" && e.step === 1);
    expect(baked && "verdicts" in baked ? baked.verdicts?.[0]?.result : undefined).toBe("pass");
  }, 60_000);

  it("a flaky green (5 % of requests fail) is caught by the judge and rolled back (exit 4)", async () => {
    const from = world.events.length;
    const result = await world.yard.deploy(SERVICE, { release: "flaky", bakeMs: 2_500 }).result;
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe("ANALYSIS_FAILED");
    expect(exitCodeOf(result.error)).toBe(4);
    expect(result.error?.message).toMatch(
      /the judge failed green at 50%: green 5xx [\d.]+ % .*: fail/,
    );
    expect(result.live).toBe("web-test-v002");
    expect(await listenerWeights(world)).toEqual({ "web-test-v001": 0, "web-test-v002": 100 });
    const [verdict] = verdictsSince(from);
    expect(verdict).toMatchObject({ gate: "judge", result: "fail", step: 1 });
    expect(verdict?.figures?.green.rate).toBeGreaterThan(0.03);
    const rolled = world.events.slice(from).find((e) => e.type === "swap.rolled-back");
    expect(rolled && "details" in rolled ? rolled.details?.verdict?.sentence : "").toMatch(/fail/);
  }, 60_000);

  it("an alarm in ALARM during a bake rolls back with its name and reason (ALARM_FIRED)", async () => {
    await world.clients.cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: "web-test-5xx",
        Namespace: "AWS/ApplicationELB",
        MetricName: "HTTPCode_Target_5XX_Count",
        Dimensions: [{ Name: "LoadBalancer", Value: lbDimension(world.listenerArn) }],
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
        TreatMissingData: "notBreaching",
      }),
    );
    const from = world.events.length;
    const result = await world.yard.deploy(SERVICE, {
      release: "flaky",
      alarms: ["web-test-5xx"],
      bakeMs: 4_000,
    }).result;
    expect(result.error?.code).toBe("ALARM_FIRED");
    expect(exitCodeOf(result.error)).toBe(4);
    expect(result.error?.message).toMatch(/alarm web-test-5xx is in ALARM: Threshold Crossed/);
    expect(result.error?.details).toMatchObject({ alarm: { name: "web-test-5xx" } });
    expect(await listenerWeights(world)).toEqual({ "web-test-v001": 0, "web-test-v002": 100 });
    expect(verdictsSince(from)).toMatchObject([{ gate: "alarms", result: "fail" }]);
  }, 60_000);

  it("an alarm name that does not exist: PREFLIGHT_FAILED (exit 2), nothing changed", async () => {
    const before = await groups();
    const error = await world.yard
      .deploy(SERVICE, { release: "r3", alarms: ["no-such-alarm"] })
      .result.catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "PREFLIGHT_FAILED",
      message: expect.stringMatching(/no CloudWatch alarm is named no-such-alarm/),
    });
    expect(exitCodeOf(error)).toBe(2);
    expect(await groups()).toEqual(before);
    expect(await listenerWeights(world)).toEqual({ "web-test-v001": 0, "web-test-v002": 100 });

    // the same from the command line; --dry-run lists the gates that would run
    const dir = await mkdtemp(join(tmpdir(), "switchyard-gates-"));
    const saved = { ...process.env };
    try {
      await writeFile(join(dir, "switchyard.config.json"), JSON.stringify(world.config));
      process.env.AWS_ACCESS_KEY_ID = "test";
      process.env.AWS_SECRET_ACCESS_KEY = "test";
      const cli = async (argv: string[]) => {
        const m = memoryIo({ cwd: dir });
        const code = await runCli(["--endpoint-url", world.sandbox.endpoint, ...argv], m.io);
        return { code, stdout: m.stdout.text(), stderr: m.stderr.text() };
      };
      const missing = await cli(["deploy", SERVICE, "--release", "r3", "--alarm", "no-such-alarm"]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(
        /error PREFLIGHT_FAILED: .*no CloudWatch alarm is named no-such-alarm/,
      );
      const plan = await cli([
        "deploy",
        SERVICE,
        "--release",
        "r3",
        "--alarm",
        "web-test-5xx",
        "--dry-run",
      ]);
      expect(plan.code).toBe(0);
      expect(plan.stdout).toMatch(
        /^alarms +web-test-5xx \(read during every bake; ALARM rolls back\)$/m,
      );
      expect(plan.stdout).toMatch(
        /^analysis +green vs blue at each step below 100%: 5xx rate at most 0\.5 points/m,
      );
      expect(await groups()).toEqual(before);
    } finally {
      process.env = saved;
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("no traffic: too little data fails by default, and passes with onInsufficientData: pass", async () => {
    await load.stop();
    // the last requests' periods are published before the quiet swap begins
    await new Promise((r) => setTimeout(r, 3 * 60 * SCALE * 1000));
    const service = world.config.services[SERVICE]!;
    service.analysis = { ...service.analysis, maxExtension: "1s" };
    const quiet = await world.another().deploy(SERVICE, { release: "r3" }).result;
    expect(quiet.error?.code).toBe("ANALYSIS_FAILED");
    expect(quiet.error?.message).toMatch(
      /too little traffic to judge green at 50% \(onInsufficientData: fail\)/,
    );
    expect(exitCodeOf(quiet.error)).toBe(4);

    service.analysis = { ...service.analysis, onInsufficientData: "pass" };
    const lenient = world.another();
    const from = world.events.length;
    const passed = await lenient.deploy(SERVICE, { release: "r3" }).result;
    expect(passed.error?.message).toBeUndefined();
    expect(passed.ok).toBe(true);
    expect(verdictsSince(from)[0]).toMatchObject({ gate: "judge", result: "insufficient" });
    expect(verdictsSince(from)[0]?.sentence).toMatch(/insufficient.*onInsufficientData: pass/);
  }, 60_000);
});

function lbDimension(listenerArn: string): string {
  return listenerArn.split(":listener/")[1]!.split("/").slice(0, 3).join("/");
}
