/**
 * Release URLs. A release is an immutable `.tar.gz` in S3; its canonical address is
 * `s3://<bucket>/<key>` and its version is the file's stem (`s3://releases/web/prod/r42.tar.gz`
 * is version `r42`). HTTPS object URLs (virtual-hosted and path-style) are accepted too.
 */
import { InputError } from "./errors.js";

export interface ReleaseRef {
  /** The canonical form: `s3://<bucket>/<key>`. */
  readonly url: string;
  readonly bucket: string;
  readonly key: string;
  /** The file's stem without `.tar.gz` / `.tgz`. */
  readonly version: string;
}

/** Where a service's releases live: `s3://<bucket>/<prefix>` with the prefix ending in '/'. */
export interface ReleasesLocation {
  readonly url: string;
  readonly bucket: string;
  /** The key prefix: "" or ends with '/'. */
  readonly prefix: string;
}

export const VERSION_MAX = 64;
/** A release version: letters, digits, '.', '-', '_', at most 64 characters. */
export const VERSION_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** S3 bucket naming rules (the general-purpose ones). */
export const BUCKET_PATTERN = /^[a-z0-9](?:[a-z0-9.-]{1,61})[a-z0-9]$/;

const EXTENSIONS = [".tar.gz", ".tgz"] as const;
const RELEASE_FORM =
  "s3://<bucket>/<path>/<version>.tar.gz (or an https:// S3 object URL), the version being letters, digits, '.', '-' or '_'";
const PREFIX_FORM = "s3://<bucket>/<path>/ ending in '/'";

function invalid(message: string, hint: string, details: Record<string, unknown>): InputError {
  return new InputError("INVALID_INPUT", message, { hint, details });
}

/** Why `bucket` breaks S3's naming rules, or undefined. */
export function bucketProblem(bucket: string): string | undefined {
  if (!BUCKET_PATTERN.test(bucket)) {
    return "a bucket name is 3–63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit";
  }
  if (bucket.includes("..")) return "a bucket name has no two adjacent periods";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return "a bucket name is not an IP address";
  return undefined;
}

/** Why `version` is not a valid release version, or undefined. */
export function versionProblem(version: string): string | undefined {
  if (version === "") return "a version is not empty";
  if (!VERSION_PATTERN.test(version)) {
    return `a version is at most ${VERSION_MAX} letters, digits, '.', '-' or '_'`;
  }
  if (version === "." || version === "..") return "a version is not '.' or '..'";
  if (EXTENSIONS.some((ext) => version.endsWith(ext))) {
    return "a version is the file's stem, without .tar.gz or .tgz";
  }
  return undefined;
}

/** Throws INVALID_INPUT unless `version` is a valid release version. */
export function assertVersion(version: string): string {
  const problem = versionProblem(version);
  if (problem !== undefined) {
    throw invalid(
      `invalid release version ${JSON.stringify(version)}: ${problem}`,
      "use e.g. r42 or 1.4.0",
      {
        version,
      },
    );
  }
  return version;
}

function hasControlCharacters(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Splits an https S3 URL into bucket and (decoded) key, or undefined if it is not one. */
function fromHttps(url: URL): { bucket: string; key: string } | undefined {
  const host = url.hostname.toLowerCase();
  const path = url.pathname.replace(/^\//, "");
  const decode = (text: string): string | undefined => {
    try {
      return decodeURIComponent(text);
    } catch {
      return undefined;
    }
  };
  // virtual-hosted: <bucket>.s3.<region>.amazonaws.com, <bucket>.s3-<region>…, <bucket>.s3.amazonaws.com
  const virtual = /^(.+)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$/.exec(host);
  if (virtual?.[1] !== undefined) {
    const key = decode(path);
    return key === undefined ? undefined : { bucket: virtual[1], key };
  }
  // path-style: s3.<region>.amazonaws.com/<bucket>/<key>
  if (/^s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$/.test(host)) {
    const slash = path.indexOf("/");
    if (slash <= 0) return undefined;
    const key = decode(path.slice(slash + 1));
    return key === undefined ? undefined : { bucket: path.slice(0, slash), key };
  }
  return undefined;
}

/**
 * Parses a release URL into its canonical `s3://` form, bucket, key and version.
 * Throws INVALID_INPUT naming the URL and the expected form.
 */
export function parseReleaseUrl(input: string): ReleaseRef {
  const bad = (why: string): InputError =>
    invalid(`invalid release URL ${JSON.stringify(input)}: ${why}`, `write ${RELEASE_FORM}`, {
      url: input,
    });
  const text = input.trim();
  if (text === "") throw bad("it is empty");
  if (hasControlCharacters(text)) throw bad("it contains control characters");

  let bucket: string;
  let key: string;
  if (text.startsWith("s3://")) {
    const rest = text.slice("s3://".length);
    const slash = rest.indexOf("/");
    if (slash < 0) throw bad("it names a bucket but no object key");
    bucket = rest.slice(0, slash);
    key = rest.slice(slash + 1);
  } else if (/^https:\/\//i.test(text)) {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      throw bad("it is not a valid URL");
    }
    const parts = fromHttps(parsed);
    if (parts === undefined) throw bad("it is not an Amazon S3 object URL");
    ({ bucket, key } = parts);
  } else {
    throw bad("expected an s3:// URL");
  }

  const bucketWhy = bucketProblem(bucket);
  if (bucketWhy !== undefined) throw bad(`bucket ${JSON.stringify(bucket)}: ${bucketWhy}`);
  if (key === "" || key.endsWith("/")) throw bad("it names a folder, not a release file");
  if (/\s/.test(key)) throw bad("the object key contains whitespace");
  if (Buffer.byteLength(key, "utf8") > 1024) throw bad("the object key is longer than 1024 bytes");
  const file = key.slice(key.lastIndexOf("/") + 1);
  const extension = EXTENSIONS.find((ext) => file.endsWith(ext));
  if (extension === undefined) throw bad("a release is a .tar.gz (or .tgz) file");
  const version = file.slice(0, -extension.length);
  const versionWhy = versionProblem(version);
  if (versionWhy !== undefined) throw bad(`version ${JSON.stringify(version)}: ${versionWhy}`);
  return { url: `s3://${bucket}/${key}`, bucket, key, version };
}

/** True when `input` parses as a release URL. */
export function isReleaseUrl(input: string): boolean {
  try {
    parseReleaseUrl(input);
    return true;
  } catch {
    return false;
  }
}

/** Parses a releases location (`s3://releases/web/prod/`). Throws INVALID_INPUT. */
export function parseReleasesLocation(input: string): ReleasesLocation {
  const bad = (why: string): InputError =>
    invalid(`invalid releases location ${JSON.stringify(input)}: ${why}`, `write ${PREFIX_FORM}`, {
      url: input,
    });
  if (hasControlCharacters(input)) throw bad("it contains control characters");
  if (!input.startsWith("s3://")) throw bad("expected an s3:// URL");
  const rest = input.slice("s3://".length);
  const slash = rest.indexOf("/");
  if (slash < 0) throw bad("it must end in '/'");
  const bucket = rest.slice(0, slash);
  const prefix = rest.slice(slash + 1);
  const bucketWhy = bucketProblem(bucket);
  if (bucketWhy !== undefined) throw bad(`bucket ${JSON.stringify(bucket)}: ${bucketWhy}`);
  if (prefix !== "" && !prefix.endsWith("/")) throw bad("it must end in '/'");
  if (prefix.startsWith("/") || prefix.includes("//")) throw bad("it has an empty path segment");
  return { url: input, bucket, prefix };
}

/** `releaseUrlFor("s3://releases/web/prod/", "r42")` → `s3://releases/web/prod/r42.tar.gz`. */
export function releaseUrlFor(releases: string, version: string): string {
  const location = parseReleasesLocation(releases);
  assertVersion(version);
  return `s3://${location.bucket}/${location.prefix}${version}.tar.gz`;
}

/**
 * Resolves what a user passed to `--release`: a URL as is, or a bare version under the
 * service's releases location. Throws INVALID_INPUT for anything else.
 */
export function resolveRelease(urlOrVersion: string, releases: string): ReleaseRef {
  const text = urlOrVersion.trim();
  if (/^[a-z0-9]+:\/\//i.test(text)) return parseReleaseUrl(text);
  if (versionProblem(text) !== undefined) {
    throw invalid(
      `invalid release ${JSON.stringify(urlOrVersion)}: expected a release URL or a version`,
      `pass a version such as r42, or ${RELEASE_FORM}`,
      { release: urlOrVersion },
    );
  }
  return parseReleaseUrl(releaseUrlFor(releases, text));
}

/** The version part of a release URL (`s3://…/r42.tar.gz` → `r42`); a version as it is. */
export function releaseVersion(release: string): string {
  const file = release.slice(release.lastIndexOf("/") + 1);
  return file.replace(/\.(tar\.gz|tgz)$/, "");
}
