/**
 * The judge's statistics against published values: the standard normal table, Γ, R's
 * `prop.test` (no continuity correction) and `fisher.test` examples (Fisher's tea-tasting
 * experiment and Fisher's convictions of like-sex twins, from R's `?fisher.test`).
 */
import { describe, expect, it } from "vitest";
import {
  fisherExactGreater,
  logGamma,
  normalCdf,
  normalUpperTail,
  twoProportionZTest,
} from "../../../src/core/stats.js";

describe("the standard normal distribution", () => {
  it.each([
    [0, 0.5],
    [1, 0.8413447460685429],
    [1.96, 0.9750021048517795],
    [-1.6448536269514722, 0.05],
    [2.3263478740408408, 0.99],
    [-3, 0.0013498980316300957],
  ])("Φ(%f) = %f to 1e-14", (x, p) => {
    expect(Math.abs(normalCdf(x) - p)).toBeLessThan(1e-14);
  });

  it.each([
    [3, 0.0013498980316300957],
    [5, 2.866515718791946e-7],
    [8, 6.220960574271819e-16],
    [20, 2.7536241186063314e-89],
  ])("keeps relative accuracy far in the upper tail: Q(%f) = %f", (x, q) => {
    expect(Math.abs(normalUpperTail(x) / q - 1)).toBeLessThan(1e-12);
  });
});

describe("log Γ", () => {
  it.each([
    [0.5, 0.5723649429247001],
    [1, 0],
    [10, Math.log(362_880)],
    [100.5, 361.4355404677776],
  ])("ln Γ(%f) = %f", (x, value) => {
    expect(Math.abs(logGamma(x) - value)).toBeLessThan(1e-12 * Math.max(1, Math.abs(value)));
  });
});

describe("one-sided tests of two proportions", () => {
  it("z-test: 45/100 against 30/100 gives z² = 4.8, p = 0.01423 (R prop.test, greater, correct = FALSE)", () => {
    const { z, pValue } = twoProportionZTest(
      { successes: 45, trials: 100 },
      { successes: 30, trials: 100 },
    );
    expect(z * z).toBeCloseTo(4.8, 12);
    expect(pValue).toBeCloseTo(0.014229868458155284, 12);
  });

  it("Fisher: the lady tasting tea, 3 of 4 right, p = 17/70 = 0.2429; 4 of 4, p = 1/70", () => {
    expect(
      fisherExactGreater({ successes: 3, trials: 4 }, { successes: 1, trials: 4 }),
    ).toBeCloseTo(17 / 70, 12);
    expect(
      fisherExactGreater({ successes: 4, trials: 4 }, { successes: 0, trials: 4 }),
    ).toBeCloseTo(1 / 70, 12);
  });

  it("Fisher: convictions of like-sex twins (10/13 monozygotic vs 2/17 dizygotic), p = 0.0004652", () => {
    const p = fisherExactGreater({ successes: 10, trials: 13 }, { successes: 2, trials: 17 });
    expect(Math.abs(p / 0.00046518094336290503 - 1)).toBeLessThan(1e-10);
  });

  it("Fisher: a large table, 23/1000 against 4/4000, to 1e-9 relative", () => {
    const p = fisherExactGreater({ successes: 23, trials: 1000 }, { successes: 4, trials: 4000 });
    expect(Math.abs(p / 5.216218390812242e-13 - 1)).toBeLessThan(1e-9);
  });

  it("Fisher: no errors on either side is no evidence (p = 1)", () => {
    expect(
      fisherExactGreater({ successes: 0, trials: 1500 }, { successes: 0, trials: 28_500 }),
    ).toBe(1);
  });
});
