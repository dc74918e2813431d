/**
 * S3 bucket operations: CreateBucket, HeadBucket, DeleteBucket, ListBuckets, GetBucketLocation,
 * and the object listings ListObjectsV2 and ListObjects (lexicographic by UTF-8 bytes, with
 * prefix, delimiter → CommonPrefixes, paging).
 */
import type { S3Request, S3Response, SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import type { Bucket, S3Object } from "../../state.js";
import { empty, OWNER, parseXml, requireBucket, text, xmlResponse } from "./http.js";

const MAX_KEYS = 1000;
const IP_ADDRESS = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const RESERVED_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/** AWS's general-purpose bucket naming rules; the reason a name breaks them, or undefined. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return "must be 3 to 63 characters long";
  if (!/^[a-z0-9.-]+$/.test(name)) {
    return "may contain only lowercase letters, digits, dots and hyphens";
  }
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    return "must begin and end with a letter or digit";
  }
  if (name.includes("..")) return "must not contain two adjacent dots";
  if (IP_ADDRESS.test(name)) return "must not be formatted as an IP address";
  const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `must not start with the reserved prefix ${prefix}`;
  const suffix = RESERVED_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix) return `must not end with the reserved suffix ${suffix}`;
  return undefined;
}

export function createBucket(req: S3Request, ctx: SandboxContext, name: string): S3Response {
  const problem = bucketNameProblem(name);
  if (problem) {
    throw new AwsError("InvalidBucketName", `The specified bucket is not valid: ${problem}.`);
  }
  if (req.body.length > 0) {
    const config = parseXml(req.body, "CreateBucketConfiguration");
    const location = text(config, "LocationConstraint");
    if (location && location !== ctx.state.region) {
      throw new AwsError(
        "IllegalLocationConstraintException",
        `The ${location} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      );
    }
  }
  if (ctx.state.buckets.has(name)) {
    throw new AwsError(
      "BucketAlreadyOwnedByYou",
      "Your previous request to create the named bucket succeeded and you already own it.",
      409,
    );
  }
  ctx.state.buckets.set(name, {
    name,
    createdAt: new Date(ctx.clock.now()),
    objects: new Map(),
  });
  return empty(200, { location: `/${name}` });
}

export function headBucket(ctx: SandboxContext, name: string): S3Response {
  requireBucket(ctx.state, name);
  return empty(200, {
    "x-amz-bucket-region": ctx.state.region,
    "x-amz-access-point-alias": "false",
  });
}

export function deleteBucket(ctx: SandboxContext, name: string): S3Response {
  const bucket = requireBucket(ctx.state, name);
  if (bucket.objects.size > 0) {
    throw new AwsError("BucketNotEmpty", "The bucket you tried to delete is not empty", 409);
  }
  for (const [id, upload] of ctx.state.multipartUploads) {
    if (upload.bucket === name) ctx.state.multipartUploads.delete(id);
  }
  ctx.state.buckets.delete(name);
  return empty(204);
}

export function getBucketLocation(ctx: SandboxContext, name: string): S3Response {
  requireBucket(ctx.state, name);
  // us-east-1 answers with an empty LocationConstraint.
  const region = ctx.state.region === "us-east-1" ? "" : ctx.state.region;
  return {
    status: 200,
    headers: { "content-type": "application/xml" },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region}</LocationConstraint>`,
  };
}

export function listBuckets(req: S3Request, ctx: SandboxContext): S3Response {
  const prefix = req.query.get("prefix") ?? "";
  const maxBuckets = parseMax(req.query.get("max-buckets"), 10_000, "max-buckets");
  const after = decodeToken(req.query.get("continuation-token"));
  const names = [...ctx.state.buckets.keys()]
    .filter((n) => n.startsWith(prefix) && (after === undefined || compareKeys(n, after) > 0))
    .sort(compareKeys);
  const page = names.slice(0, maxBuckets);
  const truncated = names.length > page.length;
  return xmlResponse("ListAllMyBucketsResult", {
    Owner: OWNER,
    Buckets: {
      Bucket: page.map((n) => ({
        Name: n,
        CreationDate: ctx.state.buckets.get(n)!.createdAt,
        BucketRegion: ctx.state.region,
      })),
    },
    ContinuationToken: truncated ? encodeToken(page.at(-1)!) : undefined,
    Prefix: req.query.has("prefix") ? prefix : undefined,
  });
}

/** ListObjectsV2 (`list-type=2`) or, without it, the original ListObjects. */
export function listObjects(req: S3Request, ctx: SandboxContext, name: string): S3Response {
  const bucket = requireBucket(ctx.state, name);
  const q = req.query;
  const v2 = q.get("list-type") === "2";
  const prefix = q.get("prefix") ?? "";
  const delimiter = q.get("delimiter") ?? "";
  const maxKeys = parseMax(q.get("max-keys"), MAX_KEYS, "max-keys");
  const encodingType = q.get("encoding-type") ?? undefined;
  if (encodingType !== undefined && encodingType !== "url") {
    throw new AwsError("InvalidArgument", "Invalid Encoding Method specified in Request");
  }
  const encode = (s: string) => (encodingType === "url" ? urlEncodeKey(s) : s);
  const token = q.get("continuation-token") ?? undefined;
  const startAfter = q.get("start-after") ?? undefined;
  const marker = q.get("marker") ?? undefined;
  const after = v2 ? (token !== undefined ? decodeToken(token) : startAfter) : marker;

  const page = listPage(bucket, { prefix, delimiter, maxKeys, after });
  const withOwner = !v2 || q.get("fetch-owner") === "true";
  const contents = page.objects.map((o) => ({
    Key: encode(o.key),
    LastModified: o.lastModified,
    ETag: o.etag,
    ChecksumAlgorithm: o.checksum?.algorithm,
    ChecksumType: o.checksum ? "FULL_OBJECT" : undefined,
    Size: o.body.length,
    Owner: withOwner ? OWNER : undefined,
    StorageClass: "STANDARD",
  }));
  const commonPrefixes = page.commonPrefixes.map((p) => ({ Prefix: encode(p) }));
  if (v2) {
    return xmlResponse("ListBucketResult", {
      Name: bucket.name,
      Prefix: encode(prefix),
      Delimiter: delimiter ? encode(delimiter) : undefined,
      MaxKeys: maxKeys,
      EncodingType: encodingType,
      KeyCount: contents.length + commonPrefixes.length,
      IsTruncated: page.truncated,
      ContinuationToken: token,
      NextContinuationToken: page.truncated ? encodeToken(page.last!) : undefined,
      StartAfter: startAfter !== undefined ? encode(startAfter) : undefined,
      Contents: contents,
      CommonPrefixes: commonPrefixes,
    });
  }
  return xmlResponse("ListBucketResult", {
    Name: bucket.name,
    Prefix: encode(prefix),
    Marker: encode(marker ?? ""),
    NextMarker: page.truncated && delimiter ? encode(page.last!) : undefined,
    MaxKeys: maxKeys,
    Delimiter: delimiter ? encode(delimiter) : undefined,
    EncodingType: encodingType,
    IsTruncated: page.truncated,
    Contents: contents,
    CommonPrefixes: commonPrefixes,
  });
}

interface Page {
  objects: S3Object[];
  commonPrefixes: string[];
  truncated: boolean;
  /** the last key or common prefix returned: where the next page starts after */
  last?: string;
}

/**
 * One page of a bucket listing: keys after `after` under `prefix`, keys sharing the part up to
 * the next `delimiter` rolled into one common prefix, keys and common prefixes both counting
 * towards `maxKeys`.
 */
export function listPage(
  bucket: Bucket,
  opts: { prefix: string; delimiter: string; maxKeys: number; after?: string },
): Page {
  const { prefix, delimiter, maxKeys, after } = opts;
  const keys = sortedKeys(bucket, prefix);
  const page: Page = { objects: [], commonPrefixes: [], truncated: false };
  let count = 0;
  for (const key of keys) {
    let entry = key;
    let isPrefix = false;
    if (delimiter) {
      const at = key.indexOf(delimiter, prefix.length);
      if (at !== -1) {
        entry = key.slice(0, at + delimiter.length);
        isPrefix = true;
      }
    }
    if (after !== undefined && compareKeys(entry, after) <= 0) continue;
    if (isPrefix && entry === page.last) continue;
    if (count === maxKeys) {
      page.truncated = maxKeys > 0;
      break;
    }
    if (isPrefix) page.commonPrefixes.push(entry);
    else page.objects.push(bucket.objects.get(key)!);
    page.last = entry;
    count++;
  }
  return page;
}

/** Keys under `prefix` in S3's order: by their UTF-8 bytes. */
function sortedKeys(bucket: Bucket, prefix: string): string[] {
  const keyed: Array<[string, Buffer]> = [];
  for (const key of bucket.objects.keys()) {
    if (key.startsWith(prefix)) keyed.push([key, Buffer.from(key, "utf8")]);
  }
  keyed.sort((a, b) => Buffer.compare(a[1], b[1]));
  return keyed.map(([key]) => key);
}

export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function parseMax(value: string | null, cap: number, name: string): number {
  if (value === null || value === "") return cap;
  if (!/^\d+$/.test(value)) {
    throw new AwsError(
      "InvalidArgument",
      `Provided ${name} not an integer or within integer range`,
    );
  }
  return Math.min(Number(value), cap);
}

const TOKEN_PREFIX = "sandbox:";

function encodeToken(after: string): string {
  return Buffer.from(TOKEN_PREFIX + after, "utf8").toString("base64");
}

function decodeToken(token: string | null | undefined): string | undefined {
  if (token === null || token === undefined) return undefined;
  const decoded = Buffer.from(token, "base64").toString("utf8");
  if (!decoded.startsWith(TOKEN_PREFIX)) {
    throw new AwsError("InvalidArgument", "The continuation token provided is incorrect");
  }
  return decoded.slice(TOKEN_PREFIX.length);
}

/** `encoding-type=url`: keys percent-encoded, `/` kept. */
function urlEncodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, "/");
}
