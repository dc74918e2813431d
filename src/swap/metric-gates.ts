/**
 * The metric gates' observations during a bake: the configured alarms' states, and once a step's
 * bake and its last metric period are published, the judge's verdict on green against blue.
 * Reads only; what a state or a verdict does to the swap is the decider's (core/decide.ts).
 *
 * Alarms are read at most once a second. The verdict is computed once the bake's metrics are in
 * (`analysisDueAt`), and while it is `insufficient` again at most once a metric period, over a
 * window that grows with the extended bake.
 */
import { type Clients, describeAlarmStates, fetchTargetGroupMetrics } from "../aws/index.js";
import { analysisDueAt } from "../core/decide.js";
import { judge } from "../core/judge.js";
import type {
  AlarmsView,
  AnalysisVerdict,
  SwapCursor,
  SwapPlan,
  VerdictFigures,
} from "../core/swap-model.js";

/** CloudWatch's period of the load balancer's metrics, in (AWS) seconds. */
const ALB_PERIOD_SECONDS = 60;
/** Alarms are read again after this long. */
const ALARM_READ_MS = 1_000;

export interface MetricObservation {
  alarms?: AlarmsView;
  verdict?: AnalysisVerdict;
}

export interface MetricGates {
  observe(cursor: SwapCursor, greenTargetGroupArn: string | undefined): Promise<MetricObservation>;
}

export function metricGates(clients: Clients, plan: SwapPlan): MetricGates {
  let alarms: { at: number; view: AlarmsView } | undefined;
  let verdict: AnalysisVerdict | undefined;

  const readAlarms = async (names: string[]): Promise<AlarmsView> => {
    const now = Date.now();
    if (alarms && now - alarms.at < ALARM_READ_MS) return alarms.view;
    let view: AlarmsView;
    try {
      const { found, missing } = await describeAlarmStates(clients, names, { retries: 1 });
      view = {
        states: names.flatMap((n) => {
          const a = found.get(n);
          return a ? [{ name: a.name, state: a.state, reason: a.reason }] : [];
        }),
        ...(missing.length > 0 ? { error: `alarms no longer exist: ${missing.join(", ")}` } : {}),
      };
    } catch (error) {
      view = { states: [], error: error instanceof Error ? error.message : String(error) };
    }
    alarms = { at: now, view };
    return view;
  };

  const judgeStep = async (
    cursor: SwapCursor,
    greenTg: string,
  ): Promise<AnalysisVerdict | undefined> => {
    const a = plan.analysis;
    const due = analysisDueAt(plan, cursor);
    if (!a || !plan.blue || due === undefined || cursor.bakeStartedAt === undefined) {
      return undefined;
    }
    const now = Date.now();
    if (now < due) return undefined;
    const step = cursor.stepIndex + 1;
    const same = verdict?.step === step && verdict.bakeStartedAt === cursor.bakeStartedAt;
    if (same && verdict && (verdict.result !== "insufficient" || now - verdict.at < a.periodMs)) {
      return verdict;
    }
    // whole periods from the first that starts inside the bake: none carries the step before
    const start = Math.ceil(cursor.bakeStartedAt / a.periodMs) * a.periodMs;
    const end = now - a.lagMs;
    const periods = Math.max(1, Math.ceil((end - start) / a.periodMs));
    const [green, blue] = await fetchTargetGroupMetrics(clients, {
      loadBalancer: a.loadBalancer,
      targetGroups: [greenTg, plan.blue.targetGroupArn],
      start: new Date(start),
      now: new Date(now),
      lagMs: a.lagMs,
      periodSeconds: ALB_PERIOD_SECONDS,
      ...(a.latency
        ? { latencyStat: a.latency.stat, windowPeriodSeconds: periods * ALB_PERIOD_SECONDS }
        : {}),
    });
    const v = judge(
      {
        green: green?.periods ?? [],
        blue: blue?.periods ?? [],
        ...(a.latency
          ? { latency: { green: green?.windowLatency, blue: blue?.windowLatency } }
          : {}),
      },
      {
        alpha: a.alpha,
        minDifference: a.minDifference,
        minRequests: a.minRequests,
        ...(a.latency
          ? { latencyRatio: a.latency.ratio, latencyFloorSeconds: a.latency.floorSeconds }
          : {}),
      },
    );
    const figures: VerdictFigures = {
      green: v.errors.green,
      blue: v.errors.blue,
      ...("pValue" in v.errors ? { pValue: v.errors.pValue } : {}),
      ...(a.latency
        ? {
            latency: {
              stat: a.latency.stat,
              ...(green?.windowLatency === undefined ? {} : { green: green.windowLatency }),
              ...(blue?.windowLatency === undefined ? {} : { blue: blue.windowLatency }),
              ...(v.latency && "limit" in v.latency ? { limit: v.latency.limit } : {}),
            },
          }
        : {}),
      window: { start, end },
    };
    const sentence = a.latency ? v.sentence.replaceAll("p99", a.latency.stat) : v.sentence;
    verdict = {
      step,
      bakeStartedAt: cursor.bakeStartedAt,
      result: v.result,
      sentence,
      figures,
      at: now,
    };
    return verdict;
  };

  return {
    async observe(cursor, greenTg) {
      const names = plan.alarms?.names ?? [];
      const [alarmsView, verdictNow] = await Promise.all([
        names.length > 0 ? readAlarms(names) : undefined,
        greenTg ? judgeStep(cursor, greenTg) : undefined,
      ]);
      return {
        ...(alarmsView ? { alarms: alarmsView } : {}),
        ...(verdictNow ? { verdict: verdictNow } : {}),
      };
    },
  };
}

/** The alarms of a step that baked, in words: `2 OK (web-5xx, web-p99): pass`. */
export function describeAlarms(view: AlarmsView | undefined, names: readonly string[]): string {
  if (!view) return `${names.join(", ")} not read`;
  if (view.error !== undefined) return `could not be read (${view.error}): ignored`;
  const byState = new Map<string, string[]>();
  for (const a of view.states) byState.set(a.state, [...(byState.get(a.state) ?? []), a.name]);
  const parts = [...byState].map(([state, n]) => `${n.length} ${state} (${n.join(", ")})`);
  return `${parts.join(", ")}: pass`;
}
