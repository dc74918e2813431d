/**
 * Metric alarms: PutMetricAlarm, DescribeAlarms, DeleteAlarms, SetAlarmState, and the evaluator
 * the sandbox runs every AWS minute.
 *
 * Evaluation, per alarm: the last `EvaluationPeriods` whole periods that are published (so the
 * window ends before now − lag); each period is breaching, not breaching, or missing. Missing
 * periods count as `TreatMissingData` says: `breaching`, `notBreaching`, or (`missing`, the
 * default, and `ignore`) not at all. With no period left: `missing` → INSUFFICIENT_DATA,
 * `ignore` → the state stays. Otherwise ALARM when at least `DatapointsToAlarm` (default
 * `EvaluationPeriods`) periods breach, else OK. A state change records its reason and time.
 */
import type { SandboxContext } from "../../context.js";
import type { AlarmState, MetricAlarm } from "../../metrics.js";
import { AwsError } from "../../protocol/errors.js";
import { ACCOUNT_ID } from "../../state.js";
import {
  checkPeriod,
  checkStat,
  type DataQuery,
  periodMs,
  publishedUntil,
  readQueries,
  runQueries,
  statSeries,
} from "./data.js";
import {
  dimensions,
  flag,
  type Input,
  integer,
  invalidParameter,
  missingParameter,
  number,
  objects,
  strings,
  text,
} from "./input.js";

const COMPARISONS: Record<string, { words: string; test: (v: number, t: number) => boolean }> = {
  GreaterThanOrEqualToThreshold: { words: "greater than or equal to", test: (v, t) => v >= t },
  GreaterThanThreshold: { words: "greater than", test: (v, t) => v > t },
  LessThanThreshold: { words: "less than", test: (v, t) => v < t },
  LessThanOrEqualToThreshold: { words: "less than or equal to", test: (v, t) => v <= t },
};
const TREAT_MISSING = new Set(["breaching", "notBreaching", "ignore", "missing"]);
const STATES = new Set<AlarmState>(["OK", "ALARM", "INSUFFICIENT_DATA"]);

const notFound = (name: string) => new AwsError("ResourceNotFound", `Alarm ${name} not found`, 404);

export function putMetricAlarm(params: Input, ctx: SandboxContext) {
  const name = text(params.AlarmName);
  if (!name) throw missingParameter("AlarmName");
  if (name.length > 255)
    throw invalidParameter("The parameter AlarmName must be at most 255 characters.");
  const comparison = text(params.ComparisonOperator);
  if (!comparison) throw missingParameter("ComparisonOperator");
  if (!COMPARISONS[comparison]) {
    throw invalidParameter(
      `The value ${comparison} for parameter ComparisonOperator is not supported by the sandbox (${Object.keys(COMPARISONS).join(", ")}).`,
    );
  }
  const evaluationPeriods = integer(params.EvaluationPeriods, "EvaluationPeriods");
  if (evaluationPeriods === undefined) throw missingParameter("EvaluationPeriods");
  if (evaluationPeriods < 1)
    throw invalidParameter("The parameter EvaluationPeriods must be at least 1.");
  const datapointsToAlarm = integer(params.DatapointsToAlarm, "DatapointsToAlarm");
  if (
    datapointsToAlarm !== undefined &&
    (datapointsToAlarm < 1 || datapointsToAlarm > evaluationPeriods)
  ) {
    throw invalidParameter("DatapointsToAlarm must be between 1 and EvaluationPeriods.");
  }
  const threshold = number(params.Threshold, "Threshold");
  if (threshold === undefined) throw missingParameter("Threshold");
  const treatMissingData = text(params.TreatMissingData);
  if (treatMissingData !== undefined && !TREAT_MISSING.has(treatMissingData)) {
    throw invalidParameter(
      `The value ${treatMissingData} for parameter TreatMissingData is not valid.`,
    );
  }
  const metricsInput = objects(params.Metrics);
  const statistic = text(params.Statistic);
  const extended = text(params.ExtendedStatistic);
  let period = integer(params.Period, "Period");
  if (metricsInput.length > 0) {
    if (params.MetricName !== undefined || statistic || extended) {
      throw new AwsError(
        "InvalidParameterCombination",
        "Metrics and MetricName/Statistic/ExtendedStatistic cannot be used together.",
      );
    }
    const queries = readQueries(metricsInput, "Metrics");
    if (queries.filter((q) => q.returnData).length !== 1) {
      throw new AwsError(
        "ValidationError",
        "Exactly one element of Metrics must have ReturnData true.",
      );
    }
    period = queries.find((q) => q.stat)?.stat?.period ?? period;
  } else {
    if (!text(params.MetricName)) throw missingParameter("MetricName");
    if (!text(params.Namespace)) throw missingParameter("Namespace");
    if (statistic && extended) {
      throw new AwsError(
        "InvalidParameterCombination",
        "Statistic and ExtendedStatistic cannot be used together.",
      );
    }
    if (!statistic && !extended) throw missingParameter("Statistic or ExtendedStatistic");
    checkStat(statistic ?? extended ?? "", statistic ? "Statistic" : "ExtendedStatistic");
    if (statistic?.startsWith("p"))
      throw invalidParameter(`Statistic ${statistic} is an ExtendedStatistic.`);
  }
  const checked = checkPeriod(period, "Period");
  if (checked * evaluationPeriods > 86_400 * 7) {
    throw invalidParameter("Period × EvaluationPeriods must be at most 7 days.");
  }
  const now = new Date(ctx.clock.now());
  const existing = ctx.state.alarms.get(name);
  const description = text(params.AlarmDescription);
  const unit = text(params.Unit);
  const alarm: MetricAlarm = {
    AlarmName: name,
    AlarmArn: `arn:aws:cloudwatch:${ctx.state.region}:${ACCOUNT_ID}:alarm:${name}`,
    ...(description !== undefined ? { AlarmDescription: description } : {}),
    ActionsEnabled: flag(params.ActionsEnabled) ?? true,
    OKActions: strings(params.OKActions),
    AlarmActions: strings(params.AlarmActions),
    InsufficientDataActions: strings(params.InsufficientDataActions),
    EvaluationPeriods: evaluationPeriods,
    ...(datapointsToAlarm !== undefined ? { DatapointsToAlarm: datapointsToAlarm } : {}),
    Threshold: threshold,
    ComparisonOperator: comparison,
    ...(treatMissingData !== undefined ? { TreatMissingData: treatMissingData } : {}),
    ...(metricsInput.length > 0
      ? { Metrics: metricsInput }
      : {
          MetricName: text(params.MetricName),
          Namespace: text(params.Namespace),
          ...(statistic ? { Statistic: statistic } : {}),
          ...(extended ? { ExtendedStatistic: extended } : {}),
          Dimensions: dimensions(params.Dimensions),
          Period: checked,
        }),
    ...(unit !== undefined ? { Unit: unit } : {}),
    Tags: dimensions(params.Tags, "Tags").map((d) => d),
    // an update keeps the alarm's state; a new alarm starts without data
    StateValue: existing?.StateValue ?? "INSUFFICIENT_DATA",
    StateReason: existing?.StateReason ?? "Unchecked: Initial alarm creation",
    ...(existing?.StateReasonData ? { StateReasonData: existing.StateReasonData } : {}),
    StateUpdatedTimestamp: existing?.StateUpdatedTimestamp ?? now,
    StateTransitionedTimestamp: existing?.StateTransitionedTimestamp ?? now,
    AlarmConfigurationUpdatedTimestamp: now,
  };
  ctx.state.alarms.set(name, alarm);
  return {};
}

function alarmShape(alarm: MetricAlarm) {
  const { Tags: _tags, ...shape } = alarm;
  return shape;
}

export function describeAlarms(params: Input, ctx: SandboxContext) {
  const names = strings(params.AlarmNames);
  if (names.length > 100)
    throw invalidParameter("The collection AlarmNames must not have more than 100 members.");
  const prefix = text(params.AlarmNamePrefix);
  if (prefix !== undefined && names.length > 0) {
    throw new AwsError(
      "InvalidParameterCombination",
      "AlarmNames and AlarmNamePrefix cannot be used together.",
    );
  }
  const stateValue = text(params.StateValue);
  if (stateValue !== undefined && !STATES.has(stateValue as AlarmState)) {
    throw invalidParameter(`The value ${stateValue} for parameter StateValue is not valid.`);
  }
  const actionPrefix = text(params.ActionPrefix);
  const types = strings(params.AlarmTypes);
  const maxRecords = integer(params.MaxRecords, "MaxRecords") ?? 50;
  if (maxRecords < 1 || maxRecords > 100) throw invalidParameter("MaxRecords must be 1–100.");
  const wantMetric = types.length === 0 || types.includes("MetricAlarm");
  const matches = [...ctx.state.alarms.values()]
    .filter((a) => names.length === 0 || names.includes(a.AlarmName))
    .filter((a) => prefix === undefined || a.AlarmName.startsWith(prefix))
    .filter((a) => stateValue === undefined || a.StateValue === stateValue)
    .filter(
      (a) =>
        actionPrefix === undefined ||
        [...a.AlarmActions, ...a.OKActions, ...a.InsufficientDataActions].some((x) =>
          x.startsWith(actionPrefix),
        ),
    )
    .filter(() => wantMetric)
    .sort((a, b) => (a.AlarmName < b.AlarmName ? -1 : a.AlarmName > b.AlarmName ? 1 : 0));
  const from = Number(text(params.NextToken) ?? "0");
  if (!Number.isInteger(from) || from < 0) {
    throw new AwsError("InvalidNextToken", "The service couldn't process your NextToken.");
  }
  const page = matches.slice(from, from + maxRecords);
  return {
    MetricAlarms: page.map(alarmShape),
    CompositeAlarms: [],
    ...(from + maxRecords < matches.length ? { NextToken: String(from + maxRecords) } : {}),
  };
}

export function deleteAlarms(params: Input, ctx: SandboxContext) {
  const names = strings(params.AlarmNames);
  if (names.length === 0) throw missingParameter("AlarmNames");
  if (names.length > 100)
    throw invalidParameter("The collection AlarmNames must not have more than 100 members.");
  const missing = names.find((n) => !ctx.state.alarms.has(n));
  if (missing !== undefined) throw notFound(missing);
  for (const n of names) ctx.state.alarms.delete(n);
  return {};
}

export function setAlarmState(params: Input, ctx: SandboxContext) {
  const name = text(params.AlarmName);
  if (!name) throw missingParameter("AlarmName");
  const stateValue = text(params.StateValue);
  if (!stateValue) throw missingParameter("StateValue");
  if (!STATES.has(stateValue as AlarmState)) {
    throw invalidParameter(`The value ${stateValue} for parameter StateValue is not valid.`);
  }
  const reason = text(params.StateReason);
  if (reason === undefined) throw missingParameter("StateReason");
  const reasonData = text(params.StateReasonData);
  if (reasonData !== undefined) {
    try {
      JSON.parse(reasonData);
    } catch {
      throw new AwsError("InvalidFormat", "StateReasonData is not valid JSON.");
    }
  }
  const alarm = ctx.state.alarms.get(name);
  if (!alarm) throw notFound(name);
  transition(ctx, alarm, stateValue as AlarmState, reason, reasonData, true);
  return {};
}

function transition(
  ctx: SandboxContext,
  alarm: MetricAlarm,
  state: AlarmState,
  reason: string,
  reasonData: string | undefined,
  always = false,
): void {
  if (!always && alarm.StateValue === state) return;
  const now = new Date(ctx.clock.now());
  if (alarm.StateValue !== state) alarm.StateTransitionedTimestamp = now;
  alarm.StateValue = state;
  alarm.StateReason = reason;
  if (reasonData !== undefined) alarm.StateReasonData = reasonData;
  else delete alarm.StateReasonData;
  alarm.StateUpdatedTimestamp = now;
}

/** `dd/MM/yy HH:mm:ss`, as alarm reasons print datapoint times. */
function reasonTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

const fmt = (v: number) => (Number.isInteger(v) ? v.toFixed(1) : String(v));

/** The alarm's datapoints for its window: one entry per period, `undefined` when missing. */
function alarmPoints(ctx: SandboxContext, alarm: MetricAlarm): { t: number; value?: number }[] {
  const metricsQueries: DataQuery[] | undefined = alarm.Metrics
    ? readQueries(alarm.Metrics, "Metrics")
    : undefined;
  const period = alarm.Period ?? metricsQueries?.find((q) => q.stat)?.stat?.period ?? 60;
  const length = periodMs(ctx, period);
  const end = Math.floor(publishedUntil(ctx) / length) * length;
  const start = end - alarm.EvaluationPeriods * length;
  let series: Map<number, number>;
  if (metricsQueries) {
    const results = runQueries(ctx, metricsQueries, start, end);
    const returned = metricsQueries.find((q) => q.returnData);
    series = (returned && results.get(returned.id)) || new Map();
  } else {
    series = statSeries(
      ctx,
      {
        metric: {
          namespace: alarm.Namespace ?? "",
          metricName: alarm.MetricName ?? "",
          dimensions: alarm.Dimensions ?? [],
        },
        period,
        stat: alarm.Statistic ?? alarm.ExtendedStatistic ?? "Average",
      },
      start,
      end,
    );
  }
  const out: { t: number; value?: number }[] = [];
  for (let t = start; t < end; t += length) {
    const value = series.get(t);
    out.push(value === undefined ? { t } : { t, value });
  }
  return out;
}

/** Evaluates one alarm against its published datapoints and moves it to the state they call for. */
export function evaluateAlarm(ctx: SandboxContext, alarm: MetricAlarm): void {
  const comparison = COMPARISONS[alarm.ComparisonOperator]!;
  const threshold = alarm.Threshold ?? 0;
  const treat = alarm.TreatMissingData ?? "missing";
  const needed = alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods;
  const points = alarmPoints(ctx, alarm);
  const present = points.filter((p) => p.value !== undefined);
  const missingCount = points.length - present.length;
  const breaching =
    present.filter((p) => comparison.test(p.value!, threshold)).length +
    (treat === "breaching" ? missingCount : 0);
  const counted =
    present.length + (treat === "breaching" || treat === "notBreaching" ? missingCount : 0);
  const data = JSON.stringify({
    version: "1.0",
    queryDate: new Date(ctx.clock.now()).toISOString(),
    startDate: points[0] ? new Date(points[0].t).toISOString() : undefined,
    ...(alarm.Statistic ? { statistic: alarm.Statistic } : {}),
    ...(alarm.ExtendedStatistic ? { statistic: alarm.ExtendedStatistic } : {}),
    period: alarm.Period,
    recentDatapoints: [...present].reverse().map((p) => p.value),
    threshold,
    evaluatedDatapoints: [...points]
      .reverse()
      .map((p) =>
        p.value === undefined
          ? { timestamp: new Date(p.t).toISOString() }
          : { timestamp: new Date(p.t).toISOString(), value: p.value },
      ),
  });
  if (counted === 0) {
    if (treat === "ignore") return;
    transition(
      ctx,
      alarm,
      "INSUFFICIENT_DATA",
      `Insufficient Data: ${points.length} datapoint${points.length === 1 ? " was" : "s were"} unknown.`,
      data,
    );
    return;
  }
  const listed = `[${[...present]
    .reverse()
    .map((p) => `${fmt(p.value!)} (${reasonTime(p.t)})`)
    .join(", ")}]`;
  const missingNote =
    missingCount > 0 && (treat === "breaching" || treat === "notBreaching")
      ? ` and ${missingCount} missing datapoint${missingCount === 1 ? " was" : "s were"} treated as [${treat === "breaching" ? "Breaching" : "NonBreaching"}]`
      : "";
  if (breaching >= needed) {
    transition(
      ctx,
      alarm,
      "ALARM",
      `Threshold Crossed: ${breaching} out of the last ${points.length} datapoints ${listed} ${breaching === 1 ? "was" : "were"} ${comparison.words} the threshold (${fmt(threshold)})${missingNote} (minimum ${needed} datapoint${needed === 1 ? "" : "s"} for ${alarm.StateValue} -> ALARM transition).`,
      data,
    );
  } else {
    const fine = counted - breaching;
    transition(
      ctx,
      alarm,
      "OK",
      `Threshold Crossed: ${fine} out of the last ${points.length} datapoints ${listed} ${fine === 1 ? "was" : "were"} not ${comparison.words} the threshold (${fmt(threshold)})${missingNote} (minimum ${points.length - needed + 1} datapoint${points.length - needed + 1 === 1 ? "" : "s"} for ALARM -> OK transition).`,
      data,
    );
  }
}

export function evaluateAlarms(ctx: SandboxContext): void {
  for (const alarm of ctx.state.alarms.values()) {
    try {
      evaluateAlarm(ctx, alarm);
    } catch {
      // an alarm whose metrics cannot be evaluated keeps its state
    }
  }
}
