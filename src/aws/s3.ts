/** S3 operations switchyard uses: JSON records with conditional writes, object existence, listing. */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { type CallOptions, call, errorName, httpStatus } from "./call.js";
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
  let token: string | undefined;
  do {
    const out = await call(
      () =>
        clients.s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        ),
      options,
    );
    for (const o of out.Contents ?? []) {
      objects.push({ key: o.Key ?? "", size: o.Size ?? 0, lastModified: o.LastModified });
    }
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return objects;
}
