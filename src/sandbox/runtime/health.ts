/**
 * Health checks: real HTTP requests to every target of every target group a listener references,
 * at the group's interval, moving targets between `initial`, `healthy` and `unhealthy` by the
 * thresholds, as ALB does. Target groups no listener references are `unused` and not checked;
 * draining targets are not checked either.
 *
 * One clock tick (every AWS second) walks the target groups and starts the checks that are due,
 * so target groups created, changed or deleted through the API need no registration here.
 */
import { Agent, request } from "node:http";
import type { HealthCheck, Target, TargetGroup } from "../state.js";
import { forwardTargetGroupArns } from "../world.js";
import type { RuntimeDeps } from "./index.js";

export type CheckResult = { ok: true } | { ok: false; reason: string; description: string };

const OK: CheckResult = Object.freeze({ ok: true });
const FAILED: CheckResult = Object.freeze({
  ok: false,
  reason: "Target.FailedHealthChecks",
  description: "Health checks failed",
});
const TIMED_OUT: CheckResult = Object.freeze({
  ok: false,
  reason: "Target.Timeout",
  description: "Request timed out",
});

/** A health check never waits less than this many real milliseconds, whatever the time scale. */
export const MIN_CHECK_TIMEOUT_MS = 1000;

const matcherCache = new Map<string, Array<[number, number]>>();

/** Parses an ALB matcher (`"200"`, `"200-299"`, `"200,302"`); an unreadable one means `200`. */
export function parseMatcher(matcher: string): Array<[number, number]> {
  let ranges = matcherCache.get(matcher);
  if (ranges) return ranges;
  ranges = [];
  for (const part of matcher.split(",")) {
    const m = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(part);
    if (!m?.[1]) continue;
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    ranges.push([Math.min(lo, hi), Math.max(lo, hi)]);
  }
  if (ranges.length === 0) ranges.push([200, 200]);
  if (matcherCache.size > 100) matcherCache.clear();
  matcherCache.set(matcher, ranges);
  return ranges;
}

export function statusMatches(matcher: string, status: number): boolean {
  return parseMatcher(matcher).some(([lo, hi]) => status >= lo && status <= hi);
}

/** The result of a check that got an HTTP response with this status. */
export function resultForStatus(matcher: string, status: number): CheckResult {
  if (statusMatches(matcher, status)) return OK;
  return {
    ok: false,
    reason: "Target.ResponseCodeMismatch",
    description: `Health checks failed with these codes: [${status}]`,
  };
}

/** The result of a check whose target had no port to connect to or refused the connection. */
export function failedResult(): CheckResult {
  return FAILED;
}

export function markInitial(target: Target): void {
  target.state = "initial";
  target.reason = "Elb.InitialHealthChecking";
  target.description = "Initial health checks in progress";
  target.okStreak = 0;
  target.failStreak = 0;
}

export function markUnused(target: Target): void {
  target.state = "unused";
  target.reason = "Target.NotInUse";
  target.description = "Target group is not configured to receive traffic from the load balancer";
  target.okStreak = 0;
  target.failStreak = 0;
}

/**
 * Counts one check result against a target: `healthyThreshold` consecutive successes make it
 * healthy, `unhealthyThreshold` consecutive failures unhealthy; until then it keeps its state.
 */
export function applyCheckResult(
  target: Target,
  hc: HealthCheck,
  result: CheckResult,
  now = Date.now(),
): void {
  if (result.ok) {
    target.okStreak++;
    target.failStreak = 0;
    if (target.state !== "healthy" && target.okStreak >= hc.healthyThreshold) {
      target.state = "healthy";
      target.stateSince = now;
      target.reason = undefined;
      target.description = undefined;
      return;
    }
  } else {
    target.failStreak++;
    target.okStreak = 0;
    if (
      target.state === "unhealthy" ||
      (target.state !== "draining" && target.failStreak >= hc.unhealthyThreshold)
    ) {
      if (target.state !== "unhealthy") target.stateSince = now;
      target.state = "unhealthy";
      target.reason = result.reason;
      target.description = result.description;
      return;
    }
  }
  if (target.state === "initial") {
    target.reason = "Elb.InitialHealthChecking";
    target.description = "Initial health checks in progress";
  }
}

export interface HealthChecker {
  start(): void;
  close(): void;
}

interface GroupCheckState {
  nextDue: number;
  inUse: boolean;
  inFlight: Set<string>;
  sweep: number;
}

export function createHealthChecker(deps: RuntimeDeps): HealthChecker {
  const { state, clock } = deps;
  const agent = new Agent({ keepAlive: true, maxSockets: 4, timeout: 4000 });
  const groups = new Map<string, GroupCheckState>();
  let stopTick: (() => void) | undefined;
  let closed = false;
  let sweep = 0;

  /** The target groups any listener's default actions or any rule forward to, in one pass. */
  function targetGroupsInUse(): Set<string> {
    const inUse = new Set<string>();
    for (const listener of state.listeners.values()) {
      for (const action of listener.defaultActions) {
        for (const arn of forwardTargetGroupArns(action)) inUse.add(arn);
      }
    }
    for (const rule of state.rules.values()) {
      for (const action of rule.actions) {
        for (const arn of forwardTargetGroupArns(action)) inUse.add(arn);
      }
    }
    return inUse;
  }

  function tick(): void {
    if (closed) return;
    const now = clock.now();
    sweep++;
    const inUse = targetGroupsInUse();
    for (const tg of state.targetGroups.values()) {
      let g = groups.get(tg.arn);
      if (!g) {
        g = { nextDue: 0, inUse: false, inFlight: new Set(), sweep };
        groups.set(tg.arn, g);
      }
      g.sweep = sweep;
      if (!inUse.has(tg.arn)) {
        g.inUse = false;
        for (const target of tg.targets.values()) {
          if (target.state !== "draining" && target.state !== "unused") markUnused(target);
        }
        continue;
      }
      if (!g.inUse) {
        g.inUse = true;
        g.nextDue = now;
      }
      for (const target of tg.targets.values()) {
        if (target.state === "unused") markInitial(target);
      }
      if (now < g.nextDue) continue;
      g.nextDue = now + clock.ms(tg.healthCheck.intervalSeconds);
      for (const target of tg.targets.values()) {
        if (target.state === "draining" || g.inFlight.has(target.id)) continue;
        check(tg, g, target);
      }
    }
    if (groups.size > state.targetGroups.size) {
      for (const [arn, g] of groups) if (g.sweep !== sweep) groups.delete(arn);
    }
  }

  function check(tg: TargetGroup, g: GroupCheckState, target: Target): void {
    const instance = state.instances.get(target.id);
    const port = instance?.state === "running" ? instance.hostPort : 0;
    const settle = (result: CheckResult) => {
      g.inFlight.delete(target.id);
      if (closed || tg.targets.get(target.id) !== target) return;
      if (target.state === "draining" || target.state === "unused") return;
      applyCheckResult(target, tg.healthCheck, result, clock.now());
    };
    if (!port) {
      settle(FAILED);
      return;
    }
    g.inFlight.add(target.id);
    const host = `${instance?.privateIpAddress ?? "127.0.0.1"}:${target.port}`;
    probe(port, tg.healthCheck, host).then(settle);
  }

  function probe(port: number, hc: HealthCheck, host: string): Promise<CheckResult> {
    return new Promise((resolve) => {
      let done = false;
      const timeoutSeconds = Math.max(
        hc.timeoutSeconds,
        MIN_CHECK_TIMEOUT_MS / (1000 * clock.timeScale),
      );
      const cancelTimer = clock.after(timeoutSeconds, () => {
        finish(TIMED_OUT);
        req.destroy();
      });
      const finish = (result: CheckResult) => {
        if (done) return;
        done = true;
        cancelTimer();
        resolve(result);
      };
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path: hc.path || "/",
          method: "GET",
          agent,
          headers: { host, "user-agent": "ELB-HealthChecker/2.0" },
        },
        (res) => {
          res.resume();
          finish(resultForStatus(hc.matcher, res.statusCode ?? 0));
        },
      );
      req.on("error", () => finish(FAILED));
      req.end();
    });
  }

  return {
    start() {
      if (stopTick || closed) return;
      stopTick = clock.every(1, tick);
      tick();
    },
    close() {
      closed = true;
      stopTick?.();
      stopTick = undefined;
      agent.destroy();
    },
  };
}
