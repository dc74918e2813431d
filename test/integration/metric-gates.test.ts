/**
 * Metric gates in swaps: CloudWatch alarms read during each bake, and the judge comparing green
 * with blue on the load balancer's metrics at the end of each bake. One world, scenarios in
 * order, at time scale 0.01 (a metric period is 0.6 s, the publishing lag 0.6 s).
 */
import { DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { PutMetricAlarmCommand } from "@aws-sdk/client-cloudwatch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitCodeOf } from "../../src/core/errors.js";
import type { SwitchyardEvent } from "../../src/core/events.js";
import { type Load, startLoad } from "../helpers/load.js";
import { listenerWeights, SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";

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
        analysis: { minRequests: 200, maxExtension: "1s" },
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
      /^green 5xx 0 % \(0\/\d+\) vs blue 0 % \(0\/\d+\), p = 1\.000: pass$/,
    );
    expect(verdicts[0]?.figures?.green.requests).toBeGreaterThanOrEqual(200);
    const baked = world.events.slice(from).find((e) => e.type === "step.baked" && e.step === 1);
    expect(baked && "verdicts" in baked ? baked.verdicts?.[0]?.result : undefined).toBe("pass");
  }, 60_000);

  it("a flaky green (5 % of requests fail) is caught by the judge and rolled back (exit 4)", async () => {
    const from = world.events.length;
    const result = await world.yard.deploy(SERVICE, { release: "flaky" }).result;
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
  }, 30_000);

  it("no traffic: too little data fails by default, and passes with onInsufficientData: pass", async () => {
    await load.stop();
    // the last requests' periods are published before the quiet swap begins
    await new Promise((r) => setTimeout(r, 3 * 60 * SCALE * 1000));
    const quiet = await world.yard.deploy(SERVICE, { release: "r3" }).result;
    expect(quiet.error?.code).toBe("ANALYSIS_FAILED");
    expect(quiet.error?.message).toMatch(
      /too little traffic to judge green at 50% \(onInsufficientData: fail\)/,
    );
    expect(exitCodeOf(quiet.error)).toBe(4);

    const service = world.config.services[SERVICE]!;
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
