import { describe, expect, it } from "vitest";
import { describeStatus } from "../../../src/cli/commands/status.js";
import type { SwapCursor } from "../../../src/core/swap-model.js";
import { type ServiceStatus, swapStatus } from "../../../src/swap/status.js";
import { sampleRecord } from "../../helpers/record.js";

const record = (cursor: Partial<SwapCursor>) => sampleRecord(cursor);

const NOW = Date.parse("2026-01-01T00:01:05.000Z");

function serviceWith(swap: ServiceStatus["swap"]): ServiceStatus {
  return { service: "web/prod", groups: [], swap, warnings: [] };
}

describe("swapStatus", () => {
  it("while shifting: the step reached and its weight", () => {
    expect(swapStatus(record({}), NOW)).toMatchObject({
      phase: "shifting",
      step: 2,
      of: 3,
      weight: 25,
      failure: null,
      heartbeatAgeMs: 5000,
    });
  });

  it("while rolling back: no weight, the step it failed at, and why", () => {
    const failure = { code: "GATE_FAILED", message: "gate smoke failed: 3 of 10 requests failed" };
    expect(swapStatus(record({ phase: "rolling-back", failure }), NOW)).toMatchObject({
      phase: "rolling-back",
      step: 2,
      of: 3,
      weight: null,
      failure,
    });
  });

  it("the bake of the step reached and the weights the swap set", () => {
    const traffic = [{ targetGroupArn: "arn:tg/v002", weight: 25 }];
    const baking = record({ bakeStartedAt: NOW - 1_000, traffic });
    (baking.plan as { bakeMs?: number }).bakeMs = 60_000;
    expect(swapStatus(baking, NOW)).toMatchObject({
      bake: { startedAt: NOW - 1_000, ms: 60_000 },
      traffic,
    });
    // no bake before the step's weights are in place, nor once it rolls back
    expect(swapStatus(record({}), NOW)).toMatchObject({ bake: null, traffic: null });
    const back = record({ phase: "rolling-back", bakeStartedAt: NOW, traffic });
    expect(swapStatus(back, NOW).bake).toBeNull();
  });

  it("while launching: step 0 and no weight", () => {
    expect(swapStatus(record({ phase: "launching", stepIndex: -1 }), NOW)).toMatchObject({
      step: 0,
      weight: null,
    });
  });
});

describe("describeStatus of a swap in flight", () => {
  it("shows the phase, the step and its weight while shifting", () => {
    const lines = describeStatus(serviceWith(swapStatus(record({}), NOW)));
    expect(lines[2]).toBe(
      "  swap in flight: ab12, shifting, step 2/3 (25%), r2 on web-prod-v002 (blue web-prod-v001)",
    );
  });

  it("says rolling back: <failure message> instead of a step, then where it failed", () => {
    const failure = { code: "GATE_FAILED", message: "gate smoke failed: 3 of 10 requests failed" };
    const lines = describeStatus(
      serviceWith(swapStatus(record({ phase: "rolling-back", failure }), NOW)),
    );
    expect(lines[2]).toBe(
      "  swap in flight: ab12, rolling back: gate smoke failed: 3 of 10 requests failed, r2 on web-prod-v002 (blue web-prod-v001)",
    );
    expect(lines[3]).toBe(
      "    by ops@ci-1 pid 42, started 2026-01-01T00:00:00.000Z, heartbeat 5s ago",
    );
    expect(lines[4]).toBe("    failed at step 2/3 (GATE_FAILED)");
    expect(lines.join("\n")).not.toContain("(25%)");
  });

  it("a rollback that began while launching says so", () => {
    const failure = { code: "GREEN_UNHEALTHY", message: "green was not healthy within 15m" };
    const lines = describeStatus(
      serviceWith(swapStatus(record({ phase: "rolling-back", stepIndex: -1, failure }), NOW)),
    );
    expect(lines[2]).toContain("rolling back: green was not healthy within 15m,");
    expect(lines[4]).toBe("    failed while launching (GREEN_UNHEALTHY)");
  });
});
