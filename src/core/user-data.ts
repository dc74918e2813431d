/**
 * The user data a server group's instances boot with: the built-in script for a base AMI that
 * knows how to fetch and run a release, or a user-provided template with placeholders.
 *
 * Every user data carries the marker line `# switchyard:release-url=<url>`: the base image (and
 * the sandbox) find the release by it, and operators can read it back from a launch template.
 */
import { InputError } from "./errors.js";

/** The values a template can use, as `{{releaseUrl}}`, `{{service}}`, … */
export interface UserDataVars {
  /** The canonical release URL (`s3://…`). */
  readonly releaseUrl: string;
  /** `<app>/<env>` */
  readonly service: string;
  readonly app: string;
  readonly env: string;
  /** The server group (Auto Scaling group) name, `<app>-<env>-v<NNN>`. */
  readonly group: string;
  /** The release version (`r42`). */
  readonly version: string;
  /** The port the release must listen on (the target group's port); the built-in script exports it as PORT. */
  readonly port?: number;
}

export const USER_DATA_PLACEHOLDERS = [
  "releaseUrl",
  "service",
  "app",
  "env",
  "group",
  "version",
] as const satisfies readonly (keyof UserDataVars)[];

/** AWS's limit on user data, in bytes, before base64 encoding. */
export const USER_DATA_MAX_BYTES = 16_384;

/** The start of the marker line; the rest of the line is the release URL. */
export const RELEASE_URL_MARKER = "# switchyard:release-url=";

/** The program on the base AMI that fetches the release and runs it. */
export const FETCH_AND_RUN = "/opt/switchyard/bin/fetch-and-run";

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** `# switchyard:release-url=<url>` */
export function releaseMarkerLine(releaseUrl: string): string {
  if (/[\r\n]/.test(releaseUrl)) {
    throw new InputError("INVALID_INPUT", `release URL ${JSON.stringify(releaseUrl)} spans lines`, {
      details: { releaseUrl },
    });
  }
  return `${RELEASE_URL_MARKER}${releaseUrl}`;
}

/** The release URL named by the marker line in `userData`, or undefined. */
export function findReleaseUrl(userData: string): string | undefined {
  for (const line of userData.split(/\r?\n/)) {
    if (line.startsWith(RELEASE_URL_MARKER)) return line.slice(RELEASE_URL_MARKER.length).trim();
  }
  return undefined;
}

/** Quotes a value for bash: `it's` → `'it'\''s'`. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The built-in user data: a bash script that exports the release and execs fetch-and-run. */
export function builtInUserData(vars: UserDataVars): string {
  const env = (name: string, value: string): string => `export ${name}=${shellQuote(value)}`;
  return [
    "#!/bin/bash",
    releaseMarkerLine(vars.releaseUrl),
    `# Written by switchyard for ${vars.service}, server group ${vars.group}, release ${vars.version}.`,
    "set -euo pipefail",
    env("SWITCHYARD_RELEASE_URL", vars.releaseUrl),
    env("SWITCHYARD_RELEASE_VERSION", vars.version),
    env("SWITCHYARD_SERVICE", vars.service),
    env("SWITCHYARD_APP", vars.app),
    env("SWITCHYARD_ENV", vars.env),
    env("SWITCHYARD_GROUP", vars.group),
    ...(vars.port === undefined ? [] : [env("PORT", String(vars.port))]),
    `exec ${FETCH_AND_RUN}`,
    "",
  ].join("\n");
}

function isPlaceholder(name: string): name is (typeof USER_DATA_PLACEHOLDERS)[number] {
  return (USER_DATA_PLACEHOLDERS as readonly string[]).includes(name);
}

/** The placeholder names a template uses, in order of first use. */
export function templatePlaceholders(template: string): string[] {
  const names = new Set<string>();
  for (const match of template.matchAll(PLACEHOLDER)) names.add(match[1] ?? "");
  return [...names];
}

/**
 * Throws INVALID_INPUT when the template uses a placeholder switchyard does not know.
 * `source` (the template's file name) is named in the message.
 */
export function checkUserDataTemplate(template: string, source = "the user data template"): void {
  const unknown = templatePlaceholders(template).filter((name) => !isPlaceholder(name));
  if (unknown.length > 0) {
    const list = unknown.map((name) => `{{${name}}}`).join(", ");
    throw new InputError(
      "INVALID_INPUT",
      `${source} uses unknown placeholder${unknown.length > 1 ? "s" : ""} ${list}; known: ${USER_DATA_PLACEHOLDERS.map((n) => `{{${n}}}`).join(", ")}`,
      { details: { source, unknown }, hint: "fix the placeholder's spelling or remove it" },
    );
  }
}

/**
 * Renders a user-provided template: replaces the placeholders with their raw values (quote them
 * in the template if the script needs it) and makes sure the marker line is there, adding it
 * after the first line when that is a `#!` or `#cloud-config` header, else at the top.
 */
export function renderUserData(
  template: string,
  vars: UserDataVars,
  source = "the user data template",
): string {
  checkUserDataTemplate(template, source);
  const text = template.replace(PLACEHOLDER, (_, name: string) =>
    isPlaceholder(name) ? vars[name] : "",
  );
  const marker = releaseMarkerLine(vars.releaseUrl);
  const lines = text.split("\n");
  const markers = lines.filter((line) => line.replace(/\r$/, "").startsWith(RELEASE_URL_MARKER));
  if (markers.some((line) => line.replace(/\r$/, "") !== marker)) {
    throw new InputError(
      "INVALID_INPUT",
      `${source} has a marker line that does not name the release: ${JSON.stringify(markers[0])}`,
      { hint: `write it as "${RELEASE_URL_MARKER}{{releaseUrl}}"`, details: { source } },
    );
  }
  if (markers.length > 0) return text;
  const first = lines[0] ?? "";
  if (first.startsWith("#!") || first.startsWith("#cloud-")) {
    return [first, marker, ...lines.slice(1)].join("\n");
  }
  return `${marker}\n${text}`;
}

/** The user data for a server group: the template's rendering, or the built-in script. */
export function userDataFor(
  vars: UserDataVars,
  template?: { text: string; source?: string },
): string {
  return template === undefined
    ? builtInUserData(vars)
    : renderUserData(template.text, vars, template.source);
}

/**
 * Base64 for a launch template. Throws INVALID_INPUT when the text exceeds AWS's 16 KB
 * (16384 bytes, measured before encoding), saying the actual size.
 */
export function encodeUserData(text: string): string {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > USER_DATA_MAX_BYTES) {
    throw new InputError(
      "INVALID_INPUT",
      `user data is ${bytes} bytes; AWS allows at most ${USER_DATA_MAX_BYTES} bytes before base64 encoding`,
      {
        hint: "make the template smaller: fetch large scripts at boot instead of inlining them",
        details: { bytes, limit: USER_DATA_MAX_BYTES },
      },
    );
  }
  return Buffer.from(text, "utf8").toString("base64");
}

/** Decodes base64 user data (as a launch template returns it). */
export function decodeUserData(base64: string): string {
  return Buffer.from(base64, "base64").toString("utf8");
}
