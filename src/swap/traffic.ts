/**
 * Where a service's traffic is and who carries it: the listener (or rule) switchyard shifts,
 * the live group behind it, and ALB's limit on a forward action.
 */
import type { ManagedGroup, TrafficTarget } from "../aws/index.js";
import type { ServiceConfig } from "../core/config.js";

/** ALB allows at most this many target groups in one forward action. */
export const FORWARD_ACTION_LIMIT = 5;

export function trafficTarget(service: ServiceConfig): TrafficTarget {
  return { listenerArn: service.listenerArn, ruleArn: service.ruleArn };
}

/** The live group: the managed group whose target group carries the most traffic. */
export function findLive(
  groups: ManagedGroup[],
  weights: Array<{ targetGroupArn: string; weight: number }>,
): ManagedGroup | undefined {
  const byTg = new Map(groups.flatMap((g) => g.targetGroupArns.map((arn) => [arn, g] as const)));
  const carrying = weights.filter((w) => w.weight > 0).sort((a, b) => b.weight - a.weight);
  return carrying.length ? byTg.get(carrying[0]!.targetGroupArn) : undefined;
}

/** How long traffic may still reach a group after a listener change took it off. */
export function drainMs(service: ServiceConfig): number {
  return service.listenerPropagation + service.targetGroup.deregistrationDelaySeconds * 1000;
}
