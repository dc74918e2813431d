/**
 * observe: reads the world a swap cares about into one Snapshot. A few describe calls per pass
 * (listener, managed groups, green's target health, and while launching, green's activities),
 * none of them per instance.
 */
import {
  type Clients,
  describeTraffic,
  findGroupsByTags,
  findLaunchTemplateId,
  findTargetGroupArn,
  latestLaunchFailure,
  listRules,
  type ManagedGroup,
  type TrafficTarget,
  targetHealth,
  warmupHost,
} from "../aws/index.js";
import { SwapError } from "../core/errors.js";
import type {
  GateResult,
  GroupView,
  Role,
  Snapshot,
  SwapCursor,
  SwapPlan,
  TrafficView,
} from "../core/swap-model.js";
import { TAG } from "../core/tags.js";
import type { MetricGates } from "./metric-gates.js";

export interface ObserveContext {
  clients: Clients;
  traffic: TrafficTarget;
  plan: SwapPlan;
  cursor: SwapCursor;
  /** ids learned in earlier passes, so they are not looked up again */
  known: { greenTargetGroupArn?: string; greenLaunchTemplateId?: string };
  runGates?: () => Promise<GateResult[]>;
  /** the alarms' states and the judge's verdict, read while a step bakes */
  metricGates?: MetricGates;
  now?: () => number;
}

export async function observe(ctx: ObserveContext): Promise<Snapshot> {
  const { clients, plan, cursor, known } = ctx;
  const observed = await describeTraffic(clients, ctx.traffic);
  if (!observed) {
    throw new SwapError(
      "SWAP_INCOMPLETE",
      `the listener ${ctx.traffic.ruleArn ?? ctx.traffic.listenerArn} of ${plan.service} no longer exists`,
    );
  }
  const groups = await findGroupsByTags(clients, { [TAG.app]: plan.app, [TAG.env]: plan.env });
  const greenAsg = groups.find((g) => g.name === plan.green.name);
  const blueAsg = plan.blue ? groups.find((g) => g.name === plan.blue?.name) : undefined;

  if (greenAsg?.targetGroupArns[0]) known.greenTargetGroupArn = greenAsg.targetGroupArns[0];
  if (greenAsg?.launchTemplateId) known.greenLaunchTemplateId = greenAsg.launchTemplateId;
  // parts not yet known (a resumed swap, green's group not created yet or already deleted) are
  // found by name, once: afterwards `act` keeps them current as it creates and deletes them
  if (!known.greenTargetGroupArn) {
    known.greenTargetGroupArn = await findTargetGroupArn(clients, plan.green.targetGroupName);
  }
  if (!known.greenLaunchTemplateId) {
    known.greenLaunchTemplateId = await findLaunchTemplateId(
      clients,
      plan.green.launchTemplateName,
    );
  }

  const traffic: TrafficView = {
    targetGroups: observed.targetGroups,
    stickiness: observed.stickiness,
    forwarding: observed.forwarding,
  };
  if (!plan.blue) {
    const host = warmupHost(plan.swapId);
    const rule = (await listRules(clients, ctx.traffic.listenerArn)).find((r) =>
      r.Conditions?.some(
        (c) => c.HostHeaderConfig?.Values?.includes(host) || c.Values?.includes(host),
      ),
    );
    if (rule?.RuleArn) {
      traffic.warmupRule = {
        arn: rule.RuleArn,
        targetGroupArns: (rule.Actions ?? []).flatMap((a) =>
          a.ForwardConfig?.TargetGroups?.length
            ? a.ForwardConfig.TargetGroups.map((t) => t.TargetGroupArn ?? "")
            : a.TargetGroupArn
              ? [a.TargetGroupArn]
              : [],
        ),
      };
    }
  }

  const green = greenAsg ? toView(greenAsg) : undefined;
  if (green && known.greenTargetGroupArn && cursor.phase !== "rolling-back") {
    green.health = await targetHealth(clients, known.greenTargetGroupArn);
  }
  if (green && cursor.phase === "launching") {
    green.launchFailure = await latestLaunchFailure(clients, green.name, cursor.launchStartedAt);
  }
  const baking = cursor.phase === "shifting" && cursor.bakeStartedAt !== undefined;
  const [gates, metrics] = baking
    ? await Promise.all([
        ctx.runGates ? ctx.runGates() : [],
        ctx.metricGates ? ctx.metricGates.observe(cursor, known.greenTargetGroupArn) : {},
      ])
    : [[], {}];
  return {
    now: (ctx.now ?? Date.now)(),
    traffic,
    green,
    blue: blueAsg ? toView(blueAsg) : undefined,
    greenTargetGroupArn: known.greenTargetGroupArn,
    greenLaunchTemplateId: known.greenLaunchTemplateId,
    gates,
    ...metrics,
  };
}

const ROLES: readonly Role[] = ["live", "standby", "failed", "green"];

export function toView(g: ManagedGroup): GroupView {
  const role = g.tags[TAG.role] as Role;
  return {
    name: g.name,
    sequence: Number(g.tags[TAG.sequence] ?? 0),
    release: g.tags[TAG.release] ?? "",
    role: ROLES.includes(role) ? role : "standby",
    swapId: g.tags[TAG.swapId],
    createdAt: g.tags[TAG.createdAt],
    asg: {
      min: g.capacity.min,
      max: g.capacity.max,
      desired: g.capacity.desired,
      deleting: g.deleting,
      suspended: g.suspended,
      instances: g.instances,
    },
    targetGroupArn: g.targetGroupArns[0],
    launchTemplateId: g.launchTemplateId,
  };
}
