/**
 * The release manifest: `switchyard-release.json` at the root of every tarball `release push`
 * packs. Pure functions: the payload digest, building and reading a manifest, the Procfile's
 * `web:` line, and the order releases are listed in.
 */
import { createHash } from "node:crypto";
import { InputError } from "../core/errors.js";
import { versionProblem } from "../core/release-url.js";

/** The manifest's file name, at the tarball's root. */
export const MANIFEST_NAME = "switchyard-release.json";

/** One payload file: its path inside the release (POSIX, relative), size and SHA-256 (hex). */
export interface PayloadFile {
  path: string;
  size: number;
  sha256: string;
}

export interface ReleaseManifest {
  version: string;
  /** ISO 8601 UTC */
  createdAt: string;
  /** SHA-256 (hex) of the payload: see `payloadDigest` */
  sha256: string;
  /** `git rev-parse HEAD` where the release was packed, when that was inside a git work tree */
  gitCommit?: string;
  /** every payload file in digest order (the manifest itself excluded) */
  files: PayloadFile[];
}

/** Byte-wise order of UTF-8 paths, as `LC_ALL=C sort` orders them. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/**
 * The SHA-256 of a payload: the digest of its `sha256sum` listing, one `<hex>  <path>\n` line
 * per file in byte-wise path order. The same files give the same digest whatever their
 * modification times, owners or the order the file system lists them in; it can be checked by
 * hand in the unpacked release with
 * `find . -type f ! -name switchyard-release.json | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum`.
 */
export function payloadDigest(files: readonly Pick<PayloadFile, "path" | "sha256">[]): string {
  const sorted = [...files].sort((a, b) => comparePaths(a.path, b.path));
  const hash = createHash("sha256");
  for (const f of sorted) hash.update(`${f.sha256}  ${f.path}\n`, "utf8");
  return hash.digest("hex");
}

export function createManifest(input: {
  version: string;
  createdAt: Date | string;
  files: readonly PayloadFile[];
  gitCommit?: string | undefined;
}): ReleaseManifest {
  const files = [...input.files].sort((a, b) => comparePaths(a.path, b.path));
  const manifest: ReleaseManifest = {
    version: input.version,
    createdAt:
      typeof input.createdAt === "string" ? input.createdAt : input.createdAt.toISOString(),
    sha256: payloadDigest(files),
    files,
  };
  if (input.gitCommit) manifest.gitCommit = input.gitCommit;
  return manifest;
}

const HEX64 = /^[0-9a-f]{64}$/;
const GIT_COMMIT = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/**
 * Reads a manifest found in a tarball. Throws INVALID_INPUT naming the source and the field
 * when it is not a manifest switchyard would write.
 */
export function parseManifest(text: string, source: string): ReleaseManifest {
  const bad = (why: string) =>
    new InputError("INVALID_INPUT", `${source}: ${MANIFEST_NAME} is malformed: ${why}`, {
      hint: `remove ${MANIFEST_NAME} from the tarball, or push the directory and let switchyard write it`,
      details: { source },
    });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw bad(`invalid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw bad("expected a JSON object");
  }
  const m = value as Record<string, unknown>;
  if (typeof m.version !== "string" || versionProblem(m.version) !== undefined) {
    throw bad("version must be a release version such as r42");
  }
  if (typeof m.createdAt !== "string" || Number.isNaN(Date.parse(m.createdAt))) {
    throw bad("createdAt must be an ISO 8601 time");
  }
  if (typeof m.sha256 !== "string" || !HEX64.test(m.sha256)) {
    throw bad("sha256 must be 64 lowercase hex digits");
  }
  if (
    m.gitCommit !== undefined &&
    (typeof m.gitCommit !== "string" || !GIT_COMMIT.test(m.gitCommit))
  ) {
    throw bad("gitCommit must be a full commit hash");
  }
  if (!Array.isArray(m.files)) throw bad("files must be an array");
  const files: PayloadFile[] = m.files.map((f: unknown, i: number) => {
    const file = f as Partial<PayloadFile> | null;
    if (
      typeof file?.path !== "string" ||
      typeof file.size !== "number" ||
      typeof file.sha256 !== "string" ||
      !HEX64.test(file.sha256)
    ) {
      throw bad(`files[${i}] must be { path, size, sha256 }`);
    }
    return { path: file.path, size: file.size, sha256: file.sha256 };
  });
  const manifest: ReleaseManifest = {
    version: m.version,
    createdAt: m.createdAt,
    sha256: m.sha256,
    files,
  };
  if (typeof m.gitCommit === "string") manifest.gitCommit = m.gitCommit;
  return manifest;
}

/**
 * The command of a Procfile's `web:` process type, or undefined when it has none (the same
 * reading the sandbox's instances and the base image use).
 */
export function procfileWebCommand(procfile: string): string | undefined {
  for (const raw of procfile.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z0-9_-]+)\s*:\s*(.*?)\s*$/.exec(raw);
    if (match?.[1] === "web" && match[2]) return match[2];
  }
  return undefined;
}

/** Versions in natural order: `r9` < `r10`, `1.9.0` < `1.10.0`. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true, sensitivity: "variant" });
}
