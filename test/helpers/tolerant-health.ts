/**
 * A target group config for sandbox worlds whose tests must not flake on a loaded machine: the
 * sandbox shrinks every timer (timeScale 0.01 turns a 2 s health-check timeout into 20 ms), so
 * a busy CPU (the suite runs three test files at once on two cores) can fail a real health
 * check. A 20 s interval with an 18 s timeout (200 ms / 180 ms in the sandbox) and five failures
 * before unhealthy keep detection fast and the timeout generous.
 */
import type { SwitchyardConfig } from "../../src/core/config.js";

export const TOLERANT_TARGET_GROUP: SwitchyardConfig["services"][string]["targetGroup"] = {
  port: 8080,
  protocol: "HTTP",
  healthCheck: {
    path: "/health",
    intervalSeconds: 20,
    timeoutSeconds: 18,
    healthyThreshold: 2,
    unhealthyThreshold: 5,
    matcher: "200",
  },
  deregistrationDelaySeconds: 1,
};
