/**
 * What the wizard shows, as pure functions of the library's data: the plan side by side (live
 * vs green), release choices, step plans and the questions asked while a swap runs.
 */

import { checkSteps } from "../../core/config-schema.js";
import { formatDuration } from "../../core/duration.js";
import { isSwitchyardError } from "../../core/errors.js";
import type { SwapPlan } from "../../core/swap-model.js";
import type { ReleaseInfo } from "../../release/list.js";
import { type Palette, palette, releaseVersion } from "../render.js";

/** `[25, 50, 100]` → `25% → 50% → 100%`. */
export function stepsText(steps: readonly number[]): string {
  return steps.map((s) => `${s}%`).join(" → ");
}

/** The steps a swap of this plan really takes: a first deploy goes straight to 100%. */
export function planSteps(plan: Pick<SwapPlan, "blue" | "steps">): number[] {
  return plan.blue ? plan.steps : [100];
}

const CELL_MAX = 48;
/** a value blue's history does not tell */
const UNKNOWN = "?";

function clip(text: string): string {
  return text.length > CELL_MAX ? `${text.slice(0, CELL_MAX - 1)}…` : text;
}

export interface PlanTableOptions {
  /** the plan of the swap that made blue live (from its history record), when it is known */
  live?: SwapPlan;
  /** the steps the operator chose (default: the plan's) */
  steps?: readonly number[];
  color?: boolean;
}

/**
 * The plan side by side: what runs now (blue, and how its own swap went) against what this swap
 * launches. Rows whose value changes are marked; values blue's history does not tell are `?`.
 */
export function planTable(plan: SwapPlan, options: PlanTableOptions = {}): string[] {
  const p: Palette = palette(options.color === true);
  const live = options.live;
  const first = plan.blue === null;
  const steps = options.steps ?? planSteps(plan);
  const capacity = (c: SwapPlan["capacity"]) =>
    `min ${c.min} / desired ${c.desired} / max ${c.max}`;
  const stickiness = (seconds: number) => (seconds ? formatDuration(seconds * 1000) : "off");
  const gates = (names: readonly string[]) => (names.length ? names.join(", ") : "none");
  /** blue's value of a row: from the plan of the swap that made it live */
  const fromLive = (value: (l: SwapPlan) => string): string =>
    first ? "—" : live ? value(live) : UNKNOWN;

  // label, blue, green, whether a difference is worth marking
  const rows: Array<[string, string, string, boolean]> = [
    ["group", plan.blue?.name ?? "none (first deploy)", plan.green.name, false],
    ["release", plan.blue ? releaseVersion(plan.blue.release) : "—", plan.release.version, true],
    ["image", fromLive((l) => l.launch.imageId), plan.launch.imageId, true],
    ["instance type", fromLive((l) => l.launch.instanceType), plan.launch.instanceType, true],
    // green copies blue's capacity: the plan's capacity is blue's
    ["capacity", first ? "—" : capacity(plan.capacity), capacity(plan.capacity), false],
    ["steps", fromLive((l) => stepsText(planSteps(l))), stepsText(steps), true],
    ["bake", fromLive((l) => formatDuration(l.bakeMs)), formatDuration(plan.bakeMs), true],
    [
      "healthy within",
      fromLive((l) => formatDuration(l.healthyTimeoutMs)),
      formatDuration(plan.healthyTimeoutMs),
      true,
    ],
    [
      "stickiness",
      fromLive((l) => stickiness(l.stickinessSeconds)),
      stickiness(plan.stickinessSeconds),
      true,
    ],
    ["gates", fromLive((l) => gates(l.gates)), gates(plan.gates), true],
  ];
  const table: string[][] = [
    ["", "live (blue)", "green (this swap)"],
    ...rows.map(([label, b, g]) => [label, clip(b), clip(g)]),
  ];
  const widths = [0, 1].map((i) => Math.max(...table.map((row) => row[i]!.length)));
  const pad = (row: string[]) => [row[0]!.padEnd(widths[0]!), row[1]!.padEnd(widths[1]!)];
  const out = [p.bold(`${pad(table[0]!).join("  ")}  ${table[0]![2]}`)];
  rows.forEach(([, b, g, compare], i) => {
    const row = table[i + 1]!;
    const changed = compare && !first && b !== UNKNOWN && b !== g;
    const green = changed ? `${p.yellow(row[2]!)}  ${p.dim("← changed")}` : row[2]!;
    out.push(`${pad(row).join("  ")}  ${green}`.trimEnd());
  });
  return out;
}

/** One release as a line of the release menu: version, when it was packed, live/standby. */
export function releaseLabel(r: ReleaseInfo, versionWidth = r.version.length): string {
  const when = r.createdAt ? r.createdAt.slice(0, 16).replace("T", " ") : "";
  const role = r.live ? "live" : r.standby ? "standby" : "";
  return [r.version.padEnd(versionWidth), when, role ? `(${role})` : ""]
    .filter((s, i) => i === 0 || s !== "")
    .join("  ")
    .trimEnd();
}

/**
 * Custom steps as typed (`5, 25, 100` or `5 25 100`), checked with deploy's rule: whole percents,
 * increasing, ending at 100. Returns the steps, or the message to show.
 */
export function parseStepsAnswer(text: string): number[] | string {
  const parts = text
    .split(/[\s,]+/)
    .map((s) => s.replace(/%$/, ""))
    .filter((s) => s !== "");
  if (parts.length === 0) return "type the percents on green, e.g. 5,25,50,100";
  if (parts.some((s) => !/^\d+$/.test(s))) {
    return "steps are whole percents separated by commas, e.g. 5,25,50,100";
  }
  try {
    return checkSteps(parts.map(Number));
  } catch (error) {
    if (isSwitchyardError(error)) return error.message;
    throw error;
  }
}

/** The step a swap is at, as the wizard's step question names it. */
export interface StepAt {
  step: number;
  of: number;
  weight: number;
}

/** The question asked at each step while it bakes (or is held). */
export function stepQuestion(at: StepAt, green: string, bakeMs: number, holding: boolean): string {
  const where = `Step ${at.step}/${at.of}: ${at.weight}% on ${green}`;
  return holding
    ? `${where}, held (gates still checked). Next?`
    : `${where}, baking ${formatDuration(bakeMs)}. Next?`;
}

export type StepChoice = "promote" | "hold" | "resume" | "rollback";

/** The answers to the step question: promote, hold (or resume a held bake), roll back. */
export function stepChoices(
  at: StepAt,
  blue: string | null,
  holding: boolean,
): Array<{ value: StepChoice; name: string; description: string }> {
  const last = at.step >= at.of;
  return [
    {
      value: "promote",
      name: "promote now",
      description: last
        ? "end this bake and finish the swap: green is live"
        : "end this bake and shift to the next step",
    },
    holding
      ? {
          value: "resume",
          name: "resume the bake",
          description: "let the bake run out its time (at once if it has)",
        }
      : {
          value: "hold",
          name: "hold",
          description: `keep ${at.weight}% on green past the bake, gates still checked, until you choose again`,
        },
    {
      value: "rollback",
      name: "roll back",
      description: blue
        ? `traffic back on ${blue} (blue) in one listener change; green is removed`
        : "the listener back to what it was; green is removed",
    },
  ];
}
