/**
 * S3 multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload (parts in
 * ascending order, every part but the last at least 5 MiB, ETag `"<md5 of the parts' md5s>-N"`),
 * AbortMultipartUpload, ListParts and ListMultipartUploads.
 */
import { createHash } from "node:crypto";
import type { S3Request, S3Response, SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import type { MultipartPart, MultipartUpload, S3Object } from "../../state.js";
import { checksumHeader, isChecksumAlgorithm } from "./checksum.js";
import {
  checkWriteConditions,
  DEFAULT_CONTENT_TYPE,
  empty,
  header,
  malformedXml,
  md5Etag,
  metadataOf,
  newUploadId,
  OWNER,
  parseXml,
  readPayload,
  requireBucket,
  storedHeadersOf,
  text,
  unquote,
  validateKey,
  xmlResponse,
} from "./http.js";

export const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;

function requireUpload(
  ctx: SandboxContext,
  uploadId: string,
  bucket: string,
  key: string,
): MultipartUpload {
  const upload = ctx.state.multipartUploads.get(uploadId);
  if (!upload || upload.bucket !== bucket || upload.key !== key) {
    throw new AwsError(
      "NoSuchUpload",
      "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
      404,
    );
  }
  return upload;
}

export function createMultipartUpload(
  req: S3Request,
  ctx: SandboxContext,
  bucketName: string,
  key: string,
): S3Response {
  requireBucket(ctx.state, bucketName);
  validateKey(key);
  const upload: MultipartUpload = {
    uploadId: newUploadId(),
    bucket: bucketName,
    key,
    initiated: new Date(ctx.clock.now()),
    contentType: header(req, "content-type") ?? DEFAULT_CONTENT_TYPE,
    metadata: metadataOf(req),
    parts: new Map(),
  };
  const headers = storedHeadersOf(req);
  if (headers) upload.headers = headers;
  ctx.state.multipartUploads.set(upload.uploadId, upload);
  const algorithm = header(req, "x-amz-checksum-algorithm")?.toUpperCase();
  return xmlResponse(
    "InitiateMultipartUploadResult",
    { Bucket: bucketName, Key: key, UploadId: upload.uploadId },
    algorithm && isChecksumAlgorithm(algorithm) ? { "x-amz-checksum-algorithm": algorithm } : {},
  );
}

export function uploadPart(
  req: S3Request,
  ctx: SandboxContext,
  bucketName: string,
  key: string,
): S3Response {
  requireBucket(ctx.state, bucketName);
  const upload = requireUpload(ctx, req.query.get("uploadId") ?? "", bucketName, key);
  const partNumber = partNumberOf(req.query.get("partNumber"));
  const payload = readPayload(req);
  const part: MultipartPart = {
    partNumber,
    body: payload.body,
    etag: md5Etag(payload.body),
    lastModified: new Date(ctx.clock.now()),
  };
  if (payload.checksum) part.checksum = payload.checksum;
  upload.parts.set(partNumber, part);
  const headers: Record<string, string> = { etag: part.etag };
  if (payload.checksum)
    headers[checksumHeader(payload.checksum.algorithm)] = payload.checksum.value;
  return empty(200, headers);
}

function partNumberOf(value: string | null): number {
  const n = value !== null && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw new AwsError(
      "InvalidArgument",
      `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
    );
  }
  return n;
}

export function completeMultipartUpload(
  req: S3Request,
  ctx: SandboxContext,
  bucketName: string,
  key: string,
): S3Response {
  const bucket = requireBucket(ctx.state, bucketName);
  const upload = requireUpload(ctx, req.query.get("uploadId") ?? "", bucketName, key);
  const root = parseXml(req.body, "CompleteMultipartUpload");
  const listed = root.Part;
  if (!Array.isArray(listed) || listed.length === 0) throw malformedXml();

  const parts: MultipartPart[] = [];
  let previous = 0;
  for (const entry of listed) {
    const partNumber = Number(text(entry, "PartNumber"));
    const etag = text(entry, "ETag");
    if (!Number.isInteger(partNumber) || etag === undefined) throw malformedXml();
    if (partNumber <= previous) {
      throw new AwsError(
        "InvalidPartOrder",
        "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
      );
    }
    previous = partNumber;
    const part = upload.parts.get(partNumber);
    if (!part || unquote(part.etag) !== unquote(etag) || !checksumsAgree(entry, part)) {
      throw new AwsError(
        "InvalidPart",
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      );
    }
    parts.push(part);
  }
  parts.forEach((part, i) => {
    if (i < parts.length - 1 && part.body.length < MIN_PART_SIZE) {
      throw new AwsError(
        "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed object size.",
      );
    }
  });
  checkWriteConditions(req, bucket.objects.get(key));

  const digests = parts.map((p) => Buffer.from(unquote(p.etag), "hex"));
  const etag = `"${createHash("md5").update(Buffer.concat(digests)).digest("hex")}-${parts.length}"`;
  const object: S3Object = {
    key,
    body: Buffer.concat(parts.map((p) => p.body)),
    etag,
    lastModified: new Date(ctx.clock.now()),
    contentType: upload.contentType,
    metadata: upload.metadata,
    partSizes: parts.map((p) => p.body.length),
  };
  if (upload.headers) object.headers = upload.headers;
  bucket.objects.set(key, object);
  ctx.state.multipartUploads.delete(upload.uploadId);
  return xmlResponse("CompleteMultipartUploadResult", {
    Location: `${ctx.settings.endpoint}/${bucketName}/${encodeURI(key)}`,
    Bucket: bucketName,
    Key: key,
    ETag: etag,
  });
}

/** A part listed with `<ChecksumCRC32>` (and friends) must carry the checksum it was uploaded with. */
function checksumsAgree(entry: unknown, part: MultipartPart): boolean {
  for (const name of [
    "ChecksumCRC32",
    "ChecksumCRC32C",
    "ChecksumCRC64NVME",
    "ChecksumSHA1",
    "ChecksumSHA256",
  ]) {
    const value = text(entry, name);
    if (value === undefined) continue;
    const algorithm = name.slice("Checksum".length);
    if (part.checksum?.algorithm !== algorithm || part.checksum.value !== value) return false;
  }
  return true;
}

export function abortMultipartUpload(
  req: S3Request,
  ctx: SandboxContext,
  bucketName: string,
  key: string,
): S3Response {
  requireBucket(ctx.state, bucketName);
  const upload = requireUpload(ctx, req.query.get("uploadId") ?? "", bucketName, key);
  ctx.state.multipartUploads.delete(upload.uploadId);
  return empty(204);
}

export function listParts(
  req: S3Request,
  ctx: SandboxContext,
  bucketName: string,
  key: string,
): S3Response {
  requireBucket(ctx.state, bucketName);
  const upload = requireUpload(ctx, req.query.get("uploadId") ?? "", bucketName, key);
  const maxParts = Math.min(Number(req.query.get("max-parts") ?? 1000) || 1000, 1000);
  const marker = Number(req.query.get("part-number-marker") ?? 0) || 0;
  const all = [...upload.parts.values()]
    .filter((p) => p.partNumber > marker)
    .sort((a, b) => a.partNumber - b.partNumber);
  const page = all.slice(0, maxParts);
  const truncated = all.length > page.length;
  return xmlResponse("ListPartsResult", {
    Bucket: bucketName,
    Key: key,
    UploadId: upload.uploadId,
    Initiator: OWNER,
    Owner: OWNER,
    StorageClass: "STANDARD",
    PartNumberMarker: marker,
    NextPartNumberMarker: page.at(-1)?.partNumber ?? marker,
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: page.map((p) => ({
      PartNumber: p.partNumber,
      LastModified: p.lastModified,
      ETag: p.etag,
      Size: p.body.length,
      ...(p.checksum ? { [`Checksum${p.checksum.algorithm}`]: p.checksum.value } : {}),
    })),
  });
}

/** ListMultipartUploads (`GET /bucket?uploads`): every upload in progress under `prefix`. */
export function listMultipartUploads(
  req: S3Request,
  ctx: SandboxContext,
  bucketName: string,
): S3Response {
  requireBucket(ctx.state, bucketName);
  const prefix = req.query.get("prefix") ?? "";
  const uploads = [...ctx.state.multipartUploads.values()]
    .filter((u) => u.bucket === bucketName && u.key.startsWith(prefix))
    .sort((a, b) =>
      a.key === b.key ? a.initiated.getTime() - b.initiated.getTime() : a.key < b.key ? -1 : 1,
    );
  return xmlResponse("ListMultipartUploadsResult", {
    Bucket: bucketName,
    KeyMarker: "",
    UploadIdMarker: "",
    Prefix: prefix,
    MaxUploads: 1000,
    IsTruncated: false,
    Upload: uploads.map((u) => ({
      Key: u.key,
      UploadId: u.uploadId,
      Initiator: OWNER,
      Owner: OWNER,
      StorageClass: "STANDARD",
      Initiated: u.initiated,
    })),
  });
}
