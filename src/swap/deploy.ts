/**
 * deploy: preflight (read-only checks and the plan), then the lock, then the swap loop.
 * Every input problem is found before the first change, with a message naming what to change.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  describeAlarmStates,
  describeSecurityGroups,
  describeSubnets,
  describeTraffic,
  findGroupsByTags,
  findImage,
  headObject,
} from "../aws/index.js";
import type { AnalysisConfig, ServiceConfig } from "../core/config.js";
import { checkSteps } from "../core/config-schema.js";
import { formatWeights, sameWeights } from "../core/decide.js";
import { formatDuration } from "../core/duration.js";
import { InputError, LockError } from "../core/errors.js";
import { nextSequence, serverGroupNames } from "../core/names.js";
import { resolveRelease } from "../core/release-url.js";
import type { AnalysisPlan, SwapPlan } from "../core/swap-model.js";
import { TAG } from "../core/tags.js";
import { encodeUserData, userDataFor } from "../core/user-data.js";
import { currentOwner, describeHolder, readRecord, SwapLock, usedSequences } from "./record.js";
import {
  announceStart,
  type Gate,
  inFlight,
  runLocked,
  type SwapDeps,
  type SwapResult,
} from "./swap.js";
import { drainMs, FORWARD_ACTION_LIMIT, findLive, trafficTarget } from "./traffic.js";

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
  /** CloudWatch alarms checked during every bake, besides the service's `alarms` */
  alarms?: string[];
  /**
   * a plan confirmed earlier (`yard.plan(...)`, the wizard's): the swap runs exactly it, and is
   * refused with PLAN_CHANGED if the live group, blue or the release changed since
   */
  plan?: SwapPlan;
  /**
   * write the swap (lock and plan) and return at once, `in-flight`: `reconcile` passes (or
   * `resume`, or any process) drive it from its record
   */
  detach?: boolean;
}

export type { SwapDeps };

/** Read-only checks and the plan of a swap. Makes no change to AWS. */
export async function preflight(
  deps: Pick<SwapDeps, "clients" | "state">,
  service: ServiceConfig,
  options: DeployOptions,
  { checkLock = true }: { checkLock?: boolean } = {},
): Promise<SwapPlan> {
  const { clients } = deps;
  const fail = (message: string, hint?: string) =>
    new InputError("PREFLIGHT_FAILED", `${service.name}: ${message}`, { hint });
  const steps = checkSteps(options.steps ?? service.steps);
  const bakeMs = options.bakeMs ?? service.bake;
  if (!(bakeMs >= 0))
    throw new InputError("INVALID_INPUT", `bake must be a duration ≥ 0; got ${bakeMs}`);
  const release = resolveRelease(options.release, service.releases);
  const alarmNames = [...new Set([...service.alarms, ...(options.alarms ?? [])])];
  for (const name of alarmNames) {
    if (name.trim() === "" || name.length > 255) {
      throw new InputError(
        "INVALID_INPUT",
        `--alarm: expected an alarm name (1–255 characters); got ${JSON.stringify(name)}`,
      );
    }
  }

  // every read at once: one round trip
  const [object, traffic, groups, image, subnets, sgs, held, used, alarms] = await Promise.all([
    headObject(clients, release.bucket, release.key),
    describeTraffic(clients, trafficTarget(service)),
    findGroupsByTags(clients, { [TAG.app]: service.app, [TAG.env]: service.env }),
    findImage(clients, service.image),
    describeSubnets(clients, service.subnets),
    describeSecurityGroups(clients, service.securityGroups),
    checkLock ? readRecord(clients, deps.state, service.name) : undefined,
    usedSequences(clients, deps.state, service.name),
    alarmNames.length > 0 ? describeAlarmStates(clients, alarmNames) : undefined,
  ]);
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
  if (!object) {
    throw new InputError("RELEASE_NOT_FOUND", `release ${release.url} does not exist`, {
      hint: `push it first: \`switchyard release push <folder|file.tar.gz> --service ${service.name} --version ${release.version}\`; \`switchyard release list --service ${service.name}\` lists the ones pushed`,
      details: { release: release.url },
    });
  }
  if (!traffic) {
    throw fail(
      `listener ${service.ruleArn ?? service.listenerArn} does not exist`,
      "check listenerArn (and ruleArn) in the config",
    );
  }
  const managedTgs = new Set(groups.flatMap((g) => g.targetGroupArns));
  const unmanaged = traffic.targetGroups.filter((t) => !managedTgs.has(t.targetGroupArn));
  if (unmanaged.length > 0) {
    throw fail(
      `the listener forwards to target groups switchyard does not manage: ${unmanaged.map((t) => t.targetGroupArn).join(", ")}`,
      `adopt the group that serves it first: switchyard adopt ${service.name} --group <asg> (docs/recipes.md, 'Migrating a group switchyard did not create')`,
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
  if (!image) throw fail(`image ${service.image} does not exist`, "check `image` in the config");
  const missing = service.subnets.filter((id) => !subnets.some((s) => s.subnetId === id));
  if (missing.length)
    throw fail(`subnets not found: ${missing.join(", ")}`, "check `subnets` in the config");
  const otherVpc = subnets.filter((s) => s.vpcId !== service.vpcId);
  if (otherVpc.length) {
    throw fail(`subnets ${otherVpc.map((s) => s.subnetId).join(", ")} are not in ${service.vpcId}`);
  }
  const missingSg = service.securityGroups.filter((id) => !sgs.includes(id));
  if (missingSg.length) throw fail(`security groups not found: ${missingSg.join(", ")}`);
  if (alarms && alarms.missing.length > 0) {
    throw fail(
      `no CloudWatch alarm is named ${alarms.missing.join(", ")}`,
      "check `alarms` in the config (and --alarm): names are exact and case-sensitive, in the service's region",
    );
  }

  const sequence = nextSequence([...groups.map((g) => Number(g.tags[TAG.sequence] ?? 0)), ...used]);
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
    drainMs: drainMs(service),
    ...(alarmNames.length > 0
      ? { alarms: { names: alarmNames, unreadable: service.alarmsUnreadable } }
      : {}),
    ...(service.analysis ? { analysis: analysisPlan(service, service.analysis) } : {}),
  };
}

/** The judge's settings for a swap: the config's, mapped onto the judge's options. */
function analysisPlan(service: ServiceConfig, a: AnalysisConfig): AnalysisPlan {
  return {
    loadBalancer: loadBalancerOfListener(service.listenerArn),
    periodMs: service.metrics.period,
    lagMs: service.metrics.lag,
    maxExtensionMs: a.maxExtension,
    onInsufficientData: a.onInsufficientData,
    alpha: a.significance,
    minDifference: a.errorRate.maxIncrease,
    minRequests: a.minRequests,
    ...(a.latency
      ? {
          latency: {
            stat: a.latency.stat,
            ratio: a.latency.maxRatio,
            floorSeconds: a.latency.floorSeconds,
          },
        }
      : {}),
  };
}

/** `arn:…:listener/app/<name>/<id>/<listener id>` → `app/<name>/<id>`, the `LoadBalancer` dimension. */
export function loadBalancerOfListener(listenerArn: string): string {
  const tail = listenerArn.slice(listenerArn.indexOf(":listener/") + ":listener/".length);
  return tail.split("/").slice(0, 3).join("/");
}

/**
 * Takes the lock, then plans (the reads run while the lock is taken), then runs the swap to its
 * end. Another operation holding the service → LOCK_HELD (exit 3) before anything else; a plan
 * that fails its checks releases the lock (exit 2, nothing changed). With a confirmed `plan`
 * (the wizard's), a world that changed since it was made is refused with PLAN_CHANGED.
 */
export async function deploy(
  deps: SwapDeps,
  service: ServiceConfig,
  options: DeployOptions,
): Promise<SwapResult> {
  const now = new Date();
  const swapId = options.plan?.swapId ?? randomBytes(4).toString("hex");
  const [locked, planned] = await Promise.allSettled([
    SwapLock.acquire(deps.clients, deps.state, {
      version: 1,
      kind: "deploy",
      swapId,
      service: service.name,
      owner: currentOwner(),
      startedAt: now.toISOString(),
      heartbeatAt: now.toISOString(),
      cursor: { phase: "launching", stepIndex: -1, launchStartedAt: now.getTime() },
    }),
    preflight(
      deps,
      service,
      options.plan ? { ...options, release: options.plan.release.url } : options,
      { checkLock: false },
    ),
  ]);
  if (locked.status === "rejected") throw locked.reason;
  const lock = locked.value;
  try {
    if (planned.status === "rejected") throw planned.reason;
    const plan = options.plan
      ? confirmedPlan(options.plan, planned.value, swapId)
      : { ...planned.value, swapId };
    await lock.update({ plan, cursor: { launchStartedAt: Date.now() } });
  } catch (error) {
    await lock.close("cancelled").catch(() => lock.release());
    throw error;
  }
  deps.emit({ service: service.name, at: Date.now(), type: "lock.acquired", swapId });
  if (options.detach) {
    const plan = lock.record.plan!;
    announceStart(plan, false, deps.emit);
    await lock.detach();
    return inFlight(plan, now.getTime());
  }
  return runLocked(deps, service, lock, { gates: options.gates, resumed: false });
}

/** The confirmed plan, if the world still matches it; PLAN_CHANGED naming what changed. */
function confirmedPlan(confirmed: SwapPlan, fresh: SwapPlan, swapId: string): SwapPlan {
  const changes: string[] = [];
  if (confirmed.service !== fresh.service) changes.push(`it is a plan for ${confirmed.service}`);
  if (confirmed.release.url !== fresh.release.url) {
    changes.push(`the release is now ${fresh.release.url}`);
  }
  if ((confirmed.blue?.name ?? null) !== (fresh.blue?.name ?? null)) {
    changes.push(
      `the live group is now ${fresh.blue ? `${fresh.blue.name} (${fresh.blue.release})` : "none"}, not ${confirmed.blue ? `${confirmed.blue.name} (${confirmed.blue.release})` : "none"}`,
    );
  } else if (confirmed.blue && fresh.blue && confirmed.blue.release !== fresh.blue.release) {
    changes.push(`blue ${fresh.blue.name} now runs ${fresh.blue.release}`);
  }
  if (!sameWeights(confirmed.originalTargetGroups, fresh.originalTargetGroups)) {
    changes.push(
      `the listener now forwards ${formatWeights(fresh.originalTargetGroups)}, not ${formatWeights(confirmed.originalTargetGroups)}`,
    );
  }
  if (confirmed.green.name !== fresh.green.name) {
    changes.push(`the next group is now ${fresh.green.name}, not ${confirmed.green.name}`);
  }
  if (changes.length > 0) {
    throw new InputError(
      "PLAN_CHANGED",
      `${confirmed.service}: the world changed since the plan was made: ${changes.join("; ")}`,
      { hint: "review the new plan and confirm it again", details: { changes } },
    );
  }
  return { ...confirmed, swapId };
}

/** A difference of rates as percentage points: `1 point`, `0.5 points`. */
function points(fraction: number): string {
  const n = +(fraction * 100).toFixed(3);
  return `${n} point${n === 1 ? "" : "s"}`;
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
  if (plan.alarms) {
    lines.push(
      `alarms       ${plan.alarms.names.join(", ")} (read during every bake; ALARM rolls back${plan.alarms.unreadable === "ignore" ? "; unreadable ignored" : ""})`,
    );
  }
  const a = plan.analysis;
  if (a) {
    const latency = a.latency
      ? `, ${a.latency.stat} at most ${a.latency.ratio}× blue's + ${Math.round(a.latency.floorSeconds * 1000)}ms`
      : "";
    lines.push(
      plan.blue
        ? `analysis     green vs blue at each step below 100%: 5xx rate at most ${points(a.minDifference)} above blue's (α ${a.alpha})${latency}; at least ${a.minRequests} requests each, else the bake is extended up to ${formatDuration(a.maxExtensionMs)}, then ${a.onInsufficientData}`
        : "analysis     none: a first deploy has no blue to compare with",
    );
  }
  return lines;
}
