/**
 * rollback: the group that was live before the last completed change back to 100 %, through the
 * same locked loop as a deploy. The lock, the listener, the managed groups and the last change
 * are read at once; when the target is referenced, at capacity and healthy, the next call is the
 * listener change. Killed at any action, `resume` finishes it.
 *
 * During a deploy, `rollback` means abort: the swap in flight is asked to roll back (see control.ts).
 */
import {
  type Clients,
  describeTraffic,
  findGroupsByTags,
  forwardAction,
  type ManagedGroup,
  type ObservedTraffic,
  resumeProcesses,
  setActions,
  setGroupTags,
  suspendProcesses,
  targetHealth,
  updateCapacity,
} from "../aws/index.js";
import type { ServiceConfig } from "../core/config.js";
import { InputError, isSwitchyardError, SwapError } from "../core/errors.js";
import type { EventSink } from "../core/events.js";
import {
  nextRollbackAction,
  type RollbackAction,
  type RollbackSnapshot,
} from "../core/rollback-rules.js";
import {
  type GroupView,
  noTargets,
  type RollbackPlan,
  type TargetHealthCounts,
} from "../core/swap-model.js";
import { TAG } from "../core/tags.js";
import { abortSwap, STALE_AFTER_MS } from "./control.js";
import { reconcile } from "./loop.js";
import { toView } from "./observe.js";
import { groupProgress } from "./progress.js";
import {
  currentOwner,
  holderIsGone,
  type LastChange,
  SwapLock as Lock,
  readLastChange,
  readRecord,
  type StateLocation,
  type SwapLock,
  type SwapRecord,
} from "./record.js";
import { findLive, trafficTarget } from "./traffic.js";

export interface RollbackOptions {
  /** the group to roll back to (default: the group live before the last completed change) */
  to?: string;
}

export interface RollbackResult {
  ok: true;
  service: string;
  live: string;
  standby: string | null;
  release: string;
  durationMs: number;
  /** whether the target had to be referenced, scaled up or made healthy first */
  scaledUp: boolean;
  /** a deploy was in flight: it was aborted and rolled back to its blue */
  abortedSwap?: string;
}

export interface RollbackDeps {
  clients: Clients;
  state: StateLocation;
  emit: EventSink;
  pollIntervalMs: number;
  heartbeatMs: number;
  signal?: AbortSignal;
}

export async function rollback(
  deps: RollbackDeps,
  service: ServiceConfig,
  options: RollbackOptions = {},
): Promise<RollbackResult> {
  const started = Date.now();
  const { clients } = deps;
  const now = new Date();
  const record: SwapRecord = {
    version: 1,
    kind: "rollback",
    swapId: `rb-${Math.random().toString(16).slice(2, 10)}`,
    service: service.name,
    owner: currentOwner(),
    startedAt: now.toISOString(),
    heartbeatAt: now.toISOString(),
    rollback: options.to ? { to: options.to } : {},
    cursor: { phase: "restoring", stepIndex: -1, launchStartedAt: now.getTime() },
  };
  // one round trip: the lock, the listener, the groups and the last change, at once
  const [locked, traffic, groups, last] = await Promise.allSettled([
    Lock.acquire(clients, deps.state, record),
    describeTraffic(clients, trafficTarget(service)),
    findGroupsByTags(clients, { [TAG.app]: service.app, [TAG.env]: service.env }),
    readLastChange(clients, deps.state, service.name),
  ]);
  if (locked.status === "rejected") {
    const error = locked.reason;
    const kind = isSwitchyardError(error, "LOCK_HELD")
      ? (error.details as { kind?: string }).kind
      : undefined;
    // an earlier rollback whose process died: finish it, as resume would
    if (kind === "rollback") {
      const read = await readRecord(clients, deps.state, service.name);
      if (read?.record.kind === "rollback" && holderIsGone(read.record, STALE_AFTER_MS)) {
        const { takeOver } = await import("./control.js");
        const r = await takeOver(deps, service, read);
        return {
          ok: true,
          service: r.service,
          live: r.live ?? "",
          standby: r.standby,
          release: r.release,
          durationMs: Date.now() - started,
          scaledUp: false,
        };
      }
    }
    // a deploy in flight: rollback means abort, and waits for blue to be live
    if (kind === "deploy") {
      const result = await abortSwap(deps, service, { wait: true });
      return {
        ok: true,
        service: service.name,
        live: result.live ?? "",
        standby: null,
        release: result.release,
        durationMs: Date.now() - started,
        scaledUp: false,
        abortedSwap: result.attempted,
      };
    }
    throw error;
  }
  const lock = locked.value;
  try {
    for (const r of [traffic, groups, last]) if (r.status === "rejected") throw r.reason;
    const observed = (traffic as PromiseFulfilledResult<ObservedTraffic | undefined>).value;
    const managed = (groups as PromiseFulfilledResult<ManagedGroup[]>).value;
    const plan = planRollback(
      service,
      observed,
      managed,
      (last as PromiseFulfilledResult<LastChange | undefined>).value,
      options.to,
    );
    return await runRollback(deps, service, lock, plan, { observed, managed, started });
  } catch (error) {
    if (!lock.record.rollback?.plan && lock.record.cursor.trafficMovedAt === undefined) {
      await lock.close("cancelled").catch(() => lock.release());
    } else {
      lock.release();
    }
    throw error;
  }
}

/** What a rollback would do now, read without changing anything (for a confirmation prompt). */
export interface RollbackPreview {
  service: string;
  /** the group it would make live and the release that group runs */
  to: { name: string; release: string };
  /** the group live now, when there is one */
  from: { name: string; release: string } | null;
  /** a deploy is in flight: the rollback aborts it, and `to` is its blue */
  abortsSwap: string | null;
}

/**
 * The group and release a rollback would restore, read as `rollback` reads them (the listener,
 * the groups, the last change; during a deploy, the swap's blue), without taking the lock.
 */
export async function previewRollback(
  deps: { clients: Clients; state: StateLocation },
  service: ServiceConfig,
  options: RollbackOptions = {},
): Promise<RollbackPreview> {
  const { clients } = deps;
  const [held, traffic, groups, last] = await Promise.all([
    readRecord(clients, deps.state, service.name),
    describeTraffic(clients, trafficTarget(service)),
    findGroupsByTags(clients, { [TAG.app]: service.app, [TAG.env]: service.env }),
    readLastChange(clients, deps.state, service.name),
  ]);
  const record = held?.record;
  if (record && (record.kind ?? "deploy") === "deploy" && record.outcome === undefined) {
    const blue = record.plan?.blue;
    if (blue) {
      return {
        service: service.name,
        to: { name: blue.name, release: blue.release },
        from: record.plan
          ? { name: record.plan.green.name, release: record.plan.release.version }
          : null,
        abortsSwap: record.swapId,
      };
    }
  }
  const plan = planRollback(service, traffic, groups, last, options.to);
  return {
    service: service.name,
    to: { name: plan.to.name, release: plan.to.release },
    from: plan.from ? { name: plan.from.name, release: plan.from.release } : null,
    abortsSwap: null,
  };
}

/**
 * The rollback's target: `--to`, else the group that was live before the last completed change
 * (from `last.json`), else the newest standby. Refused when it would not change the release.
 */
export function planRollback(
  service: ServiceConfig,
  traffic: ObservedTraffic | undefined,
  groups: ManagedGroup[],
  last: LastChange | undefined,
  to: string | undefined,
): RollbackPlan {
  if (!traffic?.forwarding) {
    throw new InputError(
      "PREFLIGHT_FAILED",
      `${service.name}: the listener does not forward to any group`,
    );
  }
  const live = findLive(groups, traffic.targetGroups);
  const usable = (g: ManagedGroup) => !g.deleting && g.targetGroupArns.length > 0;
  let target: ManagedGroup | undefined;
  if (to) {
    target = groups.find((g) => g.name === to && usable(g));
    if (!target) {
      const names = groups.filter((g) => usable(g) && g.name !== live?.name).map((g) => g.name);
      throw new InputError("INVALID_INPUT", `--to ${to}: no such server group of ${service.name}`, {
        hint: `choose one of: ${names.join(", ") || "(none)"}`,
      });
    }
    if (target.name === live?.name)
      throw new InputError("INVALID_INPUT", `${to} is already live for ${service.name}`);
  } else if (last) {
    // after a crash between the listener change and the record, the target is live already
    const before = live?.name === last.before?.name ? undefined : last.before;
    target = before ? groups.find((g) => g.name === before.name && usable(g)) : undefined;
    if (!target && live?.name === last.before?.name) target = live;
  }
  target ??= groups
    .filter((g) => usable(g) && g.name !== live?.name && g.tags[TAG.role] === "standby")
    .sort((a, b) => Number(b.tags[TAG.sequence]) - Number(a.tags[TAG.sequence]))[0];
  if (!target) {
    throw new SwapError("NO_STANDBY", `${service.name} has no standby group to roll back to`, {
      hint: "deploy the previous release instead: switchyard deploy <service> --release <version>",
    });
  }
  const from =
    live && live.name !== target.name
      ? live
      : last?.after
        ? groups.find((g) => g.name === last.after.name)
        : undefined;
  const release = (g: ManagedGroup) => g.tags[TAG.release] ?? "";
  if (from && live?.name === from.name && release(target) === release(from)) {
    throw new InputError(
      "NOTHING_TO_ROLL_BACK",
      `${service.name}: ${target.name} runs ${release(target)}, the release ${from.name} serves now; rolling back would not change it`,
      { hint: `choose another group with --to (see \`switchyard status ${service.name}\`)` },
    );
  }
  return {
    to: { name: target.name, targetGroupArn: target.targetGroupArns[0]!, release: release(target) },
    from: from
      ? { name: from.name, targetGroupArn: from.targetGroupArns[0]!, release: release(from) }
      : null,
    desired: Math.max(from?.capacity.desired ?? 0, target.capacity.min, 1),
    healthyTimeoutMs: service.healthyTimeout,
  };
}

/** Drives a rollback whose lock is held (new, resumed or taken over) to its end. */
export async function runRollback(
  deps: RollbackDeps,
  service: ServiceConfig,
  lock: SwapLock,
  plan: RollbackPlan,
  first?: { observed?: ObservedTraffic; managed?: ManagedGroup[]; started: number },
): Promise<RollbackResult> {
  const { clients, emit } = deps;
  const started = first?.started ?? Date.parse(lock.record.startedAt);
  const target = trafficTarget(service);
  let prefetched =
    first?.observed && first.managed
      ? { traffic: first.observed, groups: first.managed }
      : undefined;
  let scaledUp = false;
  const persisted = () =>
    lock.record.rollback?.plan ? {} : { rollback: { ...lock.record.rollback, plan } };

  const view = (groups: ManagedGroup[], name: string | undefined, health?: TargetHealthCounts) => {
    const g = name ? groups.find((x) => x.name === name) : undefined;
    if (!g) return undefined;
    const v: GroupView = toView(g);
    v.health = health ?? healthFromInstances(g);
    return v;
  };

  const ended = await reconcile<RollbackSnapshot, RollbackAction>(
    {
      observe: async (pass) => {
        let traffic: ObservedTraffic | undefined;
        let groups: ManagedGroup[];
        let health: TargetHealthCounts | undefined;
        if (prefetched) {
          // the first pass decides on the reads made with the lock: the target's instance health
          ({ traffic, groups } = prefetched);
          prefetched = undefined;
        } else {
          [traffic, groups, health] = await Promise.all([
            describeTraffic(clients, target),
            findGroupsByTags(clients, { [TAG.app]: service.app, [TAG.env]: service.env }),
            targetHealth(clients, plan.to.targetGroupArn),
          ]);
        }
        if (!traffic)
          throw new SwapError("SWAP_INCOMPLETE", `${service.name}: the listener no longer exists`);
        return {
          now: Date.now(),
          traffic: {
            targetGroups: traffic.targetGroups,
            stickiness: traffic.stickiness,
            forwarding: traffic.forwarding,
          },
          to: view(groups, plan.to.name, health),
          from: view(groups, plan.from?.name),
          failures: pass.failures,
        };
      },
      decide: (s, cursor) => nextRollbackAction(s, plan, cursor),
      act: async (action) => {
        switch (action.type) {
          case "referenceTarget":
            scaledUp = true;
            await setActions(clients, target, [
              forwardAction(action.targetGroups, action.stickinessSeconds),
            ]);
            await lock.update({ ...persisted(), cursor: { traffic: action.targetGroups } });
            return;
          case "scaleTarget":
            scaledUp = true;
            await updateCapacity(clients, plan.to.name, {
              desired: action.desired,
              max: action.max,
            });
            await lock.update(persisted());
            return;
          case "setTraffic":
            await setActions(clients, target, [forwardAction(action.targetGroups, 0)]);
            await lock.update({
              ...persisted(),
              cursor: { traffic: action.targetGroups, trafficMovedAt: Date.now() },
            });
            return;
          case "resumeTarget":
            await resumeProcesses(clients, plan.to.name, action.processes);
            return;
          case "suspendPrevious":
            await suspendProcesses(clients, action.group, [
              "AlarmNotification",
              "ScheduledActions",
            ]);
            return;
          case "tagRole":
            await setGroupTags(clients, action.group, {
              [TAG.role]: action.role,
              [TAG.swapId]: lock.record.swapId,
            });
            return;
        }
      },
      describe: (action) => describeRollbackAction(action, plan),
      purpose: (action) => (action.type === "setTraffic" ? "rollback" : undefined),
      progress: (s) => ({
        groups: [
          ...(s.from ? [groupProgress(s.from, s.from.name, "from", plan.desired)] : []),
          groupProgress(s.to, plan.to.name, "to", plan.desired),
        ],
      }),
      announce: () => undefined,
    },
    {
      lock,
      emit,
      pollIntervalMs: deps.pollIntervalMs,
      heartbeatMs: deps.heartbeatMs,
      signal: deps.signal,
    },
  ).catch((error) => {
    lock.release();
    throw error;
  });

  if (ended.outcome === "stopped") {
    await lock.close("cancelled");
    throw new SwapError(
      ended.code === "ABORTED" ? "ABORTED" : "GREEN_UNHEALTHY",
      `${service.name}: ${ended.message}`,
      {
        ...(ended.code === "ABORTED" ? {} : { hint: `run \`switchyard status ${service.name}\`` }),
      },
    );
  }
  await lock.close("completed", {
    swapId: lock.record.swapId,
    kind: "rollback",
    endedAt: new Date().toISOString(),
    before: plan.from,
    after: plan.to,
  });
  const durationMs = Date.now() - started;
  emit({
    service: service.name,
    at: Date.now(),
    type: "rollback.completed",
    live: plan.to.name,
    standby: plan.from?.name ?? null,
    durationMs,
    ...(plan.to.release ? { release: plan.to.release } : {}),
  });
  return {
    ok: true,
    service: service.name,
    live: plan.to.name,
    standby: plan.from?.name ?? null,
    release: plan.to.release,
    durationMs,
    scaledUp,
  };
}

/** Health as the Auto Scaling group reports it (ELB health checks): InService and Healthy. */
function healthFromInstances(g: ManagedGroup): TargetHealthCounts {
  const healthy = g.instances.filter(
    (i) => i.lifecycle === "InService" && i.health === "Healthy",
  ).length;
  const unhealthy = g.instances.filter((i) => i.health === "Unhealthy").length;
  return { ...noTargets(), healthy, unhealthy, total: g.instances.length };
}

function describeRollbackAction(action: RollbackAction, plan: RollbackPlan): string {
  switch (action.type) {
    case "referenceTarget":
      return `${plan.to.name} is not in the listener's action; adding it at weight 0 so it is health-checked`;
    case "scaleTarget":
      return `scale ${plan.to.name} to ${action.desired} instances (the live group's capacity)`;
    case "setTraffic":
      return `rollback: ${plan.to.name} to 100%${plan.from ? `, ${plan.from.name} to 0%` : ""}`;
    case "resumeTarget":
      return `resume ${action.processes.join(", ")} on ${plan.to.name}`;
    case "suspendPrevious":
      return `suspend AlarmNotification, ScheduledActions on standby ${action.group}`;
    case "tagRole":
      return `tag ${action.group} as ${action.role}`;
  }
}
