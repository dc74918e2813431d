import { describe, expect, it } from "vitest";
import { describeStatus } from "../../../src/cli/commands/status.js";
import type { SwapCursor } from "../../../src/core/swap-model.js";
import { type GroupStatus, type ServiceStatus, swapStatus } from "../../../src/swap/status.js";
import { sampleRecord } from "../../helpers/record.js";

const record = (cursor: Partial<SwapCursor>) => sampleRecord(cursor);

const NOW = Date.parse("2026-01-01T00:01:05.000Z");
/** a terminal wide enough that no line wraps */
const WIDE = { width: 200 };

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

  it("the judge's last verdict, shown under the swap", () => {
    const lastVerdict = {
      step: 1,
      result: "pass" as const,
      sentence: "green 5xx 0.2 % (3/1500) vs blue 0.1 % (29/28500), p = 0.41: pass",
    };
    const swap = swapStatus(record({ lastVerdict }), NOW);
    expect(swap.verdict).toEqual(lastVerdict);
    expect(swapStatus(record({}), NOW).verdict).toBeNull();
    expect(describeStatus(serviceWith(swap), WIDE)).toContain(
      "    judge at step 1: green 5xx 0.2 % (3/1500) vs blue 0.1 % (29/28500), p = 0.41: pass",
    );
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
    const lines = describeStatus(serviceWith(swapStatus(record({}), NOW)), WIDE);
    expect(lines[2]).toBe(
      "  swap in flight: ab12, shifting, step 2/3 (25%), r2 on web-prod-v002 (blue web-prod-v001)",
    );
  });

  it("says rolling back: <failure message> instead of a step, then where it failed", () => {
    const failure = { code: "GATE_FAILED", message: "gate smoke failed: 3 of 10 requests failed" };
    const lines = describeStatus(
      serviceWith(swapStatus(record({ phase: "rolling-back", failure }), NOW)),
      WIDE,
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
      WIDE,
    );
    expect(lines[2]).toContain("rolling back: green was not healthy within 15m,");
    expect(lines[4]).toBe("    failed while launching (GREEN_UNHEALTHY)");
  });
});

describe("describeStatus within a terminal", () => {
  const group = (name: string, role: GroupStatus["role"], weight: number | null, release: string) =>
    ({
      name,
      role,
      release: `s3://releases/payments-api/production-eu/${release}.tar.gz`,
      sequence: Number(name.slice(-3)),
      createdAt: null,
      capacity: { min: 2, max: 12, desired: 6 },
      instances: { inService: 6, healthy: weight === null ? 0 : 6 },
      weight,
      suspendedProcesses: role === "live" ? [] : ["AlarmNotification", "ScheduledActions"],
      targetGroupArn: null,
      deleting: false,
    }) satisfies GroupStatus;
  const busy: ServiceStatus = {
    service: "payments-api/production-eu",
    groups: [
      group("payments-api-production-eu-v014", "live", 100, "2026.12.03-build.4471-a1b2c3d"),
      group("payments-api-production-eu-v013", "standby", 0, "2026.12.02-build.4460-ffe0123"),
      group("payments-api-production-eu-v012", "standby", null, "2026.12.01-build.4452-0a9b8c7"),
      group("payments-api-production-eu-v011", "standby", null, "2026.11.30-build.4440-77aa001"),
    ],
    swap: swapStatus(record({}), NOW),
    warnings: [
      "traffic is split between groups outside a swap: someone changed the listener by hand; `switchyard status payments-api/production-eu --watch` follows it",
    ],
  };

  it("fits 80 columns: capacity dropped, long releases cut, long lines wrapped, commands whole", () => {
    const lines = describeStatus(busy, { width: 80, keep: 1 });
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(lines[1]).toMatch(/^ {2}GROUP\s+ROLE\s+RELEASE\s+TRAFFIC\s+HEALTHY$/);
    expect(lines[2]).toMatch(
      /^ {2}payments-api-production-eu-v014\s+live\s+2026\.12\.03-\S*…?\s+100%\s+6\/6$/,
    );
    // a command is never cut across lines
    for (const line of lines) expect(line.split("`").length % 2, line).toBe(1);
  });

  it("keeps every column when it fits", () => {
    const lines = describeStatus(busy, { width: 160 });
    expect(lines[1]).toMatch(/HEALTHY\s+MIN\/DES\/MAX$/);
    expect(lines[2]).toContain("2026.12.03-build.4471-a1b2c3d");
    expect(lines[2]).toMatch(/2\/6\/12$/);
  });

  it("says what - means, and nudges retire when more old groups than the policy keeps pile up", () => {
    const text = describeStatus(busy, { width: 200, keep: 1 }).join("\n");
    expect(text).toMatch(/-\/6 +2\/6\/12/);
    expect(text).toContain("-: not in the listener's action, so no traffic and no health checks");
    expect(text).toContain(
      "3 groups without traffic, 1 kept by the retire policy: `switchyard retire payments-api/production-eu --dry-run` shows what it would delete",
    );
    expect(describeStatus(busy, { width: 200, keep: 3 }).join("\n")).not.toContain("retire policy");
    expect(
      describeStatus(busy, { width: 200, keep: 1, hintArgs: ["--config", "prod.yaml"] }).join("\n"),
    ).toContain("`switchyard retire payments-api/production-eu --dry-run --config prod.yaml`");
  });

  it("colours roles only when asked", () => {
    const plain = describeStatus(busy, { width: 200 }).join("\n");
    expect(plain).not.toContain("\u001b[");
    const coloured = describeStatus(busy, { width: 200, color: true });
    expect(coloured[2]).toContain("\u001b[32mlive");
    expect(coloured[3]).toContain("\u001b[36mstandby");
  });
});
