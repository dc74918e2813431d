/**
 * The sandbox's CloudWatch (`monitoring`, 2010-08-01): the Application Load Balancer's metrics
 * computed from the traffic the listener proxies carried, GetMetricData with metric math,
 * ListMetrics, and metric alarms evaluated every AWS minute. Served over JSON 1.0 (what current
 * SDKs and the AWS CLI send) and the query protocol.
 */
import type { SandboxContext } from "../../context.js";
import {
  deleteAlarms,
  describeAlarms,
  evaluateAlarms,
  putMetricAlarm,
  setAlarmState,
} from "./alarms.js";
import { getMetricData, listMetrics, sampleHostCounts } from "./data.js";
import type { Input } from "./input.js";

export type CloudWatchHandler = (params: Input, ctx: SandboxContext) => unknown;

export const cloudwatchHandlers: Record<string, CloudWatchHandler> = {
  GetMetricData: getMetricData,
  ListMetrics: listMetrics,
  PutMetricAlarm: putMetricAlarm,
  DescribeAlarms: describeAlarms,
  DeleteAlarms: deleteAlarms,
  SetAlarmState: setAlarmState,
};

/** AWS seconds between host-count samples (HealthyHostCount, UnHealthyHostCount). */
export const HOST_SAMPLE_SECONDS = 10;
/** AWS seconds between alarm evaluations. */
export const ALARM_EVALUATION_SECONDS = 60;

/** Starts the host-count sampler and the alarm evaluator; the returned function stops both. */
export function startCloudWatch(ctx: SandboxContext): () => void {
  const stopSampler = ctx.clock.every(HOST_SAMPLE_SECONDS, () => sampleHostCounts(ctx));
  const stopEvaluator = ctx.clock.every(ALARM_EVALUATION_SECONDS, () => evaluateAlarms(ctx));
  return () => {
    stopSampler();
    stopEvaluator();
  };
}
