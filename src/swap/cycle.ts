/**
 * cycle: replaces the live group's instances a batch at a time, under the service's lock and
 * through the same loop as a deploy. The group drains each instance it terminates (it is
 * deregistered from the target group first) and launches a replacement; the next batch goes only
 * once every desired instance is healthy behind the listener again. Desired, min and max are
 * never touched.
 */
import {
  describeGroup,
  describeTraffic,
  findGroupsByTags,
  replaceInstance,
  targetHealth,
} from "../aws/index.js";
import type { ServiceConfig } from "../core/config.js";
import {
  type CycleAction,
  type CyclePlan,
  type CycleSnapshot,
  nextCycleAction,
} from "../core/cycle-rules.js";
import { InputError, SwapError } from "../core/errors.js";
import { TAG } from "../core/tags.js";
import { reconcile } from "./loop.js";
import { toView } from "./observe.js";
import { groupProgress } from "./progress.js";
import { currentOwner, SwapLock } from "./record.js";
import type { SwapDeps } from "./swap.js";
import { findLive, trafficTarget } from "./traffic.js";

export interface CycleOptions {
  /** instances replaced at a time (default 1); smaller than the group's desired capacity */
  batch?: number;
  /** only these instances (default: every instance of the live group) */
  instances?: string[];
  /** plan and report, change nothing */
  dryRun?: boolean;
}

export interface CycleResult {
  service: string;
  group: string;
  dryRun: boolean;
  /** replaced (with dryRun: to be replaced), in order */
  replaced: string[];
  batch: number;
  durationMs: number;
}

/** The plan of a cycle, from the live group as it is now. Read-only. */
export async function planCycle(
  deps: Pick<SwapDeps, "clients">,
  service: ServiceConfig,
  options: CycleOptions,
): Promise<CyclePlan> {
  const batch = options.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) {
    throw new InputError("INVALID_INPUT", `--batch must be a whole number ≥ 1; got ${batch}`);
  }
  const [traffic, groups] = await Promise.all([
    describeTraffic(deps.clients, trafficTarget(service)),
    findGroupsByTags(deps.clients, { [TAG.app]: service.app, [TAG.env]: service.env }),
  ]);
  const live = traffic ? findLive(groups, traffic.targetGroups) : undefined;
  if (!live?.targetGroupArns[0]) {
    throw new InputError("PREFLIGHT_FAILED", `${service.name}: no managed group carries traffic`, {
      hint: `run \`switchyard status ${service.name}\``,
    });
  }
  const desired = live.capacity.desired;
  if (batch >= desired) {
    throw new InputError(
      "INVALID_INPUT",
      `--batch ${batch} would take every healthy instance of ${live.name} out at once (desired ${desired})`,
      { hint: `use a batch smaller than ${desired}, e.g. --batch 1` },
    );
  }
  const present = live.instances.map((i) => i.id);
  const unknown = (options.instances ?? []).filter((id) => !present.includes(id));
  if (unknown.length > 0) {
    throw new InputError(
      "INVALID_INPUT",
      `${unknown.join(", ")} ${unknown.length === 1 ? "is" : "are"} not an instance of ${live.name}`,
      { hint: `its instances: ${present.join(", ") || "(none)"}` },
    );
  }
  return {
    group: live.name,
    targetGroupArn: live.targetGroupArns[0],
    instances: options.instances?.length ? [...options.instances] : present,
    batch,
    desired,
    healthyTimeoutMs: service.healthyTimeout,
  };
}

export async function cycle(
  deps: SwapDeps,
  service: ServiceConfig,
  options: CycleOptions = {},
): Promise<CycleResult> {
  const started = Date.now();
  const plan = await planCycle(deps, service, options);
  if (options.dryRun) {
    return {
      service: service.name,
      group: plan.group,
      dryRun: true,
      replaced: plan.instances,
      batch: plan.batch,
      durationMs: 0,
    };
  }
  const now = new Date();
  const lock = await SwapLock.acquire(deps.clients, deps.state, {
    version: 1,
    kind: "cycle",
    swapId: `cy-${Math.random().toString(16).slice(2, 10)}`,
    service: service.name,
    owner: currentOwner(),
    startedAt: now.toISOString(),
    heartbeatAt: now.toISOString(),
    cursor: { phase: "restoring", stepIndex: -1, launchStartedAt: now.getTime() },
    cycle: { plan, replaced: [], batchAt: now.getTime() },
  });
  return runCycle(deps, service, lock, started);
}

/** Drives a cycle whose lock is held (new, or taken over from a process that is gone). */
export async function runCycle(
  deps: SwapDeps,
  service: ServiceConfig,
  lock: SwapLock,
  started = Date.parse(lock.record.startedAt),
): Promise<CycleResult> {
  const state = () => {
    const c = lock.record.cycle;
    if (!c) throw new SwapError("SWAP_INCOMPLETE", `${service.name}: the cycle record has no plan`);
    return c;
  };
  const plan = state().plan;
  try {
    const ended = await reconcile<CycleSnapshot, CycleAction>(
      {
        observe: async () => {
          const [group, health] = await Promise.all([
            describeGroup(deps.clients, plan.group),
            targetHealth(deps.clients, plan.targetGroupArn),
          ]);
          const view = group ? toView(group) : undefined;
          if (view) view.health = health;
          return { now: Date.now(), group: view };
        },
        decide: (s) => nextCycleAction(s, plan, state()),
        act: async (action) => {
          for (const id of action.instances) await replaceInstance(deps.clients, id);
          const c = state();
          await lock.update({
            cycle: { ...c, replaced: [...c.replaced, ...action.instances], batchAt: Date.now() },
          });
        },
        describe: (action) =>
          `replace ${action.instances.join(", ")} in ${plan.group} (${state().replaced.length + action.instances.length}/${plan.instances.length}); drained first, desired kept at ${plan.desired}`,
        progress: (s) => ({
          groups: [groupProgress(s.group, plan.group, "live", plan.desired)],
        }),
        announce: () => undefined,
      },
      {
        lock,
        emit: deps.emit,
        pollIntervalMs: deps.pollIntervalMs,
        heartbeatMs: deps.heartbeatMs,
        signal: deps.signal,
      },
    );
    if (ended.outcome === "stopped") {
      await lock.close("cancelled");
      throw new SwapError(
        ended.code === "ABORTED" ? "ABORTED" : "SWAP_INCOMPLETE",
        `${service.name}: ${ended.message}`,
        {
          hint: `${state().replaced.length} of ${plan.instances.length} instances were replaced; run the cycle again for the rest`,
        },
      );
    }
    await lock.close("completed");
    const durationMs = Date.now() - started;
    const replaced = state().replaced;
    deps.emit({
      service: service.name,
      at: Date.now(),
      type: "cycle.completed",
      group: plan.group,
      replaced,
      durationMs,
    });
    return {
      service: service.name,
      group: plan.group,
      dryRun: false,
      replaced,
      batch: plan.batch,
      durationMs,
    };
  } finally {
    lock.release();
  }
}
