import { afterEach, describe, expect, it, vi } from "vitest";
import {
  chooseMode,
  createRenderer,
  describeEvent,
  describeWait,
  formatElapsed,
  type ResultObject,
  type Spinner,
  shiftBar,
} from "../../../src/cli/render.js";
import type { SwitchyardEvent } from "../../../src/core/events.js";
import { memoryIo, memoryStream } from "./helpers.js";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const service = "web/prod";
const at = (s: number) => T0 + s * 1000;

const V1 = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web-prod-v001/aa";
const V2 = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web-prod-v002/bb";
const health = (v1: number, v2: number) => [
  { name: "web-prod-v001", role: "blue" as const, healthy: v1, desired: 2 },
  { name: "web-prod-v002", role: "green" as const, healthy: v2, desired: 2 },
];

/** A swap of web/prod from v001 (r1) to v002 (r2) at 25% then 100%. */
const SWAP: SwitchyardEvent[] = [
  { service, at: at(0), type: "lock.acquired", swapId: "ab12cd34" },
  {
    service,
    at: at(0),
    type: "swap.started",
    swapId: "ab12cd34",
    release: "s3://releases/web/prod/r2.tar.gz",
    green: "web-prod-v002",
    blue: "web-prod-v001",
    blueRelease: "s3://releases/web/prod/r1.tar.gz",
    steps: [25, 100],
    bakeMs: 30_000,
    resumed: false,
  },
  {
    service,
    at: at(1),
    type: "action",
    action: "createTargetGroup",
    description: "create target group web-prod-v002",
  },
  {
    service,
    at: at(1),
    type: "action",
    action: "createGroup",
    description: "create Auto Scaling group web-prod-v002 (desired 2)",
  },
  {
    service,
    at: at(2),
    type: "waiting",
    reason: "waiting for green web-prod-v002 to be healthy",
    progress: { startedAt: at(1), until: at(121), groups: health(2, 0) },
  },
  {
    service,
    at: at(3),
    type: "waiting",
    reason: "waiting for green web-prod-v002 to be healthy",
    progress: { startedAt: at(1), until: at(121), groups: health(2, 1) },
  },
  {
    service,
    at: at(14),
    type: "green.healthy",
    group: "web-prod-v002",
    healthy: 2,
    elapsedMs: 14_000,
  },
  {
    service,
    at: at(15),
    type: "action",
    action: "setTraffic",
    purpose: "shift",
    description: "shift: set listener weights web-prod-v001=75, web-prod-v002=25",
  },
  {
    service,
    at: at(15),
    type: "step.shifted",
    step: 1,
    of: 2,
    weight: 25,
    // the listener's order, not the names'
    weights: [
      { targetGroupArn: V2, weight: 25 },
      { targetGroupArn: V1, weight: 75 },
    ],
  },
  {
    service,
    at: at(15),
    type: "waiting",
    reason: "baking at 25%",
    progress: {
      step: 1,
      of: 2,
      weight: 25,
      startedAt: at(15),
      until: at(45),
      groups: health(2, 2),
      gates: { passed: 1, total: 1 },
    },
  },
  { service, at: at(45), type: "step.baked", step: 1, weight: 25, bakedMs: 30_000, gates: 1 },
  {
    service,
    at: at(46),
    type: "step.shifted",
    step: 2,
    of: 2,
    weight: 100,
    weights: [
      { targetGroupArn: V1, weight: 0 },
      { targetGroupArn: V2, weight: 100 },
    ],
  },
  { service, at: at(76), type: "step.baked", step: 2, weight: 100, bakedMs: 30_000, gates: 1 },
  { service, at: at(77), type: "warning", message: "DescribeTargetHealth throttled (2 in a row)" },
  { service, at: at(78), type: "lock.released", swapId: "ab12cd34" },
  {
    service,
    at: at(78),
    type: "swap.completed",
    live: "web-prod-v002",
    standby: "web-prod-v001",
    durationMs: 78_000,
  },
];

const RESULT: ResultObject = {
  type: "result",
  ok: true,
  service,
  live: "web-prod-v002",
  standby: "web-prod-v001",
  release: "s3://releases/web/prod/r2.tar.gz",
  durationMs: 78_000,
};

const NEXT = ["switchyard rollback web/prod    # undo"];

async function render(
  mode: "plain" | "json",
  options: { quiet?: boolean; verbose?: boolean } = {},
) {
  const stdout = memoryStream();
  const stderr = memoryStream();
  const renderer = await createRenderer({
    mode,
    stdout: stdout.stream,
    stderr: stderr.stream,
    ...options,
  });
  for (const event of SWAP) renderer.event(event);
  renderer.result(RESULT, NEXT);
  if (options.verbose) {
    renderer.calls(
      new Map([
        ["elbv2:DescribeListeners", 3],
        ["elbv2:ModifyListener", 2],
      ]),
    );
  }
  renderer.stop();
  return { stdout, stderr };
}

describe("the plain renderer (not a terminal)", () => {
  it("prints one timestamped line per event on stderr and the result on stdout", async () => {
    const { stdout, stderr } = await render("plain");
    // no internals (target group, shift), groups in name order, the result once, then next:
    expect(stderr.lines()).toEqual([
      "12:00:00 swap ab12cd34: web/prod r1 on web-prod-v001 → r2 on web-prod-v002; steps 25 → 100%, bake 30s each",
      "12:00:01 create Auto Scaling group web-prod-v002 (desired 2)",
      "12:00:02 waiting for green web-prod-v002 to be healthy · 1s of 2m0s, 1m59s left · web-prod-v001 2/2 healthy, web-prod-v002 0/2 healthy",
      "12:00:03 waiting for green web-prod-v002 to be healthy · 2s of 2m0s, 1m58s left · web-prod-v001 2/2 healthy, web-prod-v002 1/2 healthy",
      "12:00:14 web-prod-v002 healthy: 2/2 in 14s",
      "12:00:15 step 1/2: 25% on web-prod-v002 (web-prod-v001 75 · web-prod-v002 25)",
      "12:00:15 step 1/2: baking at 25% · 0s of 30s, 30s left · web-prod-v001 2/2 healthy, web-prod-v002 2/2 healthy · gates 1/1 passed",
      "12:00:45 step 1/2 baked 30s at 25%, 1 gate passed",
      "12:00:46 step 2/2: 100% on web-prod-v002 (web-prod-v002 100)",
      "12:01:16 step 2/2 baked 30s at 100%, 1 gate passed",
      "12:01:17 warning: DescribeTargetHealth throttled (2 in a row)",
      "next: switchyard rollback web/prod    # undo",
    ]);
    expect(stdout.lines()).toEqual([
      "web/prod: web-prod-v002 is live (r2); standby web-prod-v001; 1m18s",
    ]);
  });

  it("with --verbose adds the internals, the lock events and the AWS calls by operation", async () => {
    const { stderr } = await render("plain", { verbose: true });
    expect(stderr.lines()).toContain("12:00:01 create target group web-prod-v002");
    expect(stderr.lines()).toContain(
      "12:00:15 shift: set listener weights web-prod-v001=75, web-prod-v002=25",
    );
    expect(stderr.lines()).toContain("12:00:00 lock taken (swap ab12cd34)");
    expect(stderr.lines()).toContain("12:01:18 lock released (swap ab12cd34)");
    expect(stderr.lines().slice(-3)).toEqual([
      "AWS calls: 5",
      "     3  elbv2:DescribeListeners",
      "     2  elbv2:ModifyListener",
    ]);
  });

  it("with --quiet prints only the result", async () => {
    const { stdout, stderr } = await render("plain", { quiet: true });
    expect(stderr.text()).toBe("");
    expect(stdout.lines()).toHaveLength(1);
  });

  it("prints nothing on stdout for a failed result (the error line on stderr says why)", async () => {
    const stdout = memoryStream();
    const renderer = await createRenderer({
      mode: "plain",
      stdout: stdout.stream,
      stderr: memoryStream().stream,
    });
    renderer.result({
      ...RESULT,
      ok: false,
      error: { code: "GATE_FAILED", message: "smoke failed" },
    });
    expect(stdout.text()).toBe("");
  });
});

describe("the JSON renderer (--json)", () => {
  it("prints each event as is, one per line, and the result object last; nothing on stderr", async () => {
    const { stdout, stderr } = await render("json");
    const lines = stdout.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(SWAP.length + 1);
    expect(lines.slice(0, -1)).toEqual(SWAP);
    expect(lines.at(-1)).toEqual({
      type: "result",
      ok: true,
      service: "web/prod",
      live: "web-prod-v002",
      standby: "web-prod-v001",
      release: "s3://releases/web/prod/r2.tar.gz",
      durationMs: 78_000,
    });
    expect(stderr.text()).toBe("");
  });

  it("with --quiet prints only the result object", async () => {
    const { stdout } = await render("json", { quiet: true });
    expect(stdout.lines()).toHaveLength(1);
    expect(JSON.parse(stdout.lines()[0]!)).toMatchObject({ type: "result", ok: true });
  });

  it("keeps --verbose call counts off stdout", async () => {
    const { stdout, stderr } = await render("json", { verbose: true });
    for (const line of stdout.lines()) expect(() => JSON.parse(line)).not.toThrow();
    expect(stderr.text()).toContain("AWS calls: 5");
  });
});

/** A spinner that records what ora would draw. */
function fakeSpinner() {
  const persisted: string[] = [];
  let spinning = false;
  const spinner: Spinner & { persisted: string[] } = {
    text: "",
    persisted,
    get isSpinning() {
      return spinning;
    },
    start(text?: string) {
      if (text !== undefined) spinner.text = text;
      spinning = true;
    },
    stop() {
      spinning = false;
    },
    stopAndPersist({ symbol, text }) {
      spinning = false;
      persisted.push(`${symbol} ${text}`);
    },
  };
  return spinner;
}

describe("the terminal renderer", () => {
  it("draws a step timeline: ✔ per action and step, waits on the spinner only", async () => {
    const stderr = memoryStream(true);
    const stdout = memoryStream(true);
    const spinner = fakeSpinner();
    const renderer = await createRenderer(
      { mode: "tty", stdout: stdout.stream, stderr: stderr.stream, color: false },
      () => spinner,
    );
    for (const event of SWAP) renderer.event(event);
    renderer.result(RESULT);
    const timeline = [...spinner.persisted, ...stderr.lines()];
    expect(timeline).toContain("✔ create Auto Scaling group web-prod-v002 (desired 2)");
    expect(timeline).toContain(
      "✔ step 1/2: 25% on web-prod-v002 (web-prod-v001 75 · web-prod-v002 25)",
    );
    expect(timeline).toContain("✔ step 1/2 baked 30s at 25%, 1 gate passed");
    expect(timeline).toContain("⚠ DescribeTargetHealth throttled (2 in a row)");
    expect(timeline.join("\n")).not.toContain("waiting for green");
    expect(timeline.join("\n")).not.toContain("create target group");
    expect(stdout.lines()).toEqual([
      "✔ web/prod: web-prod-v002 is live (r2); standby web-prod-v001; 1m18s",
    ]);
    expect(stdout.text() + stderr.text() + spinner.persisted.join("")).not.toContain("\u001b[");
  });

  it("colours its symbols unless --no-color", async () => {
    const spinner = fakeSpinner();
    const stderr = memoryStream(true);
    const renderer = await createRenderer(
      { mode: "tty", stdout: memoryStream(true).stream, stderr: stderr.stream, color: true },
      () => spinner,
    );
    renderer.event(SWAP[3]!); // an action: on the spinner
    renderer.event(SWAP[8]!); // a step: the action is persisted, then the step
    expect(spinner.persisted).toEqual([
      "\u001b[32m✔\u001b[39m create Auto Scaling group web-prod-v002 (desired 2)",
    ]);
    expect(stderr.lines()).toEqual([
      "\u001b[32m✔\u001b[39m step 1/2: 25% on green (web-prod-v001 75 · web-prod-v002 25)",
    ]);
  });
});

describe("choosing a mode", () => {
  it("uses spinners on a terminal, plain lines when piped or on CI, JSON with --json", () => {
    const tty = memoryIo();
    tty.io.stderr.isTTY = true;
    tty.io.stderr.columns = 80;
    expect(chooseMode({ json: false }, tty.io)).toBe("tty");
    expect(chooseMode({ json: true }, tty.io)).toBe("json");
    expect(chooseMode({ json: false }, { ...tty.io, env: { CI: "true" } })).toBe("plain");
    expect(chooseMode({ json: false }, memoryIo().io)).toBe("plain");
    tty.io.stderr.columns = 0; // a pty nobody sized
    expect(chooseMode({ json: false }, tty.io)).toBe("plain");
  });
});

describe("texts", () => {
  it("formats elapsed times the short way", () => {
    expect(formatElapsed(250)).toBe("250ms");
    expect(formatElapsed(1500)).toBe("1.5s");
    expect(formatElapsed(14_000)).toBe("14s");
    expect(formatElapsed(78_000)).toBe("1m18s");
    expect(formatElapsed(3_723_000)).toBe("1h2m3s");
  });

  it("says a first deploy has no blue and marks a resumed swap", () => {
    const started = {
      ...(SWAP[1] as Extract<SwitchyardEvent, { type: "swap.started" }>),
      blue: null,
      resumed: true,
      steps: [100],
    };
    expect(describeEvent(started).text).toBe(
      "resuming swap ab12cd34: web/prod r2 on web-prod-v002 (first deploy); steps 100%, bake 30s each",
    );
  });
});

describe("metric gate verdicts", () => {
  it("read as the gate's name and its sentence, marked by the result", () => {
    const verdict = (result: "pass" | "fail" | "insufficient" | "skipped", sentence: string) =>
      describeEvent({
        service,
        at: at(1),
        type: "gate.verdict",
        step: 1,
        weight: 5,
        gate: "judge",
        result,
        sentence,
      });
    const pass = "green 5xx 0.2 % (3/1500) vs blue 0.1 % (29/28500), p = 0.41: pass";
    expect(verdict("pass", pass)).toEqual({ kind: "done", text: `judge: ${pass}` });
    expect(
      verdict("fail", "green 5xx 5 % (75/1500) vs blue 0 % (0/28500), p < 0.001: fail"),
    ).toEqual({
      kind: "fail",
      text: "judge: green 5xx 5 % (75/1500) vs blue 0 % (0/28500), p < 0.001: fail",
    });
    expect(verdict("skipped", "not judged at 100%").kind).toBe("info");
  });
});

describe("progress during a wait", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const bake = (now: number): SwitchyardEvent => ({
    service,
    at: now,
    type: "waiting",
    reason: "baking at 5%",
    progress: {
      step: 1,
      of: 4,
      weight: 5,
      startedAt: now,
      until: now + 300_000,
      groups: health(2, 2),
    },
  });

  it("in plain mode, says where a long bake stands at least every heartbeat, and stops after it", async () => {
    vi.useFakeTimers({ now: T0 });
    const stderr = memoryStream();
    const renderer = await createRenderer({
      mode: "plain",
      stdout: memoryStream().stream,
      stderr: stderr.stream,
      heartbeatMs: 30_000,
    });
    renderer.event(bake(T0));
    vi.advanceTimersByTime(29_000);
    expect(stderr.lines()).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    vi.advanceTimersByTime(60_000);
    expect(stderr.lines()).toEqual([
      "12:00:00 step 1/4: baking at 5% · 0s of 5m0s, 5m0s left · web-prod-v001 2/2 healthy, web-prod-v002 2/2 healthy",
      "12:00:30 step 1/4: baking at 5% · 30s of 5m0s, 4m30s left · web-prod-v001 2/2 healthy, web-prod-v002 2/2 healthy",
      "12:01:00 step 1/4: baking at 5% · 1m0s of 5m0s, 4m0s left · web-prod-v001 2/2 healthy, web-prod-v002 2/2 healthy",
      "12:01:30 step 1/4: baking at 5% · 1m30s of 5m0s, 3m30s left · web-prod-v001 2/2 healthy, web-prod-v002 2/2 healthy",
    ]);
    // a warning comes during the wait without ending it; the bake's end does
    renderer.event({ service, at: Date.now(), type: "warning", message: "throttled" });
    vi.advanceTimersByTime(30_000);
    expect(stderr.lines()).toHaveLength(6);
    renderer.event({ service, at: Date.now(), type: "step.baked", step: 1, weight: 5 });
    vi.advanceTimersByTime(120_000);
    expect(stderr.lines()).toHaveLength(7);
    renderer.stop();
  });

  it("on a terminal, draws the shift as a bar beside the bake's time and health", async () => {
    vi.useFakeTimers({ now: T0 });
    const spinner = fakeSpinner();
    const stderr = memoryStream(true);
    stderr.stream.columns = 80;
    const renderer = await createRenderer(
      { mode: "tty", stdout: memoryStream(true).stream, stderr: stderr.stream, color: false },
      () => spinner,
    );
    renderer.event(bake(T0));
    vi.advanceTimersByTime(12_000);
    expect(spinner.text).toBe(
      `${shiftBar(5)}  ${"step 1/4: baking at 5% · 12s of 5m0s, 4m48s left · web-prod-v001 2/2 healthy, web-prod-v002 2/2 healthy".slice(0, 76)}…`,
    );
    expect(spinner.isSpinning).toBe(true);
    renderer.stop();
    expect(spinner.isSpinning).toBe(false);
  });

  it("draws the shift in ten cells, never empty once green has traffic", () => {
    expect(shiftBar(0)).toBe("░░░░░░░░░░   0%");
    expect(shiftBar(5)).toBe("█░░░░░░░░░   5%");
    expect(shiftBar(50)).toBe("█████░░░░░  50%");
    expect(shiftBar(100)).toBe("██████████ 100%");
  });

  it("names why a group's targets are unhealthy", () => {
    const waiting = bake(T0) as Extract<SwitchyardEvent, { type: "waiting" }>;
    waiting.progress!.groups = [
      {
        name: "web-prod-v002",
        role: "green",
        healthy: 0,
        desired: 2,
        unhealthy: ["Health checks failed with these codes: [500]"],
      },
    ];
    expect(describeWait(waiting, T0 + 5_000)).toBe(
      "step 1/4: baking at 5% · 5s of 5m0s, 4m55s left · web-prod-v002 0/2 healthy (Health checks failed with these codes: [500])",
    );
  });
});

describe("failures", () => {
  it("show a failed gate's last lines once, under the gate's line", async () => {
    const stderr = memoryStream();
    const renderer = await createRenderer({
      mode: "plain",
      stdout: memoryStream().stream,
      stderr: stderr.stream,
    });
    renderer.event({
      service,
      at: at(1),
      type: "gate.failed",
      gate: "./smoke.sh",
      message: "exited with code 3 (all of its output: /tmp/g.log)",
      output: "check 9 ok\np99 900ms",
      outputFile: "/tmp/g.log",
    });
    renderer.stop();
    expect(stderr.lines()).toEqual([
      "12:00:01 error: gate failed: ./smoke.sh: exited with code 3 (all of its output: /tmp/g.log)",
      "  │ check 9 ok",
      "  │ p99 900ms",
    ]);
  });

  it("leave the rolled-back line to the error that follows (plain), but keep it in JSON", async () => {
    const rolledBack: SwitchyardEvent = {
      service,
      at: at(9),
      type: "swap.rolled-back",
      live: "web-prod-v001",
      code: "GATE_FAILED",
      reason: "gate ./smoke.sh failed",
    };
    const plain = memoryStream();
    const json = memoryStream();
    for (const [mode, stream] of [
      ["plain", plain],
      ["json", json],
    ] as const) {
      const renderer = await createRenderer({ mode, stdout: stream.stream, stderr: stream.stream });
      renderer.event(rolledBack);
      renderer.stop();
    }
    expect(plain.text()).toBe("");
    expect(JSON.parse(json.text())).toEqual(rolledBack);
  });

  it("print no next: lines with --quiet", async () => {
    const { stderr } = await render("plain", { quiet: true });
    expect(stderr.text()).not.toContain("next:");
  });
});
