/**
 * The least-privilege IAM policy switchyard's operator or CI role needs (`switchyard iam-policy`),
 * and the instance role policy a base AMI needs to fetch releases.
 *
 * One statement per purpose, each with a `Sid`. Writes are scoped by resource ARN wherever the
 * action supports resource-level permissions (the service's listener or rule, the
 * `<app>-<env>-v*` groups and target groups, the state and releases prefixes) and by the
 * `switchyard:*` tags where AWS evaluates them. `Resource: "*"` is used only for Describe
 * actions, which support no resource-level permissions in ELBv2, Auto Scaling or EC2.
 *
 * Pure: it reads the resolved config and nothing else. Region, account and partition come from
 * each service's listener ARN.
 */
import type { ResolvedConfig, ServiceConfig } from "./config-schema.js";
import { serviceConfig } from "./config-schema.js";
import { InputError } from "./errors.js";
import {
  serverGroupName,
  serviceHash,
  serviceStem,
  TARGET_GROUP_NAME_MAX,
  targetGroupName,
} from "./names.js";
import { parseReleasesLocation } from "./release-url.js";
import { TAG, TAG_PREFIX } from "./tags.js";

// ─── policy document types ───────────────────────────────────────────────────────────────────

/** Condition operator → condition key → value(s), as IAM writes it. */
export type IamCondition = Record<string, Record<string, string | string[]>>;

export interface IamStatement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  /** `"*"` only for actions without resource-level permissions; one ARN as a string. */
  Resource: string | string[];
  Condition?: IamCondition;
}

export interface IamPolicyDocument {
  Version: "2012-10-17";
  Statement: IamStatement[];
}

/** One action of the policy and why switchyard needs it (for docs). */
export interface IamActionInfo {
  /** `elasticloadbalancing:ModifyListener` */
  action: string;
  /** The statement that grants it. */
  sid: string;
  /** What the statement's Resource is, in words. */
  scope: string;
  /** One line: what switchyard does with it. */
  reason: string;
}

// ─── the catalog: every statement switchyard's policy can hold ───────────────────────────────

interface StatementSpec {
  sid: string;
  scope: string;
  actions: ReadonlyArray<readonly [action: string, reason: string]>;
}

const SPECS = [
  {
    sid: "Describe",
    scope:
      "* (Describe actions of ELBv2, Auto Scaling and EC2 support no resource-level permissions)",
    actions: [
      ["elasticloadbalancing:DescribeListeners", "read the listener's forward action and weights"],
      ["elasticloadbalancing:DescribeRules", "read a rule's action; find a free warm-up priority"],
      ["elasticloadbalancing:DescribeTargetGroups", "find a server group's target group by name"],
      ["elasticloadbalancing:DescribeTargetHealth", "count healthy targets during a swap"],
      [
        "elasticloadbalancing:DescribeTags",
        "retire: confirm an orphaned target group is switchyard's",
      ],
      ["autoscaling:DescribeAutoScalingGroups", "find managed groups by tag; read capacity"],
      ["autoscaling:DescribePolicies", "read blue's scaling policies to copy them to green"],
      ["autoscaling:DescribeScalingActivities", "report why green's instances failed to launch"],
      ["autoscaling:DescribeScheduledActions", "read blue's scheduled actions to copy them"],
      ["ec2:DescribeImages", "check the base AMI exists; look an image name up"],
      ["ec2:DescribeSubnets", "check the configured subnets exist"],
      ["ec2:DescribeSecurityGroups", "check the configured security groups exist"],
      ["ec2:DescribeLaunchTemplates", "find a server group's launch template by name"],
    ],
  },
  {
    sid: "ElbShiftListenerTraffic",
    scope: "the configured listenerArn of services without ruleArn",
    actions: [
      [
        "elasticloadbalancing:ModifyListener",
        "shift weights between blue and green; rollback in one call",
      ],
    ],
  },
  {
    sid: "ElbShiftRuleTraffic",
    scope: "the configured ruleArn of services that have one",
    actions: [
      ["elasticloadbalancing:ModifyRule", "shift the rule's weights between blue and green"],
    ],
  },
  {
    sid: "ElbCreateWarmupRule",
    scope: "the configured listener",
    actions: [
      [
        "elasticloadbalancing:CreateRule",
        "add the warm-up rule so green's target group is health-checked before it gets traffic",
      ],
    ],
  },
  {
    sid: "ElbDeleteWarmupRule",
    scope: "rules of the configured listener (listener-rule/app/<lb>/<id>/<listener>/*)",
    actions: [["elasticloadbalancing:DeleteRule", "remove the warm-up rule once green is in"]],
  },
  {
    sid: "ElbCreateTargetGroups",
    scope:
      "targetgroup/<app>-<env>-v* (and the hashed <prefix>*--<hash>-v* form), tagged switchyard:app/env",
    actions: [["elasticloadbalancing:CreateTargetGroup", "create green's target group"]],
  },
  {
    sid: "ElbTagTargetGroupsOnCreate",
    scope: "the same target groups, only as part of CreateTargetGroup",
    actions: [
      [
        "elasticloadbalancing:AddTags",
        "ELBv2 authorizes the switchyard:* tags given to CreateTargetGroup as AddTags",
      ],
    ],
  },
  {
    sid: "ElbManageTargetGroups",
    scope: "the same target groups, when tagged with the service's switchyard:app/env",
    actions: [
      [
        "elasticloadbalancing:ModifyTargetGroupAttributes",
        "set the deregistration delay of a new target group",
      ],
      [
        "elasticloadbalancing:DeleteTargetGroup",
        "delete a failed green's or a retired group's target group",
      ],
    ],
  },
  {
    sid: "AutoScalingCreateGroups",
    scope:
      "autoScalingGroup…:autoScalingGroupName/<app>-<env>-v*, tagged switchyard:app/env, in the configured subnets and target groups",
    actions: [["autoscaling:CreateAutoScalingGroup", "launch green"]],
  },
  {
    sid: "AutoScalingManageGroups",
    scope: "the same groups, when tagged with the service's switchyard:app/env",
    actions: [
      [
        "autoscaling:UpdateAutoScalingGroup",
        "pin blue's minimum during a swap and restore it after",
      ],
      ["autoscaling:SuspendProcesses", "suspend AlarmNotification/ScheduledActions on the standby"],
      ["autoscaling:ResumeProcesses", "resume them on rollback"],
      ["autoscaling:CreateOrUpdateTags", "record a group's role (live, standby, failed)"],
      ["autoscaling:PutScalingPolicy", "copy blue's scaling policies to green"],
      ["autoscaling:PutScheduledUpdateGroupAction", "copy blue's scheduled actions to green"],
      ["autoscaling:DeleteAutoScalingGroup", "delete a failed green or a retired standby"],
      [
        "autoscaling:TerminateInstanceInAutoScalingGroup",
        "cycle: replace the live group's instances a batch at a time",
      ],
    ],
  },
  {
    sid: "AutoScalingAdoptGroups",
    scope:
      "any group (iam-policy --adopt only), with no tag but the service's own switchyard:* tags",
    actions: [
      [
        "autoscaling:CreateOrUpdateTags",
        "adopt: tag a group another tool made as the service's live group",
      ],
    ],
  },
  {
    sid: "ElbAdoptTargetGroups",
    scope:
      "any target group (iam-policy --adopt only), with no tag but the service's own switchyard:* tags",
    actions: [["elasticloadbalancing:AddTags", "adopt: tag the adopted group's target group"]],
  },
  {
    sid: "AutoScalingManageAdoptedGroups",
    scope: "any group tagged with the service's switchyard:app/env (iam-policy --adopt only)",
    actions: [
      ["autoscaling:UpdateAutoScalingGroup", "pin an adopted blue's minimum and restore it"],
      ["autoscaling:SuspendProcesses", "suspend an adopted standby's alarms and schedules"],
      ["autoscaling:ResumeProcesses", "resume them when it is rolled back to"],
      ["autoscaling:CreateOrUpdateTags", "record an adopted group's role"],
      ["autoscaling:DeleteAutoScalingGroup", "retire an adopted standby"],
      [
        "autoscaling:TerminateInstanceInAutoScalingGroup",
        "cycle an adopted live group's instances",
      ],
    ],
  },
  {
    sid: "ElbManageAdoptedTargetGroups",
    scope:
      "any target group tagged with the service's switchyard:app/env (iam-policy --adopt only)",
    actions: [
      ["elasticloadbalancing:DeleteTargetGroup", "retire an adopted standby's target group"],
    ],
  },
  {
    sid: "Ec2CreateLaunchTemplates",
    scope: "launch-template/* (ARNs carry ids, not names), tagged switchyard:app/env",
    actions: [["ec2:CreateLaunchTemplate", "create green's launch template"]],
  },
  {
    sid: "Ec2TagLaunchTemplatesOnCreate",
    scope: "launch-template/*, only as part of CreateLaunchTemplate",
    actions: [["ec2:CreateTags", "EC2 authorizes the launch template's tags as CreateTags"]],
  },
  {
    sid: "Ec2UseSwitchyardLaunchTemplates",
    scope: "launch-template/*, when tagged with the service's switchyard:app/env",
    actions: [
      [
        "ec2:RunInstances",
        "Auto Scaling checks the caller may launch from the template when the group is created",
      ],
      ["ec2:DeleteLaunchTemplate", "delete a failed green's or a retired group's template"],
    ],
  },
  {
    sid: "Ec2RunInstancesResources",
    scope:
      "new instances, volumes and network interfaces, the configured AMI, subnets and security groups, only through a launch template",
    actions: [
      [
        "ec2:RunInstances",
        "the same check, for the resources an instance is launched with and creates",
      ],
    ],
  },
  {
    sid: "Ec2TagInstancesOnLaunch",
    scope: "new instances, volumes and network interfaces, only as part of RunInstances",
    actions: [["ec2:CreateTags", "tags applied at launch are authorized as CreateTags"]],
  },
  {
    sid: "IamPassInstanceRole",
    scope: "the role of each configured instanceProfile, passed to ec2.amazonaws.com only",
    actions: [
      ["iam:PassRole", "launch instances whose launch template names the instance profile"],
    ],
  },
  {
    sid: "CloudWatchReadGates",
    scope:
      "* (GetMetricData supports no resource-level permissions); only for services with alarms or analysis",
    actions: [
      ["cloudwatch:DescribeAlarms", "read the states of the alarms a bake is gated on"],
      [
        "cloudwatch:GetMetricData",
        "read green's and blue's request, 5xx and response-time figures for the judge",
      ],
    ],
  },
  {
    sid: "S3SwapRecords",
    scope: "<stateBucket>/<statePrefix>/<app>/<env>/*",
    actions: [
      ["s3:GetObject", "read the swap record (the lock and cursor)"],
      [
        "s3:PutObject",
        "create (If-None-Match) and update (If-Match) the swap record; write history",
      ],
      ["s3:DeleteObject", "delete the swap record when a swap ends"],
    ],
  },
  {
    sid: "S3ListSwapHistory",
    scope: "the state bucket, for keys under <statePrefix>/<app>/<env>/",
    actions: [
      [
        "s3:ListBucket",
        "list swap history (sequence numbers); lets S3 answer 404 for a missing record",
      ],
    ],
  },
  {
    sid: "S3Releases",
    scope: "<releases bucket>/<releases prefix>*",
    actions: [
      ["s3:GetObject", "check a release exists before a deploy (HeadObject)"],
      ["s3:PutObject", "release push (single or multipart upload)"],
      ["s3:AbortMultipartUpload", "clean up a failed multipart release push"],
    ],
  },
  {
    sid: "S3ListReleases",
    scope: "the releases bucket, for keys under the releases prefix",
    actions: [["s3:ListBucket", "release list; lets S3 answer 404 for a missing release"]],
  },
] as const satisfies readonly StatementSpec[];

type Sid = (typeof SPECS)[number]["sid"];

function spec(sid: Sid): StatementSpec {
  const found = SPECS.find((s) => s.sid === sid);
  if (!found) throw new Error(`unknown statement ${sid}`);
  return found;
}

/** Every action the policy can hold, with the statement that grants it and why. */
export function iamPolicyActions(): IamActionInfo[] {
  return SPECS.flatMap((s) =>
    s.actions.map(([action, reason]) => ({ action, sid: s.sid, scope: s.scope, reason })),
  );
}

// ─── SDK commands → IAM actions ──────────────────────────────────────────────────────────────

const SERVICE_PREFIX: Readonly<Record<string, string>> = {
  "@aws-sdk/client-auto-scaling": "autoscaling",
  "@aws-sdk/client-cloudwatch": "cloudwatch",
  "@aws-sdk/client-ec2": "ec2",
  "@aws-sdk/client-elastic-load-balancing-v2": "elasticloadbalancing",
  "@aws-sdk/client-s3": "s3",
};

/** S3 operations whose IAM action is not named after them. */
const S3_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  HeadObject: ["s3:GetObject"],
  ListObjectsV2: ["s3:ListBucket"],
  ListObjects: ["s3:ListBucket"],
  HeadBucket: ["s3:ListBucket"],
  CreateMultipartUpload: ["s3:PutObject"],
  UploadPart: ["s3:PutObject"],
  CompleteMultipartUpload: ["s3:PutObject"],
  CopyObject: ["s3:GetObject", "s3:PutObject"],
  DeleteObjects: ["s3:DeleteObject"],
  ListParts: ["s3:ListMultipartUploadParts"],
  ListMultipartUploads: ["s3:ListBucketMultipartUploads"],
};

/**
 * The IAM actions an SDK command needs: `("@aws-sdk/client-elastic-load-balancing-v2",
 * "DescribeListenersCommand")` → `["elasticloadbalancing:DescribeListeners"]`. `@aws-sdk/lib-storage`'s
 * `Upload` is a multipart (or single) PutObject that aborts on failure.
 */
export function iamActionsForCommand(sdkPackage: string, command: string): string[] {
  const operation = command.replace(/Command$/, "");
  if (sdkPackage === "@aws-sdk/lib-storage" && operation === "Upload") {
    return ["s3:PutObject", "s3:AbortMultipartUpload"];
  }
  const prefix = SERVICE_PREFIX[sdkPackage];
  if (prefix === undefined) {
    throw new Error(`no IAM service prefix known for ${sdkPackage} (command ${command})`);
  }
  if (prefix === "s3" && S3_ACTIONS[operation]) return [...S3_ACTIONS[operation]];
  return [`${prefix}:${operation}`];
}

// ─── ARNs ────────────────────────────────────────────────────────────────────────────────────

const LISTENER_ARN =
  /^arn:(aws[a-z-]*):elasticloadbalancing:([a-z0-9-]+):(\d{12}):listener\/app\/([^/]+)\/([^/]+)\/([^/]+)$/;

interface Where {
  partition: string;
  region: string;
  account: string;
}

function whereOf(service: ServiceConfig): Where {
  const m = LISTENER_ARN.exec(service.listenerArn);
  if (!m) {
    throw new InputError(
      "INVALID_INPUT",
      `${service.name}: listenerArn ${JSON.stringify(service.listenerArn)} is not an Application Load Balancer listener ARN`,
      {
        hint: "write arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<name>/<id>/<id>",
        details: { service: service.name, listenerArn: service.listenerArn },
      },
    );
  }
  return { partition: m[1] ?? "aws", region: m[2] ?? "", account: m[3] ?? "" };
}

function arn(w: Where, service: string, resource: string, global = false): string {
  return global
    ? `arn:${w.partition}:${service}:::${resource}`
    : `arn:${w.partition}:${service}:${w.region}:${w.account}:${resource}`;
}

/** Name patterns (IAM wildcards) that cover every target group name of the service. */
export function targetGroupNamePatterns(service: string): string[] {
  const patterns: string[] = [];
  const stem = serviceStem(service);
  // the plain form is used for every sequence whose name fits in 32 characters
  if (serverGroupName(service, 1).length <= TARGET_GROUP_NAME_MAX) patterns.push(`${stem}-v*`);
  // the hashed form: its prefix only shrinks as the sequence grows, so the prefix at a very
  // large sequence is a prefix of every shorter-sequence one
  const far = 999_999;
  if (serverGroupName(service, far).length > TARGET_GROUP_NAME_MAX) {
    const hashed = targetGroupName(service, far);
    const cut = hashed.indexOf("--");
    const prefix = cut > 0 ? hashed.slice(0, cut) : "";
    patterns.push(`${prefix}*--${serviceHash(service)}-v*`);
  }
  return patterns;
}

/** The IAM role ARN behind an instance profile: the same name (and path) as the profile. */
function instanceRoleArn(instanceProfile: string, w: Where): string {
  const profileArn = /^arn:(aws[a-z-]*):iam::(\d{12}):instance-profile\/(.+)$/.exec(
    instanceProfile,
  );
  if (profileArn) return `arn:${profileArn[1]}:iam::${profileArn[2]}:role/${profileArn[3]}`;
  return `arn:${w.partition}:iam::${w.account}:role/${instanceProfile}`;
}

function objectPrefix(prefix: string, ...parts: string[]): string {
  return [prefix.replace(/^\/+|\/+$/g, ""), ...parts].filter((p) => p !== "").join("/");
}

// ─── building the policy ─────────────────────────────────────────────────────────────────────

/** Accumulates unique values in insertion order. */
class Bag {
  private readonly items = new Map<string, Set<string>>();
  add(key: string, ...values: string[]): void {
    let set = this.items.get(key);
    if (!set) {
      set = new Set();
      this.items.set(key, set);
    }
    for (const v of values) set.add(v);
  }
  get(key: string): string[] {
    return [...(this.items.get(key) ?? [])];
  }
}

function one(values: string[]): string | string[] {
  return values.length === 1 ? (values[0] ?? "") : values;
}

function selectServices(config: ResolvedConfig, names?: readonly string[]): ServiceConfig[] {
  const wanted = names && names.length > 0 ? [...new Set(names)] : Object.keys(config.services);
  return wanted.map((name) => serviceConfig(config, name));
}

function statement(
  sid: Sid,
  resource: "*" | string[],
  condition?: IamCondition,
): IamStatement | undefined {
  if (resource !== "*" && resource.length === 0) return undefined;
  const s = spec(sid);
  const out: IamStatement = {
    Sid: s.sid,
    Effect: "Allow",
    Action: s.actions.map(([action]) => action),
    Resource: resource === "*" ? "*" : one(resource),
  };
  if (condition !== undefined) out.Condition = condition;
  return out;
}

/**
 * The least-privilege policy for the named services (all of them when none are named).
 * Throws UNKNOWN_SERVICE for a name the config does not have.
 *
 * Statements hold the resources of every named service; tag conditions list every named
 * service's app and env. For the tightest policy, generate one per service.
 */
export interface IamPolicyOptions {
  /**
   * groups another tool made may be adopted (`switchyard adopt`): their first `switchyard:*` tags
   * may be written, and from then on they are managed like switchyard's own, by those tags
   * rather than by `<app>-<env>-v*` names
   */
  adopt?: boolean;
}

export function iamPolicy(
  config: ResolvedConfig,
  services?: readonly string[],
  options: IamPolicyOptions = {},
): IamPolicyDocument {
  const selected = selectServices(config, services);
  const metricGates = selected.some((s) => s.alarms.length > 0 || s.analysis !== undefined);
  const r = new Bag();
  const apps = new Bag();
  for (const service of selected) {
    const w = whereOf(service);
    apps.add("app", service.app);
    apps.add("env", service.env);

    // ELBv2
    if (service.ruleArn) r.add("rule", service.ruleArn);
    else r.add("listener", service.listenerArn);
    r.add("warmupListener", service.listenerArn);
    r.add(
      "warmupRules",
      `${service.listenerArn.replace(":listener/app/", ":listener-rule/app/")}/*`,
    );
    for (const name of targetGroupNamePatterns(service.name)) {
      r.add("targetGroups", arn(w, "elasticloadbalancing", `targetgroup/${name}/*`));
    }
    // adopted groups and target groups keep the names another tool gave them
    r.add("anyTargetGroups", arn(w, "elasticloadbalancing", "targetgroup/*/*"));
    r.add("anyGroups", arn(w, "autoscaling", "autoScalingGroup:*:autoScalingGroupName/*"));

    // Auto Scaling
    r.add(
      "groups",
      arn(
        w,
        "autoscaling",
        `autoScalingGroup:*:autoScalingGroupName/${serviceStem(service.name)}-v*`,
      ),
    );
    r.add("subnetIds", ...service.subnets);

    // EC2
    r.add("launchTemplates", arn(w, "ec2", "launch-template/*"));
    for (const kind of ["instance", "volume", "network-interface"]) {
      r.add("launched", arn(w, "ec2", `${kind}/*`));
    }
    r.add(
      "launchInputs",
      service.image.startsWith("ami-")
        ? `arn:${w.partition}:ec2:${w.region}::image/${service.image}`
        : `arn:${w.partition}:ec2:${w.region}::image/*`,
      ...service.subnets.map((id) => arn(w, "ec2", `subnet/${id}`)),
      ...(service.securityGroups.length > 0
        ? service.securityGroups.map((id) => arn(w, "ec2", `security-group/${id}`))
        : // no security groups configured: the VPC's default group is used
          [arn(w, "ec2", "security-group/*")]),
    );
    if (service.instanceProfile) r.add("roles", instanceRoleArn(service.instanceProfile, w));

    // S3: the swap record and history of this service
    const statePrefix = objectPrefix(config.state.prefix, service.app, service.env);
    r.add("stateObjects", arn(w, "s3", `${config.state.bucket}/${statePrefix}/*`, true));
    r.add("stateBuckets", arn(w, "s3", config.state.bucket, true));
    r.add("statePrefixes", `${statePrefix}/*`);

    // S3: releases
    const releases = parseReleasesLocation(service.releases);
    r.add("releaseObjects", arn(w, "s3", `${releases.bucket}/${releases.prefix}*`, true));
    r.add("releaseBuckets", arn(w, "s3", releases.bucket, true));
    r.add("releasePrefixes", `${releases.prefix}*`);
  }

  /** The service's switchyard:app and switchyard:env tags, as a request or resource condition. */
  const serviceTags = (key: string): Record<string, string | string[]> => ({
    [`${key}/${TAG.app}`]: one(apps.get("app")),
    [`${key}/${TAG.env}`]: one(apps.get("env")),
  });
  /** What a create request must tag the new resource with. */
  const createTags = serviceTags("aws:RequestTag");
  const launchTemplateArns = r.get("launchTemplates");
  if (options.adopt) {
    // a policy of its own, beside the main one (which is close to IAM's size limit already):
    // the first tags of an adopted group, then the group managed by those tags whatever its name
    const adoptTags: IamCondition = {
      StringEquals: createTags,
      "ForAllValues:StringLike": { "aws:TagKeys": `${TAG_PREFIX}*` },
    };
    const adopted = [
      statement("AutoScalingAdoptGroups", r.get("anyGroups"), adoptTags),
      statement("ElbAdoptTargetGroups", r.get("anyTargetGroups"), adoptTags),
      statement("AutoScalingManageAdoptedGroups", r.get("anyGroups"), {
        StringEquals: serviceTags("autoscaling:ResourceTag"),
      }),
      statement("ElbManageAdoptedTargetGroups", r.get("anyTargetGroups"), {
        StringEquals: serviceTags("aws:ResourceTag"),
      }),
    ];
    return {
      Version: "2012-10-17",
      Statement: adopted.filter((s): s is IamStatement => s !== undefined),
    };
  }

  const statements = [
    statement("Describe", "*"),
    statement("ElbShiftListenerTraffic", r.get("listener")),
    statement("ElbShiftRuleTraffic", r.get("rule")),
    statement("ElbCreateWarmupRule", r.get("warmupListener")),
    statement("ElbDeleteWarmupRule", r.get("warmupRules")),
    statement("ElbCreateTargetGroups", r.get("targetGroups"), {
      StringEquals: createTags,
    }),
    statement("ElbTagTargetGroupsOnCreate", r.get("targetGroups"), {
      StringEquals: {
        "elasticloadbalancing:CreateAction": "CreateTargetGroup",
        ...createTags,
      },
    }),
    statement("ElbManageTargetGroups", r.get("targetGroups"), {
      StringEquals: serviceTags("aws:ResourceTag"),
    }),
    statement("AutoScalingCreateGroups", r.get("groups"), {
      StringEquals: createTags,
      "ForAllValues:StringEquals": { "autoscaling:VPCZoneIdentifiers": one(r.get("subnetIds")) },
      "ForAllValues:ArnLike": { "autoscaling:TargetGroupARNs": one(r.get("targetGroups")) },
    }),
    statement("AutoScalingManageGroups", r.get("groups"), {
      StringEquals: serviceTags("autoscaling:ResourceTag"),
    }),
    statement("Ec2CreateLaunchTemplates", launchTemplateArns, {
      StringEquals: createTags,
    }),
    statement("Ec2TagLaunchTemplatesOnCreate", launchTemplateArns, {
      StringEquals: { "ec2:CreateAction": "CreateLaunchTemplate", ...createTags },
    }),
    statement("Ec2UseSwitchyardLaunchTemplates", launchTemplateArns, {
      StringEquals: serviceTags("aws:ResourceTag"),
    }),
    statement("Ec2RunInstancesResources", [...r.get("launched"), ...r.get("launchInputs")], {
      ArnLike: { "ec2:LaunchTemplate": one(launchTemplateArns) },
    }),
    statement("Ec2TagInstancesOnLaunch", r.get("launched"), {
      StringEquals: { "ec2:CreateAction": "RunInstances" },
    }),
    statement("IamPassInstanceRole", r.get("roles"), {
      StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" },
    }),
    metricGates ? statement("CloudWatchReadGates", "*") : undefined,
    statement("S3SwapRecords", r.get("stateObjects")),
    statement("S3ListSwapHistory", r.get("stateBuckets"), {
      StringLike: { "s3:prefix": one(r.get("statePrefixes")) },
    }),
    statement("S3Releases", r.get("releaseObjects")),
    statement("S3ListReleases", r.get("releaseBuckets"), {
      StringLike: { "s3:prefix": one(r.get("releasePrefixes")) },
    }),
  ];
  return {
    Version: "2012-10-17",
    Statement: statements.filter((s): s is IamStatement => s !== undefined),
  };
}

/**
 * The policy of the instances' role: read the service's releases (fetch-and-run's
 * `aws s3 cp` and `head-object`). Attach it to the role behind `instanceProfile`.
 */
export function instanceRolePolicy(
  config: ResolvedConfig,
  services?: readonly string[],
): IamPolicyDocument {
  const objects = new Set<string>();
  for (const service of selectServices(config, services)) {
    const w = whereOf(service);
    const releases = parseReleasesLocation(service.releases);
    objects.add(arn(w, "s3", `${releases.bucket}/${releases.prefix}*`, true));
  }
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadReleases",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: [...objects],
      },
    ],
  };
}
