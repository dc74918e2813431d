/**
 * EC2 tags on the resources the sandbox lets callers tag: security groups, security group rules
 * and instances. `TagSpecification.N` on create calls, `CreateTags` and `DeleteTags` after.
 */
import type { QueryHandlers, SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import { list, type Params, str } from "../../protocol/query.js";
import { checkDryRun, invalidParameterValue, missingParameter, strings } from "./common.js";

const MAX_TAGS = 50;

/** `Tag.N.Key` / `.Value` as a record, checked as EC2 checks them. */
export function readTagList(raw: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const tag of list<Record<string, unknown>>(raw)) {
    const key = str(tag?.Key);
    if (!key) throw missingParameter("Tag.Key");
    if (key.length > 128) {
      throw invalidParameterValue(`Tag key exceeds the maximum length of 128 characters: ${key}`);
    }
    if (key.toLowerCase().startsWith("aws:")) {
      throw invalidParameterValue(`Tag keys starting with 'aws:' are reserved for internal use`);
    }
    tags[key] = str(tag.Value) ?? "";
  }
  if (Object.keys(tags).length > MAX_TAGS) {
    throw invalidParameterValue(`The number of tags must not exceed ${MAX_TAGS} per resource`);
  }
  return tags;
}

/** Tags a create call asks for its new resource (`TagSpecification.N.ResourceType=<type>`). */
export function readEc2Tags(params: Params, resourceType: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const spec of list<Record<string, unknown>>(params.TagSpecification)) {
    const type = str(spec?.ResourceType);
    if (type !== resourceType) {
      throw invalidParameterValue(
        `'${type ?? ""}' is not a valid taggable resource type for this operation.`,
      );
    }
    Object.assign(tags, readTagList(spec.Tag));
  }
  return tags;
}

/** The tags of a resource by id, or an error naming what the sandbox tags. */
function tagsOf(ctx: SandboxContext, id: string): Record<string, string> {
  if (id.startsWith("sg-")) {
    const group = ctx.state.securityGroups.get(id);
    if (!group) {
      throw new AwsError("InvalidGroup.NotFound", `The security group '${id}' does not exist`);
    }
    return group.tags;
  }
  if (id.startsWith("sgr-")) {
    for (const group of ctx.state.securityGroups.values()) {
      const rule = group.rules.find((r) => r.ruleId === id);
      if (rule) return rule.tags;
    }
    throw new AwsError(
      "InvalidSecurityGroupRuleId.NotFound",
      `The security group rule ID '${id}' does not exist`,
    );
  }
  if (id.startsWith("i-")) {
    const instance = ctx.state.instances.get(id);
    if (!instance) {
      throw new AwsError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
    }
    return instance.tags;
  }
  throw invalidParameterValue(
    `The sandbox tags security groups (sg-), their rules (sgr-) and instances (i-) with CreateTags; got '${id}'`,
  );
}

export const tagHandlers: QueryHandlers = {
  CreateTags(params, ctx) {
    checkDryRun(params);
    const ids = strings(params.ResourceId);
    if (ids.length === 0) throw missingParameter("ResourceId");
    const tags = readTagList(params.Tag);
    const targets = ids.map((id) => tagsOf(ctx, id));
    for (const target of targets) {
      if (Object.keys({ ...target, ...tags }).length > MAX_TAGS) {
        throw new AwsError(
          "TagLimitExceeded",
          `The maximum number of tags (${MAX_TAGS}) was exceeded`,
        );
      }
    }
    for (const target of targets) Object.assign(target, tags);
    return { return: true };
  },

  DeleteTags(params, ctx) {
    checkDryRun(params);
    const ids = strings(params.ResourceId);
    if (ids.length === 0) throw missingParameter("ResourceId");
    const targets = ids.map((id) => tagsOf(ctx, id));
    const wanted = list<Record<string, unknown>>(params.Tag).map((t) => ({
      key: str(t?.Key) ?? "",
      value: str(t?.Value),
    }));
    for (const target of targets) {
      if (wanted.length === 0) {
        for (const key of Object.keys(target)) delete target[key];
        continue;
      }
      for (const { key, value } of wanted) {
        if (value === undefined || target[key] === value) delete target[key];
      }
    }
    return { return: true };
  },
};
