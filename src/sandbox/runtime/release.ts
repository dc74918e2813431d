/**
 * How a sandbox instance finds and starts its release: the release URL in its user data, the
 * `s3://bucket/key` address, and the `web:` command of the release's Procfile. Pure functions.
 */
import { gunzipSync } from "node:zlib";

/** The user-data line that names the release: `# switchyard:release-url=s3://bucket/key`. */
export const RELEASE_URL_MARKER = "# switchyard:release-url=";

const MARKER_LINE = /^#\s*switchyard:release-url=(\S+)$/;
const SHELL_LINE =
  /^(?:export\s+)?SWITCHYARD_RELEASE_URL=(?:"([^"]*)"|'([^']*)'|([^\s"'#;]+))\s*;?$/;

/** Decodes base64 user data as EC2 stores it; gzip-compressed user data is unpacked too. */
export function decodeUserData(base64: string | undefined): string {
  if (!base64) return "";
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes).toString("utf8");
    } catch {
      return bytes.toString("utf8");
    }
  }
  return bytes.toString("utf8");
}

/**
 * The release URL named in user data: the first line that is either the marker
 * `# switchyard:release-url=<url>` or a shell assignment `SWITCHYARD_RELEASE_URL=<url>`
 * (optionally `export`ed, optionally single- or double-quoted).
 */
export function findReleaseUrl(userData: string): string | undefined {
  for (const raw of userData.split(/\r?\n/)) {
    const line = raw.trim();
    const marker = MARKER_LINE.exec(line);
    if (marker?.[1]) return marker[1];
    const shell = SHELL_LINE.exec(line);
    if (shell) {
      const url = shell[1] ?? shell[2] ?? shell[3];
      if (url) return url;
    }
  }
  return undefined;
}

/**
 * Splits a release URL into bucket and key: `s3://bucket/key`, or an HTTPS S3 object URL
 * (`https://bucket.s3.region.amazonaws.com/key`, `https://s3.region.amazonaws.com/bucket/key`).
 * Undefined for anything else.
 */
export function parseS3Url(url: string): { bucket: string; key: string } | undefined {
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (s3?.[1] && s3[2]) return { bucket: s3[1], key: s3[2] };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return undefined;
  const path = parsed.pathname.slice(1);
  const virtual = /^(.+)\.s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com$/.exec(parsed.hostname);
  if (virtual?.[1] && path) return { bucket: virtual[1], key: decodeURIComponent(path) };
  if (/^s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com$/.test(parsed.hostname)) {
    const slash = path.indexOf("/");
    if (slash > 0 && slash < path.length - 1) {
      return { bucket: path.slice(0, slash), key: decodeURIComponent(path.slice(slash + 1)) };
    }
  }
  return undefined;
}

/** The command of a Procfile's `web:` process type, if it has one. */
export function parseProcfileWeb(procfile: string): string | undefined {
  for (const raw of procfile.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z0-9_-]+)\s*:\s*(.*?)\s*$/.exec(raw);
    if (match?.[1] === "web" && match[2]) return match[2];
  }
  return undefined;
}
