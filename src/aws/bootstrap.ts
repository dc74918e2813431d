/**
 * The few AWS operations `switchyard sandbox bootstrap` and the demo need to set a service up:
 * a bucket, an Application Load Balancer, a listener answering a fixed response, the default
 * network, and putting an object. switchyard itself never creates load balancers, listeners or
 * buckets: swaps, rollbacks and retire do not use these, and the operator policy
 * (`switchyard iam-policy`) does not grant them.
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { type CallOptions, call, errorName, httpStatus } from "./call.js";
import type { Clients } from "./clients.js";

/** Creates the bucket unless it exists; true when this call created it. */
export async function ensureBucket(
  clients: Clients,
  bucket: string,
  options: CallOptions = {},
): Promise<boolean> {
  try {
    await call(() => clients.s3.send(new HeadBucketCommand({ Bucket: bucket })), options);
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
    await call(() => clients.s3.send(new CreateBucketCommand({ Bucket: bucket })), options);
    return true;
  } catch (error) {
    if (errorName(error) === "BucketAlreadyOwnedByYou") return false;
    throw error;
  }
}

/** Writes an object (unconditionally). */
export async function putObject(
  clients: Clients,
  spec: { bucket: string; key: string; body: Uint8Array | string; contentType?: string },
  options: CallOptions = {},
): Promise<void> {
  await call(
    () =>
      clients.s3.send(
        new PutObjectCommand({
          Bucket: spec.bucket,
          Key: spec.key,
          Body: spec.body,
          ...(spec.contentType ? { ContentType: spec.contentType } : {}),
        }),
      ),
    options,
  );
}

/** The account's default VPC, what is missing left undefined or empty. */
export interface DefaultNetwork {
  vpcId: string | undefined;
  /** one subnet per Availability Zone (a load balancer takes at most one per zone), by zone */
  subnets: string[];
  /** the VPC's security group named `default` */
  defaultSecurityGroup: string | undefined;
}

/**
 * The default VPC, one of its subnets per zone and its default security group. Stops reading
 * at the first part that is missing (no VPC: no subnets asked for; no subnets: no groups).
 */
export async function listDefaultNetwork(
  clients: Clients,
  options: CallOptions = {},
): Promise<DefaultNetwork> {
  const { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand } =
    await import("@aws-sdk/client-ec2");
  const vpcs = await call(
    () =>
      clients.ec2.send(
        new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
      ),
    options,
  );
  const vpcId = vpcs.Vpcs?.[0]?.VpcId;
  if (!vpcId) return { vpcId: undefined, subnets: [], defaultSecurityGroup: undefined };
  const found = await call(
    () =>
      clients.ec2.send(
        new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
      ),
    options,
  );
  const byZone = new Map<string, string>();
  for (const s of found.Subnets ?? []) {
    if (s.SubnetId && s.AvailabilityZone && !byZone.has(s.AvailabilityZone)) {
      byZone.set(s.AvailabilityZone, s.SubnetId);
    }
  }
  const subnets = [...byZone.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, id]) => id);
  if (subnets.length === 0) return { vpcId, subnets, defaultSecurityGroup: undefined };
  const groups = await call(
    () =>
      clients.ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: "vpc-id", Values: [vpcId] },
            { Name: "group-name", Values: ["default"] },
          ],
        }),
      ),
    options,
  );
  return { vpcId, subnets, defaultSecurityGroup: groups.SecurityGroups?.[0]?.GroupId };
}

/** A load balancer's ARN by name, or undefined when there is none of that name. */
export async function findLoadBalancerArn(
  clients: Clients,
  name: string,
  options: CallOptions = {},
): Promise<string | undefined> {
  try {
    const found = await call(
      () => clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: [name] })),
      options,
    );
    return found.LoadBalancers?.[0]?.LoadBalancerArn;
  } catch (error) {
    const n = errorName(error);
    if (n === "LoadBalancerNotFoundException" || n === "LoadBalancerNotFound") return undefined;
    throw error;
  }
}

export interface LoadBalancerSpec {
  name: string;
  subnets: string[];
  securityGroups: string[];
  tags?: Record<string, string>;
}

/** Creates an internet-facing Application Load Balancer; returns its ARN (undefined if AWS gave none). */
export async function createLoadBalancer(
  clients: Clients,
  spec: LoadBalancerSpec,
  options: CallOptions = {},
): Promise<string | undefined> {
  const out = await call(
    () =>
      clients.elbv2.send(
        new CreateLoadBalancerCommand({
          Name: spec.name,
          Type: "application",
          Scheme: "internet-facing",
          Subnets: spec.subnets,
          SecurityGroups: spec.securityGroups,
          ...(spec.tags
            ? { Tags: Object.entries(spec.tags).map(([Key, Value]) => ({ Key, Value })) }
            : {}),
        }),
      ),
    options,
  );
  return out.LoadBalancers?.[0]?.LoadBalancerArn;
}

/** The ARN of the load balancer's listener on `port`, if it has one. */
export async function findListenerArn(
  clients: Clients,
  loadBalancerArn: string,
  port: number,
  options: CallOptions = {},
): Promise<string | undefined> {
  const found = await call(
    () => clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn })),
    options,
  );
  return found.Listeners?.find((l) => l.Port === port)?.ListenerArn;
}

export interface FixedResponseListenerSpec {
  loadBalancerArn: string;
  port: number;
  /** e.g. "503" */
  statusCode: string;
  contentType?: string;
  body: string;
}

/**
 * Creates an HTTP listener whose default action answers a fixed response (what switchyard's
 * first deploy takes over); returns its ARN (undefined if AWS gave none).
 */
export async function createListener(
  clients: Clients,
  spec: FixedResponseListenerSpec,
  options: CallOptions = {},
): Promise<string | undefined> {
  const out = await call(
    () =>
      clients.elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: spec.loadBalancerArn,
          Protocol: "HTTP",
          Port: spec.port,
          DefaultActions: [
            {
              Type: "fixed-response",
              FixedResponseConfig: {
                StatusCode: spec.statusCode,
                ContentType: spec.contentType ?? "text/plain",
                MessageBody: spec.body,
              },
            },
          ],
        }),
      ),
    options,
  );
  return out.Listeners?.[0]?.ListenerArn;
}
