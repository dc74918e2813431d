/**
 * Fault injection: per-operation throttling, added latency, 5xx errors and lost replies,
 * matched by service, operation name and (for S3) the conditional header a request carries.
 * Rules are set at start (`startSandbox({ faults })`), through `sandbox.faults`, or over HTTP
 * (`PUT /_sandbox/faults`).
 */
import type { IncomingHttpHeaders } from "node:http";
import { AwsError, THROTTLING_CODES } from "./protocol/errors.js";

/** The conditional-request headers a rule can single out, by their lower-case names. */
export const FAULT_CONDITIONS = ["if-none-match", "if-match"] as const;
export type FaultCondition = (typeof FAULT_CONDITIONS)[number];

export interface FaultRule {
  /** `autoscaling`, `elasticloadbalancing`, `ec2` or `s3`; any when left out */
  service?: string;
  /** operation name, e.g. `DescribeTargetHealth`, `PutObject`; any when left out */
  action?: string;
  /**
   * only calls that carry this header (`If-None-Match`, `If-Match`): S3's conditional writes,
   * deletes and reads; no query-protocol call carries one
   */
  condition?: FaultCondition;
  /** share of matching calls answered with the service's throttling error, 0–1 */
  throttleRate?: number;
  /** share of matching calls answered with a 500 InternalFailure, 0–1 */
  errorRate?: number;
  /**
   * share of matching calls that are carried out and then left unanswered, 0–1: the connection
   * is closed without a response, whatever the answer would have been
   */
  dropReplyRate?: number;
  /** added latency in real milliseconds */
  latencyMs?: number;
  /** stop after this many injected faults */
  limit?: number;
}

export class Faults {
  private rules: Array<FaultRule & { fired: number }> = [];
  /** injected faults so far, by `service:action` */
  readonly injected = new Map<string, number>();
  private readonly random: () => number;

  constructor(rules: FaultRule[] = [], random: () => number = Math.random) {
    this.random = random;
    this.set(rules);
  }

  set(rules: FaultRule[]): void {
    for (const rule of rules) validateRule(rule);
    this.rules = rules.map((r) => ({ ...r, fired: 0 }));
  }

  list(): FaultRule[] {
    return this.rules.map(({ fired: _fired, ...rule }) => rule);
  }

  clear(): void {
    this.rules = [];
  }

  /**
   * Waits for injected latency, then throws the injected error for this call, if any, or says
   * that the call is to be carried out but its reply lost (`"drop-reply"`). The first fault
   * that fires decides; a call no fault fires on is answered (`"reply"`).
   */
  async apply(
    service: string,
    action: string,
    headers: IncomingHttpHeaders = {},
  ): Promise<"reply" | "drop-reply"> {
    for (const rule of this.rules) {
      if (rule.service && rule.service !== service) continue;
      if (rule.action && rule.action !== action) continue;
      if (rule.condition && headers[rule.condition] === undefined) continue;
      if (rule.latencyMs) await new Promise((r) => setTimeout(r, rule.latencyMs));
      if (rule.limit !== undefined && rule.fired >= rule.limit) continue;
      if (rule.throttleRate && this.random() < rule.throttleRate) {
        rule.fired++;
        this.count(service, action);
        const t = THROTTLING_CODES[service] ?? THROTTLING_CODES.elasticloadbalancing!;
        throw new AwsError(t.code, t.message, t.status);
      }
      if (rule.errorRate && this.random() < rule.errorRate) {
        rule.fired++;
        this.count(service, action);
        throw new AwsError("InternalFailure", "We encountered an internal error.", 500);
      }
      if (rule.dropReplyRate && this.random() < rule.dropReplyRate) {
        rule.fired++;
        this.count(service, action);
        return "drop-reply";
      }
    }
    return "reply";
  }

  private count(service: string, action: string): void {
    const key = `${service}:${action}`;
    this.injected.set(key, (this.injected.get(key) ?? 0) + 1);
  }
}

function validateRule(rule: FaultRule): void {
  for (const k of ["throttleRate", "errorRate", "dropReplyRate"] as const) {
    const v = rule[k];
    if (v !== undefined && !(v >= 0 && v <= 1)) {
      throw new RangeError(`fault rule ${k} must be between 0 and 1; got ${v}`);
    }
  }
  if (rule.latencyMs !== undefined && !(rule.latencyMs >= 0)) {
    throw new RangeError(`fault rule latencyMs must be ≥ 0; got ${rule.latencyMs}`);
  }
  if (rule.condition !== undefined) {
    if (!(FAULT_CONDITIONS as readonly string[]).includes(rule.condition)) {
      throw new RangeError(
        `fault rule condition must be one of ${FAULT_CONDITIONS.join(", ")}; got ${String(rule.condition)}`,
      );
    }
    if (rule.service !== undefined && rule.service !== "s3") {
      throw new RangeError(
        `fault rule condition only matches S3 requests; got service ${rule.service}`,
      );
    }
  }
}
