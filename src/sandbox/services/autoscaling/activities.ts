/**
 * Scaling activities: every launch and termination the reconciler performs is recorded the way
 * AWS records it (description, cause, status, progress), and DescribeScalingActivities lists
 * them newest first.
 */
import { randomUUID } from "node:crypto";
import type { QueryHandler, SandboxContext } from "../../context.js";
import { bool, list, str } from "../../protocol/query.js";
import type { Activity, AutoScalingGroup } from "../../state.js";
import {
  activityGroupArn,
  awsTime,
  groupExtra,
  maxRecords,
  page,
  setActivityGroupArn,
} from "./model.js";

export function startActivity(
  ctx: SandboxContext,
  group: AutoScalingGroup,
  fields: Pick<Activity, "description" | "cause"> & Partial<Activity>,
): Activity {
  const activity: Activity = {
    activityId: randomUUID(),
    autoScalingGroupName: group.name,
    startTime: new Date(ctx.clock.now()),
    statusCode: "InProgress",
    progress: 0,
    details: JSON.stringify({}),
    ...fields,
  };
  setActivityGroupArn(activity, group.arn);
  ctx.state.activities.push(activity);
  return activity;
}

export function finishActivity(
  ctx: SandboxContext,
  activity: Activity,
  statusCode: "Successful" | "Failed" | "Cancelled" = "Successful",
  statusMessage?: string,
): void {
  activity.statusCode = statusCode;
  activity.progress = 100;
  activity.endTime = new Date(ctx.clock.now());
  if (statusMessage !== undefined) activity.statusMessage = statusMessage;
}

/** Remembers why the desired capacity changed; the next activities' causes start with it. */
export function noteCapacityChange(
  ctx: SandboxContext,
  group: AutoScalingGroup,
  what: string,
  from: number,
  to: number,
): void {
  if (from === to) return;
  groupExtra(group).capacityCause =
    `At ${awsTime(ctx.clock.now())} ${what} changing the desired capacity from ${from} to ${to}.`;
}

/** The cause of a launch or termination made to close the gap between desired and actual. */
export function capacityCause(
  ctx: SandboxContext,
  group: AutoScalingGroup,
  from: number,
  to: number,
): string {
  const prefix = groupExtra(group).capacityCause;
  const now = awsTime(ctx.clock.now());
  const change =
    to > from
      ? `At ${now} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${from} to ${to}.`
      : `At ${now} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${from} to ${to}.`;
  return prefix ? `${prefix}  ${change}` : change;
}

export function toActivityShape(activity: Activity): Record<string, unknown> {
  return {
    ActivityId: activity.activityId,
    AutoScalingGroupName: activity.autoScalingGroupName,
    Description: activity.description,
    Cause: activity.cause,
    StartTime: activity.startTime,
    EndTime: activity.endTime,
    StatusCode: activity.statusCode,
    StatusMessage: activity.statusMessage,
    Progress: activity.progress,
    Details: activity.details,
    AutoScalingGroupARN: activityGroupArn(activity),
  };
}

export const describeScalingActivities: QueryHandler = (params, ctx) => {
  const limit = maxRecords(params, 100, 100);
  const name = str(params.AutoScalingGroupName);
  const ids = new Set(list<string>(params.ActivityIds));
  const includeDeleted = bool(params.IncludeDeletedGroups) ?? false;
  const live = (activity: Activity): boolean => {
    const group = ctx.state.autoScalingGroups.get(activity.autoScalingGroupName);
    return group !== undefined && group.arn === activityGroupArn(activity);
  };
  const matching: Activity[] = [];
  for (let i = ctx.state.activities.length - 1; i >= 0; i--) {
    const activity = ctx.state.activities[i]!;
    if (name !== undefined && activity.autoScalingGroupName !== name) continue;
    if (ids.size > 0 && !ids.has(activity.activityId)) continue;
    if (!includeDeleted && !live(activity)) continue;
    matching.push(activity);
  }
  const { items, nextToken } = page(matching, params, limit);
  return { Activities: items.map(toActivityShape), NextToken: nextToken };
};
