/**
 * Reading metrics: statistics over one-minute buckets, GetMetricData (metric stats and metric
 * math) and ListMetrics, and the host-count sampler.
 *
 * The publishing lag: a minute's bucket becomes visible `metricLagSeconds` (AWS seconds) after
 * the minute ends, never before, so a period is either absent or complete. Counts are absent,
 * not zero, in a period without requests, as on AWS.
 */
import type { SandboxContext } from "../../context.js";
import {
  type Bucket,
  type Dimension,
  ELB_NAMESPACE,
  loadBalancerDimension,
  type MetricIdentity,
  seriesKey,
  targetGroupDimension,
} from "../../metrics.js";
import { AwsError } from "../../protocol/errors.js";
import { loadBalancerOfTargetGroup } from "../../world.js";
import {
  dimensions,
  flag,
  type Input,
  integer,
  invalidParameter,
  missingParameter,
  objects,
  text,
  time,
} from "./input.js";
import {
  evaluate,
  type MathValue,
  parseExpression,
  referencedIds,
  type SeriesValue,
} from "./math.js";

export interface MetricStat {
  metric: MetricIdentity;
  /** AWS seconds */
  period: number;
  stat: string;
  unit?: string;
}

const BASIC_STATS = new Set(["Sum", "Average", "Minimum", "Maximum", "SampleCount"]);
const PERCENTILE = /^p(\d{1,2}(\.\d{1,10})?|100)$/;

export function checkStat(stat: string, name: string): void {
  if (BASIC_STATS.has(stat)) return;
  const m = PERCENTILE.exec(stat);
  if (m && Number(m[1]) >= 0 && Number(m[1]) <= 100) return;
  throw invalidParameter(
    `The value ${stat} for parameter ${name} is not supported by the sandbox (Sum, Average, Minimum, Maximum, SampleCount, pNN).`,
  );
}

/** Periods are 1, 5, 10, 30 or a multiple of 60 seconds. */
export function checkPeriod(period: number | undefined, name: string): number {
  if (period === undefined) throw missingParameter(name);
  if (!(period >= 1 && ([1, 5, 10, 30].includes(period) || period % 60 === 0))) {
    throw invalidParameter(
      `The parameter ${name} must be 1, 5, 10, 30 or a multiple of 60; got ${period}.`,
    );
  }
  return period;
}

/** Real milliseconds of a period; ALB metrics are per minute, so shorter periods are minutes too. */
export function periodMs(ctx: SandboxContext, period: number): number {
  return Math.max(1, Math.round(period / 60)) * ctx.state.metrics.minuteMs;
}

/** The first bucket index not yet published: later minutes are still inside the lag. */
export function publishedBefore(ctx: SandboxContext, now = ctx.clock.now()): number {
  const minuteMs = ctx.state.metrics.minuteMs;
  return Math.floor((now - ctx.clock.ms(ctx.settings.metricLagSeconds)) / minuteMs);
}

/** The end (real ms) of the newest published minute. */
export function publishedUntil(ctx: SandboxContext, now = ctx.clock.now()): number {
  return publishedBefore(ctx, now) * ctx.state.metrics.minuteMs;
}

function statistic(stat: string, buckets: Bucket[], distribution: boolean): number | undefined {
  if (buckets.length === 0) return undefined;
  let count = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const b of buckets) {
    count += b.count;
    sum += b.sum;
    min = Math.min(min, b.min);
    max = Math.max(max, b.max);
  }
  switch (stat) {
    case "Sum":
      return sum;
    case "Average":
      return sum / count;
    case "Minimum":
      return min;
    case "Maximum":
      return max;
    case "SampleCount":
      return count;
  }
  const p = Number(stat.slice(1));
  if (!distribution) return min === max ? min : undefined;
  const values = buckets.flatMap((b) => b.values ?? []).sort((a, b) => a - b);
  // nearest rank: the smallest value with at least p % of the samples at or below it
  const rank = Math.max(1, Math.ceil((p / 100) * values.length));
  return values[rank - 1];
}

/** One value per period start in [start, end), from published minutes only. */
export function statSeries(
  ctx: SandboxContext,
  q: MetricStat,
  startMs: number,
  endMs: number,
): SeriesValue {
  const out: SeriesValue = new Map();
  const series = ctx.state.metrics.series.get(seriesKey(q.metric));
  if (!series) return out;
  const minuteMs = ctx.state.metrics.minuteMs;
  const length = periodMs(ctx, q.period);
  const perPeriod = length / minuteMs;
  const published = publishedBefore(ctx);
  for (const t of periodStarts(startMs, endMs, length)) {
    const first = t / minuteMs;
    const buckets: Bucket[] = [];
    for (let i = first; i < first + perPeriod && i < published; i++) {
      const b = series.buckets.get(i);
      if (b) buckets.push(b);
    }
    const value = statistic(q.stat, buckets, series.distribution);
    if (value !== undefined) out.set(t, value);
  }
  return out;
}

/** Period starts from `start` rounded down to the period, while before `end`. */
export function periodStarts(startMs: number, endMs: number, length: number): number[] {
  const out: number[] = [];
  for (let t = Math.floor(startMs / length) * length; t < endMs; t += length) out.push(t);
  return out;
}

export function readMetricStat(input: Input, name: string): MetricStat {
  const metric = (input.Metric ?? {}) as Input;
  const namespace = text(metric.Namespace);
  const metricName = text(metric.MetricName);
  if (!namespace) throw missingParameter(`${name}.Metric.Namespace`);
  if (!metricName) throw missingParameter(`${name}.Metric.MetricName`);
  const stat = text(input.Stat);
  if (!stat) throw missingParameter(`${name}.Stat`);
  checkStat(stat, `${name}.Stat`);
  const period = checkPeriod(integer(input.Period, `${name}.Period`), `${name}.Period`);
  const unit = text(input.Unit);
  return {
    metric: {
      namespace,
      metricName,
      dimensions: dimensions(metric.Dimensions, `${name}.Metric.Dimensions`),
    },
    period,
    stat,
    ...(unit ? { unit } : {}),
  };
}

export interface DataQuery {
  id: string;
  label?: string;
  returnData: boolean;
  stat?: MetricStat;
  expression?: string;
  period?: number;
}

const QUERY_ID = /^[a-z][a-zA-Z0-9_]*$/;

export function readQueries(value: unknown, name: string): DataQuery[] {
  const queries = objects(value).map((q, i): DataQuery => {
    const where = `${name}.member.${i + 1}`;
    const id = text(q.Id);
    if (!id) throw missingParameter(`${where}.Id`);
    if (!QUERY_ID.test(id)) {
      throw new AwsError(
        "ValidationError",
        `The value ${id} for ${where}.Id must start with a lowercase letter and hold only letters, digits and underscores.`,
      );
    }
    const expression = text(q.Expression);
    const hasStat = typeof q.MetricStat === "object" && q.MetricStat !== null;
    if (hasStat === (expression !== undefined)) {
      throw new AwsError(
        "ValidationError",
        `${where} must have exactly one of MetricStat and Expression.`,
      );
    }
    const label = text(q.Label);
    const period = integer(q.Period, `${where}.Period`);
    return {
      id,
      returnData: flag(q.ReturnData) ?? true,
      ...(label !== undefined ? { label } : {}),
      ...(hasStat ? { stat: readMetricStat(q.MetricStat as Input, `${where}.MetricStat`) } : {}),
      ...(expression !== undefined ? { expression } : {}),
      ...(period !== undefined ? { period } : {}),
    };
  });
  if (queries.length === 0) throw missingParameter(name);
  if (queries.length > 500) {
    throw invalidParameter(`The collection ${name} must not have more than 500 members.`);
  }
  const ids = new Set<string>();
  for (const q of queries) {
    if (ids.has(q.id)) throw new AwsError("ValidationError", `Duplicate Id ${q.id} in ${name}.`);
    ids.add(q.id);
  }
  return queries;
}

/** Evaluates every query over [start, end): metric stats directly, expressions over their references. */
export function runQueries(
  ctx: SandboxContext,
  queries: DataQuery[],
  startMs: number,
  endMs: number,
): Map<string, SeriesValue> {
  const byId = new Map(queries.map((q) => [q.id, q]));
  const firstStat = queries.find((q) => q.stat)?.stat;
  const gridPeriod = firstStat?.period ?? queries.find((q) => q.period)?.period ?? 60;
  const grid = () => periodStarts(startMs, endMs, periodMs(ctx, gridPeriod));
  const done = new Map<string, SeriesValue>();
  const busy = new Set<string>();
  const resolve = (id: string): SeriesValue => {
    const cached = done.get(id);
    if (cached) return cached;
    const q = byId.get(id);
    if (!q) throw new AwsError("ValidationError", `Unrecognized metric id ${id} in an expression.`);
    if (busy.has(id)) throw new AwsError("ValidationError", `Circular dependency on ${id}.`);
    busy.add(id);
    let series: SeriesValue;
    if (q.stat) {
      series = statSeries(ctx, q.stat, startMs, endMs);
    } else {
      const expression = q.expression ?? "";
      const node = parseExpression(expression);
      for (const ref of referencedIds(node)) {
        if (!byId.has(ref)) {
          throw new AwsError(
            "ValidationError",
            `Unrecognized metric id ${ref} in expression ${expression}.`,
          );
        }
      }
      series = toSeries(evaluate(node, { resolve, grid }, expression), grid, expression);
    }
    busy.delete(id);
    done.set(id, series);
    return series;
  };
  for (const q of queries) resolve(q.id);
  return done;
}

function toSeries(value: MathValue, grid: () => number[], expression: string): SeriesValue {
  if (value instanceof Map) return value;
  if (typeof value === "number") return new Map(grid().map((t) => [t, value]));
  throw new AwsError(
    "ValidationError",
    `The expression ${expression} returns several time series; the sandbox answers one per query.`,
  );
}

export function getMetricData(params: Input, ctx: SandboxContext) {
  const queries = readQueries(params.MetricDataQueries, "MetricDataQueries");
  const start = time(params.StartTime, "StartTime");
  const end = time(params.EndTime, "EndTime");
  if (start === undefined) throw missingParameter("StartTime");
  if (end === undefined) throw missingParameter("EndTime");
  if (start >= end) {
    throw new AwsError("ValidationError", "The parameter StartTime must be less than EndTime.");
  }
  const scanBy = text(params.ScanBy) ?? "TimestampDescending";
  if (scanBy !== "TimestampDescending" && scanBy !== "TimestampAscending") {
    throw invalidParameter(`The value ${scanBy} for parameter ScanBy is not valid.`);
  }
  if (!queries.some((q) => q.returnData)) {
    throw new AwsError("ValidationError", "At least one query must have ReturnData true.");
  }
  const results = runQueries(ctx, queries, start, end);
  return {
    MetricDataResults: queries
      .filter((q) => q.returnData)
      .map((q) => {
        const points = [...(results.get(q.id) ?? new Map<number, number>())].sort((a, b) =>
          scanBy === "TimestampAscending" ? a[0] - b[0] : b[0] - a[0],
        );
        return {
          Id: q.id,
          Label: q.label ?? q.stat?.metric.metricName ?? q.id,
          Timestamps: points.map(([t]) => new Date(t)),
          Values: points.map(([, v]) => v),
          StatusCode: "Complete",
          Messages: [],
        };
      }),
    Messages: [],
  };
}

const PAGE = 500;

export function listMetrics(params: Input, ctx: SandboxContext) {
  const namespace = text(params.Namespace);
  const metricName = text(params.MetricName);
  const filters = objects(params.Dimensions).map((d) => ({
    name: text(d.Name) ?? "",
    value: text(d.Value),
  }));
  const recentlyActive = text(params.RecentlyActive);
  if (recentlyActive !== undefined && recentlyActive !== "PT3H") {
    throw invalidParameter(
      `The value ${recentlyActive} for parameter RecentlyActive is not valid.`,
    );
  }
  const published = publishedBefore(ctx);
  const recentFrom = published - Math.ceil(ctx.clock.ms(3 * 3600) / ctx.state.metrics.minuteMs);
  const matches = [...ctx.state.metrics.series.values()]
    .filter((s) => namespace === undefined || s.id.namespace === namespace)
    .filter((s) => metricName === undefined || s.id.metricName === metricName)
    .filter((s) =>
      filters.every((f) =>
        s.id.dimensions.some(
          (d) => d.Name === f.name && (f.value === undefined || d.Value === f.value),
        ),
      ),
    )
    .filter((s) => {
      // a metric exists once its first point is published
      const indexes = [...s.buckets.keys()].filter((i) => i < published);
      if (indexes.length === 0) return false;
      return recentlyActive === undefined || indexes.some((i) => i >= recentFrom);
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const from = Number(text(params.NextToken) ?? "0");
  if (!Number.isInteger(from) || from < 0) {
    throw new AwsError("InvalidNextToken", "The service couldn't process your NextToken.");
  }
  const page = matches.slice(from, from + PAGE);
  return {
    Metrics: page.map((s) => ({
      Namespace: s.id.namespace,
      MetricName: s.id.metricName,
      Dimensions: s.id.dimensions,
    })),
    ...(from + PAGE < matches.length ? { NextToken: String(from + PAGE) } : {}),
  };
}

/** Records HealthyHostCount and UnHealthyHostCount of every target group a listener uses. */
export function sampleHostCounts(ctx: SandboxContext): void {
  const { state } = ctx;
  for (const tg of state.targetGroups.values()) {
    const lbArn = loadBalancerOfTargetGroup(state, tg.arn);
    if (!lbArn) continue;
    let healthy = 0;
    let unhealthy = 0;
    for (const t of tg.targets.values()) {
      if (t.state === "healthy") healthy++;
      else if (t.state === "unhealthy") unhealthy++;
    }
    const dims: Dimension[] = [
      { Name: "TargetGroup", Value: targetGroupDimension(tg.arn) },
      { Name: "LoadBalancer", Value: loadBalancerDimension(lbArn) },
    ];
    state.metrics.put(
      { namespace: ELB_NAMESPACE, metricName: "HealthyHostCount", dimensions: dims },
      healthy,
    );
    state.metrics.put(
      { namespace: ELB_NAMESPACE, metricName: "UnHealthyHostCount", dimensions: dims },
      unhealthy,
    );
  }
}
