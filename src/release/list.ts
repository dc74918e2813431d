/**
 * `release list`: the releases under a service's releases location, newest first, marking the
 * live and standby ones. Which release is live is read the way `status` reads it: the managed
 * groups' `switchyard:release` tags, with the listener's weights deciding who is live.
 */
import { type Clients, headObject, listObjects } from "../aws/index.js";
import type { ServiceConfig } from "../core/config.js";
import { parseReleasesLocation, versionProblem } from "../core/release-url.js";
import type { StateLocation } from "../swap/record.js";
import { status } from "../swap/status.js";
import { compareVersions } from "./manifest.js";
import { RELEASE_METADATA } from "./push.js";

export interface ReleaseInfo {
  version: string;
  /** `s3://<bucket>/<prefix><version>.tar.gz` */
  url: string;
  /** bytes */
  size: number;
  /** when it was packed (the push's metadata), else when it was uploaded; ISO 8601 */
  createdAt: string;
  /** when S3 last wrote it; ISO 8601 */
  lastModified: string | null;
  /** from the push's metadata; null for a release uploaded some other way */
  sha256: string | null;
  gitCommit: string | null;
  /** a live group runs it */
  live: boolean;
  /** a standby group runs it */
  standby: boolean;
}

export interface ListReleasesOptions {
  /** where swap records live (the config's `state`) */
  state: StateLocation;
  signal?: AbortSignal;
}

const HEAD_CONCURRENCY = 8;

export async function listReleases(
  clients: Clients,
  service: ServiceConfig,
  options: ListReleasesOptions,
): Promise<ReleaseInfo[]> {
  const location = parseReleasesLocation(service.releases);
  const call = { signal: options.signal };
  const [objects, seen] = await Promise.all([
    listObjects(clients, location.bucket, location.prefix, call),
    status(clients, options.state, service),
  ]);
  const live = new Set(seen.groups.filter((g) => g.role === "live").map((g) => g.release));
  const standby = new Set(seen.groups.filter((g) => g.role === "standby").map((g) => g.release));

  const releases = objects.flatMap((o) => {
    const name = o.key.slice(location.prefix.length);
    if (name.includes("/") || !name.endsWith(".tar.gz")) return [];
    const version = name.slice(0, -".tar.gz".length);
    if (versionProblem(version) !== undefined) return [];
    return [{ ...o, version, url: `s3://${location.bucket}/${o.key}` }];
  });

  const out: ReleaseInfo[] = new Array(releases.length);
  let next = 0;
  const worker = async () => {
    while (next < releases.length) {
      const i = next++;
      const r = releases[i]!;
      const head = await headObject(clients, location.bucket, r.key, call);
      const meta = head?.metadata ?? {};
      const lastModified = (r.lastModified ?? head?.lastModified)?.toISOString() ?? null;
      out[i] = {
        version: r.version,
        url: r.url,
        size: r.size,
        createdAt: meta[RELEASE_METADATA.createdAt] ?? lastModified ?? "",
        lastModified,
        sha256: meta[RELEASE_METADATA.sha256] ?? null,
        gitCommit: meta[RELEASE_METADATA.gitCommit] ?? null,
        live: live.has(r.url),
        standby: standby.has(r.url),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEAD_CONCURRENCY, releases.length) }, worker));
  return out.sort(newestFirst);
}

/** Newest first: by LastModified, then by version (natural order) for equal times. */
export function newestFirst(
  a: Pick<ReleaseInfo, "lastModified" | "version">,
  b: Pick<ReleaseInfo, "lastModified" | "version">,
): number {
  const ta = a.lastModified ? Date.parse(a.lastModified) : 0;
  const tb = b.lastModified ? Date.parse(b.lastModified) : 0;
  return tb - ta || compareVersions(b.version, a.version);
}
