/**
 * AWS SDK v3 clients, built once per region/endpoint/profile and shared by every adapter.
 * Credentials come from the SDK's default chain (or `profile`); `endpoint` (or the SDK's own
 * AWS_ENDPOINT_URL) points every client at another endpoint such as the sandbox.
 * Each client sends a request once (`maxAttempts: 1`): `call` (call.ts) is the only retry layer,
 * so its worst case is the whole worst case, and a conditional write is never resent behind its
 * caller's back. A middleware counts requests by operation, for the API-call budget benchmarks
 * and `--verbose`.
 */
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { S3Client } from "@aws-sdk/client-s3";
import { noteRequestContext, type RequestContext } from "./call.js";

export interface ClientOptions {
  region?: string;
  /** e.g. the sandbox's `http://127.0.0.1:4566` */
  endpoint?: string;
  profile?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface Clients {
  readonly autoscaling: AutoScalingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  /** loaded on its first call: the EC2 package alone takes about 0.3 s to import */
  readonly ec2: Pick<EC2Client, "send" | "destroy">;
  readonly s3: S3Client;
  /** loaded on its first call, like EC2: only metric gates use it */
  readonly cloudwatch: Pick<CloudWatchClient, "send" | "destroy">;
  readonly region: string;
  /** requests sent so far, by `Service:Operation` (each retry by `call` counts as one more) */
  readonly calls: Map<string, number>;
  destroy(): void;
}

interface CountableClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: "initialize" | "finalizeRequest"; name: string },
    ): void;
  };
}

/**
 * A client built on its first `send`, from a module imported then. Commands are built by the
 * caller (from the same package), so only `send` and `destroy` are needed.
 */
function lazyClient<C extends { send: (...args: never[]) => unknown; destroy(): void }>(
  load: () => Promise<C>,
): Pick<C, "send" | "destroy"> {
  let client: Promise<C> | undefined;
  const get = (): Promise<C> => {
    client ??= load();
    return client;
  };
  const lazy = {
    send: (...args: unknown[]) =>
      get().then((c) => (c.send as (...a: unknown[]) => unknown)(...args)),
    destroy: () => {
      void client?.then((c) => c.destroy());
    },
  };
  return lazy as unknown as Pick<C, "send" | "destroy">;
}

export function createClients(options: ClientOptions = {}): Clients {
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL;
  const region =
    options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1";
  const sandboxed = endpoint !== undefined && /^http:\/\/(127\.|localhost|\[::1\])/.test(endpoint);
  const config = {
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.credentials
      ? { credentials: options.credentials }
      : sandboxed && !process.env.AWS_ACCESS_KEY_ID && !options.profile
        ? { credentials: { accessKeyId: "sandbox", secretAccessKey: "sandbox" } }
        : {}),
    // the SDK sends each request once; `call` decides about retries
    maxAttempts: 1,
  };
  const calls = new Map<string, number>();
  const autoscaling = new AutoScalingClient(config);
  const elbv2 = new ElasticLoadBalancingV2Client(config);
  const ec2 = lazyClient(async () => {
    const { EC2Client } = await import("@aws-sdk/client-ec2");
    const client = new EC2Client(config);
    count("ec2", client as unknown as CountableClient);
    return client;
  });
  const cloudwatch = lazyClient(async () => {
    const { CloudWatchClient } = await import("@aws-sdk/client-cloudwatch");
    const client = new CloudWatchClient(config);
    count("cloudwatch", client as unknown as CountableClient);
    return client;
  });
  const s3 = new S3Client({ ...config, forcePathStyle: endpoint !== undefined });
  const requestContext: RequestContext = {
    ...(endpoint ? { endpoint } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
  };
  const count = (service: string, client: CountableClient) => {
    // outermost: every error a request throws (credentials, network, AWS) says where it went
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          noteRequestContext(error, requestContext);
          throw error;
        }
      },
      { step: "initialize", name: "switchyardRequestContext" },
    );
    client.middlewareStack.add(
      (next, context) => (args) => {
        const key = `${service}:${(context.commandName ?? "Unknown").replace(/Command$/, "")}`;
        calls.set(key, (calls.get(key) ?? 0) + 1);
        return next(args);
      },
      { step: "finalizeRequest", name: "switchyardCallCounter" },
    );
  };
  count("autoscaling", autoscaling as unknown as CountableClient);
  count("elbv2", elbv2 as unknown as CountableClient);
  count("s3", s3 as unknown as CountableClient);
  return {
    autoscaling,
    elbv2,
    ec2,
    s3,
    cloudwatch,
    region,
    calls,
    destroy() {
      for (const c of [autoscaling, elbv2, ec2, s3, cloudwatch]) c.destroy();
    },
  };
}
