/**
 * The sandbox's CloudWatch data: metric samples in one-minute buckets and metric alarms.
 *
 * Listener proxies record every request they answer (`recordRequest`); the CloudWatch service
 * samples host counts and serves both through its API. A bucket covers one AWS minute, which is
 * `clock.ms(60)` real milliseconds: at time scale 0.05 a 60-second period is 3 real seconds.
 * Bucket starts are multiples of that length since the epoch, so timestamps are real wall-clock
 * times, like every other timestamp of the sandbox.
 */
import type { Clock } from "./clock.js";

export const ELB_NAMESPACE = "AWS/ApplicationELB";

export interface Dimension {
  Name: string;
  Value: string;
}

export interface MetricIdentity {
  namespace: string;
  metricName: string;
  dimensions: Dimension[];
}

/** What one minute of a metric holds: enough for every statistic, values only for distributions. */
export interface Bucket {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** every sample, kept for percentiles of distribution metrics (response times) */
  values?: number[];
}

export interface Series {
  readonly id: MetricIdentity;
  readonly key: string;
  readonly distribution: boolean;
  /** bucket index (real ms since the epoch / bucket length) → aggregate */
  readonly buckets: Map<number, Bucket>;
}

/** One request a listener proxy answered. */
export interface RequestRecord {
  loadBalancerArn: string;
  /** the target group the request was routed to, when one was chosen */
  targetGroupArn?: string;
  status: number;
  /** `target`: the target answered; `elb`: the load balancer answered with an error of its own; `action`: a fixed response or redirect */
  source: "target" | "elb" | "action";
  /** seconds from sending the request to the target until its response headers arrived */
  latencySeconds?: number;
}

export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA";

/** A metric alarm, kept in PutMetricAlarm's own shape plus its state. */
export interface MetricAlarm {
  AlarmName: string;
  AlarmArn: string;
  AlarmDescription?: string;
  ActionsEnabled: boolean;
  OKActions: string[];
  AlarmActions: string[];
  InsufficientDataActions: string[];
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  ExtendedStatistic?: string;
  Dimensions?: Dimension[];
  Period?: number;
  Unit?: string;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  Threshold?: number;
  ComparisonOperator: string;
  TreatMissingData?: string;
  Metrics?: Record<string, unknown>[];
  Tags: Dimension[];
  StateValue: AlarmState;
  StateReason: string;
  StateReasonData?: string;
  StateUpdatedTimestamp: Date;
  StateTransitionedTimestamp: Date;
  AlarmConfigurationUpdatedTimestamp: Date;
}

/** The dimension value of a load balancer: its ARN's tail, `app/<name>/<id>`. */
export function loadBalancerDimension(arn: string): string {
  const at = arn.indexOf(":loadbalancer/");
  return at < 0 ? arn : arn.slice(at + ":loadbalancer/".length);
}

/** The dimension value of a target group: its ARN's tail, `targetgroup/<name>/<id>`. */
export function targetGroupDimension(arn: string): string {
  const at = arn.indexOf(":targetgroup/");
  return at < 0 ? arn : arn.slice(at + 1);
}

export function seriesKey(id: MetricIdentity): string {
  const dims = [...id.dimensions]
    .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
    .map((d) => `${d.Name}=${d.Value}`)
    .join(",");
  return `${id.namespace}|${id.metricName}|${dims}`;
}

/** Buckets older than this many real milliseconds are dropped as new samples arrive. */
const RETENTION_MS = 6 * 60 * 60 * 1000;

export class MetricStore {
  readonly series = new Map<string, Series>();
  /** real milliseconds in one AWS minute: the length of a bucket */
  readonly minuteMs: number;
  private readonly clock: Clock;
  private lastPrune = 0;

  constructor(clock: Clock) {
    this.clock = clock;
    this.minuteMs = clock.ms(60);
  }

  /** Adds one sample at `time` (real ms, default now). */
  put(id: MetricIdentity, value: number, time = this.clock.now(), distribution = false): void {
    const key = seriesKey(id);
    let series = this.series.get(key);
    if (!series) {
      series = {
        id: { ...id, dimensions: id.dimensions.map((d) => ({ ...d })) },
        key,
        distribution,
        buckets: new Map(),
      };
      this.series.set(key, series);
    }
    const index = Math.floor(time / this.minuteMs);
    const bucket = series.buckets.get(index);
    if (!bucket) {
      series.buckets.set(index, {
        count: 1,
        sum: value,
        min: value,
        max: value,
        ...(series.distribution ? { values: [value] } : {}),
      });
    } else {
      bucket.count++;
      bucket.sum += value;
      if (value < bucket.min) bucket.min = value;
      if (value > bucket.max) bucket.max = value;
      bucket.values?.push(value);
    }
    if (time - this.lastPrune > this.minuteMs * 10) this.prune(time);
  }

  /** The ALB metrics of one request, as AWS/ApplicationELB publishes them. */
  recordRequest(record: RequestRecord, time = this.clock.now()): void {
    const lb: Dimension = {
      Name: "LoadBalancer",
      Value: loadBalancerDimension(record.loadBalancerArn),
    };
    const sets: Dimension[][] = [[lb]];
    if (record.targetGroupArn) {
      sets.push([{ Name: "TargetGroup", Value: targetGroupDimension(record.targetGroupArn) }, lb]);
    }
    const count = (metricName: string, dimensionSets: Dimension[][]) => {
      for (const dimensions of dimensionSets) {
        this.put({ namespace: ELB_NAMESPACE, metricName, dimensions }, 1, time);
      }
    };
    // A request counts once the load balancer has chosen a target group for it (or answered it
    // with an action of its own); requests it rejects before routing count only as ELB errors.
    if (record.targetGroupArn || record.source === "action") count("RequestCount", sets);
    const klass = Math.floor(record.status / 100);
    if (record.source === "target") {
      count(`HTTPCode_Target_${klass}XX_Count`, sets);
      if (record.latencySeconds !== undefined) {
        for (const dimensions of sets) {
          this.put(
            { namespace: ELB_NAMESPACE, metricName: "TargetResponseTime", dimensions },
            record.latencySeconds,
            time,
            true,
          );
        }
      }
    } else if (record.source === "elb" && (klass === 4 || klass === 5)) {
      count(`HTTPCode_ELB_${klass}XX_Count`, [[lb]]);
      if ([500, 502, 503, 504].includes(record.status)) {
        count(`HTTPCode_ELB_${record.status}_Count`, [[lb]]);
      }
    }
  }

  private prune(now: number): void {
    this.lastPrune = now;
    const oldest = Math.floor((now - RETENTION_MS) / this.minuteMs);
    for (const series of this.series.values()) {
      for (const index of series.buckets.keys()) {
        if (index < oldest) series.buckets.delete(index);
      }
    }
  }
}
