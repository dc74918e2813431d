/**
 * The judge: green against blue over one bake, from the load balancer's per-target-group metrics.
 * Pure functions over counts; the figures come from CloudWatch through src/aws/cloudwatch.ts.
 *
 * **Errors (5xx).** Counts are counts, so the judge compares the two 5xx proportions with a
 * one-sided test of "green's 5xx rate is no higher than blue's": Fisher's exact test on the 2×2
 * table (errors / successes × green / blue). The pooled two-proportion z-test was the first
 * choice, but with green's small share of traffic its normal approximation is too generous: green's
 * error count at 1 % of 1500 requests is skewed, and on simulated A/A bakes the z-test at α = 0.01
 * failed green 1.4 % of the time. The exact test holds false alarms under α at every rate; the
 * z-test is used only for tables too large to sum exactly, where the approximation is good. Green fails when the
 * p-value is below `alpha` (default 0.01) **and** green's observed rate exceeds blue's by at least
 * `minDifference` (default 0.5 percentage points). The first keeps false alarms at or below α
 * whatever the base rate; the second keeps a statistically real but harmless difference (blue
 * 0.01 %, green 0.05 % on a million requests) from failing a deploy. The benchmark
 * (test/bench, docs/benchmarks.md) measures both: false alarms on A/A and the power to catch a
 * green 2 points worse than blue at the 5 % step.
 *
 * **Latency.** The judge compares green's and blue's p99 `TargetResponseTime` over the whole
 * bake with a ratio threshold: green fails when its p99 exceeds `ratio × blue p99 + floorSeconds`
 * (default 1.5 × blue + 50 ms). A rank test over periods was the alternative; it was not chosen
 * because a bake holds few periods (five one-minute periods give a one-sided Mann-Whitney test a
 * smallest possible p of 1/252, so at α = 0.01 it could hardly ever fail), percentiles do not
 * combine across periods, and "p99 more than half as slow again" is a rule operators can read.
 * The absolute floor keeps millisecond jitter on fast services from failing.
 *
 * **Too little data is never a pass.** Fewer than `minRequests` green requests (default 500) or
 * blue requests in the window makes the verdict `insufficient`; what follows (extend the bake,
 * then fail or pass) is the caller's `onInsufficientData` policy, documented in docs/gates.md.
 */
import { fisherExactGreater, twoProportionZTest } from "./stats.js";

/** One side's counts in one period (or summed over the bake). */
export interface RequestCounts {
  requests: number;
  /** 5xx answers: the targets' own (`HTTPCode_Target_5XX_Count`) */
  errors: number;
}

export interface JudgeInput {
  /** green's counts per period (summed by the judge) or over the whole bake */
  green: RequestCounts | readonly RequestCounts[];
  blue: RequestCounts | readonly RequestCounts[];
  /** p99 response time over the bake, in seconds; leave out to judge errors only */
  latency?: { green?: number; blue?: number };
}

export interface JudgeOptions {
  /** significance of the one-sided 5xx test (default 0.01) */
  alpha?: number;
  /** smallest difference of 5xx rates, as a fraction, that can fail green (default 0.005) */
  minDifference?: number;
  /** requests each side must have served in the window (default 500) */
  minRequests?: number;
  /** green p99 may be at most `ratio × blue p99 + floorSeconds` (default 1.5 and 0.05) */
  latencyRatio?: number;
  latencyFloorSeconds?: number;
}

export const JUDGE_DEFAULTS: Required<JudgeOptions> = {
  alpha: 0.01,
  minDifference: 0.005,
  minRequests: 500,
  latencyRatio: 1.5,
  latencyFloorSeconds: 0.05,
};

export type JudgeResult = "pass" | "fail" | "insufficient";

export interface SideFigures extends RequestCounts {
  /** errors / requests (0 with no requests) */
  rate: number;
}

export interface ErrorFigures {
  green: SideFigures;
  blue: SideFigures;
  /** green's rate minus blue's */
  difference: number;
  test: "z" | "fisher";
  /** the two-proportion z statistic (reported whichever test decided) */
  z: number;
  pValue: number;
  result: JudgeResult;
}

export interface LatencyFigures {
  greenP99: number;
  blueP99: number;
  /** the most green's p99 may be */
  limit: number;
  result: JudgeResult;
}

export interface Verdict {
  result: JudgeResult;
  errors: ErrorFigures | { green: SideFigures; blue: SideFigures; result: "insufficient" };
  latency?: LatencyFigures | { result: "insufficient" };
  /** e.g. `green 5xx 2.3 % (23/1000) vs blue 0.1 % (4/4000), p < 0.001: fail` */
  sentence: string;
}

export function sumCounts(counts: RequestCounts | readonly RequestCounts[]): RequestCounts {
  const list: readonly RequestCounts[] = Array.isArray(counts) ? counts : [counts as RequestCounts];
  let requests = 0;
  let errors = 0;
  for (const c of list) {
    requests += c.requests;
    errors += c.errors;
  }
  return { requests, errors };
}

function side(counts: RequestCounts): SideFigures {
  return { ...counts, rate: counts.requests > 0 ? counts.errors / counts.requests : 0 };
}

/** Tables with more possible green error counts than this are tested with the z-test. */
const EXACT_LIMIT = 50_000;

/**
 * The one-sided test of green's 5xx rate against blue's: Fisher's exact test, unless the table
 * is so large (more than 50 000 possible green error counts) that the z-test's normal
 * approximation is as good and much cheaper. The z statistic is reported either way.
 */
export function compareErrorRates(
  green: RequestCounts,
  blue: RequestCounts,
): { test: "z" | "fisher"; z: number; pValue: number } {
  const g = { successes: green.errors, trials: green.requests };
  const b = { successes: blue.errors, trials: blue.requests };
  const { z, pValue } = twoProportionZTest(g, b);
  const errors = green.errors + blue.errors;
  if (Math.min(errors, green.requests) > EXACT_LIMIT) return { test: "z", z, pValue };
  return { test: "fisher", z, pValue: fisherExactGreater(g, b) };
}

function percent(rate: number): string {
  const p = rate * 100;
  return `${p === 0 ? "0" : p < 0.1 ? p.toFixed(2) : p.toFixed(1)} %`;
}

function formatP(p: number): string {
  if (p < 0.001) return "p < 0.001";
  return `p = ${p < 0.01 ? p.toFixed(4) : p.toFixed(3)}`;
}

function seconds(s: number): string {
  return s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(2)} s`;
}

/** Judges green against blue over one bake. */
export function judge(input: JudgeInput, options: JudgeOptions = {}): Verdict {
  const o = { ...JUDGE_DEFAULTS, ...options };
  const green = side(sumCounts(input.green));
  const blue = side(sumCounts(input.blue));
  const counts = `green 5xx ${percent(green.rate)} (${green.errors}/${green.requests}) vs blue ${percent(blue.rate)} (${blue.errors}/${blue.requests})`;

  let errors: Verdict["errors"];
  let errorsText: string;
  if (green.requests < o.minRequests || blue.requests < o.minRequests) {
    errors = { green, blue, result: "insufficient" };
    const short = green.requests < o.minRequests ? "green" : "blue";
    errorsText = `${counts}: insufficient (${short} served ${short === "green" ? green.requests : blue.requests} requests, fewer than ${o.minRequests})`;
  } else {
    const tested = compareErrorRates(green, blue);
    const difference = green.rate - blue.rate;
    const fails = tested.pValue < o.alpha && difference >= o.minDifference;
    errors = { green, blue, difference, ...tested, result: fails ? "fail" : "pass" };
    const why =
      !fails && tested.pValue < o.alpha
        ? ` (a difference under ${percent(o.minDifference).replace(" %", " points")})`
        : "";
    errorsText = `${counts}, ${formatP(tested.pValue)}: ${fails ? "fail" : "pass"}${why}`;
  }

  let latency: Verdict["latency"];
  let latencyText = "";
  if (input.latency) {
    const { green: g, blue: b } = input.latency;
    if (g === undefined || b === undefined || errors.result === "insufficient") {
      latency = { result: "insufficient" };
      latencyText = "; latency: insufficient data";
    } else {
      const limit = o.latencyRatio * b + o.latencyFloorSeconds;
      const result: JudgeResult = g > limit ? "fail" : "pass";
      latency = { greenP99: g, blueP99: b, limit, result };
      latencyText = `; green p99 ${seconds(g)} vs blue p99 ${seconds(b)} (limit ${seconds(limit)}): ${result}`;
    }
  }

  const results = [errors.result, ...(latency ? [latency.result] : [])];
  const result: JudgeResult = results.includes("fail")
    ? "fail"
    : results.includes("insufficient")
      ? "insufficient"
      : "pass";
  return { result, errors, ...(latency ? { latency } : {}), sentence: errorsText + latencyText };
}
