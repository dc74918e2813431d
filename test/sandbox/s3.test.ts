import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { computeChecksum } from "../../src/sandbox/services/s3/checksum.js";
import { decodeAwsChunked } from "../../src/sandbox/services/s3/chunked.js";
import { getObjectBytes } from "../../src/sandbox/services/s3/index.js";
import { type SandboxClients, sandboxWithClients } from "../helpers/sandbox.js";

const md5 = (data: Buffer) => createHash("md5").update(data).digest("hex");

describe("aws-chunked decoding", () => {
  it("removes the chunk framing and collects the trailing checksum", () => {
    const raw = Buffer.from(
      "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n",
      "latin1",
    );
    expect(decodeAwsChunked(raw)).toEqual({
      body: Buffer.from("hello world"),
      trailers: { "x-amz-checksum-crc32": "DUoRhQ==" },
    });
  });

  it("ignores chunk-signature extensions of signed streaming payloads", () => {
    const sig = "a".repeat(64);
    const raw = Buffer.from(
      `3;chunk-signature=${sig}\r\nabc\r\n0;chunk-signature=${sig}\r\n\r\n`,
      "latin1",
    );
    expect(decodeAwsChunked(raw)).toEqual({ body: Buffer.from("abc"), trailers: {} });
  });

  it("keeps binary chunk data byte for byte, CRLFs inside data included", () => {
    const data = Buffer.from([0, 13, 10, 255, 48, 13, 10]);
    const raw = Buffer.concat([Buffer.from("7\r\n"), data, Buffer.from("\r\n0\r\n\r\n")]);
    expect(decodeAwsChunked(raw).body.equals(data)).toBe(true);
  });

  it("rejects a body shorter than its chunk header says as IncompleteBody", () => {
    expect(() => decodeAwsChunked(Buffer.from("a\r\nshort\r\n0\r\n\r\n"))).toThrow(
      expect.objectContaining({ code: "IncompleteBody" }),
    );
    expect(() => decodeAwsChunked(Buffer.from("zz\r\nabc\r\n"))).toThrow(
      expect.objectContaining({ code: "InvalidRequest" }),
    );
  });

  it("computes the checksums S3 names, matching their published check values", () => {
    const check = Buffer.from("123456789");
    const hex = (b64: string) => Buffer.from(b64, "base64").toString("hex");
    expect(hex(computeChecksum("CRC32", check))).toBe("cbf43926");
    expect(hex(computeChecksum("CRC32C", check))).toBe("e3069283");
    expect(hex(computeChecksum("CRC64NVME", check))).toBe("ae8b14860a799888");
  });
});

describe("S3 through the real S3Client", () => {
  let env: SandboxClients;
  beforeAll(async () => {
    env = await sandboxWithClients();
  });
  afterAll(() => env.stop());
  afterEach(() => env.sandbox.faults.clear());

  let n = 0;
  /** A fresh bucket per test. */
  async function bucket(): Promise<string> {
    const name = `test-bucket-${++n}`;
    await env.s3.send(new CreateBucketCommand({ Bucket: name }));
    return name;
  }
  const put = (Bucket: string, Key: string, Body: string | Buffer) =>
    env.s3.send(new PutObjectCommand({ Bucket, Key, Body }));
  const getBytes = async (Bucket: string, Key: string) => {
    const out = await env.s3.send(new GetObjectCommand({ Bucket, Key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  };

  describe("buckets", () => {
    it("creates a bucket that HeadBucket then finds; a missing one is NotFound 404", async () => {
      const name = await bucket();
      const head = await env.s3.send(new HeadBucketCommand({ Bucket: name }));
      expect(head.$metadata.httpStatusCode).toBe(200);
      expect(head.BucketRegion).toBe("us-east-1");
      await expect(
        env.s3.send(new HeadBucketCommand({ Bucket: "no-such-bucket" })),
      ).rejects.toMatchObject({
        name: "NotFound",
        $metadata: { httpStatusCode: 404 },
      });
    });

    it("answers a second CreateBucket with 409 BucketAlreadyOwnedByYou", async () => {
      const name = await bucket();
      await expect(env.s3.send(new CreateBucketCommand({ Bucket: name }))).rejects.toMatchObject({
        name: "BucketAlreadyOwnedByYou",
        $metadata: { httpStatusCode: 409 },
      });
    });

    it.each([
      "ab",
      "a".repeat(64),
      "Upper-case",
      "under_score",
      "-leading-hyphen",
      "trailing-dot.",
      "two..dots",
      "192.168.1.1",
    ])("rejects the bucket name %j with InvalidBucketName", async (name) => {
      await expect(env.s3.send(new CreateBucketCommand({ Bucket: name }))).rejects.toMatchObject({
        name: "InvalidBucketName",
        $metadata: { httpStatusCode: 400 },
      });
    });

    it("refuses to delete a bucket with objects (409 BucketNotEmpty), deletes an empty one", async () => {
      const name = await bucket();
      await put(name, "k", "v");
      await expect(env.s3.send(new DeleteBucketCommand({ Bucket: name }))).rejects.toMatchObject({
        name: "BucketNotEmpty",
        $metadata: { httpStatusCode: 409 },
      });
      await env.s3.send(new DeleteObjectCommand({ Bucket: name, Key: "k" }));
      await env.s3.send(new DeleteBucketCommand({ Bucket: name }));
      await expect(env.s3.send(new HeadBucketCommand({ Bucket: name }))).rejects.toMatchObject({
        name: "NotFound",
      });
    });

    it("lists buckets by name with their creation dates", async () => {
      const a = await bucket();
      const b = await bucket();
      const out = await env.s3.send(new ListBucketsCommand({}));
      const names = out.Buckets!.map((x) => x.Name);
      expect(names).toEqual(expect.arrayContaining([a, b]));
      expect(names).toEqual([...names].sort());
      expect(out.Buckets!.find((x) => x.Name === a)!.CreationDate).toBeInstanceOf(Date);
    });
  });

  describe("objects", () => {
    it("round-trips bytes, metadata and content type; ETag is the quoted MD5", async () => {
      const name = await bucket();
      const body = randomBytes(3000);
      const putOut = await env.s3.send(
        new PutObjectCommand({
          Bucket: name,
          Key: "dir/file.bin",
          Body: body,
          ContentType: "application/x-tar",
          Metadata: { release: "r42", "built-by": "ci" },
          CacheControl: "max-age=60",
        }),
      );
      expect(putOut.ETag).toBe(`"${md5(body)}"`);
      const out = await env.s3.send(new GetObjectCommand({ Bucket: name, Key: "dir/file.bin" }));
      expect(Buffer.from(await out.Body!.transformToByteArray()).equals(body)).toBe(true);
      expect(out.ContentType).toBe("application/x-tar");
      expect(out.Metadata).toEqual({ release: "r42", "built-by": "ci" });
      expect(out.CacheControl).toBe("max-age=60");
      expect(out.ETag).toBe(`"${md5(body)}"`);
      expect(out.ContentLength).toBe(3000);
      expect(getObjectBytes(env.sandbox.context.state, name, "dir/file.bin")?.equals(body)).toBe(
        true,
      );
      expect(getObjectBytes(env.sandbox.context.state, name, "missing")).toBeUndefined();
    });

    it("sends Last-Modified as an RFC 1123 date", async () => {
      const name = await bucket();
      await put(name, "k", "v");
      const res = await fetch(`${env.sandbox.endpoint}/${name}/k`, { method: "HEAD" });
      expect(res.headers.get("last-modified")).toMatch(
        /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
      );
      const head = await env.s3.send(new HeadObjectCommand({ Bucket: name, Key: "k" }));
      expect(Math.abs(head.LastModified!.getTime() - Date.now())).toBeLessThan(5000);
    });

    it("stores a Buffer body sent with a CRC32 header and returns that checksum on GET", async () => {
      const name = await bucket();
      const body = randomBytes(10_000);
      const putOut = await env.s3.send(
        new PutObjectCommand({ Bucket: name, Key: "k", Body: body }),
      );
      expect(putOut.ChecksumCRC32).toBe(computeChecksum("CRC32", body));
      const out = await env.s3.send(new GetObjectCommand({ Bucket: name, Key: "k" }));
      expect(out.ChecksumCRC32).toBe(putOut.ChecksumCRC32);
      expect(Buffer.from(await out.Body!.transformToByteArray()).equals(body)).toBe(true);
    });

    it("decodes a streamed aws-chunked body with a trailing checksum into identical bytes", async () => {
      const name = await bucket();
      const chunks = [randomBytes(70_000), randomBytes(1), randomBytes(100_000)];
      const whole = Buffer.concat(chunks);
      const putOut = await env.s3.send(
        new PutObjectCommand({
          Bucket: name,
          Key: "streamed",
          Body: Readable.from(chunks),
          ContentLength: whole.length,
        }),
      );
      expect(putOut.ETag).toBe(`"${md5(whole)}"`);
      expect(putOut.ChecksumCRC32).toBe(computeChecksum("CRC32", whole));
      expect((await getBytes(name, "streamed")).equals(whole)).toBe(true);
    });

    /** A raw streaming PUT as the SDK frames it, sent in HTTP chunks (no Content-Length). */
    const streamingPut = (path: string, framed: Buffer, headers: Record<string, string>) =>
      fetch(`${env.sandbox.endpoint}${path}`, {
        method: "PUT",
        headers: {
          "content-encoding": "aws-chunked",
          "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
          "x-amz-trailer": "x-amz-checksum-crc32",
          ...headers,
        },
        body: Readable.toWeb(Readable.from([framed])) as ReadableStream,
        duplex: "half",
      } as RequestInit);

    it("decodes a streamed body of unknown length sent in HTTP chunks", async () => {
      const name = await bucket();
      const data = randomBytes(50_000);
      const framed = Buffer.concat([
        Buffer.from(`${(30_000).toString(16)}\r\n`),
        data.subarray(0, 30_000),
        Buffer.from(`\r\n${(20_000).toString(16)}\r\n`),
        data.subarray(30_000),
        Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${computeChecksum("CRC32", data)}\r\n\r\n`),
      ]);
      const res = await streamingPut(`/${name}/raw`, framed, {});
      expect(res.status).toBe(200);
      expect((await getBytes(name, "raw")).equals(data)).toBe(true);
    });

    it("refuses a streamed body shorter than x-amz-decoded-content-length with IncompleteBody", async () => {
      const name = await bucket();
      const framed = Buffer.from("3\r\nabc\r\n0\r\n\r\n");
      const res = await streamingPut(`/${name}/short`, framed, {
        "x-amz-decoded-content-length": "4",
      });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("<Code>IncompleteBody</Code>");
      await expect(getBytes(name, "short")).rejects.toMatchObject({ name: "NoSuchKey" });
    });

    it.each(["CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const)(
      "verifies and returns a %s checksum chosen by the client",
      async (algorithm) => {
        const name = await bucket();
        const body = randomBytes(5000);
        await env.s3.send(
          new PutObjectCommand({
            Bucket: name,
            Key: "k",
            Body: Readable.from([body]),
            ContentLength: body.length,
            ChecksumAlgorithm: algorithm,
          }),
        );
        const out = await env.s3.send(new GetObjectCommand({ Bucket: name, Key: "k" }));
        expect(out[`Checksum${algorithm}`]).toBe(computeChecksum(algorithm, body));
        expect(Buffer.from(await out.Body!.transformToByteArray()).equals(body)).toBe(true);
      },
    );

    it("rejects a body whose checksum does not match with 400 BadDigest", async () => {
      const name = await bucket();
      await expect(
        env.s3.send(
          new PutObjectCommand({ Bucket: name, Key: "k", Body: "data", ChecksumCRC32: "AAAAAA==" }),
        ),
      ).rejects.toMatchObject({ name: "BadDigest", $metadata: { httpStatusCode: 400 } });
      await expect(
        env.s3.send(new HeadObjectCommand({ Bucket: name, Key: "k" })),
      ).rejects.toMatchObject({
        name: "NotFound",
      });
    });

    it("answers a missing key with NoSuchKey 404 on GET and NotFound 404 on HEAD", async () => {
      const name = await bucket();
      await expect(
        env.s3.send(new GetObjectCommand({ Bucket: name, Key: "nope" })),
      ).rejects.toMatchObject({
        name: "NoSuchKey",
        $metadata: { httpStatusCode: 404 },
      });
      await expect(
        env.s3.send(new HeadObjectCommand({ Bucket: name, Key: "nope" })),
      ).rejects.toMatchObject({
        name: "NotFound",
        $metadata: { httpStatusCode: 404 },
      });
      await expect(
        env.s3.send(new GetObjectCommand({ Bucket: "no-such-bucket", Key: "k" })),
      ).rejects.toMatchObject({
        name: "NoSuchBucket",
        $metadata: { httpStatusCode: 404 },
      });
    });

    it("serves byte ranges with 206 and Content-Range; a range past the end is 416 InvalidRange", async () => {
      const name = await bucket();
      await put(name, "k", "0123456789");
      const mid = await env.s3.send(
        new GetObjectCommand({ Bucket: name, Key: "k", Range: "bytes=2-5" }),
      );
      expect(mid.$metadata.httpStatusCode).toBe(206);
      expect(mid.ContentRange).toBe("bytes 2-5/10");
      expect(await mid.Body!.transformToString()).toBe("2345");
      const tail = await env.s3.send(
        new GetObjectCommand({ Bucket: name, Key: "k", Range: "bytes=-3" }),
      );
      expect(await tail.Body!.transformToString()).toBe("789");
      const open = await env.s3.send(
        new GetObjectCommand({ Bucket: name, Key: "k", Range: "bytes=7-" }),
      );
      expect(await open.Body!.transformToString()).toBe("789");
      await expect(
        env.s3.send(new GetObjectCommand({ Bucket: name, Key: "k", Range: "bytes=10-20" })),
      ).rejects.toMatchObject({ name: "InvalidRange", $metadata: { httpStatusCode: 416 } });
    });

    it("answers GET If-Match with a stale ETag 412 and If-None-Match with the current one 304", async () => {
      const name = await bucket();
      const { ETag } = await put(name, "k", "v1");
      await expect(
        env.s3.send(new GetObjectCommand({ Bucket: name, Key: "k", IfMatch: '"0000"' })),
      ).rejects.toMatchObject({ name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } });
      await expect(
        env.s3.send(new GetObjectCommand({ Bucket: name, Key: "k", IfNoneMatch: ETag })),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 304 } });
      const ok = await env.s3.send(new GetObjectCommand({ Bucket: name, Key: "k", IfMatch: ETag }));
      expect(await ok.Body!.transformToString()).toBe("v1");
    });

    it("copies an object with its metadata, or replaces the metadata when asked", async () => {
      const name = await bucket();
      await env.s3.send(
        new PutObjectCommand({
          Bucket: name,
          Key: "src",
          Body: "payload",
          ContentType: "text/plain",
          Metadata: { a: "1" },
        }),
      );
      const copied = await env.s3.send(
        new CopyObjectCommand({ Bucket: name, Key: "dst", CopySource: `${name}/src` }),
      );
      expect(copied.CopyObjectResult?.ETag).toBe(`"${md5(Buffer.from("payload"))}"`);
      const head = await env.s3.send(new HeadObjectCommand({ Bucket: name, Key: "dst" }));
      expect(head).toMatchObject({ ContentType: "text/plain", Metadata: { a: "1" } });
      await env.s3.send(
        new CopyObjectCommand({
          Bucket: name,
          Key: "src",
          CopySource: `${name}/src`,
          MetadataDirective: "REPLACE",
          Metadata: { b: "2" },
        }),
      );
      const replaced = await env.s3.send(new HeadObjectCommand({ Bucket: name, Key: "src" }));
      expect(replaced.Metadata).toEqual({ b: "2" });
      expect(await getBytes(name, "src")).toEqual(Buffer.from("payload"));
    });

    it("deletes many keys with DeleteObjects and reports each", async () => {
      const name = await bucket();
      await Promise.all(["a", "b", "c"].map((k) => put(name, k, k)));
      const out = await env.s3.send(
        new DeleteObjectsCommand({
          Bucket: name,
          Delete: { Objects: [{ Key: "a" }, { Key: "b" }, { Key: "never-existed" }] },
        }),
      );
      expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(["a", "b", "never-existed"]);
      const left = await env.s3.send(new ListObjectsV2Command({ Bucket: name }));
      expect(left.Contents?.map((o) => o.Key)).toEqual(["c"]);
    });
  });

  describe("conditional writes", () => {
    it("a second If-None-Match: * put gets 412 PreconditionFailed and keeps the first object", async () => {
      const name = await bucket();
      const first = await env.s3.send(
        new PutObjectCommand({ Bucket: name, Key: "lock", Body: "one", IfNoneMatch: "*" }),
      );
      expect(first.$metadata.httpStatusCode).toBe(200);
      await expect(
        env.s3.send(
          new PutObjectCommand({ Bucket: name, Key: "lock", Body: "two", IfNoneMatch: "*" }),
        ),
      ).rejects.toMatchObject({ name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } });
      expect((await getBytes(name, "lock")).toString()).toBe("one");
    });

    it("If-Match with a stale ETag gets 412; with the current one the put succeeds", async () => {
      const name = await bucket();
      const v1 = await put(name, "record", "v1");
      const v2 = await env.s3.send(
        new PutObjectCommand({ Bucket: name, Key: "record", Body: "v2", IfMatch: v1.ETag }),
      );
      expect(v2.ETag).not.toBe(v1.ETag);
      await expect(
        env.s3.send(
          new PutObjectCommand({ Bucket: name, Key: "record", Body: "v3", IfMatch: v1.ETag }),
        ),
      ).rejects.toMatchObject({ name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } });
      expect((await getBytes(name, "record")).toString()).toBe("v2");
    });

    it("If-Match on a key that does not exist gets 404 NoSuchKey", async () => {
      const name = await bucket();
      await expect(
        env.s3.send(
          new PutObjectCommand({ Bucket: name, Key: "gone", Body: "x", IfMatch: '"abc"' }),
        ),
      ).rejects.toMatchObject({ name: "NoSuchKey", $metadata: { httpStatusCode: 404 } });
    });

    it("DeleteObject with a stale If-Match gets 412 and keeps the object; the current ETag deletes it", async () => {
      const name = await bucket();
      const v1 = await put(name, "record", "v1");
      const v2 = await put(name, "record", "v2");
      await expect(
        env.s3.send(new DeleteObjectCommand({ Bucket: name, Key: "record", IfMatch: v1.ETag })),
      ).rejects.toMatchObject({ name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } });
      expect((await getBytes(name, "record")).toString()).toBe("v2");
      const deleted = await env.s3.send(
        new DeleteObjectCommand({ Bucket: name, Key: "record", IfMatch: v2.ETag }),
      );
      expect(deleted.$metadata.httpStatusCode).toBe(204);
      await expect(getBytes(name, "record")).rejects.toMatchObject({ name: "NoSuchKey" });
    });

    it("deleting a key that does not exist succeeds with 204", async () => {
      const name = await bucket();
      const out = await env.s3.send(new DeleteObjectCommand({ Bucket: name, Key: "never" }));
      expect(out.$metadata.httpStatusCode).toBe(204);
    });
  });

  describe("ListObjectsV2", () => {
    it("pages 2,500 keys in lexicographic order with the SDK paginator, 1,000 per page", async () => {
      const name = await bucket();
      const keys = Array.from(
        { length: 2500 },
        (_, i) => `k/${String((i * 7919) % 2500).padStart(5, "0")}`,
      );
      const objects = env.sandbox.context.state.buckets.get(name)!.objects;
      // Written straight into the store: what is under test is the listing, not 2,500 puts.
      for (const key of keys) {
        const body = Buffer.from(key);
        objects.set(key, {
          key,
          body,
          etag: `"${md5(body)}"`,
          lastModified: new Date(),
          metadata: {},
        });
      }
      const pages = [];
      for await (const page of paginateListObjectsV2(
        { client: env.s3, pageSize: 1000 },
        { Bucket: name, MaxKeys: 1000 },
      )) {
        pages.push(page);
      }
      expect(pages.map((p) => p.KeyCount)).toEqual([1000, 1000, 500]);
      expect(pages.map((p) => p.IsTruncated)).toEqual([true, true, false]);
      expect(pages[0]!.NextContinuationToken).toBeTruthy();
      expect(pages[2]!.NextContinuationToken).toBeUndefined();
      const listed = pages.flatMap((p) => p.Contents!.map((o) => o.Key));
      expect(listed).toEqual([...keys].sort());
      expect(pages[0]!.Contents![0]).toMatchObject({ Size: 7, StorageClass: "STANDARD" });
    });

    it("rolls keys into CommonPrefixes by delimiter under a prefix", async () => {
      const name = await bucket();
      for (const key of ["a/1", "a/2", "b/x/1", "b/y", "c"]) await put(name, key, "x");
      const top = await env.s3.send(new ListObjectsV2Command({ Bucket: name, Delimiter: "/" }));
      expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["a/", "b/"]);
      expect(top.Contents?.map((o) => o.Key)).toEqual(["c"]);
      expect(top.KeyCount).toBe(3);
      const underB = await env.s3.send(
        new ListObjectsV2Command({ Bucket: name, Prefix: "b/", Delimiter: "/" }),
      );
      expect(underB.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["b/x/"]);
      expect(underB.Contents?.map((o) => o.Key)).toEqual(["b/y"]);
    });

    it("counts common prefixes towards MaxKeys and never repeats one on the next page", async () => {
      const name = await bucket();
      for (const key of ["a/1", "a/2", "b/1", "b/2", "c", "d/1"]) await put(name, key, "x");
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await env.s3.send(
          new ListObjectsV2Command({
            Bucket: name,
            Delimiter: "/",
            MaxKeys: 1,
            ContinuationToken: token,
          }),
        );
        expect(page.KeyCount).toBe(1);
        seen.push(
          ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!),
          ...(page.Contents ?? []).map((o) => o.Key!),
        );
        token = page.NextContinuationToken;
        pages++;
      } while (token);
      expect(seen).toEqual(["a/", "b/", "c", "d/"]);
      expect(pages).toBe(4);
    });

    it("starts after StartAfter and orders keys by UTF-8 bytes, not UTF-16 units", async () => {
      const name = await bucket();
      for (const key of ["b", "a", "\u{1F600}", "\uFF61", "c"]) await put(name, key, "x");
      const all = await env.s3.send(new ListObjectsV2Command({ Bucket: name }));
      expect(all.Contents?.map((o) => o.Key)).toEqual(["a", "b", "c", "\uFF61", "\u{1F600}"]);
      const after = await env.s3.send(new ListObjectsV2Command({ Bucket: name, StartAfter: "b" }));
      expect(after.Contents?.map((o) => o.Key)).toEqual(["c", "\uFF61", "\u{1F600}"]);
    });
  });

  describe("multipart upload", () => {
    it("assembles a 12 MB object from three parts with the md5-of-md5s-N ETag", async () => {
      const name = await bucket();
      const parts = [
        randomBytes(5 * 1024 * 1024),
        randomBytes(5 * 1024 * 1024),
        randomBytes(2 * 1024 * 1024),
      ];
      const created = await env.s3.send(
        new CreateMultipartUploadCommand({
          Bucket: name,
          Key: "releases/r42.tar.gz",
          ContentType: "application/gzip",
          Metadata: { version: "r42" },
        }),
      );
      const uploaded = await Promise.all(
        parts.map((Body, i) =>
          env.s3.send(
            new UploadPartCommand({
              Bucket: name,
              Key: "releases/r42.tar.gz",
              UploadId: created.UploadId,
              PartNumber: i + 1,
              Body,
            }),
          ),
        ),
      );
      expect(uploaded.map((u) => u.ETag)).toEqual(parts.map((p) => `"${md5(p)}"`));
      const done = await env.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: name,
          Key: "releases/r42.tar.gz",
          UploadId: created.UploadId,
          MultipartUpload: {
            Parts: uploaded.map((u, i) => ({
              ETag: u.ETag,
              PartNumber: i + 1,
              ChecksumCRC32: u.ChecksumCRC32,
            })),
          },
        }),
      );
      const digests = Buffer.concat(parts.map((p) => createHash("md5").update(p).digest()));
      expect(done.ETag).toBe(`"${md5(digests)}-3"`);
      const out = await env.s3.send(
        new GetObjectCommand({ Bucket: name, Key: "releases/r42.tar.gz" }),
      );
      expect(out.ContentType).toBe("application/gzip");
      expect(out.Metadata).toEqual({ version: "r42" });
      expect(out.ETag).toBe(done.ETag);
      expect(Buffer.from(await out.Body!.transformToByteArray()).equals(Buffer.concat(parts))).toBe(
        true,
      );
    });

    it("refuses parts under 5 MiB except the last (EntityTooSmall) and a wrong part ETag (InvalidPart)", async () => {
      const name = await bucket();
      const { UploadId } = await env.s3.send(
        new CreateMultipartUploadCommand({ Bucket: name, Key: "k" }),
      );
      const p1 = await env.s3.send(
        new UploadPartCommand({ Bucket: name, Key: "k", UploadId, PartNumber: 1, Body: "small" }),
      );
      const p2 = await env.s3.send(
        new UploadPartCommand({ Bucket: name, Key: "k", UploadId, PartNumber: 2, Body: "last" }),
      );
      await expect(
        env.s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: name,
            Key: "k",
            UploadId,
            MultipartUpload: {
              Parts: [
                { ETag: p1.ETag, PartNumber: 1 },
                { ETag: p2.ETag, PartNumber: 2 },
              ],
            },
          }),
        ),
      ).rejects.toMatchObject({ name: "EntityTooSmall", $metadata: { httpStatusCode: 400 } });
      await expect(
        env.s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: name,
            Key: "k",
            UploadId,
            MultipartUpload: { Parts: [{ ETag: '"0123"', PartNumber: 1 }] },
          }),
        ),
      ).rejects.toMatchObject({ name: "InvalidPart", $metadata: { httpStatusCode: 400 } });
      // A single small part is a valid (last) part.
      const done = await env.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: name,
          Key: "k",
          UploadId,
          MultipartUpload: { Parts: [{ ETag: p1.ETag, PartNumber: 1 }] },
        }),
      );
      expect(done.ETag).toMatch(/^"[0-9a-f]{32}-1"$/);
      expect((await getBytes(name, "k")).toString()).toBe("small");
    });

    it("forgets an aborted upload: its parts are refused with NoSuchUpload 404", async () => {
      const name = await bucket();
      const { UploadId } = await env.s3.send(
        new CreateMultipartUploadCommand({ Bucket: name, Key: "k" }),
      );
      await env.s3.send(new AbortMultipartUploadCommand({ Bucket: name, Key: "k", UploadId }));
      await expect(
        env.s3.send(
          new UploadPartCommand({ Bucket: name, Key: "k", UploadId, PartNumber: 1, Body: "x" }),
        ),
      ).rejects.toMatchObject({ name: "NoSuchUpload", $metadata: { httpStatusCode: 404 } });
      expect([...env.sandbox.context.state.multipartUploads.keys()]).not.toContain(UploadId);
    });
  });

  describe("fault injection", () => {
    it("surfaces injected PutObject throttling as SlowDown 503 when retries are off", async () => {
      const name = await bucket();
      env.sandbox.faults.set([{ service: "s3", action: "PutObject", throttleRate: 1 }]);
      await expect(put(name, "k", "v")).rejects.toMatchObject({
        name: "SlowDown",
        $metadata: { httpStatusCode: 503 },
      });
      env.sandbox.faults.clear();
      await expect(put(name, "k", "v")).resolves.toMatchObject({
        $metadata: { httpStatusCode: 200 },
      });
    });
  });
});
