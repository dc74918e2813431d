/**
 * CloudWatch operations the metric gates use, in domain terms: the states of named alarms, and
 * a load balancer's per-target-group counts and response-time percentile over a window.
 *
 * Metrics are published late: a query for a window ending now misses the newest periods, and a
 * period with no requests has no count at all (absent, not zero). So the window a caller asks
 * for ends at `now − lag`, whole periods only, and every period of the window comes back, with
 * zeros where CloudWatch had no point. Both the lag and the period are the caller's to state.
 */
import {
  CloudWatchClient,
  type MetricDataQuery,
  type MetricDataResult,
  paginateDescribeAlarms,
  paginateGetMetricData,
} from "@aws-sdk/client-cloudwatch";
import { type CallOptions, throughCall } from "./call.js";
import type { Clients } from "./clients.js";

export type AlarmStateValue = "OK" | "ALARM" | "INSUFFICIENT_DATA";

export interface AlarmReading {
  name: string;
  state: AlarmStateValue;
  reason: string;
  /** when the state was last set */
  updatedAt?: Date;
}

export interface AlarmStates {
  /** by alarm name */
  found: Map<string, AlarmReading>;
  /** names asked for that no alarm (metric or composite) has */
  missing: string[];
}

/** DescribeAlarms takes at most this many names per call. */
const NAMES_PER_CALL = 100;

/** The states of the named alarms (metric and composite), paging through DescribeAlarms. */
export async function describeAlarmStates(
  clients: Pick<Clients, "cloudwatch">,
  names: readonly string[],
  options: CallOptions = {},
): Promise<AlarmStates> {
  const found = new Map<string, AlarmReading>();
  const unique = [...new Set(names)];
  for (let i = 0; i < unique.length; i += NAMES_PER_CALL) {
    const chunk = unique.slice(i, i + NAMES_PER_CALL);
    const pages = paginateDescribeAlarms(
      { client: throughCall(clients.cloudwatch, options, CloudWatchClient), pageSize: 100 },
      { AlarmNames: chunk, AlarmTypes: ["MetricAlarm", "CompositeAlarm"] },
    );
    for await (const out of pages) {
      for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        if (!alarm.AlarmName) continue;
        found.set(alarm.AlarmName, {
          name: alarm.AlarmName,
          state: (alarm.StateValue ?? "INSUFFICIENT_DATA") as AlarmStateValue,
          reason: alarm.StateReason ?? "",
          ...(alarm.StateUpdatedTimestamp ? { updatedAt: alarm.StateUpdatedTimestamp } : {}),
        });
      }
    }
  }
  return { found, missing: unique.filter((n) => !found.has(n)) };
}

/** `arn:…:loadbalancer/app/<name>/<id>` → `app/<name>/<id>`, the `LoadBalancer` dimension. */
export function loadBalancerDimension(arnOrDimension: string): string {
  const at = arnOrDimension.indexOf(":loadbalancer/");
  return at < 0 ? arnOrDimension : arnOrDimension.slice(at + ":loadbalancer/".length);
}

/** `arn:…:targetgroup/<name>/<id>` → `targetgroup/<name>/<id>`, the `TargetGroup` dimension. */
export function targetGroupDimension(arnOrDimension: string): string {
  const at = arnOrDimension.indexOf(":targetgroup/");
  return at < 0 ? arnOrDimension : arnOrDimension.slice(at + 1);
}

export interface TargetGroupMetricsRequest {
  /** the load balancer's ARN (or its `app/<name>/<id>` dimension) */
  loadBalancer: string;
  /** target group ARNs (or `targetgroup/<name>/<id>` dimensions) */
  targetGroups: readonly string[];
  /** the window's start (rounded down to a period by CloudWatch) */
  start: Date;
  /** the current time; the window ends at `now − lagMs` */
  now: Date;
  /** how late CloudWatch publishes a period, in milliseconds (on AWS a few minutes; in the sandbox, its `metricLagSeconds` × time scale) */
  lagMs: number;
  /** the statistics' period in seconds, as CloudWatch takes it (60 for the ALB's metrics) */
  periodSeconds: number;
  /** the response-time statistic (default `p99`) */
  latencyStat?: string;
  /**
   * A period in seconds spanning the whole window, for one response-time figure over the bake
   * (percentiles do not combine across periods). Left out: no window figure.
   */
  windowPeriodSeconds?: number;
}

export interface PeriodCounts {
  start: Date;
  /** RequestCount (0 when CloudWatch had no point) */
  requests: number;
  /** HTTPCode_Target_5XX_Count (0 when CloudWatch had no point) */
  errors: number;
  /** TargetResponseTime at `latencyStat`, seconds; absent in a period without requests */
  latency?: number;
}

export interface TargetGroupMetrics {
  /** as given in the request */
  targetGroup: string;
  /** oldest first */
  periods: PeriodCounts[];
  /** the response-time statistic over the whole window, when `windowPeriodSeconds` was given (the highest if the window spans two points) */
  windowLatency?: number;
}

/** Queries per GetMetricData call. */
const QUERIES_PER_CALL = 500;

/** The window a metrics query covers: from `start` to `now − lag`. */
export function metricWindow(start: Date, now: Date, lagMs: number): { start: Date; end: Date } {
  return { start, end: new Date(Math.max(start.getTime(), now.getTime() - lagMs)) };
}

/**
 * Per-period request and 5xx counts and a response-time statistic of each target group behind
 * one load balancer (`AWS/ApplicationELB`, dimensions `TargetGroup` and `LoadBalancer`), over the
 * window from `start` to `now − lagMs`.
 */
export async function fetchTargetGroupMetrics(
  clients: Pick<Clients, "cloudwatch">,
  request: TargetGroupMetricsRequest,
  options: CallOptions = {},
): Promise<TargetGroupMetrics[]> {
  const window = metricWindow(request.start, request.now, request.lagMs);
  const lb = loadBalancerDimension(request.loadBalancer);
  const latencyStat = request.latencyStat ?? "p99";
  const queries: MetricDataQuery[] = [];
  const stat = (id: string, tg: string, metricName: string, statName: string, period: number) =>
    queries.push({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: "AWS/ApplicationELB",
          MetricName: metricName,
          Dimensions: [
            { Name: "TargetGroup", Value: targetGroupDimension(tg) },
            { Name: "LoadBalancer", Value: lb },
          ],
        },
        Period: period,
        Stat: statName,
      },
      ReturnData: true,
    });
  request.targetGroups.forEach((tg, i) => {
    stat(`requests${i}`, tg, "RequestCount", "Sum", request.periodSeconds);
    stat(`errors${i}`, tg, "HTTPCode_Target_5XX_Count", "Sum", request.periodSeconds);
    stat(`latency${i}`, tg, "TargetResponseTime", latencyStat, request.periodSeconds);
    if (request.windowPeriodSeconds !== undefined) {
      stat(`window${i}`, tg, "TargetResponseTime", latencyStat, request.windowPeriodSeconds);
    }
  });
  const results = new Map<string, MetricDataResult>();
  if (window.end.getTime() > window.start.getTime()) {
    for (let i = 0; i < queries.length; i += QUERIES_PER_CALL) {
      const chunk = queries.slice(i, i + QUERIES_PER_CALL);
      const pages = paginateGetMetricData(
        { client: throughCall(clients.cloudwatch, options, CloudWatchClient) },
        {
          MetricDataQueries: chunk,
          StartTime: window.start,
          EndTime: window.end,
          ScanBy: "TimestampAscending",
        },
      );
      for await (const out of pages) {
        for (const r of out.MetricDataResults ?? []) {
          if (!r.Id) continue;
          const prior = results.get(r.Id);
          results.set(
            r.Id,
            prior
              ? {
                  ...prior,
                  Timestamps: [...(prior.Timestamps ?? []), ...(r.Timestamps ?? [])],
                  Values: [...(prior.Values ?? []), ...(r.Values ?? [])],
                }
              : r,
          );
        }
      }
    }
  }
  const points = (id: string) => {
    const r = results.get(id);
    const map = new Map<number, number>();
    (r?.Timestamps ?? []).forEach((t, k) => {
      const v = r?.Values?.[k];
      if (v !== undefined) map.set(t.getTime(), v);
    });
    return map;
  };
  return request.targetGroups.map((targetGroup, i) => {
    const requests = points(`requests${i}`);
    const errors = points(`errors${i}`);
    const latency = points(`latency${i}`);
    const times = [...new Set([...requests.keys(), ...errors.keys(), ...latency.keys()])].sort(
      (a, b) => a - b,
    );
    const windowValues = [...points(`window${i}`).values()];
    return {
      targetGroup,
      periods: times.map((t) => {
        const l = latency.get(t);
        return {
          start: new Date(t),
          requests: requests.get(t) ?? 0,
          errors: errors.get(t) ?? 0,
          ...(l !== undefined ? { latency: l } : {}),
        };
      }),
      ...(windowValues.length > 0 ? { windowLatency: Math.max(...windowValues) } : {}),
    };
  });
}
