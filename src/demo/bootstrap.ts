/**
 * Bootstrapping a service in a running sandbox: the releases/state bucket, an Application Load
 * Balancer named after the service, an HTTP listener whose default action answers a fixed 503,
 * and a complete config for the service built from the sandbox's default VPC, subnets and
 * security group. Idempotent: what exists is found and kept. Shared by `switchyard sandbox
 * bootstrap` and the demo.
 *
 * The AWS calls go through src/aws/bootstrap.ts: switchyard itself never creates load balancers,
 * listeners or buckets, so those adapters serve only this bootstrap and the demo.
 */
import {
  createListener,
  createLoadBalancer,
  ensureBucket,
  findListenerArn,
  findLoadBalancerArn,
  listDefaultNetwork,
} from "../aws/bootstrap.js";
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
  /** the sandbox's timers, so the config's waits fit them (default: AWS's own, time scale 1) */
  timing?: SandboxTiming;
}

export interface SandboxTiming {
  timeScale: number;
  /** how long the sandbox takes to apply a listener change, in AWS seconds (default 5) */
  propagationSeconds?: number;
  /** the sandbox's CloudWatch publishing lag, in AWS seconds (default 60) */
  metricLagSeconds?: number;
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

interface Network {
  vpcId: string;
  subnets: string[];
  securityGroups: string[];
}

async function defaultNetwork(clients: Clients): Promise<Network> {
  const network = await listDefaultNetwork(clients);
  const vpcId = network.vpcId;
  if (!vpcId) {
    throw new InputError("PREFLIGHT_FAILED", "the endpoint has no default VPC", {
      hint: "sandbox bootstrap works against a switchyard sandbox (`switchyard sandbox`); pass its --endpoint-url",
    });
  }
  if (network.subnets.length === 0) {
    throw new InputError("PREFLIGHT_FAILED", `the default VPC ${vpcId} has no subnets`);
  }
  const sg = network.defaultSecurityGroup;
  if (!sg)
    throw new InputError(
      "PREFLIGHT_FAILED",
      `the default VPC ${vpcId} has no default security group`,
    );
  return { vpcId, subnets: network.subnets, securityGroups: [sg] };
}

async function ensureLoadBalancer(
  clients: Clients,
  name: string,
  network: Network,
): Promise<{ arn: string; created: boolean }> {
  const found = await findLoadBalancerArn(clients, name);
  if (found) return { arn: found, created: false };
  const arn = await createLoadBalancer(clients, {
    name,
    subnets: network.subnets,
    securityGroups: network.securityGroups,
    tags: { "switchyard:bootstrap": "true" },
  });
  if (!arn) throw new SwitchyardError("AWS_ERROR", `CreateLoadBalancer ${name} returned no ARN`);
  return { arn, created: true };
}

async function ensureListener(
  clients: Clients,
  loadBalancerArn: string,
): Promise<{ arn: string; created: boolean }> {
  const existing = await findListenerArn(clients, loadBalancerArn, SANDBOX_LISTENER_PORT);
  if (existing) return { arn: existing, created: false };
  const arn = await createListener(clients, {
    loadBalancerArn,
    port: SANDBOX_LISTENER_PORT,
    statusCode: "503",
    contentType: "text/plain",
    body: "no release is live yet: run switchyard deploy",
  });
  if (!arn) throw new SwitchyardError("AWS_ERROR", "CreateListener returned no ARN");
  return { arn, created: true };
}

/** The config of a sandbox service: every field a swap needs, with timings for the sandbox. */
export function sandboxServiceConfig(
  service: string,
  parts: { listenerArn: string; bucket: string } & Network,
  timing: SandboxTiming = { timeScale: 1 },
): ServiceConfigInput {
  const { app, env } = parseServiceName(service);
  // switchyard waits real time; the sandbox's timers run `timeScale` times as long
  const real = (seconds: number) => Math.ceil(seconds * timing.timeScale * 10) / 10;
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
      deregistrationDelaySeconds: Math.ceil(real(30)),
    },
    steps: [5, 25, 50, 100],
    bake: "5s",
    healthyTimeout: "2m",
    stickiness: "1h",
    // the sandbox's propagation, with room to spare
    listenerPropagation: real((timing.propagationSeconds ?? 5) * 1.5),
    // CloudWatch's one-minute period and publishing lag, on the sandbox's clock
    metrics: {
      // exact, not rounded: periods start at multiples of it, and the judge aligns to them
      period: 60 * timing.timeScale,
      lag: real((timing.metricLagSeconds ?? 60) * 1.25),
    },
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
        [service]: sandboxServiceConfig(
          service,
          { listenerArn: listener.arn, bucket, ...network },
          options.timing,
        ),
      },
    },
  };
}
