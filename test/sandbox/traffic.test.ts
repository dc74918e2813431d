/**
 * Traffic through a sandbox listener, set up and driven only through the real SDK v3 clients:
 * Auto Scaling groups booting releases from S3, weights, stickiness, draining, unused targets.
 */
import { CreateAutoScalingGroupCommand } from "@aws-sdk/client-auto-scaling";
import { CreateLaunchTemplateCommand } from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyTargetGroupAttributesCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSampleRelease } from "../../examples/sample-app/release.js";
import { builtInUserData, encodeUserData } from "../../src/core/user-data.js";
import { BASE_IMAGE_ID, DEFAULT_VPC_ID } from "../../src/sandbox/index.js";
import { eventually, type SandboxClients, sandboxWithClients } from "../helpers/sandbox.js";

const SUBNETS = ["subnet-0sandbox0000000a", "subnet-0sandbox0000000b"];

describe("traffic through a listener, over the SDK only", () => {
  let env: SandboxClients;
  let listenerArn: string;
  let url: string;
  const tg: Record<string, string> = {};

  async function group(version: string) {
    await env.s3.send(
      new PutObjectCommand({
        Bucket: "releases",
        Key: `web/${version}.tar.gz`,
        Body: await buildSampleRelease({ version }),
      }),
    );
    const userData = builtInUserData({
      releaseUrl: `s3://releases/web/${version}.tar.gz`,
      service: "web/traffic",
      app: "web",
      env: "traffic",
      group: `web-${version}`,
      version,
    });
    await env.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: `web-${version}`,
        LaunchTemplateData: {
          ImageId: BASE_IMAGE_ID,
          InstanceType: "t3.small",
          UserData: encodeUserData(userData),
        },
      }),
    );
    const created = await env.elbv2.send(
      new CreateTargetGroupCommand({
        Name: `web-${version}`,
        Protocol: "HTTP",
        Port: 8080,
        VpcId: DEFAULT_VPC_ID,
        HealthCheckPath: "/health",
        HealthCheckIntervalSeconds: 10,
        HealthCheckTimeoutSeconds: 8,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 3,
      }),
    );
    const arn = created.TargetGroups![0]!.TargetGroupArn!;
    await env.elbv2.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: arn,
        Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "100" }],
      }),
    );
    await env.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: `web-${version}`,
        LaunchTemplate: { LaunchTemplateName: `web-${version}`, Version: "$Latest" },
        MinSize: 2,
        MaxSize: 2,
        DesiredCapacity: 2,
        VPCZoneIdentifier: SUBNETS.join(","),
        TargetGroupARNs: [arn],
        HealthCheckType: "ELB",
        HealthCheckGracePeriod: 300,
      }),
    );
    tg[version] = arn;
  }

  const health = async (arn: string) =>
    (await env.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })))
      .TargetHealthDescriptions ?? [];

  async function forward(weights: Record<string, number>, stickySeconds = 0) {
    await env.elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: listenerArn,
        DefaultActions: [
          {
            Type: "forward",
            ForwardConfig: {
              TargetGroups: Object.entries(weights).map(([v, Weight]) => ({
                TargetGroupArn: tg[v],
                Weight,
              })),
              TargetGroupStickinessConfig: stickySeconds
                ? { Enabled: true, DurationSeconds: stickySeconds }
                : { Enabled: false },
            },
          },
        ],
      }),
    );
  }

  /** Waits until the proxy applies a change: every one of `n` requests answered by `version`. */
  async function until(version: string) {
    await eventually(
      async () => {
        for (let i = 0; i < 10; i++) {
          const body = (await (await fetch(url)).json()) as { version: string };
          if (body.version !== version) return false;
        }
        return true;
      },
      { what: `all traffic on ${version}` },
    );
  }

  beforeAll(async () => {
    env = await sandboxWithClients();
    await env.s3.send(new CreateBucketCommand({ Bucket: "releases" }));
    await group("r1");
    await group("r2");
    const lb = await env.elbv2.send(
      new CreateLoadBalancerCommand({ Name: "web-traffic", Subnets: SUBNETS }),
    );
    const listener = await env.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancers![0]!.LoadBalancerArn!,
        Protocol: "HTTP",
        Port: 80,
        DefaultActions: [
          {
            Type: "forward",
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: tg.r1, Weight: 100 },
                { TargetGroupArn: tg.r2, Weight: 0 },
              ],
            },
          },
        ],
      }),
    );
    listenerArn = listener.Listeners![0]!.ListenerArn!;
    for (const v of ["r1", "r2"]) {
      await eventually(
        async () => {
          const states = (await health(tg[v]!)).map((d) => d.TargetHealth?.State);
          return states.length === 2 && states.every((s) => s === "healthy");
        },
        { what: `${v}'s targets healthy`, timeoutMs: 20_000 },
      );
    }
    const listeners = (await (
      await fetch(`${env.sandbox.endpoint}/_sandbox/listeners`)
    ).json()) as Array<{
      listenerArn: string;
      url: string;
    }>;
    url = listeners.find((l) => l.listenerArn === listenerArn)!.url;
  });
  afterAll(() => env?.stop());

  it("an Auto Scaling group whose user data names r1 serves r1 through the listener", async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ version: "r1" });
  });

  it("after ModifyListener to 95/5, 2,000 requests split within ±2 points", async () => {
    await forward({ r1: 95, r2: 5 });
    await eventually(async () => {
      for (let i = 0; i < 200; i++) {
        if (((await (await fetch(url)).json()) as { version: string }).version === "r2")
          return true;
      }
      return false;
    });
    const counts: Record<string, number> = {};
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(
        Array.from(
          { length: 100 },
          async () => ((await (await fetch(url)).json()) as { version: string }).version,
        ),
      );
      for (const v of answers) counts[v] = (counts[v] ?? 0) + 1;
    }
    expect((counts.r1 ?? 0) + (counts.r2 ?? 0)).toBe(2000);
    const share = ((counts.r2 ?? 0) / 2000) * 100;
    expect(share).toBeGreaterThanOrEqual(3);
    expect(share).toBeLessThanOrEqual(7);
  });

  it("with stickiness, a client carrying the cookie stays on one target group", async () => {
    await forward({ r1: 50, r2: 50 }, 3600);
    await eventually(async () =>
      ((await fetch(url)).headers.get("set-cookie") ?? "").includes("AWSALBTG"),
    );
    const first = await fetch(url);
    const cookie = (first.headers.get("set-cookie") ?? "").split(";")[0]!;
    const version = ((await first.json()) as { version: string }).version;
    for (let i = 0; i < 50; i++) {
      const res = await fetch(url, { headers: { cookie } });
      expect(((await res.json()) as { version: string }).version).toBe(version);
    }
  });

  it("a deregistered target drains: in-flight requests finish, no new ones, then it is gone", async () => {
    await forward({ r1: 100, r2: 0 });
    await until("r1");
    const [a, b] = await health(tg.r1!);
    const slow = fetch(`${url}/stream?ms=400`, { headers: {} });
    // find which instance took the in-flight request, then deregister that one
    const inFlight = await slow;
    const target = inFlight.headers.get("x-switchyard-target")!;
    expect([a?.Target?.Id, b?.Target?.Id]).toContain(target);
    await env.elbv2.send(
      new DeregisterTargetsCommand({ TargetGroupArn: tg.r1, Targets: [{ Id: target }] }),
    );
    expect((await health(tg.r1!)).find((d) => d.Target?.Id === target)?.TargetHealth?.State).toBe(
      "draining",
    );
    for (let i = 0; i < 20; i++) {
      expect((await fetch(url)).headers.get("x-switchyard-target")).not.toBe(target);
    }
    expect(((await inFlight.json()) as { version: string }).version).toBe("r1");
    await eventually(async () => !(await health(tg.r1!)).some((d) => d.Target?.Id === target), {
      what: "the drained target to be gone",
    });
  });

  it("targets of a target group no listener references are unused (Target.NotInUse)", async () => {
    await forward({ r1: 100 });
    await eventually(
      async () => {
        const states = await health(tg.r2!);
        return (
          states.length > 0 &&
          states.every(
            (d) =>
              d.TargetHealth?.State === "unused" && d.TargetHealth.Reason === "Target.NotInUse",
          )
        );
      },
      { what: "r2's targets unused" },
    );
  });
});
