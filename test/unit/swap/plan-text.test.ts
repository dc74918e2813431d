import { describe, expect, it } from "vitest";
import { describePlan, loadBalancerOfListener } from "../../../src/swap/deploy.js";
import { samplePlan } from "../../helpers/plan.js";

describe("deploy --dry-run's plan", () => {
  it("lists the gates that will run: commands, alarms and the analysis", () => {
    const lines = describePlan(
      samplePlan({
        gates: ["./smoke.sh"],
        alarms: { names: ["web-5xx", "web-p99"], unreadable: "fail" },
        analysis: {
          loadBalancer: "app/web/1",
          periodMs: 60_000,
          lagMs: 60_000,
          maxExtensionMs: 300_000,
          onInsufficientData: "fail",
          alpha: 0.01,
          minDifference: 0.01,
          minRequests: 500,
          latency: { stat: "p99", ratio: 1.25, floorSeconds: 0.05 },
        },
      }),
    );
    expect(lines).toContain("gates        ./smoke.sh");
    expect(lines).toContain(
      "alarms       web-5xx, web-p99 (read during every bake; ALARM rolls back)",
    );
    expect(lines).toContain(
      "analysis     green vs blue at each step below 100%: 5xx rate at most 1 point above blue's (α 0.01), p99 at most 1.25× blue's + 50ms; at least 500 requests each, else the bake is extended up to 5m, then fail",
    );
  });

  it("says a first deploy is not judged", () => {
    const plan = samplePlan({ blue: null });
    const lines = describePlan({
      ...plan,
      analysis: {
        loadBalancer: "app/web/1",
        periodMs: 60_000,
        lagMs: 60_000,
        maxExtensionMs: 0,
        onInsufficientData: "fail",
        alpha: 0.01,
        minDifference: 0.005,
        minRequests: 500,
      },
    });
    expect(lines).toContain("analysis     none: a first deploy has no blue to compare with");
  });

  it("finds the load balancer's metric dimension in the listener's ARN", () => {
    expect(
      loadBalancerOfListener(
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web-prod/50dc6c495c0c9188/f2f7dc8efc522ab2",
      ),
    ).toBe("app/web-prod/50dc6c495c0c9188");
  });
});
