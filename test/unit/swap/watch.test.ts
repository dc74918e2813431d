import { describe, expect, it } from "vitest";
import { ExitCode } from "../../../src/core/errors.js";
import type { SwapRecord } from "../../../src/swap/record.js";
import { type ServiceStatus, type SwapStatus, swapStatus } from "../../../src/swap/status.js";
import {
  ENDING_EXIT_CODES,
  noSwapEnding,
  type SwapEndOutcome,
  statusChanged,
  swapEnding,
  watchStatus,
} from "../../../src/swap/watch.js";
import { sampleRecord } from "../../helpers/record.js";

const NOW = Date.parse("2026-01-01T00:01:05.000Z");

const record = sampleRecord;

function status(swap: SwapStatus | null, weights: [number, number] = [25, 75]): ServiceStatus {
  const group = (name: string, weight: number, role: "green" | "live") => ({
    name,
    role,
    release: `s3://releases/web/prod/${name === "web-prod-v002" ? "r2" : "r1"}.tar.gz`,
    sequence: name === "web-prod-v002" ? 2 : 1,
    createdAt: null,
    capacity: { min: 2, max: 4, desired: 2 },
    instances: { inService: 2, healthy: 2 },
    weight,
    suspendedProcesses: [],
    targetGroupArn: `arn:tg/${name}`,
    deleting: false,
  });
  return {
    service: "web/prod",
    groups: [
      group("web-prod-v002", weights[0], "green"),
      group("web-prod-v001", weights[1], "live"),
    ],
    swap,
    warnings: [],
  };
}

describe("statusChanged", () => {
  const base = status(swapStatus(record({ bakeStartedAt: NOW - 5_000 }), NOW));

  it("the first status is always a change", () => {
    expect(statusChanged(undefined, base)).toBe(true);
  });

  it("a newer heartbeat, its age and the passing of the bake are not changes", () => {
    const later = status(
      swapStatus(
        record({ bakeStartedAt: NOW - 5_000 }, { heartbeatAt: "2026-01-01T00:01:04.000Z" }),
        NOW + 30_000,
      ),
    );
    expect(later.swap?.heartbeatAgeMs).not.toBe(base.swap?.heartbeatAgeMs);
    expect(statusChanged(base, later)).toBe(false);
    expect(statusChanged(base, structuredClone(base))).toBe(false);
  });

  const changes: Array<[string, (s: ServiceStatus) => void]> = [
    ["a weight read back from the listener", (s) => Object.assign(s.groups[0]!, { weight: 50 })],
    ["a health count", (s) => Object.assign(s.groups[0]!.instances, { healthy: 1 })],
    ["an instance in service", (s) => Object.assign(s.groups[1]!.instances, { inService: 3 })],
    ["a capacity", (s) => Object.assign(s.groups[1]!.capacity, { desired: 3 })],
    ["a role", (s) => Object.assign(s.groups[0]!, { role: "live" })],
    ["a group deleting", (s) => Object.assign(s.groups[1]!, { deleting: true })],
    ["the step", (s) => Object.assign(s.swap!, { step: 3 })],
    ["the phase", (s) => Object.assign(s.swap!, { phase: "finalizing" })],
    ["paused", (s) => Object.assign(s.swap!, { paused: true })],
    ["a control request", (s) => Object.assign(s.swap!, { control: { abort: { by: "me" } } })],
    [
      "a failure",
      (s) => Object.assign(s.swap!, { failure: { code: "GATE_FAILED", message: "x" } }),
    ],
    ["a halt", (s) => Object.assign(s.swap!, { halted: { code: "DRIFT", message: "x", at: "y" } })],
    ["a new bake", (s) => Object.assign(s.swap!, { bake: { startedAt: NOW, ms: 60_000 } })],
    [
      "the weights set",
      (s) => Object.assign(s.swap!, { traffic: [{ targetGroupArn: "arn:tg/x", weight: 1 }] }),
    ],
    ["a takeover", (s) => Object.assign(s.swap!, { owner: { host: "ci-2", pid: 7, user: "o" } })],
    ["the swap ending", (s) => Object.assign(s, { swap: null })],
    ["a warning", (s) => s.warnings.push("the listener forwards to arn:x")],
  ];
  for (const [what, change] of changes) {
    it(`${what} is a change`, () => {
      const next = structuredClone(base);
      change(next);
      expect(statusChanged(base, next)).toBe(true);
    });
  }
});

describe("watchStatus", () => {
  async function collect(reads: ServiceStatus[], signal?: AbortSignal) {
    let i = 0;
    const seen: ServiceStatus[] = [];
    const controller = new AbortController();
    const read = async () => {
      const s = reads[Math.min(i++, reads.length - 1)]!;
      if (i >= reads.length) controller.abort();
      return s;
    };
    for await (const s of watchStatus(read, {
      intervalMs: 1,
      signal: signal ?? controller.signal,
    })) {
      seen.push(s);
    }
    return { seen, reads: i };
  }

  it("yields the first status at once, then each change, never the same one twice", async () => {
    const a = status(null, [0, 100]);
    const b = status(swapStatus(record({ phase: "launching", stepIndex: -1 }), NOW), [0, 100]);
    const c = status(swapStatus(record({ stepIndex: 0 }), NOW), [5, 95]);
    const cLater = status(swapStatus(record({ stepIndex: 0 }), NOW + 9_000), [5, 95]);
    const { seen, reads } = await collect([a, a, b, b, b, c, cLater, c]);
    expect(reads).toBe(8);
    expect(seen).toEqual([a, b, c]);
  });

  it("ends when the signal aborts, also while a read is outstanding", async () => {
    const controller = new AbortController();
    const read = () => new Promise<ServiceStatus>(() => undefined);
    setTimeout(() => controller.abort(), 20);
    const seen: ServiceStatus[] = [];
    for await (const s of watchStatus(read, { intervalMs: 1, signal: controller.signal })) {
      seen.push(s);
    }
    expect(seen).toEqual([]);
  });

  it("ends with the error of a read", async () => {
    const read = () => Promise.reject(new Error("AccessDenied"));
    const watch = watchStatus(read, { intervalMs: 1 });
    await expect(watch.next()).rejects.toThrow("AccessDenied");
  });

  it("stops reading when the loop breaks", async () => {
    let reads = 0;
    const read = async () => {
      reads++;
      return status(null, [reads, 100 - reads]);
    };
    for await (const s of watchStatus(read, { intervalMs: 1 })) {
      if (s.groups[0]!.weight === 3) break;
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(reads).toBe(3);
  });
});

describe("swapEnding: how a swap ended, as the exit code a script expects", () => {
  const cases: Array<{
    what: string;
    record: SwapRecord;
    outcome: SwapEndOutcome;
    exitCode: number;
    code?: string;
    message?: RegExp;
  }> = [
    {
      what: "completed",
      record: record({ phase: "finalizing", stepIndex: 2 }, { outcome: "completed" }),
      outcome: "completed",
      exitCode: 0,
    },
    {
      what: "rolled back by a gate",
      record: record(
        { phase: "rolling-back", failure: { code: "GATE_FAILED", message: "smoke: 3 failed" } },
        { outcome: "rolled-back" },
      ),
      outcome: "rolled-back",
      exitCode: 4,
      code: "GATE_FAILED",
      message: /^web\/prod: swap ab12 was rolled back \(smoke: 3 failed\); web-prod-v001 is live$/,
    },
    {
      what: "rolled back by an abort",
      record: record(
        { phase: "rolling-back", failure: { code: "ABORTED", message: "aborted by ops@ci-2" } },
        { outcome: "rolled-back" },
      ),
      outcome: "rolled-back",
      exitCode: 4,
      code: "ROLLED_BACK",
      message: /aborted by ops@ci-2/,
    },
    {
      what: "halted on drift",
      record: record(
        {},
        {
          halted: {
            code: "DRIFT",
            message: "the listener was changed",
            at: "2026-01-01T00:02:00Z",
          },
        },
      ),
      outcome: "halted",
      exitCode: 1,
      code: "DRIFT",
      message: /stopped: the listener was changed/,
    },
    {
      what: "halted on a lost lock",
      record: record({}, { halted: { code: "LOCK_LOST", message: "deleted", at: "now" } }),
      outcome: "halted",
      exitCode: 1,
      code: "LOCK_LOST",
    },
    {
      what: "cancelled before it changed anything",
      record: record({ phase: "launching", stepIndex: -1 }, { outcome: "cancelled" }),
      outcome: "cancelled",
      exitCode: 1,
      code: "ABORTED",
    },
    {
      what: "unlocked",
      record: record({}, { outcome: "unlocked" }),
      outcome: "unlocked",
      exitCode: 1,
      code: "LOCK_LOST",
      message: /broken with unlock/,
    },
    {
      what: "gone without a history copy",
      record: record({}),
      outcome: "unknown",
      exitCode: 1,
      code: "LOCK_LOST",
    },
  ];
  for (const c of cases) {
    it(`${c.what}: ${c.outcome}, exit ${c.exitCode}`, () => {
      const ending = swapEnding(c.record, 1234);
      expect(ending).toMatchObject({
        service: "web/prod",
        outcome: c.outcome,
        exitCode: c.exitCode,
        swapId: "ab12",
        kind: "deploy",
        release: "s3://releases/web/prod/r2.tar.gz",
        green: "web-prod-v002",
        blue: "web-prod-v001",
        waitedMs: 1234,
      });
      if (c.code === undefined) {
        expect(ending.error).toBeUndefined();
      } else {
        expect(ending.error?.code).toBe(c.code);
        // the error a script sees exits with the ending's code
        expect(ending.error?.exitCode).toBe(c.exitCode);
      }
      if (c.message) expect(ending.error?.message).toMatch(c.message);
    });
  }

  it("a halted swap's failure is why it halted", () => {
    const ending = swapEnding(
      record(
        { phase: "rolling-back", failure: { code: "GATE_FAILED", message: "smoke" } },
        { halted: { code: "DRIFT", message: "green was scaled", at: "then" } },
      ),
      0,
    );
    expect(ending.failure).toEqual({ code: "DRIFT", message: "green was scaled" });
    expect(ending.endedAt).toBe("then");
  });

  it("a rollback's target is the group it put live", () => {
    const rollback = {
      ...record({ phase: "restoring", stepIndex: -1 }, { outcome: "completed", kind: "rollback" }),
      plan: undefined,
      rollback: {
        plan: {
          to: { name: "web-prod-v001", targetGroupArn: "arn:1", release: "s3://r/r1.tar.gz" },
          from: { name: "web-prod-v002", targetGroupArn: "arn:2", release: "s3://r/r2.tar.gz" },
          desired: 2,
          healthyTimeoutMs: 1,
        },
      },
    } as SwapRecord;
    expect(swapEnding(rollback, 0)).toMatchObject({
      outcome: "completed",
      exitCode: 0,
      kind: "rollback",
      green: "web-prod-v001",
      blue: "web-prod-v002",
      release: "s3://r/r1.tar.gz",
    });
  });

  it("with no swap in flight: none, exit 0", () => {
    expect(noSwapEnding("web/prod", 5)).toMatchObject({
      outcome: "none",
      exitCode: ExitCode.ok,
      swapId: null,
    });
    expect(noSwapEnding("web/prod", 5).error).toBeUndefined();
  });

  it("every outcome has its exit code: 0 done, 4 rolled back, 1 the rest", () => {
    expect(ENDING_EXIT_CODES).toEqual({
      none: 0,
      completed: 0,
      "rolled-back": 4,
      halted: 1,
      cancelled: 1,
      unlocked: 1,
      unknown: 1,
    });
  });
});
