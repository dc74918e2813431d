import { describe, expect, it } from "vitest";
import {
  applyCheckResult,
  type CheckResult,
  failedResult,
  markInitial,
  resultForStatus,
  statusMatches,
} from "../../../src/sandbox/runtime/health.js";
import type { HealthCheck, Target } from "../../../src/sandbox/state.js";

const hc: HealthCheck = {
  protocol: "HTTP",
  port: "traffic-port",
  path: "/health",
  intervalSeconds: 5,
  timeoutSeconds: 2,
  healthyThreshold: 3,
  unhealthyThreshold: 2,
  matcher: "200",
  enabled: true,
};

function newTarget(): Target {
  const target: Target = {
    id: "i-1",
    port: 80,
    state: "initial",
    okStreak: 0,
    failStreak: 0,
    registeredAt: 0,
  };
  markInitial(target);
  return target;
}

const ok = resultForStatus("200", 200);
const code500 = resultForStatus("200", 500);

function run(target: Target, ...results: CheckResult[]): Target {
  for (const r of results) applyCheckResult(target, hc, r);
  return target;
}

describe("health check matcher", () => {
  it.each([
    ["200", 200, true],
    ["200", 204, false],
    ["200-299", 204, true],
    ["200-299", 302, false],
    ["200,302", 302, true],
    ["200,300-302", 301, true],
    ["nonsense", 200, true],
  ])("%s matches %i: %s", (matcher, status, expected) => {
    expect(statusMatches(matcher, status)).toBe(expected);
  });

  it("reports a mismatch with AWS's wording", () => {
    expect(code500).toEqual({
      ok: false,
      reason: "Target.ResponseCodeMismatch",
      description: "Health checks failed with these codes: [500]",
    });
  });
});

describe("target health transitions", () => {
  it("stays initial until the healthy threshold of consecutive successes", () => {
    const target = run(newTarget(), ok, ok);
    expect(target).toMatchObject({ state: "initial", reason: "Elb.InitialHealthChecking" });
    run(target, ok);
    expect(target.state).toBe("healthy");
    expect(target.reason).toBeUndefined();
  });

  it("a failure resets the success streak", () => {
    const target = run(newTarget(), ok, ok, code500, ok, ok);
    expect(target.state).toBe("initial");
  });

  it("becomes unhealthy after the unhealthy threshold of consecutive failures, with the last reason", () => {
    const target = run(newTarget(), ok, ok, ok, code500);
    expect(target.state).toBe("healthy");
    run(target, failedResult());
    expect(target).toMatchObject({ state: "unhealthy", reason: "Target.FailedHealthChecks" });
    run(target, code500);
    expect(target.reason).toBe("Target.ResponseCodeMismatch");
  });

  it("an unhealthy target recovers after the healthy threshold", () => {
    const target = run(newTarget(), code500, code500);
    expect(target.state).toBe("unhealthy");
    run(target, ok, ok);
    expect(target.state).toBe("unhealthy");
    run(target, ok);
    expect(target.state).toBe("healthy");
  });
});
