/**
 * Bootstrapping a service in a running sandbox: the releases/state bucket, an Application Load
 * Balancer named after the service, an HTTP listener whose default action answers a fixed 503,
 * and a complete config for the service built from the sandbox's default VPC, subnets and
 * security group. Idempotent: what exists is found and kept. Shared by `switchyard sandbox
 * bootstrap` and the demo.
 *
 * It uses the SDK's ELBv2, EC2 and S3 commands directly: switchyard itself never creates load
 * balancers, listeners or buckets, so src/aws has no adapters for them.
 */

import {
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateBucketCommand, HeadBucketCommand } from "@aws-sdk/client-s3";
import { call, errorName, httpStatus } from "../aws/call.js";
import type { Clients } from "../aws/clients.js";
import type { SwitchyardConfig } from "../core/config.js";
import { InputError, SwitchyardError } from "../core/errors.js";
import { parseServiceName, serviceHash, serviceNameProblem, serviceStem } from "../core/names.js";

/** The image every sandbox account has, by name. */
export const SANDBOX_BASE_IMAGE = "switchyard-sandbox-base";
/** The bucket that holds releases and swap records in the sandbox. */
export const SANDBOX_BUCKET = "releases";
/** The listener port bootstrap creates (the sandbox serves it on a loopback port of its own). */
export const SANDBOX_LISTENER_PORT = 80;

export interface BootstrapOptions {
  clients: Clients;
  /** `<app>/<env>` */
  service: string;
  /** the bucket for releases and swap records (default `releases`) */
  bucket?: string;
}

export type ServiceConfigInput = SwitchyardConfig["services"][string];

export interface BootstrapResult {
  service: string;
  bucket: string;
  loadBalancerArn: string;
  loadBalancerName: string;
  listenerArn: string;
  /** what this run created (false: it was there already) */
  created: { bucket: boolean; loadBalancer: boolean; listener: boolean };
  /** a complete config holding this one service, as a config file would */
  config: SwitchyardConfig & { region: string };
}

/** The load balancer name for a service: `<app>-<env>`, hashed down to 32 characters if longer. */
export function loadBalancerNameFor(service: string): string {
  const stem = serviceStem(service);
  if (stem.length <= 32) return stem;
  const hash = serviceHash(service);
  return `${stem.slice(0, 32 - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

async function ensureBucket(clients: Clients, bucket: string): Promise<boolean> {
  try {
    await call(() => clients.s3.send(new HeadBucketCommand({ Bucket: bucket })));
    return false;
  } catch (error) {
    if (
      httpStatus(error) !== 404 &&
      errorName(error) !== "NotFound" &&
      errorName(error) !== "NoSuchBucket"
    ) {
      throw error;
    }
  }
  try {
    await call(() => clients.s3.send(new CreateBucketCommand({ Bucket: bucket })));
    return true;
  } catch (error) {
    if (errorName(error) === "BucketAlreadyOwnedByYou") return false;
    throw error;
  }
}

interface Network {
  vpcId: string;
  subnets: string[];
  securityGroups: string[];
}

async function defaultNetwork(clients: Clients): Promise<Network> {
  const vpcs = await call(() =>
    clients.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
    ),
  );
  const vpcId = vpcs.Vpcs?.[0]?.VpcId;
  if (!vpcId) {
    throw new InputError("PREFLIGHT_FAILED", "the endpoint has no default VPC", {
      hint: "sandbox bootstrap works against a switchyard sandbox (`switchyard sandbox`); pass its --endpoint-url",
    });
  }
  const subnets = await call(() =>
    clients.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
    ),
  );
  // one subnet per zone: a load balancer takes at most one per Availability Zone
  const byZone = new Map<string, string>();
  for (const s of subnets.Subnets ?? []) {
    if (s.SubnetId && s.AvailabilityZone && !byZone.has(s.AvailabilityZone)) {
      byZone.set(s.AvailabilityZone, s.SubnetId);
    }
  }
  const subnetIds = [...byZone.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, id]) => id);
  if (subnetIds.length === 0) {
    throw new InputError("PREFLIGHT_FAILED", `the default VPC ${vpcId} has no subnets`);
  }
  const groups = await call(() =>
    clients.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: "vpc-id", Values: [vpcId] },
          { Name: "group-name", Values: ["default"] },
        ],
      }),
    ),
  );
  const sg = groups.SecurityGroups?.[0]?.GroupId;
  if (!sg)
    throw new InputError(
      "PREFLIGHT_FAILED",
      `the default VPC ${vpcId} has no default security group`,
    );
  return { vpcId, subnets: subnetIds, securityGroups: [sg] };
}

async function ensureLoadBalancer(
  clients: Clients,
  name: string,
  network: Network,
): Promise<{ arn: string; created: boolean }> {
  try {
    const found = await call(() =>
      clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: [name] })),
    );
    const arn = found.LoadBalancers?.[0]?.LoadBalancerArn;
    if (arn) return { arn, created: false };
  } catch (error) {
    if (
      errorName(error) !== "LoadBalancerNotFoundException" &&
      errorName(error) !== "LoadBalancerNotFound"
    ) {
      throw error;
    }
  }
  const out = await call(() =>
    clients.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: name,
        Type: "application",
        Scheme: "internet-facing",
        Subnets: network.subnets,
        SecurityGroups: network.securityGroups,
        Tags: [{ Key: "switchyard:bootstrap", Value: "true" }],
      }),
    ),
  );
  const arn = out.LoadBalancers?.[0]?.LoadBalancerArn;
  if (!arn) throw new SwitchyardError("AWS_ERROR", `CreateLoadBalancer ${name} returned no ARN`);
  return { arn, created: true };
}

async function ensureListener(
  clients: Clients,
  loadBalancerArn: string,
): Promise<{ arn: string; created: boolean }> {
  const found = await call(() =>
    clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn })),
  );
  const existing = found.Listeners?.find((l) => l.Port === SANDBOX_LISTENER_PORT)?.ListenerArn;
  if (existing) return { arn: existing, created: false };
  const out = await call(() =>
    clients.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: loadBalancerArn,
        Protocol: "HTTP",
        Port: SANDBOX_LISTENER_PORT,
        DefaultActions: [
          {
            Type: "fixed-response",
            FixedResponseConfig: {
              StatusCode: "503",
              ContentType: "text/plain",
              MessageBody: "no release is live yet: run switchyard deploy",
            },
          },
        ],
      }),
    ),
  );
  const arn = out.Listeners?.[0]?.ListenerArn;
  if (!arn) throw new SwitchyardError("AWS_ERROR", "CreateListener returned no ARN");
  return { arn, created: true };
}

/** The config of a sandbox service: every field a swap needs, with timings for the sandbox. */
export function sandboxServiceConfig(
  service: string,
  parts: { listenerArn: string; bucket: string } & Network,
): ServiceConfigInput {
  const { app, env } = parseServiceName(service);
  return {
    listenerArn: parts.listenerArn,
    vpcId: parts.vpcId,
    subnets: parts.subnets,
    securityGroups: parts.securityGroups,
    image: SANDBOX_BASE_IMAGE,
    instanceType: "t3.micro",
    capacity: { min: 1, max: 4, desired: 2 },
    targetGroup: {
      port: 8080,
      protocol: "HTTP",
      healthCheck: {
        path: "/health",
        intervalSeconds: 5,
        timeoutSeconds: 2,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
        matcher: "200",
      },
      deregistrationDelaySeconds: 30,
    },
    steps: [5, 25, 50, 100],
    bake: "5s",
    healthyTimeout: "2m",
    stickiness: "1h",
    releases: `s3://${parts.bucket}/${app}/${env}/`,
    gates: [],
    retire: { keep: 1, minAge: "1h" },
  };
}

/**
 * Creates (or finds) the bucket, load balancer and listener for `service` and returns a complete
 * config for it. Safe to run again: nothing is created twice and the listener is left as it is.
 */
export async function bootstrapService(options: BootstrapOptions): Promise<BootstrapResult> {
  const { clients, service } = options;
  const problem = serviceNameProblem(service);
  if (problem !== undefined) {
    throw new InputError(
      "INVALID_INPUT",
      `invalid service name ${JSON.stringify(service)}: ${problem}`,
      {
        hint: "name services <app>/<env>, e.g. web/prod",
      },
    );
  }
  const bucket = options.bucket ?? SANDBOX_BUCKET;
  const bucketCreated = await ensureBucket(clients, bucket);
  const network = await defaultNetwork(clients);
  const loadBalancerName = loadBalancerNameFor(service);
  const lb = await ensureLoadBalancer(clients, loadBalancerName, network);
  const listener = await ensureListener(clients, lb.arn);
  return {
    service,
    bucket,
    loadBalancerArn: lb.arn,
    loadBalancerName,
    listenerArn: listener.arn,
    created: { bucket: bucketCreated, loadBalancer: lb.created, listener: listener.created },
    config: {
      region: clients.region,
      state: { bucket, prefix: ".switchyard" },
      services: {
        [service]: sandboxServiceConfig(service, { listenerArn: listener.arn, bucket, ...network }),
      },
    },
  };
}
