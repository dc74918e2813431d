/**
 * Auto Scaling's bookkeeping beside the state store: what the reconciler remembers about a
 * group or an instance that the API never shows (launch back-off, draining target groups,
 * instances launched while `AddToLoadBalancer` was suspended), plus the helpers every
 * operation shares (finding a group, validation, paging, timestamps).
 */
import type { SandboxContext } from "../../context.js";
import { AwsError, validationError } from "../../protocol/errors.js";
import { int, str } from "../../protocol/query.js";
import type { Activity, AsgInstance, AsgTag, AutoScalingGroup, SandboxState } from "../../state.js";

export const PROCESS_NAMES = [
  "Launch",
  "Terminate",
  "AddToLoadBalancer",
  "AlarmNotification",
  "AZRebalance",
  "HealthCheck",
  "InstanceRefresh",
  "ReplaceUnhealthy",
  "ScheduledActions",
] as const;
export type ProcessName = (typeof PROCESS_NAMES)[number];

/** What the reconciler keeps per group. */
export interface GroupExtra {
  /** why the desired capacity last changed, put in front of the next activities' causes */
  capacityCause?: string;
  /** failed launch attempts in a row, for the retry back-off */
  launchFailures: number;
  /** real ms before which no launch is attempted (back-off after a failure) */
  nextLaunchAt: number;
  /** target groups detached but still draining the group's instances */
  removingTargetGroups: Set<string>;
}

/** What the reconciler keeps per instance. */
export interface InstanceExtra {
  /** launched while AddToLoadBalancer was suspended: never registered automatically */
  skipLoadBalancer: boolean;
  /** real ms when the instance went InService (the health-check grace period starts here) */
  inServiceAt?: number;
  launchActivity?: Activity;
  terminateActivity?: Activity;
  /** target groups the instance was deregistered from and must finish draining in */
  drainingIn: string[];
  /** EC2 termination has been asked for */
  terminationStarted: boolean;
  /** skip draining (ForceDelete) */
  skipDraining: boolean;
  /** which health check found the instance unhealthy */
  unhealthyBy?: "EC2" | "ELB";
}

const groupExtras = new WeakMap<AutoScalingGroup, GroupExtra>();
const instanceExtras = new WeakMap<AsgInstance, InstanceExtra>();
const activityGroupArns = new WeakMap<Activity, string>();

export function groupExtra(group: AutoScalingGroup): GroupExtra {
  let extra = groupExtras.get(group);
  if (!extra) {
    extra = { launchFailures: 0, nextLaunchAt: 0, removingTargetGroups: new Set() };
    groupExtras.set(group, extra);
  }
  return extra;
}

export function instanceExtra(instance: AsgInstance): InstanceExtra {
  let extra = instanceExtras.get(instance);
  if (!extra) {
    extra = {
      skipLoadBalancer: false,
      drainingIn: [],
      terminationStarted: false,
      skipDraining: false,
    };
    instanceExtras.set(instance, extra);
  }
  return extra;
}

export function activityGroupArn(activity: Activity): string | undefined {
  return activityGroupArns.get(activity);
}

export function setActivityGroupArn(activity: Activity, arn: string): void {
  activityGroupArns.set(activity, arn);
}

/** AWS writes times in causes to the second: `2026-01-01T12:00:00Z`. */
export function awsTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function isSuspended(group: AutoScalingGroup, process: ProcessName): boolean {
  return group.suspendedProcesses.has(process);
}

export function groupNotFound(name: string): AwsError {
  return validationError(`AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`);
}

/** The group named by `AutoScalingGroupName`, or the ValidationError AWS answers with. */
export function requireGroup(
  ctx: SandboxContext,
  params: Record<string, unknown>,
): AutoScalingGroup {
  const name = requireString(params, "AutoScalingGroupName");
  const group = ctx.state.autoScalingGroups.get(name);
  if (!group) throw groupNotFound(name);
  return group;
}

/** Like `requireGroup`, but a group being deleted cannot be changed. */
export function requireMutableGroup(
  ctx: SandboxContext,
  params: Record<string, unknown>,
): AutoScalingGroup {
  const group = requireGroup(ctx, params);
  if (group.status === "Delete in progress") {
    throw validationError(`AutoScalingGroup ${group.name} is pending delete.`);
  }
  return group;
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** A required string member, with AWS's "1 validation error detected" wording when missing. */
export function requireString(params: Record<string, unknown>, member: string): string {
  const value = str(params[member]);
  if (value === undefined || value === "") {
    throw validationError(
      `1 validation error detected: Value null at '${lowerFirst(member)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

export function checkLength(value: string, member: string, max: number, min = 1): void {
  if (value.length > max) {
    throw validationError(
      `1 validation error detected: Value '${value}' at '${lowerFirst(member)}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
  if (value.length < min) {
    throw validationError(
      `1 validation error detected: Value '${value}' at '${lowerFirst(member)}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`,
    );
  }
}

/** An optional non-negative integer member. */
export function optionalCount(params: Record<string, unknown>, member: string): number | undefined {
  const raw = params[member];
  if (raw === undefined) return undefined;
  const n = int(raw);
  if (n === undefined || !Number.isInteger(n)) {
    throw validationError(
      `1 validation error detected: Value '${String(raw)}' at '${lowerFirst(member)}' failed to satisfy constraint: Member must be an integer`,
    );
  }
  if (n < 0) {
    throw validationError(
      `1 validation error detected: Value '${n}' at '${lowerFirst(member)}' failed to satisfy constraint: Member must have value greater than or equal to 0`,
    );
  }
  return n;
}

/** MaxRecords with its default and upper bound. */
export function maxRecords(params: Record<string, unknown>, fallback: number, max: number): number {
  const n = optionalCount(params, "MaxRecords");
  if (n === undefined) return fallback;
  if (n > max) {
    throw validationError(
      `1 validation error detected: Value '${n}' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  }
  if (n < 1) {
    throw validationError(
      `1 validation error detected: Value '${n}' at 'maxRecords' failed to satisfy constraint: Member must have value greater than or equal to 1`,
    );
  }
  return n;
}

/**
 * One page of `items` after `NextToken`. Tokens are opaque to clients (an encoded offset into
 * the list as sorted for this operation); a token that does not decode is InvalidNextToken.
 */
export function page<T>(
  items: T[],
  params: Record<string, unknown>,
  limit: number,
): { items: T[]; nextToken?: string } {
  const token = str(params.NextToken);
  let start = 0;
  if (token) {
    const decoded = /^o:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
    if (!decoded) throw new AwsError("InvalidNextToken", "The token provided is not valid.");
    start = Number(decoded[1]);
  }
  const end = start + limit;
  const slice = items.slice(start, end);
  return end < items.length
    ? { items: slice, nextToken: Buffer.from(`o:${end}`).toString("base64url") }
    : { items: slice };
}

export function groupArn(state: SandboxState, name: string, id: string): string {
  return state.arn("autoscaling", `autoScalingGroup:${id}:autoScalingGroupName/${name}`);
}

/** Instances that count towards capacity: everything not on its way out. */
export function activeInstances(group: AutoScalingGroup): AsgInstance[] {
  return [...group.instances.values()].filter(
    (i) => i.lifecycleState !== "Terminating" && i.lifecycleState !== "Terminated",
  );
}

/** Sets a tag on a group's tag list, replacing the value of an existing key. */
export function upsertTag(tags: AsgTag[], tag: AsgTag): void {
  const existing = tags.find((t) => t.Key === tag.Key);
  if (existing) {
    existing.Value = tag.Value;
    existing.PropagateAtLaunch = tag.PropagateAtLaunch;
  } else {
    tags.push(tag);
  }
}

/** Forgets a group with its scaling policies and scheduled actions (its activities remain). */
export function removeGroup(ctx: SandboxContext, group: AutoScalingGroup): void {
  if (ctx.state.autoScalingGroups.get(group.name) !== group) return;
  ctx.state.autoScalingGroups.delete(group.name);
  for (const [key, policy] of ctx.state.policies) {
    if (policy.AutoScalingGroupName === group.name) ctx.state.policies.delete(key);
  }
  for (const [key, action] of ctx.state.scheduledActions) {
    if (action.AutoScalingGroupName === group.name) ctx.state.scheduledActions.delete(key);
  }
}
