import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type ResolvedConfig, resolveConfig } from "../../../src/core/config-schema.js";
import { isSwitchyardError } from "../../../src/core/errors.js";
import {
  type IamStatement,
  iamActionsForCommand,
  iamPolicy,
  iamPolicyActions,
  instanceRolePolicy,
  targetGroupNamePatterns,
} from "../../../src/core/iam-policy.js";
import { serverGroupName, targetGroupName } from "../../../src/core/names.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

const WEB_LISTENER =
  "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web-prod/50dc6c495c0c9188/f2f7dc8efc522ab2";
const API_LISTENER =
  "arn:aws:elasticloadbalancing:eu-west-1:210987654321:listener/app/shared/0123456789abcdef/fedcba9876543210";
const API_RULE =
  "arn:aws:elasticloadbalancing:eu-west-1:210987654321:listener-rule/app/shared/0123456789abcdef/fedcba9876543210/9f0e1d2c3b4a5968";

function service(overrides: Record<string, unknown>) {
  return {
    listenerArn: WEB_LISTENER,
    vpcId: "vpc-0abc12345",
    subnets: ["subnet-0a1b2c3d", "subnet-0e4f5a6b"],
    securityGroups: ["sg-0abc12345"],
    image: "ami-0abc12345def67890",
    instanceType: "t3.small",
    capacity: { min: 2, max: 6, desired: 2 },
    targetGroup: { port: 8080 },
    releases: "s3://acme-releases/web/prod/",
    ...overrides,
  };
}

/** web/prod on a listener with an instance profile; api/staging on a rule, without one. */
const CONFIG: ResolvedConfig = resolveConfig({
  region: "us-east-1",
  state: { bucket: "acme-switchyard", prefix: ".switchyard" },
  services: {
    "web/prod": service({
      instanceProfile: "web-prod",
      alarms: ["web-prod-5xx"],
      analysis: { errorRate: { maxIncrease: "1%" } },
    }),
    "api/staging": service({
      listenerArn: API_LISTENER,
      ruleArn: API_RULE,
      subnets: ["subnet-0c0c0c0c"],
      securityGroups: ["sg-0d0d0d0d", "sg-0e0e0e0e"],
      image: "api-base-2024",
      releases: "s3://acme-api-releases/",
    }),
  },
});

function find(statements: IamStatement[], sid: string): IamStatement {
  const s = statements.find((x) => x.Sid === sid);
  if (!s) throw new Error(`no statement ${sid}; have ${statements.map((x) => x.Sid).join(", ")}`);
  return s;
}

function resources(s: IamStatement): string[] {
  return typeof s.Resource === "string" ? [s.Resource] : s.Resource;
}

function actionsOf(statements: IamStatement[]): Set<string> {
  return new Set(statements.flatMap((s) => s.Action));
}

/** IAM's wildcard match: `*` any run of characters, `?` one character. */
function iamMatch(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(value);
}

// ─── the cross-check with the code ───────────────────────────────────────────────────────────

/** Where switchyard's AWS calls live (the sandbox and the sandbox-only demo are not AWS callers). */
const CALLER_DIRS = ["src/aws", "src/swap", "src/release", "src/retire", "src/core"];
/**
 * Adapters only `sandbox bootstrap` and the demo use (a bucket, a load balancer, a listener in a
 * sandbox): switchyard's operations never call them, so the operator policy does not grant them.
 */
const SANDBOX_ONLY = new Set(["src/aws/bootstrap.ts"]);

function sourceFiles(dir: string): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).flatMap((name) => {
    const path = join(abs, name);
    if (statSync(path).isDirectory()) return sourceFiles(relative(ROOT, path));
    return name.endsWith(".ts") && !SANDBOX_ONLY.has(relative(ROOT, path)) ? [path] : [];
  });
}

interface CommandUse {
  file: string;
  pkg: string;
  command: string;
}

/**
 * Every `new XxxCommand(` (and lib-storage's `new Upload(`), and every paginator call
 * `paginateXxx(` (which sends `XxxCommand`), with the package it is imported from.
 */
function commandsUsed(): CommandUse[] {
  const uses: CommandUse[] = [];
  for (const path of CALLER_DIRS.flatMap(sourceFiles)) {
    const text = readFileSync(path, "utf8");
    const imported = new Map<string, string>();
    for (const m of text.matchAll(
      /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*"(@aws-sdk\/[^"]+)"/g,
    )) {
      for (const raw of (m[1] ?? "").split(",")) {
        const name = raw
          .trim()
          .replace(/^type\s+/, "")
          .split(/\s+as\s+/)
          .pop();
        if (name) imported.set(name, m[2] ?? "");
      }
    }
    // commands of a package imported where they are used: `const { X } = await import("@aws-sdk/…")`
    for (const m of text.matchAll(
      /const\s*\{([^}]*)\}\s*=\s*await\s+import\(\s*"(@aws-sdk\/[^"]+)"\s*\)/g,
    )) {
      for (const raw of (m[1] ?? "").split(",")) {
        const name = raw.trim();
        if (name) imported.set(name, m[2] ?? "");
      }
    }
    const file = relative(ROOT, path);
    for (const m of text.matchAll(/new\s+([A-Za-z0-9]+Command|Upload)\s*\(/g)) {
      const command = m[1] ?? "";
      const pkg = imported.get(command);
      if (pkg === undefined) {
        throw new Error(`${file}: ${command} is not imported from an @aws-sdk package`);
      }
      uses.push({ file, pkg, command });
    }
    for (const m of text.matchAll(/\b(paginate([A-Za-z0-9]+))\s*\(/g)) {
      const paginator = m[1] ?? "";
      const pkg = imported.get(paginator);
      if (pkg === undefined) {
        throw new Error(`${file}: ${paginator} is not imported from an @aws-sdk package`);
      }
      uses.push({ file, pkg, command: `${m[2] ?? ""}Command` });
    }
  }
  return uses;
}

/**
 * Actions the policy grants that no command names directly: AWS authorizes them as part of
 * another call, or `release push` will use them through lib-storage.
 */
const IMPLIED: Record<string, string> = {
  "elasticloadbalancing:AddTags": "CreateTargetGroup with Tags",
  "ec2:CreateTags": "CreateLaunchTemplate with TagSpecifications; tags at launch",
  "ec2:RunInstances": "CreateAutoScalingGroup with a launch template",
  "iam:PassRole": "launching with the launch template's instance profile",
  "s3:AbortMultipartUpload": "a failed multipart release push",
};

describe("the policy and the code that calls AWS", () => {
  const uses = commandsUsed();
  const granted = actionsOf(iamPolicy(CONFIG).Statement);

  it("finds the SDK commands switchyard sends (the scan is not empty)", () => {
    const names = new Set(uses.map((u) => u.command));
    for (const known of [
      "DescribeListenersCommand",
      "ModifyListenerCommand",
      "CreateAutoScalingGroupCommand",
      "CreateLaunchTemplateCommand",
      "PutObjectCommand",
      "ListObjectsV2Command",
    ]) {
      expect(names, known).toContain(known);
    }
  });

  it("grants an action for every command in src/aws, src/swap, src/release and src/retire", () => {
    const missing = uses.flatMap((u) =>
      iamActionsForCommand(u.pkg, u.command)
        .filter((action) => !granted.has(action))
        .map((action) => `${u.file}: ${u.command} needs ${action}`),
    );
    expect(missing).toEqual([]);
  });

  it("grants nothing the code does not use, except actions AWS implies", () => {
    const used = new Set(uses.flatMap((u) => iamActionsForCommand(u.pkg, u.command)));
    const unused = [...granted].filter((a) => !used.has(a) && !(a in IMPLIED));
    expect(unused).toEqual([]);
  });

  it("lists every granted action in iamPolicyActions() and nothing more", () => {
    const listed = new Set(iamPolicyActions().map((a) => a.action));
    expect([...listed].sort()).toEqual([...granted].sort());
  });

  it("gives every listed action a statement that exists and a one-line reason", () => {
    // the main policy and the adoption policy hold every statement of the catalog between them
    const sids = new Set(
      [
        ...iamPolicy(CONFIG).Statement,
        ...iamPolicy(CONFIG, undefined, { adopt: true }).Statement,
      ].map((s) => s.Sid),
    );
    for (const info of iamPolicyActions()) {
      expect(sids, info.action).toContain(info.sid);
      expect(info.reason.length, info.action).toBeGreaterThan(10);
      expect(info.reason).not.toMatch(/\n/);
    }
  });
});

describe("the metric gates' CloudWatch reads", () => {
  it("join the policy only when a selected service has alarms or analysis", () => {
    const withGates = find(iamPolicy(CONFIG, ["web/prod"]).Statement, "CloudWatchReadGates");
    expect(withGates.Action).toEqual(["cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData"]);
    expect(withGates.Resource).toBe("*");
    const without = iamPolicy(CONFIG, ["api/staging"]).Statement.map((s) => s.Sid);
    expect(without).not.toContain("CloudWatchReadGates");
    expect(JSON.stringify(iamPolicy(CONFIG, ["api/staging"]))).not.toContain("cloudwatch:");
  });
});

describe("iamActionsForCommand", () => {
  it("names the action after the operation for ELBv2, Auto Scaling and EC2", () => {
    expect(
      iamActionsForCommand("@aws-sdk/client-elastic-load-balancing-v2", "DescribeListenersCommand"),
    ).toEqual(["elasticloadbalancing:DescribeListeners"]);
    expect(iamActionsForCommand("@aws-sdk/client-auto-scaling", "SuspendProcessesCommand")).toEqual(
      ["autoscaling:SuspendProcesses"],
    );
    expect(iamActionsForCommand("@aws-sdk/client-ec2", "DescribeImagesCommand")).toEqual([
      "ec2:DescribeImages",
    ]);
  });

  it("maps S3 operations to the actions S3 authorizes them as", () => {
    const s3 = (c: string) => iamActionsForCommand("@aws-sdk/client-s3", c);
    expect(s3("HeadObjectCommand")).toEqual(["s3:GetObject"]);
    expect(s3("ListObjectsV2Command")).toEqual(["s3:ListBucket"]);
    expect(s3("UploadPartCommand")).toEqual(["s3:PutObject"]);
    expect(s3("AbortMultipartUploadCommand")).toEqual(["s3:AbortMultipartUpload"]);
    expect(iamActionsForCommand("@aws-sdk/lib-storage", "Upload")).toEqual([
      "s3:PutObject",
      "s3:AbortMultipartUpload",
    ]);
  });

  it("refuses a client it has no service prefix for", () => {
    expect(() => iamActionsForCommand("@aws-sdk/client-iam", "GetRoleCommand")).toThrow(
      /no IAM service prefix/,
    );
  });
});

// ─── scoping ─────────────────────────────────────────────────────────────────────────────────

describe("the adoption policy (iam-policy --adopt), beside the main one", () => {
  const plain = iamPolicy(CONFIG, ["web/prod"]);
  const adopting = iamPolicy(CONFIG, ["web/prod"], { adopt: true });
  const ANY_GROUP =
    "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/*";
  const ANY_TARGET_GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/*/*";

  it("tags any group or target group only with the service's own switchyard:* tags", () => {
    const groups = find(adopting.Statement, "AutoScalingAdoptGroups");
    expect(groups.Action).toEqual(["autoscaling:CreateOrUpdateTags"]);
    expect(resources(groups)).toEqual([ANY_GROUP]);
    const targetGroups = find(adopting.Statement, "ElbAdoptTargetGroups");
    expect(targetGroups.Action).toEqual(["elasticloadbalancing:AddTags"]);
    expect(resources(targetGroups)).toEqual([ANY_TARGET_GROUP]);
    for (const s of [groups, targetGroups]) {
      expect(s.Condition).toEqual({
        StringEquals: {
          "aws:RequestTag/switchyard:app": "web",
          "aws:RequestTag/switchyard:env": "prod",
        },
        "ForAllValues:StringLike": { "aws:TagKeys": "switchyard:*" },
      });
    }
  });

  it("manages adopted groups and target groups by the service's tags, whatever their names", () => {
    const manage = find(adopting.Statement, "AutoScalingManageAdoptedGroups");
    expect(resources(manage)).toEqual([ANY_GROUP]);
    expect(manage.Condition).toEqual(find(plain.Statement, "AutoScalingManageGroups").Condition);
    const tgs = find(adopting.Statement, "ElbManageAdoptedTargetGroups");
    expect(resources(tgs)).toEqual([ANY_TARGET_GROUP]);
    expect(tgs.Condition).toEqual(find(plain.Statement, "ElbManageTargetGroups").Condition);
    // nothing else: the main policy keeps the rest
    expect(adopting.Statement.map((s) => s.Sid).sort()).toEqual([
      "AutoScalingAdoptGroups",
      "AutoScalingManageAdoptedGroups",
      "ElbAdoptTargetGroups",
      "ElbManageAdoptedTargetGroups",
    ]);
  });

  it("leaves the main policy scoped by name", () => {
    const sids = plain.Statement.map((s) => s.Sid);
    expect(sids).not.toContain("AutoScalingAdoptGroups");
    expect(resources(find(plain.Statement, "AutoScalingManageGroups"))[0]).toMatch(
      /autoScalingGroupName\/web-prod-v\*$/,
    );
  });
});

describe("a policy for one service", () => {
  const policy = iamPolicy(CONFIG, ["web/prod"]);
  const text = JSON.stringify(policy);

  it("names none of the other service's resources", () => {
    expect(text).not.toContain("api-staging");
    expect(text).not.toContain("210987654321");
    expect(text).not.toContain("acme-api-releases");
    expect(text).not.toMatch(/"api"/);
  });

  it("shifts traffic only on the configured listener", () => {
    const s = find(policy.Statement, "ElbShiftListenerTraffic");
    expect(s.Action).toEqual(["elasticloadbalancing:ModifyListener"]);
    expect(s.Resource).toBe(WEB_LISTENER);
    expect(policy.Statement.some((x) => x.Action.includes("elasticloadbalancing:ModifyRule"))).toBe(
      false,
    );
  });

  it("creates the warm-up rule on the listener and deletes only rules of that listener", () => {
    expect(find(policy.Statement, "ElbCreateWarmupRule").Resource).toBe(WEB_LISTENER);
    expect(find(policy.Statement, "ElbDeleteWarmupRule").Resource).toBe(
      "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web-prod/50dc6c495c0c9188/f2f7dc8efc522ab2/*",
    );
  });

  it("scopes target groups by name and by the service's tags", () => {
    const tgArn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-prod-v*/*";
    const create = find(policy.Statement, "ElbCreateTargetGroups");
    expect(create.Resource).toBe(tgArn);
    expect(create.Condition).toEqual({
      StringEquals: {
        "aws:RequestTag/switchyard:app": "web",
        "aws:RequestTag/switchyard:env": "prod",
      },
    });
    const tag = find(policy.Statement, "ElbTagTargetGroupsOnCreate");
    expect(tag.Action).toEqual(["elasticloadbalancing:AddTags"]);
    expect(tag.Condition?.StringEquals?.["elasticloadbalancing:CreateAction"]).toBe(
      "CreateTargetGroup",
    );
    const manage = find(policy.Statement, "ElbManageTargetGroups");
    expect(manage.Condition).toEqual({
      StringEquals: {
        "aws:ResourceTag/switchyard:app": "web",
        "aws:ResourceTag/switchyard:env": "prod",
      },
    });
    expect(
      iamMatch(
        tgArn,
        `${tgArn.slice(0, tgArn.indexOf("targetgroup/"))}targetgroup/web-prod-v007/73e2d6bc24d8a067`,
      ),
    ).toBe(true);
  });

  it("scopes Auto Scaling groups by name, tags, subnets and target groups", () => {
    const groups =
      "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/web-prod-v*";
    const create = find(policy.Statement, "AutoScalingCreateGroups");
    expect(create.Resource).toBe(groups);
    expect(create.Condition?.["ForAllValues:StringEquals"]).toEqual({
      "autoscaling:VPCZoneIdentifiers": ["subnet-0a1b2c3d", "subnet-0e4f5a6b"],
    });
    expect(create.Condition?.["ForAllValues:ArnLike"]).toEqual({
      "autoscaling:TargetGroupARNs":
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-prod-v*/*",
    });
    const manage = find(policy.Statement, "AutoScalingManageGroups");
    expect(manage.Resource).toBe(groups);
    expect(manage.Action).toEqual(
      expect.arrayContaining([
        "autoscaling:UpdateAutoScalingGroup",
        "autoscaling:DeleteAutoScalingGroup",
        "autoscaling:SuspendProcesses",
        "autoscaling:ResumeProcesses",
        "autoscaling:CreateOrUpdateTags",
        "autoscaling:PutScalingPolicy",
        "autoscaling:PutScheduledUpdateGroupAction",
      ]),
    );
    expect(manage.Condition).toEqual({
      StringEquals: {
        "autoscaling:ResourceTag/switchyard:app": "web",
        "autoscaling:ResourceTag/switchyard:env": "prod",
      },
    });
  });

  it("launches only through a launch template, from the configured AMI, subnets and security groups", () => {
    const run = find(policy.Statement, "Ec2RunInstancesResources");
    expect(run.Action).toEqual(["ec2:RunInstances"]);
    expect(resources(run)).toEqual([
      "arn:aws:ec2:us-east-1:123456789012:instance/*",
      "arn:aws:ec2:us-east-1:123456789012:volume/*",
      "arn:aws:ec2:us-east-1:123456789012:network-interface/*",
      "arn:aws:ec2:us-east-1::image/ami-0abc12345def67890",
      "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0a1b2c3d",
      "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0e4f5a6b",
      "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0abc12345",
    ]);
    expect(run.Condition).toEqual({
      ArnLike: { "ec2:LaunchTemplate": "arn:aws:ec2:us-east-1:123456789012:launch-template/*" },
    });
    const templates = find(policy.Statement, "Ec2UseSwitchyardLaunchTemplates");
    expect(templates.Action).toEqual(["ec2:RunInstances", "ec2:DeleteLaunchTemplate"]);
    expect(templates.Condition?.StringEquals?.["aws:ResourceTag/switchyard:app"]).toBe("web");
    const tagAtLaunch = find(policy.Statement, "Ec2TagInstancesOnLaunch");
    expect(tagAtLaunch.Condition).toEqual({ StringEquals: { "ec2:CreateAction": "RunInstances" } });
    const tagTemplate = find(policy.Statement, "Ec2TagLaunchTemplatesOnCreate");
    expect(tagTemplate.Condition?.StringEquals?.["ec2:CreateAction"]).toBe("CreateLaunchTemplate");
  });

  it("reads and writes only this service's swap record prefix and releases prefix", () => {
    expect(find(policy.Statement, "S3SwapRecords").Resource).toBe(
      "arn:aws:s3:::acme-switchyard/.switchyard/web/prod/*",
    );
    const list = find(policy.Statement, "S3ListSwapHistory");
    expect(list.Resource).toBe("arn:aws:s3:::acme-switchyard");
    expect(list.Condition).toEqual({ StringLike: { "s3:prefix": ".switchyard/web/prod/*" } });
    expect(find(policy.Statement, "S3Releases").Resource).toBe(
      "arn:aws:s3:::acme-releases/web/prod/*",
    );
    expect(find(policy.Statement, "S3ListReleases").Condition).toEqual({
      StringLike: { "s3:prefix": "web/prod/*" },
    });
  });

  it("fits in a customer managed policy (6,144 characters without whitespace)", () => {
    expect(JSON.stringify(policy).length).toBeLessThanOrEqual(6144);
  });
});

describe("a policy for two services", () => {
  const policy = iamPolicy(CONFIG, ["web/prod", "api/staging"]);

  it("is the policy for all services when none are named", () => {
    expect(iamPolicy(CONFIG)).toEqual(iamPolicy(CONFIG, ["web/prod", "api/staging"]));
    expect(iamPolicy(CONFIG, [])).toEqual(iamPolicy(CONFIG));
  });

  it("holds both services' resources, each in its own region and account", () => {
    const groups = resources(find(policy.Statement, "AutoScalingCreateGroups"));
    expect(groups).toEqual([
      "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/web-prod-v*",
      "arn:aws:autoscaling:eu-west-1:210987654321:autoScalingGroup:*:autoScalingGroupName/api-staging-v*",
    ]);
    expect(resources(find(policy.Statement, "S3SwapRecords"))).toEqual([
      "arn:aws:s3:::acme-switchyard/.switchyard/web/prod/*",
      "arn:aws:s3:::acme-switchyard/.switchyard/api/staging/*",
    ]);
    expect(resources(find(policy.Statement, "S3Releases"))).toEqual([
      "arn:aws:s3:::acme-releases/web/prod/*",
      "arn:aws:s3:::acme-api-releases/*",
    ]);
  });

  it("lists both apps and envs in the tag conditions", () => {
    expect(find(policy.Statement, "AutoScalingManageGroups").Condition).toEqual({
      StringEquals: {
        "autoscaling:ResourceTag/switchyard:app": ["web", "api"],
        "autoscaling:ResourceTag/switchyard:env": ["prod", "staging"],
      },
    });
  });

  it("takes a listed service once even when it is named twice", () => {
    expect(iamPolicy(CONFIG, ["web/prod", "web/prod"])).toEqual(iamPolicy(CONFIG, ["web/prod"]));
  });

  it("throws UNKNOWN_SERVICE for a service the config does not have", () => {
    try {
      iamPolicy(CONFIG, ["shop/prod"]);
      expect.unreachable();
    } catch (error) {
      expect(isSwitchyardError(error) && error.code).toBe("UNKNOWN_SERVICE");
    }
  });
});

describe("a rule-based service", () => {
  const policy = iamPolicy(CONFIG, ["api/staging"]);

  it("modifies the configured rule and never the listener's default action", () => {
    expect(find(policy.Statement, "ElbShiftRuleTraffic")).toMatchObject({
      Action: ["elasticloadbalancing:ModifyRule"],
      Resource: API_RULE,
    });
    expect(actionsOf(policy.Statement).has("elasticloadbalancing:ModifyListener")).toBe(false);
  });

  it("still creates its warm-up rule on the rule's listener", () => {
    expect(find(policy.Statement, "ElbCreateWarmupRule").Resource).toBe(API_LISTENER);
    expect(find(policy.Statement, "ElbDeleteWarmupRule").Resource).toBe(
      `${API_LISTENER.replace(":listener/", ":listener-rule/")}/*`,
    );
  });

  it("allows any image when the config names the image rather than an AMI id", () => {
    expect(resources(find(policy.Statement, "Ec2RunInstancesResources"))).toContain(
      "arn:aws:ec2:eu-west-1::image/*",
    );
  });

  it("uses the bucket root when the releases location has no prefix", () => {
    expect(find(policy.Statement, "S3ListReleases").Condition).toEqual({
      StringLike: { "s3:prefix": "*" },
    });
  });
});

describe("the instance profile", () => {
  it("passes the profile's role to EC2 only, when instanceProfile is set", () => {
    const pass = find(iamPolicy(CONFIG, ["web/prod"]).Statement, "IamPassInstanceRole");
    expect(pass).toEqual({
      Sid: "IamPassInstanceRole",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: "arn:aws:iam::123456789012:role/web-prod",
      Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
    });
  });

  it("grants no iam:PassRole at all when no service has an instance profile", () => {
    const policy = iamPolicy(CONFIG, ["api/staging"]);
    expect(actionsOf(policy.Statement).has("iam:PassRole")).toBe(false);
    expect(JSON.stringify(policy)).not.toContain(":iam::");
  });

  it("keeps the account and path of a profile given as an ARN", () => {
    const config = resolveConfig({
      state: { bucket: "acme-switchyard" },
      services: {
        "web/prod": service({
          instanceProfile: "arn:aws:iam::333333333333:instance-profile/apps/web-prod",
        }),
      },
    });
    expect(find(iamPolicy(config).Statement, "IamPassInstanceRole").Resource).toBe(
      "arn:aws:iam::333333333333:role/apps/web-prod",
    );
  });
});

describe("the policy document", () => {
  const policy = iamPolicy(CONFIG);
  const OPERATORS = new Set([
    "StringEquals",
    "StringLike",
    "ArnLike",
    "ForAllValues:StringEquals",
    "ForAllValues:ArnLike",
  ]);

  it("is IAM JSON: a version, and statements with Sid, Effect, Action and Resource", () => {
    const parsed = JSON.parse(JSON.stringify(policy)) as typeof policy;
    expect(parsed).toEqual(policy);
    expect(Object.keys(parsed).sort()).toEqual(["Statement", "Version"]);
    expect(parsed.Version).toBe("2012-10-17");
    expect(Array.isArray(parsed.Statement)).toBe(true);
    const sids = parsed.Statement.map((s) => s.Sid);
    expect(new Set(sids).size).toBe(sids.length);
    for (const s of parsed.Statement) {
      expect(s.Sid).toMatch(/^[A-Za-z0-9]+$/);
      expect(s.Effect).toBe("Allow");
      expect(s.Action.length).toBeGreaterThan(0);
      for (const a of s.Action) expect(a).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
      expect(s.Resource === "*" || resources(s).every((r) => /^arn:aws:[a-z0-9-]+:/.test(r))).toBe(
        true,
      );
      expect(
        Object.keys(s).every((k) =>
          ["Sid", "Effect", "Action", "Resource", "Condition"].includes(k),
        ),
      ).toBe(true);
      for (const [op, keys] of Object.entries(s.Condition ?? {})) {
        expect(OPERATORS, op).toContain(op);
        expect(Object.keys(keys).length).toBeGreaterThan(0);
      }
    }
  });

  it('uses Resource "*" only for Describe actions and metric reads, without conditions', () => {
    for (const s of policy.Statement.filter((x) => x.Resource === "*")) {
      expect(
        s.Action.every((a) => /:Describe[A-Z]/.test(a) || a === "cloudwatch:GetMetricData"),
        s.Sid,
      ).toBe(true);
      expect(s.Condition).toBeUndefined();
    }
    for (const s of policy.Statement.filter((x) => x.Resource !== "*")) {
      expect(resources(s)).not.toContain("*");
    }
  });
});

describe("target group name patterns", () => {
  it("cover the plain names of a short service", () => {
    expect(targetGroupNamePatterns("web/prod")).toEqual(["web-prod-v*"]);
  });

  it("cover the hashed names of a long service at every sequence", () => {
    const name = "checkout-frontend/production-eu";
    const patterns = targetGroupNamePatterns(name);
    for (const seq of [1, 7, 999, 1000, 123456]) {
      const tg = targetGroupName(name, seq);
      expect(
        patterns.some((p) => iamMatch(p, tg)),
        `${tg} against ${patterns.join(", ")}`,
      ).toBe(true);
    }
    expect(serverGroupName(name, 1).length).toBeGreaterThan(32);
    expect(patterns.every((p) => p.includes("--"))).toBe(true);
  });

  it("include both forms for a service whose names stop fitting as the sequence grows", () => {
    const name = "checkout/production-east-1"; // 26-character stem: v001 fits, v999999 does not
    const patterns = targetGroupNamePatterns(name);
    expect(patterns).toHaveLength(2);
    for (const seq of [1, 999, 12345, 999999]) {
      expect(patterns.some((p) => iamMatch(p, targetGroupName(name, seq)))).toBe(true);
    }
  });
});

describe("instanceRolePolicy", () => {
  it("lets instances read the releases of the named services and nothing else", () => {
    expect(instanceRolePolicy(CONFIG)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ReadReleases",
          Effect: "Allow",
          Action: ["s3:GetObject"],
          Resource: ["arn:aws:s3:::acme-releases/web/prod/*", "arn:aws:s3:::acme-api-releases/*"],
        },
      ],
    });
    expect(instanceRolePolicy(CONFIG, ["web/prod"]).Statement[0]?.Resource).toEqual([
      "arn:aws:s3:::acme-releases/web/prod/*",
    ]);
  });
});

describe("a state prefix that is empty", () => {
  it("keeps swap records under <bucket>/<app>/<env>/", () => {
    const config = resolveConfig({
      state: { bucket: "acme-switchyard", prefix: "" },
      services: { "web/prod": service({}) },
    });
    const policy = iamPolicy(config);
    expect(find(policy.Statement, "S3SwapRecords").Resource).toBe(
      "arn:aws:s3:::acme-switchyard/web/prod/*",
    );
    expect(find(policy.Statement, "S3ListSwapHistory").Condition).toEqual({
      StringLike: { "s3:prefix": "web/prod/*" },
    });
  });
});
