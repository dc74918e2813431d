/**
 * The sandbox's S3, path-style REST-XML: routes a request by method, bucket, key and
 * sub-resource to its operation (bucket settings such as `?versioning` in bucket-config.ts). Objects live in `state.buckets`; uploads in progress in
 * `state.multipartUploads`.
 */
import type { S3Handler, S3Request, S3Response, SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import type { SandboxState } from "../../state.js";
import { bucketSetting, bucketSettingOf } from "./bucket-config.js";
import {
  createBucket,
  deleteBucket,
  getBucketLocation,
  headBucket,
  listBuckets,
  listObjects,
} from "./buckets.js";
import { header, notImplemented } from "./http.js";
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
} from "./multipart.js";
import { copyObject, deleteObject, deleteObjects, getObject, putObject } from "./objects.js";

/** Bucket sub-resources the sandbox does not model: answered with 501 NotImplemented. */
const UNSUPPORTED_BUCKET_SUBRESOURCES = [
  "analytics",
  "intelligent-tiering",
  "inventory",
  "metrics",
  "policyStatus",
  "versions",
];
const UNSUPPORTED_OBJECT_SUBRESOURCES = [
  "acl",
  "attributes",
  "legal-hold",
  "restore",
  "retention",
  "select",
  "tagging",
  "torrent",
];

const methodNotAllowed = (): AwsError =>
  new AwsError(
    "MethodNotAllowed",
    "The specified method is not allowed against this resource.",
    405,
  );

export const handleS3: S3Handler = (req, ctx) => {
  if (req.bucket === undefined) {
    if (req.method === "GET") return listBuckets(req, ctx);
    throw methodNotAllowed();
  }
  if (req.key === undefined) return bucketOperation(req, ctx, req.bucket);
  return objectOperation(req, ctx, req.bucket, req.key);
};

function bucketOperation(req: S3Request, ctx: SandboxContext, bucket: string): S3Response {
  const unsupported = UNSUPPORTED_BUCKET_SUBRESOURCES.find((name) => req.query.has(name));
  if (unsupported) throw notImplemented(`the bucket ?${unsupported} sub-resource`);
  const setting = bucketSettingOf(req.query);
  if (setting) return bucketSetting(req, ctx, bucket, setting);
  switch (req.method) {
    case "PUT":
      return createBucket(req, ctx, bucket);
    case "HEAD":
      return headBucket(ctx, bucket);
    case "DELETE":
      return deleteBucket(ctx, bucket);
    case "GET":
      if (req.query.has("location")) return getBucketLocation(ctx, bucket);
      if (req.query.has("uploads")) return listMultipartUploads(req, ctx, bucket);
      return listObjects(req, ctx, bucket);
    case "POST":
      if (req.query.has("delete")) return deleteObjects(req, ctx, bucket);
      throw methodNotAllowed();
    default:
      throw methodNotAllowed();
  }
}

function objectOperation(
  req: S3Request,
  ctx: SandboxContext,
  bucket: string,
  key: string,
): S3Response {
  const unsupported = UNSUPPORTED_OBJECT_SUBRESOURCES.find((name) => req.query.has(name));
  if (unsupported) throw notImplemented(`the object ?${unsupported} sub-resource`);
  const uploadId = req.query.has("uploadId");
  switch (req.method) {
    case "PUT":
      if (uploadId) {
        if (header(req, "x-amz-copy-source") !== undefined) throw notImplemented("UploadPartCopy");
        return uploadPart(req, ctx, bucket, key);
      }
      if (header(req, "x-amz-copy-source") !== undefined) return copyObject(req, ctx, bucket, key);
      return putObject(req, ctx, bucket, key);
    case "GET":
      if (uploadId) return listParts(req, ctx, bucket, key);
      return getObject(req, ctx, bucket, key);
    case "HEAD":
      return getObject(req, ctx, bucket, key);
    case "DELETE":
      if (uploadId) return abortMultipartUpload(req, ctx, bucket, key);
      return deleteObject(req, ctx, bucket, key);
    case "POST":
      if (req.query.has("uploads")) return createMultipartUpload(req, ctx, bucket, key);
      if (uploadId) return completeMultipartUpload(req, ctx, bucket, key);
      throw methodNotAllowed();
    default:
      throw methodNotAllowed();
  }
}

/** An object's bytes, or undefined when the bucket or key does not exist (instances fetch releases with it). */
export function getObjectBytes(
  state: SandboxState,
  bucket: string,
  key: string,
): Buffer | undefined {
  return state.buckets.get(bucket)?.objects.get(key)?.body;
}
