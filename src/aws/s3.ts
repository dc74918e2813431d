/**
 * S3 operations switchyard uses: JSON records with conditional writes, object existence, listing,
 * and file uploads (single PutObject or multipart through @aws-sdk/lib-storage).
 */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { type CallOptions, call, errorName, httpStatus, throughCall } from "./call.js";
import type { Clients } from "./clients.js";

export class PreconditionFailed extends Error {
  constructor(bucket: string, key: string) {
    super(`s3://${bucket}/${key} changed or already exists (412 PreconditionFailed)`);
    this.name = "PreconditionFailed";
  }
}

export async function getJson<T>(
  clients: Clients,
  bucket: string,
  key: string,
  options: CallOptions = {},
): Promise<{ value: T; etag: string } | undefined> {
  try {
    const out = await call(
      () => clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
      options,
    );
    const text = (await out.Body?.transformToString("utf8")) ?? "";
    return { value: JSON.parse(text) as T, etag: out.ETag ?? "" };
  } catch (error) {
    if (errorName(error) === "NoSuchKey" || httpStatus(error) === 404) return undefined;
    throw error;
  }
}

/**
 * Writes JSON. `ifNoneMatch` creates only if absent; `ifMatch` replaces only that version.
 * Throws PreconditionFailed when the condition does not hold. Returns the new ETag.
 */
export async function putJson(
  clients: Clients,
  bucket: string,
  key: string,
  value: unknown,
  condition: { ifNoneMatch?: boolean; ifMatch?: string } = {},
  options: CallOptions = {},
): Promise<string> {
  try {
    const out = await call(
      () =>
        clients.s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: JSON.stringify(value, null, 2),
            ContentType: "application/json",
            ...(condition.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
            ...(condition.ifMatch ? { IfMatch: condition.ifMatch } : {}),
          }),
        ),
      options,
    );
    return out.ETag ?? "";
  } catch (error) {
    if (isPreconditionFailure(error)) throw new PreconditionFailed(bucket, key);
    throw error;
  }
}

function isPreconditionFailure(error: unknown): boolean {
  return (
    errorName(error) === "PreconditionFailed" ||
    httpStatus(error) === 412 ||
    // a conditional create racing another one may be answered 409
    errorName(error) === "ConditionalRequestConflict"
  );
}

export async function deleteObject(
  clients: Clients,
  bucket: string,
  key: string,
  ifMatch?: string,
  options: CallOptions = {},
): Promise<void> {
  try {
    await call(
      () =>
        clients.s3.send(
          new DeleteObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(ifMatch ? { IfMatch: ifMatch } : {}),
          }),
        ),
      options,
    );
  } catch (error) {
    if (isPreconditionFailure(error)) throw new PreconditionFailed(bucket, key);
    if (errorName(error) === "NoSuchKey") return;
    throw error;
  }
}

export async function headObject(
  clients: Clients,
  bucket: string,
  key: string,
  options: CallOptions = {},
): Promise<{ size: number; lastModified?: Date; metadata: Record<string, string> } | undefined> {
  try {
    const out = await call(
      () => clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
      options,
    );
    return {
      size: out.ContentLength ?? 0,
      lastModified: out.LastModified,
      metadata: out.Metadata ?? {},
    };
  } catch (error) {
    const name = errorName(error);
    if (name === "NotFound" || name === "NoSuchKey" || httpStatus(error) === 404) return undefined;
    throw error;
  }
}

export async function listObjects(
  clients: Clients,
  bucket: string,
  prefix: string,
  options: CallOptions = {},
): Promise<Array<{ key: string; size: number; lastModified?: Date }>> {
  const objects: Array<{ key: string; size: number; lastModified?: Date }> = [];
  const pages = paginateListObjectsV2(
    { client: throughCall(clients.s3, options) },
    { Bucket: bucket, Prefix: prefix },
  );
  for await (const page of pages) {
    for (const o of page.Contents ?? []) {
      objects.push({ key: o.Key ?? "", size: o.Size ?? 0, lastModified: o.LastModified });
    }
  }
  return objects;
}

/** Files larger than this are uploaded in parts of this size. */
export const MULTIPART_PART_SIZE = 8 * 1024 * 1024;

export interface UploadFileSpec {
  bucket: string;
  key: string;
  /** the local file to upload */
  file: string;
  /** its size in bytes */
  size: number;
  contentType?: string;
  /** user metadata, sent as `x-amz-meta-<key>` */
  metadata?: Record<string, string>;
  /** create only: PreconditionFailed when the key already exists (`If-None-Match: *`) */
  ifNoneMatch?: boolean;
  /** part size for multipart uploads (default 8 MiB, at least 5 MiB) */
  partSize?: number;
  onProgress?: (progress: { loaded: number; total: number }) => void;
}

/**
 * Uploads a file: one PutObject when it fits in one part, else a multipart upload through
 * lib-storage's `Upload` (parts in parallel, progress after each part, the upload aborted on
 * failure). With `ifNoneMatch` both paths are conditional creates: lib-storage (checked in
 * 3.1173: Upload.js spreads `params` into PutObject for a single part and into
 * CompleteMultipartUpload) forwards `IfNoneMatch` to the request that creates the object, so
 * S3 refuses to overwrite at the moment the object would appear. Throws PreconditionFailed then.
 */
export async function uploadFile(
  clients: Clients,
  spec: UploadFileSpec,
  options: CallOptions = {},
): Promise<{ etag: string; multipart: boolean }> {
  const partSize = Math.max(spec.partSize ?? MULTIPART_PART_SIZE, 5 * 1024 * 1024);
  const common = {
    Bucket: spec.bucket,
    Key: spec.key,
    ContentType: spec.contentType ?? "application/gzip",
    ...(spec.metadata ? { Metadata: spec.metadata } : {}),
    ...(spec.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
  };
  const progress = (loaded: number) => spec.onProgress?.({ loaded, total: spec.size });
  try {
    if (spec.size <= partSize) {
      const body = await readFile(spec.file);
      progress(0);
      const out = await call(
        () => clients.s3.send(new PutObjectCommand({ ...common, Body: body })),
        options,
      );
      progress(spec.size);
      return { etag: out.ETag ?? "", multipart: false };
    }
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const upload = new Upload({
        // each part, the create and the complete go through `call`, the one retry layer
        client: throughCall(clients.s3, options),
        params: { ...common, Body: createReadStream(spec.file), ContentLength: spec.size },
        partSize,
        queueSize: 4,
        abortController: abort,
      });
      upload.on("httpUploadProgress", (p) => progress(p.loaded ?? 0));
      progress(0);
      const out = await upload.done();
      return { etag: ("ETag" in out ? out.ETag : undefined) ?? "", multipart: true };
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
  } catch (error) {
    if (isPreconditionFailure(error)) throw new PreconditionFailed(spec.bucket, spec.key);
    throw error;
  }
}
