import {
  AlreadyExistsFault,
  AttachTrafficSourcesCommand,
  CreateAutoScalingGroupCommand,
  type CreateAutoScalingGroupCommandInput,
  CreateOrUpdateTagsCommand,
  DeleteAutoScalingGroupCommand,
  DeletePolicyCommand,
  DeleteScheduledActionCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLoadBalancerTargetGroupsCommand,
  DescribePoliciesCommand,
  DescribeScalingActivitiesCommand,
  DescribeScheduledActionsCommand,
  DescribeTagsCommand,
  DescribeTrafficSourcesCommand,
  DetachTrafficSourcesCommand,
  type Instance,
  PutScalingPolicyCommand,
  PutScheduledUpdateGroupActionCommand,
  paginateDescribeAutoScalingGroups,
  ResourceInUseFault,
  ResumeProcessesCommand,
  ScalingActivityInProgressFault,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import { CreateLaunchTemplateCommand } from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ModifyTargetGroupAttributesCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSampleRelease, type SampleVariant } from "../../examples/sample-app/release.js";
import { BASE_IMAGE_ID, DEFAULT_VPC_ID } from "../../src/sandbox/index.js";
import { terminateInstance } from "../../src/sandbox/world.js";
import { eventually, type SandboxClients, sandboxWithClients } from "../helpers/sandbox.js";

const SUBNETS = "subnet-0sandbox0000000a,subnet-0sandbox0000000b";
let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

/** Uploads a sample-app release to sandbox S3 and returns its URL. */
async function uploadRelease(env: SandboxClients, variant: SampleVariant = "healthy") {
  await env.s3.send(new CreateBucketCommand({ Bucket: "releases" })).catch(() => undefined);
  const key = `web/${variant}.tar.gz`;
  const body = await buildSampleRelease({ version: "r1", variant });
  await env.s3.send(new PutObjectCommand({ Bucket: "releases", Key: key, Body: body }));
  return `s3://releases/${key}`;
}

/** A launch template through the EC2 API; with a release URL its instances run that release. */
async function createTemplate(
  env: SandboxClients,
  options: { name?: string; imageId?: string; releaseUrl?: string } = {},
) {
  const userData = options.releaseUrl
    ? Buffer.from(`#!/bin/sh\n# switchyard:release-url=${options.releaseUrl}\n`).toString("base64")
    : undefined;
  const out = await env.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: options.name ?? unique("lt"),
      LaunchTemplateData: {
        ImageId: options.imageId ?? BASE_IMAGE_ID,
        InstanceType: "t3.micro",
        UserData: userData,
      },
    }),
  );
  return out.LaunchTemplate!.LaunchTemplateId!;
}

/** A target group through the ELBv2 API, health-checked quickly; `inUse` puts it behind a listener. */
async function createTargetGroup(
  env: SandboxClients,
  options: { deregistrationDelay?: number; inUse?: boolean } = {},
) {
  const out = await env.elbv2.send(
    new CreateTargetGroupCommand({
      Name: unique("tg"),
      Protocol: "HTTP",
      Port: 8080,
      VpcId: DEFAULT_VPC_ID,
      HealthCheckPath: "/health",
      HealthCheckIntervalSeconds: 5,
      HealthCheckTimeoutSeconds: 2,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
    }),
  );
  const arn = out.TargetGroups![0]!.TargetGroupArn!;
  await env.elbv2.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: arn,
      Attributes: [
        {
          Key: "deregistration_delay.timeout_seconds",
          Value: String(options.deregistrationDelay ?? 0),
        },
      ],
    }),
  );
  if (options.inUse) {
    const lb = await env.elbv2.send(
      new CreateLoadBalancerCommand({ Name: unique("alb"), Subnets: SUBNETS.split(",") }),
    );
    await env.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancers![0]!.LoadBalancerArn,
        Protocol: "HTTP",
        Port: 80,
        DefaultActions: [{ Type: "forward", TargetGroupArn: arn }],
      }),
    );
  }
  return arn;
}

/** Target id → health state, as DescribeTargetHealth reports it. */
async function targetStates(env: SandboxClients, arn: string) {
  const out = await env.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
  return new Map(
    (out.TargetHealthDescriptions ?? []).map((d) => [d.Target!.Id!, d.TargetHealth!.State!]),
  );
}

const defaultTemplates = new WeakMap<SandboxClients, Promise<string>>();

async function createGroup(
  env: SandboxClients,
  name: string,
  input: Partial<CreateAutoScalingGroupCommandInput> = {},
) {
  let template = defaultTemplates.get(env);
  if (!template) {
    template = createTemplate(env, { name: "web" });
    defaultTemplates.set(env, template);
  }
  await env.autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      LaunchTemplate: { LaunchTemplateId: await template, Version: "$Latest" },
      MinSize: 0,
      MaxSize: 4,
      DesiredCapacity: 0,
      VPCZoneIdentifier: SUBNETS,
      ...input,
    }),
  );
}

async function describeGroup(env: SandboxClients, name: string) {
  const out = await env.autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return out.AutoScalingGroups?.[0];
}

/** Waits until the group has exactly `count` instances, all InService. */
async function inService(env: SandboxClients, name: string, count: number): Promise<Instance[]> {
  return eventually(
    async () => {
      const instances = (await describeGroup(env, name))?.Instances ?? [];
      return instances.length === count && instances.every((i) => i.LifecycleState === "InService")
        ? instances
        : undefined;
    },
    { what: `${count} InService instances in ${name}` },
  );
}

async function activities(env: SandboxClients, name: string) {
  const out = await env.autoscaling.send(
    new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name }),
  );
  return out.Activities ?? [];
}

function ec2State(env: SandboxClients, id: string) {
  return env.sandbox.context.state.instances.get(id)?.state;
}

describe("creating and converging groups", () => {
  let env: SandboxClients;
  beforeAll(async () => {
    env = await sandboxWithClients();
  });
  afterAll(() => env.stop());

  it("a new group launches its desired capacity, balanced across zones, up to InService", async () => {
    await createGroup(env, "converge", {
      DesiredCapacity: 2,
      Tags: [
        { Key: "switchyard:app", Value: "web", PropagateAtLaunch: true },
        { Key: "private", Value: "no", PropagateAtLaunch: false },
      ],
    });
    const instances = await inService(env, "converge", 2);
    expect(new Set(instances.map((i) => i.AvailabilityZone))).toEqual(
      new Set(["us-east-1a", "us-east-1b"]),
    );
    for (const i of instances) {
      expect(i.HealthStatus).toBe("Healthy");
      expect(ec2State(env, i.InstanceId!)).toBe("running");
      const tags = env.sandbox.context.state.instances.get(i.InstanceId!)?.tags;
      expect(tags).toMatchObject({
        "switchyard:app": "web",
        "aws:autoscaling:groupName": "converge",
      });
      expect(tags).not.toHaveProperty("private");
    }
    const launches = await activities(env, "converge");
    expect(launches).toHaveLength(2);
    for (const a of launches) {
      expect(a.Description).toMatch(/^Launching a new EC2 instance: i-/);
      expect(a.StatusCode).toBe("Successful");
      expect(a.Progress).toBe(100);
      expect(a.Cause).toMatch(
        /a user request created an AutoScalingGroup changing the desired capacity from 0 to 2\..*increasing the capacity from 0 to 2\./,
      );
    }
  });

  it("a group is described in full, with its launch template, tags and traffic sources", async () => {
    const tg = await createTargetGroup(env);
    await createGroup(env, "shape", {
      HealthCheckType: "ELB",
      HealthCheckGracePeriod: 60,
      DefaultCooldown: 120,
      NewInstancesProtectedFromScaleIn: true,
      TrafficSources: [{ Identifier: tg, Type: "elbv2" }],
      Tags: [{ Key: "team", Value: "blue", PropagateAtLaunch: true }],
    });
    const group = await describeGroup(env, "shape");
    expect(group).toMatchObject({
      AutoScalingGroupName: "shape",
      MinSize: 0,
      MaxSize: 4,
      DesiredCapacity: 0,
      DefaultCooldown: 120,
      HealthCheckType: "ELB",
      HealthCheckGracePeriod: 60,
      VPCZoneIdentifier: SUBNETS,
      AvailabilityZones: ["us-east-1a", "us-east-1b"],
      NewInstancesProtectedFromScaleIn: true,
      TargetGroupARNs: [tg],
      TrafficSources: [{ Identifier: tg, Type: "elbv2" }],
      Tags: [
        {
          ResourceId: "shape",
          ResourceType: "auto-scaling-group",
          Key: "team",
          Value: "blue",
          PropagateAtLaunch: true,
        },
      ],
      Instances: [],
      SuspendedProcesses: [],
      LaunchTemplate: { LaunchTemplateName: "web", Version: "$Latest" },
    });
    expect(group?.AutoScalingGroupARN).toMatch(
      /^arn:aws:autoscaling:us-east-1:\d{12}:autoScalingGroup:[0-9a-f-]+:autoScalingGroupName\/shape$/,
    );
    expect(group?.CreatedTime).toBeInstanceOf(Date);
  });

  it("a launch template that does not exist fails CreateAutoScalingGroup with ValidationError", async () => {
    await expect(
      env.autoscaling.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: "no-template",
          LaunchTemplate: { LaunchTemplateName: "missing", Version: "$Latest" },
          MinSize: 0,
          MaxSize: 1,
          VPCZoneIdentifier: SUBNETS,
        }),
      ),
    ).rejects.toMatchObject({
      name: "ValidationError",
      message: expect.stringMatching(
        /^You must use a valid fully-formed launch template\. .*missing/,
      ),
    });
    expect(await describeGroup(env, "no-template")).toBeUndefined();
  });

  it("a second group with the same name is AlreadyExistsFault", async () => {
    await createGroup(env, "twice");
    const error = await createGroup(env, "twice").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlreadyExistsFault);
    expect((error as Error).message).toContain("already exists");
  });

  it("sizes must satisfy min ≤ desired ≤ max, and names are at most 255 characters", async () => {
    await expect(createGroup(env, "sizes", { MinSize: 2, MaxSize: 1 })).rejects.toMatchObject({
      name: "ValidationError",
      message: "Max bound, 1, must be greater than or equal to min bound, 2",
    });
    await expect(
      createGroup(env, "sizes", { MinSize: 1, MaxSize: 3, DesiredCapacity: 5 }),
    ).rejects.toMatchObject({
      name: "ValidationError",
      message: "Desired capacity:5 must be between the specified min size:1 and max size:3",
    });
    await expect(createGroup(env, "x".repeat(256))).rejects.toMatchObject({
      name: "ValidationError",
      message: expect.stringContaining("length less than or equal to 255"),
    });
  });

  it("a target group that does not exist is refused at create", async () => {
    await expect(
      createGroup(env, "bad-tg", {
        TargetGroupARNs: [env.sandbox.context.state.arn("elasticloadbalancing", "targetgroup/x/1")],
      }),
    ).rejects.toMatchObject({
      name: "ValidationError",
      message: expect.stringContaining("Target Groups"),
    });
  });
});

describe("changing capacity", () => {
  let env: SandboxClients;
  beforeAll(async () => {
    env = await sandboxWithClients();
  });
  afterAll(() => env.stop());

  it("SetDesiredCapacity scales up and down, terminating EC2 instances and recording both", async () => {
    await createGroup(env, "scale", { DesiredCapacity: 1 });
    await inService(env, "scale", 1);
    await env.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: "scale", DesiredCapacity: 3 }),
    );
    const three = await inService(env, "scale", 3);
    await env.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: "scale", DesiredCapacity: 1 }),
    );
    const [kept] = await inService(env, "scale", 1);
    const removed = three.filter((i) => i.InstanceId !== kept!.InstanceId);
    expect(removed).toHaveLength(2);
    await eventually(() => removed.every((i) => ec2State(env, i.InstanceId!) === "terminated"), {
      what: "scaled-in instances terminated",
    });
    const log = await activities(env, "scale");
    const terminations = log.filter((a) => a.Description?.startsWith("Terminating EC2 instance: "));
    expect(terminations).toHaveLength(2);
    await eventually(async () =>
      (await activities(env, "scale"))
        .filter((a) => a.Description?.startsWith("Terminating"))
        .every((a) => a.StatusCode === "Successful"),
    );
    expect(terminations[0]!.Cause).toMatch(
      /explicitly set group desired capacity changing the desired capacity from 3 to 1\..*shrinking the capacity from 3 to 1\..*was selected for termination\./,
    );
    expect(log.filter((a) => a.Description?.startsWith("Launching"))).toHaveLength(3);
    // newest first
    const times = log.map((a) => a.StartTime!.getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("a group given only Availability Zones launches into the default VPC's subnets there", async () => {
    await createGroup(env, "zones", {
      VPCZoneIdentifier: undefined,
      AvailabilityZones: ["us-east-1c"],
      DesiredCapacity: 1,
    });
    const [instance] = await inService(env, "zones", 1);
    expect(instance!.AvailabilityZone).toBe("us-east-1c");
    expect(env.sandbox.context.state.instances.get(instance!.InstanceId!)?.subnetId).toBe(
      "subnet-0sandbox0000000c",
    );
  });

  it("SetDesiredCapacity outside min/max is a ValidationError with AWS's message", async () => {
    await createGroup(env, "bounds", { MinSize: 1, MaxSize: 2, DesiredCapacity: 1 });
    await expect(
      env.autoscaling.send(
        new SetDesiredCapacityCommand({ AutoScalingGroupName: "bounds", DesiredCapacity: 0 }),
      ),
    ).rejects.toMatchObject({
      name: "ValidationError",
      message: "New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup.",
    });
    await expect(
      env.autoscaling.send(
        new SetDesiredCapacityCommand({ AutoScalingGroupName: "bounds", DesiredCapacity: 3 }),
      ),
    ).rejects.toMatchObject({
      name: "ValidationError",
      message: "New SetDesiredCapacity value 3 is above max value 2 for the AutoScalingGroup.",
    });
  });

  it("UpdateAutoScalingGroup validates the merged sizes and lifts desired to a new minimum", async () => {
    await createGroup(env, "update", { MinSize: 0, MaxSize: 4, DesiredCapacity: 0 });
    await expect(
      env.autoscaling.send(
        new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: "update", DesiredCapacity: 5 }),
      ),
    ).rejects.toMatchObject({ name: "ValidationError" });
    await env.autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: "update",
        MinSize: 2,
        HealthCheckType: "ELB",
        HealthCheckGracePeriod: 30,
      }),
    );
    expect(await describeGroup(env, "update")).toMatchObject({
      MinSize: 2,
      DesiredCapacity: 2,
      HealthCheckType: "ELB",
      HealthCheckGracePeriod: 30,
    });
    await inService(env, "update", 2);
  });

  it("scale-in skips instances protected from scale in", async () => {
    await createGroup(env, "protect", { DesiredCapacity: 2 });
    const [first, second] = await inService(env, "protect", 2);
    await env.autoscaling.send(
      new SetInstanceProtectionCommand({
        AutoScalingGroupName: "protect",
        InstanceIds: [first!.InstanceId!],
        ProtectedFromScaleIn: true,
      }),
    );
    await env.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: "protect", DesiredCapacity: 1 }),
    );
    const [left] = await inService(env, "protect", 1);
    expect(left).toMatchObject({ InstanceId: first!.InstanceId, ProtectedFromScaleIn: true });
    expect(ec2State(env, second!.InstanceId!)).not.toBe("running");
  });

  it("TerminateInstanceInAutoScalingGroup replaces the instance unless told to decrement", async () => {
    await createGroup(env, "terminate-one", { DesiredCapacity: 1 });
    const [only] = await inService(env, "terminate-one", 1);
    const out = await env.autoscaling.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: only!.InstanceId,
        ShouldDecrementDesiredCapacity: false,
      }),
    );
    expect(out.Activity?.Description).toBe(`Terminating EC2 instance: ${only!.InstanceId}`);
    const [replacement] = await inService(env, "terminate-one", 1);
    expect(replacement!.InstanceId).not.toBe(only!.InstanceId);
    await env.autoscaling.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: replacement!.InstanceId,
        ShouldDecrementDesiredCapacity: true,
      }),
    );
    expect((await describeGroup(env, "terminate-one"))?.DesiredCapacity).toBe(0);
    await inService(env, "terminate-one", 0);
  });
});

describe("launch failures", () => {
  let env: SandboxClients;
  beforeAll(async () => {
    env = await sandboxWithClients();
  });
  afterAll(() => env.stop());

  it("an image that does not exist gives Failed activities with AWS's message, retried, and no instances", async () => {
    const template = await createTemplate(env, { imageId: "ami-0000000missing0" });
    await env.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: "no-image",
        LaunchTemplate: { LaunchTemplateId: template },
        MinSize: 1,
        MaxSize: 1,
        VPCZoneIdentifier: SUBNETS,
      }),
    );
    const failed = await eventually(
      async () => {
        const log = await activities(env, "no-image");
        return log.length >= 2 ? log : undefined;
      },
      { what: "a retried launch" },
    );
    for (const a of failed) {
      expect(a.StatusCode).toBe("Failed");
      expect(a.StatusMessage).toBe(
        "The image id '[ami-0000000missing0]' does not exist. Launching EC2 instance failed.",
      );
      expect(a.Description).toBe(
        "Launching a new EC2 instance.  Status Reason: The image id '[ami-0000000missing0]' does not exist. Launching EC2 instance failed.",
      );
    }
    expect((await describeGroup(env, "no-image"))?.Instances).toEqual([]);
    expect(
      [...env.sandbox.context.state.instances.values()].filter(
        (i) => i.tags["aws:autoscaling:groupName"] === "no-image",
      ),
    ).toEqual([]);
  });

  it("launch attempts back off: failures do not repeat every pass", async () => {
    const before = (await activities(env, "no-image")).length;
    await new Promise((r) => setTimeout(r, 300));
    const after = (await activities(env, "no-image")).length;
    // 300 ms is 30 AWS seconds (15 passes); with 10 s, 20 s, 40 s … back-off at most 3 attempts fit.
    expect(after - before).toBeLessThanOrEqual(3);
  });
});

describe("suspended processes", () => {
  let env: SandboxClients;
  beforeAll(async () => {
    env = await sandboxWithClients();
  });
  afterAll(() => env.stop());

  it("with Launch suspended no instance starts until it is resumed", async () => {
    await createGroup(env, "paused");
    await env.autoscaling.send(
      new SuspendProcessesCommand({ AutoScalingGroupName: "paused", ScalingProcesses: ["Launch"] }),
    );
    await env.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: "paused", DesiredCapacity: 2 }),
    );
    await new Promise((r) => setTimeout(r, 200));
    const group = await describeGroup(env, "paused");
    expect(group?.Instances).toEqual([]);
    expect(group?.SuspendedProcesses).toEqual([
      { ProcessName: "Launch", SuspensionReason: expect.stringMatching(/^User suspended at /) },
    ]);
    await env.autoscaling.send(
      new ResumeProcessesCommand({ AutoScalingGroupName: "paused", ScalingProcesses: ["Launch"] }),
    );
    await inService(env, "paused", 2);
  });

  it("an empty process list suspends every process; an unknown name is a ValidationError", async () => {
    await createGroup(env, "all-suspended");
    await env.autoscaling.send(
      new SuspendProcessesCommand({ AutoScalingGroupName: "all-suspended", ScalingProcesses: [] }),
    );
    const names = (await describeGroup(env, "all-suspended"))?.SuspendedProcesses?.map(
      (p) => p.ProcessName,
    );
    expect(names?.sort()).toEqual(
      [
        "AZRebalance",
        "AddToLoadBalancer",
        "AlarmNotification",
        "HealthCheck",
        "InstanceRefresh",
        "Launch",
        "ReplaceUnhealthy",
        "ScheduledActions",
        "Terminate",
      ].sort(),
    );
    await expect(
      env.autoscaling.send(
        new SuspendProcessesCommand({
          AutoScalingGroupName: "all-suspended",
          ScalingProcesses: ["Nap"],
        }),
      ),
    ).rejects.toMatchObject({ name: "ValidationError" });
  });

  it("with Terminate suspended a lower desired capacity leaves the instances running", async () => {
    await createGroup(env, "keep", { DesiredCapacity: 1 });
    await inService(env, "keep", 1);
    await env.autoscaling.send(
      new SuspendProcessesCommand({
        AutoScalingGroupName: "keep",
        ScalingProcesses: ["Terminate"],
      }),
    );
    await env.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: "keep", DesiredCapacity: 0 }),
    );
    await new Promise((r) => setTimeout(r, 150));
    expect((await describeGroup(env, "keep"))?.Instances).toHaveLength(1);
  });

  it("an instance launched while AddToLoadBalancer is suspended is not registered, even after resuming", async () => {
    const tg = await createTargetGroup(env);
    await createGroup(env, "no-lb", { TargetGroupARNs: [tg] });
    await env.autoscaling.send(
      new SuspendProcessesCommand({
        AutoScalingGroupName: "no-lb",
        ScalingProcesses: ["AddToLoadBalancer"],
      }),
    );
    await env.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: "no-lb", DesiredCapacity: 1 }),
    );
    const [unregistered] = await inService(env, "no-lb", 1);
    expect((await targetStates(env, tg)).has(unregistered!.InstanceId!)).toBe(false);
    await env.autoscaling.send(
      new ResumeProcessesCommand({
        AutoScalingGroupName: "no-lb",
        ScalingProcesses: ["AddToLoadBalancer"],
      }),
    );
    await env.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: "no-lb", DesiredCapacity: 2 }),
    );
    const both = await inService(env, "no-lb", 2);
    const newer = both.find((i) => i.InstanceId !== unregistered!.InstanceId)!;
    const registered = await targetStates(env, tg);
    expect(registered.has(newer.InstanceId!)).toBe(true);
    expect(registered.has(unregistered!.InstanceId!)).toBe(false);
  });
});

describe("target groups and health", () => {
  let env: SandboxClients;
  let healthy: string;
  let sick: string;
  beforeAll(async () => {
    env = await sandboxWithClients();
    healthy = await createTemplate(env, { releaseUrl: await uploadRelease(env) });
    sick = await createTemplate(env, { releaseUrl: await uploadRelease(env, "never-healthy") });
  });
  afterAll(() => env.stop());

  it("instances register when InService, and on scale-in drain before EC2 terminates them", async () => {
    const tg = await createTargetGroup(env, { inUse: true, deregistrationDelay: 30 });
    await createGroup(env, "lb", {
      DesiredCapacity: 2,
      TargetGroupARNs: [tg],
      LaunchTemplate: { LaunchTemplateId: healthy },
    });
    const instances = await inService(env, "lb", 2);
    await eventually(
      async () => {
        const states = await targetStates(env, tg);
        return instances.every((i) => states.get(i.InstanceId!) === "healthy");
      },
      { what: "both targets healthy" },
    );
    await env.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: "lb", DesiredCapacity: 1 }),
    );
    const leaving = await eventually(
      async () =>
        (await describeGroup(env, "lb"))?.Instances?.find(
          (i) => i.LifecycleState === "Terminating",
        ),
      { what: "an instance Terminating" },
    );
    expect((await targetStates(env, tg)).get(leaving.InstanceId!)).toBe("draining");
    expect(ec2State(env, leaving.InstanceId!)).toBe("running");
    await eventually(() => ec2State(env, leaving.InstanceId!) === "terminated", {
      what: "termination after draining",
    });
    expect((await targetStates(env, tg)).has(leaving.InstanceId!)).toBe(false);
    await inService(env, "lb", 1);
  });

  it("attaching a target group registers InService instances; detaching deregisters them", async () => {
    await createGroup(env, "attach", {
      DesiredCapacity: 2,
      LaunchTemplate: { LaunchTemplateId: healthy },
    });
    const instances = await inService(env, "attach", 2);
    const tg = await createTargetGroup(env, { inUse: true, deregistrationDelay: 30 });
    await env.autoscaling.send(
      new AttachTrafficSourcesCommand({
        AutoScalingGroupName: "attach",
        TrafficSources: [{ Identifier: tg, Type: "elbv2" }],
      }),
    );
    const registered = await targetStates(env, tg);
    for (const i of instances) expect(registered.has(i.InstanceId!)).toBe(true);
    const sources = await env.autoscaling.send(
      new DescribeTrafficSourcesCommand({ AutoScalingGroupName: "attach" }),
    );
    expect(sources.TrafficSources).toEqual([
      { TrafficSource: tg, Identifier: tg, Type: "elbv2", State: "Added" },
    ]);
    await eventually(
      async () => {
        const out = await env.autoscaling.send(
          new DescribeLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: "attach" }),
        );
        return out.LoadBalancerTargetGroups?.[0]?.State === "InService";
      },
      { what: "the target group InService once a target is healthy" },
    );

    await env.autoscaling.send(
      new DetachTrafficSourcesCommand({
        AutoScalingGroupName: "attach",
        TrafficSources: [{ Identifier: tg, Type: "elbv2" }],
      }),
    );
    const draining = await targetStates(env, tg);
    for (const i of instances) expect(draining.get(i.InstanceId!)).toBe("draining");
    const removing = await env.autoscaling.send(
      new DescribeTrafficSourcesCommand({ AutoScalingGroupName: "attach" }),
    );
    expect(removing.TrafficSources?.[0]?.State).toBe("Removing");
    expect((await describeGroup(env, "attach"))?.TargetGroupARNs).toEqual([]);
    await eventually(
      async () =>
        (
          await env.autoscaling.send(
            new DescribeTrafficSourcesCommand({ AutoScalingGroupName: "attach" }),
          )
        ).TrafficSources?.length === 0,
      { what: "the detached target group to drain" },
    );
  });

  it("with ELB health checks an instance failing the target group's checks is replaced", async () => {
    const tg = await createTargetGroup(env, { inUse: true });
    await createGroup(env, "elb-health", {
      DesiredCapacity: 1,
      TargetGroupARNs: [tg],
      HealthCheckType: "ELB",
      HealthCheckGracePeriod: 10,
      LaunchTemplate: { LaunchTemplateId: sick },
    });
    const [first] = await inService(env, "elb-health", 1);
    const terminated = await eventually(
      async () =>
        (await activities(env, "elb-health")).find(
          (a) => a.Description === `Terminating EC2 instance: ${first!.InstanceId}`,
        ),
      { what: "the unhealthy instance to be taken out of service" },
    );
    expect(terminated.Cause).toMatch(/in response to an ELB system health check failure\./);
    const replacement = await eventually(
      async () =>
        (await describeGroup(env, "elb-health"))?.Instances?.find(
          (i) => i.InstanceId !== first!.InstanceId,
        ),
      { what: "a replacement instance" },
    );
    expect(replacement.InstanceId).toMatch(/^i-/);
  });

  it("with EC2 health checks a failing target does not make the instance unhealthy", async () => {
    const tg = await createTargetGroup(env, { inUse: true });
    await createGroup(env, "ec2-health", {
      DesiredCapacity: 1,
      TargetGroupARNs: [tg],
      LaunchTemplate: { LaunchTemplateId: sick },
    });
    const [instance] = await inService(env, "ec2-health", 1);
    await eventually(
      async () => (await targetStates(env, tg)).get(instance!.InstanceId!) === "unhealthy",
      { what: "the target to fail its checks" },
    );
    await new Promise((r) => setTimeout(r, 100));
    const [still] = await inService(env, "ec2-health", 1);
    expect(still).toMatchObject({ InstanceId: instance!.InstanceId, HealthStatus: "Healthy" });
  });

  it("an instance terminated outside the group fails its EC2 health check and is replaced", async () => {
    await createGroup(env, "ec2-gone", { DesiredCapacity: 1 });
    const [gone] = await inService(env, "ec2-gone", 1);
    await terminateInstance(env.sandbox.context, gone!.InstanceId!);
    const [fresh] = await eventually(
      async () => {
        const list = await inService(env, "ec2-gone", 1);
        return list[0]!.InstanceId !== gone!.InstanceId ? list : undefined;
      },
      { what: "a replacement" },
    );
    expect(fresh!.HealthStatus).toBe("Healthy");
    const log = await activities(env, "ec2-gone");
    expect(
      log.find((a) => a.Description === `Terminating EC2 instance: ${gone!.InstanceId}`)?.Cause,
    ).toMatch(/in response to an EC2 health check indicating it has been terminated or stopped\./);
  });
});

describe("deleting groups", () => {
  let env: SandboxClients;
  beforeAll(async () => {
    env = await sandboxWithClients();
  });
  afterAll(() => env.stop());

  it("a group with instances cannot be deleted without ForceDelete (ResourceInUseFault)", async () => {
    await createGroup(env, "busy", { DesiredCapacity: 1 });
    await inService(env, "busy", 1);
    const error = await env.autoscaling
      .send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: "busy" }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceInUseFault);
  });

  it("ForceDelete terminates the instances, shows Delete in progress, then the group is gone", async () => {
    await createGroup(env, "doomed", { DesiredCapacity: 2 });
    const instances = await inService(env, "doomed", 2);
    await env.autoscaling.send(
      new PutScalingPolicyCommand({
        AutoScalingGroupName: "doomed",
        PolicyName: "cpu",
        PolicyType: "TargetTrackingScaling",
        TargetTrackingConfiguration: {
          TargetValue: 50,
          PredefinedMetricSpecification: { PredefinedMetricType: "ASGAverageCPUUtilization" },
        },
      }),
    );
    await env.autoscaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: "doomed", ForceDelete: true }),
    );
    expect(await describeGroup(env, "doomed")).toMatchObject({ Status: "Delete in progress" });
    await eventually(async () => (await describeGroup(env, "doomed")) === undefined, {
      what: "the group to vanish",
    });
    for (const i of instances) expect(ec2State(env, i.InstanceId!)).toBe("terminated");
    expect(await activities(env, "doomed")).toEqual([]);
    const kept = await env.autoscaling.send(
      new DescribeScalingActivitiesCommand({
        AutoScalingGroupName: "doomed",
        IncludeDeletedGroups: true,
      }),
    );
    expect(
      kept.Activities?.filter((a) => a.Description?.startsWith("Terminating EC2 instance")),
    ).toHaveLength(2);
    const policies = await env.autoscaling.send(new DescribePoliciesCommand({}));
    expect(policies.ScalingPolicies?.filter((p) => p.AutoScalingGroupName === "doomed")).toEqual(
      [],
    );
  });

  it("a group whose instances are still terminating cannot be deleted (ScalingActivityInProgressFault)", async () => {
    const tg = await createTargetGroup(env, { inUse: true, deregistrationDelay: 60 });
    await createGroup(env, "winding-down", { DesiredCapacity: 1, TargetGroupARNs: [tg] });
    await inService(env, "winding-down", 1);
    await env.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: "winding-down", DesiredCapacity: 0 }),
    );
    await eventually(
      async () =>
        (await describeGroup(env, "winding-down"))?.Instances?.[0]?.LifecycleState ===
        "Terminating",
      { what: "the instance to be Terminating" },
    );
    const error = await env.autoscaling
      .send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: "winding-down" }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScalingActivityInProgressFault);
    await inService(env, "winding-down", 0);
    await env.autoscaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: "winding-down" }),
    );
    expect(await describeGroup(env, "winding-down")).toBeUndefined();
  });

  it("an empty group is deleted at once", async () => {
    await createGroup(env, "empty");
    await env.autoscaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: "empty" }),
    );
    expect(await describeGroup(env, "empty")).toBeUndefined();
  });
});

describe("describing groups and tags", () => {
  let env: SandboxClients;
  beforeAll(async () => {
    env = await sandboxWithClients();
  });
  afterAll(() => env.stop());

  it("pages past 100 groups with MaxRecords 100 and NextToken", async () => {
    const names = Array.from({ length: 120 }, (_, i) => `page-${String(i).padStart(3, "0")}`);
    for (const name of names) await createGroup(env, name);
    const pages: number[] = [];
    const seen: string[] = [];
    for await (const page of paginateDescribeAutoScalingGroups(
      { client: env.autoscaling, pageSize: 100 },
      {},
    )) {
      pages.push(page.AutoScalingGroups?.length ?? 0);
      for (const g of page.AutoScalingGroups ?? []) seen.push(g.AutoScalingGroupName!);
    }
    expect(pages).toEqual([100, 20]);
    expect(seen).toEqual(names);
    await expect(
      env.autoscaling.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 101 })),
    ).rejects.toMatchObject({ name: "ValidationError" });
    const first = await env.autoscaling.send(new DescribeAutoScalingGroupsCommand({}));
    expect(first.AutoScalingGroups).toHaveLength(50);
  });

  it("filters groups by tag-key, tag-value and tag:<key>", async () => {
    await createGroup(env, "blue", {
      Tags: [
        { Key: "switchyard:app", Value: "web" },
        { Key: "switchyard:role", Value: "live" },
      ],
    });
    await createGroup(env, "green", {
      Tags: [
        { Key: "switchyard:app", Value: "web" },
        { Key: "switchyard:role", Value: "standby" },
      ],
    });
    const names = async (Filters: Array<{ Name: string; Values: string[] }>) =>
      (
        await env.autoscaling.send(new DescribeAutoScalingGroupsCommand({ Filters }))
      ).AutoScalingGroups?.map((g) => g.AutoScalingGroupName);
    expect(await names([{ Name: "tag-key", Values: ["switchyard:app"] }])).toEqual([
      "blue",
      "green",
    ]);
    expect(await names([{ Name: "tag-value", Values: ["standby"] }])).toEqual(["green"]);
    expect(await names([{ Name: "tag:switchyard:role", Values: ["live", "other"] }])).toEqual([
      "blue",
    ]);
    expect(
      await names([
        { Name: "tag:switchyard:app", Values: ["web"] },
        { Name: "tag:switchyard:role", Values: ["standby"] },
      ]),
    ).toEqual(["green"]);
  });

  it("CreateOrUpdateTags, DeleteTags and DescribeTags with filters", async () => {
    await createGroup(env, "tagged");
    await env.autoscaling.send(
      new CreateOrUpdateTagsCommand({
        Tags: [
          { ResourceId: "tagged", ResourceType: "auto-scaling-group", Key: "a", Value: "1" },
          {
            ResourceId: "tagged",
            ResourceType: "auto-scaling-group",
            Key: "b",
            Value: "2",
            PropagateAtLaunch: true,
          },
        ],
      }),
    );
    await env.autoscaling.send(
      new CreateOrUpdateTagsCommand({
        Tags: [{ ResourceId: "tagged", ResourceType: "auto-scaling-group", Key: "a", Value: "9" }],
      }),
    );
    const described = await env.autoscaling.send(
      new DescribeTagsCommand({ Filters: [{ Name: "auto-scaling-group", Values: ["tagged"] }] }),
    );
    expect(described.Tags).toEqual([
      {
        ResourceId: "tagged",
        ResourceType: "auto-scaling-group",
        Key: "a",
        Value: "9",
        PropagateAtLaunch: false,
      },
      {
        ResourceId: "tagged",
        ResourceType: "auto-scaling-group",
        Key: "b",
        Value: "2",
        PropagateAtLaunch: true,
      },
    ]);
    await env.autoscaling.send(
      new DeleteTagsCommand({
        Tags: [{ ResourceId: "tagged", ResourceType: "auto-scaling-group", Key: "a" }],
      }),
    );
    const byKey = await env.autoscaling.send(
      new DescribeTagsCommand({
        Filters: [
          { Name: "auto-scaling-group", Values: ["tagged"] },
          { Name: "key", Values: ["a", "b"] },
        ],
      }),
    );
    expect(byKey.Tags?.map((t) => t.Key)).toEqual(["b"]);
  });
});

describe("policies and scheduled actions", () => {
  let env: SandboxClients;
  beforeAll(async () => {
    env = await sandboxWithClients();
    await createGroup(env, "scaled");
  });
  afterAll(() => env.stop());

  it("scaling policies round-trip through PutScalingPolicy and DescribePolicies", async () => {
    const tracking = await env.autoscaling.send(
      new PutScalingPolicyCommand({
        AutoScalingGroupName: "scaled",
        PolicyName: "cpu50",
        PolicyType: "TargetTrackingScaling",
        EstimatedInstanceWarmup: 120,
        TargetTrackingConfiguration: {
          TargetValue: 50,
          DisableScaleIn: false,
          PredefinedMetricSpecification: { PredefinedMetricType: "ASGAverageCPUUtilization" },
        },
      }),
    );
    expect(tracking.PolicyARN).toMatch(
      /^arn:aws:autoscaling:us-east-1:\d{12}:scalingPolicy:[0-9a-f-]+:autoScalingGroupName\/scaled:policyName\/cpu50$/,
    );
    expect(tracking.Alarms).toEqual([]);
    await env.autoscaling.send(
      new PutScalingPolicyCommand({
        AutoScalingGroupName: "scaled",
        PolicyName: "steps",
        PolicyType: "StepScaling",
        AdjustmentType: "ChangeInCapacity",
        StepAdjustments: [
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 10, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 10, ScalingAdjustment: 2 },
        ],
      }),
    );
    const described = await env.autoscaling.send(
      new DescribePoliciesCommand({ AutoScalingGroupName: "scaled" }),
    );
    expect(described.ScalingPolicies).toEqual([
      expect.objectContaining({
        PolicyName: "cpu50",
        PolicyARN: tracking.PolicyARN,
        PolicyType: "TargetTrackingScaling",
        EstimatedInstanceWarmup: 120,
        Enabled: true,
        Alarms: [],
        TargetTrackingConfiguration: {
          TargetValue: 50,
          DisableScaleIn: false,
          PredefinedMetricSpecification: { PredefinedMetricType: "ASGAverageCPUUtilization" },
        },
      }),
      expect.objectContaining({
        PolicyName: "steps",
        PolicyType: "StepScaling",
        AdjustmentType: "ChangeInCapacity",
        StepAdjustments: [
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 10, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 10, ScalingAdjustment: 2 },
        ],
      }),
    ]);
    await env.autoscaling.send(
      new DeletePolicyCommand({ AutoScalingGroupName: "scaled", PolicyName: "steps" }),
    );
    const after = await env.autoscaling.send(
      new DescribePoliciesCommand({ AutoScalingGroupName: "scaled" }),
    );
    expect(after.ScalingPolicies?.map((p) => p.PolicyName)).toEqual(["cpu50"]);
  });

  it("a target tracking policy without its configuration is a ValidationError", async () => {
    await expect(
      env.autoscaling.send(
        new PutScalingPolicyCommand({
          AutoScalingGroupName: "scaled",
          PolicyName: "empty",
          PolicyType: "TargetTrackingScaling",
        }),
      ),
    ).rejects.toMatchObject({ name: "ValidationError" });
  });

  it("scheduled actions round-trip and are deleted by name", async () => {
    const start = new Date("2030-01-01T08:00:00Z");
    await env.autoscaling.send(
      new PutScheduledUpdateGroupActionCommand({
        AutoScalingGroupName: "scaled",
        ScheduledActionName: "morning",
        Recurrence: "0 8 * * 1-5",
        StartTime: start,
        MinSize: 1,
        MaxSize: 4,
        DesiredCapacity: 2,
        TimeZone: "Europe/Paris",
      }),
    );
    const described = await env.autoscaling.send(
      new DescribeScheduledActionsCommand({ AutoScalingGroupName: "scaled" }),
    );
    expect(described.ScheduledUpdateGroupActions).toEqual([
      expect.objectContaining({
        AutoScalingGroupName: "scaled",
        ScheduledActionName: "morning",
        ScheduledActionARN: expect.stringContaining(":scheduledActionName/morning"),
        Recurrence: "0 8 * * 1-5",
        StartTime: start,
        MinSize: 1,
        MaxSize: 4,
        DesiredCapacity: 2,
        TimeZone: "Europe/Paris",
      }),
    ]);
    await env.autoscaling.send(
      new DeleteScheduledActionCommand({
        AutoScalingGroupName: "scaled",
        ScheduledActionName: "morning",
      }),
    );
    const after = await env.autoscaling.send(
      new DescribeScheduledActionsCommand({ AutoScalingGroupName: "scaled" }),
    );
    expect(after.ScheduledUpdateGroupActions).toEqual([]);
  });
});
