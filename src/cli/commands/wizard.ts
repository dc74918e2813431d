/**
 * `switchyard wizard`: an interactive swap for operators. Pick a service and a release, review
 * the plan beside what runs now, choose the steps, confirm, then watch the swap and promote,
 * hold or roll back at each step. Before the swap starts nothing changes; Ctrl-C during it
 * rolls back as `deploy` does.
 */
import type { Command } from "commander";
import type { SwitchyardError } from "../../core/errors.js";
import type { SwapPlan } from "../../core/swap-model.js";
import type { Switchyard } from "../../switchyard.js";
import { type CliIo, exitNow, globalsOf, onSignal, writeLine } from "../io.js";
import type { CommandContext } from "../program.js";
import { palette } from "../render.js";
import { noteService, openSwitchyard, pollIntervalOption } from "../shared.js";
import type { Prompter } from "../wizard/prompts.js";

interface WizardFlags {
  pollInterval?: number;
}

/** The wizard talks to a person: stdin and stdout must be a terminal, and --json makes no sense. */
export function wizardRefusal(io: CliIo, json: boolean): string | undefined {
  const stdin = io.stdin ?? process.stdin;
  if (json || stdin.isTTY !== true || io.stdout.isTTY !== true) {
    return "wizard needs a terminal; use `switchyard deploy`";
  }
  return undefined;
}

export function registerWizard(program: Command, { io, state }: CommandContext): void {
  program
    .command("wizard")
    .description(
      "interactive: pick service, pick release, review the plan, swap with prompts at each step",
    )
    .addOption(pollIntervalOption())
    .action(async (flags: WizardFlags, command: Command) => {
      const globals = globalsOf(command, io);
      const { InputError, SwapError, isSwitchyardError } = await import("../../core/errors.js");
      const refusal = wizardRefusal(io, globals.json);
      if (refusal) {
        throw new InputError("INVALID_INPUT", refusal, {
          hint: "e.g. switchyard deploy <service> --release <version>",
        });
      }
      const [
        { inquirerPrompter, isPromptExit },
        { chooseService, chooseRelease, afterPlanFailure, chooseSteps, confirmSwap },
        { planTable },
        { liveSwapPlan },
        { watchSwap },
        { commandGates },
        { progressFor },
      ] = await Promise.all([
        import("../wizard/prompts.js"),
        import("../wizard/choose.js"),
        import("../wizard/text.js"),
        import("../wizard/live.js"),
        import("../wizard/watch.js"),
        import("../gates.js"),
        import("../spinner.js"),
      ]);
      const p = palette(globals.color);
      const yard: Switchyard = await openSwitchyard(globals, io, {
        ...(flags.pollInterval === undefined ? {} : { pollIntervalMs: flags.pollInterval }),
      });
      const prompter: Prompter = await inquirerPrompter(io);
      const cancelled = (where: string) =>
        new SwapError("ABORTED", `wizard cancelled ${where}; nothing was changed`);

      // ── before the swap: nothing changes, so Ctrl-C anywhere just leaves ──────────────────
      let where = "before the swap";
      const offInt = onSignal(io, "SIGINT", () => {
        writeLine(io.stderr, `\nerror ABORTED: ${cancelled(where).message}`);
        exitNow(io, 1);
      });
      let chosen: { plan: SwapPlan; steps: number[]; gates: ReturnType<typeof commandGates> };
      try {
        where = "at the service prompt";
        const service = await chooseService(Object.keys(yard.config.services), prompter);
        noteService(state, service);
        const config = yard.config.services[service]!;
        if (Object.keys(yard.config.services).length === 1) {
          writeLine(io.stdout, `${p.green("✔")} Service ${p.cyan(service)}`);
        }
        const gates = commandGates(config.gates ?? [], [], {
          env: io.env,
          ...(io.cwd ? { cwd: io.cwd } : {}),
        });
        const progress = await progressFor(globals, io);
        let plan: SwapPlan | undefined;
        while (!plan) {
          where = "at the release prompt";
          progress.update(`reading the releases of ${service}`);
          const releases = await yard.releases.list(service).finally(() => progress.stop());
          const release = await chooseRelease(config, releases, prompter);
          progress.update(`checking the plan: ${release}`);
          try {
            plan = await yard.plan(service, { release, gates });
          } catch (error) {
            progress.stop();
            if (!isSwitchyardError(error)) throw error;
            showFailure(io, error, globals.color);
            where = "after a failed plan";
            if ((await afterPlanFailure(prompter)) === "quit") throw error;
          } finally {
            progress.stop();
          }
        }
        const live = plan.blue ? await liveSwapPlan(yard, service, plan.blue.name) : undefined;
        writeLine(io.stdout);
        for (const line of planTable(plan, { ...(live ? { live } : {}), color: globals.color })) {
          writeLine(io.stdout, `  ${line}`);
        }
        writeLine(io.stdout);
        where = "at the steps prompt";
        const steps = await chooseSteps(plan, prompter);
        where = "at the confirmation";
        if (!(await confirmSwap(plan, steps, prompter))) {
          throw new SwapError("ABORTED", "not confirmed; nothing was changed");
        }
        chosen = { plan, steps, gates };
      } catch (error) {
        yard.close();
        if (isPromptExit(error)) throw cancelled(where);
        throw error;
      } finally {
        offInt();
      }

      // ── the swap ───────────────────────────────────────────────────────────────────────────
      const { plan, steps, gates } = chosen;
      await watchSwap({
        io,
        state,
        globals,
        yard,
        service: plan.service,
        prompter,
        blue: plan.blue?.name ?? null,
        bakeMs: plan.bakeMs,
        // the swap runs the plan the operator confirmed, or is refused if the world changed since
        start: (signal) =>
          yard.deploy(plan.service, {
            release: plan.release.url,
            plan: plan.blue ? { ...plan, steps } : plan,
            gates,
            signal,
          }),
      });
    });
}

/** A failed plan, plainly: what, and what to do. */
function showFailure(io: CliIo, error: SwitchyardError, color: boolean): void {
  const p = palette(color);
  writeLine(io.stdout, `${p.red("✖")} ${error.code}: ${error.message}`);
  if (error.hint) writeLine(io.stdout, `  ${p.dim(`hint: ${error.hint}`)}`);
}
