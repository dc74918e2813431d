/**
 * The tags switchyard keeps on each Auto Scaling group and target group it manages: the state
 * that lives in AWS rather than on the operator's laptop.
 */
import { InputError } from "./errors.js";
import { isServiceName } from "./names.js";

/** Tag keys. Stable: changing one orphans every group already running. */
export const TAG = {
  app: "switchyard:app",
  env: "switchyard:env",
  release: "switchyard:release",
  sequence: "switchyard:sequence",
  role: "switchyard:role",
  createdAt: "switchyard:created-at",
  swapId: "switchyard:swap-id",
  managed: "switchyard:managed",
} as const;
export type TagKey = (typeof TAG)[keyof typeof TAG];

/** Every key starts with this prefix; tags outside it are the user's and left alone. */
export const TAG_PREFIX = "switchyard:";

/**
 * The role of a server group:
 * `green` is being swapped in; `live` carries the traffic; `standby` is a previous live group
 * kept at capacity at weight 0; `failed` is a green that did not make it (kept with --keep-failed).
 */
export const GROUP_ROLES = ["live", "standby", "failed", "green"] as const;
export type GroupRole = (typeof GROUP_ROLES)[number];

/** AWS's limit on a tag value. */
export const TAG_VALUE_MAX = 256;

/** What the tags of a managed server group say. */
export interface GroupDescriptor {
  readonly app: string;
  readonly env: string;
  /** The release URL (`s3://…`). */
  readonly release: string;
  /** ≥ 1 for a group switchyard launched (`-vNNN`); 0 for an adopted one */
  readonly sequence: number;
  readonly role: GroupRole;
  /** ISO 8601 timestamp, UTC (`2026-01-01T00:00:00.000Z`). */
  readonly createdAt: string;
  /** The swap that created or last changed the group, when there was one. */
  readonly swapId?: string | undefined;
}

/** A tag as the Auto Scaling API takes it (CreateAutoScalingGroup, CreateOrUpdateTags). */
export interface AsgTag {
  ResourceId: string;
  ResourceType: "auto-scaling-group";
  Key: string;
  Value: string;
  PropagateAtLaunch: boolean;
}

/** A tag as the ELBv2 API takes it (CreateTargetGroup, AddTags). */
export interface ElbTag {
  Key: string;
  Value: string;
}

/** Tags as SDK responses return them (every field optional) or as a plain record. */
export type TagInput =
  | Readonly<Record<string, string | undefined>>
  | Iterable<{ readonly Key?: string | undefined; readonly Value?: string | undefined }>;

export function isGroupRole(x: unknown): x is GroupRole {
  return typeof x === "string" && (GROUP_ROLES as readonly string[]).includes(x);
}

function malformed(
  key: string,
  value: string | undefined,
  why: string,
  resource?: string,
): InputError {
  const where = resource === undefined ? "" : ` on ${resource}`;
  const shown = value === undefined ? "missing" : JSON.stringify(value);
  return new InputError("INVALID_INPUT", `tag ${key}${where} is ${shown}: ${why}`, {
    source: "aws",
    hint: "fix or remove the tag by hand; switchyard only writes well-formed tags",
    details: { key, value, resource },
  });
}

/** The switchyard tags of a group, as a record. Validates every value. */
export function groupTagRecord(group: GroupDescriptor): Record<TagKey, string> {
  const record: Partial<Record<TagKey, string>> = {
    [TAG.app]: group.app,
    [TAG.env]: group.env,
    [TAG.release]: group.release,
    [TAG.sequence]: String(group.sequence),
    [TAG.role]: group.role,
    [TAG.createdAt]: group.createdAt,
    [TAG.managed]: "true",
  };
  if (group.swapId !== undefined) record[TAG.swapId] = group.swapId;
  // Round-trip through the parser so a bad descriptor fails here rather than in AWS.
  parseGroupTags(record);
  return record as Record<TagKey, string>;
}

/** Tags for an Auto Scaling group; every tag propagates to its instances. */
export function asgTagList(tags: Readonly<Record<string, string>>, asgName: string): AsgTag[] {
  return Object.entries(tags).map(([Key, Value]) => ({
    ResourceId: asgName,
    ResourceType: "auto-scaling-group",
    Key,
    Value,
    PropagateAtLaunch: true,
  }));
}

/** Tags for an ELBv2 resource (target group). */
export function elbTagList(tags: Readonly<Record<string, string>>): ElbTag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** The full switchyard tag set of a group in Auto Scaling form. */
export function asgTags(group: GroupDescriptor, asgName: string): AsgTag[] {
  return asgTagList(groupTagRecord(group), asgName);
}

/** The full switchyard tag set of a group in ELBv2 form. */
export function elbTags(group: GroupDescriptor): ElbTag[] {
  return elbTagList(groupTagRecord(group));
}

/** Normalises any tag input into a record (later duplicates win, missing values are ""). */
export function tagRecord(tags: TagInput): Record<string, string> {
  const out: Record<string, string> = {};
  if (Symbol.iterator in tags) {
    for (const tag of tags as Iterable<{ Key?: string; Value?: string }>) {
      if (tag.Key !== undefined) out[tag.Key] = tag.Value ?? "";
    }
    return out;
  }
  for (const [key, value] of Object.entries(tags as Record<string, string | undefined>)) {
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** True when the tags mark a resource switchyard manages (`switchyard:managed=true`). */
export function isManaged(tags: TagInput): boolean {
  return tagRecord(tags)[TAG.managed] === "true";
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
/** 0 is an adopted group (`switchyard adopt`): made by another tool, it keeps its own name. */
const SEQUENCE = /^(?:0|[1-9]\d*)$/;

/**
 * Reads the switchyard tags of a managed group back into a descriptor. Throws INVALID_INPUT
 * (source "aws") naming the tag, the resource and what is wrong with it.
 */
export function parseGroupTags(tags: TagInput, resource?: string): GroupDescriptor {
  const record = tagRecord(tags);
  const read = (key: TagKey): string => {
    const value = record[key];
    if (value === undefined || value === "")
      throw malformed(key, value, "it is required", resource);
    if (value.length > TAG_VALUE_MAX) {
      throw malformed(key, value, `it is longer than ${TAG_VALUE_MAX} characters`, resource);
    }
    return value;
  };

  const managed = read(TAG.managed);
  if (managed !== "true") throw malformed(TAG.managed, managed, 'expected "true"', resource);
  const app = read(TAG.app);
  const env = read(TAG.env);
  if (!isServiceName(`${app}/${env}`)) {
    throw malformed(TAG.app, app, `"${app}/${env}" is not a valid service name`, resource);
  }
  const release = read(TAG.release);
  const sequenceText = read(TAG.sequence);
  const sequence = Number(sequenceText);
  if (!SEQUENCE.test(sequenceText) || !Number.isSafeInteger(sequence)) {
    throw malformed(
      TAG.sequence,
      sequenceText,
      "expected a whole number ≥ 0 (0: an adopted group)",
      resource,
    );
  }
  const role = read(TAG.role);
  if (!isGroupRole(role)) {
    throw malformed(TAG.role, role, `expected one of ${GROUP_ROLES.join(", ")}`, resource);
  }
  const createdAt = read(TAG.createdAt);
  if (!ISO_UTC.test(createdAt) || Number.isNaN(Date.parse(createdAt))) {
    throw malformed(TAG.createdAt, createdAt, "expected an ISO 8601 UTC time", resource);
  }
  const swapId = record[TAG.swapId];
  if (swapId !== undefined && (swapId === "" || swapId.length > TAG_VALUE_MAX)) {
    throw malformed(TAG.swapId, swapId, `expected 1–${TAG_VALUE_MAX} characters`, resource);
  }
  return swapId === undefined
    ? { app, env, release, sequence, role, createdAt }
    : { app, env, release, sequence, role, createdAt, swapId };
}
