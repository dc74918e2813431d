import { describe, expect, it } from "vitest";
import type { SwitchyardEvent } from "../../../src/core/events.js";
import type { OrphanPart } from "../../../src/retire/orphans.js";
import {
  applyRetirePlans,
  type RetireEffects,
  type RetireTarget,
  type ServiceRetirePlan,
} from "../../../src/retire/retire.js";

const target = (name: string, tg = `tg-${name}`): RetireTarget => ({
  name,
  sequence: Number(name.slice(-3)),
  targetGroupArns: [tg],
  deleting: false,
});

function plan(
  service: string,
  keep: string[],
  retire: string[],
  skip: string[] = [],
): ServiceRetirePlan {
  return {
    service,
    decisions: [
      ...keep.map((name) => ({ name, action: "keep" as const, reason: "kept" })),
      ...retire.map((name) => ({ name, action: "retire" as const, reason: "old" })),
      ...skip.map((name) => ({ name, action: "skip" as const, reason: "rule" })),
    ],
    targets: retire.map((n) => target(n)),
  };
}

function fakeEffects(options: {
  failDelete?: Set<string>;
  carrying?: Map<string, number>;
  holder?: string;
  failUnlist?: boolean;
  orphans?: OrphanPart[];
  orphanLeft?: Map<string, string>;
  failOrphan?: Set<string>;
}) {
  const calls: string[] = [];
  const sweeps: string[] = [];
  const effects: RetireEffects = {
    async lock(service) {
      calls.push(`lock ${service}`);
      return options.holder;
    },
    async unlock() {},
    async unlist(service, arns) {
      calls.push(`unlist ${service} ${arns.join(",")}`);
      if (options.failUnlist) throw new Error("ModifyListener refused");
      return options.carrying ?? new Map();
    },
    async deleteGroup(_service, t) {
      calls.push(`delete ${t.name}`);
      await new Promise((r) => setTimeout(r, 5));
      if (options.failDelete?.has(t.name)) throw new Error(`boom ${t.name}`);
    },
    async findOrphans(service) {
      sweeps.push(`find ${service}`);
      return options.orphans ?? [];
    },
    async deleteOrphan(_service, part) {
      calls.push(`delete orphan ${part.name}`);
      if (options.failOrphan?.has(part.name)) throw new Error(`boom ${part.name}`);
      return options.orphanLeft?.get(part.name);
    },
  };
  return { effects, calls, sweeps };
}

describe("applying retire plans", () => {
  it("one failed deletion does not stop the others; it is skipped with its reason", async () => {
    const { effects, calls } = fakeEffects({ failDelete: new Set(["a-v002"]) });
    const events: SwitchyardEvent[] = [];
    const report = await applyRetirePlans(
      [
        plan("a/b", ["a-v005"], ["a-v003", "a-v002", "a-v001"]),
        plan("c/d", ["c-v002"], ["c-v001"]),
      ],
      effects,
      { dryRun: false, emit: (e) => events.push(e) },
    );
    expect(report).toEqual({
      dryRun: false,
      deleted: ["a-v003", "a-v001", "c-v001"],
      kept: ["a-v005", "c-v002"],
      skipped: [{ name: "a-v002", reason: "delete failed: boom a-v002" }],
      orphans: [],
      failed: true,
    });
    expect(calls.filter((c) => c.startsWith("delete")).sort()).toEqual([
      "delete a-v001",
      "delete a-v002",
      "delete a-v003",
      "delete c-v001",
    ]);
    expect(
      events
        .filter((e) => e.type === "retire.deleted")
        .map((e) => e.group)
        .sort(),
    ).toEqual(["a-v001", "a-v003", "c-v001"]);
    expect(events.find((e) => e.type === "retire.skipped")).toMatchObject({
      service: "a/b",
      group: "a-v002",
      reason: "delete failed: boom a-v002",
    });
  });

  it("dry run reports what would be deleted and calls nothing", async () => {
    const { effects, calls } = fakeEffects({});
    const events: SwitchyardEvent[] = [];
    const report = await applyRetirePlans(
      [plan("a/b", ["a-v003"], ["a-v002", "a-v001"], ["x"])],
      effects,
      {
        dryRun: true,
        emit: (e) => events.push(e),
      },
    );
    expect(report).toEqual({
      dryRun: true,
      deleted: ["a-v002", "a-v001"],
      kept: ["a-v003"],
      skipped: [{ name: "x", reason: "rule" }],
      orphans: [],
      failed: false,
    });
    expect(calls).toEqual([]);
    expect(events.filter((e) => e.type === "retire.deleted")).toEqual([
      expect.objectContaining({ group: "a-v002", dryRun: true }),
      expect.objectContaining({ group: "a-v001", dryRun: true }),
    ]);
  });

  it("a swap that took the lock since the plan was made wins: nothing is changed", async () => {
    const { effects, calls } = fakeEffects({ holder: "swap 9f by ci@runner" });
    const report = await applyRetirePlans([plan("a/b", ["a-v002"], ["a-v001"])], effects, {
      dryRun: false,
      emit: () => undefined,
    });
    expect(report.skipped).toEqual([
      { name: "a-v001", reason: "swap in flight: swap 9f by ci@runner" },
    ]);
    expect(report.failed).toBe(false);
    expect(calls).toEqual(["lock a/b"]);
  });

  it("a group whose target group carries traffic by now is skipped, the others go", async () => {
    const { effects, calls } = fakeEffects({ carrying: new Map([["tg-a-v002", 5]]) });
    const report = await applyRetirePlans([plan("a/b", [], ["a-v002", "a-v001"])], effects, {
      dryRun: false,
      emit: () => undefined,
    });
    expect(report.deleted).toEqual(["a-v001"]);
    expect(report.skipped).toEqual([{ name: "a-v002", reason: "carries traffic now (weight 5)" }]);
    expect(calls).toContain("unlist a/b tg-a-v002,tg-a-v001");
    expect(calls).not.toContain("delete a-v002");
  });

  it("a listener change that fails skips that service's groups and marks the run failed", async () => {
    const { effects, calls } = fakeEffects({ failUnlist: true });
    const report = await applyRetirePlans([plan("a/b", [], ["a-v001"])], effects, {
      dryRun: false,
      emit: () => undefined,
    });
    expect(report.skipped).toEqual([
      { name: "a-v001", reason: "could not take it out of the listener: ModifyListener refused" },
    ]);
    expect(report.failed).toBe(true);
    expect(calls.some((c) => c.startsWith("delete"))).toBe(false);
  });

  it("a service that could not be read is reported by name and marks the run failed", async () => {
    const { effects } = fakeEffects({});
    const report = await applyRetirePlans(
      [{ service: "a/b", decisions: [], targets: [], error: "could not read the state of a/b: x" }],
      effects,
      { dryRun: false, emit: () => undefined },
    );
    expect(report).toMatchObject({
      skipped: [{ name: "a/b", reason: "could not read the state of a/b: x" }],
      failed: true,
    });
  });

  it("cancelled: groups not yet deleted are skipped as cancelled", async () => {
    const { effects } = fakeEffects({});
    const abort = new AbortController();
    abort.abort();
    const report = await applyRetirePlans([plan("a/b", [], ["a-v001"])], effects, {
      dryRun: false,
      emit: () => undefined,
      signal: abort.signal,
    });
    expect(report.skipped).toEqual([{ name: "a-v001", reason: "cancelled before it was deleted" }]);
    expect(report.failed).toBe(true);
  });

  describe("the orphan sweep", () => {
    const tg: OrphanPart = { name: "a-b-v002", kind: "target-group", id: "arn-tg", sequence: 2 };
    const lt: OrphanPart = {
      name: "switchyard-a-b-v002",
      kind: "launch-template",
      id: "lt-1",
      sequence: 2,
    };

    it("runs after the group deletions, with the lock read again, and reports what went", async () => {
      const { effects, calls } = fakeEffects({ orphans: [tg, lt] });
      const report = await applyRetirePlans([plan("a/b", ["a-v003"], ["a-v001"])], effects, {
        dryRun: false,
        emit: () => undefined,
      });
      expect(calls).toEqual([
        "lock a/b",
        "unlist a/b tg-a-v001",
        "delete a-v001",
        "lock a/b",
        "delete orphan a-b-v002",
        "delete orphan switchyard-a-b-v002",
      ]);
      expect(report).toEqual({
        dryRun: false,
        deleted: ["a-v001"],
        kept: ["a-v003"],
        skipped: [],
        orphans: [
          { name: "a-b-v002", kind: "target-group" },
          { name: "switchyard-a-b-v002", kind: "launch-template" },
        ],
        failed: false,
      });
    });

    it("also runs for a service with nothing to retire; dry run only reports", async () => {
      const { effects, calls, sweeps } = fakeEffects({ orphans: [tg] });
      const report = await applyRetirePlans([plan("a/b", ["a-v003"], [])], effects, {
        dryRun: true,
        emit: () => undefined,
      });
      expect(sweeps).toEqual(["find a/b"]);
      expect(calls).toEqual([]);
      expect(report.orphans).toEqual([{ name: "a-b-v002", kind: "target-group" }]);
      expect(report.failed).toBe(false);
    });

    it("not while a swap holds the lock: neither when read nor just before deleting", async () => {
      const held = fakeEffects({ orphans: [tg], holder: "swap s1 by x@y" });
      const r1 = await applyRetirePlans([plan("a/b", ["a-v003"], [])], held.effects, {
        dryRun: false,
        emit: () => undefined,
      });
      expect(held.calls).toEqual(["lock a/b"]);
      expect(r1.orphans).toEqual([]);

      const observed = fakeEffects({ orphans: [tg] });
      const r2 = await applyRetirePlans(
        [{ ...plan("a/b", [], []), swapInFlight: "swap s1 by x@y" }],
        observed.effects,
        { dryRun: true, emit: () => undefined },
      );
      expect(observed.sweeps).toEqual([]);
      expect(r2.orphans).toEqual([]);
    });

    it("in use is skipped with its reason; a failure is skipped and marks the run failed", async () => {
      const { effects } = fakeEffects({
        orphans: [tg, lt],
        orphanLeft: new Map([["a-b-v002", "in use (ResourceInUseException: …)"]]),
        failOrphan: new Set(["switchyard-a-b-v002"]),
      });
      const report = await applyRetirePlans([plan("a/b", [], [])], effects, {
        dryRun: false,
        emit: () => undefined,
      });
      expect(report.orphans).toEqual([]);
      expect(report.skipped).toEqual([
        { name: "a-b-v002", reason: "orphaned target group: in use (ResourceInUseException: …)" },
        {
          name: "switchyard-a-b-v002",
          reason: "orphaned launch template: delete failed: boom switchyard-a-b-v002",
        },
      ]);
      expect(report.failed).toBe(true);
    });

    it("a service that could not be read is not swept", async () => {
      const { effects, sweeps } = fakeEffects({ orphans: [tg] });
      await applyRetirePlans(
        [{ service: "a/b", decisions: [], targets: [], error: "x" }],
        effects,
        { dryRun: false, emit: () => undefined },
      );
      expect(sweeps).toEqual([]);
    });
  });
});
