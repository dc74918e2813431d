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

export type Phase = "launching" | "shifting" | "finalizing" | "rolling-back";

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
  failure?: { code: string; message: string };
}

export type Role = "live" | "standby" | "failed" | "green";

export interface TargetHealthCounts {
  healthy: number;
  unhealthy: number;
  initial: number;
  draining: number;
  unused: number;
  total: number;
  /** ids and reasons of unhealthy targets, for messages */
  unhealthyTargets: Array<{ id: string; reason: string }>;
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
}

/**
 * An operator's say over the bake of the current step (see `SwapControl`): `hold` keeps the step
 * past the end of its bake (gates are still checked), `promote` counts the bake as done now.
 */
export type BakeOverride = "hold" | "promote";

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
  /** an operator's override of the current step's bake; absent: the bake runs its time */
  bake?: BakeOverride;
}
