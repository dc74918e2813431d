/**
 * ELBv2 input rules that need no state: names, health-check ranges, target group attributes,
 * the shape of actions and conditions, rule priorities, tags and paging. Each function either
 * returns the normalized value or throws the AwsError AWS answers with.
 */
import { AwsError, validationError } from "../../protocol/errors.js";
import { bool, int, list, str } from "../../protocol/query.js";
import type { Action, Condition, HealthCheck, TargetGroupTuple } from "../../state.js";

export const MAX_TARGET_GROUPS_PER_ACTION = 5;
export const MAX_WEIGHT = 999;
export const MAX_STICKINESS_SECONDS = 604_800;
export const MAX_TAGS = 50;
export const MAX_TAG_RESOURCES = 20;
export const MAX_CONDITION_VALUES = 5;
export const MAX_PAGE_SIZE = 400;

export type Struct = Record<string, unknown>;

/** A structure parameter as a plain record (absent or malformed → `{}`). */
export function rec(value: unknown): Struct {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Struct)
    : {};
}

/** AWS's wording for a violated model constraint, naming the field. */
export function constraintError(field: string, value: unknown, constraint: string): AwsError {
  const shown = value === undefined ? "null" : `'${String(value)}'`;
  return validationError(
    `1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

export function requireValue<T>(value: T | undefined, field: string): T {
  if (value === undefined || value === "") {
    throw constraintError(field, undefined, "Member must not be null");
  }
  return value;
}

/** An integer parameter within [min, max]; `undefined` when absent. */
export function intInRange(
  raw: unknown,
  field: string,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = int(raw);
  if (n === undefined || !Number.isInteger(n)) {
    throw constraintError(field, raw, "Member must be an integer");
  }
  if (n < min) {
    throw constraintError(field, n, `Member must have value greater than or equal to ${min}`);
  }
  if (n > max) {
    throw constraintError(field, n, `Member must have value less than or equal to ${max}`);
  }
  return n;
}

// ---------- names ----------

const NAME_CHARS = /^[A-Za-z0-9-]+$/;

export function validateLoadBalancerName(name: string | undefined): string {
  const value = requireValue(name, "name");
  if (value.length > 32) {
    throw validationError(
      `The load balancer name '${value}' cannot be longer than '32' characters`,
    );
  }
  if (!NAME_CHARS.test(value)) {
    throw validationError(
      `The load balancer name '${value}' can only contain characters that are alphanumeric characters or hyphens(-)`,
    );
  }
  if (value.startsWith("-") || value.endsWith("-")) {
    throw validationError(`The load balancer name '${value}' cannot begin or end with a hyphen(-)`);
  }
  if (value.toLowerCase().startsWith("internal-")) {
    throw validationError(`The load balancer name '${value}' cannot begin with 'internal-'`);
  }
  return value;
}

export function validateTargetGroupName(name: string | undefined): string {
  const value = requireValue(name, "name");
  if (value.length > 32) {
    throw validationError(`Target group name '${value}' cannot be longer than '32' characters`);
  }
  if (!NAME_CHARS.test(value)) {
    throw validationError(
      `Target group name '${value}' can only contain characters that are alphanumeric characters or hyphens(-)`,
    );
  }
  if (value.startsWith("-") || value.endsWith("-")) {
    throw validationError(`Target group name '${value}' cannot begin or end with '-'`);
  }
  return value;
}

// ---------- health checks ----------

export const DEFAULT_HEALTH_CHECK: Readonly<HealthCheck> = {
  protocol: "HTTP",
  port: "traffic-port",
  path: "/",
  intervalSeconds: 30,
  timeoutSeconds: 5,
  healthyThreshold: 5,
  unhealthyThreshold: 2,
  matcher: "200",
  enabled: true,
};

const HTTP_CODES = /^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/;

/**
 * Applies the HealthCheck* parameters of CreateTargetGroup / ModifyTargetGroup to `base`,
 * checking each against AWS's range and the timeout-below-interval rule on the result.
 */
export function parseHealthCheck(params: Struct, base: Readonly<HealthCheck>): HealthCheck {
  const hc: HealthCheck = { ...base };
  const protocol = str(params.HealthCheckProtocol);
  if (protocol !== undefined) {
    if (protocol !== "HTTP" && protocol !== "HTTPS") {
      throw validationError(
        `Health check protocol '${protocol}' is not supported for target groups with the HTTP protocol`,
      );
    }
    hc.protocol = protocol;
  }
  const port = str(params.HealthCheckPort);
  if (port !== undefined) {
    if (port !== "traffic-port") intInRange(port, "healthCheckPort", 1, 65535);
    hc.port = port;
  }
  const path = str(params.HealthCheckPath);
  if (path !== undefined) {
    if (!path.startsWith("/") || path.length > 1024) {
      throw validationError(
        `Health check path '${path}' must begin with '/' and be at most 1024 characters long`,
      );
    }
    hc.path = path;
  }
  hc.intervalSeconds =
    intInRange(params.HealthCheckIntervalSeconds, "healthCheckIntervalSeconds", 5, 300) ??
    hc.intervalSeconds;
  hc.timeoutSeconds =
    intInRange(params.HealthCheckTimeoutSeconds, "healthCheckTimeoutSeconds", 2, 120) ??
    hc.timeoutSeconds;
  hc.healthyThreshold =
    intInRange(params.HealthyThresholdCount, "healthyThresholdCount", 2, 10) ?? hc.healthyThreshold;
  hc.unhealthyThreshold =
    intInRange(params.UnhealthyThresholdCount, "unhealthyThresholdCount", 2, 10) ??
    hc.unhealthyThreshold;
  const enabled = bool(params.HealthCheckEnabled);
  if (enabled === false) {
    throw validationError(
      "Health checks cannot be disabled for target groups with target type 'instance'",
    );
  }
  const matcher = rec(params.Matcher);
  if (matcher.GrpcCode !== undefined) {
    throw validationError("A gRPC matcher can only be used with the GRPC protocol version");
  }
  const httpCode = str(matcher.HttpCode);
  if (httpCode !== undefined) hc.matcher = validateMatcher(httpCode);
  if (hc.timeoutSeconds >= hc.intervalSeconds) {
    throw validationError("Health check interval must be greater than the timeout.");
  }
  return hc;
}

function validateMatcher(httpCode: string): string {
  const codes = httpCode.replace(/\s+/g, "");
  const bad = () =>
    validationError(
      `Health check matcher HTTP code '${httpCode}' must be a code, a comma-separated list of codes or a range of codes within 200-499`,
    );
  if (!HTTP_CODES.test(codes)) throw bad();
  for (const part of codes.split(",")) {
    const [low, high = low] = part.split("-").map(Number);
    if (low === undefined || high === undefined) throw bad();
    if (low < 200 || high > 499 || low > high) throw bad();
  }
  return codes;
}

/** Whether an HTTP status code satisfies a matcher like `200`, `200,302` or `200-299`. */
export function matchesHttpCode(matcher: string, status: number): boolean {
  return matcher.split(",").some((part) => {
    const [low, high = low] = part.split("-").map(Number);
    return low !== undefined && high !== undefined && status >= low && status <= high;
  });
}

// ---------- target group attributes ----------

export const DEFAULT_TARGET_GROUP_ATTRIBUTES: Readonly<Record<string, string>> = {
  "deregistration_delay.timeout_seconds": "300",
  "stickiness.enabled": "false",
  "stickiness.type": "lb_cookie",
  "stickiness.lb_cookie.duration_seconds": "86400",
  "load_balancing.algorithm.type": "round_robin",
};

type AttributeRule = (key: string, value: string) => void;

const integerAttribute =
  (min: number, max: number): AttributeRule =>
  (key, value) => {
    const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= min && n <= max)) {
      throw validationError(
        `The value of target group attribute '${key}' must be an integer between ${min} and ${max}; got '${value}'`,
      );
    }
  };

const oneOfAttribute =
  (...allowed: string[]): AttributeRule =>
  (key, value) => {
    if (!allowed.includes(value)) {
      throw validationError(
        `The value of target group attribute '${key}' must be one of ${allowed.map((a) => `'${a}'`).join(", ")}; got '${value}'`,
      );
    }
  };

const ATTRIBUTE_RULES: Record<string, AttributeRule> = {
  "deregistration_delay.timeout_seconds": integerAttribute(0, 3600),
  "stickiness.enabled": oneOfAttribute("true", "false"),
  "stickiness.type": oneOfAttribute("lb_cookie"),
  "stickiness.lb_cookie.duration_seconds": integerAttribute(1, MAX_STICKINESS_SECONDS),
  "load_balancing.algorithm.type": oneOfAttribute(
    "round_robin",
    "least_outstanding_requests",
    "weighted_random",
  ),
};

/** Applies ModifyTargetGroupAttributes' `Attributes` to `current`; unknown keys are an error. */
export function applyTargetGroupAttributes(
  current: Readonly<Record<string, string>>,
  raw: unknown,
): Record<string, string> {
  const items = list(raw).map(rec);
  if (items.length === 0) throw constraintError("attributes", undefined, "Member must not be null");
  const next = { ...current };
  for (const item of items) {
    const key = str(item.Key);
    const value = str(item.Value) ?? "";
    if (key === undefined)
      throw constraintError("attributes.member.key", undefined, "Member must not be null");
    const rule = ATTRIBUTE_RULES[key];
    if (!rule) throw validationError(`Target group attribute key '${key}' is not recognized`);
    rule(key, value);
    next[key] = value;
  }
  return next;
}

// ---------- actions ----------

const ACTION_TYPES = [
  "forward",
  "authenticate-oidc",
  "authenticate-cognito",
  "redirect",
  "fixed-response",
] as const;
const FIXED_RESPONSE_CONTENT_TYPES = [
  "text/plain",
  "text/css",
  "text/html",
  "application/javascript",
  "application/json",
];

/**
 * Parses and checks the `DefaultActions` / `Actions` of a listener or rule: one terminal action
 * (forward, fixed-response or redirect); forward actions normalized to a ForwardConfig with
 * explicit weights and stickiness, with `TargetGroupArn` kept when exactly one group is named.
 * Whether the target groups exist is the caller's question.
 */
export function parseActions(raw: unknown, field: "defaultActions" | "actions"): Action[] {
  const items = list(raw).map(rec);
  if (items.length === 0) throw constraintError(field, undefined, "Member must not be null");
  if (items.length > 1) {
    throw new AwsError(
      "InvalidLoadBalancerAction",
      "A rule can have only one action of type 'forward', 'redirect' or 'fixed-response'",
    );
  }
  return items.map((item, i) => parseAction(item, `${field}.${i + 1}.member`));
}

function parseAction(item: Struct, at: string): Action {
  const type = str(item.Type);
  if (type === undefined) throw constraintError(`${at}.type`, undefined, "Member must not be null");
  if (!(ACTION_TYPES as readonly string[]).includes(type)) {
    throw constraintError(
      `${at}.type`,
      type,
      `Member must satisfy enum value set: [${ACTION_TYPES.join(", ")}]`,
    );
  }
  const order = intInRange(item.Order, `${at}.order`, 1, 50_000);
  switch (type) {
    case "forward":
      return withOrder(parseForward(item, at), order);
    case "fixed-response":
      return withOrder(parseFixedResponse(item), order);
    case "redirect":
      return withOrder(parseRedirect(item), order);
    default:
      throw validationError(`The sandbox does not model '${type}' actions`);
  }
}

function withOrder(action: Action, order: number | undefined): Action {
  return order === undefined ? action : { ...action, Order: order };
}

function parseForward(item: Struct, at: string): Action {
  const targetGroupArn = str(item.TargetGroupArn) || undefined;
  const forwardConfig = item.ForwardConfig === undefined ? undefined : rec(item.ForwardConfig);
  let tuples: TargetGroupTuple[];
  if (forwardConfig) {
    const raw = list(forwardConfig.TargetGroups).map(rec);
    if (raw.length > MAX_TARGET_GROUPS_PER_ACTION) {
      throw new AwsError(
        "TooManyTargetGroups",
        `You cannot specify more than '${MAX_TARGET_GROUPS_PER_ACTION}' target groups in a forward action; got ${raw.length}`,
      );
    }
    tuples = raw.map((t, j) => {
      const arn = str(t.TargetGroupArn);
      if (!arn) {
        throw constraintError(
          `${at}.forwardConfig.targetGroups.${j + 1}.member.targetGroupArn`,
          undefined,
          "Member must not be null",
        );
      }
      const weight = t.Weight === undefined ? 1 : int(t.Weight);
      if (weight === undefined || !Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT) {
        throw validationError(
          `The weight for each target group must be between 0 and ${MAX_WEIGHT}, inclusive`,
        );
      }
      return { TargetGroupArn: arn, Weight: weight };
    });
    if (tuples.length === 0 && targetGroupArn) {
      tuples = [{ TargetGroupArn: targetGroupArn, Weight: 1 }];
    }
  } else {
    tuples = targetGroupArn ? [{ TargetGroupArn: targetGroupArn, Weight: 1 }] : [];
  }
  if (tuples.length === 0) {
    throw validationError("A target group ARN must be specified for a forward action");
  }
  const seen = new Set<string>();
  for (const t of tuples) {
    if (seen.has(t.TargetGroupArn)) {
      throw validationError(
        `Target group '${t.TargetGroupArn}' is specified more than once in the forward action`,
      );
    }
    seen.add(t.TargetGroupArn);
  }
  if (targetGroupArn && (tuples.length !== 1 || tuples[0]?.TargetGroupArn !== targetGroupArn)) {
    throw validationError(
      "If you specify both TargetGroupArn and ForwardConfig, ForwardConfig must contain exactly that one target group",
    );
  }
  const stickinessRaw = rec(forwardConfig?.TargetGroupStickinessConfig);
  const enabled = bool(stickinessRaw.Enabled) ?? false;
  const duration = stickinessRaw.DurationSeconds;
  let durationSeconds: number | undefined;
  if (duration !== undefined || enabled) {
    const n = int(duration);
    if (n === undefined || !Number.isInteger(n) || n < 1 || n > MAX_STICKINESS_SECONDS) {
      throw validationError(
        `Target group stickiness duration must be between 1 and ${MAX_STICKINESS_SECONDS} seconds`,
      );
    }
    durationSeconds = n;
  }
  return {
    Type: "forward",
    ...(tuples.length === 1 ? { TargetGroupArn: tuples[0]!.TargetGroupArn } : {}),
    ForwardConfig: {
      TargetGroups: tuples,
      TargetGroupStickinessConfig: enabled
        ? { Enabled: true, DurationSeconds: durationSeconds }
        : { Enabled: false },
    },
  };
}

function parseFixedResponse(item: Struct): Action {
  if (item.FixedResponseConfig === undefined) {
    throw validationError("A fixed-response action requires a FixedResponseConfig");
  }
  const config = rec(item.FixedResponseConfig);
  const statusCode = str(config.StatusCode);
  if (!statusCode || !/^(2|4|5)\d\d$/.test(statusCode)) {
    throw constraintError(
      "fixedResponseConfig.statusCode",
      statusCode,
      "Member must satisfy regular expression pattern: ^(2|4|5)\\d\\d$",
    );
  }
  const contentType = str(config.ContentType);
  if (contentType !== undefined && !FIXED_RESPONSE_CONTENT_TYPES.includes(contentType)) {
    throw validationError(
      `Fixed response content type '${contentType}' must be one of ${FIXED_RESPONSE_CONTENT_TYPES.join(", ")}`,
    );
  }
  const messageBody = str(config.MessageBody);
  if (messageBody !== undefined && messageBody.length > 1024) {
    throw constraintError(
      "fixedResponseConfig.messageBody",
      `${messageBody.slice(0, 16)}…`,
      "Member must have length less than or equal to 1024",
    );
  }
  return {
    Type: "fixed-response",
    FixedResponseConfig: {
      StatusCode: statusCode,
      ...(contentType !== undefined ? { ContentType: contentType } : {}),
      ...(messageBody !== undefined ? { MessageBody: messageBody } : {}),
    },
  };
}

function parseRedirect(item: Struct): Action {
  if (item.RedirectConfig === undefined) {
    throw validationError("A redirect action requires a RedirectConfig");
  }
  const config = rec(item.RedirectConfig);
  const statusCode = str(config.StatusCode);
  if (statusCode !== "HTTP_301" && statusCode !== "HTTP_302") {
    throw constraintError(
      "redirectConfig.statusCode",
      statusCode,
      "Member must satisfy enum value set: [HTTP_301, HTTP_302]",
    );
  }
  const redirect: Record<string, string> = {
    Protocol: str(config.Protocol) ?? "#{protocol}",
    Port: str(config.Port) ?? "#{port}",
    Host: str(config.Host) ?? "#{host}",
    Path: str(config.Path) ?? "/#{path}",
    Query: str(config.Query) ?? "#{query}",
    StatusCode: statusCode,
  };
  if (!["HTTP", "HTTPS", "#{protocol}"].includes(redirect.Protocol!)) {
    throw validationError(
      `Redirect protocol '${redirect.Protocol}' must be one of HTTP, HTTPS or #{protocol}`,
    );
  }
  if (!redirect.Path!.startsWith("/")) {
    throw validationError(`Redirect path '${redirect.Path}' must start with '/'`);
  }
  if (
    redirect.Protocol === "#{protocol}" &&
    redirect.Port === "#{port}" &&
    redirect.Host === "#{host}" &&
    redirect.Path === "/#{path}" &&
    redirect.Query === "#{query}"
  ) {
    throw new AwsError(
      "InvalidLoadBalancerAction",
      "The redirect configuration is not valid because it creates a loop",
    );
  }
  return { Type: "redirect", RedirectConfig: redirect };
}

// ---------- rules ----------

export function validatePriority(raw: unknown): number {
  if (raw === undefined) throw constraintError("priority", undefined, "Member must not be null");
  return intInRange(raw, "priority", 1, 50_000)!;
}

const CONDITION_FIELDS = [
  "http-header",
  "http-request-method",
  "host-header",
  "path-pattern",
  "query-string",
  "source-ip",
];
const PATH_PATTERN = /^[A-Za-z0-9_\-.$/~"'@:+&*?]+$/;
const HOST_PATTERN = /^[A-Za-z0-9\-.*?]+$/;

/** Parses rule conditions; the sandbox routes on `path-pattern` and `host-header`. */
export function parseConditions(raw: unknown): Condition[] {
  const items = list(raw).map(rec);
  if (items.length === 0) {
    throw validationError("A rule must have at least one condition");
  }
  const fields = new Set<string>();
  let valueCount = 0;
  const conditions = items.map((item, i): Condition => {
    const at = `conditions.${i + 1}.member`;
    const field = str(item.Field);
    if (field === undefined)
      throw constraintError(`${at}.field`, undefined, "Member must not be null");
    if (!CONDITION_FIELDS.includes(field)) {
      throw validationError(
        `Condition field '${field}' must be one of '[${CONDITION_FIELDS.join(", ")}]'`,
      );
    }
    if (field !== "path-pattern" && field !== "host-header") {
      throw validationError(
        `The sandbox does not model '${field}' conditions (it supports path-pattern and host-header)`,
      );
    }
    if (fields.has(field)) {
      throw validationError(`A rule can only have one '${field}' condition`);
    }
    fields.add(field);
    const configKey = field === "path-pattern" ? "PathPatternConfig" : "HostHeaderConfig";
    const plain = list<string>(item.Values);
    const configured = list<string>(rec(item[configKey]).Values);
    if (plain.length > 0 && configured.length > 0) {
      throw validationError(`You cannot specify both 'Values' and '${configKey}' in a condition`);
    }
    const values = plain.length > 0 ? plain : configured;
    if (values.length === 0) {
      throw validationError(`A '${field}' condition must have at least one value`);
    }
    const pattern = field === "path-pattern" ? PATH_PATTERN : HOST_PATTERN;
    for (const value of values) {
      if (typeof value !== "string" || value.length > 128 || !pattern.test(value)) {
        throw validationError(
          `Condition value '${String(value)}' is not valid for '${field}': at most 128 characters of ${field === "path-pattern" ? "A-Z, a-z, 0-9, _ - . $ / ~ \" ' @ : + & * ?" : "A-Z, a-z, 0-9, - . * ?"}`,
        );
      }
    }
    valueCount += values.length;
    return field === "path-pattern"
      ? { Field: field, Values: values, PathPatternConfig: { Values: values } }
      : { Field: field, Values: values, HostHeaderConfig: { Values: values } };
  });
  if (valueCount > MAX_CONDITION_VALUES) {
    throw validationError(`A rule can only have '${MAX_CONDITION_VALUES}' condition values`);
  }
  return conditions;
}

// ---------- tags ----------

export interface Tag {
  Key: string;
  Value: string;
}

export function parseTags(raw: unknown): Tag[] {
  const seen = new Set<string>();
  return list(raw)
    .map(rec)
    .map((item, i) => {
      const key = str(item.Key);
      if (key === undefined || key.length === 0 || key.length > 128) {
        throw constraintError(
          `tags.${i + 1}.member.key`,
          key,
          "Member must have length between 1 and 128",
        );
      }
      if (key.toLowerCase().startsWith("aws:")) {
        throw validationError(`Tag key '${key}' is not valid: the 'aws:' prefix is reserved`);
      }
      const value = str(item.Value) ?? "";
      if (value.length > 256) {
        throw constraintError(
          `tags.${i + 1}.member.value`,
          value,
          "Member must have length less than or equal to 256",
        );
      }
      if (seen.has(key)) {
        throw new AwsError("DuplicateTagKeys", `Tag key '${key}' was specified more than once`);
      }
      seen.add(key);
      return { Key: key, Value: value };
    });
}

/** The `ResourceArns` of AddTags / DescribeTags / RemoveTags: 1 to 20 of them. */
export function parseResourceArns(raw: unknown): string[] {
  const arns = list<string>(raw).filter((a) => typeof a === "string");
  if (arns.length === 0)
    throw constraintError("resourceArns", undefined, "Member must not be null");
  if (arns.length > MAX_TAG_RESOURCES) {
    throw constraintError(
      "resourceArns",
      `[${arns.length} ARNs]`,
      `Member must have length less than or equal to ${MAX_TAG_RESOURCES}`,
    );
  }
  return arns;
}

// ---------- paging ----------

/** One page of `items` from `Marker` / `PageSize`, and the marker of the next page if any. */
export function paginate<T>(
  items: readonly T[],
  markerRaw: unknown,
  pageSizeRaw: unknown,
): { page: T[]; nextMarker?: string } {
  const pageSize = intInRange(pageSizeRaw, "pageSize", 1, MAX_PAGE_SIZE) ?? MAX_PAGE_SIZE;
  const marker = str(markerRaw);
  let start = 0;
  if (marker) {
    const decoded = /^sandbox-page:(\d+)$/.exec(Buffer.from(marker, "base64").toString("utf8"));
    if (!decoded) throw validationError(`The marker '${marker}' is not valid`);
    start = Number(decoded[1]);
  }
  const page = items.slice(start, start + pageSize);
  const next = start + pageSize;
  return next < items.length
    ? { page, nextMarker: Buffer.from(`sandbox-page:${next}`).toString("base64") }
    : { page };
}
