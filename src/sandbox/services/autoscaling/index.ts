/**
 * The sandbox's Auto Scaling API (query protocol, version 2011-01-01) and the reconciler that
 * makes groups converge on their desired capacity.
 */
import type { QueryHandlers, SandboxContext } from "../../context.js";
import { describeScalingActivities } from "./activities.js";
import {
  createAutoScalingGroup,
  deleteAutoScalingGroup,
  describeAutoScalingGroups,
  resumeProcesses,
  setDesiredCapacity,
  setInstanceProtection,
  suspendProcesses,
  terminateInstanceInAutoScalingGroup,
  updateAutoScalingGroup,
} from "./groups.js";
import {
  deletePolicy,
  deleteScheduledAction,
  describePolicies,
  describeScheduledActions,
  putScalingPolicy,
  putScheduledUpdateGroupAction,
} from "./policies.js";
import { startReconciler } from "./reconciler.js";
import { createOrUpdateTags, deleteTags, describeTags } from "./tags.js";
import {
  attachLoadBalancerTargetGroups,
  attachTrafficSources,
  describeLoadBalancerTargetGroups,
  describeTrafficSources,
  detachLoadBalancerTargetGroups,
  detachTrafficSources,
} from "./traffic.js";

export const autoscalingHandlers: QueryHandlers = {
  CreateAutoScalingGroup: createAutoScalingGroup,
  DescribeAutoScalingGroups: describeAutoScalingGroups,
  UpdateAutoScalingGroup: updateAutoScalingGroup,
  SetDesiredCapacity: setDesiredCapacity,
  DeleteAutoScalingGroup: deleteAutoScalingGroup,
  CreateOrUpdateTags: createOrUpdateTags,
  DeleteTags: deleteTags,
  DescribeTags: describeTags,
  SuspendProcesses: suspendProcesses,
  ResumeProcesses: resumeProcesses,
  DescribeScalingActivities: describeScalingActivities,
  PutScalingPolicy: putScalingPolicy,
  DescribePolicies: describePolicies,
  DeletePolicy: deletePolicy,
  PutScheduledUpdateGroupAction: putScheduledUpdateGroupAction,
  DescribeScheduledActions: describeScheduledActions,
  DeleteScheduledAction: deleteScheduledAction,
  AttachTrafficSources: attachTrafficSources,
  DetachTrafficSources: detachTrafficSources,
  DescribeTrafficSources: describeTrafficSources,
  AttachLoadBalancerTargetGroups: attachLoadBalancerTargetGroups,
  DetachLoadBalancerTargetGroups: detachLoadBalancerTargetGroups,
  DescribeLoadBalancerTargetGroups: describeLoadBalancerTargetGroups,
  SetInstanceProtection: setInstanceProtection,
  TerminateInstanceInAutoScalingGroup: terminateInstanceInAutoScalingGroup,
};

/** Starts the periodic reconciler; the returned function stops it. */
export function startAutoScaling(ctx: SandboxContext): () => void {
  return startReconciler(ctx);
}
