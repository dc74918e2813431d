/**
 * What the IAM operations share: names, paths, policy documents, tags, the errors IAM answers
 * with, and the `Marker`/`MaxItems` paging of its List* calls. IAM is global: ARNs carry no
 * region (`arn:aws:iam::<account>:role/<path><name>`).
 */
import { randomBytes } from "node:crypto";
import type { QueryHandlers, SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import { int, list, type Params, str } from "../../protocol/query.js";
import { ACCOUNT_ID } from "../../state.js";

export const MAX_TAGS = 50;

export function iamArn(kind: "role" | "policy" | "instance-profile", path: string, name: string) {
  return `arn:aws:iam::${ACCOUNT_ID}:${kind}${path}${name}`;
}

/** An IAM unique id: a four-letter prefix naming the kind (AROA role, ANPA policy, AIPA profile). */
export function uniqueId(prefix: "AROA" | "ANPA" | "AIPA"): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bytes = randomBytes(17);
  let out = prefix;
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

export const noSuchEntity = (message: string): AwsError =>
  new AwsError("NoSuchEntity", message, 404);
export const entityAlreadyExists = (message: string): AwsError =>
  new AwsError("EntityAlreadyExists", message, 409);
export const deleteConflict = (message: string): AwsError =>
  new AwsError("DeleteConflict", message, 409);
export const limitExceeded = (message: string): AwsError =>
  new AwsError("LimitExceeded", message, 409);

function constraint(field: string, value: string | undefined, rule: string): AwsError {
  return new AwsError(
    "ValidationError",
    `1 validation error detected: Value '${value ?? "null"}' at '${field}' failed to satisfy constraint: ${rule}`,
  );
}

const NAME = /^[\w+=,.@-]+$/;

/** A role, policy or instance profile name: `[\w+=,.@-]+`, 1 to `max` characters. */
export function validName(params: Params, param: string, max: number): string {
  const field = param.charAt(0).toLowerCase() + param.slice(1);
  const name = str(params[param]);
  if (name === undefined || name === "") {
    throw constraint(field, name, "Member must not be null");
  }
  if (name.length > max) {
    throw constraint(field, name, `Member must have length less than or equal to ${max}`);
  }
  if (!NAME.test(name)) {
    throw constraint(field, name, "Member must satisfy regular expression pattern: [\\w+=,.@-]+");
  }
  return name;
}

/** `Path`: `/` (the default) or `/a/b/`, printable ASCII, at most 512 characters. */
export function validPath(params: Params): string {
  const path = str(params.Path) ?? "/";
  if (path.length > 512 || !/^\/([\x21-\x7e]*\/)?$/.test(path)) {
    throw constraint(
      "path",
      path,
      "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
    );
  }
  return path;
}

/**
 * A policy document: JSON, an object with a `Statement`, at most `maxLength` characters. Kept
 * exactly as sent (IAM returns the document it was given, URL-encoded).
 */
export function validDocument(params: Params, param: string, maxLength: number): string {
  const document = str(params[param]);
  if (document === undefined || document === "") {
    const field = param.charAt(0).toLowerCase() + param.slice(1);
    throw constraint(field, document, "Member must not be null");
  }
  if (document.replace(/\s/g, "").length > maxLength) {
    throw limitExceeded(`Cannot exceed quota for PolicySize: ${maxLength}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    throw new AwsError("MalformedPolicyDocument", "Syntax errors in policy.");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new AwsError("MalformedPolicyDocument", "Syntax errors in policy.");
  }
  if (!("Statement" in parsed)) {
    throw new AwsError("MalformedPolicyDocument", "Policy document must contain a Statement.");
  }
  return document;
}

/** IAM returns policy documents URL-encoded (RFC 3986). */
export function encodeDocument(document: string): string {
  return encodeURIComponent(document);
}

/** `Tags.member.N.Key` / `.Value` as a record; at most 50, keys unique. */
export function readTags(raw: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  const items = list<Record<string, unknown>>(raw);
  for (const item of items) {
    const key = str(item?.Key);
    if (key === undefined || key === "")
      throw constraint("tags.member.key", key, "Member must not be null");
    if (key.length > 128) {
      throw constraint("tags.member.key", key, "Member must have length less than or equal to 128");
    }
    if (key in tags) {
      throw new AwsError(
        "InvalidInput",
        `Duplicate tag keys found. Please note that Tag keys are case insensitive.`,
      );
    }
    tags[key] = str(item.Value) ?? "";
  }
  return tags;
}

export function addTags(target: Record<string, string>, raw: unknown): void {
  const tags = readTags(raw);
  const merged = { ...target, ...tags };
  if (Object.keys(merged).length > MAX_TAGS) {
    throw limitExceeded(`The number of tags has reached the maximum limit of ${MAX_TAGS}.`);
  }
  Object.assign(target, tags);
}

export function removeTags(target: Record<string, string>, raw: unknown): void {
  for (const key of list<string>(raw)) delete target[key];
}

export function wireTags(tags: Record<string, string>): Array<{ Key: string; Value: string }> {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * `Tag<Kind>`, `Untag<Kind>` and `List<Kind>Tags` of one kind of IAM resource (Role, Policy,
 * InstanceProfile), given how a request finds the resource.
 */
export function tagHandlers(
  kind: string,
  find: (ctx: SandboxContext, params: Params) => { tags: Record<string, string> },
): QueryHandlers {
  return {
    [`Tag${kind}`](params, ctx) {
      addTags(find(ctx, params).tags, params.Tags);
      return {};
    },
    [`Untag${kind}`](params, ctx) {
      removeTags(find(ctx, params).tags, params.TagKeys);
      return {};
    },
    [`List${kind}Tags`](params, ctx) {
      const { items, ...page } = pageOf(wireTags(find(ctx, params).tags), (t) => t.Key, params);
      return { Tags: items, ...page };
    },
  };
}

/**
 * One page of a List* call: `MaxItems` (1–1000, default 100) and `Marker` (the last name
 * returned). `IsTruncated` says whether more follow.
 */
export function pageOf<T>(
  items: T[],
  key: (item: T) => string,
  params: Params,
): { items: T[]; IsTruncated: boolean; Marker?: string } {
  const maxItems = int(params.MaxItems) ?? 100;
  if (maxItems < 1 || maxItems > 1000) {
    throw constraint("maxItems", String(maxItems), "Member must have value between 1 and 1000");
  }
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const marker = str(params.Marker);
  const start = marker === undefined ? 0 : sorted.findIndex((item) => key(item) > marker);
  const from = start < 0 ? sorted.length : start;
  const slice = sorted.slice(from, from + maxItems);
  const truncated = from + maxItems < sorted.length;
  const last = slice.at(-1);
  return {
    items: slice,
    IsTruncated: truncated,
    ...(truncated && last !== undefined ? { Marker: key(last) } : {}),
  };
}
