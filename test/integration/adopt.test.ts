/**
 * adopt: a group another tool made (here with the plain SDK, as Terraform would) becomes the
 * service's live group; the next deploy swaps away from it with no failed request and keeps it as
 * blue, and rollback returns to it. Refusals change nothing and exit 2.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from "@aws-sdk/client-auto-scaling";
import { CreateLaunchTemplateCommand } from "@aws-sdk/client-ec2";
import {
  CreateTargetGroupCommand,
  DescribeTagsCommand,
  ModifyListenerCommand,
  ModifyTargetGroupAttributesCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findImage, targetHealth } from "../../src/aws/index.js";
import { runCli } from "../../src/cli/run.js";
import { exitCodeOf } from "../../src/core/errors.js";
import { BASE_IMAGE_NAME, DEFAULT_VPC_ID } from "../../src/sandbox/index.js";
import { startLoad } from "../helpers/load.js";
import { eventually } from "../helpers/sandbox.js";
import { listenerWeights, SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";
import { memoryIo } from "../unit/cli/helpers.js";

const SUBNETS = ["subnet-0sandbox0000000a", "subnet-0sandbox0000000b"];

/** A group and its target group made without switchyard; returns the target group's ARN. */
async function foreignGroup(world: SwapWorld, name: string, desired: number): Promise<string> {
  const { clients } = world;
  const tg = await clients.elbv2.send(
    new CreateTargetGroupCommand({
      Name: `${name}-tg`,
      Protocol: "HTTP",
      Port: 8080,
      VpcId: DEFAULT_VPC_ID,
      TargetType: "instance",
      HealthCheckPath: "/health",
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 8,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
      Tags: [{ Key: "owner", Value: "terraform" }],
    }),
  );
  const arn = tg.TargetGroups?.[0]?.TargetGroupArn ?? "";
  await clients.elbv2.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: arn,
      Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "1" }],
    }),
  );
  const image = await findImage(clients, BASE_IMAGE_NAME);
  const userData = [
    "#!/bin/sh",
    "# switchyard:release-url=s3://releases/web/test/r1.tar.gz",
    "exec /usr/local/bin/fetch-and-run",
    "",
  ].join("\n");
  const lt = await clients.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: `${name}-lt`,
      LaunchTemplateData: {
        ImageId: image?.imageId,
        InstanceType: "t3.small",
        UserData: Buffer.from(userData).toString("base64"),
      },
    }),
  );
  await clients.autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      LaunchTemplate: {
        LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId,
        Version: "$Latest",
      },
      MinSize: desired,
      MaxSize: desired + 2,
      DesiredCapacity: desired,
      VPCZoneIdentifier: SUBNETS.join(","),
      TargetGroupARNs: [arn],
      Tags: [{ Key: "owner", Value: "terraform", PropagateAtLaunch: true }],
    }),
  );
  return arn;
}

async function asgTags(world: SwapWorld, name: string): Promise<Record<string, string>> {
  const out = await world.clients.autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return Object.fromEntries(
    (out.AutoScalingGroups?.[0]?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]),
  );
}

async function tgTags(world: SwapWorld, arn: string): Promise<Record<string, string>> {
  const out = await world.clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: [arn] }));
  return Object.fromEntries(
    (out.TagDescriptions?.[0]?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]),
  );
}

const switchyardKeys = (tags: Record<string, string>) =>
  Object.keys(tags).filter((k) => k.startsWith("switchyard:"));

describe("adopt a group another tool made", () => {
  let world: SwapWorld;
  let legacyTg: string;
  let otherTg: string;
  let dir: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    world = await swapWorld();
    legacyTg = await foreignGroup(world, "legacy-web", 2);
    otherTg = await foreignGroup(world, "legacy-other", 0);
    await world.clients.elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: world.listenerArn,
        DefaultActions: [
          { Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: legacyTg }] } },
        ],
      }),
    );
    await eventually(async () => (await targetHealth(world.clients, legacyTg))?.healthy === 2, {
      timeoutMs: 30_000,
      what: "legacy-web's two targets healthy",
    });
    dir = await mkdtemp(join(tmpdir(), "switchyard-adopt-"));
    await writeFile(join(dir, "switchyard.config.json"), JSON.stringify(world.config));
    process.env.AWS_ACCESS_KEY_ID = "test";
    process.env.AWS_SECRET_ACCESS_KEY = "test";
  }, 60_000);
  afterAll(async () => {
    process.env = saved;
    await world?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const cli = async (argv: string[]) => {
    const m = memoryIo({ cwd: dir });
    const code = await runCli(["--endpoint-url", world.sandbox.endpoint, ...argv], m.io);
    return { code, stdout: m.stdout.text(), stderr: m.stderr.text() };
  };

  it("refuses a group whose target group the listener does not reference (exit 2, nothing changed)", async () => {
    const error = await world.yard
      .adopt(SERVICE, { group: "legacy-other" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "PREFLIGHT_FAILED" });
    expect(String((error as Error).message)).toContain("not to");
    expect(exitCodeOf(error)).toBe(2);
    expect(switchyardKeys(await asgTags(world, "legacy-other"))).toEqual([]);
    expect(switchyardKeys(await tgTags(world, otherTg))).toEqual([]);
  });

  it("refuses a group that does not exist", async () => {
    const error = await world.yard.adopt(SERVICE, { group: "nope" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "PREFLIGHT_FAILED" });
    expect(exitCodeOf(error)).toBe(2);
  });

  it("a dry run makes every check and changes nothing", async () => {
    const result = await world.yard.adopt(SERVICE, { group: "legacy-web", dryRun: true });
    expect(result).toMatchObject({
      service: SERVICE,
      group: "legacy-web",
      targetGroupArn: legacyTg,
      changed: false,
      dryRun: true,
      release: "adopted:legacy-web",
      sequence: 0,
      instances: { inService: 2, healthy: 2 },
    });
    expect(switchyardKeys(await asgTags(world, "legacy-web"))).toEqual([]);
    expect(switchyardKeys(await tgTags(world, legacyTg))).toEqual([]);
  });

  it("the CLI without a terminal needs --yes; --dry-run --json prints one result object", async () => {
    const refused = await cli(["adopt", SERVICE, "--group", "legacy-web"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/error INVALID_INPUT: .*pass --yes/);
    const dry = await cli(["--json", "adopt", SERVICE, "--group", "legacy-web", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ group: "legacy-web", changed: false });
    expect(switchyardKeys(await asgTags(world, "legacy-web"))).toEqual([]);
  });

  it("adopts the group as live: tags on the group and its target group, traffic untouched", async () => {
    const before = await listenerWeights(world);
    const run = await cli(["adopt", SERVICE, "--group", "legacy-web", "--yes", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      group: "legacy-web",
      targetGroupArn: legacyTg,
      changed: true,
    });
    const tags = await asgTags(world, "legacy-web");
    expect(tags).toMatchObject({
      "switchyard:app": "web",
      "switchyard:env": "test",
      "switchyard:role": "live",
      "switchyard:sequence": "0",
      "switchyard:release": "adopted:legacy-web",
      "switchyard:managed": "true",
      owner: "terraform",
    });
    expect(await tgTags(world, legacyTg)).toMatchObject({
      "switchyard:app": "web",
      "switchyard:role": "live",
      owner: "terraform",
    });
    expect(await listenerWeights(world)).toEqual(before);
    const status = await world.yard.status(SERVICE);
    expect(status.groups.map((g) => [g.name, g.role])).toEqual([["legacy-web", "live"]]);
  });

  it("refuses a group that is already managed (exit 2)", async () => {
    const error = await world.yard.adopt(SERVICE, { group: "legacy-web" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "PREFLIGHT_FAILED" });
    expect(String((error as Error).message)).toContain("already managed");
    expect(exitCodeOf(error)).toBe(2);
  });

  it("deploy r2 swaps away from the adopted group with zero failed requests; it stays as blue", async () => {
    const load = startLoad(world.listenerUrl(), { workers: 4, maxMs: 60_000 });
    const result = await world.yard.deploy(SERVICE, { release: "r2", bakeMs: 200 }).result;
    const report = await load.stop();
    expect(result).toMatchObject({ ok: true, live: "web-test-v001", standby: "legacy-web" });
    expect(report.failures, report.failureSamples.join("\n")).toBe(0);
    expect(report.byVersion.r1).toBeGreaterThan(0);
    expect(report.byVersion.r2).toBeGreaterThan(0);
    expect(await listenerWeights(world)).toEqual({ "web-test-v001": 100, "legacy-web-tg": 0 });
    expect((await asgTags(world, "legacy-web"))["switchyard:role"]).toBe("standby");
  }, 90_000);

  it("rollback returns to the adopted group", async () => {
    const result = await world.yard.rollback(SERVICE).result;
    expect(result).toMatchObject({ live: "legacy-web", standby: "web-test-v001" });
    expect(await listenerWeights(world)).toMatchObject({
      "legacy-web-tg": 100,
      "web-test-v001": 0,
    });
    const status = await world.yard.status(SERVICE);
    expect(status.warnings).toEqual([]);
    expect(status.groups.find((g) => g.role === "live")?.name).toBe("legacy-web");
  }, 60_000);
});
