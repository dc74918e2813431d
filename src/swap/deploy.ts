/**
 * deploy: preflight (read-only checks and the plan), then the lock, then the swap loop.
 * Every input problem is found before the first change, with a message naming what to change.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  type Clients,
  describeSecurityGroups,
  describeSubnets,
  describeTraffic,
  findGroupsByTags,
  findImage,
  headObject,
} from "../aws/index.js";
import type { ServiceConfig } from "../core/config.js";
import { stepsProblem } from "../core/config-schema.js";
import { effectiveSteps } from "../core/decide.js";
import { formatDuration } from "../core/duration.js";
import { InputError, LockError } from "../core/errors.js";
import type { EventSink } from "../core/events.js";
import { nextSequence, serverGroupNames } from "../core/names.js";
import { resolveRelease } from "../core/release-url.js";
import type { SwapPlan } from "../core/swap-model.js";
import { TAG } from "../core/tags.js";
import { encodeUserData, userDataFor } from "../core/user-data.js";
import { type Gate, runSwap, type SwapControl, type SwapResult } from "./loop.js";
import {
  currentOwner,
  describeHolder,
  readRecord,
  type StateLocation,
  SwapLock,
  usedSequences,
} from "./record.js";
import { FORWARD_ACTION_LIMIT, findLive, trafficTarget } from "./traffic.js";

export interface DeployOptions {
  /** a release URL (`s3://…/r42.tar.gz`) or a bare version resolved under the service's `releases` */
  release: string;
  /** overrides the configured steps: percent on green, increasing, ending at 100 */
  steps?: number[];
  /** overrides the configured bake, in ms */
  bakeMs?: number;
  /** false turns stickiness off for this swap */
  stickiness?: boolean;
  /** keep a failed green group (tagged `failed`) instead of deleting it */
  keepFailed?: boolean;
  gates?: Gate[];
  /** lets an operator hold or promote each step while the swap runs (ignored by `plan`) */
  control?: SwapControl;
}

export interface SwapDeps {
  clients: Clients;
  state: StateLocation;
  emit: EventSink;
  pollIntervalMs: number;
  heartbeatMs: number;
  signal?: AbortSignal;
}

/** Checks steps given on the command line or by a script, with the config file's own rule. */
export function checkSteps(steps: number[]): number[] {
  const problem = stepsProblem(steps);
  if (problem) {
    throw new InputError(
      "INVALID_INPUT",
      problem.startsWith("steps ") ? problem : `steps ${steps.join(",")}: ${problem}`,
      { hint: "pass e.g. --steps 5,25,50,100", details: { steps } },
    );
  }
  return steps;
}

/** Read-only checks and the plan of a swap. Makes no change to AWS. */
export async function preflight(
  deps: Pick<SwapDeps, "clients" | "state">,
  service: ServiceConfig,
  options: DeployOptions,
): Promise<SwapPlan> {
  const { clients } = deps;
  const fail = (message: string, hint?: string) =>
    new InputError("PREFLIGHT_FAILED", `${service.name}: ${message}`, { hint });
  const steps = checkSteps(options.steps ?? service.steps);
  const bakeMs = options.bakeMs ?? service.bake;
  if (!(bakeMs >= 0))
    throw new InputError("INVALID_INPUT", `bake must be a duration ≥ 0; got ${bakeMs}`);

  const release = resolveRelease(options.release, service.releases);
  const object = await headObject(clients, release.bucket, release.key);
  if (!object) {
    throw new InputError("RELEASE_NOT_FOUND", `release ${release.url} does not exist`, {
      hint: `push it first (switchyard release push --service ${service.name} --version ${release.version}) or check the URL`,
      details: { release: release.url },
    });
  }

  const traffic = await describeTraffic(clients, trafficTarget(service));
  if (!traffic) {
    throw fail(
      `listener ${service.ruleArn ?? service.listenerArn} does not exist`,
      "check listenerArn (and ruleArn) in the config",
    );
  }
  const groups = await findGroupsByTags(clients, {
    [TAG.app]: service.app,
    [TAG.env]: service.env,
  });
  const managedTgs = new Set(groups.flatMap((g) => g.targetGroupArns));
  const unmanaged = traffic.targetGroups.filter((t) => !managedTgs.has(t.targetGroupArn));
  if (unmanaged.length > 0) {
    throw fail(
      `the listener forwards to target groups switchyard does not manage: ${unmanaged.map((t) => t.targetGroupArn).join(", ")}`,
      "see docs/recipes.md, 'Migrating a group switchyard did not create'",
    );
  }
  const carrying = traffic.targetGroups.filter((t) => t.weight > 0);
  if (carrying.length > 1) {
    throw fail(
      `traffic is split between ${carrying.length} target groups (a swap was interrupted?)`,
      `run \`switchyard status ${service.name}\`, then \`switchyard resume ${service.name}\` or \`rollback\``,
    );
  }
  if (traffic.forwarding && traffic.targetGroups.length + 1 > FORWARD_ACTION_LIMIT) {
    throw fail(
      `the forward action already holds ${traffic.targetGroups.length} target groups and ALB allows ${FORWARD_ACTION_LIMIT}`,
      `retire old groups first: switchyard retire ${service.name}`,
    );
  }
  const live = findLive(groups, traffic.targetGroups);
  if (traffic.forwarding && !live) {
    throw fail("the listener forwards, but to no managed group with weight > 0");
  }

  const image = await findImage(clients, service.image);
  if (!image) throw fail(`image ${service.image} does not exist`, "check `image` in the config");
  const subnets = await describeSubnets(clients, service.subnets);
  const missing = service.subnets.filter((id) => !subnets.some((s) => s.subnetId === id));
  if (missing.length)
    throw fail(`subnets not found: ${missing.join(", ")}`, "check `subnets` in the config");
  const otherVpc = subnets.filter((s) => s.vpcId !== service.vpcId);
  if (otherVpc.length) {
    throw fail(`subnets ${otherVpc.map((s) => s.subnetId).join(", ")} are not in ${service.vpcId}`);
  }
  const sgs = await describeSecurityGroups(clients, service.securityGroups);
  const missingSg = service.securityGroups.filter((id) => !sgs.includes(id));
  if (missingSg.length) throw fail(`security groups not found: ${missingSg.join(", ")}`);

  const held = await readRecord(clients, deps.state, service.name);
  if (held) {
    throw new LockError(
      "LOCK_HELD",
      `${service.name} is locked by ${describeHolder(held.record)}`,
      {
        hint: `wait for it, or \`switchyard resume ${service.name}\` if its process is gone`,
        details: { swapId: held.record.swapId, owner: held.record.owner },
      },
    );
  }

  const sequence = nextSequence([
    ...groups.map((g) => Number(g.tags[TAG.sequence] ?? 0)),
    ...(await usedSequences(clients, deps.state, service.name)),
  ]);
  const names = serverGroupNames(service.name, sequence);
  const template = service.userData
    ? { text: await readFile(service.userData, "utf8"), source: service.userData }
    : undefined;
  const userData = encodeUserData(
    userDataFor(
      {
        releaseUrl: release.url,
        service: service.name,
        app: service.app,
        env: service.env,
        group: names.autoScalingGroup,
        version: release.version,
        port: service.targetGroup.port,
      },
      template,
    ),
  );
  const stickiness =
    options.stickiness === false || service.stickiness === false ? 0 : service.stickiness;
  const hc = service.targetGroup.healthCheck;
  return {
    swapId: randomBytes(4).toString("hex"),
    service: service.name,
    app: service.app,
    env: service.env,
    release: { url: release.url, version: release.version },
    green: {
      name: names.autoScalingGroup,
      sequence,
      targetGroupName: names.targetGroup,
      launchTemplateName: names.launchTemplate,
    },
    blue: live
      ? {
          name: live.name,
          targetGroupArn: live.targetGroupArns[0]!,
          release: live.tags[TAG.release] ?? "",
          suspended: live.suspended,
        }
      : null,
    originalTargetGroups: traffic.targetGroups,
    capacity: live ? { ...live.capacity } : { ...service.capacity },
    steps,
    bakeMs,
    healthyTimeoutMs: service.healthyTimeout,
    stickinessSeconds: Math.round(stickiness / 1000),
    keepFailed: options.keepFailed ?? false,
    gates: (options.gates ?? []).map((g) => g.name),
    originalActions: traffic.actions,
    launch: {
      imageId: image.imageId,
      instanceType: service.instanceType,
      securityGroupIds: service.securityGroups,
      instanceProfile: service.instanceProfile,
      userData,
      vpcId: service.vpcId,
      subnets: service.subnets,
      // long enough for a boot and a few health checks before ELB health can replace an instance
      healthCheckGracePeriodSeconds: Math.max(60, hc.intervalSeconds * (hc.healthyThreshold + 2)),
      targetGroup: service.targetGroup,
    },
  };
}

/** Takes the lock and runs the swap to its end. */
export async function deploy(
  deps: SwapDeps,
  service: ServiceConfig,
  options: DeployOptions,
): Promise<SwapResult> {
  const plan = await preflight(deps, service, options);
  const now = new Date();
  const lock = await SwapLock.acquire(deps.clients, deps.state, {
    version: 1,
    swapId: plan.swapId,
    service: plan.service,
    owner: currentOwner(),
    startedAt: now.toISOString(),
    heartbeatAt: now.toISOString(),
    plan,
    cursor: { phase: "launching", stepIndex: -1, launchStartedAt: now.getTime() },
  });
  deps.emit({ service: plan.service, at: Date.now(), type: "lock.acquired", swapId: plan.swapId });
  return runLocked(deps, service, lock, {
    gates: options.gates,
    control: options.control,
    resumed: false,
  });
}

/** Announces a swap whose lock is held (new or adopted by resume) and runs it to its end. */
export function runLocked(
  deps: SwapDeps,
  service: ServiceConfig,
  lock: SwapLock,
  options: { gates?: Gate[]; control?: SwapControl; resumed: boolean },
): Promise<SwapResult> {
  const plan = lock.record.plan;
  deps.emit({
    service: plan.service,
    at: Date.now(),
    type: "swap.started",
    swapId: plan.swapId,
    release: plan.release.url,
    green: plan.green.name,
    blue: plan.blue?.name ?? null,
    steps: effectiveSteps(plan),
    resumed: options.resumed,
  });
  return runSwap({
    clients: deps.clients,
    traffic: trafficTarget(service),
    lock,
    emit: deps.emit,
    gates: options.gates ?? [],
    pollIntervalMs: deps.pollIntervalMs,
    heartbeatMs: deps.heartbeatMs,
    signal: deps.signal,
    control: options.control,
  });
}

/** A plan as words, for `deploy --dry-run` and the wizard. */
export function describePlan(plan: SwapPlan): string[] {
  const lines = [
    `service      ${plan.service}`,
    `release      ${plan.release.url}`,
    `green        ${plan.green.name} (target group ${plan.green.targetGroupName})`,
    `blue         ${plan.blue ? `${plan.blue.name} (${plan.blue.release})` : "none: first deploy, the listener is pointed at green once it is healthy"}`,
    `image        ${plan.launch.imageId} ${plan.launch.instanceType}`,
    `capacity     min ${plan.capacity.min} / desired ${plan.capacity.desired} / max ${plan.capacity.max}`,
    `steps        ${(plan.blue ? plan.steps : [100]).map((s) => `${s}%`).join(" → ")}, bake ${formatDuration(plan.bakeMs)} each`,
    `healthy by   ${formatDuration(plan.healthyTimeoutMs)}`,
    `stickiness   ${plan.stickinessSeconds ? formatDuration(plan.stickinessSeconds * 1000) : "off"}`,
  ];
  if (plan.gates.length) lines.push(`gates        ${plan.gates.join(", ")}`);
  return lines;
}
