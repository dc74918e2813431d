/**
 * `release push`: pack a directory (or take a ready .tar.gz) and upload it to
 * `<service.releases><version>.tar.gz`, never over an existing release. Releases are immutable:
 * the upload is a conditional create (`If-None-Match: *`), so the same version pushed twice is
 * RELEASE_EXISTS, even when two pushes race.
 */
import { randomUUID } from "node:crypto";
import { type Clients, headObject, PreconditionFailed, uploadFile } from "../aws/index.js";
import type { ServiceConfig } from "../core/config.js";
import { InputError } from "../core/errors.js";
import { assertVersion, parseReleaseUrl, releaseUrlFor } from "../core/release-url.js";
import { packRelease } from "./pack.js";

/** `x-amz-meta-*` keys a pushed release carries. */
export const RELEASE_METADATA = {
  version: "switchyard-version",
  sha256: "switchyard-sha256",
  createdAt: "switchyard-created-at",
  gitCommit: "switchyard-git-commit",
  /** one per push, so a retried create can tell its own object from someone else's */
  uploadId: "switchyard-upload-id",
} as const;

export interface PushOptions {
  /** a directory holding a Procfile, or a ready `.tar.gz` */
  source: string;
  version: string;
  /** bytes sent so far; for a multipart upload, after each 8 MiB part */
  onProgress?: (progress: { loaded: number; total: number }) => void;
  signal?: AbortSignal;
  /** the manifest's `createdAt` (default: now) */
  now?: Date;
  /** where a relative source is resolved and git is asked for the commit (default: process.cwd()) */
  cwd?: string;
}

export interface PushResult {
  /** `s3://<bucket>/<prefix><version>.tar.gz` */
  url: string;
  version: string;
  /** the manifest's payload digest (a directory), or the tarball's SHA-256 (a .tar.gz) */
  sha256: string;
  /** bytes uploaded */
  size: number;
}

function exists(url: string, version: string, service: string, cause?: unknown): InputError {
  return new InputError(
    "RELEASE_EXISTS",
    `release ${version} of ${service} already exists at ${url}; releases are immutable`,
    {
      hint: "push it under a new version (e.g. bump r42 to r43)",
      details: { release: url, version, service },
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

export async function pushRelease(
  clients: Clients,
  service: ServiceConfig,
  options: PushOptions,
): Promise<PushResult> {
  const version = assertVersion(options.version);
  const url = releaseUrlFor(service.releases, version);
  const { bucket, key } = parseReleaseUrl(url);
  // A cheap early answer before packing and sending megabytes; the conditional create below is
  // what actually guarantees no overwrite.
  if (await headObject(clients, bucket, key, { signal: options.signal })) {
    throw exists(url, version, service.name);
  }
  const packed = await packRelease(options.source, {
    version,
    ...(options.now ? { now: options.now } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  try {
    const uploadId = randomUUID();
    const metadata: Record<string, string> = {
      [RELEASE_METADATA.version]: version,
      [RELEASE_METADATA.sha256]: packed.sha256,
      [RELEASE_METADATA.createdAt]: packed.createdAt,
      [RELEASE_METADATA.uploadId]: uploadId,
    };
    if (packed.gitCommit) metadata[RELEASE_METADATA.gitCommit] = packed.gitCommit;
    try {
      await uploadFile(
        clients,
        {
          bucket,
          key,
          file: packed.path,
          size: packed.size,
          contentType: "application/gzip",
          metadata,
          ifNoneMatch: true,
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        },
        { signal: options.signal },
      );
    } catch (error) {
      if (!(error instanceof PreconditionFailed)) throw error;
      // a retried create whose first attempt did land finds its own object: that is success
      const head = await headObject(clients, bucket, key);
      if (head?.metadata[RELEASE_METADATA.uploadId] !== uploadId) {
        throw exists(url, version, service.name, error);
      }
    }
    return { url, version, sha256: packed.sha256, size: packed.size };
  } finally {
    await packed.dispose();
  }
}
