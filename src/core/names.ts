/**
 * Names of services and of the AWS resources switchyard creates for them.
 *
 * - service: `<app>/<env>` (`web/prod`)
 * - server group (the ASG): `<app>-<env>-v<NNN>` (`web-prod-v007`, `web-prod-v1234`)
 * - target group: the server group name when it fits AWS's 32 characters, else
 *   `<truncated app-env>--<hash of the service>-v<NNN>`
 * - launch template: `switchyard-<app>-<env>-v<NNN>`
 */
import { createHash } from "node:crypto";
import { InputError } from "./errors.js";

export interface ServiceName {
  readonly app: string;
  readonly env: string;
}

/** A reference to one server group of a service. */
export interface ServerGroupRef extends ServiceName {
  /** `<app>/<env>` */
  readonly service: string;
  readonly sequence: number;
}

/** The names of the three AWS resources of one server group. */
export interface ServerGroupNames {
  readonly autoScalingGroup: string;
  readonly targetGroup: string;
  readonly launchTemplate: string;
}

export const SERVICE_NAME_MAX = 64;
export const TARGET_GROUP_NAME_MAX = 32;
export const LAUNCH_TEMPLATE_NAME_MAX = 128;

/** One part of a service name: lowercase letters, digits and single hyphens, starting with a letter. */
export const SERVICE_PART_PATTERN = /^[a-z](?:-?[a-z0-9])*$/;
/** `<app>/<env>` as a JSON Schema friendly pattern (the length is checked separately). */
export const SERVICE_NAME_PATTERN = "^[a-z](-?[a-z0-9])*/[a-z](-?[a-z0-9])*$";
/** What AWS accepts as a target group name. */
export const TARGET_GROUP_NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;

const SERVICE_RULE =
  "a service name is <app>/<env>: each part lowercase letters, digits and single '-', starting with a letter and not ending with '-', at most 64 characters in all (web/prod)";

function invalid(message: string, details: Record<string, unknown>): InputError {
  return new InputError("INVALID_INPUT", message, { details });
}

/** Why `name` is not a valid service name, or undefined when it is. */
export function serviceNameProblem(name: string): string | undefined {
  if (name.length > SERVICE_NAME_MAX) {
    return `${SERVICE_RULE}; got ${name.length} characters`;
  }
  const parts = name.split("/");
  if (parts.length !== 2) return SERVICE_RULE;
  for (const part of parts) {
    if (!SERVICE_PART_PATTERN.test(part)) return SERVICE_RULE;
  }
  return undefined;
}

export function isServiceName(name: string): boolean {
  return serviceNameProblem(name) === undefined;
}

/** Parses `<app>/<env>`; throws INVALID_INPUT naming the value and the rule. */
export function parseServiceName(name: string): ServiceName {
  const problem = serviceNameProblem(name);
  if (problem !== undefined) {
    throw invalid(`invalid service name ${JSON.stringify(name)}: ${problem}`, { service: name });
  }
  const [app = "", env = ""] = name.split("/");
  return { app, env };
}

export function formatServiceName(service: ServiceName): string {
  return `${service.app}/${service.env}`;
}

function toService(service: string | ServiceName): ServiceName {
  return typeof service === "string"
    ? parseServiceName(service)
    : parseServiceName(formatServiceName(service));
}

function checkSequence(sequence: number): void {
  if (!Number.isSafeInteger(sequence) || sequence < 1) {
    throw invalid(`invalid server group sequence ${sequence}: it must be a whole number ≥ 1`, {
      sequence,
    });
  }
}

/** `7` → `v007`, `1234` → `v1234`. */
export function formatSequence(sequence: number): string {
  checkSequence(sequence);
  return `v${String(sequence).padStart(3, "0")}`;
}

/**
 * `<app>-<env>`: the stem every resource name of the service starts with. Two services with the
 * same stem (`a-b/c` and `a/b-c`) would share resource names; the config schema rejects that.
 */
export function serviceStem(service: string | ServiceName): string {
  const { app, env } = toService(service);
  return `${app}-${env}`;
}

/** The Auto Scaling group name: `<app>-<env>-v<NNN>`. */
export function serverGroupName(service: string | ServiceName, sequence: number): string {
  return `${serviceStem(service)}-${formatSequence(sequence)}`;
}

/** The launch template name: `switchyard-<app>-<env>-v<NNN>` (always ≤ 128 characters). */
export function launchTemplateName(service: string | ServiceName, sequence: number): string {
  return `switchyard-${serverGroupName(service, sequence)}`;
}

/** A 6-character base-36 hash of the full service name, stable across releases and machines. */
export function serviceHash(service: string | ServiceName): string {
  const name = formatServiceName(toService(service));
  const digest = createHash("sha256").update(name).digest();
  return (digest.readBigUInt64BE(0) % 36n ** 6n).toString(36).padStart(6, "0");
}

/**
 * The target group name, ≤ 32 characters. `<app>-<env>-v<NNN>` when it fits; otherwise
 * `<app-env truncated>--<serviceHash>-v<NNN>`. Service names never contain `--`, so a hashed
 * name can never equal another service's plain one, and the hash of the full service name
 * tells apart services whose truncated stems are equal.
 */
export function targetGroupName(service: string | ServiceName, sequence: number): string {
  const plain = serverGroupName(service, sequence);
  if (plain.length <= TARGET_GROUP_NAME_MAX) return plain;
  const suffix = `--${serviceHash(service)}-${formatSequence(sequence)}`;
  const room = TARGET_GROUP_NAME_MAX - suffix.length;
  const prefix = serviceStem(service).slice(0, Math.max(room, 0)).replace(/-+$/, "");
  // The stem starts with a letter, so the prefix is empty only for absurd sequences.
  return prefix === "" ? suffix.slice(2) : `${prefix}${suffix}`;
}

/** The name part of a target group ARN (`…:targetgroup/<name>/<id>`), or the ARN itself. */
export function targetGroupNameOf(arn: string): string {
  return /targetgroup\/([^/]+)/.exec(arn)?.[1] ?? arn;
}

/** The names of the ASG, target group and launch template of one server group. */
export function serverGroupNames(
  service: string | ServiceName,
  sequence: number,
): ServerGroupNames {
  return {
    autoScalingGroup: serverGroupName(service, sequence),
    targetGroup: targetGroupName(service, sequence),
    launchTemplate: launchTemplateName(service, sequence),
  };
}

const SEQUENCE_SUFFIX = /^v(\d{3,})$/;

/**
 * Parses an Auto Scaling group name back into its service and sequence, matching it against
 * the known services (an app or env may itself contain '-'). Returns undefined when the name
 * belongs to none of them or is not in canonical form (`web-prod-v7`, `web-prod-v0007`).
 */
export function parseServerGroupName(
  name: string,
  services: Iterable<string | ServiceName>,
): ServerGroupRef | undefined {
  for (const candidate of services) {
    const service = toService(candidate);
    const stem = `${service.app}-${service.env}-`;
    if (!name.startsWith(stem)) continue;
    const digits = SEQUENCE_SUFFIX.exec(name.slice(stem.length))?.[1];
    if (digits === undefined) continue;
    const sequence = Number(digits);
    if (sequence < 1 || !Number.isSafeInteger(sequence)) continue;
    if (formatSequence(sequence) !== `v${digits}`) continue;
    return { ...service, service: formatServiceName(service), sequence };
  }
  return undefined;
}

/** The sequence for the next server group: one more than the highest in use, or 1. */
export function nextSequence(inUse: Iterable<number>): number {
  let highest = 0;
  for (const sequence of inUse) highest = Math.max(highest, sequence);
  return highest + 1;
}

/** The S3 key of the service's swap record (the lock): `<prefix>/<app>/<env>/swap.json`. */
export function swapRecordKey(statePrefix: string, service: string | ServiceName): string {
  const { app, env } = toService(service);
  const prefix = statePrefix.replace(/^\/+|\/+$/g, "");
  return prefix === "" ? `${app}/${env}/swap.json` : `${prefix}/${app}/${env}/swap.json`;
}
