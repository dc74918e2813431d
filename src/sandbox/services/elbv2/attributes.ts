/**
 * Load balancer and listener attributes, and the load balancer's capacity reservation: stored,
 * validated as ELBv2 validates them and returned with AWS's defaults for an Application Load
 * Balancer. Only `deletion_protection.enabled` changes what the sandbox does (DeleteLoadBalancer
 * refuses); the rest (access logs, timeouts, header handling) are kept for the reader.
 */
import type { QueryHandlers, SandboxContext } from "../../context.js";
import { AwsError, validationError } from "../../protocol/errors.js";
import { list, str } from "../../protocol/query.js";
import type { LoadBalancer } from "../../state.js";
import { getListener, getLoadBalancer } from "./model.js";
import { constraintError, rec } from "./validate.js";

const MAX_ATTRIBUTES_PER_CALL = 20;

export const DEFAULT_LOAD_BALANCER_ATTRIBUTES: Readonly<Record<string, string>> = {
  "access_logs.s3.enabled": "false",
  "access_logs.s3.bucket": "",
  "access_logs.s3.prefix": "",
  "connection_logs.s3.enabled": "false",
  "connection_logs.s3.bucket": "",
  "connection_logs.s3.prefix": "",
  "health_check_logs.s3.enabled": "false",
  "health_check_logs.s3.bucket": "",
  "health_check_logs.s3.prefix": "",
  "client_keep_alive.seconds": "3600",
  "deletion_protection.enabled": "false",
  "idle_timeout.timeout_seconds": "60",
  "load_balancing.cross_zone.enabled": "true",
  "routing.http.desync_mitigation_mode": "defensive",
  "routing.http.drop_invalid_header_fields.enabled": "false",
  "routing.http.preserve_host_header.enabled": "false",
  "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
  "routing.http.xff_client_port.enabled": "false",
  "routing.http.xff_header_processing.mode": "append",
  "routing.http2.enabled": "true",
  "waf.fail_open.enabled": "false",
  "zonal_shift.config.enabled": "false",
};

/** An HTTP listener of an Application Load Balancer has one attribute; HTTPS ones have more. */
export const DEFAULT_LISTENER_ATTRIBUTES: Readonly<Record<string, string>> = {
  "routing.http.response.server.enabled": "true",
};

type Check = (what: string, key: string, value: string) => void;

const boolean: Check = (what, key, value) => {
  if (value !== "true" && value !== "false") {
    throw validationError(`${what} attribute '${key}' must be 'true' or 'false'; got '${value}'`);
  }
};
const integer =
  (min: number, max: number): Check =>
  (what, key, value) => {
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= min && n <= max)) {
      throw validationError(
        `${what} attribute '${key}' must be an integer between ${min} and ${max}; got '${value}'`,
      );
    }
  };
const oneOf =
  (...allowed: string[]): Check =>
  (what, key, value) => {
    if (!allowed.includes(value)) {
      throw validationError(
        `${what} attribute '${key}' must be one of ${allowed.map((a) => `'${a}'`).join(", ")}; got '${value}'`,
      );
    }
  };
const anyText: Check = () => {};
const headerValue: Check = (what, key, value) => {
  if (value.length > 1024) {
    throw validationError(`${what} attribute '${key}' must be at most 1024 characters`);
  }
};

const LOAD_BALANCER_CHECKS: Record<string, Check> = {
  "access_logs.s3.enabled": boolean,
  "access_logs.s3.bucket": anyText,
  "access_logs.s3.prefix": anyText,
  "connection_logs.s3.enabled": boolean,
  "connection_logs.s3.bucket": anyText,
  "connection_logs.s3.prefix": anyText,
  "health_check_logs.s3.enabled": boolean,
  "health_check_logs.s3.bucket": anyText,
  "health_check_logs.s3.prefix": anyText,
  "client_keep_alive.seconds": integer(60, 604_800),
  "deletion_protection.enabled": boolean,
  "idle_timeout.timeout_seconds": integer(1, 4000),
  "load_balancing.cross_zone.enabled": oneOf("true"),
  "routing.http.desync_mitigation_mode": oneOf("monitor", "defensive", "strictest"),
  "routing.http.drop_invalid_header_fields.enabled": boolean,
  "routing.http.preserve_host_header.enabled": boolean,
  "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": boolean,
  "routing.http.xff_client_port.enabled": boolean,
  "routing.http.xff_header_processing.mode": oneOf("append", "preserve", "remove"),
  "routing.http2.enabled": boolean,
  "waf.fail_open.enabled": boolean,
  "zonal_shift.config.enabled": boolean,
};

const LISTENER_CHECKS: Record<string, Check> = {
  "routing.http.response.server.enabled": boolean,
  "routing.http.response.strict_transport_security.header_value": headerValue,
  "routing.http.response.access_control_allow_origin.header_value": headerValue,
  "routing.http.response.access_control_allow_methods.header_value": headerValue,
  "routing.http.response.access_control_allow_headers.header_value": headerValue,
  "routing.http.response.access_control_allow_credentials.header_value": oneOf("true", ""),
  "routing.http.response.access_control_expose_headers.header_value": headerValue,
  "routing.http.response.access_control_max_age.header_value": headerValue,
  "routing.http.response.content_security_policy.header_value": headerValue,
  "routing.http.response.x_content_type_options.header_value": oneOf("nosniff", ""),
  "routing.http.response.x_frame_options.header_value": oneOf(
    "DENY",
    "SAMEORIGIN",
    "ALLOW-FROM",
    "",
  ),
};

/** `Attributes.member.N.Key/Value`, each checked, applied over `current`. */
function applyAttributes(
  what: "Load balancer" | "Listener",
  checks: Record<string, Check>,
  current: Readonly<Record<string, string>>,
  raw: unknown,
): Record<string, string> {
  const items = list(raw).map(rec);
  if (items.length === 0) throw constraintError("attributes", undefined, "Member must not be null");
  if (items.length > MAX_ATTRIBUTES_PER_CALL) {
    throw constraintError(
      "attributes",
      `[${items.length} items]`,
      `Member must have length less than or equal to ${MAX_ATTRIBUTES_PER_CALL}`,
    );
  }
  const next = { ...current };
  for (const item of items) {
    const key = str(item.Key);
    if (key === undefined) {
      throw constraintError("attributes.member.key", undefined, "Member must not be null");
    }
    const check = checks[key];
    if (!check) throw validationError(`${what} attribute key '${key}' is not recognized`);
    const value = str(item.Value) ?? "";
    check(what, key, value);
    next[key] = value;
  }
  return next;
}

function loadBalancerAttributes(lb: LoadBalancer): Record<string, string> {
  return { ...DEFAULT_LOAD_BALANCER_ATTRIBUTES, ...lb.attributes };
}

/** A log destination turned on must name a bucket that exists. */
function checkLogBuckets(ctx: SandboxContext, attributes: Record<string, string>): void {
  for (const kind of ["access_logs", "connection_logs", "health_check_logs"]) {
    if (attributes[`${kind}.s3.enabled`] !== "true") continue;
    const bucket = attributes[`${kind}.s3.bucket`] ?? "";
    if (bucket === "") {
      throw validationError(`The value of '${kind}.s3.bucket' cannot be empty`);
    }
    if (!ctx.state.buckets.has(bucket)) {
      throw new AwsError(
        "InvalidConfigurationRequest",
        `Access Denied for bucket: ${bucket}. Please check S3bucket permission`,
      );
    }
  }
}

function wire(attributes: Record<string, string>) {
  return Object.entries(attributes).map(([Key, Value]) => ({ Key, Value }));
}

export function hasDeletionProtection(lb: LoadBalancer): boolean {
  return loadBalancerAttributes(lb)["deletion_protection.enabled"] === "true";
}

export const attributeHandlers: QueryHandlers = {
  DescribeLoadBalancerAttributes(params, ctx) {
    const lb = getLoadBalancer(ctx.state, str(params.LoadBalancerArn));
    return { Attributes: wire(loadBalancerAttributes(lb)) };
  },

  ModifyLoadBalancerAttributes(params, ctx) {
    const lb = getLoadBalancer(ctx.state, str(params.LoadBalancerArn));
    const next = applyAttributes(
      "Load balancer",
      LOAD_BALANCER_CHECKS,
      loadBalancerAttributes(lb),
      params.Attributes,
    );
    checkLogBuckets(ctx, next);
    lb.attributes = Object.fromEntries(
      Object.entries(next).filter(([k, v]) => DEFAULT_LOAD_BALANCER_ATTRIBUTES[k] !== v),
    );
    return { Attributes: wire(next) };
  },

  DescribeListenerAttributes(params, ctx) {
    const listener = getListener(ctx.state, str(params.ListenerArn));
    return { Attributes: wire({ ...DEFAULT_LISTENER_ATTRIBUTES, ...listener.attributes }) };
  },

  ModifyListenerAttributes(params, ctx) {
    const listener = getListener(ctx.state, str(params.ListenerArn));
    const next = applyAttributes(
      "Listener",
      LISTENER_CHECKS,
      { ...DEFAULT_LISTENER_ATTRIBUTES, ...listener.attributes },
      params.Attributes,
    );
    listener.attributes = next;
    return { Attributes: wire(next) };
  },

  /** No load balancer in the sandbox has reserved capacity: the reservation is empty. */
  DescribeCapacityReservation(params, ctx) {
    getLoadBalancer(ctx.state, str(params.LoadBalancerArn));
    return { DecreaseRequestsRemaining: 4, CapacityReservationState: [] };
  },
};
