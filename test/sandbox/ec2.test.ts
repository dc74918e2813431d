import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  type Instance,
  ModifyLaunchTemplateCommand,
  paginateDescribeInstances,
  paginateDescribeLaunchTemplates,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BASE_IMAGE_ID,
  BASE_IMAGE_NAME,
  DEFAULT_SECURITY_GROUP_ID,
  DEFAULT_VPC_ID,
} from "../../src/sandbox/seed.js";
import { launchInstance, terminateInstance } from "../../src/sandbox/world.js";
import { eventually, type SandboxClients, sandboxWithClients } from "../helpers/sandbox.js";

let env: SandboxClients;
beforeAll(async () => {
  // 100 AWS seconds of boot = 1 real second at the helper's time scale: long enough to see `pending`.
  env = await sandboxWithClients({ bootSeconds: 100 });
});
afterAll(() => env.stop());

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
let templateCount = 0;
const uniqueName = (prefix: string) => `${prefix}-${++templateCount}-${Date.now()}`;

async function createTemplate(name: string, data: Record<string, unknown> = {}) {
  const out = await env.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: name,
      LaunchTemplateData: { ImageId: BASE_IMAGE_ID, InstanceType: "t3.small", ...data },
    }),
  );
  return out.LaunchTemplate!;
}

describe("DescribeImages", () => {
  it("finds the base image by a name filter, wildcards included", async () => {
    const exact = await env.ec2.send(
      new DescribeImagesCommand({ Filters: [{ Name: "name", Values: [BASE_IMAGE_NAME] }] }),
    );
    expect(exact.Images?.map((i) => i.ImageId)).toEqual([BASE_IMAGE_ID]);
    expect(exact.Images?.[0]).toMatchObject({ Name: BASE_IMAGE_NAME, State: "available" });

    const wild = await env.ec2.send(
      new DescribeImagesCommand({
        Owners: ["self"],
        Filters: [{ Name: "name", Values: ["switchyard-sandbox-*"] }],
      }),
    );
    expect(wild.Images).toHaveLength(2);
  });

  it("finds the base image by id", async () => {
    const out = await env.ec2.send(new DescribeImagesCommand({ ImageIds: [BASE_IMAGE_ID] }));
    expect(out.Images).toHaveLength(1);
    expect(out.Images?.[0]?.Name).toBe(BASE_IMAGE_NAME);
    expect(out.Images?.[0]?.CreationDate).toBe("2026-01-01T00:00:00.000Z");
  });

  it("a missing image id is the SDK error InvalidAMIID.NotFound naming the id", async () => {
    await expect(
      env.ec2.send(new DescribeImagesCommand({ ImageIds: ["ami-0123456789abcdef0"] })),
    ).rejects.toMatchObject({
      name: "InvalidAMIID.NotFound",
      message: "The image id '[ami-0123456789abcdef0]' does not exist",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("a malformed image id is InvalidAMIID.Malformed", async () => {
    await expect(
      env.ec2.send(new DescribeImagesCommand({ ImageIds: ["web-base"] })),
    ).rejects.toMatchObject({ name: "InvalidAMIID.Malformed" });
  });

  it("an unknown filter name is InvalidParameterValue", async () => {
    await expect(
      env.ec2.send(new DescribeImagesCommand({ Filters: [{ Name: "colour", Values: ["x"] }] })),
    ).rejects.toMatchObject({ name: "InvalidParameterValue" });
  });

  it("DryRun answers DryRunOperation and does nothing", async () => {
    await expect(env.ec2.send(new DescribeImagesCommand({ DryRun: true }))).rejects.toMatchObject({
      name: "DryRunOperation",
      $metadata: { httpStatusCode: 412 },
    });
  });
});

describe("VPCs, subnets and security groups", () => {
  it("the default VPC is the one with is-default=true", async () => {
    const out = await env.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
    );
    expect(out.Vpcs?.map((v) => [v.VpcId, v.IsDefault, v.State])).toEqual([
      [DEFAULT_VPC_ID, true, "available"],
    ]);
  });

  it("the default VPC has subnets in zones a, b and c", async () => {
    const out = await env.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [DEFAULT_VPC_ID] }] }),
    );
    const zones = out.Subnets?.map((s) => s.AvailabilityZone).sort();
    expect(zones).toEqual(["us-east-1a", "us-east-1b", "us-east-1c"]);
    expect(out.Subnets?.every((s) => s.VpcId === DEFAULT_VPC_ID && s.DefaultForAz)).toBe(true);
  });

  it("filters subnets by availability zone and by id", async () => {
    const byZone = await env.ec2.send(
      new DescribeSubnetsCommand({
        Filters: [{ Name: "availability-zone", Values: ["us-east-1b"] }],
      }),
    );
    expect(byZone.Subnets).toHaveLength(1);
    const id = byZone.Subnets![0]!.SubnetId!;
    const byId = await env.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] }));
    expect(byId.Subnets?.map((s) => s.AvailabilityZone)).toEqual(["us-east-1b"]);
  });

  it("a missing subnet id is InvalidSubnetID.NotFound", async () => {
    await expect(
      env.ec2.send(new DescribeSubnetsCommand({ SubnetIds: ["subnet-0123456789abcdef0"] })),
    ).rejects.toMatchObject({
      name: "InvalidSubnetID.NotFound",
      message: "The subnet ID 'subnet-0123456789abcdef0' does not exist",
    });
  });

  it("finds the default security group by id and by vpc-id and group-name filters", async () => {
    const byId = await env.ec2.send(
      new DescribeSecurityGroupsCommand({ GroupIds: [DEFAULT_SECURITY_GROUP_ID] }),
    );
    expect(byId.SecurityGroups?.[0]).toMatchObject({
      GroupId: DEFAULT_SECURITY_GROUP_ID,
      GroupName: "default",
      VpcId: DEFAULT_VPC_ID,
    });
    const byFilter = await env.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: "vpc-id", Values: [DEFAULT_VPC_ID] },
          { Name: "group-name", Values: ["default"] },
        ],
      }),
    );
    expect(byFilter.SecurityGroups?.map((g) => g.GroupId)).toEqual([DEFAULT_SECURITY_GROUP_ID]);
  });

  it("a missing security group id is InvalidGroup.NotFound", async () => {
    await expect(
      env.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ["sg-0123456789abcdef0"] })),
    ).rejects.toMatchObject({ name: "InvalidGroup.NotFound" });
  });
});

describe("launch templates", () => {
  it("user data, image, type, security groups and instance profile round-trip through DescribeLaunchTemplateVersions", async () => {
    const name = uniqueName("web-prod-v001");
    const userData = b64("#!/bin/sh\nRELEASE_URL=s3://releases/web/prod/r42.tar.gz\n");
    const created = await env.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: name,
        VersionDescription: "r42",
        LaunchTemplateData: {
          ImageId: BASE_IMAGE_ID,
          InstanceType: "t3.small",
          UserData: userData,
          SecurityGroupIds: [DEFAULT_SECURITY_GROUP_ID],
          IamInstanceProfile: { Name: "web-prod" },
          MetadataOptions: { HttpTokens: "required" },
        },
        TagSpecifications: [
          { ResourceType: "launch-template", Tags: [{ Key: "switchyard:app", Value: "web" }] },
        ],
      }),
    );
    expect(created.LaunchTemplate).toMatchObject({
      LaunchTemplateName: name,
      DefaultVersionNumber: 1,
      LatestVersionNumber: 1,
      Tags: [{ Key: "switchyard:app", Value: "web" }],
    });
    expect(created.LaunchTemplate?.LaunchTemplateId).toMatch(/^lt-[0-9a-f]{16,17}$/);
    expect(created.Warning).toBeUndefined();

    const versions = await env.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: name }),
    );
    expect(versions.LaunchTemplateVersions).toHaveLength(1);
    const v1 = versions.LaunchTemplateVersions![0]!;
    expect(v1).toMatchObject({
      LaunchTemplateId: created.LaunchTemplate?.LaunchTemplateId,
      VersionNumber: 1,
      VersionDescription: "r42",
      DefaultVersion: true,
      LaunchTemplateData: {
        ImageId: BASE_IMAGE_ID,
        InstanceType: "t3.small",
        UserData: userData,
        SecurityGroupIds: [DEFAULT_SECURITY_GROUP_ID],
        IamInstanceProfile: { Name: "web-prod" },
        MetadataOptions: { HttpTokens: "required" },
      },
    });
    expect(Buffer.from(v1.LaunchTemplateData!.UserData!, "base64").toString("utf8")).toContain(
      "r42.tar.gz",
    );
  });

  it("accepts user data of exactly 16384 bytes before encoding and rejects 16385", async () => {
    const exact = Buffer.alloc(16384, "a").toString("base64");
    await createTemplate(uniqueName("ud-limit"), { UserData: exact });
    const over = Buffer.alloc(16385, "a").toString("base64");
    await expect(createTemplate(uniqueName("ud-over"), { UserData: over })).rejects.toMatchObject({
      name: "InvalidParameterValue",
      message: "User data is limited to 16384 bytes",
    });
  });

  it("rejects user data that is not base64", async () => {
    await expect(
      createTemplate(uniqueName("ud-bad"), { UserData: "#!/bin/sh\necho hi" }),
    ).rejects.toMatchObject({ name: "InvalidUserData.Malformed" });
  });

  it("a second template with the same name is InvalidLaunchTemplateName.AlreadyExistsException", async () => {
    const name = uniqueName("dup");
    await createTemplate(name);
    await expect(createTemplate(name)).rejects.toMatchObject({
      name: "InvalidLaunchTemplateName.AlreadyExistsException",
    });
    const all = await env.ec2.send(
      new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [name] }),
    );
    expect(all.LaunchTemplates).toHaveLength(1);
  });

  it("a name shorter than 3 characters or with other characters is malformed", async () => {
    for (const name of ["ab", "web prod", "x".repeat(129)]) {
      await expect(createTemplate(name)).rejects.toMatchObject({
        name: "InvalidLaunchTemplateName.MalformedException",
      });
    }
  });

  it("warns, without failing, when the image does not exist", async () => {
    const out = await env.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: uniqueName("no-image"),
        LaunchTemplateData: { ImageId: "ami-0123456789abcdef0" },
      }),
    );
    expect(out.Warning?.Errors?.[0]?.Code).toBe("InvalidAMIID.NotFound");
  });

  it("a new version copies its source version, and $Latest/$Default resolve to the latest and default", async () => {
    const name = uniqueName("versions");
    const t = await createTemplate(name, {
      UserData: b64("r1"),
      SecurityGroupIds: [DEFAULT_SECURITY_GROUP_ID],
    });
    const v2 = await env.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: t.LaunchTemplateId,
        SourceVersion: "1",
        VersionDescription: "r2",
        LaunchTemplateData: { UserData: b64("r2") },
      }),
    );
    expect(v2.LaunchTemplateVersion).toMatchObject({
      VersionNumber: 2,
      DefaultVersion: false,
      LaunchTemplateData: {
        ImageId: BASE_IMAGE_ID,
        InstanceType: "t3.small",
        SecurityGroupIds: [DEFAULT_SECURITY_GROUP_ID],
        UserData: b64("r2"),
      },
    });

    const resolve = async (version: string) => {
      const out = await env.ec2.send(
        new DescribeLaunchTemplateVersionsCommand({
          LaunchTemplateName: name,
          Versions: [version],
        }),
      );
      return out.LaunchTemplateVersions?.map((v) => v.VersionNumber);
    };
    expect(await resolve("$Latest")).toEqual([2]);
    expect(await resolve("$Default")).toEqual([1]);

    const modified = await env.ec2.send(
      new ModifyLaunchTemplateCommand({
        LaunchTemplateId: t.LaunchTemplateId,
        DefaultVersion: "2",
      }),
    );
    expect(modified.LaunchTemplate?.DefaultVersionNumber).toBe(2);
    expect(await resolve("$Default")).toEqual([2]);

    await expect(resolve("7")).rejects.toMatchObject({
      name: "InvalidLaunchTemplateId.VersionNotFound",
    });
  });

  it("a version without a source version starts from empty data", async () => {
    const t = await createTemplate(uniqueName("fresh"));
    const v2 = await env.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: t.LaunchTemplateId,
        LaunchTemplateData: { InstanceType: "t3.large" },
      }),
    );
    expect(v2.LaunchTemplateVersion?.LaunchTemplateData).toEqual({ InstanceType: "t3.large" });
  });

  it("after DeleteLaunchTemplate, describing it by id or name is not found", async () => {
    const name = uniqueName("doomed");
    const t = await createTemplate(name);
    const deleted = await env.ec2.send(
      new DeleteLaunchTemplateCommand({ LaunchTemplateName: name }),
    );
    expect(deleted.LaunchTemplate?.LaunchTemplateId).toBe(t.LaunchTemplateId);
    await expect(
      env.ec2.send(
        new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [t.LaunchTemplateId!] }),
      ),
    ).rejects.toMatchObject({ name: "InvalidLaunchTemplateId.NotFound" });
    await expect(
      env.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [name] })),
    ).rejects.toMatchObject({ name: "InvalidLaunchTemplateName.NotFoundException" });
    await expect(
      env.ec2.send(
        new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: t.LaunchTemplateId }),
      ),
    ).rejects.toMatchObject({ name: "InvalidLaunchTemplateId.NotFound" });
  });

  it("filters templates by tag and pages them with MaxResults and NextToken", async () => {
    const marker = `batch-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const out = await env.ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: uniqueName("paged"),
          LaunchTemplateData: { ImageId: BASE_IMAGE_ID },
          TagSpecifications: [
            { ResourceType: "launch-template", Tags: [{ Key: "batch", Value: marker }] },
          ],
        }),
      );
      ids.push(out.LaunchTemplate!.LaunchTemplateId!);
    }
    const pages: number[] = [];
    const seen: string[] = [];
    for await (const p of paginateDescribeLaunchTemplates(
      { client: env.ec2, pageSize: 2 },
      { Filters: [{ Name: "tag:batch", Values: [marker] }] },
    )) {
      pages.push(p.LaunchTemplates?.length ?? 0);
      seen.push(...(p.LaunchTemplates ?? []).map((t) => t.LaunchTemplateId!));
    }
    expect(pages).toEqual([2, 2, 1]);
    expect(seen.sort()).toEqual(ids.sort());
  });
});

describe("DescribeInstances", () => {
  let templateId: string;
  beforeAll(async () => {
    const t = await createTemplate(uniqueName("instances"), {
      SecurityGroupIds: [DEFAULT_SECURITY_GROUP_ID],
    });
    templateId = t.LaunchTemplateId!;
  });

  const launch = (tags: Record<string, string> = {}, zone = "a") =>
    launchInstance(env.sandbox.context, {
      launchTemplate: { LaunchTemplateId: templateId, Version: "$Latest" },
      subnetId: `subnet-0sandbox0000000${zone}`,
      tags,
    });

  const describeOne = async (instanceId: string): Promise<Instance> => {
    const out = await env.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    expect(out.Reservations).toHaveLength(1);
    return out.Reservations![0]!.Instances![0]!;
  };

  it("shows a launched instance as pending (0), then running (16), with its placement and tags", async () => {
    const instance = launch({ Name: "web-prod-v001" }, "b");
    const first = await describeOne(instance.instanceId);
    expect(first.State).toEqual({ Code: 0, Name: "pending" });
    expect(first).toMatchObject({
      InstanceId: instance.instanceId,
      ImageId: BASE_IMAGE_ID,
      InstanceType: "t3.small",
      PrivateIpAddress: instance.privateIpAddress,
      Placement: { AvailabilityZone: "us-east-1b" },
      SubnetId: "subnet-0sandbox0000000b",
      VpcId: DEFAULT_VPC_ID,
      SecurityGroups: [{ GroupId: DEFAULT_SECURITY_GROUP_ID, GroupName: "default" }],
    });
    expect(first.LaunchTime).toEqual(instance.launchTime);
    expect(first.Tags).toEqual(
      expect.arrayContaining([
        { Key: "Name", Value: "web-prod-v001" },
        { Key: "aws:ec2launchtemplate:id", Value: templateId },
      ]),
    );
    const running = await eventually(
      async () => {
        const i = await describeOne(instance.instanceId);
        return i.State?.Name === "running" ? i : undefined;
      },
      { what: "instance running" },
    );
    expect(running.State).toEqual({ Code: 16, Name: "running" });
  });

  it("filters by instance-state-name and by tag", async () => {
    const tag = `svc-${Date.now()}`;
    const a = launch({ service: tag });
    launch({ service: "someone-else" });
    const out = await env.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: "tag:service", Values: [tag] },
          { Name: "instance-state-name", Values: ["pending", "running"] },
        ],
      }),
    );
    const ids = out.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId);
    expect(ids).toEqual([a.instanceId]);
    const none = await env.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: "tag:service", Values: [tag] },
          { Name: "instance-state-name", Values: ["terminated"] },
        ],
      }),
    );
    expect(none.Reservations).toEqual([]);
  });

  it("a terminated instance shows as terminated (48) and vanishes an hour later", async () => {
    const instance = launch();
    await terminateInstance(env.sandbox.context, instance.instanceId);
    const shown = await describeOne(instance.instanceId);
    expect(shown.State).toEqual({ Code: 48, Name: "terminated" });

    // Move its termination back by just over an hour of sandbox time.
    const clock = env.sandbox.context.clock;
    instance.terminatedAt = clock.now() - clock.ms(3601);
    await expect(
      env.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instance.instanceId] })),
    ).rejects.toMatchObject({
      name: "InvalidInstanceID.NotFound",
      message: `The instance ID '${instance.instanceId}' does not exist`,
    });
    const all = await env.ec2.send(new DescribeInstancesCommand({}));
    const ids = all.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId);
    expect(ids).not.toContain(instance.instanceId);
  });

  it("pages instances with MaxResults and NextToken, each exactly once", async () => {
    const tag = `paged-${Date.now()}`;
    const launched = Array.from({ length: 7 }, () => launch({ batch: tag }).instanceId);
    const sizes: number[] = [];
    const seen: string[] = [];
    for await (const p of paginateDescribeInstances(
      { client: env.ec2, pageSize: 5 },
      { Filters: [{ Name: "tag:batch", Values: [tag] }] },
    )) {
      const ids = (p.Reservations ?? [])
        .flatMap((r) => r.Instances ?? [])
        .map((i) => i.InstanceId!);
      sizes.push(ids.length);
      seen.push(...ids);
    }
    expect(sizes).toEqual([5, 2]);
    expect(seen.sort()).toEqual(launched.sort());
  });

  it("MaxResults with instance ids is InvalidParameterCombination; MaxResults below 5 is invalid", async () => {
    const id = launch().instanceId;
    await expect(
      env.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id], MaxResults: 5 })),
    ).rejects.toMatchObject({ name: "InvalidParameterCombination" });
    await expect(
      env.ec2.send(new DescribeInstancesCommand({ MaxResults: 4 })),
    ).rejects.toMatchObject({ name: "InvalidParameterValue" });
  });

  it("a malformed instance id is InvalidInstanceID.Malformed", async () => {
    await expect(
      env.ec2.send(new DescribeInstancesCommand({ InstanceIds: ["web-1"] })),
    ).rejects.toMatchObject({ name: "InvalidInstanceID.Malformed" });
  });

  it("DescribeTags lists an instance's tags by resource id", async () => {
    const instance = launch({ team: "payments", Name: "web" });
    const out = await env.ec2.send(
      new DescribeTagsCommand({
        Filters: [
          { Name: "resource-id", Values: [instance.instanceId] },
          { Name: "key", Values: ["team", "Name"] },
        ],
      }),
    );
    expect(out.Tags?.map((t) => [t.Key, t.Value, t.ResourceType]).sort()).toEqual([
      ["Name", "web", "instance"],
      ["team", "payments", "instance"],
    ]);
  });
});
