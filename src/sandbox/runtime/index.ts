/**
 * The runtime makes sandbox resources real: instance processes running their releases, health
 * checks against them, and a reverse proxy per listener. Services tell it what changed through
 * the `Runtime` interface; it reads the state store and never calls back into the API layer.
 */
import type { Runtime, SandboxContext } from "../context.js";
import { createHealthChecker } from "./health.js";
import { createInstanceProcesses } from "./instances.js";
import { createListenerProxies } from "./proxy.js";

export type RuntimeDeps = Pick<SandboxContext, "state" | "clock" | "settings" | "unhealthyImages">;

export { TARGET_GROUP_HEADER, TARGET_HEADER } from "./proxy.js";
export { RELEASE_URL_MARKER } from "./release.js";

export function createRuntime(deps: RuntimeDeps): Runtime {
  const instances = createInstanceProcesses(deps);
  const health = createHealthChecker(deps);
  const proxies = createListenerProxies(deps);
  let closing: Promise<void> | undefined;
  return {
    startInstance: (instance) => instances.start(instance),
    stopInstance: (instance) => instances.stop(instance),
    listenerChanged: (listener) => proxies.changed(listener),
    listenerDeleted: (listenerArn) => proxies.deleted(listenerArn),
    listenerUrl: (listenerArn) => proxies.url(listenerArn),
    async start() {
      for (const listener of deps.state.listeners.values()) {
        if (!proxies.url(listener.arn)) proxies.changed(listener);
      }
      health.start();
    },
    close() {
      closing ??= (async () => {
        health.close();
        await proxies.close();
        await instances.close();
      })();
      return closing;
    },
  };
}
