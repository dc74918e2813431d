/**
 * The decisions a listener proxy makes for each request, as pure functions: which rule matches,
 * which action applies, which target group a forward action picks by weight, and the
 * target-group stickiness cookie.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Action, Condition } from "../state.js";

/** A rule as the proxy holds it: a copy taken when the listener's configuration was applied. */
export interface RuleSnapshot {
  priority: number;
  conditions: Condition[];
  actions: Action[];
}

/** What rule conditions look at. `host` is the Host header without its port. */
export interface RequestFacts {
  path: string;
  host: string;
  method: string;
}

const globCache = new Map<string, RegExp>();

/** A rule pattern as a RegExp: `*` matches any characters, `?` exactly one. */
export function globToRegExp(pattern: string, ignoreCase: boolean): RegExp {
  const cacheKey = `${ignoreCase ? "i" : "s"}${pattern}`;
  let re = globCache.get(cacheKey);
  if (!re) {
    const body = pattern
      .split("")
      .map((ch) =>
        ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.+^${}()|[\]\\/-]/g, "\\$&"),
      )
      .join("");
    re = new RegExp(`^${body}$`, ignoreCase ? "is" : "s");
    if (globCache.size > 1000) globCache.clear();
    globCache.set(cacheKey, re);
  }
  return re;
}

/** Whether one rule condition holds. Path patterns are case-sensitive, host names are not. */
export function conditionMatches(condition: Condition, req: RequestFacts): boolean {
  const field =
    condition.Field ??
    (condition.PathPatternConfig
      ? "path-pattern"
      : condition.HostHeaderConfig
        ? "host-header"
        : undefined);
  switch (field) {
    case "path-pattern": {
      const values = condition.PathPatternConfig?.Values ?? condition.Values ?? [];
      return values.some((v) => globToRegExp(v, false).test(req.path));
    }
    case "host-header": {
      const values = condition.HostHeaderConfig?.Values ?? condition.Values ?? [];
      return values.some((v) => globToRegExp(v, true).test(req.host));
    }
    case "http-request-method": {
      const values = condition.Values ?? [];
      return values.some((v) => v.toUpperCase() === req.method.toUpperCase());
    }
    default:
      return false;
  }
}

/** A rule matches when it has conditions and every one of them holds. */
export function ruleMatches(rule: RuleSnapshot, req: RequestFacts): boolean {
  return rule.conditions.length > 0 && rule.conditions.every((c) => conditionMatches(c, req));
}

/** The actions for a request: those of the first matching rule by priority, else the defaults. */
export function actionsFor(
  rules: readonly RuleSnapshot[],
  defaultActions: readonly Action[],
  req: RequestFacts,
): readonly Action[] {
  for (const rule of rules) {
    if (ruleMatches(rule, req)) return rule.actions;
  }
  return defaultActions;
}

/** The action that answers the request: the first forward, fixed-response or redirect by Order. */
export function terminalAction(actions: readonly Action[]): Action | undefined {
  let best: Action | undefined;
  for (const action of actions) {
    if (
      action.Type !== "forward" &&
      action.Type !== "fixed-response" &&
      action.Type !== "redirect"
    ) {
      continue;
    }
    if (
      !best ||
      (action.Order ?? Number.MAX_SAFE_INTEGER) < (best.Order ?? Number.MAX_SAFE_INTEGER)
    ) {
      best = action;
    }
  }
  return best;
}

export interface WeightedTargetGroup {
  arn: string;
  weight: number;
}

/** A forward action's target groups with their weights (a lone TargetGroupArn weighs 1). */
export function forwardTuples(action: Action): WeightedTargetGroup[] {
  if (action.ForwardConfig && action.ForwardConfig.TargetGroups.length > 0) {
    return action.ForwardConfig.TargetGroups.map((t) => ({
      arn: t.TargetGroupArn,
      weight: t.Weight ?? 1,
    }));
  }
  return action.TargetGroupArn ? [{ arn: action.TargetGroupArn, weight: 1 }] : [];
}

/**
 * Index chosen at random in proportion to the weights; a zero weight is never chosen.
 * Returns -1 when every weight is zero.
 */
export function pickWeighted(
  groups: readonly WeightedTargetGroup[],
  random: () => number = Math.random,
): number {
  let total = 0;
  for (const g of groups) total += Math.max(g.weight, 0);
  if (total <= 0) return -1;
  let r = random() * total;
  for (let i = 0; i < groups.length; i++) {
    const w = groups[i]!.weight;
    if (w <= 0) continue;
    if (r < w) return i;
    r -= w;
  }
  for (let i = groups.length - 1; i >= 0; i--) if (groups[i]!.weight > 0) return i;
  return -1;
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export const STICKY_COOKIE = "AWSALBTG";
export const STICKY_CORS_COOKIE = "AWSALBTGCORS";

/**
 * The target-group stickiness cookie: names a target group and an expiry, signed with a key
 * that lives as long as the sandbox, so clients cannot forge or extend it.
 */
export class StickyCookies {
  private readonly key: Buffer;

  constructor(key: Buffer = randomBytes(32)) {
    this.key = key;
  }

  encode(targetGroupArn: string, expiresAt: number): string {
    const payload = Buffer.from(`${expiresAt.toString(36)}|${targetGroupArn}`).toString(
      "base64url",
    );
    return `${payload}.${this.mac(payload)}`;
  }

  /** The target group a cookie names, if it is genuine and not expired. */
  decode(value: string | undefined, now: number): string | undefined {
    if (!value) return undefined;
    const dot = value.lastIndexOf(".");
    if (dot <= 0) return undefined;
    const payload = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(this.mac(payload));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const text = Buffer.from(payload, "base64url").toString("utf8");
    const bar = text.indexOf("|");
    if (bar <= 0) return undefined;
    const expiresAt = Number.parseInt(text.slice(0, bar), 36);
    if (!(expiresAt > now)) return undefined;
    return text.slice(bar + 1);
  }

  /** Both Set-Cookie values ALB sends: `AWSALBTG` and the cross-origin `AWSALBTGCORS`. */
  setCookieHeaders(targetGroupArn: string, expiresAt: number): string[] {
    const value = this.encode(targetGroupArn, expiresAt);
    const expires = new Date(expiresAt).toUTCString();
    return [
      `${STICKY_COOKIE}=${value}; Expires=${expires}; Path=/`,
      `${STICKY_CORS_COOKIE}=${value}; Expires=${expires}; Path=/; SameSite=None; Secure`,
    ];
  }

  private mac(payload: string): string {
    return createHmac("sha256", this.key)
      .update(payload)
      .digest()
      .subarray(0, 16)
      .toString("base64url");
  }
}

/**
 * The Location of a redirect action, with ALB's `#{protocol}`, `#{host}`, `#{port}`, `#{path}`
 * and `#{query}` placeholders filled from the request.
 */
export function redirectLocation(
  config: Record<string, string>,
  req: { path: string; query: string; host: string; port: string },
): string {
  const fill = (template: string) =>
    template
      .replaceAll("#{protocol}", "http")
      .replaceAll("#{host}", req.host)
      .replaceAll("#{port}", req.port)
      .replaceAll("#{path}", req.path.replace(/^\//, ""))
      .replaceAll("#{query}", req.query);
  const protocol = fill(config.Protocol ?? "#{protocol}").toLowerCase();
  const host = fill(config.Host ?? "#{host}");
  const port = fill(config.Port ?? "#{port}");
  let path = fill(config.Path ?? "/#{path}");
  if (!path.startsWith("/")) path = `/${path}`;
  const query = fill(config.Query ?? "#{query}");
  return `${protocol}://${host}${port ? `:${port}` : ""}${path}${query ? `?${query}` : ""}`;
}
