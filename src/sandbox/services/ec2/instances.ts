/**
 * Instances as EC2 reports them. Instances are launched by Auto Scaling through world.ts;
 * EC2 describes them (pending → running → shutting-down → terminated, with AWS's state codes)
 * and lists their tags. A terminated instance stays visible for an hour, then vanishes.
 */
import { createHash } from "node:crypto";
import type { QueryHandlers, SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import type { Params } from "../../protocol/query.js";
import type { Instance, InstanceState } from "../../state.js";
import { ACCOUNT_ID } from "../../state.js";
import {
  checkDryRun,
  checkFilterNames,
  type FilterFields,
  invalidParameterValue,
  matchesFilters,
  page,
  readFilters,
  strings,
  toWireTags,
} from "./common.js";
import { launchTemplateTags } from "./launch-templates.js";

/** AWS's instance state codes. */
export const STATE_CODES: Record<InstanceState, number> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
};

/** AWS seconds a terminated instance remains visible to DescribeInstances. */
export const TERMINATED_VISIBLE_SECONDS = 3600;

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/** Whether DescribeInstances still shows the instance (terminated ones fade after an hour). */
export function isVisible(ctx: SandboxContext, instance: Instance): boolean {
  if (instance.state !== "terminated" || instance.terminatedAt === undefined) return true;
  return ctx.clock.now() - instance.terminatedAt < ctx.clock.ms(TERMINATED_VISIBLE_SECONDS);
}

/** The instance's tags as EC2 shows them, with the tags EC2 adds for a launch template. */
export function instanceTags(instance: Instance): Record<string, string> {
  const tags: Record<string, string> = { ...instance.tags };
  if (instance.launchTemplate) {
    tags["aws:ec2launchtemplate:id"] = instance.launchTemplate.id;
    tags["aws:ec2launchtemplate:version"] = instance.launchTemplate.version;
  }
  return tags;
}

/** Settings an instance took from its launch template version, kept after the template goes. */
interface LaunchSettings {
  securityGroupIds: string[];
  iamInstanceProfileArn?: string;
  keyName?: string;
}
const launchSettings = new WeakMap<Instance, LaunchSettings>();

function settingsOf(ctx: SandboxContext, instance: Instance): LaunchSettings {
  const known = launchSettings.get(instance);
  if (known) return known;
  const ref = instance.launchTemplate;
  const data = ref
    ? ctx.state.launchTemplates
        .get(ref.id)
        ?.versions.find((v) => String(v.versionNumber) === ref.version)?.data
    : undefined;
  const profile = data?.iamInstanceProfile;
  const settings: LaunchSettings = {
    securityGroupIds: data?.securityGroupIds ?? [],
    iamInstanceProfileArn:
      profile?.arn ??
      (profile?.name ? `arn:aws:iam::${ACCOUNT_ID}:instance-profile/${profile.name}` : undefined),
    keyName: data?.keyName,
  };
  if (data) launchSettings.set(instance, settings);
  return settings;
}

/** The security groups an instance was launched into (from its launch template version). */
export function instanceSecurityGroupIds(ctx: SandboxContext, instance: Instance): string[] {
  return settingsOf(ctx, instance).securityGroupIds;
}

const instanceFields: FilterFields<Instance> = {
  "instance-id": (i) => [i.instanceId],
  "instance-state-name": (i) => [i.state],
  "instance-state-code": (i) => [String(STATE_CODES[i.state])],
  "image-id": (i) => [i.imageId],
  "instance-type": (i) => [i.instanceType],
  "subnet-id": (i) => [i.subnetId],
  "vpc-id": (i) => [i.vpcId],
  "availability-zone": (i) => [i.availabilityZone],
  "private-ip-address": (i) => [i.privateIpAddress],
  "launch-time": (i) => [i.launchTime.toISOString()],
  "owner-id": () => [ACCOUNT_ID],
};

function describeInstances(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const ids = strings(params.InstanceId);
  const filters = readFilters(params);
  checkFilterNames(filters, instanceFields, true);
  if (ids.length > 0 && params.MaxResults !== undefined) {
    throw new AwsError(
      "InvalidParameterCombination",
      "The parameter instancesSet cannot be used with the parameter maxResults",
    );
  }
  const malformed = ids.find((id) => !INSTANCE_ID.test(id));
  if (malformed) throw new AwsError("InvalidInstanceID.Malformed", `Invalid id: "${malformed}"`);
  const visible = [...ctx.state.instances.values()].filter((i) => isVisible(ctx, i));
  const missing = ids.filter((id) => !visible.some((i) => i.instanceId === id));
  if (missing.length > 0) {
    throw new AwsError(
      "InvalidInstanceID.NotFound",
      missing.length === 1
        ? `The instance ID '${missing[0]}' does not exist`
        : `The instance IDs '${missing.join(", ")}' do not exist`,
    );
  }
  const selected = visible.filter(
    (i) =>
      (ids.length === 0 || ids.includes(i.instanceId)) &&
      matchesFilters(i, filters, instanceFields, instanceTags),
  );
  const { items, nextToken } = page(selected, (i) => i.instanceId, params, { min: 5, max: 1000 });
  // One reservation per instance, as Auto Scaling launches them one at a time.
  return {
    reservationSet: items.map((instance) => {
      const groups = groupSet(ctx, instance);
      return {
        reservationId: `r-${instance.instanceId.slice(2)}`,
        ownerId: ACCOUNT_ID,
        groupSet: groups,
        instancesSet: [instanceWire(ctx, instance, groups)],
      };
    }),
    nextToken,
  };
}

function groupSet(ctx: SandboxContext, instance: Instance) {
  return settingsOf(ctx, instance).securityGroupIds.map((groupId) => ({
    groupId,
    groupName: ctx.state.securityGroups.get(groupId)?.groupName,
  }));
}

function instanceWire(
  ctx: SandboxContext,
  i: Instance,
  groups: Array<{ groupId: string; groupName?: string }>,
) {
  const settings = settingsOf(ctx, i);
  const gone = i.state === "terminated" || i.state === "shutting-down";
  const dnsSuffix =
    ctx.state.region === "us-east-1" ? "ec2.internal" : `${ctx.state.region}.compute.internal`;
  return {
    instanceId: i.instanceId,
    imageId: i.imageId,
    instanceState: { code: STATE_CODES[i.state], name: i.state },
    privateDnsName: gone ? "" : `ip-${i.privateIpAddress.replaceAll(".", "-")}.${dnsSuffix}`,
    dnsName: "",
    reason: gone
      ? `User initiated (${new Date(i.terminatedAt ?? ctx.clock.now()).toISOString()})`
      : "",
    keyName: settings.keyName,
    amiLaunchIndex: 0,
    instanceType: i.instanceType,
    launchTime: i.launchTime,
    placement: { availabilityZone: i.availabilityZone, groupName: "", tenancy: "default" },
    monitoring: { state: "disabled" },
    subnetId: gone ? undefined : i.subnetId,
    vpcId: gone ? undefined : i.vpcId,
    privateIpAddress: gone ? undefined : i.privateIpAddress,
    architecture: "x86_64",
    rootDeviceType: "ebs",
    rootDeviceName: "/dev/xvda",
    virtualizationType: "hvm",
    hypervisor: "xen",
    ebsOptimized: false,
    enaSupport: true,
    sourceDestCheck: true,
    groupSet: groups,
    iamInstanceProfile: settings.iamInstanceProfileArn
      ? { arn: settings.iamInstanceProfileArn, id: profileId(settings.iamInstanceProfileArn) }
      : undefined,
    stateReason:
      i.state === "pending"
        ? { code: "pending", message: "pending" }
        : gone
          ? {
              code: "Client.UserInitiatedShutdown",
              message: "Client.UserInitiatedShutdown: User initiated shutdown",
            }
          : undefined,
    platformDetails: "Linux/UNIX",
    usageOperation: "RunInstances",
    tagSet: toWireTags(instanceTags(i)),
  };
}

/** A stable instance profile id (`AIPA…`) for an ARN. */
function profileId(arn: string): string {
  return `AIPA${createHash("sha256").update(arn).digest("hex").slice(0, 17).toUpperCase()}`;
}

interface TaggedResource {
  resourceId: string;
  resourceType: string;
  key: string;
  value: string;
}

const tagFields: FilterFields<TaggedResource> = {
  key: (t) => [t.key],
  value: (t) => [t.value],
  "resource-id": (t) => [t.resourceId],
  "resource-type": (t) => [t.resourceType],
};

function describeTags(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const filters = readFilters(params);
  for (const f of filters) {
    if (!(f.name in tagFields) && !f.name.startsWith("tag:")) {
      throw invalidParameterValue(`The filter '${f.name}' is invalid`);
    }
  }
  const resources = [
    ...[...ctx.state.instances.values()]
      .filter((i) => isVisible(ctx, i))
      .map((i) => ({ resourceId: i.instanceId, resourceType: "instance", tags: instanceTags(i) })),
    ...launchTemplateTags(ctx),
    ...[...ctx.state.securityGroups.values()].map((g) => ({
      resourceId: g.groupId,
      resourceType: "security-group",
      tags: g.tags,
    })),
  ];
  const byTag = filters.filter((f) => f.name.startsWith("tag:"));
  const rows = resources
    .filter((r) => matchesFilters(r, byTag, {}, (x) => x.tags))
    .flatMap((r) =>
      Object.entries(r.tags).map(([key, value]) => ({
        resourceId: r.resourceId,
        resourceType: r.resourceType,
        key,
        value,
      })),
    );
  const plain = filters.filter((f) => !f.name.startsWith("tag:"));
  const selected = rows.filter((row) => matchesFilters(row, plain, tagFields));
  const { items, nextToken } = page(selected, (t) => `${t.resourceId}\u0000${t.key}`, params, {
    min: 5,
    max: 1000,
  });
  return { tagSet: items, nextToken };
}

export const instanceHandlers: QueryHandlers = {
  DescribeInstances: describeInstances,
  DescribeTags: describeTags,
};
