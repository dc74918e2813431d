/**
 * Operations that cross services, in one place (as moto's ASG backend calls its ELBv2
 * backend): launching and terminating instances, registering targets, and the question of
 * whether a listener references a target group.
 */
import type { SandboxContext } from "./context.js";
import { AwsError } from "./protocol/errors.js";
import type { Action, Instance, LaunchTemplateVersion, SandboxState, Target } from "./state.js";
import { newId } from "./state.js";

let nextIp = 10;

export interface LaunchRequest {
  launchTemplate: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string };
  subnetId: string;
  tags: Record<string, string>;
}

/** Resolves a launch template version (`$Default`, `$Latest` or a number), as EC2 does. */
export function resolveLaunchTemplate(
  state: SandboxState,
  ref: LaunchRequest["launchTemplate"],
): { id: string; name: string; version: LaunchTemplateVersion } {
  const template = ref.LaunchTemplateId
    ? state.launchTemplates.get(ref.LaunchTemplateId)
    : [...state.launchTemplates.values()].find((t) => t.name === ref.LaunchTemplateName);
  if (!template) {
    const what = ref.LaunchTemplateId ?? ref.LaunchTemplateName ?? "(none)";
    throw new AwsError(
      ref.LaunchTemplateId
        ? "InvalidLaunchTemplateId.NotFound"
        : "InvalidLaunchTemplateName.NotFoundException",
      `The specified launch template, with template ${ref.LaunchTemplateId ? "ID" : "name"} ${what}, does not exist.`,
    );
  }
  const wanted = ref.Version ?? "$Default";
  const number =
    wanted === "$Latest"
      ? template.latestVersion
      : wanted === "$Default"
        ? template.defaultVersion
        : Number(wanted);
  const version = template.versions.find((v) => v.versionNumber === number);
  if (!version) {
    throw new AwsError(
      "InvalidLaunchTemplateId.VersionNotFound",
      `The specified launch template version ${wanted} does not exist for launch template ${template.id}.`,
    );
  }
  return { id: template.id, name: template.name, version };
}

/**
 * Launches one instance from a launch template into a subnet. Throws the AwsError EC2 would
 * (missing template, version or image) so the caller can record a failed scaling activity.
 */
export function launchInstance(ctx: SandboxContext, req: LaunchRequest): Instance {
  const { state } = ctx;
  const lt = resolveLaunchTemplate(state, req.launchTemplate);
  const imageId = lt.version.data.imageId;
  if (!imageId || !state.images.has(imageId)) {
    throw new AwsError("InvalidAMIID.NotFound", `The image id '[${imageId ?? ""}]' does not exist`);
  }
  const subnet = state.subnets.get(req.subnetId);
  if (!subnet) {
    throw new AwsError(
      "InvalidSubnetID.NotFound",
      `The subnet ID '${req.subnetId}' does not exist`,
    );
  }
  nextIp = (nextIp % 250) + 1;
  const instance: Instance = {
    instanceId: newId("i"),
    imageId,
    instanceType: lt.version.data.instanceType ?? "t3.micro",
    subnetId: subnet.subnetId,
    vpcId: subnet.vpcId,
    availabilityZone: subnet.availabilityZone,
    privateIpAddress: `${subnet.cidrBlock.split(".").slice(0, 3).join(".")}.${nextIp}`,
    state: "pending",
    launchTime: new Date(ctx.clock.now()),
    launchTemplate: { id: lt.id, name: lt.name, version: String(lt.version.versionNumber) },
    userData: lt.version.data.userData,
    tags: { ...req.tags },
    hostPort: 0,
  };
  state.instances.set(instance.instanceId, instance);
  ctx.clock.after(ctx.settings.bootSeconds, () => {
    if (instance.state !== "pending") return;
    instance.state = "running";
    ctx.runtime.startInstance(instance);
  });
  return instance;
}

export async function terminateInstance(ctx: SandboxContext, instanceId: string): Promise<void> {
  const instance = ctx.state.instances.get(instanceId);
  if (!instance || instance.state === "terminated" || instance.state === "shutting-down") return;
  instance.state = "shutting-down";
  for (const tg of ctx.state.targetGroups.values()) {
    if (tg.targets.has(instanceId)) deregisterTargets(ctx, tg.arn, [{ Id: instanceId }]);
  }
  await ctx.runtime.stopInstance(instance);
  instance.state = "terminated";
  instance.terminatedAt = ctx.clock.now();
}

export function registerTargets(
  ctx: SandboxContext,
  targetGroupArn: string,
  targets: Array<{ Id: string; Port?: number }>,
): void {
  const tg = ctx.state.targetGroups.get(targetGroupArn);
  if (!tg) throw targetGroupNotFound(targetGroupArn);
  const inUse = isTargetGroupInUse(ctx.state, tg.arn);
  for (const t of targets) {
    const instance = ctx.state.instances.get(t.Id);
    if (!instance || instance.state === "terminated" || instance.state === "shutting-down") {
      throw new AwsError(
        "InvalidTarget",
        `The following targets are not in a running state and cannot be registered: '${t.Id}'`,
      );
    }
    const existing = tg.targets.get(t.Id);
    if (existing && existing.state !== "draining") continue;
    const target: Target = {
      id: t.Id,
      port: t.Port ?? tg.port,
      state: inUse ? "initial" : "unused",
      reason: inUse ? "Elb.RegistrationInProgress" : "Target.NotInUse",
      description: inUse
        ? "Target registration is in progress"
        : "Target group is not configured to receive traffic from the load balancer",
      okStreak: 0,
      failStreak: 0,
      registeredAt: ctx.clock.now(),
    };
    tg.targets.set(t.Id, target);
  }
}

export function deregisterTargets(
  ctx: SandboxContext,
  targetGroupArn: string,
  targets: Array<{ Id: string; Port?: number }>,
): void {
  const tg = ctx.state.targetGroups.get(targetGroupArn);
  if (!tg) throw targetGroupNotFound(targetGroupArn);
  const delay = Number(tg.attributes["deregistration_delay.timeout_seconds"] ?? "300");
  for (const t of targets) {
    const target = tg.targets.get(t.Id);
    if (!target || target.state === "draining") continue;
    if (target.state === "unused" || delay === 0) {
      tg.targets.delete(t.Id);
      continue;
    }
    target.state = "draining";
    target.reason = "Target.DeregistrationInProgress";
    target.description = "Target deregistration is in progress";
    target.drainUntil = ctx.clock.now() + ctx.clock.ms(delay);
    ctx.clock.after(delay, () => {
      if (tg.targets.get(t.Id) === target && target.state === "draining") tg.targets.delete(t.Id);
    });
  }
}

export function targetGroupNotFound(arn: string): AwsError {
  return new AwsError("TargetGroupNotFound", `Target groups '${arn}' not found`);
}

/** Target group ARNs a forward action sends to (its weights aside). */
export function forwardTargetGroupArns(action: Action): string[] {
  if (action.Type !== "forward") return [];
  if (action.ForwardConfig) return action.ForwardConfig.TargetGroups.map((t) => t.TargetGroupArn);
  return action.TargetGroupArn ? [action.TargetGroupArn] : [];
}

/** Whether any listener's default actions or any rule reference the target group. */
export function isTargetGroupInUse(state: SandboxState, targetGroupArn: string): boolean {
  for (const listener of state.listeners.values()) {
    if (listener.defaultActions.some((a) => forwardTargetGroupArns(a).includes(targetGroupArn))) {
      return true;
    }
  }
  for (const rule of state.rules.values()) {
    if (rule.actions.some((a) => forwardTargetGroupArns(a).includes(targetGroupArn))) return true;
  }
  return false;
}

/** The load balancer a target group is attached to through a listener or rule, if any. */
export function loadBalancerOfTargetGroup(
  state: SandboxState,
  targetGroupArn: string,
): string | undefined {
  for (const listener of state.listeners.values()) {
    const rules = [...state.rules.values()].filter((r) => r.listenerArn === listener.arn);
    const actions = [...listener.defaultActions, ...rules.flatMap((r) => r.actions)];
    if (actions.some((a) => forwardTargetGroupArns(a).includes(targetGroupArn))) {
      return listener.loadBalancerArn;
    }
  }
  return undefined;
}
