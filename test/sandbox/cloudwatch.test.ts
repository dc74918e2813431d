/**
 * CloudWatch in the sandbox, through the real @aws-sdk/client-cloudwatch: the ALB's metrics are
 * the traffic the listener proxy really carried (exact counts per target group and period, after
 * the publishing lag), response-time statistics, host counts, metric math, and alarms that move
 * between states as their metric and `TreatMissingData` say.
 *
 * Time scale 0.02: an AWS minute (one period, the lag, one alarm evaluation) is 1.2 real seconds.
 */
import { CreateAutoScalingGroupCommand } from "@aws-sdk/client-auto-scaling";
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  ListMetricsCommand,
  type MetricDataQuery,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import { CreateLaunchTemplateCommand } from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSampleRelease } from "../../examples/sample-app/release.js";
import {
  createClients,
  describeAlarmStates,
  fetchTargetGroupMetrics,
} from "../../src/aws/index.js";
import { builtInUserData, encodeUserData } from "../../src/core/user-data.js";
import { BASE_IMAGE_ID, DEFAULT_VPC_ID } from "../../src/sandbox/index.js";
import { eventually, type SandboxClients, sandboxWithClients } from "../helpers/sandbox.js";

const SUBNETS = ["subnet-0sandbox0000000a", "subnet-0sandbox0000000b"];
const NS = "AWS/ApplicationELB";
const TIME_SCALE = 0.02;
const MINUTE_MS = 60_000 * TIME_SCALE;

describe("CloudWatch: ALB metrics and alarms, over the SDK only", () => {
  let env: SandboxClients;
  let cw: CloudWatchClient;
  let url: string;
  let emptyUrl: string;
  let lbDim: string;
  /** target group name → dimension value `targetgroup/<name>/<id>` */
  const tgDim: Record<string, string> = {};

  async function group(name: string) {
    const version = name;
    await env.s3.send(
      new PutObjectCommand({
        Bucket: "releases",
        Key: `web/${version}.tar.gz`,
        Body: await buildSampleRelease({ version }),
      }),
    );
    const userData = builtInUserData({
      releaseUrl: `s3://releases/web/${version}.tar.gz`,
      service: "web/cw",
      app: "web",
      env: "cw",
      group: name,
      version,
    });
    await env.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: name,
        LaunchTemplateData: {
          ImageId: BASE_IMAGE_ID,
          InstanceType: "t3.small",
          UserData: encodeUserData(userData),
        },
      }),
    );
    const arn = await targetGroup(name);
    await env.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchTemplate: { LaunchTemplateName: name, Version: "$Latest" },
        MinSize: 1,
        MaxSize: 1,
        DesiredCapacity: 1,
        VPCZoneIdentifier: SUBNETS.join(","),
        TargetGroupARNs: [arn],
      }),
    );
    return arn;
  }

  async function targetGroup(name: string) {
    const created = await env.elbv2.send(
      new CreateTargetGroupCommand({
        Name: name,
        Protocol: "HTTP",
        Port: 8080,
        VpcId: DEFAULT_VPC_ID,
        HealthCheckPath: "/health",
        HealthCheckIntervalSeconds: 10,
        HealthCheckTimeoutSeconds: 8,
        HealthyThresholdCount: 2,
      }),
    );
    const arn = created.TargetGroups![0]!.TargetGroupArn!;
    tgDim[name] = arn.slice(arn.indexOf(":targetgroup/") + 1);
    return arn;
  }

  /** Sends `n` GETs, four at a time; counts answers by target group name and status. */
  async function send(base: string, path: string, n: number) {
    const counts: Record<string, number> = {};
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        const res = await fetch(`${base}${path}`);
        await res.arrayBuffer();
        const key = `${res.headers.get("x-switchyard-target-group") ?? "-"} ${res.status}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return counts;
  }

  /** Waits until just after a period starts, so a short burst lands in one period; returns its start. */
  async function periodStart(): Promise<number> {
    const wait = MINUTE_MS - (Date.now() % MINUTE_MS) + 60;
    await new Promise((r) => setTimeout(r, wait));
    return Date.now() - (Date.now() % MINUTE_MS);
  }

  const stat = (
    id: string,
    metricName: string,
    statName: string,
    tg?: string,
    period = 60,
  ): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: NS,
        MetricName: metricName,
        Dimensions: [
          ...(tg ? [{ Name: "TargetGroup", Value: tgDim[tg]! }] : []),
          { Name: "LoadBalancer", Value: lbDim },
        ],
      },
      Period: period,
      Stat: statName,
    },
  });

  async function data(queries: MetricDataQuery[], startMs: number, endMs = Date.now()) {
    const out = await cw.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: new Date(startMs),
        EndTime: new Date(endMs),
        ScanBy: "TimestampAscending",
      }),
    );
    return Object.fromEntries(
      (out.MetricDataResults ?? []).map((r) => [
        r.Id!,
        (r.Timestamps ?? []).map((t, i) => ({ t: t.getTime(), v: r.Values![i]! })),
      ]),
    );
  }

  const alarmState = async (name: string) =>
    (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms?.[0];

  beforeAll(async () => {
    env = await sandboxWithClients({ timeScale: TIME_SCALE, metricLagSeconds: 60 });
    cw = new CloudWatchClient({
      endpoint: env.sandbox.endpoint,
      region: env.sandbox.region,
      credentials: { accessKeyId: "AKIDSANDBOX", secretAccessKey: "sandbox-secret" },
      maxAttempts: 1,
    });
    await env.s3.send(new CreateBucketCommand({ Bucket: "releases" }));
    const blue = await group("cw-blue");
    const green = await group("cw-green");
    const empty = await targetGroup("cw-empty");
    const lb = await env.elbv2.send(
      new CreateLoadBalancerCommand({ Name: "web-cw", Subnets: SUBNETS }),
    );
    const lbArn = lb.LoadBalancers![0]!.LoadBalancerArn!;
    lbDim = lbArn.slice(lbArn.indexOf(":loadbalancer/") + ":loadbalancer/".length);
    const listener = await env.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: lbArn,
        Protocol: "HTTP",
        Port: 80,
        DefaultActions: [
          {
            Type: "forward",
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: blue, Weight: 1 },
                { TargetGroupArn: green, Weight: 1 },
              ],
            },
          },
        ],
      }),
    );
    const emptyListener = await env.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: lbArn,
        Protocol: "HTTP",
        Port: 81,
        DefaultActions: [{ Type: "forward", TargetGroupArn: empty }],
      }),
    );
    for (const arn of [blue, green]) {
      await eventually(
        async () => {
          const out = await env.elbv2.send(
            new DescribeTargetHealthCommand({ TargetGroupArn: arn }),
          );
          const states = (out.TargetHealthDescriptions ?? []).map((d) => d.TargetHealth?.State);
          return states.length === 1 && states[0] === "healthy";
        },
        { what: "targets healthy", timeoutMs: 20_000 },
      );
    }
    url = env.sandbox.listenerUrl(listener.Listeners![0]!.ListenerArn!)!;
    emptyUrl = env.sandbox.listenerUrl(emptyListener.Listeners![0]!.ListenerArn!)!;
  });

  afterAll(async () => {
    cw?.destroy();
    await env?.stop();
  });

  it("counts every request per target group and period, exactly, once the lag has passed", async () => {
    const first = await periodStart();
    const a = {
      ...(await send(url, "/", 30)),
      ...(await send(url, "/status?code=503", 10)),
    };
    const second = await periodStart();
    const b = await send(url, "/status?code=404", 12);
    // nothing is published before its minute has ended and the lag has passed
    const early = await data([stat("r", "RequestCount", "Sum", "cw-blue")], first);
    expect(early.r).toEqual([]);
    await new Promise((r) => setTimeout(r, 2 * MINUTE_MS + 200));

    const got = await data(
      ["cw-blue", "cw-green"].flatMap((tg, i) => [
        stat(`req${i}`, "RequestCount", "Sum", tg),
        stat(`ok${i}`, "HTTPCode_Target_2XX_Count", "Sum", tg),
        stat(`client${i}`, "HTTPCode_Target_4XX_Count", "Sum", tg),
        stat(`server${i}`, "HTTPCode_Target_5XX_Count", "Sum", tg),
      ]),
      first,
      second + MINUTE_MS,
    );
    for (const [i, tg] of ["cw-blue", "cw-green"].entries()) {
      const n = (counts: Record<string, number>, status: number) => counts[`${tg} ${status}`] ?? 0;
      const expected = (pick: (c: Record<string, number>) => number) =>
        [
          { t: first, v: pick(a) },
          { t: second, v: pick(b) },
        ].filter((p) => p.v > 0);
      expect(got[`req${i}`]).toEqual(expected((c) => n(c, 200) + n(c, 503) + n(c, 404)));
      expect(got[`ok${i}`]).toEqual(expected((c) => n(c, 200)));
      expect(got[`server${i}`]).toEqual(expected((c) => n(c, 503)));
      // counts are absent, not zero, in a period without any
      expect(got[`client${i}`]).toEqual(expected((c) => n(c, 404)));
    }
    // the load balancer as a whole
    const whole = await data([stat("all", "RequestCount", "Sum")], first, second + MINUTE_MS);
    expect(whole.all).toEqual([
      { t: first, v: 40 },
      { t: second, v: 12 },
    ]);
    // a two-minute period adds them up
    const both = await data(
      [stat("all", "RequestCount", "Sum", undefined, 120)],
      first,
      second + MINUTE_MS,
    );
    expect(both.all!.reduce((s, p) => s + p.v, 0)).toBe(52);
  });

  it("computes metric math on other queries: a 5xx rate per target group", async () => {
    const first = await periodStart();
    const failed = await send(url, "/status?code=500", 8);
    const served = await send(url, "/", 24);
    await new Promise((r) => setTimeout(r, 2 * MINUTE_MS + 200));
    const got = await data(
      [
        { ...stat("e", "HTTPCode_Target_5XX_Count", "Sum", "cw-green"), ReturnData: false },
        { ...stat("r", "RequestCount", "Sum", "cw-green"), ReturnData: false },
        { Id: "rate", Expression: "100*FILL(e,0)/r" },
        { Id: "flag", Expression: "IF(e > 100, 1, 0)" },
      ],
      first,
      first + MINUTE_MS,
    );
    const errors = failed["cw-green 500"] ?? 0;
    const requests = errors + (served["cw-green 200"] ?? 0);
    expect(got.rate).toEqual([{ t: first, v: (100 * errors) / requests }]);
    expect(got.flag).toEqual(errors > 0 ? [{ t: first, v: 0 }] : []);
  });

  it("reports TargetResponseTime in seconds with averages and percentiles", async () => {
    const first = await periodStart();
    await send(url, "/slow?ms=150", 12);
    await new Promise((r) => setTimeout(r, 2 * MINUTE_MS + 200));
    const got = await data(
      [
        stat("avg", "TargetResponseTime", "Average", "cw-blue"),
        stat("p99", "TargetResponseTime", "p99", "cw-blue"),
        stat("min", "TargetResponseTime", "Minimum", "cw-blue"),
      ],
      first,
      first + MINUTE_MS,
    );
    // tolerance: the proxy's own overhead on a busy machine, at most 0.2 s here
    for (const id of ["avg", "p99", "min"]) {
      expect(got[id]).toHaveLength(1);
      expect(got[id]![0]!.v).toBeGreaterThanOrEqual(0.15);
      expect(got[id]![0]!.v).toBeLessThan(0.35);
    }
    expect(got.p99![0]!.v).toBeGreaterThanOrEqual(got.avg![0]!.v);
  });

  it("counts the load balancer's own 5xx answers and samples host counts", async () => {
    const first = await periodStart();
    const answered = await send(emptyUrl, "/", 3);
    expect(answered).toEqual({ "cw-empty 503": 3 });
    await new Promise((r) => setTimeout(r, 2 * MINUTE_MS + 200));
    const got = await data(
      [
        stat("elb", "HTTPCode_ELB_5XX_Count", "Sum"),
        stat("healthy", "HealthyHostCount", "Maximum", "cw-green"),
        stat("unhealthy", "UnHealthyHostCount", "Maximum", "cw-green"),
      ],
      first,
      first + MINUTE_MS,
    );
    expect(got.elb).toEqual([{ t: first, v: 3 }]);
    expect(got.healthy).toEqual([{ t: first, v: 1 }]);
    expect(got.unhealthy).toEqual([{ t: first, v: 0 }]);
    const listed = await cw.send(
      new ListMetricsCommand({
        Namespace: NS,
        MetricName: "RequestCount",
        Dimensions: [{ Name: "TargetGroup" }],
      }),
    );
    expect(
      (listed.Metrics ?? [])
        .map((m) => m.Dimensions?.find((d) => d.Name === "TargetGroup")?.Value)
        .sort(),
    ).toEqual([tgDim["cw-blue"], tgDim["cw-green"]].sort());
  });

  it("an alarm on HTTPCode_Target_5XX_Count goes to ALARM and back, missing data as configured", async () => {
    const common = {
      Namespace: NS,
      MetricName: "HTTPCode_Target_5XX_Count",
      Dimensions: [
        { Name: "TargetGroup", Value: tgDim["cw-blue"]! },
        { Name: "LoadBalancer", Value: lbDim },
      ],
      Statistic: "Sum" as const,
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold" as const,
    };
    await cw.send(
      new PutMetricAlarmCommand({
        ...common,
        AlarmName: "blue-5xx",
        TreatMissingData: "notBreaching",
      }),
    );
    await cw.send(new PutMetricAlarmCommand({ ...common, AlarmName: "blue-5xx-missing" }));
    const created = await alarmState("blue-5xx");
    expect(created?.StateValue).toBe("INSUFFICIENT_DATA");
    expect(created?.StateReason).toBe("Unchecked: Initial alarm creation");
    await eventually(async () => (await alarmState("blue-5xx"))?.StateValue === "OK", {
      what: "blue-5xx OK on missing data treated as not breaching",
      timeoutMs: 10_000,
    });

    await periodStart();
    await send(url, "/status?code=500", 10);
    const alarmed = await eventually(
      async () => {
        const a = await alarmState("blue-5xx");
        return a?.StateValue === "ALARM" ? a : undefined;
      },
      { what: "blue-5xx in ALARM", timeoutMs: 15_000 },
    );
    expect(alarmed.StateReason).toMatch(
      /^Threshold Crossed: 1 out of the last 1 datapoints \[\d+\.0 \(.+\)\] was greater than the threshold \(0\.0\)/,
    );
    expect(JSON.parse(alarmed.StateReasonData!).threshold).toBe(0);
    await eventually(async () => (await alarmState("blue-5xx-missing"))?.StateValue === "ALARM", {
      what: "blue-5xx-missing in ALARM",
      timeoutMs: 10_000,
    });
    // no more errors: the periods after are missing
    await eventually(async () => (await alarmState("blue-5xx"))?.StateValue === "OK", {
      what: "blue-5xx back to OK",
      timeoutMs: 15_000,
    });
    const missing = await eventually(
      async () => {
        const a = await alarmState("blue-5xx-missing");
        return a?.StateValue === "INSUFFICIENT_DATA" ? a : undefined;
      },
      { what: "blue-5xx-missing INSUFFICIENT_DATA", timeoutMs: 15_000 },
    );
    expect(missing.StateReason).toBe("Insufficient Data: 1 datapoint was unknown.");
  });

  it("keeps, lists, sets and deletes alarms as the API says", async () => {
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: "p99-latency",
        Namespace: NS,
        MetricName: "TargetResponseTime",
        Dimensions: [{ Name: "LoadBalancer", Value: lbDim }],
        ExtendedStatistic: "p99",
        Period: 60,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        Threshold: 1.5,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        TreatMissingData: "ignore",
      }),
    );
    const got = await alarmState("p99-latency");
    expect(got).toMatchObject({
      AlarmArn: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:p99-latency",
      ExtendedStatistic: "p99",
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Threshold: 1.5,
      TreatMissingData: "ignore",
    });
    expect(got?.AlarmConfigurationUpdatedTimestamp).toBeInstanceOf(Date);

    await cw.send(
      new SetAlarmStateCommand({
        AlarmName: "p99-latency",
        StateValue: "ALARM",
        StateReason: "testing",
      }),
    );
    expect((await alarmState("p99-latency"))?.StateValue).toBe("ALARM");
    const inAlarm = await cw.send(new DescribeAlarmsCommand({ StateValue: "ALARM" }));
    expect(inAlarm.MetricAlarms?.map((a) => a.AlarmName)).toContain("p99-latency");
    const paged = await cw.send(new DescribeAlarmsCommand({ MaxRecords: 1 }));
    expect(paged.MetricAlarms).toHaveLength(1);
    expect(paged.NextToken).toBeDefined();

    await expect(
      cw.send(new SetAlarmStateCommand({ AlarmName: "nope", StateValue: "OK", StateReason: "x" })),
    ).rejects.toMatchObject({ name: "ResourceNotFound" });
    await expect(
      cw.send(
        new PutMetricAlarmCommand({
          AlarmName: "bad",
          Namespace: NS,
          MetricName: "RequestCount",
          Statistic: "Sum",
          Period: 45,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: "GreaterThanThreshold",
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidParameterValueException" });
    await expect(
      cw.send(new DeleteAlarmsCommand({ AlarmNames: ["p99-latency", "nope"] })),
    ).rejects.toMatchObject({ name: "ResourceNotFound" });
    await cw.send(new DeleteAlarmsCommand({ AlarmNames: ["p99-latency"] }));
    expect(await alarmState("p99-latency")).toBeUndefined();
  });

  it("serves switchyard's adapter: alarm states by name, per-target-group counts over a window", async () => {
    const clients = createClients({ endpoint: env.sandbox.endpoint, region: env.sandbox.region });
    try {
      const states = await describeAlarmStates(clients, ["blue-5xx", "no-such-alarm"]);
      expect(states.found.get("blue-5xx")?.state).toBe("OK");
      expect(states.missing).toEqual(["no-such-alarm"]);

      const start = await periodStart();
      const sent = await send(url, "/status?code=502", 6);
      await send(url, "/", 10);
      const lagMs = 60_000 * TIME_SCALE;
      await new Promise((r) => setTimeout(r, MINUTE_MS + lagMs + 200));
      const [blue, green] = await fetchTargetGroupMetrics(clients, {
        loadBalancer: lbDim,
        targetGroups: [tgDim["cw-blue"]!, tgDim["cw-green"]!],
        start: new Date(start),
        now: new Date(),
        lagMs,
        periodSeconds: 60,
        windowPeriodSeconds: 60,
      });
      for (const [name, got] of [
        ["cw-blue", blue],
        ["cw-green", green],
      ] as const) {
        expect(got!.periods).toHaveLength(1);
        expect(got!.periods[0]!.start.getTime()).toBe(start);
        expect(got!.periods[0]!.errors).toBe(sent[`${name} 502`] ?? 0);
        expect(got!.periods[0]!.latency).toBeGreaterThan(0);
        expect(got!.windowLatency).toBe(got!.periods[0]!.latency);
      }
      expect(blue!.periods[0]!.requests + green!.periods[0]!.requests).toBe(16);
    } finally {
      clients.destroy();
    }
  });

  it("answers the query protocol too", async () => {
    const res = await fetch(env.sandbox.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization:
          "AWS4-HMAC-SHA256 Credential=AKID/20261203/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=x",
      },
      body: "Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=blue-5xx",
    });
    const xml = await res.text();
    expect(res.status).toBe(200);
    expect(xml).toContain("<DescribeAlarmsResponse");
    expect(xml).toContain("<AlarmName>blue-5xx</AlarmName>");
  });
});
