/** Auto Scaling operations switchyard uses: managed groups found by tag, their capacity, processes, tags and launch failures. */
import {
  type AutoScalingGroup,
  CreateAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  DescribeScalingActivitiesCommand,
  DescribeScheduledActionsCommand,
  PutScalingPolicyCommand,
  type PutScalingPolicyCommandInput,
  PutScheduledUpdateGroupActionCommand,
  paginateDescribeAutoScalingGroups,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import type { Capacity } from "../core/swap-model.js";
import { type CallOptions, call, errorName, throughCall } from "./call.js";
import type { Clients } from "./clients.js";

export interface ManagedGroup {
  name: string;
  capacity: Capacity;
  deleting: boolean;
  suspended: string[];
  instances: Array<{ id: string; lifecycle: string; health: string }>;
  tags: Record<string, string>;
  targetGroupArns: string[];
  launchTemplateId?: string;
  createdAt?: Date;
}

function toManaged(g: AutoScalingGroup): ManagedGroup {
  return {
    name: g.AutoScalingGroupName ?? "",
    capacity: { min: g.MinSize ?? 0, max: g.MaxSize ?? 0, desired: g.DesiredCapacity ?? 0 },
    deleting: g.Status === "Delete in progress",
    suspended: (g.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? ""),
    instances: (g.Instances ?? []).map((i) => ({
      id: i.InstanceId ?? "",
      lifecycle: i.LifecycleState ?? "",
      health: i.HealthStatus ?? "",
    })),
    tags: Object.fromEntries((g.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
    targetGroupArns: g.TargetGroupARNs ?? [],
    launchTemplateId: g.LaunchTemplate?.LaunchTemplateId,
    createdAt: g.CreatedTime,
  };
}

/** Every Auto Scaling group carrying the given tags (all pages). */
export async function findGroupsByTags(
  clients: Clients,
  tags: Record<string, string>,
  options: CallOptions = {},
): Promise<ManagedGroup[]> {
  const groups: ManagedGroup[] = [];
  const pages = paginateDescribeAutoScalingGroups(
    { client: throughCall(clients.autoscaling, options), pageSize: 100 },
    { Filters: Object.entries(tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })) },
  );
  for await (const page of pages) groups.push(...(page.AutoScalingGroups ?? []).map(toManaged));
  return groups;
}

export async function describeGroup(
  clients: Clients,
  name: string,
  options: CallOptions = {},
): Promise<ManagedGroup | undefined> {
  const out = await call(
    () =>
      clients.autoscaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
      ),
    options,
  );
  const g = out.AutoScalingGroups?.[0];
  return g ? toManaged(g) : undefined;
}

export interface GroupSpec {
  name: string;
  launchTemplateId: string;
  capacity: Capacity;
  subnets: string[];
  targetGroupArn: string;
  healthCheckGracePeriodSeconds: number;
  tags: Record<string, string>;
}

export async function createGroup(clients: Clients, spec: GroupSpec, options: CallOptions = {}) {
  try {
    await call(
      () =>
        clients.autoscaling.send(
          new CreateAutoScalingGroupCommand({
            AutoScalingGroupName: spec.name,
            LaunchTemplate: { LaunchTemplateId: spec.launchTemplateId, Version: "$Latest" },
            MinSize: spec.capacity.min,
            MaxSize: spec.capacity.max,
            DesiredCapacity: spec.capacity.desired,
            VPCZoneIdentifier: spec.subnets.join(","),
            TargetGroupARNs: [spec.targetGroupArn],
            HealthCheckType: "ELB",
            HealthCheckGracePeriod: spec.healthCheckGracePeriodSeconds,
            Tags: Object.entries(spec.tags).map(([Key, Value]) => ({
              Key,
              Value,
              PropagateAtLaunch: true,
            })),
          }),
        ),
      // a just-created launch template or target group may not be visible yet
      { ...options, retryOn: ["ValidationError"], retries: options.retries ?? 4 },
    );
  } catch (error) {
    if (errorName(error) !== "AlreadyExistsFault") throw error;
  }
}

export async function updateCapacity(
  clients: Clients,
  name: string,
  capacity: Partial<Capacity>,
  options: CallOptions = {},
) {
  await call(
    () =>
      clients.autoscaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: name,
          MinSize: capacity.min,
          MaxSize: capacity.max,
          DesiredCapacity: capacity.desired,
        }),
      ),
    { ...options, retryOn: ["ScalingActivityInProgressFault"] },
  );
}

export async function deleteGroup(clients: Clients, name: string, options: CallOptions = {}) {
  try {
    await call(
      () =>
        clients.autoscaling.send(
          new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }),
        ),
      { ...options, retryOn: ["ScalingActivityInProgressFault", "ResourceInUseFault"] },
    );
  } catch (error) {
    // deleting a group that is gone is done
    if (errorName(error) === "ValidationError" && /not found|does not exist/i.test(String(error)))
      return;
    throw error;
  }
}

/**
 * Terminates one instance of a group without lowering its desired capacity: the group
 * deregisters it from its target groups (draining) and launches a replacement. An instance
 * already gone is done.
 */
export async function replaceInstance(
  clients: Clients,
  instanceId: string,
  options: CallOptions = {},
): Promise<void> {
  try {
    await call(
      () =>
        clients.autoscaling.send(
          new TerminateInstanceInAutoScalingGroupCommand({
            InstanceId: instanceId,
            ShouldDecrementDesiredCapacity: false,
          }),
        ),
      { ...options, retryOn: ["ScalingActivityInProgressFault"] },
    );
  } catch (error) {
    if (
      errorName(error) === "ValidationError" &&
      /not found|terminated|not part/i.test(String(error))
    ) {
      return;
    }
    throw error;
  }
}

export function suspendProcesses(
  clients: Clients,
  name: string,
  processes: readonly string[],
  options: CallOptions = {},
): Promise<void> {
  return setProcesses(clients, name, processes, "suspend", options);
}

export function resumeProcesses(
  clients: Clients,
  name: string,
  processes: readonly string[],
  options: CallOptions = {},
): Promise<void> {
  return setProcesses(clients, name, processes, "resume", options);
}

async function setProcesses(
  clients: Clients,
  name: string,
  processes: readonly string[],
  change: "suspend" | "resume",
  options: CallOptions,
): Promise<void> {
  const input = { AutoScalingGroupName: name, ScalingProcesses: [...processes] };
  await call(
    () =>
      clients.autoscaling.send(
        change === "suspend"
          ? new SuspendProcessesCommand(input)
          : new ResumeProcessesCommand(input),
      ),
    options,
  );
}

export async function setGroupTags(
  clients: Clients,
  name: string,
  tags: Record<string, string>,
  options: CallOptions = {},
) {
  await call(
    () =>
      clients.autoscaling.send(
        new CreateOrUpdateTagsCommand({
          Tags: Object.entries(tags).map(([Key, Value]) => ({
            ResourceId: name,
            ResourceType: "auto-scaling-group",
            Key,
            Value,
            PropagateAtLaunch: true,
          })),
        }),
      ),
    options,
  );
}

/** The status message of the newest failed scaling activity that started at or after `since`. */
export async function latestLaunchFailure(
  clients: Clients,
  name: string,
  since: number,
  options: CallOptions = {},
): Promise<string | undefined> {
  const out = await call(
    () =>
      clients.autoscaling.send(
        new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name, MaxRecords: 10 }),
      ),
    options,
  );
  const failed = (out.Activities ?? []).find(
    (a) => a.StatusCode === "Failed" && (a.StartTime?.getTime() ?? 0) >= since - 1000,
  );
  return failed ? (failed.StatusMessage ?? failed.Description ?? "launch failed") : undefined;
}

/** Copies scaling policies and scheduled actions from one group to another (upserts by name). */
export async function copyScaling(
  clients: Clients,
  from: string,
  to: string,
  options: CallOptions = {},
): Promise<{ policies: number; scheduledActions: number }> {
  const policies = await call(
    () => clients.autoscaling.send(new DescribePoliciesCommand({ AutoScalingGroupName: from })),
    options,
  );
  for (const p of policies.ScalingPolicies ?? []) {
    const input: PutScalingPolicyCommandInput = {
      AutoScalingGroupName: to,
      PolicyName: p.PolicyName,
      PolicyType: p.PolicyType,
      AdjustmentType: p.AdjustmentType,
      MinAdjustmentMagnitude: p.MinAdjustmentMagnitude,
      ScalingAdjustment: p.ScalingAdjustment,
      Cooldown: p.Cooldown,
      MetricAggregationType: p.MetricAggregationType,
      StepAdjustments: p.StepAdjustments,
      EstimatedInstanceWarmup: p.EstimatedInstanceWarmup,
      TargetTrackingConfiguration: p.TargetTrackingConfiguration,
      Enabled: p.Enabled,
      PredictiveScalingConfiguration: p.PredictiveScalingConfiguration,
    };
    await call(() => clients.autoscaling.send(new PutScalingPolicyCommand(input)), options);
  }
  const scheduled = await call(
    () =>
      clients.autoscaling.send(new DescribeScheduledActionsCommand({ AutoScalingGroupName: from })),
    options,
  );
  for (const a of scheduled.ScheduledUpdateGroupActions ?? []) {
    await call(
      () =>
        clients.autoscaling.send(
          new PutScheduledUpdateGroupActionCommand({
            AutoScalingGroupName: to,
            ScheduledActionName: a.ScheduledActionName,
            Recurrence: a.Recurrence,
            StartTime: a.Recurrence ? undefined : a.StartTime,
            EndTime: a.EndTime,
            MinSize: a.MinSize,
            MaxSize: a.MaxSize,
            DesiredCapacity: a.DesiredCapacity,
            TimeZone: a.TimeZone,
          }),
        ),
      options,
    );
  }
  return {
    policies: policies.ScalingPolicies?.length ?? 0,
    scheduledActions: scheduled.ScheduledUpdateGroupActions?.length ?? 0,
  };
}
