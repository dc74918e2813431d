/**
 * The wizard's questions before a swap: the service, the release, the step plan, the go-ahead.
 * Each takes the data it needs and a `Prompter`, so they run against a fake in tests.
 */
import { resolveRelease } from "../../core/release-url.js";
import type { SwapPlan } from "../../core/swap-model.js";
import type { ReleaseInfo } from "../../release/list.js";
import type { Choice, Prompter } from "./prompts.js";
import { parseStepsAnswer, planSteps, releaseLabel, stepsText } from "./text.js";

/** The service to swap; no question when the config has one. */
export async function chooseService(services: readonly string[], prompter: Prompter) {
  if (services.length === 1) return services[0]!;
  return prompter.select({
    message: "Service",
    choices: [...services].sort().map((s) => ({ value: s, name: s })),
  });
}

const TYPE_IT = Symbol("type a version or URL");

/**
 * The release to swap to: the service's releases newest first (live and standby marked), or one
 * typed as a version or URL. The first release that is not live is preselected.
 */
export async function chooseRelease(
  service: { name: string; releases: string },
  releases: readonly ReleaseInfo[],
  prompter: Prompter,
): Promise<string> {
  let picked: string | typeof TYPE_IT = TYPE_IT;
  if (releases.length > 0) {
    const width = Math.max(...releases.map((r) => r.version.length));
    const choices: Array<Choice<string | typeof TYPE_IT>> = releases.map((r) => ({
      value: r.url,
      name: releaseLabel(r, width),
    }));
    choices.push({
      value: TYPE_IT,
      name: "type a version or URL…",
      description: `a version under ${service.releases}, or a release URL (s3://…/r42.tar.gz)`,
    });
    const preferred = releases.find((r) => !r.live) ?? releases[0];
    picked = await prompter.select({
      message: `Release to swap ${service.name} to`,
      choices,
      ...(preferred ? { default: preferred.url } : {}),
    });
  }
  if (picked !== TYPE_IT) return picked;
  const typed = await prompter.input({
    message:
      releases.length > 0
        ? "Release (version or URL)"
        : `No releases under ${service.releases} yet. Release (version or URL)`,
    validate: (value) => {
      if (value.trim() === "") return "type a version (r42) or a release URL (s3://…/r42.tar.gz)";
      try {
        resolveRelease(value, service.releases);
        return true;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
  });
  return typed.trim();
}

/** What to do after the plan failed a check. */
export async function afterPlanFailure(prompter: Prompter): Promise<"again" | "quit"> {
  return prompter.select({
    message: "Nothing was changed. Next?",
    choices: [
      { value: "again" as const, name: "pick another release" },
      { value: "quit" as const, name: "quit" },
    ],
  });
}

/**
 * The step plan: the configured steps, all at once, or typed (checked like `deploy --steps`).
 * A first deploy has no choice: it goes to 100% once green is healthy.
 */
export async function chooseSteps(plan: SwapPlan, prompter: Prompter): Promise<number[]> {
  if (!plan.blue) return planSteps(plan);
  const configured = plan.steps;
  const choice = await prompter.select({
    message: "Steps (percent of traffic on green)",
    choices: [
      { value: "configured" as const, name: `configured: ${stepsText(configured)}` },
      {
        value: "all" as const,
        name: "all at once: 100%",
        description: "one shift once green is healthy, then one bake",
      },
      {
        value: "custom" as const,
        name: "custom…",
        description: "whole percents, increasing, ending at 100 (e.g. 5,25,50,100)",
      },
    ],
  });
  if (choice === "configured") return configured;
  if (choice === "all") return [100];
  const typed = await prompter.input({
    message: "Steps (e.g. 5,25,50,100)",
    default: configured.join(","),
    validate: (value) => {
      const steps = parseStepsAnswer(value);
      return typeof steps === "string" ? steps : true;
    },
  });
  const steps = parseStepsAnswer(typed);
  // validate has accepted it; a string here would be a bug in the prompt
  return typeof steps === "string" ? configured : steps;
}

/** The go-ahead; No is the default. */
export async function confirmSwap(
  plan: SwapPlan,
  steps: readonly number[],
  prompter: Prompter,
): Promise<boolean> {
  const from = plan.blue ? ` from ${plan.blue.name}` : "";
  return prompter.confirm({
    message: `Swap ${plan.service}${from} to ${plan.release.version} on ${plan.green.name}, steps ${stepsText(steps)}?`,
    default: false,
  });
}
