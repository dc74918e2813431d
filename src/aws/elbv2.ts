/** ELBv2 operations switchyard uses, in domain terms: traffic (a listener's or rule's forward action), target groups, target health. */
import {
  type Action,
  AddTagsCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  paginateDescribeRules,
  paginateDescribeTargetGroups,
  type Rule,
  type Tag,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { TargetGroupConfig } from "../core/config-schema.js";
import { noTargets, type TargetHealthCounts, type Weighted } from "../core/swap-model.js";
import { type CallOptions, call, errorName, throughCall } from "./call.js";
import type { Clients } from "./clients.js";

/** A listener or rule action, as ELBv2 describes and takes it. */
export type ListenerAction = Action;

/** Where a service's traffic is shifted: a listener's default action, or one rule's action. */
export interface TrafficTarget {
  listenerArn: string;
  ruleArn?: string;
}

export interface ObservedTraffic {
  actions: Action[];
  targetGroups: Weighted[];
  stickiness: { enabled: boolean; durationSeconds: number };
  forwarding: boolean;
  loadBalancerArn: string;
}

/** The forward action of a listener (or rule), or `undefined` when it does not exist. */
export async function describeTraffic(
  clients: Clients,
  target: TrafficTarget,
  options: CallOptions = {},
): Promise<ObservedTraffic | undefined> {
  try {
    const out = await call(
      () =>
        clients.elbv2.send(new DescribeListenersCommand({ ListenerArns: [target.listenerArn] })),
      options,
    );
    const listener = out.Listeners?.[0];
    if (!listener) return undefined;
    let actions = listener.DefaultActions ?? [];
    if (target.ruleArn) {
      const rules = await call(
        () => clients.elbv2.send(new DescribeRulesCommand({ RuleArns: [target.ruleArn!] })),
        options,
      );
      actions = rules.Rules?.[0]?.Actions ?? [];
    }
    return { ...readForward(actions), actions, loadBalancerArn: listener.LoadBalancerArn ?? "" };
  } catch (error) {
    if (
      errorName(error) === "ListenerNotFoundException" ||
      errorName(error) === "RuleNotFoundException"
    ) {
      return undefined;
    }
    throw error;
  }
}

export function readForward(
  actions: Action[],
): Omit<ObservedTraffic, "actions" | "loadBalancerArn"> {
  const forward = actions.find((a) => a.Type === "forward");
  if (!forward) {
    return {
      targetGroups: [],
      stickiness: { enabled: false, durationSeconds: 0 },
      forwarding: false,
    };
  }
  const tgs = forward.ForwardConfig?.TargetGroups;
  const targetGroups: Weighted[] = tgs?.length
    ? tgs.map((t) => ({ targetGroupArn: t.TargetGroupArn ?? "", weight: t.Weight ?? 1 }))
    : forward.TargetGroupArn
      ? [{ targetGroupArn: forward.TargetGroupArn, weight: 1 }]
      : [];
  // a lone target group in a plain forward carries all traffic
  if (targetGroups.length === 1 && !tgs?.length) targetGroups[0]!.weight = 100;
  const sticky = forward.ForwardConfig?.TargetGroupStickinessConfig;
  return {
    targetGroups,
    stickiness: {
      enabled: sticky?.Enabled ?? false,
      durationSeconds: sticky?.Enabled ? (sticky.DurationSeconds ?? 0) : 0,
    },
    forwarding: true,
  };
}

/** Whether the actions forward exactly as `expected` does: same groups, weights and stickiness. */
export function sameWeightsForward(actions: Action[], expected: Action): boolean {
  const got = readForward(actions);
  const want = readForward([expected]);
  if (!got.forwarding || got.targetGroups.length !== want.targetGroups.length) return false;
  const weights = new Map(got.targetGroups.map((t) => [t.targetGroupArn, t.weight]));
  return (
    want.targetGroups.every((t) => weights.get(t.targetGroupArn) === t.weight) &&
    got.stickiness.enabled === want.stickiness.enabled &&
    got.stickiness.durationSeconds === want.stickiness.durationSeconds
  );
}

export function forwardAction(targetGroups: Weighted[], stickinessSeconds: number): Action {
  return {
    Type: "forward",
    ForwardConfig: {
      TargetGroups: targetGroups.map((t) => ({
        TargetGroupArn: t.targetGroupArn,
        Weight: t.weight,
      })),
      TargetGroupStickinessConfig:
        stickinessSeconds > 0
          ? { Enabled: true, DurationSeconds: stickinessSeconds }
          : { Enabled: false },
    },
  };
}

/**
 * The actions with these target groups taken out of the weighted forward action; every other
 * field and action as it was. A forward action that would be left empty is left as it was.
 */
export function withoutTargetGroups(actions: Action[], arns: ReadonlySet<string>): Action[] {
  return actions.map((a) => {
    const groups = a.Type === "forward" ? a.ForwardConfig?.TargetGroups : undefined;
    if (!groups?.length) return a;
    const kept = groups.filter((t) => !arns.has(t.TargetGroupArn ?? ""));
    if (kept.length === groups.length || kept.length === 0) return a;
    // the single-target shorthand must not name a group that left the weighted list
    const { TargetGroupArn: _single, ...rest } = a;
    return { ...rest, ForwardConfig: { ...a.ForwardConfig, TargetGroups: kept } };
  });
}

/** Replaces the traffic's actions in one call (ModifyListener or ModifyRule). */
export async function setActions(
  clients: Clients,
  target: TrafficTarget,
  actions: Action[],
  options: CallOptions = {},
): Promise<void> {
  const retryOn = ["TargetGroupNotFoundException", ...(options.retryOn ?? [])];
  if (target.ruleArn) {
    await call(
      () =>
        clients.elbv2.send(new ModifyRuleCommand({ RuleArn: target.ruleArn, Actions: actions })),
      { ...options, retryOn },
    );
    return;
  }
  await call(
    () =>
      clients.elbv2.send(
        new ModifyListenerCommand({ ListenerArn: target.listenerArn, DefaultActions: actions }),
      ),
    { ...options, retryOn },
  );
}

export async function findTargetGroupArn(
  clients: Clients,
  name: string,
  options: CallOptions = {},
): Promise<string | undefined> {
  try {
    const out = await call(
      () => clients.elbv2.send(new DescribeTargetGroupsCommand({ Names: [name] })),
      options,
    );
    return out.TargetGroups?.[0]?.TargetGroupArn;
  } catch (error) {
    if (errorName(error) === "TargetGroupNotFoundException") return undefined;
    throw error;
  }
}

export interface TargetGroupSpec extends TargetGroupConfig {
  name: string;
  vpcId: string;
  tags: Tag[];
}

export async function createTargetGroup(
  clients: Clients,
  spec: TargetGroupSpec,
  options: CallOptions = {},
): Promise<string> {
  const out = await call(
    () =>
      clients.elbv2.send(
        new CreateTargetGroupCommand({
          Name: spec.name,
          Protocol: spec.protocol,
          Port: spec.port,
          VpcId: spec.vpcId,
          TargetType: "instance",
          HealthCheckEnabled: true,
          HealthCheckProtocol: spec.protocol,
          HealthCheckPath: spec.healthCheck.path,
          HealthCheckIntervalSeconds: spec.healthCheck.intervalSeconds,
          HealthCheckTimeoutSeconds: spec.healthCheck.timeoutSeconds,
          HealthyThresholdCount: spec.healthCheck.healthyThreshold,
          UnhealthyThresholdCount: spec.healthCheck.unhealthyThreshold,
          Matcher: { HttpCode: spec.healthCheck.matcher },
          Tags: spec.tags,
        }),
      ),
    options,
  );
  const arn = out.TargetGroups?.[0]?.TargetGroupArn;
  if (!arn) throw new Error(`CreateTargetGroup returned no ARN for ${spec.name}`);
  await call(
    () =>
      clients.elbv2.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: arn,
          Attributes: [
            {
              Key: "deregistration_delay.timeout_seconds",
              Value: String(spec.deregistrationDelaySeconds),
            },
          ],
        }),
      ),
    { ...options, retryOn: ["TargetGroupNotFoundException"] },
  );
  return arn;
}

export async function deleteTargetGroup(
  clients: Clients,
  arn: string,
  options: CallOptions = {},
): Promise<void> {
  try {
    // ResourceInUse right after the listener let go of it is eventual consistency
    await call(() => clients.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })), {
      ...options,
      retryOn: ["ResourceInUseException"],
    });
  } catch (error) {
    if (errorName(error) !== "TargetGroupNotFoundException") throw error;
  }
}

export async function targetHealth(
  clients: Clients,
  arn: string,
  options: CallOptions = {},
): Promise<TargetHealthCounts | undefined> {
  try {
    const out = await call(
      () => clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })),
      options,
    );
    const counts = noTargets();
    for (const d of out.TargetHealthDescriptions ?? []) {
      const state = d.TargetHealth?.State ?? "unavailable";
      counts.total++;
      if (state === "healthy") counts.healthy++;
      else if (state === "unhealthy") {
        counts.unhealthy++;
        counts.unhealthyTargets.push({
          id: d.Target?.Id ?? "?",
          reason: d.TargetHealth?.Description ?? d.TargetHealth?.Reason ?? "unhealthy",
          ...(d.TargetHealth?.Reason ? { code: d.TargetHealth.Reason } : {}),
        });
      } else if (state === "initial") counts.initial++;
      else if (state === "draining") counts.draining++;
      else if (state === "unused") counts.unused++;
    }
    return counts;
  } catch (error) {
    if (errorName(error) === "TargetGroupNotFoundException") return undefined;
    throw error;
  }
}

/** The host header of the warm-up rule: no real request ever carries it. */
export function warmupHost(swapId: string): string {
  return `warmup-${swapId}.switchyard.invalid`;
}

export async function listRules(
  clients: Clients,
  listenerArn: string,
  options: CallOptions = {},
): Promise<Rule[]> {
  const rules: Rule[] = [];
  const pages = paginateDescribeRules(
    { client: throughCall(clients.elbv2, options) },
    { ListenerArn: listenerArn },
  );
  for await (const page of pages) rules.push(...(page.Rules ?? []));
  return rules;
}

export async function createWarmupRule(
  clients: Clients,
  listenerArn: string,
  swapId: string,
  targetGroupArn: string,
  options: CallOptions = {},
): Promise<string> {
  const rules = await listRules(clients, listenerArn, options);
  const taken = new Set(rules.map((r) => r.Priority));
  let priority = 50000;
  while (taken.has(String(priority))) priority--;
  const out = await call(
    () =>
      clients.elbv2.send(
        new CreateRuleCommand({
          ListenerArn: listenerArn,
          Priority: priority,
          Conditions: [
            { Field: "host-header", HostHeaderConfig: { Values: [warmupHost(swapId)] } },
          ],
          Actions: [{ Type: "forward", TargetGroupArn: targetGroupArn }],
        }),
      ),
    { ...options, retryOn: ["TargetGroupNotFoundException"] },
  );
  return out.Rules?.[0]?.RuleArn ?? "";
}

export async function deleteRule(clients: Clients, ruleArn: string, options: CallOptions = {}) {
  try {
    await call(() => clients.elbv2.send(new DeleteRuleCommand({ RuleArn: ruleArn })), options);
  } catch (error) {
    if (errorName(error) !== "RuleNotFoundException") throw error;
  }
}

/** Every target group in the region (all pages): its ARN and name. */
export async function listTargetGroups(
  clients: Clients,
  options: CallOptions = {},
): Promise<Array<{ arn: string; name: string }>> {
  const groups: Array<{ arn: string; name: string }> = [];
  const pages = paginateDescribeTargetGroups(
    { client: throughCall(clients.elbv2, options) },
    { PageSize: 400 },
  );
  for await (const page of pages) {
    for (const g of page.TargetGroups ?? []) {
      if (g.TargetGroupArn && g.TargetGroupName) {
        groups.push({ arn: g.TargetGroupArn, name: g.TargetGroupName });
      }
    }
  }
  return groups;
}

/** The tags of these resources (DescribeTags, 20 ARNs a call), by ARN; missing ones are left out. */
export async function describeResourceTags(
  clients: Clients,
  arns: string[],
  options: CallOptions = {},
): Promise<Map<string, Record<string, string>>> {
  const tags = new Map<string, Record<string, string>>();
  for (let i = 0; i < arns.length; i += 20) {
    const batch = arns.slice(i, i + 20);
    const out = await call(
      () => clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: batch })),
      options,
    );
    for (const d of out.TagDescriptions ?? []) {
      if (!d.ResourceArn) continue;
      tags.set(
        d.ResourceArn,
        Object.fromEntries((d.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
      );
    }
  }
  return tags;
}

/** Adds (or overwrites) tags on a target group; other tags stay as they are. */
export async function setTargetGroupTags(
  clients: Clients,
  arn: string,
  tags: Record<string, string>,
  options: CallOptions = {},
): Promise<void> {
  await call(
    () =>
      clients.elbv2.send(
        new AddTagsCommand({
          ResourceArns: [arn],
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      ),
    options,
  );
}
