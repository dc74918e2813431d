/**
 * Bucket settings (S3's bucket sub-resources) through the real S3 client: what a new bucket
 * answers, a setting put and read back, deleted, and the not-found error S3 gives for a setting
 * never made; then HeadObject and GetObject with `partNumber`.
 */
import {
  type BucketVersioningStatus,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketTaggingCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAccelerateConfigurationCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketReplicationCommand,
  GetBucketRequestPaymentCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetBucketWebsiteCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SandboxClients, sandboxWithClients } from "../helpers/sandbox.js";

let env: SandboxClients;
beforeAll(async () => {
  env = await sandboxWithClients();
});
afterAll(() => env.stop());

let count = 0;
async function newBucket(): Promise<string> {
  const Bucket = `settings-${++count}`;
  await env.s3.send(new CreateBucketCommand({ Bucket }));
  return Bucket;
}

describe("a new bucket", () => {
  it("answers S3's defaults: SSE-S3, public access blocked, ACLs disabled, versioning never set", async () => {
    const Bucket = await newBucket();
    const versioning = await env.s3.send(new GetBucketVersioningCommand({ Bucket }));
    expect(versioning.Status).toBeUndefined();
    const encryption = await env.s3.send(new GetBucketEncryptionCommand({ Bucket }));
    expect(encryption.ServerSideEncryptionConfiguration?.Rules).toEqual([
      { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" }, BucketKeyEnabled: false },
    ]);
    const block = await env.s3.send(new GetPublicAccessBlockCommand({ Bucket }));
    expect(block.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    const ownership = await env.s3.send(new GetBucketOwnershipControlsCommand({ Bucket }));
    expect(ownership.OwnershipControls?.Rules).toEqual([
      { ObjectOwnership: "BucketOwnerEnforced" },
    ]);
    const acl = await env.s3.send(new GetBucketAclCommand({ Bucket }));
    expect(acl.Grants?.map((g) => g.Permission)).toEqual(["FULL_CONTROL"]);
    expect(acl.Owner?.ID).toBe(acl.Grants?.[0]?.Grantee?.ID);
    expect((await env.s3.send(new GetBucketRequestPaymentCommand({ Bucket }))).Payer).toBe(
      "BucketOwner",
    );
    expect(
      (await env.s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket }))).Status,
    ).toBeUndefined();
    expect((await env.s3.send(new GetBucketLoggingCommand({ Bucket }))).LoggingEnabled).toBe(
      undefined,
    );
  });

  it("answers S3's not-found errors for the settings that were never made", async () => {
    const Bucket = await newBucket();
    const cases: [Promise<unknown>, string][] = [
      [
        env.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })),
        "NoSuchLifecycleConfiguration",
      ],
      [env.s3.send(new GetBucketPolicyCommand({ Bucket })), "NoSuchBucketPolicy"],
      [env.s3.send(new GetBucketTaggingCommand({ Bucket })), "NoSuchTagSet"],
      [env.s3.send(new GetBucketCorsCommand({ Bucket })), "NoSuchCORSConfiguration"],
      [env.s3.send(new GetBucketWebsiteCommand({ Bucket })), "NoSuchWebsiteConfiguration"],
      [
        env.s3.send(new GetBucketReplicationCommand({ Bucket })),
        "ReplicationConfigurationNotFoundError",
      ],
      [
        env.s3.send(new GetObjectLockConfigurationCommand({ Bucket })),
        "ObjectLockConfigurationNotFoundError",
      ],
    ];
    for (const [call, name] of cases) {
      await expect(call, name).rejects.toMatchObject({ name, $metadata: { httpStatusCode: 404 } });
    }
  });

  it("a setting of a bucket that does not exist is NoSuchBucket", async () => {
    await expect(
      env.s3.send(new GetBucketVersioningCommand({ Bucket: "no-such-bucket-here" })),
    ).rejects.toMatchObject({ name: "NoSuchBucket", $metadata: { httpStatusCode: 404 } });
  });
});

describe("settings put, read back and deleted", () => {
  it("versioning: Enabled, then Suspended; an unknown status is MalformedXML", async () => {
    const Bucket = await newBucket();
    await env.s3.send(
      new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: "Enabled" } }),
    );
    expect((await env.s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe("Enabled");
    await env.s3.send(
      new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: "Suspended" } }),
    );
    expect((await env.s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe(
      "Suspended",
    );
    await expect(
      env.s3.send(
        new PutBucketVersioningCommand({
          Bucket,
          // a value outside the SDK's enum, on purpose
          VersioningConfiguration: { Status: "Sometimes" as string as BucketVersioningStatus },
        }),
      ),
    ).rejects.toMatchObject({ name: "MalformedXML", $metadata: { httpStatusCode: 400 } });
  });

  it("encryption: SSE-KMS with a key is kept; deleted, it is not found", async () => {
    const Bucket = await newBucket();
    const rule = {
      ApplyServerSideEncryptionByDefault: {
        SSEAlgorithm: "aws:kms" as const,
        KMSMasterKeyID: "alias/releases",
      },
      BucketKeyEnabled: true,
    };
    await env.s3.send(
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: { Rules: [rule] },
      }),
    );
    const got = await env.s3.send(new GetBucketEncryptionCommand({ Bucket }));
    expect(got.ServerSideEncryptionConfiguration?.Rules).toEqual([rule]);
    await env.s3.send(new DeleteBucketEncryptionCommand({ Bucket }));
    await expect(env.s3.send(new GetBucketEncryptionCommand({ Bucket }))).rejects.toMatchObject({
      name: "ServerSideEncryptionConfigurationNotFoundError",
      $metadata: { httpStatusCode: 404 },
    });
    // AES256 with a KMS key is refused
    await expect(
      env.s3.send(
        new PutBucketEncryptionCommand({
          Bucket,
          ServerSideEncryptionConfiguration: {
            Rules: [
              {
                ApplyServerSideEncryptionByDefault: {
                  SSEAlgorithm: "AES256",
                  KMSMasterKeyID: "alias/x",
                },
              },
            ],
          },
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidArgument" });
  });

  it("public access block: a partial block is kept; deleted, it is not found", async () => {
    const Bucket = await newBucket();
    const config = {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    };
    await env.s3.send(
      new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: config }),
    );
    expect(
      (await env.s3.send(new GetPublicAccessBlockCommand({ Bucket })))
        .PublicAccessBlockConfiguration,
    ).toEqual(config);
    await env.s3.send(new DeletePublicAccessBlockCommand({ Bucket }));
    await expect(env.s3.send(new GetPublicAccessBlockCommand({ Bucket }))).rejects.toMatchObject({
      name: "NoSuchPublicAccessBlockConfiguration",
    });
  });

  it("lifecycle: the rules come back exactly as put, with the transition minimum; bad rules are refused", async () => {
    const Bucket = await newBucket();
    const Rules = [
      {
        ID: "expire-history",
        Status: "Enabled" as const,
        Filter: { Prefix: ".switchyard/history/" },
        Expiration: { Days: 90 },
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      },
      {
        ID: "abort-uploads",
        Status: "Enabled" as const,
        Filter: { Prefix: "" },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      },
    ];
    const put = await env.s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: { Rules },
      }),
    );
    expect(put.TransitionDefaultMinimumObjectSize).toBe("all_storage_classes_128K");
    const got = await env.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }));
    expect(got.Rules).toEqual(Rules);
    expect(got.TransitionDefaultMinimumObjectSize).toBe("all_storage_classes_128K");
    // read twice, the same answer (what Terraform's provider waits for)
    const again = await env.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }));
    expect(again.Rules).toEqual(got.Rules);

    await expect(
      env.s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket,
          LifecycleConfiguration: {
            Rules: [{ ID: "nothing", Status: "Enabled", Filter: { Prefix: "" } }],
          },
        }),
      ),
    ).rejects.toMatchObject({
      name: "InvalidRequest",
      message: "At least one action needs to be specified in a rule",
    });
    await expect(
      env.s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket,
          LifecycleConfiguration: {
            Rules: [
              { ID: "zero", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 0 } },
            ],
          },
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidArgument" });

    await env.s3.send(new DeleteBucketLifecycleCommand({ Bucket }));
    await expect(
      env.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })),
    ).rejects.toMatchObject({ name: "NoSuchLifecycleConfiguration" });
  });

  it("tagging: the tag set is replaced whole; deleted, it is NoSuchTagSet", async () => {
    const Bucket = await newBucket();
    await env.s3.send(
      new PutBucketTaggingCommand({
        Bucket,
        Tagging: {
          TagSet: [
            { Key: "app", Value: "web" },
            { Key: "env", Value: "prod" },
          ],
        },
      }),
    );
    expect((await env.s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet).toEqual([
      { Key: "app", Value: "web" },
      { Key: "env", Value: "prod" },
    ]);
    await env.s3.send(
      new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [{ Key: "app", Value: "api" }] } }),
    );
    expect((await env.s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet).toEqual([
      { Key: "app", Value: "api" },
    ]);
    await expect(
      env.s3.send(
        new PutBucketTaggingCommand({
          Bucket,
          Tagging: {
            TagSet: [
              { Key: "a", Value: "1" },
              { Key: "a", Value: "2" },
            ],
          },
        }),
      ),
    ).rejects.toMatchObject({
      name: "InvalidTag",
      message: "Cannot provide multiple Tags with the same key",
    });
    await env.s3.send(new DeleteBucketTaggingCommand({ Bucket }));
    await expect(env.s3.send(new GetBucketTaggingCommand({ Bucket }))).rejects.toMatchObject({
      name: "NoSuchTagSet",
    });
  });

  it("policy: the document comes back as put; one that is not JSON is MalformedPolicy", async () => {
    const Bucket = await newBucket();
    const Policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: `arn:aws:s3:::${Bucket}/*`,
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    });
    await env.s3.send(new PutBucketPolicyCommand({ Bucket, Policy }));
    expect((await env.s3.send(new GetBucketPolicyCommand({ Bucket }))).Policy).toBe(Policy);
    await expect(
      env.s3.send(new PutBucketPolicyCommand({ Bucket, Policy: "not json" })),
    ).rejects.toMatchObject({ name: "MalformedPolicy" });
    await env.s3.send(new DeleteBucketPolicyCommand({ Bucket }));
    await expect(env.s3.send(new GetBucketPolicyCommand({ Bucket }))).rejects.toMatchObject({
      name: "NoSuchBucketPolicy",
    });
  });

  it("CORS: the rules come back as put", async () => {
    const Bucket = await newBucket();
    const CORSRules = [
      { AllowedMethods: ["GET"], AllowedOrigins: ["https://example.com"], MaxAgeSeconds: 300 },
    ];
    await env.s3.send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules } }));
    expect((await env.s3.send(new GetBucketCorsCommand({ Bucket }))).CORSRules).toEqual(CORSRules);
  });
});

describe("partNumber on HeadObject and GetObject", () => {
  const MiB = 1024 * 1024;

  it("reads one part of a multipart object; without partNumber the whole object and no PartsCount", async () => {
    const Bucket = await newBucket();
    const Key = "release.tgz";
    const first = Buffer.alloc(5 * MiB, "a");
    const second = Buffer.from("the last part");
    const { UploadId } = await env.s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const p1 = await env.s3.send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: first }),
    );
    const p2 = await env.s3.send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: second }),
    );
    await env.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { ETag: p1.ETag, PartNumber: 1 },
            { ETag: p2.ETag, PartNumber: 2 },
          ],
        },
      }),
    );

    const whole = await env.s3.send(new HeadObjectCommand({ Bucket, Key }));
    expect(whole.ContentLength).toBe(first.length + second.length);
    expect(whole.PartsCount).toBeUndefined();
    expect(whole.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);

    const head2 = await env.s3.send(new HeadObjectCommand({ Bucket, Key, PartNumber: 2 }));
    expect(head2.ContentLength).toBe(second.length);
    expect(head2.PartsCount).toBe(2);
    expect(head2.ContentRange).toBe(
      `bytes ${first.length}-${first.length + second.length - 1}/${first.length + second.length}`,
    );
    const get2 = await env.s3.send(new GetObjectCommand({ Bucket, Key, PartNumber: 2 }));
    expect(await get2.Body?.transformToString()).toBe("the last part");
    expect(get2.PartsCount).toBe(2);

    await expect(
      env.s3.send(new HeadObjectCommand({ Bucket, Key, PartNumber: 3 })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 416 } });
    await expect(
      env.s3.send(new GetObjectCommand({ Bucket, Key, PartNumber: 3 })),
    ).rejects.toMatchObject({ name: "InvalidPartNumber", $metadata: { httpStatusCode: 416 } });
  });

  it("an object put whole has one part, all of it, and no PartsCount (S3 counts multipart objects only)", async () => {
    const Bucket = await newBucket();
    await env.s3.send(new PutObjectCommand({ Bucket, Key: "small", Body: "hello" }));
    const head = await env.s3.send(new HeadObjectCommand({ Bucket, Key: "small", PartNumber: 1 }));
    expect(head.ContentLength).toBe(5);
    expect(head.PartsCount).toBeUndefined();
    const get = await env.s3.send(new GetObjectCommand({ Bucket, Key: "small", PartNumber: 1 }));
    expect(await get.Body?.transformToString()).toBe("hello");
    await expect(
      env.s3.send(
        new GetObjectCommand({ Bucket, Key: "small", PartNumber: 1, Range: "bytes=0-1" }),
      ),
    ).rejects.toMatchObject({
      name: "InvalidRequest",
      message: "Cannot specify both Range header and partNumber query parameter",
    });
  });
});
