/**
 * The judge on simulated bakes: pure functions over counts, no sandbox. Each bake draws green's
 * and blue's 5xx counts from binomial distributions (seeded, so every run prints the same
 * figures) and asks `judge` for a verdict. Measures the false-alarm rate on A/A (the same 5xx
 * rate on both sides), the power to catch a green 2 points worse than blue at the 5 % step, and
 * a power curve over rates and traffic levels.
 */
import { JUDGE_DEFAULTS, judge } from "../../src/core/judge.js";

/** mulberry32: a small, fast, seeded generator of uniform numbers in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An exact binomial draw by geometric jumps between successes: O(n·p) work. */
function binomial(random: () => number, n: number, p: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return n;
  const logQ = Math.log(1 - p);
  let successes = 0;
  let at = 0;
  for (;;) {
    at += Math.floor(Math.log(1 - random()) / logQ) + 1;
    if (at > n) return successes;
    successes++;
  }
}

interface Scenario {
  /** requests per second at the load balancer */
  rps: number;
  /** green's share of traffic at the step, 0–1 */
  share: number;
  bakeSeconds: number;
  blueRate: number;
  greenRate: number;
}

interface Outcome {
  fail: number;
  pass: number;
  insufficient: number;
  runs: number;
}

function simulate(s: Scenario, runs: number, seed: number): Outcome {
  const random = rng(seed);
  const total = s.rps * s.bakeSeconds;
  const greenRequests = Math.round(total * s.share);
  const blueRequests = total - greenRequests;
  const out: Outcome = { fail: 0, pass: 0, insufficient: 0, runs };
  for (let i = 0; i < runs; i++) {
    const verdict = judge({
      green: { requests: greenRequests, errors: binomial(random, greenRequests, s.greenRate) },
      blue: { requests: blueRequests, errors: binomial(random, blueRequests, s.blueRate) },
    });
    out[verdict.result]++;
  }
  return out;
}

const pct = (x: number, d = 1) => `${(x * 100).toFixed(d)} %`;

export interface JudgeBenchOptions {
  /** bakes per headline figure (default 20 000) */
  runs?: number;
  /** bakes per cell of the power curve (default 2 000) */
  curveRuns?: number;
}

export function judgeBenchmark(lines: string[], options: JudgeBenchOptions = {}): void {
  const runs = options.runs ?? 20_000;
  const curveRuns = options.curveRuns ?? 2_000;
  const started = performance.now();
  const step = { rps: 100, share: 0.05, bakeSeconds: 300 };
  const headline: Array<
    [string, Scenario, (o: Outcome) => number, string, (x: number) => boolean]
  > = [];
  for (const rate of [0.001, 0.01, 0.05]) {
    headline.push([
      `A/A at ${pct(rate, 1)} 5xx: false alarms`,
      { ...step, blueRate: rate, greenRate: rate },
      (o) => o.fail / o.runs,
      "≤ 1 %",
      (x) => x <= 0.01,
    ]);
  }
  for (const rate of [0.001, 0.01]) {
    headline.push([
      `green ${pct(rate + 0.02, 1)} vs blue ${pct(rate, 1)}: caught`,
      { ...step, blueRate: rate, greenRate: rate + 0.02 },
      (o) => o.fail / o.runs,
      "≥ 95 %",
      (x) => x >= 0.95,
    ]);
  }
  const rows = headline.map(([name, scenario, figure, target, met], i) => {
    const value = figure(simulate(scenario, runs, 1000 + i));
    return `| ${name} | ${pct(value, 2)} | ${target} | ${met(value) ? "met" : "missed"} |`;
  });

  const traffic = [10, 50, 100, 1000];
  const added = [0, 0.005, 0.01, 0.02, 0.05];
  const curve: string[] = [];
  for (const blueRate of [0.001, 0.01]) {
    for (const rps of traffic) {
      const cells = added.map((delta, j) => {
        const o = simulate(
          { rps, share: 0.05, bakeSeconds: 300, blueRate, greenRate: blueRate + delta },
          curveRuns,
          7 * rps + j + Math.round(blueRate * 1e4),
        );
        if (o.insufficient === o.runs) return "insufficient";
        return pct(o.fail / o.runs, 1);
      });
      const green = Math.round(rps * 300 * 0.05);
      curve.push(`| ${pct(blueRate, 1)} | ${rps} req/s (${green} green) | ${cells.join(" | ")} |`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  lines.push(
    "## Judge: green against blue on simulated bakes",
    "",
    "The judge (src/core/judge.ts, docs/gates.md) on simulated bakes: green's and blue's 5xx",
    "counts drawn from binomial distributions (seeded), the verdict from `judge` with its",
    `defaults: one-sided test at α = ${JUDGE_DEFAULTS.alpha}, a practical margin of ${pct(JUDGE_DEFAULTS.minDifference, 1)}`,
    `points, at least ${JUDGE_DEFAULTS.minRequests} requests a side. The step: green gets 5 % of 100 requests/s for a`,
    `5-minute bake (1500 green requests, 28 500 blue). ${runs} bakes per figure.`,
    "",
    "| figure | measured | target | |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
    `Power curve: the share of bakes that fail green at the 5 % step of a 5-minute bake, by blue's`,
    `5xx rate, traffic at the load balancer and how many points green's rate is above blue's`,
    `(+0 is A/A: false alarms). ${curveRuns} bakes per cell; "insufficient" means every bake had`,
    `fewer than ${JUDGE_DEFAULTS.minRequests} green requests, so the judge gave no pass and no fail.`,
    "",
    `| blue 5xx | traffic | ${added.map((d) => `+${(d * 100).toFixed(1)}`).join(" | ")} |`,
    `| --- | --- | ${added.map(() => "---").join(" | ")} |`,
    ...curve,
    "",
    `Simulated in ${seconds.toFixed(1)} s (\`npm run bench -- judge\`, or \`node test/bench/run.mjs judge\` without the build).`,
    "",
  );
}
