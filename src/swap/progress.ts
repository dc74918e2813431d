/** A group's health as a wait's progress shows it: healthy targets against desired capacity. */
import type { GroupProgress } from "../core/events.js";
import type { GroupView } from "../core/swap-model.js";

export function groupProgress(
  view: GroupView | undefined,
  name: string,
  role: GroupProgress["role"],
  desired: number,
): GroupProgress {
  const reasons = [...new Set(view?.health?.unhealthyTargets.map((t) => t.reason) ?? [])];
  // a group whose targets are not looked at (blue during a deploy): its healthy instances in service
  const inService =
    view?.asg?.instances.filter((i) => i.lifecycle === "InService" && i.health === "Healthy")
      .length ?? 0;
  return {
    name,
    role,
    healthy: view?.health ? view.health.healthy : inService,
    desired,
    ...(reasons.length > 0 ? { unhealthy: reasons } : {}),
  };
}
