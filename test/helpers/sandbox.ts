/**
 * Starts an in-process sandbox and returns real AWS SDK v3 clients pointed at it.
 * Use in `beforeAll`/`afterAll`: `const env = await sandboxWithClients(); … await env.stop();`
 */
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { IAMClient } from "@aws-sdk/client-iam";
import { S3Client } from "@aws-sdk/client-s3";
import { STSClient } from "@aws-sdk/client-sts";
import { type Sandbox, type SandboxOptions, startSandbox } from "../../src/sandbox/index.js";

export interface SandboxClients {
  sandbox: Sandbox;
  s3: S3Client;
  ec2: EC2Client;
  elbv2: ElasticLoadBalancingV2Client;
  autoscaling: AutoScalingClient;
  iam: IAMClient;
  sts: STSClient;
  stop(): Promise<void>;
}

export async function sandboxWithClients(
  options: SandboxOptions = {},
  clientOptions: { maxAttempts?: number } = {},
): Promise<SandboxClients> {
  const sandbox = await startSandbox({ port: 0, timeScale: 0.01, ...options });
  const config = {
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    credentials: { accessKeyId: "AKIDSANDBOX", secretAccessKey: "sandbox-secret" },
    maxAttempts: clientOptions.maxAttempts ?? 1,
  };
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const ec2 = new EC2Client(config);
  const elbv2 = new ElasticLoadBalancingV2Client(config);
  const autoscaling = new AutoScalingClient(config);
  const iam = new IAMClient(config);
  const sts = new STSClient(config);
  return {
    sandbox,
    s3,
    ec2,
    elbv2,
    autoscaling,
    iam,
    sts,
    async stop() {
      for (const c of [s3, ec2, elbv2, autoscaling, iam, sts]) c.destroy();
      await sandbox.stop();
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 10_000, intervalMs = 25, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
