/**
 * The REST-XML side of the sandbox's S3: reading headers, request bodies (plain or aws-chunked,
 * with their Content-MD5, payload hash and additional checksums verified), XML in and out, and
 * the AWS errors the handlers share.
 */
import { createHash, randomBytes } from "node:crypto";
import { XMLParser } from "fast-xml-parser";
import type { S3Request, S3Response } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import { escapeXml } from "../../protocol/query.js";
import type { Bucket, S3Object, SandboxState } from "../../state.js";
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  checksumHeader,
  computeChecksum,
  isChecksumAlgorithm,
} from "./checksum.js";
import { decodeAwsChunked, isAwsChunked, storedContentEncoding } from "./chunked.js";

export const S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";
/** The sandbox account's canonical user, as S3 names owners. */
export const OWNER = {
  ID: "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a",
  DisplayName: "sandbox",
};
export const DEFAULT_CONTENT_TYPE = "binary/octet-stream";
const MAX_KEY_BYTES = 1024;
const MAX_METADATA_BYTES = 2048;
/** Object headers S3 stores as sent and returns on GET and HEAD. */
export const STORED_HEADERS = [
  "cache-control",
  "content-disposition",
  "content-encoding",
  "content-language",
  "expires",
] as const;

// ---------- errors ----------
export const noSuchBucket = (): AwsError =>
  new AwsError("NoSuchBucket", "The specified bucket does not exist", 404);
export const noSuchKey = (): AwsError =>
  new AwsError("NoSuchKey", "The specified key does not exist.", 404);
export const preconditionFailed = (): AwsError =>
  new AwsError(
    "PreconditionFailed",
    "At least one of the pre-conditions you specified did not hold",
    412,
  );
export const malformedXml = (): AwsError =>
  new AwsError(
    "MalformedXML",
    "The XML you provided was not well-formed or did not validate against our published schema",
  );
export const notImplemented = (what: string): AwsError =>
  new AwsError(
    "NotImplemented",
    `A header or query you provided implies functionality that is not implemented (the sandbox does not support ${what})`,
    501,
  );

// ---------- requests ----------
/** A request header's value; repeated headers are joined with commas. */
export function header(req: S3Request, name: string): string | undefined {
  const value = req.headers[name];
  if (Array.isArray(value)) return value.join(",");
  return value;
}

export function requireBucket(state: SandboxState, name: string): Bucket {
  const bucket = state.buckets.get(name);
  if (!bucket) throw noSuchBucket();
  return bucket;
}

export function validateKey(key: string): void {
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) {
    throw new AwsError("KeyTooLongError", "Your key is too long");
  }
}

/** `x-amz-meta-*` headers, names lower-cased without the prefix. */
export function metadataOf(req: S3Request): Record<string, string> {
  const metadata: Record<string, string> = {};
  let size = 0;
  for (const name of Object.keys(req.headers)) {
    if (!name.startsWith("x-amz-meta-")) continue;
    const key = name.slice("x-amz-meta-".length);
    const value = header(req, name) ?? "";
    metadata[key] = value;
    size += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (size > MAX_METADATA_BYTES) {
    throw new AwsError(
      "MetadataTooLarge",
      `Your metadata headers exceed the maximum allowed metadata size (${size} > ${MAX_METADATA_BYTES} bytes)`,
    );
  }
  return metadata;
}

/** The object headers S3 keeps (Content-Encoding without `aws-chunked`). */
export function storedHeadersOf(req: S3Request): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const value =
      name === "content-encoding" ? storedContentEncoding(header(req, name)) : header(req, name);
    if (value !== undefined) out[name] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export interface Payload {
  body: Buffer;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

/**
 * The bytes a PutObject or UploadPart carries: aws-chunked framing removed, its decoded length,
 * Content-MD5, payload hash and any additional checksum (header or trailer) verified.
 */
export function readPayload(req: S3Request): Payload {
  const contentSha256 = header(req, "x-amz-content-sha256");
  const decodedLength = header(req, "x-amz-decoded-content-length");
  let body = req.body;
  let trailers: Record<string, string> = {};
  if (
    isAwsChunked({
      contentSha256,
      contentEncoding: header(req, "content-encoding"),
      decodedContentLength: decodedLength,
    })
  ) {
    const decoded = decodeAwsChunked(req.body);
    body = decoded.body;
    trailers = decoded.trailers;
    if (decodedLength !== undefined && Number(decodedLength) !== body.length) {
      throw new AwsError(
        "IncompleteBody",
        `You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header (${decodedLength} declared, ${body.length} received)`,
      );
    }
  } else if (contentSha256 && /^[0-9a-f]{64}$/i.test(contentSha256)) {
    const actual = createHash("sha256").update(body).digest("hex");
    if (actual !== contentSha256.toLowerCase()) {
      throw new AwsError(
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
    }
  }

  const contentMd5 = header(req, "content-md5");
  if (contentMd5 !== undefined) {
    if (Buffer.from(contentMd5, "base64").length !== 16) {
      throw new AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.");
    }
    if (createHash("md5").update(body).digest("base64") !== contentMd5) {
      throw new AwsError(
        "BadDigest",
        "The Content-MD5 you specified did not match what we received.",
      );
    }
  }

  const sent: Array<{ algorithm: ChecksumAlgorithm; value: string }> = [];
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const name = checksumHeader(algorithm);
    const value = header(req, name) ?? trailers[name];
    if (value !== undefined) sent.push({ algorithm, value });
  }
  if (sent.length > 1) {
    throw new AwsError("InvalidRequest", "Expecting a single x-amz-checksum- header");
  }
  const sdkAlgorithm = header(req, "x-amz-sdk-checksum-algorithm")?.toUpperCase();
  if (sdkAlgorithm !== undefined) {
    if (!isChecksumAlgorithm(sdkAlgorithm)) {
      throw new AwsError(
        "InvalidRequest",
        `Value for x-amz-sdk-checksum-algorithm header is invalid: ${sdkAlgorithm}`,
      );
    }
    if (sent.length === 0 || sent[0]!.algorithm !== sdkAlgorithm) {
      throw new AwsError(
        "InvalidRequest",
        "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
      );
    }
  }
  const checksum = sent[0];
  if (checksum && computeChecksum(checksum.algorithm, body) !== checksum.value) {
    throw new AwsError(
      "BadDigest",
      `The ${checksum.algorithm} you specified did not match the calculated checksum.`,
    );
  }
  return checksum ? { body, checksum } : { body };
}

// ---------- ETags and conditions ----------
export function md5Etag(body: Buffer): string {
  return `"${createHash("md5").update(body).digest("hex")}"`;
}

export const unquote = (etag: string): string =>
  etag.trim().replace(/^W\//, "").replace(/^"|"$/g, "");

/** Whether an `If-Match` / `If-None-Match` list (`"a", "b"` or `*`) names this ETag. */
export function etagMatches(condition: string, etag: string): boolean {
  const wanted = unquote(etag);
  return condition.split(",").some((item) => {
    const candidate = item.trim();
    return candidate === "*" || unquote(candidate) === wanted;
  });
}

/** PutObject, CopyObject and CompleteMultipartUpload: `If-None-Match: *` and `If-Match`. */
export function checkWriteConditions(req: S3Request, existing: S3Object | undefined): void {
  const ifNoneMatch = header(req, "if-none-match");
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== "*") throw notImplemented("If-None-Match other than * on writes");
    if (existing) throw preconditionFailed();
  }
  const ifMatch = header(req, "if-match");
  if (ifMatch !== undefined) {
    if (!existing) throw noSuchKey();
    if (!etagMatches(ifMatch, existing.etag)) throw preconditionFailed();
  }
}

/** Last-Modified as HTTP sends it (RFC 1123), whole seconds. */
export function httpDate(date: Date): string {
  return date.toUTCString();
}

const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/**
 * GetObject and HeadObject conditions, in HTTP's order: If-Match (else If-Unmodified-Since)
 * fails with 412; If-None-Match (else If-Modified-Since) answers 304.
 */
export function readCondition(
  req: S3Request,
  object: S3Object,
  prefix = "",
): "ok" | "precondition-failed" | "not-modified" {
  const ifMatch = header(req, `${prefix}if-match`);
  const ifUnmodifiedSince = parseHttpDate(header(req, `${prefix}if-unmodified-since`));
  const ifNoneMatch = header(req, `${prefix}if-none-match`);
  const ifModifiedSince = parseHttpDate(header(req, `${prefix}if-modified-since`));
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, object.etag)) return "precondition-failed";
  } else if (ifUnmodifiedSince !== undefined && seconds(object.lastModified) > ifUnmodifiedSince) {
    return "precondition-failed";
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, object.etag)) return "not-modified";
  } else if (ifModifiedSince !== undefined && seconds(object.lastModified) <= ifModifiedSince) {
    return "not-modified";
  }
  return "ok";
}

function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

// ---------- XML ----------
const parser = new XMLParser({
  parseTagValue: false,
  trimValues: false,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  isArray: (_name: string, jpath: unknown) =>
    jpath === "Delete.Object" || jpath === "CompleteMultipartUpload.Part",
});

/** Parses a request body; `MalformedXML` when it is not XML or its root is not `root`. */
export function parseXml(body: Buffer, root: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parser.parse(body.toString("utf8"), true);
  } catch {
    throw malformedXml();
  }
  const node = (parsed as Record<string, unknown>)[root];
  if (typeof node !== "object" || node === null || Array.isArray(node)) throw malformedXml();
  return node as Record<string, unknown>;
}

/** A text child of a parsed element, or undefined. */
export function text(node: unknown, name: string): string | undefined {
  if (typeof node !== "object" || node === null) return undefined;
  const value = (node as Record<string, unknown>)[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * S3's XML: object members become elements in order, arrays repeat their element (S3's lists
 * are flattened: `<Contents>…</Contents><Contents>…</Contents>`), Dates are ISO 8601,
 * undefined is left out.
 */
export function toS3Xml(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== "object") return escapeXml(String(value));
  let out = "";
  for (const [name, member] of Object.entries(value as Record<string, unknown>)) {
    const items = Array.isArray(member) ? member : [member];
    for (const item of items) {
      if (item === undefined || item === null) continue;
      out += `<${name}>${toS3Xml(item)}</${name}>`;
    }
  }
  return out;
}

export function xmlResponse(
  root: string,
  content: Record<string, unknown>,
  headers: Record<string, string> = {},
): S3Response {
  return {
    status: 200,
    headers: { "content-type": "application/xml", ...headers },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_NAMESPACE}">${toS3Xml(content)}</${root}>`,
  };
}

/** Headers of a response without a body. */
export function empty(status: number, headers: Record<string, string> = {}): S3Response {
  if (status === 204 || status === 304) return { status, headers };
  return { status, headers: { "content-length": "0", ...headers } };
}

/** An id like S3's upload ids: long, URL-safe, opaque. */
export function newUploadId(): string {
  return randomBytes(48).toString("base64url");
}
