/**
 * `switchyard sandbox` as a user runs it: a foreground process that answers the real SDK
 * clients, runs instance processes for Auto Scaling groups, and leaves no process behind when
 * it is stopped with Ctrl-C (SIGINT) or SIGTERM.
 */
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readlinkSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AutoScalingClient, CreateAutoScalingGroupCommand } from "@aws-sdk/client-auto-scaling";
import {
  CreateLaunchTemplateCommand,
  DescribeInstancesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { buildSampleRelease } from "../../examples/sample-app/release.js";
import { builtInUserData, encodeUserData } from "../../src/core/user-data.js";
import { buildCli } from "./helpers.js";

const MAIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** Pids of processes whose working directory is inside `dir` (the sandbox's instance folders). */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`).startsWith(dir)) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

async function until<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("switchyard sandbox (built CLI)", () => {
  it.each(["SIGINT", "SIGTERM"] as const)(
    "answers the SDK, runs instances, and leaves no process after %s",
    async (signal) => {
      await buildCli();
      const stateDir = await mkdtemp(join(tmpdir(), "switchyard-e2e-sandbox-"));
      const child = spawn(
        process.execPath,
        [MAIN, "sandbox", "--port", "0", "--time-scale", "0.01", "--state-dir", stateDir, "--json"],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      try {
        const endpoint = await until(
          () =>
            stdout.includes("\n")
              ? (JSON.parse(stdout.split("\n")[0]!) as { endpoint: string }).endpoint
              : undefined,
          "the sandbox to print its endpoint",
        );
        const config = {
          endpoint,
          region: "us-east-1",
          credentials: { accessKeyId: "any", secretAccessKey: "any" },
        };
        const s3 = new S3Client({ ...config, forcePathStyle: true });
        const ec2 = new EC2Client(config);
        const autoscaling = new AutoScalingClient(config);
        await s3.send(new CreateBucketCommand({ Bucket: "releases" }));
        await s3.send(
          new PutObjectCommand({
            Bucket: "releases",
            Key: "web/e2e/r1.tar.gz",
            Body: await buildSampleRelease({ version: "r1" }),
          }),
        );
        const releaseUrl = "s3://releases/web/e2e/r1.tar.gz";
        const lt = await ec2.send(
          new CreateLaunchTemplateCommand({
            LaunchTemplateName: "e2e-r1",
            LaunchTemplateData: {
              ImageId: "ami-05a1dbox0base0001",
              InstanceType: "t3.small",
              UserData: encodeUserData(
                builtInUserData({
                  releaseUrl,
                  service: "web/e2e",
                  app: "web",
                  env: "e2e",
                  group: "e2e",
                  version: "r1",
                }),
              ),
            },
          }),
        );
        await autoscaling.send(
          new CreateAutoScalingGroupCommand({
            AutoScalingGroupName: "e2e",
            LaunchTemplate: {
              LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId,
              Version: "$Latest",
            },
            MinSize: 2,
            MaxSize: 2,
            DesiredCapacity: 2,
            VPCZoneIdentifier: "subnet-0sandbox0000000a,subnet-0sandbox0000000b",
          }),
        );
        await until(async () => {
          const out = await ec2.send(
            new DescribeInstancesCommand({
              Filters: [{ Name: "instance-state-name", Values: ["running"] }],
            }),
          );
          return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).length === 2
            ? true
            : undefined;
        }, "two running instances");
        const running = await until(() => {
          const pids = processesUnder(stateDir);
          return pids.length >= 2 ? pids : undefined;
        }, "two release processes");
        for (const c of [s3, ec2, autoscaling]) c.destroy();

        child.kill(signal);
        expect(await exited).toBe(0);
        expect(stderr).toBe("");
        expect(processesUnder(stateDir)).toEqual([]);
        for (const pid of running) expect(() => process.kill(pid, 0)).toThrow();
      } finally {
        child.kill("SIGKILL");
        await rm(stateDir, { recursive: true, force: true });
      }
    },
  );

  it("prints how to point the AWS CLI and Terraform at it, and the AWS CLI then works", async () => {
    await buildCli();
    const child = spawn(process.execPath, [MAIN, "sandbox", "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      const printed = await until(
        () => (/\n {2}}\n/.test(stdout) ? stdout : undefined),
        "the sandbox to print its Terraform provider block",
      );
      const endpoint = /switchyard sandbox on (http:\/\/127\.0\.0\.1:\d+)/.exec(printed)?.[1];
      expect(endpoint).toBeDefined();
      expect(printed).toContain(`export AWS_ENDPOINT_URL=${endpoint} AWS_DEFAULT_REGION=us-east-1`);
      for (const name of ["autoscaling", "ec2", "elbv2", "iam", "s3", "sts"]) {
        expect(printed).toMatch(new RegExp(`${name}\\s+= "${endpoint}"`));
      }
      for (const setting of [
        "skip_credentials_validation = true",
        "skip_requesting_account_id  = true",
        "skip_metadata_api_check     = true",
        "s3_use_path_style           = true",
      ]) {
        expect(printed).toContain(setting);
      }
      // the AWS CLI, with the environment printed above (when the machine has it)
      const aws = spawnSync("aws", ["sts", "get-caller-identity", "--output", "json"], {
        encoding: "utf8",
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: endpoint,
          AWS_DEFAULT_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: "sandbox",
          AWS_SECRET_ACCESS_KEY: "sandbox",
        },
      });
      if (aws.error) {
        console.warn(`sandbox-process: the AWS CLI is not installed; its call was not checked`);
      } else {
        expect(aws.status, aws.stderr).toBe(0);
        expect(JSON.parse(aws.stdout)).toMatchObject({ Account: "123456789012" });
      }
    } finally {
      child.kill("SIGINT");
      await exited;
    }
  });
});
