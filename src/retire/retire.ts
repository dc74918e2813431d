/**
 * The retire executor: observe each service, ask the policy (policy.ts) what to retire, then
 * delete it. Per service, in order:
 *
 * 1. read the swap record (the lock), the listener and the managed groups; decide;
 * 2. just before the first change, take the service's lock (a swap or rollback that holds it
 *    wins: the service is skipped); it is held until the service is done;
 * 3. one ModifyListener (or ModifyRule) taking every retired target group that is still in the
 *    forward action at weight 0 out of it, the rest of the action unchanged; a group whose
 *    target group carries traffic by now is skipped instead; then a wait for the change to
 *    reach the load balancer and for the deregistration delay, before any group is deleted;
 * 4. per retired group: delete the Auto Scaling group (ForceDelete), wait until it is gone,
 *    then delete its target group and launch template;
 * 5. the orphan sweep (orphans.ts): target groups and launch templates of this service whose
 *    Auto Scaling group is gone are deleted, once the lock is read again and found free.
 *
 * Every step finds work already done and does nothing, so a second run with nothing to retire
 * makes no mutating call, and a run cut short is finished by the next one. One failure does not
 * stop the others: it lands in `skipped` with its reason and sets `failed`.
 */
import { randomBytes } from "node:crypto";
import {
  type Clients,
  deleteGroup,
  deleteLaunchTemplate,
  deleteTargetGroup,
  describeGroup,
  describeTraffic,
  errorName,
  findGroupsByTags,
  findLaunchTemplateId,
  findTargetGroupArn,
  type ManagedGroup,
  setActions,
  withoutTargetGroups,
} from "../aws/index.js";
import { type ResolvedConfig, type ServiceConfig, serviceConfig } from "../core/config.js";
import { parseDuration } from "../core/duration.js";
import { InputError, isSwitchyardError } from "../core/errors.js";
import type { EventSink } from "../core/events.js";
import { type ServerGroupNames, serverGroupNames } from "../core/names.js";
import { TAG } from "../core/tags.js";
import {
  currentOwner,
  describeHolder,
  readRecord,
  type StateLocation,
  SwapLock,
} from "../swap/record.js";
import { drainMs, trafficTarget } from "../swap/traffic.js";
import { sleep, waitFor } from "../swap/wait.js";
import { findOrphans, type Orphan, type OrphanPart } from "./orphans.js";
import { decideRetire, type FleetGroup, type RetireDecision, type RetirePolicy } from "./policy.js";

export interface RetireOptions {
  /** service names, or "all" (the default) for every service in the config */
  services?: string[] | "all";
  /** overrides each service's `retire.keep` */
  keep?: number;
  /** overrides each service's `retire.minAge`: a duration (`24h`, `90m`) or a number of seconds */
  minAge?: string | number;
  /** decide and report, change nothing; `deleted` lists what would be deleted */
  dryRun?: boolean;
  signal?: AbortSignal;
  onEvent?: EventSink;
  /** how long one Auto Scaling group may take to be deleted (default 10 minutes) */
  deleteTimeoutMs?: number;
}

/** The contract's retire report, plus `failed`. */
export interface RetireReport {
  dryRun: boolean;
  /** deleted groups (with dryRun: the groups that would be deleted) */
  deleted: string[];
  kept: string[];
  /** groups left alone by a rule (swap in flight, no live group, …) or whose deletion failed */
  skipped: Array<{ name: string; reason: string }>;
  /**
   * orphaned target groups and launch templates (their Auto Scaling group is gone) that were
   * deleted; with dryRun, those that would be. Additive to the contract's shape; optional in
   * the type only so reports built by hand stay valid: `retire` always sets it.
   */
  orphans: Orphan[];
  /** whether any deletion (or a service's observation) failed, or the run was cancelled */
  failed: boolean;
  /** services left alone because another operation (a swap, a rollback) held their lock */
  locked?: string[];
}

export interface RetireDeps {
  clients: Clients;
  state: StateLocation;
  emit: EventSink;
  /** how often a deletion is polled for (first poll; it backs off) */
  pollIntervalMs: number;
  signal?: AbortSignal;
  now?: () => number;
}

/** A group the policy retires, as observed. */
export interface RetireTarget {
  name: string;
  sequence: number;
  targetGroupArns: string[];
  launchTemplateId?: string | undefined;
  deleting: boolean;
}

/** What was observed and decided for one service. */
export interface ServiceRetirePlan {
  service: string;
  decisions: RetireDecision[];
  targets: RetireTarget[];
  /** who held the swap record when the service was observed; then nothing is changed */
  swapInFlight?: string | undefined;
  /** why the service could not be observed; then it has no decisions */
  error?: string;
}

/** The changes the executor makes; the real ones talk to AWS (`awsRetireEffects`). */
export interface RetireEffects {
  /**
   * Takes the service's swap record for this run (or finds it already taken by this run):
   * undefined when held, else who holds it.
   */
  lock(service: string): Promise<string | undefined>;
  /** Lets go of the service's swap record, if this run took it. */
  unlock(service: string): Promise<void>;
  /**
   * Takes these target groups out of the service's forward action in one change. Returns those
   * that carry traffic by now (weight > 0) and were left in.
   */
  unlist(service: string, targetGroupArns: string[]): Promise<Map<string, number>>;
  /** Deletes the group, waits until it is gone, then deletes its target group and launch template. */
  deleteGroup(service: string, target: RetireTarget): Promise<void>;
  /** The service's orphaned target groups and launch templates (reads only). */
  findOrphans(service: string): Promise<OrphanPart[]>;
  /**
   * Deletes one orphaned part. Returns why it was left alone (in use), or undefined when it is
   * deleted (or already gone); throws when the deletion failed.
   */
  deleteOrphan(service: string, part: OrphanPart): Promise<string | undefined>;
}

const DELETE_CONCURRENCY = 4;
const DEFAULT_DELETE_TIMEOUT_MS = 10 * 60_000;

function invalid(message: string, hint: string): InputError {
  return new InputError("INVALID_INPUT", message, { hint });
}

/** The services and per-service policies a run covers; throws before any AWS call. */
export function resolveRetireTargets(
  config: ResolvedConfig,
  options: Pick<RetireOptions, "services" | "keep" | "minAge">,
): Array<{ service: ServiceConfig; policy: RetirePolicy }> {
  const names =
    options.services === undefined || options.services === "all"
      ? Object.keys(config.services)
      : options.services;
  if (names.length === 0) {
    throw invalid("retire needs at least one service", 'name services, or pass services: "all"');
  }
  const services = [...new Set(names)].map((name) => serviceConfig(config, name));
  if (options.keep !== undefined && !(Number.isSafeInteger(options.keep) && options.keep >= 0)) {
    throw invalid(
      `keep must be a whole number ≥ 0; got ${options.keep}`,
      "pass e.g. --keep 1 (the newest standby stays)",
    );
  }
  const minAgeMs = options.minAge === undefined ? undefined : parseDuration(options.minAge);
  return services.map((service) => ({
    service,
    policy: {
      keep: options.keep ?? service.retire.keep,
      minAgeMs: minAgeMs ?? service.retire.minAge,
    },
  }));
}

/** Observes, decides and (unless dryRun) deletes. Input problems throw before any change. */
export async function retire(
  deps: RetireDeps,
  config: ResolvedConfig,
  options: RetireOptions = {},
): Promise<RetireReport> {
  const targets = resolveRetireTargets(config, options);
  const signal = options.signal ?? deps.signal;
  const emit: EventSink = (event) => {
    deps.emit(event);
    options.onEvent?.(event);
  };
  const now = deps.now ?? Date.now;
  const plans: ServiceRetirePlan[] = [];
  for (const { service, policy } of targets) {
    if (signal?.aborted) {
      plans.push({ service: service.name, decisions: [], targets: [], error: "cancelled" });
      continue;
    }
    plans.push(await planService(deps.clients, deps.state, service, policy, now()));
  }
  const byName = new Map(targets.map((t) => [t.service.name, t.service]));
  const effects = awsRetireEffects({
    clients: deps.clients,
    state: deps.state,
    service: (name) => byName.get(name)!,
    pollIntervalMs: deps.pollIntervalMs,
    deleteTimeoutMs: options.deleteTimeoutMs ?? DEFAULT_DELETE_TIMEOUT_MS,
    signal,
  });
  return applyRetirePlans(plans, effects, {
    dryRun: options.dryRun ?? false,
    emit,
    signal,
    now,
  });
}

/** Reads one service's lock, listener and groups, and decides. Never throws. */
export async function planService(
  clients: Clients,
  state: StateLocation,
  service: ServiceConfig,
  policy: RetirePolicy,
  now: number,
): Promise<ServiceRetirePlan> {
  try {
    const [held, traffic, groups] = await Promise.all([
      readRecord(clients, state, service.name),
      describeTraffic(clients, trafficTarget(service)),
      findGroupsByTags(clients, { [TAG.app]: service.app, [TAG.env]: service.env }),
    ]);
    const fleet = groups.map(toFleetGroup);
    const decisions = decideRetire(
      {
        service: service.name,
        groups: fleet,
        weights: traffic?.targetGroups,
        swapInFlight: held ? describeHolder(held.record) : undefined,
      },
      policy,
      now,
    );
    const byName = new Map(groups.map((g) => [g.name, g]));
    return {
      service: service.name,
      decisions,
      swapInFlight: held ? describeHolder(held.record) : undefined,
      // in decision order: newest first
      targets: decisions.flatMap((d) => {
        const g = d.action === "retire" ? byName.get(d.name) : undefined;
        return g ? [toTarget(g)] : [];
      }),
    };
  } catch (error) {
    // no service can be read without credentials or an endpoint: that is the run's error
    if (isSwitchyardError(error, ...SETUP_ERRORS)) throw error;
    return {
      service: service.name,
      decisions: [],
      targets: [],
      error: `could not read the state of ${service.name}: ${messageOf(error)}`,
    };
  }
}

/** Errors of the setup (credentials, endpoint) rather than of one service. */
const SETUP_ERRORS = ["NO_CREDENTIALS", "BAD_CREDENTIALS", "ENDPOINT_UNREACHABLE"] as const;

function sequenceOf(g: ManagedGroup): number {
  const n = Number(g.tags[TAG.sequence]);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

export function toFleetGroup(g: ManagedGroup): FleetGroup {
  const tagged = Date.parse(g.tags[TAG.createdAt] ?? "");
  return {
    name: g.name,
    sequence: sequenceOf(g),
    role: g.tags[TAG.role] ?? "",
    createdAt: Number.isNaN(tagged) ? g.createdAt?.getTime() : tagged,
    targetGroupArns: g.targetGroupArns,
    deleting: g.deleting,
  };
}

function toTarget(g: ManagedGroup): RetireTarget {
  return {
    name: g.name,
    sequence: sequenceOf(g),
    targetGroupArns: g.targetGroupArns,
    launchTemplateId: g.launchTemplateId,
    deleting: g.deleting,
  };
}

/**
 * Applies decided plans: the report, the events and (unless dryRun) the deletions through
 * `effects`. Exported so the bookkeeping can be tested without AWS.
 */
export async function applyRetirePlans(
  plans: ServiceRetirePlan[],
  effects: RetireEffects,
  options: { dryRun: boolean; emit: EventSink; signal?: AbortSignal; now?: () => number },
): Promise<RetireReport> {
  const report: RetireReport = {
    dryRun: options.dryRun,
    deleted: [],
    kept: [],
    skipped: [],
    orphans: [],
    failed: false,
  };
  for (const plan of plans) {
    try {
      const swept = await retireGroups(plan, effects, options, report);
      if (swept) await sweepOrphans(plan.service, effects, options, report);
    } finally {
      await effects.unlock(plan.service).catch((error: unknown) => {
        report.skipped.push({
          name: plan.service,
          reason: `could not release its lock: ${messageOf(error)}`,
        });
        report.failed = true;
      });
    }
  }
  return report;
}

type ApplyOptions = { dryRun: boolean; emit: EventSink; signal?: AbortSignal; now?: () => number };

function skipper(service: string, options: ApplyOptions, report: RetireReport) {
  const now = options.now ?? Date.now;
  return (name: string, reason: string, failure: boolean) => {
    report.skipped.push({ name, reason });
    if (failure) report.failed = true;
    options.emit({ service, at: now(), type: "retire.skipped", group: name, reason });
  };
}

/**
 * One service's group deletions. Returns whether the orphan sweep may follow: not when the
 * service could not be read, a swap holds its lock, or the run is cancelled.
 */
async function retireGroups(
  plan: ServiceRetirePlan,
  effects: RetireEffects,
  options: ApplyOptions,
  report: RetireReport,
): Promise<boolean> {
  const now = options.now ?? Date.now;
  const service = plan.service;
  const skip = skipper(service, options, report);
  if (plan.error !== undefined) {
    skip(service, plan.error, true);
    return false;
  }
  for (const d of plan.decisions) {
    if (d.action === "keep") report.kept.push(d.name);
    else if (d.action === "skip") skip(d.name, d.reason, false);
  }
  // a swap in flight when the service was read: nothing is changed, no orphan is looked for
  if (plan.swapInFlight !== undefined) {
    report.locked = [...(report.locked ?? []), service];
    return false;
  }
  let targets = plan.targets;
  if (targets.length === 0) return !options.signal?.aborted;

  if (options.dryRun) {
    for (const t of targets) {
      report.deleted.push(t.name);
      options.emit({ service, at: now(), type: "retire.deleted", group: t.name, dryRun: true });
    }
    return true;
  }
  if (options.signal?.aborted) {
    for (const t of targets) skip(t.name, "cancelled before it was deleted", true);
    return false;
  }
  try {
    const holder = await effects.lock(service);
    if (holder !== undefined) {
      for (const t of targets) skip(t.name, `swap in flight: ${holder}`, false);
      report.locked = [...(report.locked ?? []), service];
      return false;
    }
    const arns = targets.flatMap((t) => t.targetGroupArns);
    const carrying = arns.length > 0 ? await effects.unlist(service, arns) : new Map();
    targets = targets.filter((t) => {
      const weight = Math.max(0, ...t.targetGroupArns.map((a) => carrying.get(a) ?? 0));
      if (weight > 0) skip(t.name, `carries traffic now (weight ${weight})`, false);
      return weight === 0;
    });
  } catch (error) {
    const message = messageOf(error);
    for (const t of targets) {
      skip(t.name, `could not take it out of the listener: ${message}`, true);
    }
    return false;
  }

  const outcomes = new Map<string, string | undefined>();
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const t = targets[next++]!;
      if (options.signal?.aborted) {
        outcomes.set(t.name, "cancelled before it was deleted");
        continue;
      }
      try {
        await effects.deleteGroup(service, t);
        outcomes.set(t.name, undefined);
        options.emit({
          service,
          at: now(),
          type: "retire.deleted",
          group: t.name,
          dryRun: false,
        });
      } catch (error) {
        outcomes.set(t.name, `delete failed: ${messageOf(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, targets.length) }, worker));
  // reported in decision order (newest first), whatever order the deletions finished in
  for (const t of targets) {
    const failure = outcomes.get(t.name);
    if (failure === undefined) report.deleted.push(t.name);
    else skip(t.name, failure, true);
  }
  return !options.signal?.aborted;
}

/**
 * The orphan sweep of one service, after its group deletions: find the orphaned parts; unless
 * dryRun, read the lock again (a swap that started meanwhile wins) and delete them.
 */
async function sweepOrphans(
  service: string,
  effects: RetireEffects,
  options: ApplyOptions,
  report: RetireReport & { orphans: Orphan[] },
): Promise<void> {
  const skip = skipper(service, options, report);
  let parts: OrphanPart[];
  try {
    parts = await effects.findOrphans(service);
    if (parts.length === 0) return;
    if (options.dryRun) {
      report.orphans.push(...parts.map(({ name, kind }) => ({ name, kind })));
      return;
    }
    if (options.signal?.aborted) return;
    // a swap creates its target group and launch template before its group: never race one
    if ((await effects.lock(service)) !== undefined) return;
  } catch (error) {
    skip(service, `could not look for orphaned parts: ${messageOf(error)}`, true);
    return;
  }
  for (const part of parts) {
    if (options.signal?.aborted) {
      skip(part.name, `orphaned ${kindText(part)}: cancelled before it was deleted`, true);
      continue;
    }
    try {
      const left = await effects.deleteOrphan(service, part);
      if (left === undefined) report.orphans.push({ name: part.name, kind: part.kind });
      else skip(part.name, `orphaned ${kindText(part)}: ${left}`, false);
    } catch (error) {
      skip(part.name, `orphaned ${kindText(part)}: delete failed: ${messageOf(error)}`, true);
    }
  }
}

function kindText(part: Orphan): string {
  return part.kind === "target-group" ? "target group" : "launch template";
}

export interface AwsRetireContext {
  clients: Clients;
  state: StateLocation;
  service(name: string): ServiceConfig;
  pollIntervalMs: number;
  deleteTimeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** The executor's changes, made through the aws/ adapters. */
export function awsRetireEffects(ctx: AwsRetireContext): RetireEffects {
  const { clients } = ctx;
  const call = { signal: ctx.signal };
  const wait = (what: string, check: () => Promise<boolean>, timeoutMs: number) =>
    waitFor(check, { timeoutMs, intervalMs: ctx.pollIntervalMs, what, signal: ctx.signal });

  const locks = new Map<string, SwapLock>();
  return {
    async lock(name) {
      if (locks.has(name)) return undefined;
      const now = new Date();
      try {
        const lock = await SwapLock.acquire(clients, ctx.state, {
          version: 1,
          kind: "retire",
          swapId: `rt-${randomBytes(4).toString("hex")}`,
          service: name,
          owner: currentOwner(),
          startedAt: now.toISOString(),
          heartbeatAt: now.toISOString(),
          cursor: { phase: "restoring", stepIndex: -1, launchStartedAt: now.getTime() },
        });
        // deleting groups can take minutes: the heartbeat tells others the retire is alive
        lock.startHeartbeat(15_000);
        locks.set(name, lock);
        return undefined;
      } catch (error) {
        if (!isSwitchyardError(error, "LOCK_HELD")) throw error;
        const held = await readRecord(clients, ctx.state, name);
        return held ? describeHolder(held.record) : "an operation that has just ended";
      }
    },

    async unlock(name) {
      const lock = locks.get(name);
      if (!lock) return;
      locks.delete(name);
      await lock.close("completed");
    },

    async unlist(name, arns) {
      const target = trafficTarget(ctx.service(name));
      const fresh = await describeTraffic(clients, target, call);
      if (!fresh) throw new Error(`the listener ${target.ruleArn ?? target.listenerArn} is gone`);
      const carrying = new Map<string, number>();
      const remove = new Set<string>();
      for (const t of fresh.targetGroups) {
        if (!arns.includes(t.targetGroupArn)) continue;
        if (t.weight > 0) carrying.set(t.targetGroupArn, t.weight);
        else remove.add(t.targetGroupArn);
      }
      if (remove.size === 0) return carrying;
      await setActions(clients, target, withoutTargetGroups(fresh.actions, remove), call);
      // ALB changes are eventually consistent: read back until the groups are out
      await wait(
        "the listener to let go of the retired target groups",
        async () => {
          const t = await describeTraffic(clients, target, call);
          return t !== undefined && !t.targetGroups.some((g) => remove.has(g.targetGroupArn));
        },
        60_000,
      );
      // no group is deleted before the change reached the load balancer and its targets drained
      await sleep(drainMs(ctx.service(name)), ctx.signal);
      return carrying;
    },

    async deleteGroup(name, t) {
      const names = namesOf(name, t.sequence);
      if (!t.deleting) await deleteGroup(clients, t.name, call);
      await wait(
        `Auto Scaling group ${t.name} to be deleted`,
        async () => (await describeGroup(clients, t.name, call)) === undefined,
        ctx.deleteTimeoutMs,
      );
      // the group's own target group: the one named for it (another attached by hand stays)
      let tgs = names
        ? t.targetGroupArns.filter((arn) => arn.includes(`:targetgroup/${names.targetGroup}/`))
        : t.targetGroupArns;
      if (tgs.length === 0 && names) {
        const arn = await findTargetGroupArn(clients, names.targetGroup, call);
        tgs = arn ? [arn] : [];
      }
      const launchTemplateId =
        t.launchTemplateId ??
        (names ? await findLaunchTemplateId(clients, names.launchTemplate, call) : undefined);
      // both are attempted even when one fails, so as little as possible is left behind
      const results = await Promise.allSettled([
        ...tgs.map((arn) => deleteTargetGroup(clients, arn, call)),
        ...(launchTemplateId ? [deleteLaunchTemplate(clients, launchTemplateId, call)] : []),
      ]);
      const failures = results.flatMap((r) =>
        r.status === "rejected" ? [messageOf(r.reason)] : [],
      );
      if (failures.length > 0) {
        throw new Error(
          `the Auto Scaling group is deleted, but not all of its parts: ${failures.join("; ")} (delete them by hand: target group ${names?.targetGroup ?? tgs.join(", ")}, launch template ${names?.launchTemplate ?? launchTemplateId})`,
        );
      }
    },

    findOrphans(name) {
      return findOrphans(clients, ctx.service(name), call);
    },

    async deleteOrphan(_name, part) {
      if (part.kind === "launch-template") {
        await deleteLaunchTemplate(clients, part.id, call);
        return undefined;
      }
      try {
        await deleteTargetGroup(clients, part.id, call);
        return undefined;
      } catch (error) {
        if (errorName(error) === "ResourceInUseException") {
          return `in use (${messageOf(error)})`;
        }
        throw error;
      }
    },
  };
}

function namesOf(service: string, sequence: number): ServerGroupNames | undefined {
  return sequence > 0 ? serverGroupNames(service, sequence) : undefined;
}

/** A failure as a reason: switchyard's message, or the AWS error's name and message. */
function messageOf(error: unknown): string {
  if (isSwitchyardError(error)) return error.message;
  if (error instanceof Error) {
    return error.name && error.name !== "Error" ? `${error.name}: ${error.message}` : error.message;
  }
  return String(error);
}
