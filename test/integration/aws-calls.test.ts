/**
 * The AWS layer against an in-process sandbox: `call` is the only retry layer (the SDK clients
 * send each request once).
 */
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { call, errorName } from "../../src/aws/call.js";
import { type Clients, createClients } from "../../src/aws/clients.js";
import { putJson } from "../../src/aws/s3.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";

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
