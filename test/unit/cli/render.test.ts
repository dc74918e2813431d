import { describe, expect, it } from "vitest";
import {
  chooseMode,
  createRenderer,
  describeEvent,
  formatElapsed,
  type ResultObject,
  type Spinner,
} from "../../../src/cli/render.js";
import type { SwitchyardEvent } from "../../../src/core/events.js";
import { memoryIo, memoryStream } from "./helpers.js";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const service = "web/prod";
const at = (s: number) => T0 + s * 1000;

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
    steps: [25, 100],
    resumed: false,
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
    reason: "waiting for green web-prod-v002 to be healthy: 0/2 healthy",
  },
  {
    service,
    at: at(3),
    type: "waiting",
    reason: "waiting for green web-prod-v002 to be healthy: 1/2 healthy",
  },
  {
    service,
    at: at(14),
    type: "green.healthy",
    group: "web-prod-v002",
    healthy: 2,
    elapsedMs: 14_000,
  },
  { service, at: at(15), type: "step.shifted", step: 1, of: 2, weight: 25, weights: [] },
  { service, at: at(15), type: "waiting", reason: "baking at 25%" },
  { service, at: at(45), type: "step.baked", step: 1, weight: 25 },
  { service, at: at(46), type: "step.shifted", step: 2, of: 2, weight: 100, weights: [] },
  { service, at: at(76), type: "step.baked", step: 2, weight: 100 },
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
  renderer.result(RESULT);
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
    expect(stderr.lines()).toEqual([
      "12:00:00 swap ab12cd34 of web/prod: r2 on web-prod-v002, blue web-prod-v001; steps 25% → 100%",
      "12:00:01 create Auto Scaling group web-prod-v002 (desired 2)",
      "12:00:02 waiting for green web-prod-v002 to be healthy: 0/2 healthy",
      "12:00:03 waiting for green web-prod-v002 to be healthy: 1/2 healthy",
      "12:00:14 web-prod-v002 healthy: 2 instances in 14s",
      "12:00:15 25% on web-prod-v002 (step 1/2)",
      "12:00:15 baking at 25%",
      "12:00:45 baked 25% (step 1/2)",
      "12:00:46 100% on web-prod-v002 (step 2/2)",
      "12:01:16 baked 100% (step 2/2)",
      "12:01:17 warning: DescribeTargetHealth throttled (2 in a row)",
      "12:01:18 swap done in 1m18s: web-prod-v002 is live, web-prod-v001 is standby",
    ]);
    expect(stdout.lines()).toEqual([
      "web/prod: web-prod-v002 is live (r2); standby web-prod-v001; 1m18s",
    ]);
  });

  it("with --verbose adds the lock events and the AWS calls by operation", async () => {
    const { stderr } = await render("plain", { verbose: true });
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
    expect(timeline).toContain("✔ 25% on web-prod-v002 (step 1/2)");
    expect(timeline).toContain("✔ baked 25% (step 1/2)");
    expect(timeline).toContain("⚠ DescribeTargetHealth throttled (2 in a row)");
    expect(timeline.join("\n")).not.toContain("waiting for green");
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
    renderer.event(SWAP[2]!); // an action: on the spinner
    renderer.event(SWAP[6]!); // a step: the action is persisted, then the step
    expect(spinner.persisted).toEqual([
      "\u001b[32m✔\u001b[39m create Auto Scaling group web-prod-v002 (desired 2)",
    ]);
    expect(stderr.lines()).toEqual(["\u001b[32m✔\u001b[39m 25% on green (step 1/2)"]);
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
      "resuming swap ab12cd34 of web/prod: r2 on web-prod-v002 (first deploy); steps 100%",
    );
  });
});
