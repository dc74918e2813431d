/**
 * status: the server groups of a service, their roles, releases, capacity, health and weights,
 * and any swap in flight. The listener is the truth of who gets traffic: where the tags say
 * otherwise, the listener wins and a warning says so.
 */
import { type Clients, describeTraffic, findGroupsByTags, targetHealth } from "../aws/index.js";
import type { ServiceConfig } from "../core/config.js";
import type { ControlRequests, Role, Weighted } from "../core/swap-model.js";
import { TAG } from "../core/tags.js";
import { type RecordKind, readRecord, type StateLocation, type SwapRecord } from "./record.js";
import { trafficTarget } from "./traffic.js";

export interface GroupStatus {
  name: string;
  role: Role;
  release: string;
  sequence: number;
  createdAt: string | null;
  capacity: { min: number; max: number; desired: number };
  instances: { inService: number; healthy: number };
  /** weight in the forward action; null when its target group is not in the action */
  weight: number | null;
  suspendedProcesses: string[];
  targetGroupArn: string | null;
  deleting: boolean;
}

export interface SwapStatus {
  /** what holds the service's record */
  kind: RecordKind;
  swapId: string;
  phase: string;
  /** the step reached (1-based; 0 while launching); while rolling back, the step it failed at */
  step: number;
  of: number;
  /** percent on green at the step reached; null while launching and while rolling back */
  weight: number | null;
  release: string;
  green: string;
  blue: string | null;
  owner: { host: string; pid: number; user: string };
  startedAt: string;
  heartbeatAt: string;
  heartbeatAgeMs: number;
  failure: { code: string; message: string } | null;
  /** held at its step by a pause request */
  paused: boolean;
  /** requests waiting for the driving process (promote, pause, abort) */
  control: ControlRequests;
  /** stopped without finishing, and no process drives it: why (a drift says what changed) */
  halted: SwapRecord["halted"] | null;
  /** no process drives the swap: `reconcile` passes do; when the last one let go */
  detachedAt: string | null;
  /** the bake of the step reached: when it started (ms since epoch) and how long it lasts */
  bake: { startedAt: number; ms: number } | null;
  /**
   * the forward action as the swap last set it; the groups' `weight` is what the listener reads
   * back, which differs while a change propagates or after someone else changed it
   */
  traffic: Weighted[] | null;
  /** the judge's verdict on the last step it judged (services with `analysis`) */
  verdict: { step: number; result: string; sentence: string } | null;
}

export interface ServiceStatus {
  service: string;
  groups: GroupStatus[];
  swap: SwapStatus | null;
  /** disagreements between tags and the listener, unmanaged target groups in the action, … */
  warnings: string[];
}

export async function status(
  clients: Clients,
  state: StateLocation,
  service: ServiceConfig,
): Promise<ServiceStatus> {
  const [traffic, groups, held] = await Promise.all([
    describeTraffic(clients, trafficTarget(service)),
    findGroupsByTags(clients, { [TAG.app]: service.app, [TAG.env]: service.env }),
    readRecord(clients, state, service.name),
  ]);
  const warnings: string[] = [];
  if (!traffic) warnings.push(`listener ${service.ruleArn ?? service.listenerArn} does not exist`);
  const weights = new Map((traffic?.targetGroups ?? []).map((t) => [t.targetGroupArn, t.weight]));
  const top = Math.max(0, ...weights.values());
  const out: GroupStatus[] = [];
  groups.sort((a, b) => Number(b.tags[TAG.sequence]) - Number(a.tags[TAG.sequence]));
  // one DescribeTargetHealth per group, at once
  const healths = await Promise.all(
    groups.map((g) =>
      g.targetGroupArns[0] ? targetHealth(clients, g.targetGroupArns[0]) : undefined,
    ),
  );
  for (const [i, g] of groups.entries()) {
    const tg = g.targetGroupArns[0] ?? null;
    const health = healths[i];
    const weight = tg && weights.has(tg) ? weights.get(tg)! : null;
    const tagged = (g.tags[TAG.role] ?? "standby") as Role;
    let role = tagged;
    if (
      weight !== null &&
      weight > 0 &&
      weight === top &&
      tagged !== "live" &&
      tagged !== "green"
    ) {
      warnings.push(
        `${g.name} is tagged ${tagged} but carries ${weight} of the traffic: it is live`,
      );
      role = "live";
    } else if (tagged === "live" && (weight === null || weight === 0)) {
      warnings.push(`${g.name} is tagged live but the listener gives it no traffic`);
      role = "standby";
    }
    out.push({
      name: g.name,
      role,
      release: g.tags[TAG.release] ?? "",
      sequence: Number(g.tags[TAG.sequence] ?? 0),
      createdAt: g.tags[TAG.createdAt] ?? null,
      capacity: g.capacity,
      instances: {
        inService: g.instances.filter((i) => i.lifecycle === "InService").length,
        healthy: health?.healthy ?? 0,
      },
      weight,
      suspendedProcesses: g.suspended,
      targetGroupArn: tg,
      deleting: g.deleting,
    });
  }
  const managed = new Set(groups.flatMap((g) => g.targetGroupArns));
  for (const arn of weights.keys()) {
    if (!managed.has(arn))
      warnings.push(`the listener forwards to ${arn}, which switchyard does not manage`);
  }
  if (!held) {
    // what a swap that stopped without its record leaves (its lock broken or deleted)
    const carrying = out.filter((g) => (g.weight ?? 0) > 0);
    if (carrying.length > 1) {
      warnings.push(
        `traffic is split (${carrying.map((g) => `${g.name} ${g.weight}`).join(", ")}) with no swap in flight: a swap stopped part-way; \`switchyard rollback ${service.name}\` puts the group that was live before back, a deploy goes forward`,
      );
    }
    for (const g of out.filter((x) => x.role === "green")) {
      warnings.push(
        `${g.name} is tagged green but no swap is in flight: its swap stopped without finishing (its lock was broken or lost)`,
      );
    }
  }
  const swap = held ? swapStatus(held.record) : null;
  return { service: service.name, groups: out, swap, warnings };
}

/**
 * A swap record as status reports it. While the swap rolls back, the weights are on their way
 * back to blue: `weight` is null and `step` stays the step it failed at, `failure` says why.
 * A rollback in flight shows its target as `green` and the group it replaces as `blue`.
 */
export function swapStatus(r: SwapRecord, now: number = Date.now()): SwapStatus {
  const plan = r.plan;
  const steps = plan ? (plan.blue ? plan.steps : [100]) : [100];
  const index = Math.max(0, Math.min(r.cursor.stepIndex, steps.length - 1));
  const rollingBack = r.cursor.phase === "rolling-back";
  const target = r.rollback?.plan;
  const pause = r.control?.pause;
  return {
    kind: r.kind ?? "deploy",
    swapId: r.swapId,
    phase: r.halted ? "halted" : r.cursor.phase,
    step: r.cursor.stepIndex + 1,
    of: steps.length,
    weight: !rollingBack && plan && r.cursor.stepIndex >= 0 ? (steps[index] ?? null) : null,
    release: plan?.release.url ?? target?.to.release ?? "",
    green: plan?.green.name ?? target?.to.name ?? r.rollback?.to ?? "",
    blue: plan?.blue?.name ?? target?.from?.name ?? null,
    owner: r.owner,
    startedAt: r.startedAt,
    heartbeatAt: r.heartbeatAt,
    heartbeatAgeMs: now - Date.parse(r.heartbeatAt),
    failure: r.cursor.failure ?? null,
    paused: pause !== undefined && (pause.until === undefined || now < pause.until),
    control: r.control ?? {},
    halted: r.halted ?? null,
    detachedAt: r.detached?.at ?? null,
    bake:
      plan && r.cursor.phase === "shifting" && r.cursor.bakeStartedAt !== undefined
        ? { startedAt: r.cursor.bakeStartedAt, ms: plan.bakeMs }
        : null,
    traffic: r.cursor.traffic ?? null,
    verdict: r.cursor.lastVerdict ?? null,
  };
}
