/**
 * The AWS CLI calls an operator makes, run against an in-process sandbox exactly as docs/sandbox.md
 * says (`AWS_ENDPOINT_URL`, dummy credentials, `AWS_DEFAULT_REGION`), their JSON output parsed
 * and checked: S3 buckets and copies, the default network, security groups, a load balancer with
 * a target group and listener, an Auto Scaling group scaled and its activities, STS and IAM.
 *
 * The `aws` binary comes from the machine (SWITCHYARD_AWS_CLI, else PATH). When it is missing the
 * test fails saying so; SWITCHYARD_SKIP_AWS_CLI=1 skips it instead, with a warning.
 *
 * Each `aws` invocation spends most of its time starting Python, so independent calls run
 * together, one step of the operator's session at a time: about 15 s on an idle two-core
 * machine. The time limits are for a machine busy with other work, where each call can take
 * seconds.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ActivitiesType, AutoScalingGroupsType } from "@aws-sdk/client-auto-scaling";
import type {
  CreateLaunchTemplateResult,
  CreateSecurityGroupResult,
  DescribeSecurityGroupsResult,
  DescribeSubnetsResult,
  DescribeVpcsResult,
} from "@aws-sdk/client-ec2";
import type {
  CreateListenerOutput,
  CreateLoadBalancerOutput,
  CreateTargetGroupOutput,
  DescribeListenersOutput,
  DescribeTargetHealthOutput,
  Listener,
  ModifyListenerOutput,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { CreateRoleResponse, GetRoleResponse } from "@aws-sdk/client-iam";
import type { GetBucketVersioningOutput } from "@aws-sdk/client-s3";
import type { GetCallerIdentityResponse } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_IMAGE_ID, type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { collect, type Run } from "../e2e/helpers.js";
import { eventually } from "../helpers/sandbox.js";

const VPC = "vpc-0sandbox00000001";
const SUBNETS = ["subnet-0sandbox0000000a", "subnet-0sandbox0000000b"];

/** The aws binary: SWITCHYARD_AWS_CLI, else the first `aws` on PATH. */
function findAwsCli(): string | undefined {
  const named = process.env.SWITCHYARD_AWS_CLI;
  if (named) return existsSync(named) ? named : undefined;
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = join(dir, "aws");
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

const awsCli = findAwsCli();
const skipRequested = process.env.SWITCHYARD_SKIP_AWS_CLI === "1";
if (skipRequested) {
  console.warn(
    "aws-cli.test.ts: SKIPPED because SWITCHYARD_SKIP_AWS_CLI=1; the AWS CLI was not run against the sandbox",
  );
}

describe.skipIf(skipRequested)("the AWS CLI against the sandbox", () => {
  let sandbox: Sandbox;
  let dir: string;

  /** Runs `aws …` with the environment docs/sandbox.md prints, isolated from the user's config. */
  const run = (args: string[]): Promise<Run> => {
    const child = spawn(awsCli ?? "aws", args, {
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        AWS_ENDPOINT_URL: sandbox.endpoint,
        AWS_DEFAULT_REGION: sandbox.region,
        AWS_ACCESS_KEY_ID: "sandbox",
        AWS_SECRET_ACCESS_KEY: "sandbox",
        AWS_PAGER: "",
        AWS_CONFIG_FILE: join(dir, "config"),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
        AWS_EC2_METADATA_DISABLED: "true",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return collect(child).done;
  };

  /**
   * `aws … --output json`, exit 0, the output parsed (an empty output is `{}`) as the SDK's
   * output shape of the same operation, which is what the CLI prints.
   */
  const aws = async <T = Record<string, unknown>>(...args: string[]): Promise<T> => {
    const out = await run([...args, "--output", "json"]);
    expect(out.code, `aws ${args.join(" ")}\n${out.stderr}`).toBe(0);
    return (out.stdout.trim() === "" ? {} : JSON.parse(out.stdout)) as T;
  };
  /** A command that prints text (`aws s3 …`): exit 0, its stdout. */
  const awsText = async (...args: string[]): Promise<string> => {
    const out = await run(args);
    expect(out.code, `aws ${args.join(" ")}\n${out.stderr}`).toBe(0);
    return out.stdout;
  };

  beforeAll(async () => {
    if (!awsCli) return;
    sandbox = await startSandbox({ port: 0, timeScale: 0.01 });
    // nothing but the environment docs/sandbox.md gives: no config or credentials file
    dir = await mkdtemp(join(tmpdir(), "switchyard-aws-cli-"));
  });

  afterAll(async () => {
    await sandbox?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("finds the aws command on this machine", () => {
    expect(
      awsCli,
      "the AWS CLI (`aws`) is not installed: put it on PATH or set SWITCHYARD_AWS_CLI (SWITCHYARD_SKIP_AWS_CLI=1 skips this test)",
    ).toBeDefined();
  });

  it("runs an operator's session: S3, network, load balancer, Auto Scaling, STS and IAM", async () => {
    if (!awsCli) return;
    const trust = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
      ],
    });
    const release = join(dir, "release.txt");
    await writeFile(release, "release r1\n");

    // 1. what is there, and the first things made
    const [identity, role, made, vpcs, subnets, sg, blue, green, template, lambda] =
      await Promise.all([
        aws<GetCallerIdentityResponse>("sts", "get-caller-identity"),
        aws<CreateRoleResponse>(
          "iam",
          "create-role",
          "--role-name",
          "web-prod",
          "--assume-role-policy-document",
          trust,
        ),
        awsText("s3", "mb", "s3://acme-releases"),
        aws<DescribeVpcsResult>("ec2", "describe-vpcs", "--filters", "Name=isDefault,Values=true"),
        aws<DescribeSubnetsResult>(
          "ec2",
          "describe-subnets",
          "--filters",
          `Name=vpc-id,Values=${VPC}`,
        ),
        aws<CreateSecurityGroupResult>(
          "ec2",
          "create-security-group",
          "--group-name",
          "web-prod-lb",
          "--description",
          "load balancer of web/prod",
          "--vpc-id",
          VPC,
        ),
        aws<CreateTargetGroupOutput>(
          "elbv2",
          "create-target-group",
          "--name",
          "web-prod-blue",
          "--protocol",
          "HTTP",
          "--port",
          "8080",
          "--vpc-id",
          VPC,
          "--health-check-path",
          "/health",
        ),
        aws<CreateTargetGroupOutput>(
          "elbv2",
          "create-target-group",
          "--name",
          "web-prod-green",
          "--protocol",
          "HTTP",
          "--port",
          "8080",
          "--vpc-id",
          VPC,
        ),
        aws<CreateLaunchTemplateResult>(
          "ec2",
          "create-launch-template",
          "--launch-template-name",
          "web-prod",
          "--launch-template-data",
          JSON.stringify({ ImageId: BASE_IMAGE_ID, InstanceType: "t3.small" }),
        ),
        run(["lambda", "list-functions", "--output", "json"]),
      ]);
    expect(identity).toEqual({
      UserId: "AIDASANDBOXUSER00000",
      Account: "123456789012",
      Arn: "arn:aws:iam::123456789012:user/sandbox",
    });
    expect(role.Role).toMatchObject({
      RoleName: "web-prod",
      Arn: "arn:aws:iam::123456789012:role/web-prod",
      Path: "/",
    });
    expect(made).toContain("make_bucket: acme-releases");
    expect(vpcs.Vpcs).toHaveLength(1);
    expect(vpcs.Vpcs?.[0]).toMatchObject({
      VpcId: VPC,
      IsDefault: true,
      CidrBlock: "172.31.0.0/16",
    });
    expect((subnets.Subnets ?? []).map((s) => s.SubnetId).sort()).toEqual([
      ...SUBNETS,
      "subnet-0sandbox0000000c",
    ]);
    const sgId = sg.GroupId ?? "";
    expect(sgId).toMatch(/^sg-[0-9a-f]{17}$/);
    const blueArn = blue.TargetGroups?.[0]?.TargetGroupArn ?? "";
    const greenArn = green.TargetGroups?.[0]?.TargetGroupArn ?? "";
    expect(blue.TargetGroups?.[0]).toMatchObject({
      TargetGroupName: "web-prod-blue",
      Protocol: "HTTP",
      Port: 8080,
      VpcId: VPC,
      HealthCheckPath: "/health",
      TargetType: "instance",
    });
    expect(template.LaunchTemplate).toMatchObject({
      LaunchTemplateName: "web-prod",
      LatestVersionNumber: 1,
    });
    // a service the sandbox does not serve: an error naming it, never a silent success
    expect(lambda.code).not.toBe(0);
    expect(lambda.stderr).toContain("UnrecognizedService");
    expect(lambda.stderr).toContain("does not serve the 'lambda' service");

    // 2. a release uploaded, versioning on, the load balancer, the group
    const [got, uploaded, , groups, lb] = await Promise.all([
      aws<GetRoleResponse>("iam", "get-role", "--role-name", "web-prod"),
      awsText("s3", "cp", release, "s3://acme-releases/web/r1.txt"),
      aws(
        "s3api",
        "put-bucket-versioning",
        "--bucket",
        "acme-releases",
        "--versioning-configuration",
        "Status=Enabled",
      ),
      aws<DescribeSecurityGroupsResult>("ec2", "describe-security-groups", "--group-ids", sgId),
      aws<CreateLoadBalancerOutput>(
        "elbv2",
        "create-load-balancer",
        "--name",
        "web-prod",
        "--subnets",
        ...SUBNETS,
        "--security-groups",
        sgId,
      ),
      aws(
        "autoscaling",
        "create-auto-scaling-group",
        "--auto-scaling-group-name",
        "web-prod-v001",
        "--launch-template",
        "LaunchTemplateName=web-prod,Version=$Latest",
        "--min-size",
        "0",
        "--max-size",
        "3",
        "--desired-capacity",
        "1",
        "--vpc-zone-identifier",
        SUBNETS.join(","),
        "--target-group-arns",
        blueArn,
      ),
    ]);
    // the CLI decodes the URL-encoded document IAM returns
    expect(got.Role?.AssumeRolePolicyDocument).toEqual(JSON.parse(trust));
    expect(uploaded).toContain("upload:");
    expect(groups.SecurityGroups?.[0]).toMatchObject({
      GroupId: sgId,
      GroupName: "web-prod-lb",
      VpcId: VPC,
      IpPermissionsEgress: [expect.objectContaining({ IpProtocol: "-1" })],
    });
    const lbArn = lb.LoadBalancers?.[0]?.LoadBalancerArn ?? "";
    expect(lb.LoadBalancers?.[0]).toMatchObject({
      LoadBalancerName: "web-prod",
      Type: "application",
      Scheme: "internet-facing",
      State: { Code: "active" },
      SecurityGroups: [sgId],
      VpcId: VPC,
    });

    // 3. read back, download, the listener
    const download = join(dir, "downloaded.txt");
    const [listed, , versioning, listener, asg] = await Promise.all([
      awsText("s3", "ls", "s3://acme-releases/web/"),
      awsText("s3", "cp", "s3://acme-releases/web/r1.txt", download),
      aws<GetBucketVersioningOutput>("s3api", "get-bucket-versioning", "--bucket", "acme-releases"),
      aws<CreateListenerOutput>(
        "elbv2",
        "create-listener",
        "--load-balancer-arn",
        lbArn,
        "--protocol",
        "HTTP",
        "--port",
        "80",
        "--default-actions",
        `Type=forward,TargetGroupArn=${blueArn}`,
      ),
      aws<AutoScalingGroupsType>(
        "autoscaling",
        "describe-auto-scaling-groups",
        "--auto-scaling-group-names",
        "web-prod-v001",
      ),
    ]);
    expect(listed).toMatch(/\s11 r1\.txt\n$/);
    expect(await readFile(download, "utf8")).toBe("release r1\n");
    expect(versioning).toEqual({ Status: "Enabled" });
    const listenerArn = listener.Listeners?.[0]?.ListenerArn ?? "";
    expect(listener.Listeners?.[0]).toMatchObject({ LoadBalancerArn: lbArn, Port: 80 });
    expect(asg.AutoScalingGroups?.[0]).toMatchObject({
      AutoScalingGroupName: "web-prod-v001",
      MinSize: 0,
      MaxSize: 3,
      DesiredCapacity: 1,
      TargetGroupARNs: [blueArn],
      LaunchTemplate: { LaunchTemplateName: "web-prod" },
    });

    // 4. the instance registers in blue; scale to two; send a fifth of the traffic to green
    const first = await eventually(
      async () => {
        const health = await aws<DescribeTargetHealthOutput>(
          "elbv2",
          "describe-target-health",
          "--target-group-arn",
          blueArn,
        );
        return health.TargetHealthDescriptions?.length === 1 ? health : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: "the group's instance in the blue target group" },
    );
    const [registered] = first.TargetHealthDescriptions ?? [];
    const instanceId = registered?.Target?.Id ?? "";
    expect(instanceId).toMatch(/^i-[0-9a-f]{17}$/);
    expect(registered?.Target?.Port).toBe(8080);
    expect(["initial", "healthy", "unhealthy"]).toContain(registered?.TargetHealth?.State);
    const [, modified] = await Promise.all([
      aws(
        "autoscaling",
        "set-desired-capacity",
        "--auto-scaling-group-name",
        "web-prod-v001",
        "--desired-capacity",
        "2",
      ),
      aws<ModifyListenerOutput>(
        "elbv2",
        "modify-listener",
        "--listener-arn",
        listenerArn,
        "--default-actions",
        JSON.stringify([
          {
            Type: "forward",
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: blueArn, Weight: 80 },
                { TargetGroupArn: greenArn, Weight: 20 },
              ],
            },
          },
        ]),
      ),
    ]);
    const weights = (listeners: Listener[] | undefined) =>
      Object.fromEntries(
        (listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups ?? []).map((t) => [
          t.TargetGroupArn,
          t.Weight,
        ]),
      );
    expect(weights(modified.Listeners)).toEqual({ [blueArn]: 80, [greenArn]: 20 });

    // 5. what the operator reads afterwards
    const [described, activities, scaled] = await Promise.all([
      aws<DescribeListenersOutput>("elbv2", "describe-listeners", "--load-balancer-arn", lbArn),
      eventually(
        async () => {
          const out = await aws<ActivitiesType>(
            "autoscaling",
            "describe-scaling-activities",
            "--auto-scaling-group-name",
            "web-prod-v001",
          );
          return (out.Activities?.length ?? 0) >= 2 ? out : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200, what: "two scaling activities" },
      ),
      eventually(
        async () => {
          const out = await aws<AutoScalingGroupsType>(
            "autoscaling",
            "describe-auto-scaling-groups",
            "--auto-scaling-group-names",
            "web-prod-v001",
          );
          return out.AutoScalingGroups?.[0]?.Instances?.length === 2 ? out : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200, what: "the group to have two instances" },
      ),
    ]);
    expect(described.Listeners).toHaveLength(1);
    expect(weights(described.Listeners)).toEqual({ [blueArn]: 80, [greenArn]: 20 });
    for (const activity of activities.Activities ?? []) {
      expect(activity).toMatchObject({
        AutoScalingGroupName: "web-prod-v001",
        Description: expect.stringMatching(/^Launching a new EC2 instance: i-[0-9a-f]{17}$/),
        StatusCode: expect.stringMatching(/^(InProgress|Successful|PreInService)$/),
      });
    }
    expect(scaled.AutoScalingGroups?.[0]?.DesiredCapacity).toBe(2);
    expect((scaled.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId)).toContain(
      instanceId,
    );
  }, 240_000);
});
