/**
 * The swap as data: the plan fixed when a swap starts, the cursor persisted in the swap record,
 * and the snapshot of the world that `observe` reads each pass. `nextAction` (decide.ts) reads
 * these three and nothing else.
 */

import type { TargetGroupConfig } from "./config-schema.js";

/** A target group and its weight in a forward action. */
export interface Weighted {
  targetGroupArn: string;
  weight: number;
}

export interface Capacity {
  min: number;
  max: number;
  desired: number;
}

/** Everything a swap needs to know, fixed when it starts and stored in the swap record. */
export interface SwapPlan {
  swapId: string;
  service: string;
  app: string;
  env: string;
  release: { url: string; version: string };
  green: {
    name: string;
    sequence: number;
    targetGroupName: string;
    launchTemplateName: string;
  };
  /** the live group when the swap started; null for a service's first deploy */
  blue: {
    name: string;
    targetGroupArn: string;
    release: string;
    /** processes already suspended on blue before the swap, left as they are by a rollback */
    suspended: string[];
  } | null;
  /** the forward action's groups and weights before the swap, restored (blue at 100) by a rollback */
  originalTargetGroups: Weighted[];
  capacity: Capacity;
  /** percent of traffic on green at each step, increasing, ending at 100 */
  steps: number[];
  bakeMs: number;
  healthyTimeoutMs: number;
  /** target-group stickiness during the shift, in seconds; 0 = off */
  stickinessSeconds: number;
  keepFailed: boolean;
  /** user gate names, for events and status (the gates themselves are callbacks or commands) */
  gates: string[];
  /** the traffic's actions before the swap, restored if a first deploy is rolled back */
  originalActions: unknown[];
  /** how green is launched, resolved at preflight so a resumed swap launches the same thing */
  launch: LaunchSpec;
  /**
   * how long after a listener change traffic may still reach a group it took traffic off: the
   * listener's propagation plus the target group's deregistration delay. Green is deleted only
   * after this has passed since the rollback's listener change.
   */
  drainMs?: number;
  /** CloudWatch alarms read during every bake; one in ALARM rolls back */
  alarms?: { names: string[]; unreadable: "fail" | "ignore" };
  /** green judged against blue on the load balancer's metrics at the end of each bake */
  analysis?: AnalysisPlan;
}

/** The judge's settings for one swap, fixed at preflight. */
export interface AnalysisPlan {
  /** the `LoadBalancer` dimension of the listener's load balancer: `app/<name>/<id>` */
  loadBalancer: string;
  /** the real length of a metric period and the publishing lag, in ms */
  periodMs: number;
  lagMs: number;
  /** how long a bake is extended while the data is too little */
  maxExtensionMs: number;
  onInsufficientData: "fail" | "pass";
  /** the judge's options (JudgeOptions) */
  alpha: number;
  minDifference: number;
  minRequests: number;
  latency?: { stat: string; ratio: number; floorSeconds: number };
}

export interface LaunchSpec {
  imageId: string;
  instanceType: string;
  securityGroupIds: string[];
  instanceProfile?: string;
  /** base64, ≤ 16 KB before encoding */
  userData: string;
  vpcId: string;
  subnets: string[];
  healthCheckGracePeriodSeconds: number;
  targetGroup: TargetGroupConfig;
}

/**
 * A rollback's plan: the group that becomes live (the one live before the last completed change,
 * or `--to`) and the group live when it started. Fixed when the rollback takes the lock.
 */
export interface RollbackPlan {
  to: { name: string; targetGroupArn: string; release: string };
  from: { name: string; targetGroupArn: string; release: string } | null;
  /** instances the target needs before it takes traffic: the live group's desired capacity */
  desired: number;
  healthyTimeoutMs: number;
}

/** Deploy: launching → shifting → finalizing (or rolling-back). Rollback: restoring. */
export type Phase = "launching" | "shifting" | "finalizing" | "rolling-back" | "restoring";

/** Progress of a swap, persisted in the swap record after every change. */
export interface SwapCursor {
  phase: Phase;
  /** index into plan.steps of the step reached; -1 before the first shift */
  stepIndex: number;
  /** when the bake of the current step started (ms since epoch); unset until its weights are in place */
  bakeStartedAt?: number;
  /** when the swap began waiting for green to become healthy */
  launchStartedAt: number;
  /** blue's MinSize before the swap pinned it */
  blueOriginalMin?: number;
  /** the rule that keeps green's target group health-checked on a first deploy */
  warmupRuleArn?: string;
  /** why the swap is rolling back */
  failure?: SwapFailure;
  /** the forward action's groups and weights as the swap last wrote them (or found them at start) */
  traffic?: Weighted[];
  /** when the rollback's listener change was made: green may be deleted once it has drained */
  trafficMovedAt?: number;
  /** the judge's verdict on the last step it judged, for `status` */
  lastVerdict?: { step: number; result: AnalysisVerdict["result"]; sentence: string };
}

/**
 * Requests written into the swap record by any process (a terminal, the wizard, a script) and
 * applied by the process driving the swap at its next observe.
 */
export interface ControlRequests {
  /** hold the current step once its weights are in place, until promoted (or until `until`) */
  pause?: { until?: number; by: string; at: string };
  /** end the bake of `step` (1-based) now; `full` skips the remaining steps */
  promote?: { step: number; full: boolean; by: string; at: string };
  /** roll the swap back to blue */
  abort?: {
    by: string;
    at: string;
    /** why, when it is not an operator's request (the driving process was cancelled) */
    reason?: string;
  };
}

/** Someone else changed what the swap manages: the swap stopped and left it as found. */
export interface Drift {
  what: string;
  /** the forward action as the swap last wrote it, and as it was found */
  expected: Weighted[];
  found: Weighted[];
  at: string;
}

export type Role = "live" | "standby" | "failed" | "green";

/** Target health with no target in any state. */
export function noTargets(): TargetHealthCounts {
  return {
    healthy: 0,
    unhealthy: 0,
    initial: 0,
    draining: 0,
    unused: 0,
    total: 0,
    unhealthyTargets: [],
  };
}

/** A target the load balancer finds unhealthy, and why. */
export interface UnhealthyTarget {
  id: string;
  /** the description (`Health checks failed with these codes: [500]`), else the reason code */
  reason: string;
  /** the reason code, e.g. `Target.ResponseCodeMismatch`, `Target.Timeout` */
  code?: string;
}

/** Why a swap rolled back: a code, a sentence, and the facts behind it for scripts. */
export interface SwapFailure {
  code: string;
  message: string;
  details?: FailureDetails;
}

export interface FailureDetails {
  /** green's unhealthy targets with their reason codes (a green that never became healthy) */
  targets?: UnhealthyTarget[];
  /** the newest failed scaling activity of green's group (a launch that failed) */
  activity?: { statusMessage: string };
  /** the gate that failed, and the file holding all of its output */
  gate?: { name: string; outputFile?: string };
  /** the alarm in ALARM, and CloudWatch's reason for its state */
  alarm?: { name: string; reason: string };
  /** the judge's verdict that failed the step */
  verdict?: { sentence: string; figures?: VerdictFigures };
}

/** One alarm's state as a bake read it. */
export interface AlarmState {
  name: string;
  state: "OK" | "ALARM" | "INSUFFICIENT_DATA";
  reason: string;
}

/** The alarms of a bake's last check: their states, or why they could not be read. */
export interface AlarmsView {
  states: AlarmState[];
  /** the error that kept the states from being read */
  error?: string;
}

/** The figures behind a verdict, for events and scripts. */
export interface VerdictFigures {
  green: { requests: number; errors: number; rate: number };
  blue: { requests: number; errors: number; rate: number };
  pValue?: number;
  latency?: { stat: string; green?: number; blue?: number; limit?: number };
  /** the window judged (ms since epoch) */
  window: { start: number; end: number };
}

/** The judge's answer on one step's bake. */
export interface AnalysisVerdict {
  /** the step judged (1-based) and its bake, so a verdict is never read for another step */
  step: number;
  bakeStartedAt: number;
  result: "pass" | "fail" | "insufficient";
  /** e.g. `green 5xx 0.2 % (3/1500) vs blue 0.1 % (29/28500), p = 0.41: pass` */
  sentence: string;
  figures: VerdictFigures;
  /** when it was computed */
  at: number;
}

export interface TargetHealthCounts {
  healthy: number;
  unhealthy: number;
  initial: number;
  draining: number;
  unused: number;
  total: number;
  /** ids and reasons of unhealthy targets, for messages */
  unhealthyTargets: UnhealthyTarget[];
}

export interface GroupView {
  name: string;
  sequence: number;
  release: string;
  role: Role;
  swapId?: string;
  createdAt?: string;
  asg?: {
    min: number;
    max: number;
    desired: number;
    deleting: boolean;
    suspended: string[];
    instances: Array<{ id: string; lifecycle: string; health: string }>;
  };
  targetGroupArn?: string;
  launchTemplateId?: string;
  health?: TargetHealthCounts;
  /** status message of the newest failed launch activity since the swap started */
  launchFailure?: string;
}

export interface TrafficView {
  /** the forward action's groups and weights; empty when traffic is not forwarded (e.g. a fixed 503) */
  targetGroups: Weighted[];
  stickiness: { enabled: boolean; durationSeconds: number };
  /** whether the action is a forward action */
  forwarding: boolean;
  /** the warm-up rule, when one exists for this swap */
  warmupRule?: { arn: string; targetGroupArns: string[] };
}

export interface GateResult {
  name: string;
  ok: boolean;
  message?: string;
  /** the last lines of its output, and the file holding all of it (command gates) */
  output?: string;
  outputFile?: string;
}

export interface Snapshot {
  now: number;
  traffic: TrafficView;
  green?: GroupView;
  blue?: GroupView;
  /** the green group's target group, found by name, even before its ASG exists */
  greenTargetGroupArn?: string;
  greenLaunchTemplateId?: string;
  /** results of user gates, read only while a step bakes */
  gates: GateResult[];
  /** the configured alarms' states, read while a step bakes */
  alarms?: AlarmsView;
  /** the judge's verdict on the current step, once its bake and metrics are in */
  verdict?: AnalysisVerdict;
  /** control requests from the swap record (promote, pause, abort) */
  control?: ControlRequests;
  /** this process was asked to stop (Ctrl-C, AbortSignal) */
  cancelled?: boolean;
  /** passes in a row that failed on AWS errors */
  failures?: number;
}
