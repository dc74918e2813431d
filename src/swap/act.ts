/**
 * act: performs one action named by nextAction, as one (or a few tightly bound) AWS calls.
 * Each is idempotent: repeating it after a crash finds the work done and changes nothing.
 */
import {
  type Clients,
  copyScaling,
  createGroup,
  createLaunchTemplate,
  createTargetGroup,
  createWarmupRule,
  deleteGroup,
  deleteLaunchTemplate,
  deleteRule,
  deleteTargetGroup,
  describeTraffic,
  forwardAction,
  type ListenerAction,
  resumeProcesses,
  sameWeightsForward,
  setActions,
  setGroupTags,
  suspendProcesses,
  type TrafficTarget,
  updateCapacity,
} from "../aws/index.js";
import { type Action, formatWeights, STANDBY_SUSPENDED } from "../core/decide.js";
import { SwapError } from "../core/errors.js";
import type { SwapPlan } from "../core/swap-model.js";
import { groupTagRecord } from "../core/tags.js";
import type { SwapLock } from "./record.js";
import { waitFor } from "./wait.js";

export interface ActContext {
  clients: Clients;
  traffic: TrafficTarget;
  plan: SwapPlan;
  lock: SwapLock;
  known: { greenTargetGroupArn?: string; greenLaunchTemplateId?: string };
  pollIntervalMs: number;
}

export function describeAction(action: Action, plan: SwapPlan): string {
  const g = plan.green.name;
  switch (action.type) {
    case "createLaunchTemplate":
      return `create launch template ${plan.green.launchTemplateName} (${plan.release.version})`;
    case "createTargetGroup":
      return `create target group ${plan.green.targetGroupName}`;
    case "createWarmupRule":
      return `add a warm-up rule so ${plan.green.targetGroupName} is health-checked`;
    case "deleteWarmupRule":
      return "delete the warm-up rule";
    case "createGroup":
      return `create Auto Scaling group ${g} (desired ${plan.capacity.desired})`;
    case "pinBlue":
      return `pin ${plan.blue?.name} min capacity at ${action.min} (was ${action.originalMin})`;
    case "releaseBluePin":
      return `restore ${plan.blue?.name} min capacity to ${action.min}`;
    case "setTraffic":
      return `${action.purpose}: set listener weights ${formatWeights(action.targetGroups)}${action.stickinessSeconds ? ` (sticky ${action.stickinessSeconds}s)` : ""}`;
    case "restoreTraffic":
      return "restore the listener's original action";
    case "suspendStandby":
      return `suspend ${STANDBY_SUSPENDED.join(", ")} on standby ${action.group}`;
    case "resumeBlue":
      return `resume ${action.processes.join(", ")} on ${plan.blue?.name}`;
    case "tagRole":
      return `tag ${action.group} as ${action.role}`;
    case "deleteGreenGroup":
      return `delete Auto Scaling group ${g}`;
    case "deleteGreenTargetGroup":
      return `delete target group ${plan.green.targetGroupName}`;
    case "deleteGreenLaunchTemplate":
      return `delete launch template ${plan.green.launchTemplateName}`;
    case "updateCursor":
      return action.reason;
  }
}

export async function act(ctx: ActContext, action: Action): Promise<void> {
  const { clients, plan, known } = ctx;
  switch (action.type) {
    case "createLaunchTemplate": {
      known.greenLaunchTemplateId = await createLaunchTemplate(clients, {
        name: plan.green.launchTemplateName,
        imageId: plan.launch.imageId,
        instanceType: plan.launch.instanceType,
        securityGroupIds: plan.launch.securityGroupIds,
        instanceProfile: plan.launch.instanceProfile,
        userDataBase64: plan.launch.userData,
        tags: greenTags(plan),
      });
      return;
    }
    case "createTargetGroup": {
      known.greenTargetGroupArn = await createTargetGroup(clients, {
        name: plan.green.targetGroupName,
        vpcId: plan.launch.vpcId,
        ...plan.launch.targetGroup,
        tags: Object.entries(greenTags(plan)).map(([Key, Value]) => ({ Key, Value })),
      });
      return;
    }
    case "createWarmupRule": {
      const arn = await createWarmupRule(
        clients,
        ctx.traffic.listenerArn,
        plan.swapId,
        requireKnown(known.greenTargetGroupArn, "target group"),
      );
      await ctx.lock.update({ cursor: { warmupRuleArn: arn } });
      return;
    }
    case "deleteWarmupRule":
      await deleteRule(clients, action.ruleArn);
      return;
    case "createGroup": {
      await createGroup(clients, {
        name: plan.green.name,
        launchTemplateId: requireKnown(known.greenLaunchTemplateId, "launch template"),
        capacity: plan.capacity,
        subnets: plan.launch.subnets,
        targetGroupArn: requireKnown(known.greenTargetGroupArn, "target group"),
        healthCheckGracePeriodSeconds: plan.launch.healthCheckGracePeriodSeconds,
        tags: greenTags(plan),
      });
      if (plan.blue) await copyScaling(clients, plan.blue.name, plan.green.name);
      return;
    }
    case "pinBlue": {
      // the original min goes into the record first, so every failure path can restore it
      await ctx.lock.update({ cursor: { blueOriginalMin: action.originalMin } });
      // a blue whose min already equals its desired capacity needs no pin
      if (action.min !== action.originalMin) {
        await updateCapacity(clients, requireBlue(plan), { min: action.min });
      }
      return;
    }
    case "releaseBluePin":
      await updateCapacity(clients, requireBlue(plan), { min: action.min });
      return;
    case "setTraffic": {
      const forward = forwardAction(action.targetGroups, action.stickinessSeconds);
      await setActions(clients, ctx.traffic, [forward]);
      const movedAt = Date.now();
      // what the swap wrote: anything else found later is someone else's change (drift)
      await ctx.lock.update({
        cursor: {
          traffic: action.targetGroups,
          ...(action.purpose === "rollback" ? { trafficMovedAt: movedAt } : {}),
        },
      });
      await waitForListener(ctx, (actions) => sameWeightsForward(actions, forward));
      return;
    }
    case "restoreTraffic": {
      const original = plan.originalActions as ListenerAction[];
      await setActions(clients, ctx.traffic, original);
      await ctx.lock.update({ cursor: { traffic: [], trafficMovedAt: Date.now() } });
      return;
    }
    case "suspendStandby":
      await suspendProcesses(clients, action.group, STANDBY_SUSPENDED);
      return;
    case "resumeBlue":
      await resumeProcesses(clients, requireBlue(plan), action.processes);
      return;
    case "tagRole":
      await setGroupTags(clients, action.group, {
        "switchyard:role": action.role,
        "switchyard:swap-id": plan.swapId,
      });
      return;
    case "deleteGreenGroup":
      await deleteGroup(clients, plan.green.name);
      return;
    case "deleteGreenTargetGroup":
      if (known.greenTargetGroupArn) await deleteTargetGroup(clients, known.greenTargetGroupArn);
      known.greenTargetGroupArn = undefined;
      return;
    case "deleteGreenLaunchTemplate":
      if (known.greenLaunchTemplateId)
        await deleteLaunchTemplate(clients, known.greenLaunchTemplateId);
      known.greenLaunchTemplateId = undefined;
      return;
    case "updateCursor":
      await ctx.lock.update({ cursor: action.cursor, consume: action.consume });
      return;
  }
}

/** Reads the listener back until it shows the change: ALB rule changes are eventually consistent. */
async function waitForListener(ctx: ActContext, done: (actions: ListenerAction[]) => boolean) {
  await waitFor(
    async () => {
      const t = await describeTraffic(ctx.clients, ctx.traffic);
      return t !== undefined && done(t.actions);
    },
    {
      timeoutMs: 60_000,
      intervalMs: Math.min(ctx.pollIntervalMs, 1000),
      what: "the listener to show the new weights",
    },
  );
}

function greenTags(plan: SwapPlan): Record<string, string> {
  return groupTagRecord({
    app: plan.app,
    env: plan.env,
    release: plan.release.url,
    sequence: plan.green.sequence,
    role: "green",
    createdAt: new Date().toISOString(),
    swapId: plan.swapId,
  });
}

function requireKnown(value: string | undefined, what: string): string {
  if (!value) throw new SwapError("SWAP_INCOMPLETE", `green's ${what} is not known yet`);
  return value;
}

function requireBlue(plan: SwapPlan): string {
  if (!plan.blue) throw new SwapError("SWAP_INCOMPLETE", "this swap has no blue group");
  return plan.blue.name;
}
