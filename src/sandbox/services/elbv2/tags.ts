/** AddTags, DescribeTags, RemoveTags on load balancers, listeners, rules and target groups. */
import type { QueryHandlers } from "../../context.js";
import { validationError } from "../../protocol/errors.js";
import { list, str } from "../../protocol/query.js";
import type { SandboxState } from "../../state.js";
import { tooManyTags } from "./loadBalancers.js";
import { getListener, getLoadBalancer, getRule, getTargetGroup, setTags } from "./model.js";
import { constraintError, MAX_TAGS, parseResourceArns, parseTags } from "./validate.js";

/** Throws the resource type's NotFound error unless the ARN names an existing resource. */
function requireResource(state: SandboxState, arn: string): void {
  if (arn.includes(":loadbalancer/")) getLoadBalancer(state, arn);
  else if (arn.includes(":targetgroup/")) getTargetGroup(state, arn);
  else if (arn.includes(":listener-rule/")) getRule(state, arn);
  else if (arn.includes(":listener/")) getListener(state, arn);
  else
    throw validationError(
      `'${arn}' is not a valid load balancer, listener, rule or target group ARN`,
    );
}

export const tagHandlers: QueryHandlers = {
  AddTags(params, ctx) {
    const { state } = ctx;
    const arns = parseResourceArns(params.ResourceArns);
    const tags = parseTags(params.Tags);
    if (tags.length === 0) throw constraintError("tags", undefined, "Member must not be null");
    for (const arn of arns) {
      requireResource(state, arn);
      const keys = new Set([...(state.elbTags.get(arn)?.keys() ?? []), ...tags.map((t) => t.Key)]);
      if (keys.size > MAX_TAGS) throw tooManyTags();
    }
    for (const arn of arns) setTags(state, arn, tags);
    return {};
  },

  DescribeTags(params, ctx) {
    const { state } = ctx;
    const arns = parseResourceArns(params.ResourceArns);
    for (const arn of arns) requireResource(state, arn);
    return {
      TagDescriptions: arns.map((arn) => ({
        ResourceArn: arn,
        Tags: [...(state.elbTags.get(arn) ?? new Map<string, string>())].map(([Key, Value]) => ({
          Key,
          Value,
        })),
      })),
    };
  },

  RemoveTags(params, ctx) {
    const { state } = ctx;
    const arns = parseResourceArns(params.ResourceArns);
    const keys = list(params.TagKeys)
      .map(str)
      .filter((k): k is string => k !== undefined);
    if (keys.length === 0) throw constraintError("tagKeys", undefined, "Member must not be null");
    for (const arn of arns) requireResource(state, arn);
    for (const arn of arns) {
      const map = state.elbTags.get(arn);
      if (!map) continue;
      for (const key of keys) map.delete(key);
      if (map.size === 0) state.elbTags.delete(arn);
    }
    return {};
  },
};
