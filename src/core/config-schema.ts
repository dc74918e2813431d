/**
 * The config file's schema (zod 4), the resolved types the rest of switchyard works with,
 * validation with messages that name the exact path and the fix, and its JSON Schema.
 * No file-system access: reading the file is in config.ts, which re-exports all of this.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { DURATION_FORMS, DURATION_PATTERN, formatDuration, parseDuration } from "./duration.js";
import { ConfigError, InputError, isSwitchyardError } from "./errors.js";
import {
  parseServiceName,
  SERVICE_NAME_MAX,
  SERVICE_NAME_PATTERN,
  serviceHash,
  serviceNameProblem,
  serviceStem,
} from "./names.js";
import { BUCKET_PATTERN, bucketProblem, parseReleasesLocation } from "./release-url.js";

// ─── resolved types ──────────────────────────────────────────────────────────────────────────

export type TargetProtocol = "HTTP" | "HTTPS";

export interface HealthCheckConfig {
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** HTTP codes: `200`, `200,204`, `200-299`. */
  matcher: string;
}

export interface TargetGroupConfig {
  port: number;
  protocol: TargetProtocol;
  healthCheck: HealthCheckConfig;
  deregistrationDelaySeconds: number;
}

export interface CapacityConfig {
  min: number;
  max: number;
  desired: number;
}

export interface RetireConfig {
  /** How many standby groups to keep per service. */
  keep: number;
  /** Milliseconds: a standby younger than this is kept. */
  minAge: number;
}

/** One service's settings, validated, with defaults applied and durations in milliseconds. */
export interface ServiceConfig {
  /** `<app>/<env>` */
  name: string;
  app: string;
  env: string;
  listenerArn: string;
  ruleArn?: string | undefined;
  vpcId: string;
  subnets: string[];
  securityGroups: string[];
  /** An AMI id (`ami-…`) or an image name to look up; see `parseImageRef`. */
  image: string;
  instanceType: string;
  instanceProfile?: string | undefined;
  capacity: CapacityConfig;
  targetGroup: TargetGroupConfig;
  /** Percent of traffic on green at each step, strictly increasing, ending at 100. */
  steps: number[];
  /** Milliseconds to wait at each step while gates are checked. */
  bake: number;
  /** Milliseconds green has to become healthy. */
  healthyTimeout: number;
  /** Milliseconds of target-group stickiness during the shift, or false for none. */
  stickiness: number | false;
  /**
   * Milliseconds a listener change takes to reach every load balancer node: a group that traffic
   * left is deleted only after this plus its deregistration delay.
   */
  listenerPropagation: number;
  /** `s3://<bucket>/<prefix>/` */
  releases: string;
  /** Path of the user data template (absolute when loaded from a file), or undefined for the built-in. */
  userData?: string | undefined;
  /** Commands run at each bake; relative script paths are resolved against the config folder. */
  gates: string[];
  retire: RetireConfig;
  /** Where this service's swap events go, besides the top-level `notify` entries. */
  notify?: NotifierConfig[] | undefined;
  /** CloudWatch alarms checked during every bake: one in ALARM rolls the swap back. */
  alarms: string[];
  /** What an alarm whose state cannot be read does to a bake: fail it (default) or be ignored. */
  alarmsUnreadable: "fail" | "ignore";
  /** Green judged against blue on the load balancer's metrics at the end of each bake. */
  analysis?: AnalysisConfig | undefined;
  /** How CloudWatch publishes the load balancer's metrics: their period and lag, in ms. */
  metrics: MetricsTiming;
}

/** The judge's settings, resolved: fractions, ms and seconds. */
export interface AnalysisConfig {
  /** green fails when its 5xx rate is higher than blue's by this much (a fraction) and significantly */
  errorRate: { maxIncrease: number };
  /** green fails when its response time statistic exceeds `maxRatio × blue's + floor` (seconds) */
  latency?: { stat: string; maxRatio: number; floorSeconds: number } | undefined;
  /** requests each side must serve in the window for a verdict */
  minRequests: number;
  /** the one-sided test's significance level */
  significance: number;
  /** how long the bake is extended while the data is too little, in ms */
  maxExtension: number;
  /** what too little data does once the extension is spent */
  onInsufficientData: "fail" | "pass";
}

export interface MetricsTiming {
  /** the real length of one metric period (60 s on AWS) */
  period: number;
  /** how long after a period ends its figures are published */
  lag: number;
}

export interface StateConfig {
  bucket: string;
  /** Key prefix of swap records, without leading or trailing '/'. */
  prefix: string;
}

/** The whole config, validated and resolved. */
export interface ResolvedConfig {
  region?: string | undefined;
  state: StateConfig;
  services: Record<string, ServiceConfig>;
  /** Where every service's swap events go. */
  notify?: NotifierConfig[] | undefined;
}

/** The kinds of notification a notifier can be limited to (`events:`); see docs/notifications.md. */
export const NOTIFICATION_TYPES = [
  "swap.started",
  "step.shifted",
  "swap.paused",
  "gate.failed",
  "drift",
  "swap.completed",
  "swap.rolled-back",
  "swap.failed",
  "rollback.completed",
] as const;

export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** A Slack incoming webhook. */
export interface SlackNotifierConfig {
  /** `https://hooks.slack.com/services/…`: a secret; write `${SLACK_WEBHOOK_URL}` */
  webhookUrl: string;
  events?: NotificationType[] | undefined;
}

/** A generic HTTP endpoint, each request signed per the Standard Webhooks spec. */
export interface WebhookNotifierConfig {
  url: string;
  /** `whsec_<base64>`: a secret; write `${WEBHOOK_SECRET}` */
  secret: string;
  events?: NotificationType[] | undefined;
}

/** GitHub Deployments: one deployment per swap, with its statuses. */
export interface GithubNotifierConfig {
  /** `owner/name` */
  repository: string;
  /** a token allowed to write deployments: a secret; write `${GITHUB_TOKEN}` */
  token: string;
  /** the deployment's environment; default: the service's name */
  environment?: string | undefined;
  /** default `https://api.github.com` (GitHub Enterprise: `https://<host>/api/v3`) */
  apiUrl: string;
  /** the deployment's ref; `{{version}}` is the release's version (the default) */
  ref: string;
  events?: NotificationType[] | undefined;
}

/** One `notify:` entry: exactly one of its keys is set. */
export type NotifierConfig =
  | { slack: SlackNotifierConfig }
  | { webhook: WebhookNotifierConfig }
  | { github: GithubNotifierConfig };

export type ImageRef = { kind: "id"; id: string } | { kind: "name"; name: string };

// ─── patterns ────────────────────────────────────────────────────────────────────────────────

const ARN_HEAD = "^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\\d{12}:";
const LISTENER_ARN = new RegExp(
  `${ARN_HEAD}listener/app/[A-Za-z0-9-]{1,32}/[A-Za-z0-9]+/[A-Za-z0-9]+$`,
);
const RULE_ARN = new RegExp(
  `${ARN_HEAD}listener-rule/app/[A-Za-z0-9-]{1,32}/[A-Za-z0-9]+/[A-Za-z0-9]+/[A-Za-z0-9]+$`,
);
/** An AMI id. Real ones are hex; the sandbox's use other lowercase letters too. */
export const AMI_ID = /^ami-[0-9a-z]{8,17}$/;
const IMAGE_NAME = /^[A-Za-z0-9()[\] ./'@_-]{3,128}$/;
const VPC_ID = /^vpc-[0-9a-z]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-z]{8,17}$/;
const SECURITY_GROUP_ID = /^sg-[0-9a-z]{8,17}$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;
const INSTANCE_PROFILE =
  /^(?:[\w+=,.@-]{1,128}|arn:aws[a-z-]*:iam::\d{12}:instance-profile\/[\w+=,.@/-]{1,512})$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
/** An ALB health check matcher's shape: codes, ranges, comma-separated (`200`, `200,204`, `200-299`). */
const MATCHER = /^\d{3}(?:-\d{3})?(?:,\d{3}(?:-\d{3})?)*$/;
/** The same with every code within 200–499, for editors (the JSON Schema). */
const MATCHER_PATTERN = "^[2-4]\\d{2}(?:-[2-4]\\d{2})?(?:,[2-4]\\d{2}(?:-[2-4]\\d{2})?)*$";
const STATE_PREFIX = /^[A-Za-z0-9!_.*'()/-]*$/;

/** Whether `image` is an AMI id or an image name to look up (DescribeImages by name). */
export function parseImageRef(image: string): ImageRef {
  return AMI_ID.test(image) ? { kind: "id", id: image } : { kind: "name", name: image };
}

// ─── schema ──────────────────────────────────────────────────────────────────────────────────

interface DurationBounds {
  min?: number;
  max?: number;
}

const durationForms = () =>
  [
    z.string().meta({ pattern: DURATION_PATTERN }),
    z.number().meta({ minimum: 0, description: "seconds" }),
  ] as const;

/** Parses a duration inside a zod transform, adding an issue (and returning NEVER) if it is bad. */
function durationMs(value: string | number, ctx: z.RefinementCtx, bounds: DurationBounds): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (error) {
    const message = isSwitchyardError(error) ? error.message : String(error);
    ctx.addIssue({ code: "custom", message: `${message}; write ${DURATION_FORMS}` });
    return z.NEVER;
  }
  const { min, max } = bounds;
  const range =
    min !== undefined && max !== undefined
      ? `from ${formatDuration(min)} to ${formatDuration(max)}`
      : undefined;
  if (min !== undefined && ms < min) {
    const message = `must be ${range ?? `at least ${formatDuration(min)}`}; got ${JSON.stringify(value)}`;
    ctx.addIssue({ code: "custom", message });
  }
  if (max !== undefined && ms > max) {
    const message = `must be ${range ?? `at most ${formatDuration(max)}`}; got ${JSON.stringify(value)}`;
    ctx.addIssue({ code: "custom", message });
  }
  return ms;
}

/** A duration written as text or seconds, parsed to milliseconds. */
function duration(description: string, bounds: DurationBounds = {}) {
  return z
    .union(durationForms(), { error: `expected a duration: ${DURATION_FORMS}` })
    .transform((value, ctx) => durationMs(value, ctx, bounds))
    .meta({ description: `${description} Durations are ${DURATION_FORMS}.` });
}

/** Like `duration`, or `false` for "turned off". */
function durationOrFalse(description: string, bounds: DurationBounds = {}) {
  return z
    .union([z.literal(false), ...durationForms()], {
      error: `expected false or a duration: ${DURATION_FORMS}`,
    })
    .transform((value, ctx) => (value === false ? false : durationMs(value, ctx, bounds)))
    .meta({ description: `${description} Durations are ${DURATION_FORMS}.` });
}

function int(min: number, max: number, description: string) {
  return z.number().int().min(min).max(max).describe(description);
}

function idList(pattern: RegExp, what: string, example: string) {
  return z.array(z.string().regex(pattern, `expected ${what} id (${example})`));
}

const MATCHER_FIX = 'use codes 200-499, e.g. "200" or "200-299"';

/**
 * Why AWS would refuse this health check matcher of an HTTP or HTTPS target group, or undefined
 * when it would take it: a code (`200`), a comma-separated list (`200,202`) or a range
 * (`200-299`, low to high), every code within 200–499.
 */
export function matcherProblem(matcher: string): string | undefined {
  const quoted = JSON.stringify(matcher);
  if (!MATCHER.test(matcher)) {
    return `${quoted} is not a list of HTTP codes; write a code, codes separated by commas or a range, e.g. "200", "200,204" or "200-299"`;
  }
  for (const part of matcher.split(",")) {
    const [low = 0, high = low] = part.split("-").map(Number);
    if (low > high) {
      return `${quoted} has the range ${part}, whose first code is above its last; write it low to high, e.g. "200-299"`;
    }
    for (const code of [low, high]) {
      if (code < 200 || code > 499) {
        const which = matcher === String(code) ? `${quoted} is` : `${quoted} has ${code}, which is`;
        return `${which} not a valid HTTP code; ${MATCHER_FIX}`;
      }
    }
  }
  return undefined;
}

const healthCheckSchema = z
  .strictObject({
    path: z
      .string()
      .regex(/^\/\S{0,1023}$/, "expected a URL path starting with '/'")
      .default("/health")
      .describe("The path the load balancer requests on each target."),
    intervalSeconds: int(5, 300, "Seconds between health checks (5–300).").default(10),
    timeoutSeconds: int(
      2,
      120,
      "Seconds before a check fails (2–120, less than the interval).",
    ).default(5),
    healthyThreshold: int(2, 10, "Consecutive passes before a target is healthy (2–10).").default(
      2,
    ),
    unhealthyThreshold: int(
      2,
      10,
      "Consecutive failures before a target is unhealthy (2–10).",
    ).default(2),
    matcher: z
      .string()
      .superRefine((matcher, ctx) => {
        const problem = matcherProblem(matcher);
        if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
      })
      .meta({ pattern: MATCHER_PATTERN })
      .default("200")
      .describe("HTTP codes that mean healthy, each 200–499: 200, 200,204 or 200-299."),
  })
  .superRefine((check, ctx) => {
    if (check.timeoutSeconds >= check.intervalSeconds) {
      ctx.addIssue({
        code: "custom",
        path: ["timeoutSeconds"],
        message: `timeoutSeconds must be less than intervalSeconds; got timeout ${check.timeoutSeconds} ≥ interval ${check.intervalSeconds}`,
      });
    }
  })
  .describe("The target group's health check.");

const targetGroupSchema = z
  .strictObject({
    port: int(1, 65535, "The port instances serve on (1–65535)."),
    protocol: z
      .enum(["HTTP", "HTTPS"], "expected HTTP or HTTPS")
      .default("HTTP")
      .describe("The protocol between the load balancer and instances."),
    healthCheck: healthCheckSchema.prefault({}),
    deregistrationDelaySeconds: int(
      0,
      3600,
      "Seconds a deregistered target keeps draining (0–3600).",
    ).default(30),
  })
  .describe("Settings of each server group's target group.");

const capacitySchema = z
  .strictObject({
    min: int(0, 10_000, "Minimum instances."),
    max: int(1, 10_000, "Maximum instances."),
    desired: int(1, 10_000, "Desired instances."),
  })
  .superRefine((capacity, ctx) => {
    if (!(capacity.min <= capacity.desired && capacity.desired <= capacity.max)) {
      ctx.addIssue({
        code: "custom",
        message: `capacity must satisfy min ≤ desired ≤ max; got min ${capacity.min}, desired ${capacity.desired}, max ${capacity.max}`,
      });
    }
  })
  .describe("Capacity of the first server group; later ones copy the live group's capacity.");

const stepsSchema = z
  .array(
    z
      .number("expected a whole percent from 1 to 100")
      .int("expected a whole percent from 1 to 100")
      .min(1, "each step is a whole percent from 1 to 100")
      .max(100, "each step is a whole percent from 1 to 100"),
  )
  .min(1, "steps needs at least one step (100)")
  .max(100)
  .superRefine((steps, ctx) => {
    const increasing = steps.every((step, i) => i === 0 || step > (steps[i - 1] ?? 0));
    if (!increasing || steps[steps.length - 1] !== 100) {
      ctx.addIssue({
        code: "custom",
        message: `steps must increase and end at 100; got ${steps.join(",")}`,
      });
    }
  })
  .default([5, 25, 50, 100])
  .describe(
    "Percent of traffic on green at each step: whole numbers 1–100, increasing, ending at 100.",
  );

/**
 * Why a step plan given outside the config file (a flag, a library option, the wizard) breaks the
 * config's rule for `steps`, or undefined when it holds: the same schema decides both.
 */
export function stepsProblem(steps: readonly number[]): string | undefined {
  const result = stepsSchema.safeParse(steps);
  return result.success ? undefined : result.error.issues[0]?.message;
}

/** `steps` as given (a flag, an option), or INVALID_INPUT naming what is wrong with them. */
export function checkSteps(steps: number[]): number[] {
  const problem = stepsProblem(steps);
  if (problem) {
    throw new InputError(
      "INVALID_INPUT",
      problem.startsWith("steps ") ? problem : `steps ${steps.join(",")}: ${problem}`,
      { hint: "pass e.g. --steps 5,25,50,100", details: { steps } },
    );
  }
  return steps;
}

const retireSchema = z
  .strictObject({
    keep: int(0, 1000, "Standby groups to keep per service (0 or more).").default(1),
    minAge: duration("Standby groups younger than this are kept.").prefault("24h"),
  })
  .describe("The retire policy.");

// Secret-bearing fields never echo their value in a message: it came from the environment.
const SECRET_NOTE = "(its value is not shown: it may be a secret)";

function httpUrl(description: string) {
  return (
    z
      .string()
      .superRefine((value, ctx) => {
        let url: URL | undefined;
        try {
          url = new URL(value);
        } catch {
          url = undefined;
        }
        if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
          ctx.addIssue({ code: "custom", message: `expected an http(s):// URL ${SECRET_NOTE}` });
        }
      })
      // no `format: uri` for editors: the file holds `${VAR}` references, replaced on load
      .describe(description)
  );
}

function secretString(description: string) {
  return z
    .string()
    .superRefine((value, ctx) => {
      if (value.trim() === "") ctx.addIssue({ code: "custom", message: "is empty" });
    })
    .describe(description);
}

const notifyEventsSchema = z
  .array(z.enum(NOTIFICATION_TYPES, `expected one of ${NOTIFICATION_TYPES.join(", ")}`))
  .min(1, "list at least one event, or leave events out for all of them")
  .optional()
  .describe("The notifications this notifier gets; default: all of them.");

/** How the docs write a reference to an environment variable: `${NAME}`. */
const envRef = (name: string) => `$\{${name}}`;

/** `whsec_` followed by base64 (the Standard Webhooks form of a signing secret). */
export function webhookSecretProblem(secret: string): string | undefined {
  const body = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : undefined;
  if (body === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 === 1) {
    return `expected a Standard Webhooks secret: whsec_ followed by base64 ${SECRET_NOTE}`;
  }
  if (Buffer.from(body, "base64").length < 16) {
    return `the secret's key is shorter than 16 bytes; use 24 to 64 random bytes ${SECRET_NOTE}`;
  }
  return undefined;
}

const slackSchema = z
  .strictObject({
    webhookUrl: httpUrl(
      `The Slack incoming webhook URL. A secret: write ${envRef("SLACK_WEBHOOK_URL")} and set it in the environment.`,
    ),
    events: notifyEventsSchema,
  })
  .describe("A Slack incoming webhook: Block Kit messages with a text fallback.");

const webhookSchema = z
  .strictObject({
    url: httpUrl("Where each notification is POSTed as JSON."),
    secret: z
      .string()
      .superRefine((secret, ctx) => {
        const problem = webhookSecretProblem(secret);
        if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
      })
      .describe(
        `The signing secret, whsec_<base64>. A secret: write ${envRef("WEBHOOK_SECRET")} and set it in the environment.`,
      ),
    events: notifyEventsSchema,
  })
  .describe("A generic webhook signed per the Standard Webhooks spec.");

const githubSchema = z
  .strictObject({
    repository: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/, "expected owner/name (org/web)")
      .describe("The repository whose deployments record the swaps: owner/name."),
    token: secretString(
      `A token that may write deployments. A secret: write ${envRef("GITHUB_TOKEN")} and set it in the environment.`,
    ),
    environment: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .describe("The deployment environment; default: the service's name."),
    apiUrl: httpUrl("The GitHub API; GitHub Enterprise Server: https://<host>/api/v3.")
      .transform((url) => url.replace(/\/+$/, ""))
      .default("https://api.github.com"),
    ref: z
      .string()
      .min(1)
      .default("{{version}}")
      .describe(
        "The ref each deployment names; {{version}} is the release's version (a tag of the same name must exist).",
      ),
    events: notifyEventsSchema,
  })
  .describe("GitHub Deployments: a deployment per swap, statuses in_progress, success, failure.");

const NOTIFIER_KINDS = ["slack", "webhook", "github"] as const;

const notifierSchema = z
  .strictObject({
    slack: slackSchema.optional(),
    webhook: webhookSchema.optional(),
    github: githubSchema.optional(),
  })
  .superRefine((entry, ctx) => {
    const set = NOTIFIER_KINDS.filter((k) => entry[k] !== undefined);
    if (set.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message:
          set.length === 0
            ? "expected one of slack:, webhook:, github:"
            : `one notifier per entry; this one has ${set.join(" and ")}: make them separate entries`,
      });
    }
  })
  .transform((entry): NotifierConfig => {
    if (entry.slack) return { slack: withoutUndefined(entry.slack) };
    if (entry.webhook) return { webhook: withoutUndefined(entry.webhook) };
    return { github: withoutUndefined(entry.github as GithubNotifierConfig) };
  })
  .meta({ minProperties: 1, maxProperties: 1 })
  .describe("One notifier: slack, webhook or github.");

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const notifySchema = z
  .array(notifierSchema)
  .optional()
  .describe(
    `Where swap events go: Slack, signed webhooks, GitHub Deployments. Secrets come from the environment (${envRef("VAR")}). See docs/notifications.md.`,
  );

/** A percentage written `1%` (or a number of percent), parsed to a fraction. */
function percentage(description: string) {
  return z
    .union([z.string().meta({ pattern: "^\\d+(\\.\\d+)?\\s*%$" }), z.number().min(0).max(100)], {
      error: 'expected a percentage such as "1%"',
    })
    .transform((value, ctx) => {
      const text = typeof value === "number" ? String(value) : value.trim();
      const match = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text);
      const n = match ? Number(match[1]) : Number.NaN;
      if (!(n >= 0 && n <= 100) || (typeof value === "string" && !text.endsWith("%"))) {
        ctx.addIssue({
          code: "custom",
          message: `expected a percentage from 0% to 100% such as "1%"; got ${JSON.stringify(value)}`,
        });
        return z.NEVER;
      }
      return n / 100;
    })
    .meta({ description: `${description} A percentage: "1%" (or a number of percent).` });
}

/** A CloudWatch statistic for TargetResponseTime: p99, p99.9, Average, Maximum… */
const LATENCY_STAT = /^(p(\d{1,2}(\.\d{1,2})?|100)|Average|Maximum|Minimum)$/;

const analysisSchema = z
  .strictObject({
    errorRate: z
      .strictObject({
        maxIncrease: percentage(
          "Green fails when its 5xx rate is this much above blue's (and the difference is significant).",
        ).prefault("0.5%"),
      })
      .prefault({})
      .describe("The 5xx comparison of green with blue."),
    latency: z
      .strictObject({
        stat: z
          .string()
          .regex(LATENCY_STAT, "expected a statistic: p99, p99.9, Average, Maximum or Minimum")
          .default("p99")
          .describe("The TargetResponseTime statistic compared."),
        maxRatio: z
          .number()
          .min(1, "must be at least 1")
          .default(1.5)
          .describe("Green fails when its statistic exceeds maxRatio × blue's + floor."),
        floor: duration(
          "Added to the latency limit so jitter on fast services does not fail green (default 50ms).",
        ).optional(),
      })
      .optional()
      .describe("The response-time comparison; left out, latency is not judged."),
    minRequests: int(1, 1e9, "Requests each side must serve in the window for a verdict.").default(
      500,
    ),
    significance: z
      .number()
      .gt(0, "must be above 0")
      .max(0.5, "must be at most 0.5")
      .default(0.01)
      .describe("Significance level of the one-sided 5xx test."),
    maxExtension: duration(
      "How long a bake is extended while the data is too little for a verdict.",
    ).prefault("5m"),
    onInsufficientData: z
      .enum(["fail", "pass"], { error: "expected fail or pass" })
      .default("fail")
      .describe("What too little data does once the extension is spent: fail (roll back) or pass."),
  })
  .describe("Green judged against blue on the load balancer's 5xx rate and response time.");

const metricsSchema = z
  .strictObject({
    period: duration(
      "The real length of a metric period (60s on AWS; shorter in a scaled sandbox).",
      {
        min: 100,
      },
    ).prefault("60s"),
    lag: duration("How long after a period ends CloudWatch publishes it.").prefault("60s"),
  })
  .describe(
    "How CloudWatch publishes the load balancer's metrics; only a scaled sandbox changes it.",
  );

const serviceSchema = z
  .strictObject({
    listenerArn: z
      .string()
      .regex(
        LISTENER_ARN,
        "expected an Application Load Balancer listener ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<name>/<id>/<id>)",
      )
      .describe("The ALB listener whose forward action switchyard shifts."),
    ruleArn: z
      .string()
      .regex(
        RULE_ARN,
        "expected a listener rule ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener-rule/app/<name>/<id>/<id>/<id>)",
      )
      .optional()
      .describe("A rule of that listener to shift instead of its default action."),
    vpcId: z
      .string()
      .regex(VPC_ID, "expected a VPC id (vpc-0abc…)")
      .describe("The VPC of the target groups."),
    subnets: idList(SUBNET_ID, "a subnet", "subnet-0abc…")
      .min(1, "list at least one subnet")
      .describe("Subnets the Auto Scaling groups launch into."),
    securityGroups: idList(SECURITY_GROUP_ID, "a security group", "sg-0abc…").describe(
      "Security groups of the instances.",
    ),
    image: z
      .string()
      .refine(
        (image) => AMI_ID.test(image) || (!image.startsWith("ami-") && IMAGE_NAME.test(image)),
        {
          error: "expected an AMI id (ami-0abc…) or an image name (3–128 characters)",
        },
      )
      .meta({ pattern: "^(ami-[0-9a-z]{8,17}|(?!ami-)[A-Za-z0-9()\\[\\] ./'@_-]{3,128})$" })
      .describe("The base AMI: an AMI id (ami-…) or the name of an image to look up."),
    instanceType: z
      .string()
      .regex(INSTANCE_TYPE, "expected an EC2 instance type (t3.small)")
      .describe("The EC2 instance type."),
    instanceProfile: z
      .string()
      .regex(INSTANCE_PROFILE, "expected an IAM instance profile name or ARN")
      .optional()
      .describe("The IAM instance profile (name or ARN) of the instances."),
    capacity: capacitySchema,
    targetGroup: targetGroupSchema,
    steps: stepsSchema,
    bake: duration("How long to wait at each step while gates are checked.").prefault("5m"),
    healthyTimeout: duration("How long green has to become healthy.", { min: 1000 }).prefault(
      "15m",
    ),
    stickiness: durationOrFalse(
      "Target-group stickiness during the shift (1s–7d), or false to turn it off.",
      { min: 1000, max: 7 * 86_400_000 },
    ).prefault("1h"),
    listenerPropagation: duration(
      "How long a listener change takes to reach every load balancer node; a group traffic left is deleted only after this plus its deregistration delay.",
    ).prefault("15s"),
    releases: z
      .string()
      .superRefine((releases, ctx) => {
        try {
          parseReleasesLocation(releases);
        } catch (error) {
          ctx.addIssue({
            code: "custom",
            message: isSwitchyardError(error) ? error.message : String(error),
          });
        }
      })
      .meta({ pattern: "^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/(.*/)?$" })
      .describe("Where releases live: s3://<bucket>/<path>/ ending in '/'."),
    userData: z
      .string()
      .min(1, "expected a file path")
      .optional()
      .describe(
        "A user data template file (relative to the config file); default: the built-in one.",
      ),
    gates: z
      .array(z.string().trim().min(1, "a gate is a non-empty command"))
      .default([])
      .describe(
        "Commands run at each bake; a non-zero exit rolls back. ./ paths are relative to the config file.",
      ),
    retire: retireSchema.prefault({}),
    notify: notifySchema.describe(
      "Notifiers for this service only, besides the top-level ones. See docs/notifications.md.",
    ),
    alarms: z
      .array(
        z.string().trim().min(1, "an alarm name is non-empty").max(255, "at most 255 characters"),
      )
      .default([])
      .describe("CloudWatch alarms checked during every bake; one in ALARM rolls back."),
    alarmsUnreadable: z
      .enum(["fail", "ignore"], { error: "expected fail or ignore" })
      .default("fail")
      .describe(
        "When the alarms' states cannot be read during a bake: fail the bake, or ignore it.",
      ),
    analysis: analysisSchema.optional(),
    metrics: metricsSchema.prefault({}),
  })
  .superRefine((service, ctx) => {
    const { ruleArn, listenerArn } = service;
    if (ruleArn === undefined || !RULE_ARN.test(ruleArn) || !LISTENER_ARN.test(listenerArn)) return;
    const ruleListener = ruleArn.replace(":listener-rule/", ":listener/").replace(/\/[^/]+$/, "");
    if (ruleListener !== listenerArn) {
      ctx.addIssue({
        code: "custom",
        path: ["ruleArn"],
        message: `the rule belongs to listener ${ruleListener}, not to listenerArn ${listenerArn}`,
      });
    }
  })
  .describe("One service, keyed by <app>/<env>.");

const stateSchema = z
  .strictObject({
    bucket: z
      .string()
      .superRefine((bucket, ctx) => {
        const problem = bucketProblem(bucket);
        if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
      })
      .meta({ pattern: BUCKET_PATTERN.source })
      .describe("The S3 bucket holding swap records (the locks)."),
    prefix: z
      .string()
      .regex(STATE_PREFIX, "expected an S3 key prefix (letters, digits, / ! _ . * ' ( ) -)")
      .max(512)
      .transform((prefix) => prefix.replace(/^\/+|\/+$/g, ""))
      .prefault(".switchyard")
      .describe("The key prefix of swap records."),
  })
  .describe("Where swap records (locks) live.");

const serviceKey = z
  .string()
  .max(SERVICE_NAME_MAX)
  .regex(new RegExp(SERVICE_NAME_PATTERN))
  .describe("<app>/<env>");

const configObjectSchema = z.strictObject({
  $schema: z.string().optional().describe("The JSON Schema of this file, for editors."),
  region: z
    .string()
    .regex(REGION, "expected an AWS region such as us-east-1")
    .optional()
    .describe("The AWS region; default: the AWS SDK's default chain."),
  state: stateSchema,
  services: z
    .record(serviceKey, serviceSchema)
    .superRefine((services, ctx) => {
      const names = Object.keys(services);
      if (names.length === 0) {
        ctx.addIssue({ code: "custom", message: "add at least one service (web/prod: …)" });
      }
      const stems = new Map<string, string>();
      const hashes = new Map<string, string>();
      for (const name of names) {
        if (serviceNameProblem(name) !== undefined) continue;
        const stem = serviceStem(name);
        const hash = serviceHash(name);
        const sameStem = stems.get(stem);
        const sameHash = hashes.get(hash);
        if (sameStem !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: `"${name}" and "${sameStem}" would share resource names (${stem}-v<NNN>); rename one of them`,
          });
        } else if (sameHash !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: `"${name}" and "${sameHash}" have the same name hash (${hash}); rename one of them`,
          });
        }
        stems.set(stem, name);
        hashes.set(hash, name);
      }
    })
    .describe("Services keyed by <app>/<env>: lowercase letters, digits and '-'."),
  notify: notifySchema,
});

function toServiceConfig(name: string, service: z.output<typeof serviceSchema>): ServiceConfig {
  const { app, env } = parseServiceName(name);
  const { ruleArn, instanceProfile, userData, notify, analysis, ...rest } = service;
  return {
    name,
    app,
    env,
    ...rest,
    ...(notify === undefined ? {} : { notify }),
    ...(analysis === undefined ? {} : { analysis: toAnalysisConfig(analysis) }),
    ...(ruleArn === undefined ? {} : { ruleArn }),
    ...(instanceProfile === undefined ? {} : { instanceProfile }),
    ...(userData === undefined ? {} : { userData }),
  };
}

function toAnalysisConfig(a: z.output<typeof analysisSchema>): AnalysisConfig {
  const { latency, ...rest } = a;
  return {
    ...rest,
    ...(latency
      ? {
          latency: {
            stat: latency.stat,
            maxRatio: latency.maxRatio,
            floorSeconds: (latency.floor ?? 50) / 1000,
          },
        }
      : {}),
  };
}

/** The config schema: its input is the file, its output a `ResolvedConfig` (relative paths kept). */
export const configSchema = configObjectSchema
  .transform((config): ResolvedConfig => {
    const services: Record<string, ServiceConfig> = {};
    for (const [name, service] of Object.entries(config.services)) {
      services[name] = toServiceConfig(name, service);
    }
    return {
      ...(config.region === undefined ? {} : { region: config.region }),
      state: config.state,
      services,
      ...(config.notify === undefined ? {} : { notify: config.notify }),
    };
  })
  .meta({
    title: "switchyard config",
    description:
      "Blue/green swaps of EC2 Auto Scaling groups behind an ALB. See docs/config.md for every field.",
  });

/** The config file as written: what `defineConfig` takes. Defaults are optional. */
export type SwitchyardConfig = z.input<typeof configSchema>;
/** One service as written in the config file. */
export type ServiceConfigInput = z.input<typeof serviceSchema>;

/** Identity helper that types a `switchyard.config.ts` / `.js` module's default export. */
export function defineConfig(config: SwitchyardConfig): SwitchyardConfig {
  return config;
}

// ─── validation ──────────────────────────────────────────────────────────────────────────────

/** One problem with a config, at a path like `services."web/prod".steps`. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** `["services", "web/prod", "steps", 0]` → `services."web/prod".steps[0]` */
export function formatConfigPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const key = String(segment);
      const plain = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
      out += out === "" ? plain : `.${plain}`;
    }
  }
  return out === "" ? "(top level)" : out;
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

const EXPECTED: Record<string, string> = {
  int: "a whole number",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
  record: "a mapping",
};

/** The keys a strict object accepts at `path`, found by walking the schema. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.core.$ZodType = configObjectSchema;
  const unwrap = (s: z.core.$ZodType): z.core.$ZodType => {
    let current = s;
    for (;;) {
      if (current instanceof z.ZodOptional || current instanceof z.ZodDefault)
        current = current.unwrap();
      else if (current instanceof z.ZodPrefault) current = current.unwrap();
      else if (current instanceof z.ZodPipe) current = current.in;
      else return current;
    }
  };
  for (const segment of path) {
    const current = unwrap(schema);
    if (current instanceof z.ZodObject) {
      const next: z.core.$ZodType | undefined = current.shape[String(segment)];
      if (next === undefined) return [];
      schema = next;
    } else if (current instanceof z.ZodRecord) {
      schema = current.valueType;
    } else {
      return [];
    }
  }
  const target = unwrap(schema);
  return target instanceof z.ZodObject
    ? Object.keys(target.shape).filter((k) => k !== "$schema")
    : [];
}

function issuesOf(issue: z.core.$ZodIssue): ConfigIssue[] {
  const path = issue.path;
  const at = formatConfigPath(path);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = knownKeysAt(path);
      return issue.keys.map((key) => ({
        path: formatConfigPath([...path, key]),
        message: `unknown key ${JSON.stringify(key)}${known.length > 0 ? `; expected one of ${known.join(", ")}` : ""}`,
      }));
    }
    case "invalid_key": {
      const key = String(path[path.length - 1] ?? "");
      const problem = serviceNameProblem(key) ?? issue.issues.map((i) => i.message).join("; ");
      return [
        { path: at, message: `${JSON.stringify(key)} is not a valid service name: ${problem}` },
      ];
    }
    case "invalid_type": {
      if (input === undefined) return [{ path: at, message: "is required" }];
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      const custom = issue.message.startsWith("Invalid input") ? undefined : issue.message;
      return [
        { path: at, message: `${custom ?? `expected ${expected}`}; got ${describeValue(input)}` },
      ];
    }
    case "too_small":
    case "too_big": {
      if (!issue.message.startsWith("Too ")) {
        return [{ path: at, message: `${issue.message}; got ${describeValue(input)}` }];
      }
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const sign = issue.code === "too_small" ? "≥" : "≤";
      if (issue.origin === "array") {
        const word = issue.code === "too_small" ? "at least" : "at most";
        return [{ path: at, message: `expected ${word} ${bound} item(s)` }];
      }
      if (issue.origin === "string") {
        const word = issue.code === "too_small" ? "at least" : "at most";
        return [{ path: at, message: `expected ${word} ${bound} characters` }];
      }
      return [{ path: at, message: `must be ${sign} ${bound}; got ${describeValue(input)}` }];
    }
    case "invalid_value":
      if (!issue.message.startsWith("Invalid ")) {
        return [{ path: at, message: `${issue.message}; got ${describeValue(input)}` }];
      }
      return [
        {
          path: at,
          message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}; got ${describeValue(input)}`,
        },
      ];
    case "invalid_format":
    case "invalid_union":
      return [{ path: at, message: `${issue.message}; got ${describeValue(input)}` }];
    default:
      return [{ path: at, message: issue.message }];
  }
}

/** The result of validating a config without throwing. */
export type ConfigCheck =
  | { ok: true; config: ResolvedConfig }
  | { ok: false; issues: ConfigIssue[] };

export interface ResolveConfigOptions {
  /** Named in error messages (the config file's path); default "config". */
  source?: string;
  /** Folder that relative `userData` and `gates` paths are resolved against; default: keep them. */
  baseDir?: string;
}

/** Validates a config without throwing; every problem is listed. */
export function checkConfig(input: unknown, options: ResolveConfigOptions = {}): ConfigCheck {
  const result = configSchema.safeParse(input, { reportInput: true });
  if (!result.success) {
    return { ok: false, issues: result.error.issues.flatMap(issuesOf) };
  }
  const { baseDir } = options;
  if (baseDir === undefined) return { ok: true, config: result.data };
  const services: Record<string, ServiceConfig> = {};
  for (const [name, service] of Object.entries(result.data.services)) {
    services[name] = {
      ...service,
      ...(service.userData === undefined ? {} : { userData: resolve(baseDir, service.userData) }),
      gates: service.gates.map((gate) => resolveGate(gate, baseDir)),
    };
  }
  return { ok: true, config: { ...result.data, services } };
}

/** Formats issues one per line, under a heading naming the source. */
export function formatConfigIssues(source: string, issues: readonly ConfigIssue[]): string {
  const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
  return [
    `${source} is invalid (${count}):`,
    ...issues.map((i) => `  ${i.path}: ${i.message}`),
  ].join("\n");
}

/** The CONFIG_INVALID error for a list of issues. */
export function configInvalid(
  source: string,
  issues: readonly ConfigIssue[],
  cause?: unknown,
): ConfigError {
  return new ConfigError("CONFIG_INVALID", formatConfigIssues(source, issues), {
    hint: "fix each listed field; the JSON Schema in schema/switchyard.config.schema.json lets editors check it",
    details: { source, issues: issues.map((i) => ({ ...i })) },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Validates and resolves a config object (as loaded from a file, or built in code).
 * Throws CONFIG_INVALID listing every problem, one per line, each with its path.
 */
export function resolveConfig(input: unknown, options: ResolveConfigOptions = {}): ResolvedConfig {
  const check = checkConfig(input, options);
  if (!check.ok) throw configInvalid(options.source ?? "config", check.issues);
  return check.config;
}

/**
 * A gate whose command starts with `./` or `../` has that script path made absolute (and quoted
 * for the shell when it needs it); any other command is kept as written.
 */
export function resolveGate(command: string, baseDir: string): string {
  const match = /^(\.\.?\/\S*)(.*)$/s.exec(command);
  if (match === null) return command;
  const [, script = "", rest = ""] = match;
  const absolute = resolve(baseDir, script);
  const quoted = /^[\w./+,:@%=-]+$/.test(absolute)
    ? absolute
    : `'${absolute.replaceAll("'", `'\\''`)}'`;
  return `${quoted}${rest}`;
}

/** The settings of one service; throws UNKNOWN_SERVICE listing the services the config has. */
export function serviceConfig(config: ResolvedConfig, name: string): ServiceConfig {
  const service = Object.hasOwn(config.services, name) ? config.services[name] : undefined;
  if (service !== undefined) return service;
  const known = Object.keys(config.services);
  const problem = serviceNameProblem(name);
  throw new InputError(
    "UNKNOWN_SERVICE",
    `unknown service ${JSON.stringify(name)}; the config has ${known.length === 0 ? "no services" : known.join(", ")}`,
    {
      hint:
        problem === undefined
          ? `add ${name} under services: in the config file, or pick one of the listed services`
          : problem,
      details: { service: name, known },
    },
  );
}

// ─── JSON Schema ─────────────────────────────────────────────────────────────────────────────

/** The JSON Schema (draft 2020-12) of the config file as written: defaults are optional. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: "input", target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
}
