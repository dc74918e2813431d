import { describe, expect, it } from "vitest";
import { wizardRefusal } from "../../../src/cli/commands/wizard.js";
import { runCli } from "../../../src/cli/run.js";
import {
  chooseRelease,
  chooseService,
  chooseSteps,
  confirmSwap,
} from "../../../src/cli/wizard/choose.js";
import {
  type Choice,
  isPromptClosed,
  isPromptExit,
  type Prompter,
} from "../../../src/cli/wizard/prompts.js";
import {
  parseStepsAnswer,
  planTable,
  releaseLabel,
  stepChoices,
  stepQuestion,
} from "../../../src/cli/wizard/text.js";
import { outcomeError } from "../../../src/cli/wizard/watch.js";
import { SwapError } from "../../../src/core/errors.js";
import type { SwapPlan } from "../../../src/core/swap-model.js";
import type { ReleaseInfo } from "../../../src/release/list.js";
import type { SwapResult } from "../../../src/swap/swap.js";
import { samplePlan } from "../../helpers/plan.js";
import { memoryIo } from "./helpers.js";

/** The sample plan as the wizard shows it: a 5-minute bake, a gate, a new image. */
function plan(overrides: Partial<SwapPlan> = {}): SwapPlan {
  const base = samplePlan();
  return samplePlan({
    originalTargetGroups: [{ targetGroupArn: "arn:tg/blue", weight: 100 }],
    capacity: { min: 2, max: 6, desired: 2 },
    bakeMs: 300_000,
    healthyTimeoutMs: 900_000,
    gates: ["./scripts/smoke.sh"],
    launch: { ...base.launch, imageId: "ami-0new", securityGroupIds: ["sg-1"] },
    ...overrides,
  });
}

/** The plan of the swap that made v001 live. */
const LIVE = plan({
  release: { url: "s3://releases/web/prod/r1.tar.gz", version: "r1" },
  green: { ...plan().green, name: "web-prod-v001", sequence: 1 },
  blue: null,
  launch: { ...plan().launch, imageId: "ami-0old" },
  bakeMs: 60_000,
  gates: [],
});

describe("planTable", () => {
  it("puts blue (as its own swap launched it) beside green and marks what changes", () => {
    expect(planTable(plan(), { live: LIVE })).toEqual([
      "                live (blue)                green (this swap)",
      "group           web-prod-v001              web-prod-v002",
      "release         r1                         r2  ← changed",
      "image           ami-0old                   ami-0new  ← changed",
      "instance type   t3.small                   t3.small",
      "capacity        min 2 / desired 2 / max 6  min 2 / desired 2 / max 6",
      "steps           100%                       5% → 25% → 100%  ← changed",
      "bake            1m                         5m  ← changed",
      "healthy within  15m                        15m",
      "stickiness      1h                         1h",
      "gates           none                       ./scripts/smoke.sh  ← changed",
    ]);
  });

  it("shows `?` for what only blue's swap history tells, and marks nothing it cannot compare", () => {
    const lines = planTable(plan());
    expect(lines).toContain("image           ?                          ami-0new");
    expect(lines).toContain("bake            ?                          5m");
    expect(lines.filter((l) => l.includes("← changed"))).toEqual([
      "release         r1                         r2  ← changed",
    ]);
  });

  it("shows the steps the operator chose", () => {
    expect(planTable(plan(), { live: LIVE, steps: [100] })).toContain(
      "steps           100%                       100%",
    );
  });

  it("a first deploy has no blue and goes straight to 100%", () => {
    const lines = planTable(plan({ blue: null }));
    expect(lines[1]).toBe("group           none (first deploy)  web-prod-v002");
    expect(lines).toContain("steps           —                    100%");
    expect(lines.some((l) => l.includes("← changed"))).toBe(false);
  });

  it("colours only with colour on, and clips long values", () => {
    const long = plan({ gates: ["x".repeat(80)] });
    expect(planTable(long).join("\n")).not.toContain("\u001b[");
    expect(planTable(long).at(-1)).toMatch(/x{47}…$/);
    const coloured = planTable(plan(), { live: LIVE, color: true });
    expect(coloured[0]?.startsWith("\u001b[1m")).toBe(true);
    expect(coloured[2]).toContain("\u001b[33mr2\u001b[39m");
  });
});

describe("the wizard's words", () => {
  const release = (version: string, extra: Partial<ReleaseInfo> = {}): ReleaseInfo => ({
    version,
    url: `s3://releases/web/prod/${version}.tar.gz`,
    size: 1,
    createdAt: "2026-03-01T10:20:30.000Z",
    lastModified: "2026-03-01T10:20:31.000Z",
    sha256: null,
    gitCommit: null,
    live: false,
    standby: false,
    ...extra,
  });

  it("labels releases with when they were packed and which is live or standby", () => {
    expect(releaseLabel(release("r10"), 3)).toBe("r10  2026-03-01 10:20");
    expect(releaseLabel(release("r9", { live: true }), 3)).toBe("r9   2026-03-01 10:20  (live)");
    expect(releaseLabel(release("r8", { standby: true, createdAt: "" }), 3)).toBe("r8   (standby)");
  });

  it("reads custom steps with deploy's rule", () => {
    expect(parseStepsAnswer("5,25,100")).toEqual([5, 25, 100]);
    expect(parseStepsAnswer(" 10 50% 100 ")).toEqual([10, 50, 100]);
    expect(parseStepsAnswer("")).toMatch(/type the percents/);
    expect(parseStepsAnswer("5,x,100")).toMatch(/whole percents/);
    expect(parseStepsAnswer("50,25,100")).toMatch(/steps must increase/);
    expect(parseStepsAnswer("5,25")).toMatch(/must increase and end at 100; got 5,25$/);
    expect(parseStepsAnswer("0,100")).toMatch(/from 1 to 100/);
  });

  it("asks promote / hold / roll back at a step, and resume instead of hold when held", () => {
    const at = { step: 1, of: 3, weight: 5 };
    expect(stepQuestion(at, "web-prod-v002", 300_000, false)).toBe(
      "Step 1/3: 5% on web-prod-v002, baking 5m. Next?",
    );
    expect(stepQuestion(at, "web-prod-v002", 300_000, true)).toBe(
      "Step 1/3: 5% on web-prod-v002, held (gates still checked). Next?",
    );
    expect(stepChoices(at, "web-prod-v001", false).map((c) => c.value)).toEqual([
      "promote",
      "hold",
      "rollback",
    ]);
    expect(stepChoices(at, "web-prod-v001", true).map((c) => c.value)).toEqual([
      "promote",
      "resume",
      "rollback",
    ]);
    expect(stepChoices({ step: 3, of: 3, weight: 100 }, null, false)[0]?.description).toMatch(
      /finish the swap/,
    );
    expect(stepChoices(at, null, false)[2]?.description).toMatch(/listener back/);
  });
});

/** A prompter that answers from a script and records the questions. */
function scripted(...answers: unknown[]) {
  const asked: Array<{ kind: string; message: string; choices?: string[]; default?: unknown }> = [];
  const next = () => {
    if (answers.length === 0) throw new Error("no answer left");
    const a = answers.shift();
    if (a instanceof Error) throw a;
    return a;
  };
  const prompter: Prompter = {
    async select<T>(q: { message: string; choices: Array<Choice<T>>; default?: T }) {
      asked.push({
        kind: "select",
        message: q.message,
        choices: q.choices.map((c) => c.name),
        default: q.default,
      });
      const a = next();
      // answers name a choice by (part of) its label
      const hit = q.choices.find((c) => c.name.includes(String(a)));
      if (!hit) throw new Error(`no choice ${String(a)} in ${q.choices.map((c) => c.name)}`);
      return hit.value;
    },
    async input(q) {
      asked.push({ kind: "input", message: q.message, default: q.default });
      const a = String(next());
      const valid = q.validate?.(a) ?? true;
      if (valid !== true) throw new Error(`invalid: ${valid}`);
      return a;
    },
    async confirm(q) {
      asked.push({ kind: "confirm", message: q.message, default: q.default });
      return Boolean(next());
    },
  };
  return { prompter, asked };
}

describe("the questions before a swap", () => {
  const service = { name: "web/prod", releases: "s3://releases/web/prod/" };
  const releases: ReleaseInfo[] = [
    {
      version: "r3",
      url: "s3://releases/web/prod/r3.tar.gz",
      size: 1,
      createdAt: "2026-03-03T00:00:00.000Z",
      lastModified: null,
      sha256: null,
      gitCommit: null,
      live: true,
      standby: false,
    },
    {
      version: "r2",
      url: "s3://releases/web/prod/r2.tar.gz",
      size: 1,
      createdAt: "2026-03-02T00:00:00.000Z",
      lastModified: null,
      sha256: null,
      gitCommit: null,
      live: false,
      standby: true,
    },
  ];

  it("asks for a service only when there is more than one", async () => {
    const none = scripted();
    expect(await chooseService(["web/prod"], none.prompter)).toBe("web/prod");
    expect(none.asked).toEqual([]);
    const two = scripted("web/stage");
    expect(await chooseService(["web/stage", "api/prod"], two.prompter)).toBe("web/stage");
    expect(two.asked[0]?.choices).toEqual(["api/prod", "web/stage"]);
  });

  it("offers the releases newest first with the first one not live preselected", async () => {
    const { prompter, asked } = scripted("r2");
    expect(await chooseRelease(service, releases, prompter)).toBe(
      "s3://releases/web/prod/r2.tar.gz",
    );
    expect(asked[0]).toMatchObject({
      message: "Release to swap web/prod to",
      choices: [
        "r3  2026-03-03 00:00  (live)",
        "r2  2026-03-02 00:00  (standby)",
        "type a version or URL…",
      ],
      default: "s3://releases/web/prod/r2.tar.gz",
    });
  });

  it("takes a typed version or URL, checked before it is accepted", async () => {
    const typed = scripted("type a version", " r7 ");
    expect(await chooseRelease(service, releases, typed.prompter)).toBe("r7");
    const bad = scripted("type a version", "not a version!");
    await expect(chooseRelease(service, releases, bad.prompter)).rejects.toThrow(
      /invalid: invalid release/,
    );
    const empty = scripted("s3://other/r1.tar.gz");
    expect(await chooseRelease(service, [], empty.prompter)).toBe("s3://other/r1.tar.gz");
    expect(empty.asked[0]?.message).toMatch(/^No releases under s3:\/\/releases\/web\/prod\/ yet/);
  });

  it("chooses the configured steps, all at once, or custom ones", async () => {
    expect(await chooseSteps(plan(), scripted("configured").prompter)).toEqual([5, 25, 100]);
    expect(await chooseSteps(plan(), scripted("all at once").prompter)).toEqual([100]);
    const custom = scripted("custom", "10,50,100");
    expect(await chooseSteps(plan(), custom.prompter)).toEqual([10, 50, 100]);
    expect(custom.asked[1]).toMatchObject({ kind: "input", default: "5,25,100" });
    await expect(chooseSteps(plan(), scripted("custom", "50,10").prompter)).rejects.toThrow(
      /steps must increase/,
    );
  });

  it("does not ask for steps on a first deploy", async () => {
    const { prompter, asked } = scripted();
    expect(await chooseSteps(plan({ blue: null }), prompter)).toEqual([100]);
    expect(asked).toEqual([]);
  });

  it("asks for the go-ahead with No as the default", async () => {
    const { prompter, asked } = scripted(false);
    expect(await confirmSwap(plan(), [25, 100], prompter)).toBe(false);
    expect(asked[0]).toEqual({
      kind: "confirm",
      message: "Swap web/prod from web-prod-v001 to r2 on web-prod-v002, steps 25% → 100%?",
      default: false,
    });
  });
});

describe("wizard outcomes", () => {
  const rolledBack: SwapResult = {
    ok: false,
    service: "web/prod",
    outcome: "rolled-back",
    live: "web-prod-v001",
    standby: null,
    release: "s3://releases/web/prod/r1.tar.gz",
    attempted: "s3://releases/web/prod/r2.tar.gz",
    durationMs: 1,
    error: new SwapError("GATE_FAILED", "web/prod: gate smoke failed; rolled back"),
  };

  it("a rollback the operator asked for is ROLLED_BACK (exit 4); otherwise the swap's reason", () => {
    const asked = outcomeError("web/prod", rolledBack, "operator");
    expect([asked.code, asked.exitCode, asked.message]).toEqual([
      "ROLLED_BACK",
      4,
      "web/prod: the swap was rolled back at your request; web-prod-v001 is live",
    ]);
    expect(outcomeError("web/prod", rolledBack, "interrupt").message).toMatch(/after Ctrl-C/);
    expect(outcomeError("web/prod", rolledBack, undefined).code).toBe("GATE_FAILED");
  });

  it("tells Inquirer's Ctrl-C from a question closed by the swap moving on", () => {
    const named = (name: string) => Object.assign(new Error(name), { name });
    expect(isPromptExit(named("ExitPromptError"))).toBe(true);
    expect(isPromptExit(named("AbortPromptError"))).toBe(false);
    expect(isPromptClosed(named("AbortPromptError"))).toBe(true);
    expect(isPromptClosed(named("CancelPromptError"))).toBe(true);
    expect(isPromptClosed(new Error("x"))).toBe(false);
  });

  it("refuses without a terminal or with --json (exit 2), before reading the config", async () => {
    const tty = { isTTY: true } as NodeJS.ReadableStream & { isTTY?: boolean };
    const m = memoryIo();
    expect(wizardRefusal({ ...m.io, stdin: tty }, false)).toMatch(/needs a terminal/);
    m.stdout.stream.isTTY = true;
    expect(wizardRefusal({ ...m.io, stdin: tty }, false)).toBeUndefined();
    expect(wizardRefusal({ ...m.io, stdin: tty }, true)).toMatch(/needs a terminal/);

    const run = memoryIo();
    const code = await runCli(["wizard", "--config", "/nonexistent.yaml"], run.io);
    expect(code).toBe(2);
    expect(run.stderr.text()).toBe(
      "error INVALID_INPUT: wizard needs a terminal; use `switchyard deploy`\nhint: e.g. switchyard deploy <service> --release <version>\n",
    );
  });
});
