import { describe, expect, it } from "vitest";
import { runCli } from "../../../src/cli/run.js";
import {
  describeChange,
  describeEnding,
  endingJson,
  lineView,
  ttyView,
  waitErrorJson,
  watchHeader,
  watchMode,
} from "../../../src/cli/status-watch.js";
import { AwsError } from "../../../src/core/errors.js";
import type { SwapCursor } from "../../../src/core/swap-model.js";
import type { SwapRecord } from "../../../src/swap/record.js";
import { type ServiceStatus, swapStatus } from "../../../src/swap/status.js";
import { noSwapEnding, swapEnding } from "../../../src/swap/watch.js";
import { sampleRecord } from "../../helpers/record.js";
import { memoryIo, memoryStream } from "./helpers.js";

const NOW = Date.parse("2026-01-01T00:01:05.000Z");
const TG = (name: string) =>
  `arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/${name}/0123456789abcdef`;

/** The sample record, with the weights the swap last set at step 2 unless a test says otherwise. */
function record(cursor: Partial<SwapCursor> = {}, more: Partial<SwapRecord> = {}): SwapRecord {
  return sampleRecord(
    {
      traffic: [
        { targetGroupArn: TG("web-prod-v002"), weight: 25 },
        { targetGroupArn: TG("web-prod-v001"), weight: 75 },
      ],
      ...cursor,
    },
    more,
  );
}

function status(r: SwapRecord | null, weights: [number, number] = [25, 75]): ServiceStatus {
  const group = (name: string, weight: number, healthy: number) => ({
    name,
    role: name === "web-prod-v002" ? ("green" as const) : ("live" as const),
    release: "s3://releases/web/prod/r1.tar.gz",
    sequence: 1,
    createdAt: null,
    capacity: { min: 2, max: 4, desired: 2 },
    instances: { inService: 2, healthy },
    weight,
    suspendedProcesses: [],
    targetGroupArn: TG(name),
    deleting: false,
  });
  return {
    service: "web/prod",
    groups: [group("web-prod-v002", weights[0], 1), group("web-prod-v001", weights[1], 2)],
    swap: r ? swapStatus(r, NOW) : null,
    warnings: [],
  };
}

describe("watchHeader", () => {
  it("the step, the weights, the bake's elapsed and remaining time, health per group", () => {
    const s = status(record({ bakeStartedAt: NOW - 12_000 }));
    expect(watchHeader(s, NOW)).toEqual([
      "web/prod: swap ab12, step 2/3 (25%); r2 on web-prod-v002",
      "  weights   web-prod-v002 25 · web-prod-v001 75",
      "  bake      12s of 1m0s, 48s left",
      "  health    web-prod-v002 1/2 healthy · web-prod-v001 2/2 healthy",
    ]);
    // the bake moves on between changes
    expect(watchHeader(s, NOW + 50_000)[2]).toBe("  bake      1m0s done 2s ago");
  });

  it("shows the weights set beside the ones read back when they differ", () => {
    const s = status(record({}), [5, 95]);
    expect(watchHeader(s, NOW)[1]).toBe(
      "  weights   web-prod-v002 5 · web-prod-v001 95 (set: web-prod-v002 25 · web-prod-v001 75)",
    );
  });

  it("a pause, and the requests waiting for the driving process", () => {
    const s = status(
      record(
        { bakeStartedAt: NOW - 90_000 },
        {
          control: {
            pause: { by: "ops@laptop (pid 7)", at: "then" },
            promote: { step: 2, full: true, by: "ci@runner (pid 9)", at: "now" },
          },
        },
      ),
    );
    const header = watchHeader(s, NOW);
    expect(header[0]).toBe("web/prod: swap ab12, step 2/3 (25%), paused; r2 on web-prod-v002");
    expect(header).toContain(
      "  bake      paused until promoted by ops@laptop (pid 7); baked 1m0s done 30s ago",
    );
    expect(header).toContain("  requests  promote --full of step 2 by ci@runner (pid 9)");
  });

  it("a drift: what changed, and the weights expected and found", () => {
    const drift = {
      what: "the listener's weights were changed",
      expected: [
        { targetGroupArn: TG("web-prod-v002"), weight: 25 },
        { targetGroupArn: TG("web-prod-v001"), weight: 75 },
      ],
      found: [{ targetGroupArn: TG("web-prod-v001"), weight: 100 }],
      at: "then",
    };
    const s = status(
      record({}, { halted: { code: "DRIFT", message: drift.what, at: "then", drift } }),
      [0, 100],
    );
    const header = watchHeader(s, NOW);
    expect(header[0]).toBe("web/prod: swap ab12, halted at step 2/3; r2 on web-prod-v002");
    expect(header).toContain("  halted    DRIFT: the listener's weights were changed");
    expect(header).toContain(
      "  drift     expected web-prod-v002 25 · web-prod-v001 75; found web-prod-v001 100",
    );
  });

  it("a rollback in flight says why", () => {
    const failure = { code: "GATE_FAILED", message: "gate smoke failed" };
    const header = watchHeader(status(record({ phase: "rolling-back", failure })), NOW);
    expect(header[0]).toBe("web/prod: swap ab12, rolling back from step 2/3; r2 on web-prod-v002");
    expect(header).toContain("  failure   GATE_FAILED: gate smoke failed");
  });

  it("before the swap has its plan, and with no swap", () => {
    const starting = record({ phase: "launching", stepIndex: -1 }, { plan: undefined });
    expect(watchHeader(status(starting), NOW)[0]).toBe("web/prod: swap ab12, starting");
    expect(watchHeader(status(null, [0, 100]), NOW)).toEqual([
      "web/prod: no swap in flight",
      "  weights   web-prod-v002 0 · web-prod-v001 100",
    ]);
  });
});

describe("describeChange: a line per change when not on a terminal", () => {
  it("the swap, the weights and health on one line", () => {
    expect(describeChange(status(record({ bakeStartedAt: NOW })))).toBe(
      "web/prod: swap ab12 step 2/3 (25%), baking 1m0s; weights web-prod-v002 25 · web-prod-v001 75; health web-prod-v002 1/2 healthy · web-prod-v001 2/2 healthy",
    );
    expect(describeChange(status(null, [0, 100]))).toMatch(/^web\/prod: no swap in flight; /);
  });

  it("prints a line only when the line changes; JSON gives every change", () => {
    const plain = memoryStream();
    const json = memoryStream();
    const views = [lineView(plain.stream, "plain"), lineView(json.stream, "json")];
    const a = status(record({}));
    const pinned = structuredClone(a);
    pinned.groups[1]!.capacity.min = 3;
    const b = status(record({ stepIndex: 2 }), [100, 0]);
    for (const s of [a, a, pinned, b]) for (const v of views) v.show(s);
    expect(plain.lines()).toHaveLength(2);
    expect(json.lines()).toHaveLength(3);
    expect(JSON.parse(json.lines()[0]!)).toMatchObject({ service: "web/prod", groups: [{}, {}] });
  });
});

describe("ttyView", () => {
  it("clears once, then redraws the header and the status view in place", () => {
    const out = memoryStream(true);
    Object.assign(out.stream, { columns: 200, rows: 50 });
    const view = ttyView(out.stream, { now: () => NOW });
    view.show(status(record({})));
    view.show(status(record({ stepIndex: 2 }), [100, 0]));
    view.stop();
    const text = out.text();
    expect(text.split("\u001b[2J")).toHaveLength(2);
    expect(text.split("\u001b[H")).toHaveLength(3);
    expect(text).toContain("web/prod: swap ab12, step 3/3 (100%); r2 on web-prod-v002");
    expect(text).toContain("  swap in flight: ab12, shifting, step 3/3 (100%)");
    expect(text.endsWith("\u001b[?25h")).toBe(true);
  });
});

describe("the end of a wait", () => {
  it("a summary line for a swap that completed, or none in flight; nothing for a failure", () => {
    const done = swapEnding(record({}, { outcome: "completed" }), 61_000);
    expect(describeEnding(done)).toBe(
      "web/prod: swap ab12 completed: web-prod-v002 is live (r2); waited 1m1s",
    );
    expect(describeEnding(noSwapEnding("web/prod", 3))).toBe("web/prod: no swap in flight");
    const failed = swapEnding(record({}, { outcome: "rolled-back" }), 0);
    expect(describeEnding(failed)).toBeUndefined();
  });

  it("the JSON result object: how it ended and its exit code", () => {
    const failure = { code: "GATE_FAILED", message: "smoke" };
    const ending = swapEnding(record({ failure }, { outcome: "rolled-back" }), 5);
    expect(endingJson(ending)).toEqual({
      type: "result",
      ok: false,
      service: "web/prod",
      outcome: "rolled-back",
      exitCode: 4,
      swapId: "ab12",
      kind: "deploy",
      release: "s3://releases/web/prod/r2.tar.gz",
      green: "web-prod-v002",
      blue: "web-prod-v001",
      failure,
      halted: null,
      endedAt: null,
      waitedMs: 5,
      error: {
        code: "GATE_FAILED",
        message: "web/prod: swap ab12 was rolled back (smoke); web-prod-v001 is live",
      },
    });
    const timeout = new AwsError("TIMEOUT", "timed out", { details: { swapId: "ab12" } });
    expect(waitErrorJson("web/prod", timeout, 9)).toMatchObject({
      type: "result",
      ok: false,
      outcome: null,
      exitCode: 1,
      swapId: "ab12",
      error: { code: "TIMEOUT", message: "timed out" },
    });
  });
});

describe("watchMode", () => {
  it("redraws only on a sized terminal, not on CI nor with --json", () => {
    const m = memoryIo();
    expect(watchMode({ json: false }, m.io)).toBe("plain");
    Object.assign(m.io.stdout, { isTTY: true, columns: 80 });
    expect(watchMode({ json: false }, m.io)).toBe("tty");
    expect(watchMode({ json: true }, m.io)).toBe("json");
    expect(watchMode({ json: false }, { ...m.io, env: { CI: "true" } })).toBe("plain");
  });
});

describe("status --watch and --wait on the command line", () => {
  it("need a service: exit 2, saying so, before any config is read", async () => {
    for (const flag of ["--watch", "--wait"]) {
      const m = memoryIo({ cwd: "/nonexistent" });
      expect(await runCli(["status", flag], m.io)).toBe(2);
      expect(m.stderr.text()).toBe(
        `error INVALID_INPUT: status ${flag} needs a service\nhint: switchyard status <service> ${flag}\n`,
      );
    }
  });

  it("--timeout applies to --wait only; a malformed one is a usage error", async () => {
    const m = memoryIo({ cwd: "/nonexistent" });
    expect(await runCli(["status", "web/prod", "--watch", "--timeout", "5m"], m.io)).toBe(2);
    expect(m.stderr.text()).toMatch(/^error INVALID_INPUT: --timeout applies to status --wait/);
    const bad = memoryIo({ cwd: "/nonexistent" });
    expect(await runCli(["status", "web/prod", "--wait", "--timeout", "soon"], bad.io)).toBe(2);
    expect(bad.stderr.text()).toMatch(/^error INVALID_INPUT: option '--timeout <duration>'/);
  });
});

describe("status lines of a swap someone must act on", () => {
  it("a swap halted on drift says so and names both ways on; a pause and pending requests show", async () => {
    const { describeStatus } = await import("../../../src/cli/commands/status.js");
    const halted = status(
      record(
        {},
        { halted: { code: "DRIFT", message: "the listener's action changed", at: "then" } },
      ),
    );
    const lines = describeStatus(halted);
    expect(lines).toContain(
      "    stopped (DRIFT): the listener's action changed; no process drives it",
    );
    expect(lines.join("\n")).toContain("`switchyard promote web/prod` adopts what is there");
    const paused = status(
      record(
        {},
        {
          control: {
            pause: { by: "ops@laptop (pid 7)", at: "t" },
            abort: { by: "sre@desk (pid 9)", at: "t" },
          },
        },
      ),
    );
    const text = describeStatus(paused).join("\n");
    expect(text).toContain(
      "    paused by ops@laptop (pid 7): `switchyard promote web/prod` goes on",
    );
    expect(text).toContain("    abort requested by sre@desk (pid 9)");
  });
});
