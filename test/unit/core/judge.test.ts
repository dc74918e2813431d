/** The judge of green against blue: which test it uses, when it fails, and what it says. */
import { describe, expect, it } from "vitest";
import { compareErrorRates, judge, sumCounts } from "../../../src/core/judge.js";

describe("judge: 5xx of green against blue", () => {
  it("fails a green clearly worse than blue, and says so in one sentence", () => {
    const verdict = judge({
      green: { requests: 1000, errors: 23 },
      blue: { requests: 4000, errors: 4 },
    });
    expect(verdict.result).toBe("fail");
    expect(verdict.sentence).toBe(
      "green 5xx 2.3 % (23/1000) vs blue 0.1 % (4/4000), p < 0.001: fail",
    );
    expect(verdict.errors).toMatchObject({ test: "fisher", difference: 0.023 - 0.001 });
  });

  it("passes the same rate on both sides (A/A)", () => {
    const verdict = judge({
      green: { requests: 1500, errors: 15 },
      blue: { requests: 28_500, errors: 285 },
    });
    expect(verdict.result).toBe("pass");
    expect(verdict.sentence).toMatch(
      /^green 5xx 1\.0 % \(15\/1500\) vs blue 1\.0 % \(285\/28500\), p = 0\.5\d+: pass$/,
    );
  });

  it("sums per-period counts", () => {
    expect(
      sumCounts([
        { requests: 300, errors: 1 },
        { requests: 310, errors: 0 },
      ]),
    ).toEqual({ requests: 610, errors: 1 });
  });

  it("uses Fisher's exact test, and the z-test only for tables too large to sum", () => {
    const small = compareErrorRates(
      { requests: 1500, errors: 3 },
      { requests: 28_500, errors: 28 },
    );
    expect(small.test).toBe("fisher");
    expect(small.z).toBeGreaterThan(0);
    expect(
      compareErrorRates(
        { requests: 2_000_000, errors: 60_000 },
        { requests: 2_000_000, errors: 59_000 },
      ).test,
    ).toBe("z");
  });

  it("does not fail a significant difference smaller than the practical margin", () => {
    // 0.06 % against 0.01 % on a million requests each: real, but harmless
    const verdict = judge({
      green: { requests: 1_000_000, errors: 600 },
      blue: { requests: 1_000_000, errors: 100 },
    });
    expect(verdict.errors).toMatchObject({ result: "pass" });
    expect((verdict.errors as { pValue: number }).pValue).toBeLessThan(1e-10);
    expect(verdict.sentence).toContain("(a difference under 0.5 points)");
  });

  it("never passes on too little data", () => {
    const verdict = judge({
      green: [{ requests: 120, errors: 0 }],
      blue: [{ requests: 9000, errors: 0 }],
    });
    expect(verdict.result).toBe("insufficient");
    expect(verdict.sentence).toContain("green served 120 requests, fewer than 500");
    expect(
      judge({ green: { requests: 0, errors: 0 }, blue: { requests: 0, errors: 0 } }).result,
    ).toBe("insufficient");
    expect(
      judge({ green: { requests: 1000, errors: 0 }, blue: { requests: 10, errors: 0 } }, {})
        .sentence,
    ).toContain("blue served 10 requests");
  });

  it("takes its significance, margin and minimum from options", () => {
    const input = { green: { requests: 400, errors: 12 }, blue: { requests: 4000, errors: 40 } };
    expect(judge(input).result).toBe("insufficient");
    expect(judge(input, { minRequests: 100 }).result).toBe("fail");
    expect(judge(input, { minRequests: 100, alpha: 1e-6 }).result).toBe("pass");
    expect(judge(input, { minRequests: 100, minDifference: 0.05 }).result).toBe("pass");
  });
});

describe("judge: p99 latency of green against blue", () => {
  const counts = { green: { requests: 1500, errors: 1 }, blue: { requests: 28_500, errors: 20 } };

  it("fails green when its p99 exceeds 1.5 × blue's plus 50 ms", () => {
    const verdict = judge({ ...counts, latency: { green: 0.5, blue: 0.2 } });
    expect(verdict.result).toBe("fail");
    expect(verdict.latency).toMatchObject({ greenP99: 0.5, blueP99: 0.2, result: "fail" });
    expect((verdict.latency as { limit: number }).limit).toBeCloseTo(0.35, 12);
    expect(verdict.sentence).toMatch(
      /; green p99 500 ms vs blue p99 200 ms \(limit 350 ms\): fail$/,
    );
  });

  it("passes a p99 within the limit, and milliseconds of jitter on a fast service", () => {
    expect(judge({ ...counts, latency: { green: 0.3, blue: 0.2 } }).result).toBe("pass");
    expect(judge({ ...counts, latency: { green: 0.04, blue: 0.005 } }).result).toBe("pass");
  });

  it("is insufficient when a side has no latency figure", () => {
    expect(judge({ ...counts, latency: { blue: 0.2 } }).result).toBe("insufficient");
  });

  it("fails on errors even when latency is unknown", () => {
    const verdict = judge({
      green: { requests: 1500, errors: 60 },
      blue: { requests: 28_500, errors: 20 },
      latency: {},
    });
    expect(verdict.result).toBe("fail");
  });
});
