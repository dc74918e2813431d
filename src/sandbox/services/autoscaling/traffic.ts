/**
 * Target groups attached to an Auto Scaling group, through either API generation:
 * `TargetGroupARNs` / Attach- and DetachLoadBalancerTargetGroups, or `TrafficSources` (type
 * `elbv2`) / Attach- and DetachTrafficSources. Both name the same list. Attaching registers the
 * group's InService instances; detaching deregisters them, and the target group is reported as
 * `Removing` until they have drained.
 */
import type { QueryHandler, SandboxContext } from "../../context.js";
import { validationError } from "../../protocol/errors.js";
import { list, str } from "../../protocol/query.js";
import type { AutoScalingGroup } from "../../state.js";
import { deregisterTargets, registerTargets } from "../../world.js";
import {
  groupExtra,
  instanceExtra,
  maxRecords,
  page,
  requireGroup,
  requireMutableGroup,
} from "./model.js";

const INVALID_TARGET_GROUPS =
  "Provided Target Groups may not be valid. Please ensure they exist and try again.";

/** Target group ARNs named by `TargetGroupARNs` and `TrafficSources` together, checked to exist. */
export function targetGroupsFrom(ctx: SandboxContext, params: Record<string, unknown>): string[] {
  const arns = list<string>(params.TargetGroupARNs).map(String);
  for (const source of list<Record<string, unknown>>(params.TrafficSources)) {
    if (typeof source !== "object" || source === null) continue;
    const identifier = str(source.Identifier);
    const type = str(source.Type) ?? "elbv2";
    if (!identifier) {
      throw validationError(
        "1 validation error detected: Value null at 'trafficSources.member.identifier' failed to satisfy constraint: Member must not be null",
      );
    }
    if (type !== "elbv2") {
      throw validationError(
        `Traffic source type '${type}' is not supported by the sandbox; use 'elbv2' with a target group ARN.`,
      );
    }
    arns.push(identifier);
  }
  const unique = [...new Set(arns)];
  for (const arn of unique) {
    if (!ctx.state.targetGroups.has(arn)) throw validationError(INVALID_TARGET_GROUPS);
  }
  return unique;
}

/** Registers the group's InService instances with newly attached target groups. */
export function attachTargetGroups(
  ctx: SandboxContext,
  group: AutoScalingGroup,
  arns: string[],
): void {
  const extra = groupExtra(group);
  for (const arn of arns) {
    extra.removingTargetGroups.delete(arn);
    if (group.targetGroupArns.includes(arn)) continue;
    group.targetGroupArns.push(arn);
    const targets = [...group.instances.values()]
      .filter((i) => i.lifecycleState === "InService")
      .map((i) => ({ Id: i.instanceId }));
    if (targets.length > 0) {
      try {
        registerTargets(ctx, arn, targets);
      } catch {
        // an instance that stopped meanwhile: the health check replaces it
      }
    }
  }
}

/** Deregisters the group's instances from detached target groups (they drain as usual). */
export function detachTargetGroups(
  ctx: SandboxContext,
  group: AutoScalingGroup,
  arns: string[],
): void {
  const extra = groupExtra(group);
  for (const arn of arns) {
    if (!group.targetGroupArns.includes(arn)) continue;
    group.targetGroupArns = group.targetGroupArns.filter((a) => a !== arn);
    if (!ctx.state.targetGroups.has(arn)) continue;
    const targets = [...group.instances.keys()].map((id) => ({ Id: id }));
    deregisterTargets(ctx, arn, targets);
    extra.removingTargetGroups.add(arn);
  }
  forgetDrainedTargetGroups(ctx, group);
}

/** Drops detached target groups once none of the group's instances is left in them. */
export function forgetDrainedTargetGroups(ctx: SandboxContext, group: AutoScalingGroup): void {
  const extra = groupExtra(group);
  for (const arn of extra.removingTargetGroups) {
    const tg = ctx.state.targetGroups.get(arn);
    const stillThere = tg && [...group.instances.keys()].some((id) => tg.targets.has(id));
    if (!stillThere) extra.removingTargetGroups.delete(arn);
  }
}

/** `Adding`, `Added`, `InService` or `Removing`, as DescribeTrafficSources reports them. */
export function targetGroupState(
  ctx: SandboxContext,
  group: AutoScalingGroup,
  arn: string,
): string {
  if (groupExtra(group).removingTargetGroups.has(arn)) return "Removing";
  const tg = ctx.state.targetGroups.get(arn);
  if (!tg) return "Added";
  const expected = [...group.instances.values()].filter(
    (i) => i.lifecycleState === "InService" && !instanceExtra(i).skipLoadBalancer,
  );
  if (expected.some((i) => !tg.targets.has(i.instanceId))) return "Adding";
  const healthy = [...group.instances.keys()].some((id) => tg.targets.get(id)?.state === "healthy");
  return healthy ? "InService" : "Added";
}

/** Attached target groups followed by those still being removed. */
function listedTargetGroups(group: AutoScalingGroup): string[] {
  return [...group.targetGroupArns, ...groupExtra(group).removingTargetGroups];
}

export const attachTrafficSources: QueryHandler = (params, ctx) => {
  const group = requireMutableGroup(ctx, params);
  if (list(params.TrafficSources).length === 0) {
    throw validationError(
      "1 validation error detected: Value null at 'trafficSources' failed to satisfy constraint: Member must not be null",
    );
  }
  attachTargetGroups(ctx, group, targetGroupsFrom(ctx, { TrafficSources: params.TrafficSources }));
  return {};
};

export const detachTrafficSources: QueryHandler = (params, ctx) => {
  const group = requireMutableGroup(ctx, params);
  const arns = list<Record<string, unknown>>(params.TrafficSources)
    .map((s) => (typeof s === "object" && s !== null ? str(s.Identifier) : undefined))
    .filter((a): a is string => a !== undefined);
  detachTargetGroups(ctx, group, arns);
  return {};
};

export const describeTrafficSources: QueryHandler = (params, ctx) => {
  const group = requireGroup(ctx, params);
  const limit = maxRecords(params, 50, 50);
  const type = str(params.TrafficSourceType);
  const all = type !== undefined && type !== "elbv2" ? [] : listedTargetGroups(group);
  const { items, nextToken } = page(all, params, limit);
  return {
    TrafficSources: items.map((arn) => ({
      TrafficSource: arn,
      State: targetGroupState(ctx, group, arn),
      Identifier: arn,
      Type: "elbv2",
    })),
    NextToken: nextToken,
  };
};

export const attachLoadBalancerTargetGroups: QueryHandler = (params, ctx) => {
  const group = requireMutableGroup(ctx, params);
  attachTargetGroups(
    ctx,
    group,
    targetGroupsFrom(ctx, { TargetGroupARNs: params.TargetGroupARNs }),
  );
  return {};
};

export const detachLoadBalancerTargetGroups: QueryHandler = (params, ctx) => {
  const group = requireMutableGroup(ctx, params);
  detachTargetGroups(ctx, group, list<string>(params.TargetGroupARNs).map(String));
  return {};
};

export const describeLoadBalancerTargetGroups: QueryHandler = (params, ctx) => {
  const group = requireGroup(ctx, params);
  const limit = maxRecords(params, 100, 100);
  const { items, nextToken } = page(listedTargetGroups(group), params, limit);
  return {
    LoadBalancerTargetGroups: items.map((arn) => ({
      LoadBalancerTargetGroupARN: arn,
      State: targetGroupState(ctx, group, arn),
    })),
    NextToken: nextToken,
  };
};
