/**
 * The statistics the judge stands on, written out here rather than taken from a package: the
 * standard normal distribution, log-gamma, a one-sided two-proportion z-test and a one-sided
 * Fisher exact test. Each is a few lines of well-known numerics, tested against published values
 * (test/unit/core/stats.test.ts).
 */

const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** The standard normal density φ(x). */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / SQRT_2PI;
}

/**
 * The upper tail Q(x) = 1 − Φ(x) = P(Z > x), accurate to about 1e-15 relative over the whole
 * line. Below |x| = 3 it sums Marsaglia's series Φ(x) = ½ + φ(x)(x + x³/3 + x⁵/(3·5) + …); above,
 * it evaluates Laplace's continued fraction Q(x) = φ(x) / (x + 1/(x + 2/(x + 3/(x + …)))) by
 * Lentz's method, which keeps full relative accuracy far into the tail.
 */
export function normalUpperTail(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < -3) return 1 - normalUpperTail(-x);
  if (x <= 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (x * x) / (2 * n + 1);
      sum += term;
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return 0.5 - normalPdf(x) * sum;
  }
  // Lentz's algorithm for x + 1/(x + 2/(x + 3/(x + …)))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    d = x + k * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + k / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return normalPdf(x) / f;
}

/** Φ(x) = P(Z ≤ x). */
export function normalCdf(x: number): number {
  return 1 - normalUpperTail(x);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0, by the Lanczos approximation (g = 7, nine terms; ~1e-15 relative). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln C(n, k). */
export function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** Successes out of trials, one side of a 2×2 table. */
export interface Proportion {
  successes: number;
  trials: number;
}

/**
 * One-sided two-proportion z-test of H0: p₁ ≤ p₂ against p₁ > p₂, with the pooled variance
 * (the test `prop.test(…, alternative = "greater", correct = FALSE)` in R performs; z² is its
 * χ²). Fit when every expected cell count is at least 5.
 */
export function twoProportionZTest(a: Proportion, b: Proportion): { z: number; pValue: number } {
  const p1 = a.successes / a.trials;
  const p2 = b.successes / b.trials;
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  if (se === 0) return { z: 0, pValue: p1 > p2 ? 0 : 1 };
  const z = (p1 - p2) / se;
  return { z, pValue: normalUpperTail(z) };
}

/**
 * One-sided Fisher exact test for a 2×2 table: the probability, given the margins, that the
 * first row holds at least `a.successes` of the successes (hypergeometric upper tail; R's
 * `fisher.test(…, alternative = "greater")` with the first row and first column as given).
 */
export function fisherExactGreater(a: Proportion, b: Proportion): number {
  const total = a.trials + b.trials;
  const successes = a.successes + b.successes;
  const lo = Math.max(0, a.trials - (total - successes));
  const hi = Math.min(successes, a.trials);
  const logDenominator = logChoose(total, a.trials);
  const logP = (x: number) =>
    logChoose(successes, x) + logChoose(total - successes, a.trials - x) - logDenominator;
  let tail = 0;
  let all = 0;
  for (let x = lo; x <= hi; x++) {
    const p = Math.exp(logP(x));
    all += p;
    if (x >= a.successes) tail += p;
  }
  // normalizing by the sum of all terms cancels the small rounding of the log-gamma terms
  return Math.min(1, tail / all);
}
