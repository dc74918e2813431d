/**
 * How the live group came to be: the plan of the completed swap that launched it, read from the
 * service's swap history in S3. The wizard shows it beside the new plan. Read-only, and best
 * effort: a group switchyard did not launch, or a history that cannot be read, gives undefined.
 */
import { getJson, listObjects } from "../../aws/s3.js";
import type { SwapPlan } from "../../core/swap-model.js";
import { historyPrefix, type SwapRecord } from "../../swap/record.js";
import type { Switchyard } from "../../switchyard.js";

export async function liveSwapPlan(
  yard: Pick<Switchyard, "clients" | "config">,
  service: string,
  group: string,
): Promise<SwapPlan | undefined> {
  const { state } = yard.config;
  try {
    const objects = await listObjects(yard.clients, state.bucket, historyPrefix(state, service));
    // history keys start with the swap's start time, so the newest sorts last
    const swaps = objects
      .map((o) => o.key)
      .filter((key) => key.endsWith(`-${group}.json`))
      .sort()
      .reverse();
    for (const key of swaps) {
      const got = await getJson<SwapRecord>(yard.clients, state.bucket, key);
      // a completed deploy that launched the group (a rollback to it has no plan)
      if (got?.value.outcome === "completed" && got.value.plan) return got.value.plan;
    }
  } catch {
    // the side-by-side view then shows `?` for what only the history tells
  }
  return undefined;
}
