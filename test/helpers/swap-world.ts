/**
 * A complete world for swap scenarios: an in-process sandbox, the sample app's releases in S3,
 * an ALB whose listener answers a fixed 503, and a switchyard instance configured for one
 * service with fast polls. The real SDK clients talk to the sandbox over loopback.
 */

import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  DescribeListenersCommand,
  ModifyListenerCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { buildSampleRelease, type SampleVariant } from "../../examples/sample-app/release.js";
import { type Clients, createClients } from "../../src/aws/clients.js";
import type { SwitchyardConfig } from "../../src/core/config.js";
import type { SwitchyardEvent } from "../../src/core/events.js";
import {
  BASE_IMAGE_NAME,
  DEFAULT_SECURITY_GROUP_ID,
  DEFAULT_VPC_ID,
  type FaultRule,
  type Sandbox,
  startSandbox,
} from "../../src/sandbox/index.js";
import { createSwitchyard, type Switchyard, type SwitchyardOptions } from "../../src/switchyard.js";
import { TOLERANT_TARGET_GROUP } from "./tolerant-health.js";

export const SERVICE = "web/test";
export const RELEASES = "s3://releases/web/test/";

export interface SwapWorld {
  sandbox: Sandbox;
  clients: Clients;
  yard: Switchyard;
  config: SwitchyardConfig;
  listenerArn: string;
  events: SwitchyardEvent[];
  /** the loopback URL where the listener serves traffic */
  listenerUrl(): string;
  /** a switchyard with the same config and other options (e.g. a second operator) */
  another(options?: { pollIntervalMs?: number; yard?: Partial<SwitchyardOptions> }): Switchyard;
  stop(): Promise<void>;
}

export interface WorldOptions {
  timeScale?: number;
  faults?: FaultRule[];
  releases?: Array<{ version: string; variant?: SampleVariant; failRate?: number }>;
  desired?: number;
  config?: Partial<SwitchyardConfig["services"][string]>;
  /** top-level config fields (e.g. `notify`) */
  topConfig?: Partial<Omit<SwitchyardConfig, "services">>;
  /** more options of the world's switchyard (notifiers, delivery policy) */
  yard?: Partial<SwitchyardOptions>;
  pollIntervalMs?: number;
}

export async function swapWorld(options: WorldOptions = {}): Promise<SwapWorld> {
  const sandbox = await startSandbox({ port: 0, timeScale: options.timeScale ?? 0.01 });
  const clients = createClients({
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  await clients.s3.send(new CreateBucketCommand({ Bucket: "releases" }));
  const releases = options.releases ?? [{ version: "r1" }, { version: "r2" }];
  for (const r of releases) {
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: "releases",
        Key: `web/test/${r.version}.tar.gz`,
        Body: await buildSampleRelease(r),
      }),
    );
  }
  const subnets = ["subnet-0sandbox0000000a", "subnet-0sandbox0000000b"];
  const lb = await clients.elbv2.send(
    new CreateLoadBalancerCommand({ Name: "web-test", Subnets: subnets, Type: "application" }),
  );
  const listener = await clients.elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancers?.[0]?.LoadBalancerArn,
      Port: 80,
      Protocol: "HTTP",
      DefaultActions: [
        {
          Type: "fixed-response",
          FixedResponseConfig: {
            StatusCode: "503",
            ContentType: "text/plain",
            MessageBody: "no release yet",
          },
        },
      ],
    }),
  );
  const listenerArn = listener.Listeners?.[0]?.ListenerArn ?? "";
  const desired = options.desired ?? 2;
  const config: SwitchyardConfig = {
    region: sandbox.region,
    state: { bucket: "releases", prefix: ".switchyard" },
    services: {
      [SERVICE]: {
        listenerArn,
        vpcId: DEFAULT_VPC_ID,
        subnets,
        securityGroups: [DEFAULT_SECURITY_GROUP_ID],
        image: BASE_IMAGE_NAME,
        instanceType: "t3.small",
        capacity: { min: 1, max: desired + 2, desired },
        targetGroup: TOLERANT_TARGET_GROUP,
        steps: [5, 25, 50, 100],
        bake: 1,
        healthyTimeout: 60,
        stickiness: "1h",
        // the sandbox applies listener changes after 5 s × its time scale; wait a little longer
        listenerPropagation: (5 * (options.timeScale ?? 0.01) * 1.5).toFixed(3),
        releases: RELEASES,
        ...options.config,
      },
    },
    ...options.topConfig,
  };
  const events: SwitchyardEvent[] = [];
  const make = (o: { pollIntervalMs?: number; yard?: Partial<SwitchyardOptions> } = {}) =>
    createSwitchyard({
      config,
      clients,
      pollIntervalMs: o.pollIntervalMs ?? options.pollIntervalMs ?? 50,
      heartbeatMs: 500,
      onEvent: (e) => events.push(e),
      ...(o.yard ?? options.yard),
    });
  const yard = make();
  return {
    sandbox,
    clients,
    yard,
    config,
    listenerArn,
    events,
    listenerUrl: () => {
      const url = sandbox.listenerUrl(listenerArn);
      if (!url) throw new Error("the listener has no proxy yet");
      return url;
    },
    another: make,
    async stop() {
      clients.destroy();
      await sandbox.stop();
    },
  };
}

/**
 * A copy of the sample app as a release directory (Procfile + server) under `root`, for tests
 * that push releases; the app reports the version its release manifest records.
 */
export async function sampleAppDir(root: string, name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "Procfile"), "web: node server.mjs\n");
  await copyFile(
    new URL("../../examples/sample-app/server.mjs", import.meta.url),
    join(dir, "server.mjs"),
  );
  return dir;
}

/** The listener's forward action as `{ <target group name>: weight }`, read through the SDK. */
export async function listenerWeights(world: SwapWorld): Promise<Record<string, number>> {
  const out = await world.clients.elbv2.send(
    new DescribeListenersCommand({ ListenerArns: [world.listenerArn] }),
  );
  return Object.fromEntries(
    (out.Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups ?? []).map((t) => [
      /targetgroup\/([^/]+)/.exec(t.TargetGroupArn ?? "")?.[1] ?? "",
      t.Weight ?? 0,
    ]),
  );
}

/**
 * An operator's change at the console: every target group of the forward action given the weight
 * `by` names for it (0 when it names none).
 */
export async function setWeightsByHand(world: SwapWorld, by: Record<string, number>) {
  const out = await world.clients.elbv2.send(
    new DescribeListenersCommand({ ListenerArns: [world.listenerArn] }),
  );
  const groups = out.Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups ?? [];
  await world.clients.elbv2.send(
    new ModifyListenerCommand({
      ListenerArn: world.listenerArn,
      DefaultActions: [
        {
          Type: "forward",
          ForwardConfig: {
            TargetGroups: groups.map((t) => ({
              TargetGroupArn: t.TargetGroupArn,
              Weight: by[/targetgroup\/([^/]+)/.exec(t.TargetGroupArn ?? "")?.[1] ?? ""] ?? 0,
            })),
          },
        },
      ],
    }),
  );
}
