/**
 * Every way a swap leaves its happy path takes traffic off green before green goes: a gate
 * failing at 50 % and a cancel (Ctrl-C's AbortSignal) at 50 % both roll back under steady
 * traffic with zero failed requests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLoad } from "./load.js";
import { SERVICE, type SwapWorld, swapWorld } from "./swap-world.js";

const FAST_HEALTH = {
  port: 8080,
  protocol: "HTTP" as const,
  healthCheck: {
    path: "/health",
    intervalSeconds: 5,
    timeoutSeconds: 4,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
    matcher: "200",
  },
  deregistrationDelaySeconds: 2,
};

/**
 * The two ways off the happy path, each under steady traffic, at one time scale: its own test
 * file per scale, so the slow one (time scale 1) runs beside the rest of the suite.
 */
export function abortUnderLoad(timeScale: number): void {
  describe(`rolling back at 50 % under load (time scale ${timeScale})`, () => {
    let world: SwapWorld;
    beforeAll(async () => {
      world = await swapWorld({
        timeScale,
        pollIntervalMs: 100,
        config: {
          targetGroup: FAST_HEALTH,
          healthyTimeout: timeScale >= 1 ? 120 : 30,
        },
      });
      const first = await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result;
      expect(first.ok).toBe(true);
      // the listener applies the first deploy's change a propagation delay later
      await new Promise((r) => setTimeout(r, 5_000 * timeScale * 1.5));
    }, 180_000);
    afterAll(() => world?.stop());

    it("a gate failing at 50 % rolls back with 0 failed requests", async () => {
      const load = startLoad(world.listenerUrl(), { workers: 4, maxMs: 150_000 });
      const result = await world.yard.deploy(SERVICE, {
        release: "r2",
        steps: [50, 100],
        bakeMs: 60_000,
        gates: [
          {
            name: "error-rate",
            // fails once half the traffic is on green and some of it was served by r2
            check: async (ctx) => !(ctx.weight === 50 && (load.snapshot().byVersion.r2 ?? 0) > 20),
          },
        ],
      }).result;
      // keep the traffic flowing past the drain: a request sent to green late would fail now
      await new Promise((r) => setTimeout(r, 500));
      const report = await load.stop();
      expect(result).toMatchObject({ ok: false, live: "web-test-v001" });
      expect(result.error?.code).toBe("GATE_FAILED");
      expect(report.byVersion.r2).toBeGreaterThan(20);
      expect(report.failureSamples).toEqual([]);
      expect(report.failures).toBe(0);
    }, 180_000);

    it("a cancel (Ctrl-C) at 50 % rolls back with 0 failed requests", async () => {
      const load = startLoad(world.listenerUrl(), { workers: 4, maxMs: 150_000 });
      const cancel = new AbortController();
      const result = await world.yard.deploy(SERVICE, {
        release: "r2",
        steps: [50, 100],
        bakeMs: 60_000,
        signal: cancel.signal,
        onEvent: (e) => {
          if (e.type === "step.shifted" && e.weight === 50) {
            // once green has served some of the traffic
            const check = setInterval(() => {
              if ((load.snapshot().byVersion.r2 ?? 0) > 20) {
                clearInterval(check);
                cancel.abort();
              }
            }, 20);
          }
        },
      }).result;
      await new Promise((r) => setTimeout(r, 500));
      const report = await load.stop();
      expect(result).toMatchObject({ ok: false, outcome: "rolled-back", live: "web-test-v001" });
      expect(report.byVersion.r2).toBeGreaterThan(20);
      expect(report.failureSamples).toEqual([]);
      expect(report.failures).toBe(0);
    }, 180_000);
  });
}
