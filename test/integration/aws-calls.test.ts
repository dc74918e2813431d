/**
 * The AWS layer against an in-process sandbox: `call` is the only retry layer (the SDK clients
 * send each request once), and the paged reads send every page through it.
 */
import { CreateAutoScalingGroupCommand } from "@aws-sdk/client-auto-scaling";
import { CreateLaunchTemplateCommand } from "@aws-sdk/client-ec2";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { findGroupsByTags } from "../../src/aws/autoscaling.js";
import { call, errorName } from "../../src/aws/call.js";
import { type Clients, createClients } from "../../src/aws/clients.js";
import { listLaunchTemplates } from "../../src/aws/ec2.js";
import { listObjects, putJson } from "../../src/aws/s3.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { BASE_IMAGE_ID } from "../../src/sandbox/seed.js";

let sandbox: Sandbox;
let clients: Clients;
const BUCKET = "aws-calls";

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, timeScale: 0.01 });
  clients = createClients({ endpoint: sandbox.endpoint, region: sandbox.region });
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  clients?.destroy();
  await sandbox?.stop();
});

afterEach(() => {
  sandbox.faults.clear();
});

/** Requests the clients sent for `key` (`s3:PutObject`) while `work` ran. */
async function sentDuring(key: string, work: () => Promise<unknown>): Promise<number> {
  const before = clients.calls.get(key) ?? 0;
  await work().catch(() => undefined);
  return (clients.calls.get(key) ?? 0) - before;
}

/** Faults the sandbox injected for `key` while `work` ran. */
async function injectedDuring(key: string, work: () => Promise<unknown>): Promise<number> {
  const before = sandbox.faults.injected.get(key) ?? 0;
  await work().catch(() => undefined);
  return (sandbox.faults.injected.get(key) ?? 0) - before;
}

describe("one retry layer", () => {
  it("call with retries 0 sends a failing request exactly once: the SDK does not resend it", async () => {
    sandbox.faults.set([{ service: "s3", action: "PutObject", errorRate: 1 }]);
    const put = () =>
      call(
        () => clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "once", Body: "x" })),
        {
          retries: 0,
        },
      );
    const error = await put().catch((e: unknown) => e);
    expect(errorName(error)).toBe("InternalFailure");
    expect(await sentDuring("s3:PutObject", put)).toBe(1);
    expect(await injectedDuring("s3:PutObject", put)).toBe(1);
  });

  it("a conditional write with retries 0 reaches S3 once", async () => {
    sandbox.faults.set([{ service: "s3", action: "PutObject", errorRate: 1 }]);
    const write = () =>
      putJson(
        clients,
        BUCKET,
        "lock.json",
        { a: 1 },
        { ifNoneMatch: true },
        {
          retries: 0,
        },
      );
    expect(await injectedDuring("s3:PutObject", write)).toBe(1);
  });

  it("call with retries n sends at most n + 1 requests", async () => {
    sandbox.faults.set([{ service: "s3", action: "PutObject", errorRate: 1 }]);
    const put = () =>
      call(
        () => clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "thrice", Body: "x" })),
        {
          retries: 2,
        },
      );
    expect(await sentDuring("s3:PutObject", put)).toBe(3);
  });

  it("a transient failure is retried by call and then succeeds", async () => {
    sandbox.faults.set([{ service: "s3", action: "PutObject", throttleRate: 1, limit: 1 }]);
    const sent = await sentDuring("s3:PutObject", () =>
      putJson(clients, BUCKET, "retried.json", { ok: true }),
    );
    expect(sent).toBe(2);
  });
});

describe("paged reads go through call", () => {
  it("findGroupsByTags reads every page of more than 100 groups, retrying a throttled page", async () => {
    const template = await clients.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: "paged",
        LaunchTemplateData: { ImageId: BASE_IMAGE_ID },
      }),
    );
    const names = Array.from({ length: 120 }, (_, i) => `paged-${String(i).padStart(3, "0")}`);
    for (const name of names) {
      await clients.autoscaling.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: name,
          LaunchTemplate: {
            LaunchTemplateId: template.LaunchTemplate?.LaunchTemplateId,
            Version: "$Latest",
          },
          MinSize: 0,
          MaxSize: 1,
          DesiredCapacity: 0,
          VPCZoneIdentifier: "subnet-0sandbox0000000a",
          Tags: [{ Key: "suite", Value: "paged", PropagateAtLaunch: true }],
        }),
      );
    }
    // the first page request is throttled once: call sends it again
    sandbox.faults.set([
      { service: "autoscaling", action: "DescribeAutoScalingGroups", throttleRate: 1, limit: 1 },
    ]);
    const before = clients.calls.get("autoscaling:DescribeAutoScalingGroups") ?? 0;
    const groups = await findGroupsByTags(clients, { suite: "paged" });
    expect(groups.map((g) => g.name).sort()).toEqual(names);
    expect(groups[0]?.tags.suite).toBe("paged");
    // two pages, one of them sent twice
    expect((clients.calls.get("autoscaling:DescribeAutoScalingGroups") ?? 0) - before).toBe(3);
  });

  it("listLaunchTemplates pages through the lazily loaded EC2 client, retrying a throttled page", async () => {
    for (const suffix of ["a", "b", "c"]) {
      await clients.ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: `listed-${suffix}`,
          LaunchTemplateData: { ImageId: BASE_IMAGE_ID },
        }),
      );
    }
    sandbox.faults.set([
      { service: "ec2", action: "DescribeLaunchTemplates", throttleRate: 1, limit: 1 },
    ]);
    const templates = await listLaunchTemplates(clients, "listed-*");
    expect(templates.map((t) => t.name).sort()).toEqual(["listed-a", "listed-b", "listed-c"]);
    expect(sandbox.faults.injected.get("ec2:DescribeLaunchTemplates")).toBe(1);
  });

  it("listObjects reads every page (1000 keys a page)", async () => {
    const keys = Array.from({ length: 1005 }, (_, i) => `many/${String(i).padStart(4, "0")}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys
          .slice(i, i + 50)
          .map((Key) => clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: "1" }))),
      );
    }
    const before = clients.calls.get("s3:ListObjectsV2") ?? 0;
    const objects = await listObjects(clients, BUCKET, "many/");
    expect(objects.map((o) => o.key)).toEqual(keys);
    expect((clients.calls.get("s3:ListObjectsV2") ?? 0) - before).toBe(2);
  });
});
