/**
 * Fault injection: per-operation throttling, added latency and 5xx errors, matched by service
 * and operation name. Rules are set at start (`startSandbox({ faults })`), through
 * `sandbox.faults`, or over HTTP (`PUT /_sandbox/faults`).
 */
import { AwsError, THROTTLING_CODES } from "./protocol/errors.js";

export interface FaultRule {
  /** `autoscaling`, `elasticloadbalancing`, `ec2` or `s3`; any when left out */
  service?: string;
  /** operation name, e.g. `DescribeTargetHealth`, `PutObject`; any when left out */
  action?: string;
  /** share of matching calls answered with the service's throttling error, 0–1 */
  throttleRate?: number;
  /** share of matching calls answered with a 500 InternalFailure, 0–1 */
  errorRate?: number;
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

  /** Waits for injected latency, then throws the injected error for this call, if any. */
  async apply(service: string, action: string): Promise<void> {
    for (const rule of this.rules) {
      if (rule.service && rule.service !== service) continue;
      if (rule.action && rule.action !== action) continue;
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
    }
  }

  private count(service: string, action: string): void {
    const key = `${service}:${action}`;
    this.injected.set(key, (this.injected.get(key) ?? 0) + 1);
  }
}

function validateRule(rule: FaultRule): void {
  for (const k of ["throttleRate", "errorRate"] as const) {
    const v = rule[k];
    if (v !== undefined && !(v >= 0 && v <= 1)) {
      throw new RangeError(`fault rule ${k} must be between 0 and 1; got ${v}`);
    }
  }
  if (rule.latencyMs !== undefined && !(rule.latencyMs >= 0)) {
    throw new RangeError(`fault rule latencyMs must be ≥ 0; got ${rule.latencyMs}`);
  }
}
