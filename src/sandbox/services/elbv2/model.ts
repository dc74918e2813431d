/**
 * ELBv2 lookups, ARNs and output shapes shared by the handlers, and the bookkeeping that keeps
 * target health in step with listener references: a target group referenced by no listener or
 * rule reports its targets `unused` (Target.NotInUse); once referenced they start at `initial`.
 *
 * `state.rules` holds only the rules created with CreateRule. A listener's default rule is its
 * `defaultActions`; its ARN is derived from the listener's ARN.
 */
import { createHash } from "node:crypto";
import type { SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import type {
  Action,
  Listener,
  LoadBalancer,
  Rule,
  SandboxState,
  Target,
  TargetGroup,
} from "../../state.js";
import { forwardTargetGroupArns, isTargetGroupInUse, targetGroupNotFound } from "../../world.js";

// ---------- ARNs ----------

/** `arn:…:loadbalancer/app/<name>/<id>` → `app/<name>/<id>` */
function lbSuffix(lbArn: string): string {
  return lbArn.slice(lbArn.indexOf(":loadbalancer/") + ":loadbalancer/".length);
}

export function listenerArnFor(state: SandboxState, lbArn: string, id: string): string {
  return state.arn("elasticloadbalancing", `listener/${lbSuffix(lbArn)}/${id}`);
}

export function ruleArnFor(listenerArn: string, id: string): string {
  return `${listenerArn.replace(":listener/", ":listener-rule/")}/${id}`;
}

export function defaultRuleArn(listenerArn: string): string {
  return ruleArnFor(
    listenerArn,
    createHash("sha256").update(listenerArn).digest("hex").slice(0, 16),
  );
}

// ---------- lookups ----------

export function loadBalancerNotFound(): AwsError {
  return new AwsError("LoadBalancerNotFound", "One or more load balancers not found");
}
export function listenerNotFound(): AwsError {
  return new AwsError("ListenerNotFound", "One or more listeners not found");
}
export function ruleNotFound(): AwsError {
  return new AwsError("RuleNotFound", "One or more rules not found");
}

export function getLoadBalancer(state: SandboxState, arn: string | undefined): LoadBalancer {
  const lb = arn ? state.loadBalancers.get(arn) : undefined;
  if (!lb) throw loadBalancerNotFound();
  return lb;
}

export function getListener(state: SandboxState, arn: string | undefined): Listener {
  const listener = arn ? state.listeners.get(arn) : undefined;
  if (!listener) throw listenerNotFound();
  return listener;
}

export function getTargetGroup(state: SandboxState, arn: string | undefined): TargetGroup {
  const tg = arn ? state.targetGroups.get(arn) : undefined;
  if (!tg) throw targetGroupNotFound(arn ?? "");
  return tg;
}

/** A rule by ARN: a created rule, or a listener's default rule. */
export type RuleRef = { kind: "rule"; rule: Rule } | { kind: "default"; listener: Listener };

export function getRule(state: SandboxState, arn: string | undefined): RuleRef {
  if (arn) {
    const rule = state.rules.get(arn);
    if (rule) return { kind: "rule", rule };
    for (const listener of state.listeners.values()) {
      if (defaultRuleArn(listener.arn) === arn) return { kind: "default", listener };
    }
  }
  throw ruleNotFound();
}

export function rulesOf(state: SandboxState, listenerArn: string): Rule[] {
  return [...state.rules.values()]
    .filter((r) => r.listenerArn === listenerArn)
    .sort((a, b) => Number(a.priority) - Number(b.priority));
}

export function listenersOf(state: SandboxState, lbArn: string): Listener[] {
  return [...state.listeners.values()].filter((l) => l.loadBalancerArn === lbArn);
}

/** Every action of a listener: its default actions and its rules' actions. */
export function actionsOfListener(state: SandboxState, listener: Listener): Action[] {
  return [...listener.defaultActions, ...rulesOf(state, listener.arn).flatMap((r) => r.actions)];
}

export function targetGroupArnsOf(actions: readonly Action[]): string[] {
  return actions.flatMap(forwardTargetGroupArns);
}

/** The load balancers whose listeners or rules forward to the target group. */
export function loadBalancersOfTargetGroup(state: SandboxState, tgArn: string): string[] {
  const found = new Set<string>();
  for (const listener of state.listeners.values()) {
    if (targetGroupArnsOf(actionsOfListener(state, listener)).includes(tgArn)) {
      found.add(listener.loadBalancerArn);
    }
  }
  return [...found];
}

/**
 * Checks the target groups a listener's or rule's actions name: each must exist, be in the load
 * balancer's VPC and not already be attached to another load balancer.
 */
export function checkActionReferences(
  state: SandboxState,
  lb: LoadBalancer,
  actions: readonly Action[],
): void {
  for (const arn of targetGroupArnsOf(actions)) {
    const tg = state.targetGroups.get(arn);
    if (!tg) throw targetGroupNotFound(arn);
    if (tg.vpcId !== lb.vpcId) {
      throw new AwsError(
        "InvalidConfigurationRequest",
        `Target group '${arn}' is in VPC '${tg.vpcId}', not in the load balancer's VPC '${lb.vpcId}'`,
      );
    }
    if (loadBalancersOfTargetGroup(state, arn).some((other) => other !== lb.arn)) {
      throw new AwsError(
        "TargetGroupAssociationLimit",
        `The following target groups cannot be associated with more than one load balancer: ${arn}`,
      );
    }
  }
}

// ---------- target usage ----------

const NOT_IN_USE = {
  reason: "Target.NotInUse",
  description: "Target group is not configured to receive traffic from the load balancer",
};
const REGISTRATION = {
  reason: "Elb.RegistrationInProgress",
  description: "Target registration is in progress",
};

/**
 * Brings the targets of the given target groups in line with whether a listener references
 * them: `unused` → `initial` when referenced, anything but `draining` → `unused` when not.
 */
export function syncTargetGroupUsage(ctx: SandboxContext, tgArns: Iterable<string>): void {
  for (const arn of new Set(tgArns)) {
    const tg = ctx.state.targetGroups.get(arn);
    if (!tg) continue;
    const inUse = isTargetGroupInUse(ctx.state, arn);
    for (const target of tg.targets.values()) {
      if (inUse && target.state === "unused") {
        setTargetState(target, "initial", REGISTRATION);
      } else if (!inUse && target.state !== "unused" && target.state !== "draining") {
        setTargetState(target, "unused", NOT_IN_USE);
      }
    }
  }
}

function setTargetState(
  target: Target,
  state: Target["state"],
  why: { reason: string; description: string },
): void {
  target.state = state;
  target.reason = why.reason;
  target.description = why.description;
  target.okStreak = 0;
  target.failStreak = 0;
}

// ---------- tags ----------

export function dropTags(state: SandboxState, arn: string): void {
  state.elbTags.delete(arn);
}

export function setTags(
  state: SandboxState,
  arn: string,
  tags: ReadonlyArray<{ Key: string; Value: string }>,
): void {
  if (tags.length === 0) return;
  const map = state.elbTags.get(arn) ?? new Map<string, string>();
  for (const t of tags) map.set(t.Key, t.Value);
  state.elbTags.set(arn, map);
}

// ---------- output shapes ----------

const HOSTED_ZONES: Record<string, string> = {
  "us-east-1": "Z35SXDOTRQ7X7K",
  "us-east-2": "Z3AADJGX6KTTL2",
  "us-west-1": "Z368ELLRRE2KJ0",
  "us-west-2": "Z1H1FL5HABSF5",
  "eu-west-1": "Z32O12XQLNTSW2",
  "eu-central-1": "Z215JYRZR1TBD5",
};

export function loadBalancerShape(state: SandboxState, lb: LoadBalancer) {
  return {
    LoadBalancerArn: lb.arn,
    DNSName: lb.dnsName,
    CanonicalHostedZoneId: HOSTED_ZONES[state.region] ?? "Z35SXDOTRQ7X7K",
    CreatedTime: lb.createdAt,
    LoadBalancerName: lb.name,
    Scheme: lb.scheme,
    VpcId: lb.vpcId,
    State: { Code: "active" },
    Type: "application",
    AvailabilityZones: lb.subnets.map((subnetId) => ({
      ZoneName: state.subnets.get(subnetId)?.availabilityZone,
      SubnetId: subnetId,
    })),
    SecurityGroups: lb.securityGroups,
    IpAddressType: "ipv4",
  };
}

export function listenerShape(listener: Listener) {
  return {
    ListenerArn: listener.arn,
    LoadBalancerArn: listener.loadBalancerArn,
    Port: listener.port,
    Protocol: listener.protocol,
    DefaultActions: listener.defaultActions,
  };
}

export function ruleShape(rule: Rule) {
  return {
    RuleArn: rule.arn,
    Priority: rule.priority,
    Conditions: rule.conditions,
    Actions: rule.actions,
    IsDefault: false,
  };
}

export function defaultRuleShape(listener: Listener) {
  return {
    RuleArn: defaultRuleArn(listener.arn),
    Priority: "default",
    Conditions: [],
    Actions: listener.defaultActions,
    IsDefault: true,
  };
}

export function targetGroupShape(state: SandboxState, tg: TargetGroup) {
  const hc = tg.healthCheck;
  return {
    TargetGroupArn: tg.arn,
    TargetGroupName: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    VpcId: tg.vpcId,
    HealthCheckProtocol: hc.protocol,
    HealthCheckPort: hc.port,
    HealthCheckEnabled: hc.enabled,
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
    HealthCheckPath: hc.path,
    Matcher: { HttpCode: hc.matcher },
    LoadBalancerArns: loadBalancersOfTargetGroup(state, tg.arn),
    TargetType: tg.targetType,
    ProtocolVersion: "HTTP1",
    IpAddressType: "ipv4",
  };
}
