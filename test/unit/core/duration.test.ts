import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../../src/core/duration.js";
import { isSwitchyardError } from "../../../src/core/errors.js";

describe("parseDuration", () => {
  it.each<[string | number, number]>([
    ["90s", 90_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["2d", 172_800_000],
    ["1h30m", 5_400_000],
    ["1d2h3m4s5ms", 93_784_005],
    ["250ms", 250],
    ["1.5h", 5_400_000],
    ["0s", 0],
    [" 5m ", 300_000],
    [30, 30_000],
    [0.25, 250],
    ["30", 30_000],
    ["0", 0],
    ["1.5", 1_500],
  ])("%j is %i ms", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each<[string | number, string]>([
    ["", "empty"],
    ["   ", "empty"],
    [-5, "negative"],
    ["-5", "negative"],
    ["-5m", "negative"],
    ["5x", 'unknown unit "x"'],
    ["5min", 'unknown unit "min"'],
    ["5M", 'unknown unit "M"'],
    ["1h30", "30 needs a unit"],
    ["30m1h", "largest first"],
    ["5m5m", "largest first"],
    ["m", "unexpected"],
    ["5 m", "5 needs a unit"],
    ["5m!", "unexpected"],
    [Number.NaN, "finite"],
    [Number.POSITIVE_INFINITY, "finite"],
  ])("rejects %j (%s), naming the value and the accepted forms", (input, why) => {
    let thrown: unknown;
    try {
      parseDuration(input);
    } catch (error) {
      thrown = error;
    }
    expect(isSwitchyardError(thrown, "INVALID_INPUT")).toBe(true);
    const message = (thrown as Error).message;
    expect(message).toContain(why);
    expect(message).toContain(typeof input === "string" ? JSON.stringify(input) : String(input));
    expect((thrown as { hint: string }).hint).toContain("90s, 5m, 1h30m, 2d");
  });
});

describe("formatDuration", () => {
  it.each([
    [5_400_000, "1h30m"],
    [45_000, "45s"],
    [250, "250ms"],
    [0, "0s"],
    [1_500, "1s500ms"],
    [172_800_000, "2d"],
    [86_400_000 + 1_000, "1d1s"],
  ])("%i ms is %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("round-trips through parseDuration for every whole number of milliseconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 365 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  it("rejects negative durations", () => {
    expect(() => formatDuration(-1)).toThrow(/≥ 0/);
  });
});
