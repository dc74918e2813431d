/**
 * Listeners and their rules. Every change to a listener's default actions or rules is handed to
 * the runtime (`listenerChanged`), which applies it to the listener's proxy after the
 * propagation delay, and re-evaluates which target groups are in use.
 */
import { isDeepStrictEqual } from "node:util";
import type { QueryHandlers, SandboxContext } from "../../context.js";
import { AwsError, validationError } from "../../protocol/errors.js";
import { list, str } from "../../protocol/query.js";
import { hex, type Listener, type Rule } from "../../state.js";
import { tooManyTags } from "./loadBalancers.js";
import {
  actionsOfListener,
  checkActionReferences,
  defaultRuleShape,
  dropTags,
  getListener,
  getLoadBalancer,
  getRule,
  listenerArnFor,
  listenerShape,
  listenersOf,
  ruleArnFor,
  ruleShape,
  rulesOf,
  setTags,
  syncTargetGroupUsage,
  targetGroupArnsOf,
} from "./model.js";
import {
  intInRange,
  MAX_TAGS,
  paginate,
  parseActions,
  parseConditions,
  parseTags,
  rec,
  requireValue,
  validatePriority,
} from "./validate.js";

const MAX_LISTENERS_PER_LOAD_BALANCER = 50;
const MAX_RULES_PER_LOAD_BALANCER = 100;

function parseProtocol(raw: unknown): string {
  const protocol = str(raw) ?? "HTTP";
  if (protocol === "HTTPS") {
    throw validationError(
      "The sandbox serves HTTP listeners only; HTTPS listeners (certificates) are not modelled",
    );
  }
  if (protocol !== "HTTP") {
    throw new AwsError(
      "UnsupportedProtocol",
      `Protocol '${protocol}' is not supported for Application Load Balancers`,
    );
  }
  return protocol;
}

function parsePort(raw: unknown): number {
  return requireValue(intInRange(raw, "port", 1, 65535), "port");
}

/** Tells the runtime a listener changed and re-evaluates the target groups it touched. */
function changed(ctx: SandboxContext, listener: Listener, touched: Iterable<string>): void {
  syncTargetGroupUsage(ctx, touched);
  ctx.runtime.listenerChanged(listener);
}

function priorityInUse(priority: number): AwsError {
  return new AwsError("PriorityInUse", `Priority '${priority}' is currently in use`);
}

export const listenerHandlers: QueryHandlers = {
  CreateListener(params, ctx) {
    const { state } = ctx;
    const lb = getLoadBalancer(state, str(params.LoadBalancerArn));
    const protocol = parseProtocol(params.Protocol);
    const port = parsePort(params.Port);
    const defaultActions = parseActions(params.DefaultActions, "defaultActions");
    checkActionReferences(state, lb, defaultActions);
    const tags = parseTags(params.Tags);
    if (tags.length > MAX_TAGS) throw tooManyTags();
    const siblings = listenersOf(state, lb.arn);
    const onPort = siblings.find((l) => l.port === port);
    if (onPort) {
      if (
        onPort.protocol === protocol &&
        isDeepStrictEqual(onPort.defaultActions, defaultActions)
      ) {
        return { Listeners: [listenerShape(onPort)] };
      }
      throw new AwsError(
        "DuplicateListener",
        "A listener already exists on this port for this load balancer",
      );
    }
    if (siblings.length >= MAX_LISTENERS_PER_LOAD_BALANCER) {
      throw new AwsError(
        "TooManyListeners",
        `You've reached the limit of ${MAX_LISTENERS_PER_LOAD_BALANCER} listeners per load balancer`,
      );
    }
    const listener: Listener = {
      arn: listenerArnFor(state, lb.arn, hex(8)),
      loadBalancerArn: lb.arn,
      port,
      protocol,
      defaultActions,
    };
    state.listeners.set(listener.arn, listener);
    setTags(state, listener.arn, tags);
    changed(ctx, listener, targetGroupArnsOf(defaultActions));
    return { Listeners: [listenerShape(listener)] };
  },

  DescribeListeners(params, ctx) {
    const { state } = ctx;
    const lbArn = str(params.LoadBalancerArn);
    const arns = list<string>(params.ListenerArns);
    if (!lbArn && arns.length === 0) {
      throw validationError("You must specify either listener ARNs or a load balancer ARN");
    }
    if (lbArn && arns.length > 0) {
      throw validationError(
        "Listener ARNs and a load balancer ARN cannot be specified at the same time",
      );
    }
    const listeners = lbArn
      ? listenersOf(state, getLoadBalancer(state, lbArn).arn)
      : arns.map((arn) => getListener(state, arn));
    const { page, nextMarker } = paginate(listeners, params.Marker, params.PageSize);
    return { Listeners: page.map(listenerShape), NextMarker: nextMarker };
  },

  ModifyListener(params, ctx) {
    const { state } = ctx;
    const listener = getListener(state, str(params.ListenerArn));
    const lb = getLoadBalancer(state, listener.loadBalancerArn);
    const protocol =
      params.Protocol === undefined ? listener.protocol : parseProtocol(params.Protocol);
    const port = params.Port === undefined ? listener.port : parsePort(params.Port);
    const defaultActions =
      params.DefaultActions === undefined
        ? listener.defaultActions
        : parseActions(params.DefaultActions, "defaultActions");
    checkActionReferences(state, lb, defaultActions);
    if (
      port !== listener.port &&
      listenersOf(state, lb.arn).some((l) => l.arn !== listener.arn && l.port === port)
    ) {
      throw new AwsError(
        "DuplicateListener",
        "A listener already exists on this port for this load balancer",
      );
    }
    const before = targetGroupArnsOf(listener.defaultActions);
    listener.protocol = protocol;
    listener.port = port;
    listener.defaultActions = defaultActions;
    changed(ctx, listener, [...before, ...targetGroupArnsOf(defaultActions)]);
    return { Listeners: [listenerShape(listener)] };
  },

  DeleteListener(params, ctx) {
    const { state } = ctx;
    const listener = getListener(state, str(params.ListenerArn));
    const touched = targetGroupArnsOf(actionsOfListener(state, listener));
    for (const rule of rulesOf(state, listener.arn)) {
      state.rules.delete(rule.arn);
      dropTags(state, rule.arn);
    }
    state.listeners.delete(listener.arn);
    dropTags(state, listener.arn);
    syncTargetGroupUsage(ctx, touched);
    ctx.runtime.listenerDeleted(listener.arn);
    return {};
  },

  CreateRule(params, ctx) {
    const { state } = ctx;
    const listener = getListener(state, str(params.ListenerArn));
    const lb = getLoadBalancer(state, listener.loadBalancerArn);
    const priority = validatePriority(params.Priority);
    const conditions = parseConditions(params.Conditions);
    const actions = parseActions(params.Actions, "actions");
    checkActionReferences(state, lb, actions);
    const tags = parseTags(params.Tags);
    if (tags.length > MAX_TAGS) throw tooManyTags();
    if (rulesOf(state, listener.arn).some((r) => Number(r.priority) === priority)) {
      throw priorityInUse(priority);
    }
    const ruleCount = listenersOf(state, lb.arn).reduce(
      (n, l) => n + rulesOf(state, l.arn).length,
      0,
    );
    if (ruleCount >= MAX_RULES_PER_LOAD_BALANCER) {
      throw new AwsError(
        "TooManyRules",
        `You've reached the limit of ${MAX_RULES_PER_LOAD_BALANCER} rules per load balancer`,
      );
    }
    const rule: Rule = {
      arn: ruleArnFor(listener.arn, hex(8)),
      listenerArn: listener.arn,
      priority: String(priority),
      conditions,
      actions,
    };
    state.rules.set(rule.arn, rule);
    setTags(state, rule.arn, tags);
    changed(ctx, listener, targetGroupArnsOf(actions));
    return { Rules: [ruleShape(rule)] };
  },

  DescribeRules(params, ctx) {
    const { state } = ctx;
    const listenerArn = str(params.ListenerArn);
    const arns = list<string>(params.RuleArns);
    if (!listenerArn && arns.length === 0) {
      throw validationError("You must specify either listener rule ARNs or a listener ARN");
    }
    if (listenerArn && arns.length > 0) {
      throw validationError(
        "Listener rule ARNs and a listener ARN cannot be specified at the same time",
      );
    }
    let rules: Array<ReturnType<typeof ruleShape> | ReturnType<typeof defaultRuleShape>>;
    if (listenerArn) {
      const listener = getListener(state, listenerArn);
      rules = [...rulesOf(state, listener.arn).map(ruleShape), defaultRuleShape(listener)];
    } else {
      rules = arns.map((arn) => {
        const ref = getRule(state, arn);
        return ref.kind === "rule" ? ruleShape(ref.rule) : defaultRuleShape(ref.listener);
      });
    }
    const { page, nextMarker } = paginate(rules, params.Marker, params.PageSize);
    return { Rules: page, NextMarker: nextMarker };
  },

  ModifyRule(params, ctx) {
    const { state } = ctx;
    const ref = getRule(state, str(params.RuleArn));
    if (ref.kind === "default") {
      throw new AwsError(
        "OperationNotPermitted",
        "The default rule of a listener cannot be changed with ModifyRule; change the listener's default actions with ModifyListener",
      );
    }
    const rule = ref.rule;
    if (params.Conditions === undefined && params.Actions === undefined) {
      throw validationError("Either conditions or actions must be specified");
    }
    const listener = getListener(state, rule.listenerArn);
    const lb = getLoadBalancer(state, listener.loadBalancerArn);
    const conditions =
      params.Conditions === undefined ? rule.conditions : parseConditions(params.Conditions);
    const actions =
      params.Actions === undefined ? rule.actions : parseActions(params.Actions, "actions");
    checkActionReferences(state, lb, actions);
    const before = targetGroupArnsOf(rule.actions);
    rule.conditions = conditions;
    rule.actions = actions;
    changed(ctx, listener, [...before, ...targetGroupArnsOf(actions)]);
    return { Rules: [ruleShape(rule)] };
  },

  DeleteRule(params, ctx) {
    const { state } = ctx;
    const ref = getRule(state, str(params.RuleArn));
    if (ref.kind === "default") {
      throw new AwsError(
        "OperationNotPermitted",
        "The default rule of a listener cannot be deleted",
      );
    }
    const rule = ref.rule;
    state.rules.delete(rule.arn);
    dropTags(state, rule.arn);
    const listener = state.listeners.get(rule.listenerArn);
    if (listener) changed(ctx, listener, targetGroupArnsOf(rule.actions));
    return {};
  },

  SetRulePriorities(params, ctx) {
    const { state } = ctx;
    const changes = list(params.RulePriorities).map((item, i) => {
      const r = rec(item);
      const ref = getRule(state, str(r.RuleArn));
      if (ref.kind === "default") {
        throw new AwsError(
          "OperationNotPermitted",
          "The priority of a listener's default rule cannot be changed",
        );
      }
      return {
        rule: ref.rule,
        priority: requireValue(
          intInRange(r.Priority, `rulePriorities.${i + 1}.member.priority`, 1, 50_000),
          "priority",
        ),
      };
    });
    const moving = new Set(changes.map((c) => c.rule.arn));
    const taken = new Map<string, Set<number>>();
    for (const rule of state.rules.values()) {
      if (moving.has(rule.arn)) continue;
      const set = taken.get(rule.listenerArn) ?? new Set<number>();
      set.add(Number(rule.priority));
      taken.set(rule.listenerArn, set);
    }
    for (const { rule, priority } of changes) {
      const set = taken.get(rule.listenerArn) ?? new Set<number>();
      if (set.has(priority)) throw priorityInUse(priority);
      set.add(priority);
      taken.set(rule.listenerArn, set);
    }
    const listeners = new Set<string>();
    for (const { rule, priority } of changes) {
      rule.priority = String(priority);
      listeners.add(rule.listenerArn);
    }
    for (const arn of listeners) {
      const listener = state.listeners.get(arn);
      if (listener) ctx.runtime.listenerChanged(listener);
    }
    return { Rules: changes.map((c) => ruleShape(c.rule)) };
  },
};
