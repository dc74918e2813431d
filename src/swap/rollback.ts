/**
 * rollback: the standby back to 100% in one listener change. When the standby is at capacity
 * and healthy, that change is the only mutating ELBv2 call; otherwise it says so and scales the
 * standby up first. Afterwards the new live group's alarms and schedules are resumed and the
 * new standby's suspended, and the roles re-tagged.
 */
import {
  type Clients,
  describeTraffic,
  findGroupsByTags,
  forwardAction,
  type ManagedGroup,
  resumeProcesses,
  setActions,
  setGroupTags,
  suspendProcesses,
  targetHealth,
  updateCapacity,
} from "../aws/index.js";
import type { ServiceConfig } from "../core/config.js";
import { STANDBY_SUSPENDED } from "../core/decide.js";
import { InputError, LockError, SwapError } from "../core/errors.js";
import type { EventSink } from "../core/events.js";
import { TAG } from "../core/tags.js";
import { describeHolder, readRecord, type StateLocation } from "./record.js";
import { FORWARD_ACTION_LIMIT, findLive, trafficTarget } from "./traffic.js";
import { waitFor } from "./wait.js";

export interface RollbackOptions {
  /** the group to roll back to (default: the newest standby) */
  to?: string;
}

export interface RollbackResult {
  ok: true;
  service: string;
  live: string;
  standby: string | null;
  release: string;
  durationMs: number;
  /** whether the standby had to be scaled up or made healthy first */
  scaledUp: boolean;
}

export interface RollbackDeps {
  clients: Clients;
  state: StateLocation;
  emit: EventSink;
  pollIntervalMs: number;
  signal?: AbortSignal;
}

export async function rollback(
  deps: RollbackDeps,
  service: ServiceConfig,
  options: RollbackOptions = {},
): Promise<RollbackResult> {
  const started = Date.now();
  const { clients } = deps;
  const target = trafficTarget(service);
  const [held, traffic, groups] = await Promise.all([
    readRecord(clients, deps.state, service.name),
    describeTraffic(clients, target),
    findGroupsByTags(clients, { [TAG.app]: service.app, [TAG.env]: service.env }),
  ]);
  if (held) {
    throw new LockError(
      "LOCK_HELD",
      `${service.name} has a swap in flight: ${describeHolder(held.record)}`,
      {
        hint: `to stop that swap and return to blue, run \`switchyard resume ${service.name} --abort\``,
      },
    );
  }
  if (!traffic?.forwarding) {
    throw new InputError(
      "PREFLIGHT_FAILED",
      `${service.name}: the listener does not forward to any group`,
    );
  }
  const live = findLive(groups, traffic.targetGroups);
  if (!live) {
    throw new InputError("PREFLIGHT_FAILED", `${service.name}: no managed group carries traffic`, {
      hint: `run \`switchyard status ${service.name}\``,
    });
  }
  const standby = pickStandby(groups, live, options.to, service.name);
  const standbyTg = standby.targetGroupArns[0]!;
  let scaledUp = false;

  // the standby must be referenced by the listener to be health-checked
  if (!traffic.targetGroups.some((t) => t.targetGroupArn === standbyTg)) {
    if (traffic.targetGroups.length >= FORWARD_ACTION_LIMIT) {
      throw new InputError(
        "PREFLIGHT_FAILED",
        `${service.name}: the forward action is full; retire a group first`,
      );
    }
    deps.emit({
      service: service.name,
      at: Date.now(),
      type: "warning",
      message: `${standby.name} is not in the listener's action; adding it at weight 0 so it is health-checked`,
    });
    await setActions(clients, target, [
      forwardAction(
        [...traffic.targetGroups, { targetGroupArn: standbyTg, weight: 0 }],
        traffic.stickiness.enabled ? traffic.stickiness.durationSeconds : 0,
      ),
    ]);
    scaledUp = true;
  }
  const wanted = Math.max(live.capacity.desired, standby.capacity.min);
  if (standby.capacity.desired < wanted) {
    deps.emit({
      service: service.name,
      at: Date.now(),
      type: "warning",
      message: `standby ${standby.name} has ${standby.capacity.desired} instances, live has ${live.capacity.desired}: scaling it up first`,
    });
    await updateCapacity(clients, standby.name, {
      desired: wanted,
      max: Math.max(standby.capacity.max, wanted),
    });
    scaledUp = true;
  }
  const desired = Math.max(standby.capacity.desired, wanted);
  const first = await targetHealth(clients, standbyTg);
  if (!first || first.healthy < desired || first.unhealthy > 0) {
    scaledUp = true;
    deps.emit({
      service: service.name,
      at: Date.now(),
      type: "waiting",
      reason: `waiting for standby ${standby.name} to be healthy (${first?.healthy ?? 0}/${desired})`,
    });
    await waitFor(
      async () => {
        const h = await targetHealth(clients, standbyTg);
        return h !== undefined && h.healthy >= desired;
      },
      {
        timeoutMs: service.healthyTimeout,
        intervalMs: deps.pollIntervalMs,
        what: `standby ${standby.name} to be healthy`,
        signal: deps.signal,
      },
    );
  }

  // the one listener change: standby to 100, everything else 0, stickiness off
  const weights = traffic.targetGroups.map((t) => ({
    targetGroupArn: t.targetGroupArn,
    weight: t.targetGroupArn === standbyTg ? 100 : 0,
  }));
  if (!weights.some((w) => w.targetGroupArn === standbyTg))
    weights.push({ targetGroupArn: standbyTg, weight: 100 });
  deps.emit({
    service: service.name,
    at: Date.now(),
    type: "action",
    action: "setTraffic",
    description: `rollback: ${standby.name} to 100%, ${live.name} to 0%`,
  });
  await setActions(clients, target, [forwardAction(weights, 0)]);

  // bookkeeping on Auto Scaling, off the traffic path
  if (STANDBY_SUSPENDED.some((p) => standby.suspended.includes(p))) {
    await resumeProcesses(clients, standby.name, STANDBY_SUSPENDED);
  }
  await suspendProcesses(clients, live.name, STANDBY_SUSPENDED);
  await setGroupTags(clients, standby.name, { [TAG.role]: "live" });
  await setGroupTags(clients, live.name, { [TAG.role]: "standby" });
  const durationMs = Date.now() - started;
  deps.emit({
    service: service.name,
    at: Date.now(),
    type: "rollback.completed",
    live: standby.name,
    standby: live.name,
    durationMs,
  });
  return {
    ok: true,
    service: service.name,
    live: standby.name,
    standby: live.name,
    release: standby.tags[TAG.release] ?? "",
    durationMs,
    scaledUp,
  };
}

function pickStandby(
  groups: ManagedGroup[],
  live: ManagedGroup,
  to: string | undefined,
  service: string,
): ManagedGroup {
  const candidates = groups
    .filter((g) => g.name !== live.name && !g.deleting && g.targetGroupArns.length > 0)
    .sort((a, b) => Number(b.tags[TAG.sequence]) - Number(a.tags[TAG.sequence]));
  if (to) {
    if (to === live.name) {
      throw new InputError("INVALID_INPUT", `${to} is already live for ${service}`);
    }
    const named = candidates.find((g) => g.name === to);
    if (!named) {
      throw new InputError("INVALID_INPUT", `--to ${to}: no such server group of ${service}`, {
        hint: `choose one of: ${candidates.map((g) => g.name).join(", ") || "(none)"}`,
      });
    }
    return named;
  }
  const standby = candidates.find((g) => g.tags[TAG.role] === "standby");
  if (!standby) {
    throw new SwapError("NO_STANDBY", `${service} has no standby group to roll back to`, {
      hint: "deploy the previous release instead: switchyard deploy <service> --release <version>",
    });
  }
  return standby;
}
