/**
 * Auto Scaling groups themselves: create, describe, update, set desired capacity, delete,
 * suspend and resume processes, instance protection and terminating one instance. The
 * operations only change the group's record; the reconciler (reconciler.ts) makes the
 * instances follow.
 */
import { randomUUID } from "node:crypto";
import type { QueryHandler, SandboxContext } from "../../context.js";
import { AwsError, validationError } from "../../protocol/errors.js";
import { bool, list, str } from "../../protocol/query.js";
import type { AsgInstance, AutoScalingGroup } from "../../state.js";
import { resolveLaunchTemplate } from "../../world.js";
import { noteCapacityChange, toActivityShape } from "./activities.js";
import {
  activeInstances,
  awsTime,
  checkLength,
  groupArn,
  groupExtra,
  instanceExtra,
  maxRecords,
  optionalCount,
  PROCESS_NAMES,
  page,
  removeGroup,
  requireGroup,
  requireMutableGroup,
  requireString,
  upsertTag,
} from "./model.js";
import { beginTermination } from "./reconciler.js";
import { tagsFrom } from "./tags.js";
import { attachTargetGroups, targetGroupsFrom } from "./traffic.js";

type LaunchTemplateRef = AutoScalingGroup["launchTemplate"];

/** Checks a launch template reference the way CreateAutoScalingGroup does; returns it completed. */
function validLaunchTemplate(ctx: SandboxContext, raw: unknown): LaunchTemplateRef {
  const spec = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  const id = str(spec.LaunchTemplateId);
  const name = str(spec.LaunchTemplateName);
  const version = str(spec.Version) ?? "$Default";
  if (id && name) {
    throw validationError(
      "You must use a valid fully-formed launch template. Specify either a launch template ID or a launch template name, not both.",
    );
  }
  if (!id && !name) {
    throw validationError(
      "You must use a valid fully-formed launch template. A launch template ID or name is required.",
    );
  }
  try {
    const resolved = resolveLaunchTemplate(ctx.state, {
      LaunchTemplateId: id,
      LaunchTemplateName: name,
      Version: version,
    });
    return { LaunchTemplateId: resolved.id, LaunchTemplateName: resolved.name, Version: version };
  } catch (error) {
    if (error instanceof AwsError) {
      throw validationError(`You must use a valid fully-formed launch template. ${error.message}`);
    }
    throw error;
  }
}

/** Subnets from a comma-separated VPCZoneIdentifier, each checked to exist. */
function validSubnets(ctx: SandboxContext, vpcZoneIdentifier: string): string[] {
  const ids = vpcZoneIdentifier
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const id of ids) {
    if (!ctx.state.subnets.has(id)) {
      throw validationError(`The subnet ID '${id}' does not exist`);
    }
  }
  const vpcs = new Set(ids.map((id) => ctx.state.subnets.get(id)!.vpcId));
  if (vpcs.size > 1) {
    throw validationError(
      `The subnets '${ids.join(",")}' must all belong to the same VPC; they span ${[...vpcs].join(", ")}.`,
    );
  }
  return ids;
}

function zonesOfSubnets(ctx: SandboxContext, subnets: string[]): string[] {
  return [...new Set(subnets.map((id) => ctx.state.subnets.get(id)!.availabilityZone))].sort();
}

function validZones(ctx: SandboxContext, zones: string[]): string[] {
  const known = new Set([...ctx.state.subnets.values()].map((s) => s.availabilityZone));
  for (const zone of zones) {
    if (!known.has(zone)) throw validationError(`Invalid Availability Zone: ${zone}`);
  }
  return [...new Set(zones)].sort();
}

function validHealthCheckType(value: string | undefined): "EC2" | "ELB" | undefined {
  if (value === undefined) return undefined;
  if (value === "EC2" || value === "ELB") return value;
  throw validationError(
    `Invalid health check type '${value}'. The sandbox supports EC2 and ELB health checks.`,
  );
}

function checkSizes(min: number, max: number, desired: number): void {
  if (min > max) {
    throw validationError(`Max bound, ${max}, must be greater than or equal to min bound, ${min}`);
  }
  if (desired < min || desired > max) {
    throw validationError(
      `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`,
    );
  }
}

const TERMINATION_POLICIES = new Set([
  "Default",
  "OldestInstance",
  "NewestInstance",
  "OldestLaunchConfiguration",
  "OldestLaunchTemplate",
  "ClosestToNextInstanceHour",
  "AllocationStrategy",
]);

function validTerminationPolicies(raw: unknown): string[] | undefined {
  if (raw === undefined) return undefined;
  const policies = list<string>(raw).map(String);
  for (const p of policies) {
    if (!TERMINATION_POLICIES.has(p) && !p.startsWith("arn:aws:lambda:")) {
      throw validationError(`Termination policy '${p}' is not valid.`);
    }
  }
  return policies.length > 0 ? policies : ["Default"];
}

export const createAutoScalingGroup: QueryHandler = (params, ctx) => {
  const name = requireString(params, "AutoScalingGroupName");
  checkLength(name, "AutoScalingGroupName", 255);
  if (ctx.state.autoScalingGroups.has(name)) {
    throw new AwsError(
      "AlreadyExists",
      `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`,
    );
  }
  if (params.LaunchConfigurationName !== undefined || params.MixedInstancesPolicy !== undefined) {
    throw validationError(
      "The sandbox creates Auto Scaling groups from launch templates only: use the LaunchTemplate parameter.",
    );
  }
  if (params.LaunchTemplate === undefined) {
    throw validationError(
      "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.",
    );
  }
  const minSize = optionalCount(params, "MinSize");
  const maxSize = optionalCount(params, "MaxSize");
  if (minSize === undefined) requireString(params, "MinSize");
  if (maxSize === undefined) requireString(params, "MaxSize");
  const desired = optionalCount(params, "DesiredCapacity") ?? minSize!;
  checkSizes(minSize!, maxSize!, desired);
  const launchTemplate = validLaunchTemplate(ctx, params.LaunchTemplate);

  const vpcZoneIdentifier = str(params.VPCZoneIdentifier) ?? "";
  const subnets = validSubnets(ctx, vpcZoneIdentifier);
  const zones =
    subnets.length > 0
      ? zonesOfSubnets(ctx, subnets)
      : validZones(ctx, list<string>(params.AvailabilityZones).map(String));
  if (zones.length === 0) {
    throw validationError("At least one Availability Zone or VPC Subnet is required.");
  }
  const healthCheckType = validHealthCheckType(str(params.HealthCheckType)) ?? "EC2";
  const targetGroupArns = targetGroupsFrom(ctx, params);
  const tags = tagsFrom(params.Tags, name);

  const group: AutoScalingGroup = {
    name,
    arn: groupArn(ctx.state, name, randomUUID()),
    launchTemplate,
    minSize: minSize!,
    maxSize: maxSize!,
    desiredCapacity: desired,
    defaultCooldown: optionalCount(params, "DefaultCooldown") ?? 300,
    availabilityZones: zones,
    vpcZoneIdentifier: subnets.join(","),
    healthCheckType,
    healthCheckGracePeriod: optionalCount(params, "HealthCheckGracePeriod") ?? 0,
    targetGroupArns: [],
    instances: new Map(),
    suspendedProcesses: new Map(),
    tags: [],
    createdAt: new Date(ctx.clock.now()),
    newInstancesProtectedFromScaleIn: bool(params.NewInstancesProtectedFromScaleIn) ?? false,
    terminationPolicies: validTerminationPolicies(params.TerminationPolicies) ?? ["Default"],
  };
  for (const tag of tags) {
    upsertTag(group.tags, {
      Key: tag.Key,
      Value: tag.Value,
      PropagateAtLaunch: tag.PropagateAtLaunch,
    });
  }
  attachTargetGroups(ctx, group, targetGroupArns);
  ctx.state.autoScalingGroups.set(name, group);
  noteCapacityChange(ctx, group, "a user request created an AutoScalingGroup", 0, desired);
  return {};
};

function instanceShape(group: AutoScalingGroup, instance: AsgInstance): Record<string, unknown> {
  return {
    InstanceId: instance.instanceId,
    InstanceType: instance.instanceType,
    AvailabilityZone: instance.availabilityZone,
    LifecycleState: instance.lifecycleState,
    HealthStatus: instance.healthStatus,
    LaunchTemplate: instance.launchTemplate ?? group.launchTemplate,
    ProtectedFromScaleIn: instance.protectedFromScaleIn,
  };
}

export function groupShape(
  group: AutoScalingGroup,
  includeInstances = true,
): Record<string, unknown> {
  return {
    AutoScalingGroupName: group.name,
    AutoScalingGroupARN: group.arn,
    LaunchTemplate: group.launchTemplate,
    MinSize: group.minSize,
    MaxSize: group.maxSize,
    DesiredCapacity: group.desiredCapacity,
    DefaultCooldown: group.defaultCooldown,
    AvailabilityZones: group.availabilityZones,
    LoadBalancerNames: [],
    TargetGroupARNs: group.targetGroupArns,
    HealthCheckType: group.healthCheckType,
    HealthCheckGracePeriod: group.healthCheckGracePeriod,
    Instances: includeInstances
      ? [...group.instances.values()].map((i) => instanceShape(group, i))
      : undefined,
    CreatedTime: group.createdAt,
    SuspendedProcesses: [...group.suspendedProcesses].map(([ProcessName, SuspensionReason]) => ({
      ProcessName,
      SuspensionReason,
    })),
    VPCZoneIdentifier: group.vpcZoneIdentifier || undefined,
    EnabledMetrics: [],
    Status: group.status,
    Tags: group.tags.map((t) => ({
      ResourceId: group.name,
      ResourceType: "auto-scaling-group",
      Key: t.Key,
      Value: t.Value,
      PropagateAtLaunch: t.PropagateAtLaunch,
    })),
    TerminationPolicies: group.terminationPolicies,
    NewInstancesProtectedFromScaleIn: group.newInstancesProtectedFromScaleIn,
    ServiceLinkedRoleARN: `arn:aws:iam::${group.arn.split(":")[4]}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
    CapacityRebalance: false,
    TrafficSources: group.targetGroupArns.map((arn) => ({ Identifier: arn, Type: "elbv2" })),
  };
}

/** Whether a group matches every DescribeAutoScalingGroups filter (within one filter, one matching value is enough). */
function matchesFilters(group: AutoScalingGroup, filters: Array<Record<string, unknown>>): boolean {
  return filters.every((filter) => {
    const name = str(filter.Name) ?? "";
    const values = list<string>(filter.Values).map(String);
    if (name === "tag-key") return group.tags.some((t) => values.includes(t.Key));
    if (name === "tag-value") return group.tags.some((t) => values.includes(t.Value));
    if (name.startsWith("tag:")) {
      const key = name.slice(4);
      return group.tags.some((t) => t.Key === key && values.includes(t.Value));
    }
    throw validationError(
      `Filter name '${name}' is not valid. Valid filter names are tag-key, tag-value and tag:<key>.`,
    );
  });
}

export const describeAutoScalingGroups: QueryHandler = (params, ctx) => {
  const limit = maxRecords(params, 50, 100);
  const names = list<string>(params.AutoScalingGroupNames).map(String);
  const filters = list<Record<string, unknown>>(params.Filters).filter(
    (f) => typeof f === "object" && f !== null,
  );
  const includeInstances = bool(params.IncludeInstances) ?? true;
  const wanted = names.length > 0 ? new Set(names) : undefined;
  const groups = [...ctx.state.autoScalingGroups.values()]
    .filter((g) => !wanted || wanted.has(g.name))
    .filter((g) => matchesFilters(g, filters))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { items, nextToken } = page(groups, params, limit);
  return {
    AutoScalingGroups: items.map((g) => groupShape(g, includeInstances)),
    NextToken: nextToken,
  };
};

export const updateAutoScalingGroup: QueryHandler = (params, ctx) => {
  const group = requireMutableGroup(ctx, params);
  if (params.LaunchConfigurationName !== undefined || params.MixedInstancesPolicy !== undefined) {
    throw validationError(
      "The sandbox runs Auto Scaling groups from launch templates only: use the LaunchTemplate parameter.",
    );
  }
  const minSize = optionalCount(params, "MinSize");
  const maxSize = optionalCount(params, "MaxSize");
  const desiredGiven = optionalCount(params, "DesiredCapacity");
  const min = minSize ?? group.minSize;
  const max = maxSize ?? group.maxSize;
  let desired = desiredGiven ?? group.desiredCapacity;
  if (desiredGiven === undefined) {
    // AWS moves the desired capacity into a new min/max range rather than failing.
    if (minSize !== undefined && desired < min) desired = min;
    if (maxSize !== undefined && desired > max) desired = max;
  }
  checkSizes(min, max, desired);
  const launchTemplate =
    params.LaunchTemplate !== undefined
      ? validLaunchTemplate(ctx, params.LaunchTemplate)
      : undefined;
  const vpc = str(params.VPCZoneIdentifier);
  const subnets = vpc !== undefined ? validSubnets(ctx, vpc) : undefined;
  const zonesGiven = list<string>(params.AvailabilityZones).map(String);
  const zones = zonesGiven.length > 0 ? validZones(ctx, zonesGiven) : undefined;
  const healthCheckType = validHealthCheckType(str(params.HealthCheckType));
  const grace = optionalCount(params, "HealthCheckGracePeriod");
  const cooldown = optionalCount(params, "DefaultCooldown");
  const protect = bool(params.NewInstancesProtectedFromScaleIn);
  const terminationPolicies = validTerminationPolicies(params.TerminationPolicies);

  const before = group.desiredCapacity;
  group.minSize = min;
  group.maxSize = max;
  group.desiredCapacity = desired;
  if (launchTemplate) group.launchTemplate = launchTemplate;
  if (subnets && subnets.length > 0) {
    group.vpcZoneIdentifier = subnets.join(",");
    group.availabilityZones = zonesOfSubnets(ctx, subnets);
  } else if (zones) {
    group.availabilityZones = zones;
  }
  if (healthCheckType) group.healthCheckType = healthCheckType;
  if (grace !== undefined) group.healthCheckGracePeriod = grace;
  if (cooldown !== undefined) group.defaultCooldown = cooldown;
  if (protect !== undefined) group.newInstancesProtectedFromScaleIn = protect;
  if (terminationPolicies) group.terminationPolicies = terminationPolicies;
  // A changed group gets a fresh launch attempt rather than waiting out the back-off.
  const extra = groupExtra(group);
  extra.launchFailures = 0;
  extra.nextLaunchAt = 0;
  noteCapacityChange(
    ctx,
    group,
    `a user request update of AutoScalingGroup constraints to min: ${min}, max: ${max}, desired: ${desired}`,
    before,
    desired,
  );
  return {};
};

export const setDesiredCapacity: QueryHandler = (params, ctx) => {
  const group = requireMutableGroup(ctx, params);
  const desired = optionalCount(params, "DesiredCapacity");
  if (desired === undefined) requireString(params, "DesiredCapacity");
  const n = desired!;
  if (n < group.minSize) {
    throw validationError(
      `New SetDesiredCapacity value ${n} is below min value ${group.minSize} for the AutoScalingGroup.`,
    );
  }
  if (n > group.maxSize) {
    throw validationError(
      `New SetDesiredCapacity value ${n} is above max value ${group.maxSize} for the AutoScalingGroup.`,
    );
  }
  const before = group.desiredCapacity;
  group.desiredCapacity = n;
  const extra = groupExtra(group);
  extra.launchFailures = 0;
  extra.nextLaunchAt = 0;
  noteCapacityChange(ctx, group, "a user request explicitly set group desired capacity", before, n);
  return {};
};

export const deleteAutoScalingGroup: QueryHandler = (params, ctx) => {
  const group = requireGroup(ctx, params);
  const force = bool(params.ForceDelete) ?? false;
  if (group.status === "Delete in progress") return {};
  if (!force) {
    if (activeInstances(group).length > 0) {
      throw new AwsError(
        "ResourceInUse",
        "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.",
      );
    }
    if (group.instances.size > 0) {
      throw new AwsError(
        "ScalingActivityInProgress",
        "You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.",
      );
    }
    removeGroup(ctx, group);
    return {};
  }
  const before = group.desiredCapacity;
  group.status = "Delete in progress";
  group.minSize = 0;
  group.maxSize = 0;
  group.desiredCapacity = 0;
  noteCapacityChange(ctx, group, "a user request forced deletion of AutoScalingGroup", before, 0);
  if (group.instances.size === 0) removeGroup(ctx, group);
  return {};
};

function processNames(raw: unknown): string[] {
  const names = list<string>(raw).map(String);
  for (const name of names) {
    if (!(PROCESS_NAMES as readonly string[]).includes(name)) {
      throw validationError(
        `Process name '${name}' is not valid. Valid process names are: ${PROCESS_NAMES.join(", ")}.`,
      );
    }
  }
  return names.length > 0 ? names : [...PROCESS_NAMES];
}

export const suspendProcesses: QueryHandler = (params, ctx) => {
  const group = requireMutableGroup(ctx, params);
  const reason = `User suspended at ${awsTime(ctx.clock.now())}`;
  for (const name of processNames(params.ScalingProcesses)) {
    if (!group.suspendedProcesses.has(name)) group.suspendedProcesses.set(name, reason);
  }
  return {};
};

export const resumeProcesses: QueryHandler = (params, ctx) => {
  const group = requireMutableGroup(ctx, params);
  for (const name of processNames(params.ScalingProcesses)) group.suspendedProcesses.delete(name);
  return {};
};

export const setInstanceProtection: QueryHandler = (params, ctx) => {
  const group = requireMutableGroup(ctx, params);
  const ids = list<string>(params.InstanceIds).map(String);
  const protect = bool(params.ProtectedFromScaleIn);
  if (protect === undefined) requireString(params, "ProtectedFromScaleIn");
  const instances = ids.map((id) => {
    const instance = group.instances.get(id);
    if (!instance || instance.lifecycleState === "Terminating") {
      throw validationError(`The instance ${id} is not part of Auto Scaling group ${group.name}.`);
    }
    return instance;
  });
  for (const instance of instances) instance.protectedFromScaleIn = protect!;
  return {};
};

export const terminateInstanceInAutoScalingGroup: QueryHandler = (params, ctx) => {
  const instanceId = requireString(params, "InstanceId");
  const decrement = bool(params.ShouldDecrementDesiredCapacity);
  if (decrement === undefined) requireString(params, "ShouldDecrementDesiredCapacity");
  const group = [...ctx.state.autoScalingGroups.values()].find((g) => g.instances.has(instanceId));
  const instance = group?.instances.get(instanceId);
  if (!group || !instance) {
    throw validationError(
      `Instance Id not found - No managed instance found for instance ID: ${instanceId}`,
    );
  }
  if (instance.lifecycleState === "Terminating") {
    const pending = instanceExtra(instance).terminateActivity;
    if (pending) return { Activity: toActivityShape(pending) };
  }
  const now = awsTime(ctx.clock.now());
  const capacity = activeInstances(group).length;
  let cause = `At ${now} instance ${instanceId} was taken out of service in response to a user request.`;
  if (decrement) {
    if (group.desiredCapacity - 1 < group.minSize) {
      throw validationError(
        `Currently, desiredSize equals minSize (${group.minSize}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
      );
    }
    group.desiredCapacity -= 1;
    cause = `At ${now} instance ${instanceId} was taken out of service in response to a user request, shrinking the capacity from ${capacity} to ${capacity - 1}.`;
  }
  const activity = beginTermination(ctx, group, instance, cause);
  return { Activity: toActivityShape(activity) };
};
