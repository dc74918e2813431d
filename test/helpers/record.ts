/**
 * A swap record for unit tests of what reads one (status, watch, the CLI views): a swap of r2
 * onto web-prod-v002 from web-prod-v001, steps 5/25/100, shifting at step 2.
 */
import type { SwapCursor } from "../../src/core/swap-model.js";
import type { SwapRecord } from "../../src/swap/record.js";

export function sampleRecord(
  cursor: Partial<SwapCursor> = {},
  more: Partial<SwapRecord> = {},
): SwapRecord {
  return {
    version: 1,
    kind: "deploy",
    swapId: "ab12",
    service: "web/prod",
    owner: { host: "ci-1", pid: 42, user: "ops" },
    startedAt: "2026-01-01T00:00:00.000Z",
    heartbeatAt: "2026-01-01T00:01:00.000Z",
    plan: {
      release: { url: "s3://releases/web/prod/r2.tar.gz", version: "r2" },
      green: { name: "web-prod-v002" },
      blue: { name: "web-prod-v001" },
      steps: [5, 25, 100],
      bakeMs: 60_000,
    },
    cursor: { phase: "shifting", stepIndex: 1, launchStartedAt: 0, ...cursor },
    ...more,
  } as unknown as SwapRecord;
}
