/**
 * The Auto Scaling reconciler: every few AWS seconds each group is brought one step closer to
 * what its record says.
 *
 * - Lifecycle: a launched instance is `Pending` while EC2 boots it; once EC2 says `running` it
 *   is registered with every attached target group (unless `AddToLoadBalancer` is suspended;
 *   such an instance is never registered later) and becomes `InService`.
 * - Health: EC2 checks look at the EC2 state; ELB checks (HealthCheckType ELB), after the grace
 *   period from InService, mark an instance `Unhealthy` when its target is `unhealthy` in any
 *   attached target group. Unhealthy instances are terminated and replaced.
 * - Capacity: missing instances are launched into the group's subnets, balancing zones; a
 *   failed launch is a Failed activity and is retried with back-off. Extra instances are
 *   terminated: unprotected ones from the zone with the most instances, those on an older
 *   launch template first, then the oldest (the newest with the NewestInstance policy).
 * - Termination: deregister from the attached target groups, wait for draining, then terminate
 *   the EC2 instance; the instance leaves the group when EC2 has terminated it.
 */
import type { SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import type { Activity, AsgInstance, AutoScalingGroup } from "../../state.js";
import {
  deregisterTargets,
  launchInstance,
  registerTargets,
  resolveLaunchTemplate,
  terminateInstance,
} from "../../world.js";
import { capacityCause, finishActivity, startActivity } from "./activities.js";
import {
  activeInstances,
  awsTime,
  groupExtra,
  instanceExtra,
  isSuspended,
  removeGroup,
} from "./model.js";
import { forgetDrainedTargetGroups } from "./traffic.js";

/** AWS seconds between reconciler passes. */
export const TICK_SECONDS = 2;
/** Back-off after failed launches: 10 s, doubling, at most 5 minutes (AWS seconds). */
const FIRST_RETRY_SECONDS = 10;
const MAX_RETRY_SECONDS = 300;

export function startReconciler(ctx: SandboxContext): () => void {
  return ctx.clock.every(TICK_SECONDS, () => reconcileAll(ctx));
}

export function reconcileAll(ctx: SandboxContext): void {
  for (const group of [...ctx.state.autoScalingGroups.values()]) {
    try {
      reconcileGroup(ctx, group);
    } catch {
      // One group's surprise must not stop the others; the next pass tries again.
    }
  }
}

export function reconcileGroup(ctx: SandboxContext, group: AutoScalingGroup): void {
  for (const instance of [...group.instances.values()]) followLifecycle(ctx, group, instance);
  replaceUnhealthy(ctx, group);
  if (group.status === "Delete in progress") {
    for (const instance of group.instances.values()) instanceExtra(instance).skipDraining = true;
    const active = activeInstances(group);
    const cause = active.length > 0 ? capacityCause(ctx, group, active.length, 0) : "";
    for (const instance of active) {
      beginTermination(ctx, group, instance, selectedCause(ctx, cause, instance));
    }
    if (group.instances.size === 0) removeGroup(ctx, group);
    return;
  }
  const active = activeInstances(group).length;
  if (active < group.desiredCapacity && !isSuspended(group, "Launch")) {
    launchMissing(ctx, group, active);
  } else if (active > group.desiredCapacity && !isSuspended(group, "Terminate")) {
    terminateExtra(ctx, group, active);
  }
  forgetDrainedTargetGroups(ctx, group);
}

function followLifecycle(ctx: SandboxContext, group: AutoScalingGroup, instance: AsgInstance) {
  const ec2 = ctx.state.instances.get(instance.instanceId);
  const extra = instanceExtra(instance);
  if (instance.lifecycleState === "Terminating") {
    progressTermination(ctx, group, instance);
    return;
  }
  const ec2Gone = !ec2 || ec2.state === "shutting-down" || ec2.state === "terminated";
  if (ec2Gone) {
    if (!isSuspended(group, "HealthCheck") && instance.healthStatus === "Healthy") {
      instance.healthStatus = "Unhealthy";
      extra.unhealthyBy = "EC2";
    }
    return;
  }
  if (instance.lifecycleState === "Pending" && ec2.state === "running") {
    if (isSuspended(group, "AddToLoadBalancer")) {
      extra.skipLoadBalancer = true;
    } else {
      for (const arn of group.targetGroupArns) {
        try {
          registerTargets(ctx, arn, [{ Id: instance.instanceId }]);
        } catch {
          // a target group deleted behind the group's back: nothing to register with
        }
      }
    }
    instance.lifecycleState = "InService";
    extra.inServiceAt = ctx.clock.now();
    if (extra.launchActivity) finishActivity(ctx, extra.launchActivity);
    return;
  }
  if (
    instance.lifecycleState === "InService" &&
    group.healthCheckType === "ELB" &&
    instance.healthStatus === "Healthy" &&
    !isSuspended(group, "HealthCheck") &&
    extra.inServiceAt !== undefined &&
    ctx.clock.now() >= extra.inServiceAt + ctx.clock.ms(group.healthCheckGracePeriod)
  ) {
    const failing = group.targetGroupArns.some(
      (arn) =>
        ctx.state.targetGroups.get(arn)?.targets.get(instance.instanceId)?.state === "unhealthy",
    );
    if (failing) {
      instance.healthStatus = "Unhealthy";
      extra.unhealthyBy = "ELB";
    }
  }
}

function replaceUnhealthy(ctx: SandboxContext, group: AutoScalingGroup): void {
  if (isSuspended(group, "ReplaceUnhealthy") || isSuspended(group, "Terminate")) return;
  for (const instance of activeInstances(group)) {
    if (instance.healthStatus !== "Unhealthy") continue;
    const now = awsTime(ctx.clock.now());
    const cause =
      instanceExtra(instance).unhealthyBy === "ELB"
        ? `At ${now} an instance was taken out of service in response to an ELB system health check failure.`
        : `At ${now} an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.`;
    beginTermination(ctx, group, instance, cause);
  }
}

function selectedCause(ctx: SandboxContext, cause: string, instance: AsgInstance): string {
  return `${cause}  At ${awsTime(ctx.clock.now())} instance ${instance.instanceId} was selected for termination.`;
}

/** Subnets the group launches into: its VPCZoneIdentifier, else the default VPC's per zone. */
function groupSubnets(ctx: SandboxContext, group: AutoScalingGroup): string[] {
  const listed = group.vpcZoneIdentifier.split(",").filter((s) => s !== "");
  if (listed.length > 0) return listed;
  const defaultVpcs = new Set(
    [...ctx.state.vpcs.values()].filter((v) => v.isDefault).map((v) => v.vpcId),
  );
  const byZone = new Map<string, string>();
  for (const subnet of ctx.state.subnets.values()) {
    if (
      !defaultVpcs.has(subnet.vpcId) ||
      !group.availabilityZones.includes(subnet.availabilityZone)
    ) {
      continue;
    }
    if (!byZone.has(subnet.availabilityZone)) byZone.set(subnet.availabilityZone, subnet.subnetId);
  }
  return [...byZone.values()];
}

function launchMissing(ctx: SandboxContext, group: AutoScalingGroup, active: number): void {
  const extra = groupExtra(group);
  if (ctx.clock.now() < extra.nextLaunchAt) return;
  const subnets = groupSubnets(ctx, group);
  const perZone = new Map<string, number>();
  const perSubnet = new Map<string, number>();
  for (const instance of activeInstances(group)) {
    perZone.set(instance.availabilityZone, (perZone.get(instance.availabilityZone) ?? 0) + 1);
    const subnetId = ctx.state.instances.get(instance.instanceId)?.subnetId ?? "";
    perSubnet.set(subnetId, (perSubnet.get(subnetId) ?? 0) + 1);
  }
  const cause = capacityCause(ctx, group, active, group.desiredCapacity);
  const tags: Record<string, string> = {};
  for (const tag of group.tags) if (tag.PropagateAtLaunch) tags[tag.Key] = tag.Value;
  tags["aws:autoscaling:groupName"] = group.name;

  for (let n = active; n < group.desiredCapacity; n++) {
    const subnetId = pickSubnet(ctx, subnets, perZone, perSubnet);
    try {
      if (!subnetId) {
        throw new AwsError(
          "InvalidSubnetID.NotFound",
          "No subnet of the group's VPCZoneIdentifier or Availability Zones exists",
        );
      }
      const ec2 = launchInstance(ctx, { launchTemplate: group.launchTemplate, subnetId, tags });
      const instance: AsgInstance = {
        instanceId: ec2.instanceId,
        availabilityZone: ec2.availabilityZone,
        lifecycleState: "Pending",
        healthStatus: "Healthy",
        launchTemplate: {
          LaunchTemplateId: ec2.launchTemplate?.id ?? group.launchTemplate.LaunchTemplateId ?? "",
          LaunchTemplateName:
            ec2.launchTemplate?.name ?? group.launchTemplate.LaunchTemplateName ?? "",
          Version: group.launchTemplate.Version ?? "$Default",
        },
        instanceType: ec2.instanceType,
        protectedFromScaleIn: group.newInstancesProtectedFromScaleIn,
        launchedAt: ctx.clock.now(),
      };
      group.instances.set(instance.instanceId, instance);
      perZone.set(ec2.availabilityZone, (perZone.get(ec2.availabilityZone) ?? 0) + 1);
      perSubnet.set(subnetId, (perSubnet.get(subnetId) ?? 0) + 1);
      instanceExtra(instance).launchActivity = startActivity(ctx, group, {
        description: `Launching a new EC2 instance: ${instance.instanceId}`,
        cause,
        progress: 20,
        details: JSON.stringify({
          "Subnet ID": subnetId,
          "Availability Zone": ec2.availabilityZone,
        }),
      });
      extra.launchFailures = 0;
      extra.capacityCause = undefined;
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      recordLaunchFailure(ctx, group, cause, error, subnetId);
      return;
    }
  }
}

function pickSubnet(
  ctx: SandboxContext,
  subnets: string[],
  perZone: Map<string, number>,
  perSubnet: Map<string, number>,
): string | undefined {
  let best: string | undefined;
  let bestKey: [number, number] = [Infinity, Infinity];
  for (const id of subnets) {
    const zone = ctx.state.subnets.get(id)?.availabilityZone ?? "";
    const key: [number, number] = [perZone.get(zone) ?? 0, perSubnet.get(id) ?? 0];
    if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
      best = id;
      bestKey = key;
    }
  }
  return best;
}

/** A failed launch: a Failed activity with EC2's reason, and the next attempt backed off. */
function recordLaunchFailure(
  ctx: SandboxContext,
  group: AutoScalingGroup,
  cause: string,
  error: AwsError,
  subnetId: string | undefined,
): void {
  const extra = groupExtra(group);
  const message = `${error.message.replace(/\.$/, "")}. Launching EC2 instance failed.`;
  const activity = startActivity(ctx, group, {
    description: `Launching a new EC2 instance.  Status Reason: ${message}`,
    cause,
    details: JSON.stringify(subnetId ? { "Subnet ID": subnetId } : {}),
  });
  finishActivity(ctx, activity, "Failed", message);
  extra.launchFailures += 1;
  const wait = Math.min(FIRST_RETRY_SECONDS * 2 ** (extra.launchFailures - 1), MAX_RETRY_SECONDS);
  extra.nextLaunchAt = ctx.clock.now() + ctx.clock.ms(wait);
}

function terminateExtra(ctx: SandboxContext, group: AutoScalingGroup, active: number): void {
  const chosen = chooseForScaleIn(ctx, group, active - group.desiredCapacity);
  if (chosen.length === 0) return;
  const cause = capacityCause(ctx, group, active, group.desiredCapacity);
  for (const instance of chosen) {
    beginTermination(ctx, group, instance, selectedCause(ctx, cause, instance));
  }
  groupExtra(group).capacityCause = undefined;
}

/** The instances a scale-in of `count` removes, in the order the default policy picks them. */
export function chooseForScaleIn(
  ctx: SandboxContext,
  group: AutoScalingGroup,
  count: number,
): AsgInstance[] {
  const active = activeInstances(group);
  const perZone = new Map<string, number>();
  for (const i of active)
    perZone.set(i.availabilityZone, (perZone.get(i.availabilityZone) ?? 0) + 1);
  const current = currentLaunchTemplate(ctx, group);
  const outdated = (i: AsgInstance): number => {
    const lt = ctx.state.instances.get(i.instanceId)?.launchTemplate;
    if (!current || !lt) return 0;
    return lt.id === current.id && lt.version === current.version ? 0 : 1;
  };
  const newestFirst = group.terminationPolicies.includes("NewestInstance");
  const candidates = active.filter((i) => !i.protectedFromScaleIn);
  const chosen: AsgInstance[] = [];
  while (chosen.length < count && candidates.length > 0) {
    candidates.sort(
      (a, b) =>
        (perZone.get(b.availabilityZone) ?? 0) - (perZone.get(a.availabilityZone) ?? 0) ||
        outdated(b) - outdated(a) ||
        (newestFirst ? b.launchedAt - a.launchedAt : a.launchedAt - b.launchedAt),
    );
    const next = candidates.shift()!;
    chosen.push(next);
    perZone.set(next.availabilityZone, (perZone.get(next.availabilityZone) ?? 1) - 1);
  }
  return chosen;
}

function currentLaunchTemplate(
  ctx: SandboxContext,
  group: AutoScalingGroup,
): { id: string; version: string } | undefined {
  try {
    const lt = resolveLaunchTemplate(ctx.state, group.launchTemplate);
    return { id: lt.id, version: String(lt.version.versionNumber) };
  } catch {
    return undefined;
  }
}

/**
 * Takes an instance out of service: `Terminating`, deregistered from the attached target
 * groups (draining), recorded as an activity. The reconciler terminates it in EC2 once drained.
 */
export function beginTermination(
  ctx: SandboxContext,
  group: AutoScalingGroup,
  instance: AsgInstance,
  cause: string,
): Activity {
  const extra = instanceExtra(instance);
  if (instance.lifecycleState === "Terminating" && extra.terminateActivity) {
    return extra.terminateActivity;
  }
  instance.lifecycleState = "Terminating";
  if (extra.launchActivity?.statusCode === "InProgress") {
    finishActivity(ctx, extra.launchActivity);
  }
  const ec2 = ctx.state.instances.get(instance.instanceId);
  extra.terminateActivity = startActivity(ctx, group, {
    description: `Terminating EC2 instance: ${instance.instanceId}`,
    cause,
    progress: 20,
    details: JSON.stringify(
      ec2 ? { "Subnet ID": ec2.subnetId, "Availability Zone": ec2.availabilityZone } : {},
    ),
  });
  for (const arn of group.targetGroupArns) {
    const tg = ctx.state.targetGroups.get(arn);
    if (!tg?.targets.has(instance.instanceId)) continue;
    deregisterTargets(ctx, arn, [{ Id: instance.instanceId }]);
    extra.drainingIn.push(arn);
  }
  progressTermination(ctx, group, instance);
  return extra.terminateActivity;
}

function progressTermination(ctx: SandboxContext, group: AutoScalingGroup, instance: AsgInstance) {
  const extra = instanceExtra(instance);
  if (extra.terminationStarted) return;
  const draining =
    !extra.skipDraining &&
    extra.drainingIn.some((arn) =>
      ctx.state.targetGroups.get(arn)?.targets.has(instance.instanceId),
    );
  if (draining) return;
  extra.terminationStarted = true;
  if (extra.terminateActivity) extra.terminateActivity.progress = 60;
  const done = () => {
    instance.lifecycleState = "Terminated";
    group.instances.delete(instance.instanceId);
    if (extra.terminateActivity) finishActivity(ctx, extra.terminateActivity);
  };
  terminateInstance(ctx, instance.instanceId).then(done, done);
}
