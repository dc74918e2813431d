/**
 * S3 object operations: PutObject (with `If-None-Match: *` and `If-Match`), GetObject and
 * HeadObject (Range, conditional reads, stored checksum on request), DeleteObject (with
 * `If-Match`), DeleteObjects and CopyObject.
 */
import type { S3Request, S3Response, SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import type { Bucket, S3Object } from "../../state.js";
import { checksumHeader } from "./checksum.js";
import {
  checkWriteConditions,
  DEFAULT_CONTENT_TYPE,
  empty,
  etagMatches,
  header,
  httpDate,
  malformedXml,
  md5Etag,
  metadataOf,
  noSuchBucket,
  noSuchKey,
  parseXml,
  preconditionFailed,
  readCondition,
  readPayload,
  requireBucket,
  storedHeadersOf,
  text,
  validateKey,
  xmlResponse,
} from "./http.js";

export function putObject(
  req: S3Request,
  ctx: SandboxContext,
  bucketName: string,
  key: string,
): S3Response {
  const bucket = requireBucket(ctx.state, bucketName);
  validateKey(key);
  checkWriteConditions(req, bucket.objects.get(key));
  const metadata = metadataOf(req);
  const payload = readPayload(req);
  const object: S3Object = {
    key,
    body: payload.body,
    etag: md5Etag(payload.body),
    lastModified: new Date(ctx.clock.now()),
    contentType: header(req, "content-type") ?? DEFAULT_CONTENT_TYPE,
    metadata,
  };
  const headers = storedHeadersOf(req);
  if (headers) object.headers = headers;
  if (payload.checksum) object.checksum = payload.checksum;
  bucket.objects.set(key, object);
  const out: Record<string, string> = { etag: object.etag };
  if (payload.checksum) {
    out[checksumHeader(payload.checksum.algorithm)] = payload.checksum.value;
    out["x-amz-checksum-type"] = "FULL_OBJECT";
  }
  return empty(200, out);
}

/** GetObject and HeadObject (the server leaves out the body of a HEAD). */
export function getObject(
  req: S3Request,
  ctx: SandboxContext,
  bucketName: string,
  key: string,
): S3Response {
  const bucket = requireBucket(ctx.state, bucketName);
  const object = bucket.objects.get(key);
  if (!object) throw noSuchKey();
  const part = partOf(req, object);
  const condition = readCondition(req, object);
  if (condition === "precondition-failed") throw preconditionFailed();
  if (condition === "not-modified") {
    return empty(304, { etag: object.etag, "last-modified": httpDate(object.lastModified) });
  }

  const headers: Record<string, string> = {
    etag: object.etag,
    "last-modified": httpDate(object.lastModified),
    "content-type": object.contentType ?? DEFAULT_CONTENT_TYPE,
    "accept-ranges": "bytes",
  };
  for (const [name, value] of Object.entries(object.headers ?? {})) headers[name] = value;
  for (const [name, value] of Object.entries(object.metadata))
    headers[`x-amz-meta-${name}`] = value;
  applyResponseOverrides(req, headers);

  const size = object.body.length;
  if (part) {
    // S3 names the part count only when a part is asked for, and only for a multipart object.
    if (object.partSizes) headers["x-amz-mp-parts-count"] = String(object.partSizes.length);
    headers["content-range"] = `bytes ${part.start}-${part.end}/${size}`;
    headers["content-length"] = String(part.end - part.start + 1);
    return { status: 206, headers, body: object.body.subarray(part.start, part.end + 1) };
  }
  const range = parseRange(header(req, "range"), size);
  if (range) {
    headers["content-range"] = `bytes ${range.start}-${range.end}/${size}`;
    headers["content-length"] = String(range.end - range.start + 1);
    return { status: 206, headers, body: object.body.subarray(range.start, range.end + 1) };
  }
  if (object.checksum && header(req, "x-amz-checksum-mode")?.toUpperCase() === "ENABLED") {
    headers[checksumHeader(object.checksum.algorithm)] = object.checksum.value;
    headers["x-amz-checksum-type"] = "FULL_OBJECT";
  }
  headers["content-length"] = String(size);
  return { status: 200, headers, body: object.body };
}

const MAX_PART_NUMBER = 10_000;

/**
 * `?partNumber=N` on GetObject and HeadObject: the byte range of that part of a multipart
 * object (an object uploaded whole has one part, the whole of it).
 */
function partOf(req: S3Request, object: S3Object): { start: number; end: number } | undefined {
  const raw = req.query.get("partNumber");
  if (raw === null) return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw new AwsError(
      "InvalidArgument",
      `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
    );
  }
  if (header(req, "range") !== undefined) {
    throw new AwsError(
      "InvalidRequest",
      "Cannot specify both Range header and partNumber query parameter",
    );
  }
  const sizes = object.partSizes ?? [object.body.length];
  if (n > sizes.length) {
    throw new AwsError("InvalidPartNumber", "The requested partnumber is not satisfiable", 416);
  }
  const start = sizes.slice(0, n - 1).reduce((sum, size) => sum + size, 0);
  return { start, end: start + sizes[n - 1]! - 1 };
}

const RESPONSE_OVERRIDES: Record<string, string> = {
  "response-content-type": "content-type",
  "response-content-language": "content-language",
  "response-expires": "expires",
  "response-cache-control": "cache-control",
  "response-content-disposition": "content-disposition",
  "response-content-encoding": "content-encoding",
};

/** `response-content-type=…` and friends (used by presigned URLs) override stored headers. */
function applyResponseOverrides(req: S3Request, headers: Record<string, string>): void {
  for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = req.query.get(param);
    if (value !== null) headers[name] = value;
  }
}

/**
 * A single `bytes=` range, resolved against the object's size. Malformed or multiple ranges
 * are ignored (the whole object is returned); a range starting past the end is 416.
 */
export function parseRange(
  value: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  let start: number;
  let end: number;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0) throw invalidRange();
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
    if (match[2] !== "" && Number(match[2]) < start) return undefined;
  }
  if (start >= size) throw invalidRange();
  return { start, end };
}

const invalidRange = (): AwsError =>
  new AwsError("InvalidRange", "The requested range is not satisfiable", 416);

export function deleteObject(
  req: S3Request,
  ctx: SandboxContext,
  bucketName: string,
  key: string,
): S3Response {
  const bucket = requireBucket(ctx.state, bucketName);
  const existing = bucket.objects.get(key);
  const ifMatch = header(req, "if-match");
  if (ifMatch !== undefined) {
    if (!existing) throw noSuchKey();
    if (!etagMatches(ifMatch, existing.etag)) throw preconditionFailed();
  }
  bucket.objects.delete(key);
  return empty(204);
}

const MAX_DELETE_OBJECTS = 1000;

/** DeleteObjects (`POST /bucket?delete`): per-key results, errors reported per key. */
export function deleteObjects(req: S3Request, ctx: SandboxContext, bucketName: string): S3Response {
  const bucket = requireBucket(ctx.state, bucketName);
  const root = parseXml(req.body, "Delete");
  const entries = root.Object;
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_DELETE_OBJECTS) {
    throw malformedXml();
  }
  const quiet = text(root, "Quiet") === "true";
  const deleted: Array<{ Key: string }> = [];
  const errors: Array<{ Key: string; Code: string; Message: string }> = [];
  for (const entry of entries) {
    const key = text(entry, "Key");
    if (key === undefined) throw malformedXml();
    const etag = text(entry, "ETag");
    const existing = bucket.objects.get(key);
    if (etag !== undefined && (!existing || !etagMatches(etag, existing.etag))) {
      const error = existing ? preconditionFailed() : noSuchKey();
      errors.push({ Key: key, Code: error.code, Message: error.message });
      continue;
    }
    bucket.objects.delete(key);
    deleted.push({ Key: key });
  }
  return xmlResponse("DeleteResult", {
    Deleted: quiet ? [] : deleted,
    Error: errors,
  });
}

/** CopyObject: `x-amz-copy-source: /bucket/key`, metadata copied or (REPLACE) taken from the request. */
export function copyObject(
  req: S3Request,
  ctx: SandboxContext,
  bucketName: string,
  key: string,
): S3Response {
  const bucket = requireBucket(ctx.state, bucketName);
  validateKey(key);
  const source = resolveCopySource(ctx, header(req, "x-amz-copy-source") ?? "");
  const sourceCondition = readCondition(req, source.object, "x-amz-copy-source-");
  if (sourceCondition !== "ok") throw preconditionFailed();
  const directive = (header(req, "x-amz-metadata-directive") ?? "COPY").toUpperCase();
  if (directive !== "COPY" && directive !== "REPLACE") {
    throw new AwsError("InvalidArgument", "Unknown metadata directive.");
  }
  if (source.bucket === bucket && source.object.key === key && directive === "COPY") {
    throw new AwsError(
      "InvalidRequest",
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  checkWriteConditions(req, bucket.objects.get(key));
  const from = source.object;
  const object: S3Object =
    directive === "COPY"
      ? {
          key,
          body: from.body,
          etag: from.etag,
          lastModified: new Date(ctx.clock.now()),
          contentType: from.contentType,
          metadata: { ...from.metadata },
        }
      : {
          key,
          body: from.body,
          etag: from.etag,
          lastModified: new Date(ctx.clock.now()),
          contentType: header(req, "content-type") ?? DEFAULT_CONTENT_TYPE,
          metadata: metadataOf(req),
        };
  const headers = directive === "COPY" ? from.headers : storedHeadersOf(req);
  if (headers) object.headers = { ...headers };
  if (from.checksum) object.checksum = { ...from.checksum };
  if (from.partSizes !== undefined) object.partSizes = [...from.partSizes];
  bucket.objects.set(key, object);
  return xmlResponse("CopyObjectResult", {
    ETag: object.etag,
    LastModified: object.lastModified,
  });
}

function resolveCopySource(
  ctx: SandboxContext,
  value: string,
): { bucket: Bucket; object: S3Object } {
  let path: string;
  try {
    path = decodeURIComponent(value.split("?", 1)[0]!);
  } catch {
    throw new AwsError("InvalidArgument", "Invalid copy source encoding");
  }
  if (path.startsWith("/")) path = path.slice(1);
  const slash = path.indexOf("/");
  if (slash <= 0 || slash === path.length - 1) {
    throw new AwsError(
      "InvalidArgument",
      "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
    );
  }
  const bucket = ctx.state.buckets.get(path.slice(0, slash));
  if (!bucket) throw noSuchBucket();
  const object = bucket.objects.get(path.slice(slash + 1));
  if (!object) throw noSuchKey();
  return { bucket, object };
}
