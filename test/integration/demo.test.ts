import { describe, expect, it } from "vitest";
import { runDemo } from "../../src/demo/index.js";

describe("the demo", () => {
  it("given no AWS account, when it runs, then r2 is swapped in step by step under traffic, rolled back, a flaky r3 is caught by the judge, and retire shows what the policy keeps", async () => {
    let printed = "";
    const summary = await runDemo({
      out: { write: (text: string) => (printed += text) },
      bakeMs: 600,
      requestsPerSecond: 60,
    });
    expect(summary.ok).toBe(true);
    // the only failures are the flaky release's, while it served its 5%
    expect(summary.flaky).toMatchObject({ caught: true, code: "ANALYSIS_FAILED" });
    expect(summary.flaky?.verdict).toMatch(
      /^green 5xx [\d.]+ % \(\d+\/\d+\) vs blue 0 % .*: fail$/,
    );
    expect(summary.flaky?.failures).toBeGreaterThan(0);
    expect(summary.failures).toBe(summary.flaky?.failures);
    expect(summary.live).toBe("web-demo-v001");
    // retire with the service's policy keeps live and the young standby; keep 0 would retire it
    expect(summary.retire).toEqual({
      kept: ["web-demo-v002", "web-demo-v001"],
      deleted: [],
      wouldDelete: ["web-demo-v002"],
    });
    const steps = summary.steps.filter((s) => s.weight !== undefined);
    expect(steps.map((s) => s.weight)).toEqual([5, 25, 50, 100]);
    // the 100% step serves r2 (a few answers may still come from r1 while the change propagates)
    const last = steps.at(-1)!;
    expect(last.versions.r2 ?? 0).toBeGreaterThan((last.versions.r1 ?? 0) * 5);
    const before = summary.steps.find((s) => s.label === "before the swap")!;
    expect(Object.keys(before.versions)).toEqual(["r1"]);
    expect(printed).toContain("summary");
    expect(printed).toMatch(
      /flaky r3 +caught by the judge at 5% and rolled back by itself: \d+ of \d+ requests failed/,
    );
    expect(printed).toMatch(/judge: green 5xx .*: fail/);
    expect(printed).toContain("would delete web-demo-v002");
  });
});
