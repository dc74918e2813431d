import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decideRetire,
  type FleetGroup,
  groupWeight,
  type RetireDecision,
  type ServiceFleet,
} from "../../../src/retire/policy.js";

const HOUR = 3_600_000;
const NOW = Date.parse("2026-06-01T00:00:00.000Z");

function group(
  sequence: number,
  role: string,
  ageHours: number | undefined,
  extra = {},
): FleetGroup {
  return {
    name: `web-prod-v${String(sequence).padStart(3, "0")}`,
    sequence,
    role,
    createdAt: ageHours === undefined ? undefined : NOW - ageHours * HOUR,
    targetGroupArns: [`tg-${sequence}`],
    deleting: false,
    ...extra,
  };
}

function decide(
  groups: FleetGroup[],
  weights: Record<number, number> | undefined,
  policy = { keep: 1, minAgeMs: 24 * HOUR },
  swapInFlight?: string,
): Record<string, [RetireDecision["action"], string]> {
  const fleet: ServiceFleet = {
    service: "web/prod",
    groups,
    weights: weights
      ? Object.entries(weights).map(([seq, weight]) => ({ targetGroupArn: `tg-${seq}`, weight }))
      : undefined,
    swapInFlight,
  };
  return Object.fromEntries(
    decideRetire(fleet, policy, NOW).map((d) => [d.name.slice(-4), [d.action, d.reason]]),
  );
}

const actions = (r: Record<string, [string, string]>) =>
  Object.fromEntries(Object.entries(r).map(([k, [a]]) => [k, a]));

describe("the retire policy", () => {
  it("keeps live and the newest `keep` standbys, retires older standbys past minAge", () => {
    const r = decide(
      [
        group(5, "live", 48),
        group(4, "standby", 72),
        group(3, "standby", 96),
        group(2, "standby", 120),
      ],
      { 5: 100, 4: 0 },
    );
    expect(actions(r)).toEqual({ v005: "keep", v004: "keep", v003: "retire", v002: "retire" });
    expect(r.v005![1]).toBe("live (weight 100)");
    expect(r.v004![1]).toBe("standby 1 of keep 1 (newest first)");
    expect(r.v003![1]).toMatch(/^standby beyond keep 1, 4d old/);
  });

  it("keeps standbys younger than minAge beyond keep", () => {
    const r = decide([group(3, "live", 1), group(2, "standby", 2), group(1, "standby", 3)], {
      3: 100,
    });
    expect(actions(r)).toEqual({ v003: "keep", v002: "keep", v001: "keep" });
    expect(r.v001![1]).toMatch(/younger than minAge 1d/);
  });

  it("keep 0 retires every standby, including one at weight 0 in the action", () => {
    const r = decide(
      [group(2, "live", 48), group(1, "standby", 72)],
      { 2: 100, 1: 0 },
      {
        keep: 0,
        minAgeMs: 0,
      },
    );
    expect(actions(r)).toEqual({ v002: "keep", v001: "retire" });
  });

  it("the listener decides who is live, not the role tag", () => {
    // v002 is tagged live but the listener sends everything to v001
    const r = decide(
      [group(2, "live", 48), group(1, "standby", 72)],
      { 1: 100, 2: 0 },
      {
        keep: 0,
        minAgeMs: 0,
      },
    );
    expect(actions(r)).toEqual({ v002: "retire", v001: "keep" });
    expect(r.v001![1]).toBe("live (weight 100)");
  });

  it("never retires a group that carries traffic, even beyond keep", () => {
    const r = decide(
      [group(3, "green", 0), group(2, "live", 48), group(1, "standby", 72)],
      {
        2: 75,
        3: 25,
        1: 0,
      },
      { keep: 0, minAgeMs: 0 },
    );
    expect(actions(r)).toEqual({ v003: "keep", v002: "keep", v001: "retire" });
    expect(r.v003![1]).toBe("carries traffic (weight 25)");
  });

  it("failed groups ignore keep but respect minAge", () => {
    const old = decide([group(3, "failed", 48), group(2, "live", 72), group(1, "standby", 96)], {
      2: 100,
    });
    expect(actions(old)).toEqual({ v003: "retire", v002: "keep", v001: "keep" });
    expect(old.v003![1]).toMatch(/^failed group/);
    const young = decide([group(3, "failed", 1), group(2, "live", 72)], { 2: 100 });
    expect(young.v003).toEqual(["keep", expect.stringMatching(/^failed, younger than minAge/)]);
  });

  it("a green without a swap in flight is treated as failed", () => {
    const r = decide([group(3, "green", 48), group(2, "live", 72)], { 2: 100, 3: 0 });
    expect(r.v003).toEqual(["retire", expect.stringMatching(/no longer holds the lock/)]);
  });

  it("skips every group of a service with a swap in flight", () => {
    const r = decide(
      [group(3, "green", 0), group(2, "live", 72), group(1, "standby", 96)],
      { 2: 95, 3: 5 },
      { keep: 0, minAgeMs: 0 },
      "swap ab12 by ops@host",
    );
    expect(Object.values(r)).toEqual([
      ["skip", "swap in flight: swap ab12 by ops@host"],
      ["skip", "swap in flight: swap ab12 by ops@host"],
      ["skip", "swap in flight: swap ab12 by ops@host"],
    ]);
  });

  it("skips everything when the listener is missing", () => {
    const r = decide([group(2, "live", 72), group(1, "standby", 96)], undefined, {
      keep: 0,
      minAgeMs: 0,
    });
    expect(actions(r)).toEqual({ v002: "skip", v001: "skip" });
  });

  it("with no live group only old failed groups are retired", () => {
    const r = decide(
      [group(2, "failed", 72), group(1, "standby", 96)],
      {},
      {
        keep: 0,
        minAgeMs: 0,
      },
    );
    expect(actions(r)).toEqual({ v002: "retire", v001: "skip" });
    expect(r.v001![1]).toMatch(/^no live group/);
  });

  it("keeps a group of unknown age; finishes a deletion in progress", () => {
    const r = decide(
      [
        group(4, "live", 72),
        group(3, "standby", 96),
        group(2, "standby", undefined),
        group(1, "standby", 1, { deleting: true }),
      ],
      { 4: 100 },
      { keep: 1, minAgeMs: 24 * HOUR },
    );
    expect(actions(r)).toEqual({ v004: "keep", v003: "keep", v002: "keep", v001: "retire" });
    expect(r.v002![1]).toMatch(/age unknown/);
    expect(r.v001![1]).toBe("deletion already in progress");
  });
});

// ─── property: whatever the fleet, the safety rules hold ─────────────────────────────────────

const fleetArb = fc
  .record({
    groups: fc.uniqueArray(
      fc.record({
        sequence: fc.integer({ min: 1, max: 40 }),
        role: fc.constantFrom("live", "standby", "failed", "green", "", "bogus"),
        ageHours: fc.option(fc.integer({ min: 0, max: 24 * 30 }), { nil: undefined }),
        weight: fc.option(fc.integer({ min: 0, max: 999 }), { nil: undefined }),
        deleting: fc.boolean(),
      }),
      { selector: (g) => g.sequence, maxLength: 12 },
    ),
    unmanagedWeight: fc.option(fc.integer({ min: 0, max: 999 }), { nil: undefined }),
    listenerMissing: fc.boolean(),
    locked: fc.boolean(),
    keep: fc.integer({ min: 0, max: 4 }),
    minAgeHours: fc.integer({ min: 0, max: 24 * 10 }),
  })
  .map((f) => {
    const groups: FleetGroup[] = f.groups.map((g) =>
      group(g.sequence, g.role, g.ageHours, { deleting: g.deleting }),
    );
    const weights = f.groups.flatMap((g) =>
      g.weight === undefined ? [] : [{ targetGroupArn: `tg-${g.sequence}`, weight: g.weight }],
    );
    if (f.unmanagedWeight !== undefined) {
      weights.push({ targetGroupArn: "tg-unmanaged", weight: f.unmanagedWeight });
    }
    const fleet: ServiceFleet = {
      service: "web/prod",
      groups,
      weights: f.listenerMissing ? undefined : weights,
      swapInFlight: f.locked ? "swap x" : undefined,
    };
    return { fleet, policy: { keep: f.keep, minAgeMs: f.minAgeHours * HOUR } };
  });

describe("retire policy properties", () => {
  it("never retires the live group, a group with weight > 0, or the newest standby when keep ≥ 1", () => {
    fc.assert(
      fc.property(fleetArb, ({ fleet, policy }) => {
        const decisions = decideRetire(fleet, policy, NOW);
        // one decision per group
        expect(decisions.map((d) => d.name).sort()).toEqual(fleet.groups.map((g) => g.name).sort());
        const retired = new Set(decisions.filter((d) => d.action === "retire").map((d) => d.name));
        const weights = fleet.weights ?? [];
        const byName = new Map(fleet.groups.map((g) => [g.name, g]));
        // nothing with traffic, and so never live
        for (const name of retired) {
          expect(groupWeight(byName.get(name)!, weights)).toBe(0);
        }
        // the live group, found independently: the highest weight > 0 among managed groups
        const top = Math.max(0, ...fleet.groups.map((g) => groupWeight(g, weights)));
        for (const g of fleet.groups) {
          if (top > 0 && groupWeight(g, weights) === top) expect(retired.has(g.name)).toBe(false);
        }
        // the newest standby: highest sequence among groups at weight 0 that are neither
        // failed nor green nor already being deleted
        if (policy.keep >= 1) {
          const standbys = fleet.groups
            .filter(
              (g) =>
                groupWeight(g, weights) === 0 &&
                !g.deleting &&
                g.role !== "failed" &&
                g.role !== "green",
            )
            .sort((a, b) => b.sequence - a.sequence);
          if (standbys[0]) expect(retired.has(standbys[0].name)).toBe(false);
        }
        // a swap in flight or a missing listener: nothing retired
        if (fleet.swapInFlight !== undefined || fleet.weights === undefined) {
          expect(retired.size).toBe(0);
        }
        // nothing younger than minAge is retired, unless its deletion had already begun
        for (const name of retired) {
          const g = byName.get(name)!;
          if (g.deleting) continue;
          expect(g.createdAt).toBeDefined();
          expect(NOW - g.createdAt!).toBeGreaterThanOrEqual(policy.minAgeMs);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
