/**
 * `switchyard promote|pause|abort <service>`: steer the swap in flight from any terminal. Each
 * writes a request into the swap record; the process driving the swap applies it at its next
 * poll. When no live process drives the swap, this one takes it over and drives it to its end.
 */
import type { Command } from "commander";
import type { ControlOutcome } from "../../swap/control.js";
import { globalsOf } from "../io.js";
import { parseDurationFlag } from "../options.js";
import type { CommandContext } from "../program.js";
import type { ResultObject } from "../render.js";
import {
  configuredGates,
  noteService,
  openSwitchyard,
  pollIntervalOption,
  runOperation,
  swapResultObject,
} from "../shared.js";

interface SteerFlags {
  full?: boolean;
  for?: number;
  pollInterval?: number;
}

type Request = "promote" | "pause" | "abort";

const WHAT: Record<Request, { description: string; done: string }> = {
  promote: {
    description:
      "end the current bake of the swap in flight now (--full: skip the remaining steps), from any terminal",
    done: "promote requested",
  },
  pause: {
    description: "hold the swap in flight at its current step until promoted (or for --for)",
    done: "pause requested",
  },
  abort: {
    description: "roll the swap in flight back to blue, from any terminal",
    done: "abort requested",
  },
};

export function registerSteer(program: Command, ctx: CommandContext): void {
  for (const request of ["promote", "pause", "abort"] as const) register(program, ctx, request);
}

function register(program: Command, { io, state }: CommandContext, request: Request): void {
  const command = program
    .command(request)
    .description(WHAT[request].description)
    .argument("<service>", "the service, <app>/<env>");
  if (request === "promote") command.option("--full", "skip the remaining steps: go to 100% now");
  if (request === "pause") {
    command.option("--for <duration>", "hold only this long (e.g. 10m)", parseDurationFlag);
  }
  command
    .addOption(pollIntervalOption())
    .action(async (service: string, flags: SteerFlags, cmd: Command) => {
      noteService(state, service);
      const globals = globalsOf(cmd, io);
      const yard = await openSwitchyard(globals, io, {
        service,
        ...(flags.pollInterval === undefined ? {} : { pollIntervalMs: flags.pollInterval }),
      });
      // gates for a swap this process takes over from a driver that is gone
      const gates = await configuredGates(yard, service, io);
      await runOperation<ControlOutcome>({
        io,
        state,
        globals,
        yard,
        service,
        interrupt: request === "abort" ? "rolls-back" : "stops",
        start: (signal) => {
          const common = { gates, signal };
          if (request === "promote")
            return yard.promote(service, { ...common, full: !!flags.full });
          if (request === "pause") {
            return yard.pause(service, {
              ...common,
              ...(flags.for === undefined ? {} : { forMs: flags.for }),
            });
          }
          return yard.abort(service, common);
        },
        toResult: (o) => outcomeObject(o, request),
        failure: (o) => o.result?.error,
      });
    });
}

/** The result line: who applies the request, or how the swap this process drove ended. */
function outcomeObject(o: ControlOutcome, request: Request): ResultObject {
  // a swap this process took over and drove to its end: that swap's result
  if (o.result) return { ...swapResultObject(o.result), request, appliedBy: "here" };
  return {
    type: "result",
    ok: true,
    service: o.service,
    live: null,
    standby: null,
    release: null,
    durationMs: 0,
    request,
    appliedBy: "driver",
    swapId: o.swapId,
    driver: o.detached
      ? "the next reconcile pass"
      : `${o.driver.user}@${o.driver.host} (pid ${o.driver.pid})`,
  };
}
