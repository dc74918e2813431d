/**
 * Scaling policies and scheduled actions, stored in the API's own shape so that what is put is
 * what is described. The sandbox has no CloudWatch: policies never fire and scheduled actions
 * never run; both exist so that tools can copy them from one group to another.
 */
import { randomUUID } from "node:crypto";
import type { QueryHandler } from "../../context.js";
import { validationError } from "../../protocol/errors.js";
import { bool, int, list, str } from "../../protocol/query.js";
import type { ScalingPolicy, ScheduledAction } from "../../state.js";
import {
  checkLength,
  maxRecords,
  optionalCount,
  page,
  requireGroup,
  requireMutableGroup,
  requireString,
} from "./model.js";

const POLICY_TYPES = ["SimpleScaling", "StepScaling", "TargetTrackingScaling", "PredictiveScaling"];
const ADJUSTMENT_TYPES = ["ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"];

function byName<T>(a: T, b: T, name: (x: T) => string): number {
  const x = name(a);
  const y = name(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function optionalInt(params: Record<string, unknown>, member: string): number | undefined {
  const raw = params[member];
  if (raw === undefined) return undefined;
  const n = int(raw);
  if (n === undefined || !Number.isInteger(n)) {
    throw validationError(`${member} must be an integer; got '${String(raw)}'.`);
  }
  return n;
}

function structure(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export const putScalingPolicy: QueryHandler = (params, ctx) => {
  const group = requireMutableGroup(ctx, params);
  const policyName = requireString(params, "PolicyName");
  checkLength(policyName, "PolicyName", 255);
  const policyType = str(params.PolicyType) ?? "SimpleScaling";
  if (!POLICY_TYPES.includes(policyType)) {
    throw validationError(
      `Invalid policy type '${policyType}'. Valid types: ${POLICY_TYPES.join(", ")}.`,
    );
  }
  const adjustmentType = str(params.AdjustmentType);
  if (adjustmentType !== undefined && !ADJUSTMENT_TYPES.includes(adjustmentType)) {
    throw validationError(`Invalid adjustment type '${adjustmentType}'.`);
  }
  const scalingAdjustment = optionalInt(params, "ScalingAdjustment");
  const stepAdjustments = list<Record<string, unknown>>(params.StepAdjustments)
    .map(structure)
    .filter((s): s is Record<string, unknown> => s !== undefined);
  const targetTracking = structure(params.TargetTrackingConfiguration);
  switch (policyType) {
    case "SimpleScaling":
      if (scalingAdjustment === undefined) {
        throw validationError("ScalingAdjustment is required for policies of type SimpleScaling.");
      }
      if (adjustmentType === undefined) {
        throw validationError("AdjustmentType is required for policies of type SimpleScaling.");
      }
      break;
    case "StepScaling":
      if (stepAdjustments.length === 0) {
        throw validationError("StepAdjustments is required for policies of type StepScaling.");
      }
      if (adjustmentType === undefined) {
        throw validationError("AdjustmentType is required for policies of type StepScaling.");
      }
      break;
    case "TargetTrackingScaling":
      if (!targetTracking || targetTracking.TargetValue === undefined) {
        throw validationError(
          "TargetTrackingConfiguration is required for policies of type TargetTrackingScaling.",
        );
      }
      if (
        !targetTracking.PredefinedMetricSpecification &&
        !targetTracking.CustomizedMetricSpecification
      ) {
        throw validationError(
          "Either a predefined metric specification or a customized metric specification must be specified.",
        );
      }
      break;
    default:
      if (!structure(params.PredictiveScalingConfiguration)) {
        throw validationError(
          "PredictiveScalingConfiguration is required for policies of type PredictiveScaling.",
        );
      }
  }
  const existing = [...ctx.state.policies.values()].find(
    (p) => p.AutoScalingGroupName === group.name && p.PolicyName === policyName,
  );
  const arn =
    existing?.PolicyARN ??
    ctx.state.arn(
      "autoscaling",
      `scalingPolicy:${randomUUID()}:autoScalingGroupName/${group.name}:policyName/${policyName}`,
    );
  const policy: ScalingPolicy = {
    AutoScalingGroupName: group.name,
    PolicyName: policyName,
    PolicyARN: arn,
    PolicyType: policyType,
    AdjustmentType: adjustmentType,
    MinAdjustmentStep: optionalInt(params, "MinAdjustmentStep"),
    MinAdjustmentMagnitude: optionalInt(params, "MinAdjustmentMagnitude"),
    ScalingAdjustment: scalingAdjustment,
    Cooldown: optionalCount(params, "Cooldown"),
    StepAdjustments: policyType === "StepScaling" ? stepAdjustments : undefined,
    MetricAggregationType:
      str(params.MetricAggregationType) ?? (policyType === "StepScaling" ? "Average" : undefined),
    EstimatedInstanceWarmup: optionalCount(params, "EstimatedInstanceWarmup"),
    Alarms: [],
    TargetTrackingConfiguration: targetTracking,
    Enabled: bool(params.Enabled) ?? true,
    PredictiveScalingConfiguration: structure(params.PredictiveScalingConfiguration),
  };
  ctx.state.policies.set(arn, policy);
  return { PolicyARN: arn, Alarms: [] };
};

export const describePolicies: QueryHandler = (params, ctx) => {
  const limit = maxRecords(params, 50, 100);
  const groupName = str(params.AutoScalingGroupName);
  const names = new Set(list<string>(params.PolicyNames).map(String));
  const types = new Set(list<string>(params.PolicyTypes).map(String));
  const policies = [...ctx.state.policies.values()]
    .filter((p) => groupName === undefined || p.AutoScalingGroupName === groupName)
    .filter((p) => names.size === 0 || names.has(p.PolicyName) || names.has(p.PolicyARN))
    .filter((p) => types.size === 0 || types.has(String(p.PolicyType)))
    .sort(
      (a, b) => byName(a, b, (p) => p.AutoScalingGroupName) || byName(a, b, (p) => p.PolicyName),
    );
  const { items, nextToken } = page(policies, params, limit);
  return { ScalingPolicies: items, NextToken: nextToken };
};

export const deletePolicy: QueryHandler = (params, ctx) => {
  const name = requireString(params, "PolicyName");
  const groupName = str(params.AutoScalingGroupName);
  if (groupName !== undefined && !name.startsWith("arn:")) requireGroup(ctx, params);
  const policy = [...ctx.state.policies.values()].find((p) =>
    name.startsWith("arn:")
      ? p.PolicyARN === name
      : p.PolicyName === name && p.AutoScalingGroupName === groupName,
  );
  if (!policy) {
    throw validationError(
      `Scaling policy ${name} not found${groupName ? ` for ${groupName}` : ""}.`,
    );
  }
  ctx.state.policies.delete(policy.PolicyARN);
  return {};
};

function optionalTime(params: Record<string, unknown>, member: string): Date | undefined {
  const raw = str(params[member]);
  if (raw === undefined || raw === "") return undefined;
  const date = new Date(raw);
  if (Number.isNaN(date.getTime())) {
    throw validationError(`${member} '${raw}' is not a valid ISO 8601 time.`);
  }
  return date;
}

function scheduledKey(group: string, name: string): string {
  return `${group}\u0000${name}`;
}

export const putScheduledUpdateGroupAction: QueryHandler = (params, ctx) => {
  const group = requireMutableGroup(ctx, params);
  const name = requireString(params, "ScheduledActionName");
  checkLength(name, "ScheduledActionName", 255);
  const minSize = optionalCount(params, "MinSize");
  const maxSize = optionalCount(params, "MaxSize");
  const desired = optionalCount(params, "DesiredCapacity");
  if (minSize === undefined && maxSize === undefined && desired === undefined) {
    throw validationError("At least one of MinSize, MaxSize or DesiredCapacity must be specified.");
  }
  if (minSize !== undefined && maxSize !== undefined && minSize > maxSize) {
    throw validationError(
      `Max bound, ${maxSize}, must be greater than or equal to min bound, ${minSize}`,
    );
  }
  const start = optionalTime(params, "StartTime") ?? optionalTime(params, "Time");
  const end = optionalTime(params, "EndTime");
  const recurrence = str(params.Recurrence);
  if (recurrence !== undefined && recurrence.trim().split(/\s+/).length !== 5) {
    throw validationError(
      `Given recurrence '${recurrence}' is not a valid cron expression of five fields.`,
    );
  }
  if (!start && !recurrence) {
    throw validationError("Either StartTime or Recurrence must be specified.");
  }
  if (start && end && end <= start) {
    throw validationError("The end time must be after the start time.");
  }
  const key = scheduledKey(group.name, name);
  const arn =
    ctx.state.scheduledActions.get(key)?.ScheduledActionARN ??
    ctx.state.arn(
      "autoscaling",
      `scheduledUpdateGroupAction:${randomUUID()}:autoScalingGroupName/${group.name}:scheduledActionName/${name}`,
    );
  const action: ScheduledAction = {
    AutoScalingGroupName: group.name,
    ScheduledActionName: name,
    ScheduledActionARN: arn,
    Time: start,
    StartTime: start,
    EndTime: end,
    Recurrence: recurrence,
    MinSize: minSize,
    MaxSize: maxSize,
    DesiredCapacity: desired,
    TimeZone: str(params.TimeZone),
  };
  ctx.state.scheduledActions.set(key, action);
  return {};
};

export const describeScheduledActions: QueryHandler = (params, ctx) => {
  const limit = maxRecords(params, 50, 100);
  const groupName = str(params.AutoScalingGroupName);
  if (groupName !== undefined) requireGroup(ctx, params);
  const names = new Set(list<string>(params.ScheduledActionNames).map(String));
  const from = optionalTime(params, "StartTime");
  const to = optionalTime(params, "EndTime");
  const actions = [...ctx.state.scheduledActions.values()]
    .filter((a) => groupName === undefined || a.AutoScalingGroupName === groupName)
    .filter((a) => names.size === 0 || names.has(a.ScheduledActionName))
    .filter((a) => {
      const start = a.StartTime instanceof Date ? a.StartTime : undefined;
      if (!start || a.Recurrence) return true;
      return (!from || start >= from) && (!to || start <= to);
    })
    .sort(
      (a, b) =>
        byName(a, b, (x) => x.AutoScalingGroupName) || byName(a, b, (x) => x.ScheduledActionName),
    );
  const { items, nextToken } = page(actions, params, limit);
  return { ScheduledUpdateGroupActions: items, NextToken: nextToken };
};

export const deleteScheduledAction: QueryHandler = (params, ctx) => {
  const group = requireGroup(ctx, params);
  const name = requireString(params, "ScheduledActionName");
  const key = scheduledKey(group.name, name);
  if (!ctx.state.scheduledActions.has(key)) {
    throw validationError(
      `Scheduled action name not found - Could not find scheduled action: ${name}`,
    );
  }
  ctx.state.scheduledActions.delete(key);
  return {};
};
