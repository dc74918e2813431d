/**
 * The retire policy: which server groups of a service to keep and which to delete. Pure: it
 * reads one observed fleet and returns one decision per group. The executor (retire.ts) does
 * the deleting.
 *
 * Rules, for one service:
 *
 * 1. A swap in flight (the swap record, i.e. the lock, exists): every group is skipped.
 * 2. The listener is missing: every group is skipped; deleting without knowing what serves
 *    traffic is a guess. When it exists but forwards to no managed group with weight > 0 (a
 *    first deploy that never finished, a maintenance page), only failed groups (rule 5) can be
 *    retired; the others are skipped.
 * 3. Any group whose target group has weight > 0 is kept. The live one is the group whose
 *    target group carries the highest weight: the listener is the truth, not the role tag.
 * 4. A group whose deletion is already in progress is retired (the deletion is finished).
 * 5. Failed groups (`switchyard:role=failed`, and `green` groups left by a swap that no longer
 *    holds the lock) do not count against `keep`: they are retired once older than `minAge`, so
 *    an operator has `minAge` to inspect them.
 * 6. The other groups are standbys, newest (highest sequence) first: the first `keep` are
 *    kept; the rest are retired once older than `minAge`.
 * 7. A group whose age is unknown (no `switchyard:created-at` tag nor a creation time) is kept.
 */
import { formatDuration } from "../core/duration.js";
import type { Weighted } from "../core/swap-model.js";

export type RetireAction = "keep" | "retire" | "skip";

export interface RetireDecision {
  /** the Auto Scaling group */
  name: string;
  action: RetireAction;
  reason: string;
}

/** What the policy needs to know about one server group. */
export interface FleetGroup {
  name: string;
  sequence: number;
  /** the `switchyard:role` tag as found (`live`, `standby`, `failed`, `green`, or anything) */
  role: string;
  /** ms since epoch, from `switchyard:created-at` (else the group's creation time) */
  createdAt?: number | undefined;
  targetGroupArns: string[];
  /** "Delete in progress" */
  deleting: boolean;
}

export interface ServiceFleet {
  service: string;
  groups: FleetGroup[];
  /** the forward action's target groups and weights; undefined when the listener is missing */
  weights: Weighted[] | undefined;
  /** who holds the swap record, when a swap is in flight */
  swapInFlight?: string | undefined;
}

export interface RetirePolicy {
  /** standby groups to keep, newest first (0 or more) */
  keep: number;
  /** groups younger than this (ms) are kept */
  minAgeMs: number;
}

/** The highest weight any of the group's target groups has in the forward action (0 if none). */
export function groupWeight(
  group: Pick<FleetGroup, "targetGroupArns">,
  weights: Weighted[],
): number {
  let top = 0;
  for (const w of weights) {
    if (group.targetGroupArns.includes(w.targetGroupArn)) top = Math.max(top, w.weight);
  }
  return top;
}

/** The live group: the one whose target group has the highest weight > 0 (ties: newest). */
export function liveGroup<G extends Pick<FleetGroup, "targetGroupArns" | "sequence">>(
  groups: readonly G[],
  weights: Weighted[],
): G | undefined {
  let live: G | undefined;
  let liveWeight = 0;
  for (const g of groups) {
    const w = groupWeight(g, weights);
    if (w > liveWeight || (w > 0 && w === liveWeight && live && g.sequence > live.sequence)) {
      live = g;
      liveWeight = w;
    }
  }
  return live;
}

/** One decision per group, newest group first. */
export function decideRetire(
  fleet: ServiceFleet,
  policy: RetirePolicy,
  now: number,
): RetireDecision[] {
  const groups = [...fleet.groups].sort((a, b) => b.sequence - a.sequence);
  if (fleet.swapInFlight !== undefined) {
    const reason = `swap in flight: ${fleet.swapInFlight}`;
    return groups.map((g) => ({ name: g.name, action: "skip", reason }));
  }
  const weights = fleet.weights;
  if (!weights) {
    const reason = `the listener of ${fleet.service} does not exist: nothing is retired without knowing what serves traffic`;
    return groups.map((g) => ({ name: g.name, action: "skip", reason }));
  }
  const live = liveGroup(groups, weights);

  const keep = Math.max(0, Math.floor(policy.keep));
  const age = (g: FleetGroup) => (g.createdAt === undefined ? undefined : now - g.createdAt);
  const tooYoung = (g: FleetGroup): string | undefined => {
    const a = age(g);
    if (a === undefined) return "age unknown (no switchyard:created-at tag); kept";
    if (a < policy.minAgeMs) {
      return `younger than minAge ${formatDuration(policy.minAgeMs)} (created ${formatDuration(Math.max(0, a))} ago)`;
    }
    return undefined;
  };
  const ageText = (g: FleetGroup) => formatDuration(Math.max(0, age(g) ?? 0));

  let standbysKept = 0;
  return groups.map((g): RetireDecision => {
    const weight = groupWeight(g, weights);
    if (g === live) return { name: g.name, action: "keep", reason: `live (weight ${weight})` };
    if (weight > 0) {
      return { name: g.name, action: "keep", reason: `carries traffic (weight ${weight})` };
    }
    if (g.deleting) {
      return { name: g.name, action: "retire", reason: "deletion already in progress" };
    }
    if (g.role === "failed" || g.role === "green") {
      const young = tooYoung(g);
      if (young) return { name: g.name, action: "keep", reason: `${g.role}, ${young}` };
      return {
        name: g.name,
        action: "retire",
        reason:
          g.role === "failed"
            ? `failed group, ${ageText(g)} old`
            : `green left by a swap that no longer holds the lock, ${ageText(g)} old`,
      };
    }
    if (!live) {
      return {
        name: g.name,
        action: "skip",
        reason: `no live group: the listener of ${fleet.service} forwards to no managed group with weight > 0`,
      };
    }
    if (standbysKept < keep) {
      standbysKept++;
      return {
        name: g.name,
        action: "keep",
        reason: `standby ${standbysKept} of keep ${keep} (newest first)`,
      };
    }
    const young = tooYoung(g);
    if (young) return { name: g.name, action: "keep", reason: `standby, ${young}` };
    return {
      name: g.name,
      action: "retire",
      reason: `standby beyond keep ${keep}, ${ageText(g)} old`,
    };
  });
}
