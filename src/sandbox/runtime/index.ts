import type { Runtime, SandboxContext } from "../context.js";

export type RuntimeDeps = Pick<SandboxContext, "state" | "clock" | "settings" | "unhealthyImages">;

export function createRuntime(_deps: RuntimeDeps): Runtime {
  return {
    startInstance() {},
    async stopInstance() {},
    listenerChanged() {},
    listenerDeleted() {},
    listenerUrl: () => undefined,
    async start() {},
    async close() {},
  };
}
