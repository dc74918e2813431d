import { DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeVpcsCommand } from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  ModifyListenerCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_VPC_ID, type FaultRule } from "../../src/sandbox/index.js";
import { type SandboxClients, sandboxWithClients } from "../helpers/sandbox.js";

let env: SandboxClients;
let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

beforeAll(async () => {
  env = await sandboxWithClients();
});
afterEach(() => env.sandbox.faults.clear());
afterAll(() => env.stop());

/** What the SDK (maxAttempts 1) reports when the connection closes before any reply. */
const LOST_REPLY = {
  name: "TimeoutError",
  code: "ECONNRESET",
  message: "socket hang up",
  $metadata: { attempts: 1 },
};

async function bucket(): Promise<string> {
  const name = unique("faults");
  await env.s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

async function body(bucketName: string, key: string): Promise<string | undefined> {
  const out = await env.s3.send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
  return out.Body?.transformToString();
}

const injected = (key: string) => env.sandbox.faults.injected.get(key) ?? 0;

async function putFaults(rules: FaultRule[]): Promise<Response> {
  return fetch(`${env.sandbox.endpoint}/_sandbox/faults`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ rules }),
  });
}

describe("lost replies (dropReplyRate)", () => {
  it("writes the S3 object, then closes the connection: the client sees TimeoutError ECONNRESET", async () => {
    const name = await bucket();
    const before = injected("s3:PutObject");
    env.sandbox.faults.set([{ service: "s3", action: "PutObject", dropReplyRate: 1, limit: 1 }]);

    const error = await env.s3
      .send(new PutObjectCommand({ Bucket: name, Key: "lock", Body: "v1" }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject(LOST_REPLY);
    expect((error as { $metadata: { httpStatusCode?: number } }).$metadata.httpStatusCode).toBe(
      undefined,
    );
    expect(await body(name, "lock")).toBe("v1");
    expect(injected("s3:PutObject")).toBe(before + 1);

    // the limit is spent: the next write is answered
    await expect(
      env.s3.send(new PutObjectCommand({ Bucket: name, Key: "lock", Body: "v2" })),
    ).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    expect(await body(name, "lock")).toBe("v2");
  });

  it('condition "if-none-match" drops only the reply to a PutObject that carries If-None-Match', async () => {
    const name = await bucket();
    env.sandbox.faults.set([
      { service: "s3", action: "PutObject", condition: "if-none-match", dropReplyRate: 1 },
    ]);

    const plain = await env.s3.send(new PutObjectCommand({ Bucket: name, Key: "a", Body: "1" }));
    await expect(
      env.s3.send(new PutObjectCommand({ Bucket: name, Key: "a", Body: "2", IfMatch: plain.ETag })),
    ).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    await expect(
      env.s3.send(new PutObjectCommand({ Bucket: name, Key: "b", Body: "3", IfNoneMatch: "*" })),
    ).rejects.toMatchObject(LOST_REPLY);
    expect([await body(name, "a"), await body(name, "b")]).toEqual(["2", "3"]);
  });

  it('condition "if-match" drops only the replies to writes and deletes that carry If-Match', async () => {
    const name = await bucket();
    env.sandbox.faults.set([{ service: "s3", condition: "if-match", dropReplyRate: 1 }]);

    const created = await env.s3.send(
      new PutObjectCommand({ Bucket: name, Key: "lock", Body: "owner-a", IfNoneMatch: "*" }),
    );
    await expect(
      env.s3.send(
        new PutObjectCommand({
          Bucket: name,
          Key: "lock",
          Body: "owner-a renewed",
          IfMatch: created.ETag,
        }),
      ),
    ).rejects.toMatchObject(LOST_REPLY);
    expect(await body(name, "lock")).toBe("owner-a renewed");

    const head = await env.s3.send(new HeadObjectCommand({ Bucket: name, Key: "lock" }));
    await expect(
      env.s3.send(new DeleteObjectCommand({ Bucket: name, Key: "lock", IfMatch: head.ETag })),
    ).rejects.toMatchObject(LOST_REPLY);
    await expect(
      env.s3.send(new HeadObjectCommand({ Bucket: name, Key: "lock" })),
    ).rejects.toMatchObject({ name: "NotFound" });
    expect(injected("s3:DeleteObject")).toBeGreaterThanOrEqual(1);
  });

  it("loses an error reply too: a PutObject that fails its condition changes nothing and is not answered", async () => {
    const name = await bucket();
    await env.s3.send(new PutObjectCommand({ Bucket: name, Key: "lock", Body: "owner-a" }));
    env.sandbox.faults.set([
      { service: "s3", action: "PutObject", condition: "if-none-match", dropReplyRate: 1 },
    ]);

    await expect(
      env.s3.send(
        new PutObjectCommand({ Bucket: name, Key: "lock", Body: "owner-b", IfNoneMatch: "*" }),
      ),
    ).rejects.toMatchObject(LOST_REPLY);
    expect(await body(name, "lock")).toBe("owner-a");
  });

  it("with the SDK's retries on, the resent conditional create meets its own first write (412)", async () => {
    const name = await bucket();
    const s3 = new S3Client({
      endpoint: env.sandbox.endpoint,
      region: env.sandbox.region,
      credentials: { accessKeyId: "AKIDSANDBOX", secretAccessKey: "sandbox-secret" },
      forcePathStyle: true,
      maxAttempts: 3,
    });
    try {
      env.sandbox.faults.set([
        {
          service: "s3",
          action: "PutObject",
          condition: "if-none-match",
          dropReplyRate: 1,
          limit: 1,
        },
      ]);
      await expect(
        s3.send(
          new PutObjectCommand({ Bucket: name, Key: "lock", Body: "mine", IfNoneMatch: "*" }),
        ),
      ).rejects.toMatchObject({
        name: "PreconditionFailed",
        $metadata: { httpStatusCode: 412, attempts: 2 },
      });
      expect(await body(name, "lock")).toBe("mine");
    } finally {
      s3.destroy();
    }
  });

  it("applies a query-protocol call (ELBv2 ModifyListener) and loses its reply; rules and counts over HTTP", async () => {
    const lb = (
      await env.elbv2.send(
        new CreateLoadBalancerCommand({
          Name: unique("faults-alb"),
          Subnets: ["subnet-0sandbox0000000a", "subnet-0sandbox0000000b"],
        }),
      )
    ).LoadBalancers![0]!;
    const tg = (
      await env.elbv2.send(
        new CreateTargetGroupCommand({
          Name: unique("faults-tg"),
          Protocol: "HTTP",
          Port: 8080,
          VpcId: DEFAULT_VPC_ID,
        }),
      )
    ).TargetGroups![0]!;
    const listener = (
      await env.elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb.LoadBalancerArn,
          Protocol: "HTTP",
          Port: 80,
          DefaultActions: [
            {
              Type: "fixed-response",
              FixedResponseConfig: { StatusCode: "503", ContentType: "text/plain" },
            },
          ],
        }),
      )
    ).Listeners![0]!;

    const put = await putFaults([
      { service: "elasticloadbalancing", action: "ModifyListener", dropReplyRate: 1, limit: 1 },
    ]);
    expect(put.status).toBe(200);

    await expect(
      env.elbv2.send(
        new ModifyListenerCommand({
          ListenerArn: listener.ListenerArn,
          DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
        }),
      ),
    ).rejects.toMatchObject(LOST_REPLY);
    const described = await env.elbv2.send(
      new DescribeListenersCommand({ ListenerArns: [listener.ListenerArn!] }),
    );
    expect(described.Listeners?.[0]?.DefaultActions?.[0]).toMatchObject({
      Type: "forward",
      TargetGroupArn: tg.TargetGroupArn,
    });

    const state = (await (await fetch(`${env.sandbox.endpoint}/_sandbox/faults`)).json()) as {
      rules: FaultRule[];
      injected: Record<string, number>;
    };
    expect(state.rules).toEqual([
      { service: "elasticloadbalancing", action: "ModifyListener", dropReplyRate: 1, limit: 1 },
    ]);
    expect(state.injected["elasticloadbalancing:ModifyListener"]).toBe(1);
  });

  it("rejects rates outside 0–1, unknown conditions and conditions on query services", async () => {
    const faults = env.sandbox.faults;
    expect(() => faults.set([{ dropReplyRate: 1.5 }])).toThrow(
      "fault rule dropReplyRate must be between 0 and 1; got 1.5",
    );
    expect(() => faults.set([{ dropReplyRate: -0.1 }])).toThrow(RangeError);
    expect(() =>
      faults.set([{ condition: "if-modified-since" as FaultRule["condition"], dropReplyRate: 1 }]),
    ).toThrow("fault rule condition must be one of if-none-match, if-match; got if-modified-since");
    expect(() =>
      faults.set([{ service: "elasticloadbalancing", condition: "if-match", dropReplyRate: 1 }]),
    ).toThrow("fault rule condition only matches S3 requests; got service elasticloadbalancing");

    faults.set([{ service: "s3", action: "GetObject", latencyMs: 1 }]);
    const res = await putFaults([{ dropReplyRate: 2 }]);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: "fault rule dropReplyRate must be between 0 and 1; got 2",
    });
    expect(faults.list()).toEqual([{ service: "s3", action: "GetObject", latencyMs: 1 }]);
  });
});

describe("throttling and errors", () => {
  it("answers with each service's own throttling error and a 500 InternalFailure", async () => {
    env.sandbox.faults.set([{ throttleRate: 1 }]);
    await expect(
      env.autoscaling.send(new DescribeAutoScalingGroupsCommand({})),
    ).rejects.toMatchObject({ name: "Throttling", $metadata: { httpStatusCode: 400 } });
    await expect(env.elbv2.send(new DescribeLoadBalancersCommand({}))).rejects.toMatchObject({
      name: "Throttling",
      $metadata: { httpStatusCode: 400 },
    });
    await expect(env.ec2.send(new DescribeVpcsCommand({}))).rejects.toMatchObject({
      name: "RequestLimitExceeded",
      $metadata: { httpStatusCode: 503 },
    });
    await expect(env.s3.send(new ListBucketsCommand({}))).rejects.toMatchObject({
      name: "SlowDown",
      $metadata: { httpStatusCode: 503 },
    });

    env.sandbox.faults.set([{ service: "ec2", errorRate: 1 }]);
    await expect(env.ec2.send(new DescribeVpcsCommand({}))).rejects.toMatchObject({
      name: "InternalFailure",
      $metadata: { httpStatusCode: 500 },
    });
    await expect(env.s3.send(new ListBucketsCommand({}))).resolves.toBeDefined();
  });
});

describe("latency", () => {
  it("a rule with only latencyMs delays every call of all four services, once per round trip", async () => {
    const latencyMs = 120;
    env.sandbox.faults.set([{ latencyMs }]);
    const injectedBefore = new Map(env.sandbox.faults.injected);
    const calls: Record<string, () => Promise<unknown>> = {
      autoscaling: () => env.autoscaling.send(new DescribeAutoScalingGroupsCommand({})),
      elasticloadbalancing: () => env.elbv2.send(new DescribeLoadBalancersCommand({})),
      ec2: () => env.ec2.send(new DescribeVpcsCommand({})),
      s3: () => env.s3.send(new ListBucketsCommand({})),
    };
    const elapsed: Record<string, number> = {};
    for (const [service, call] of Object.entries(calls)) {
      const start = performance.now();
      await call();
      await call();
      await call();
      elapsed[service] = performance.now() - start;
    }
    for (const service of Object.keys(calls)) {
      // three sequential round trips, each held back by the rule (timers may fire ~1 ms early)
      expect(elapsed[service], service).toBeGreaterThanOrEqual(3 * latencyMs - 3);
    }
    // latency alone is not an injected fault
    expect(env.sandbox.faults.injected).toEqual(injectedBefore);
  });
});
