/**
 * A target group config for sandbox worlds whose tests must not flake on a loaded machine: the
 * sandbox shrinks every timer (timeScale 0.01 turns a 2 s health-check timeout into 20 ms), so
 * a busy CPU can fail a real health check. A 10 s interval with an 8 s timeout (100 ms / 80 ms
 * in the sandbox) keeps detection fast and the timeout generous.
 */
import type { SwitchyardConfig } from "../../src/core/config.js";

export const TOLERANT_TARGET_GROUP: SwitchyardConfig["services"][string]["targetGroup"] = {
  port: 8080,
  protocol: "HTTP",
  healthCheck: {
    path: "/health",
    intervalSeconds: 10,
    timeoutSeconds: 8,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
    matcher: "200",
  },
  deregistrationDelaySeconds: 1,
};
