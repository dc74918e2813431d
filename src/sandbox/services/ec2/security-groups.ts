/**
 * Security groups and their rules: create, describe, authorize, revoke, delete, and the rule
 * view (`DescribeSecurityGroupRules`, rule ids `sgr-…`). Rules are stored one peer each, as EC2
 * keeps them, and grouped into `IpPermissions` by protocol and ports when described. Rules are
 * stored, not enforced: listener proxies and instances on loopback ignore them.
 */
import type { QueryHandlers, SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import { int, list, type Params, str } from "../../protocol/query.js";
import { ACCOUNT_ID, newId, type SecurityGroup, type SecurityGroupRule } from "../../state.js";
import {
  checkDryRun,
  checkFilterNames,
  type FilterFields,
  invalidParameterValue,
  matchesFilters,
  missingParameter,
  page,
  readFilters,
  strings,
  toWireTags,
} from "./common.js";
import { instanceSecurityGroupIds } from "./instances.js";
import { readEc2Tags } from "./tags.js";

const PROTOCOL_NAMES: Record<string, string> = {
  "-1": "-1",
  all: "-1",
  tcp: "tcp",
  "6": "tcp",
  udp: "udp",
  "17": "udp",
  icmp: "icmp",
  "1": "icmp",
  icmpv6: "icmpv6",
  "58": "icmpv6",
};
const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const IPV6_CIDR = /^[0-9a-fA-F:]+\/(\d{1,3})$/;
const MAX_RULES_PER_DIRECTION = 60;

function groupNotFound(id: string): AwsError {
  return new AwsError("InvalidGroup.NotFound", `The security group '${id}' does not exist`);
}

function defaultVpcId(ctx: SandboxContext): string | undefined {
  return [...ctx.state.vpcs.values()].find((v) => v.isDefault)?.vpcId;
}

/** `GroupId`, or `GroupName` in the default VPC. */
function findGroup(ctx: SandboxContext, params: Params): SecurityGroup {
  const id = str(params.GroupId);
  if (id) {
    const group = ctx.state.securityGroups.get(id);
    if (!group) throw groupNotFound(id);
    return group;
  }
  const name = str(params.GroupName);
  if (!name) throw missingParameter("GroupId");
  const vpcId = defaultVpcId(ctx);
  const group = [...ctx.state.securityGroups.values()].find(
    (g) => g.groupName === name && g.vpcId === vpcId,
  );
  if (!group) {
    throw new AwsError(
      "InvalidGroup.NotFound",
      `The security group '${name}' does not exist in default VPC '${vpcId ?? "none"}'`,
    );
  }
  return group;
}

function checkIpv4Cidr(cidr: string): string {
  const match = IPV4_CIDR.exec(cidr);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const bits = Number(match?.[5]);
  if (!match || octets.some((o) => o > 255) || bits > 32) {
    throw invalidParameterValue(`CIDR block ${cidr} is malformed`);
  }
  return cidr;
}

function checkIpv6Cidr(cidr: string): string {
  const match = IPV6_CIDR.exec(cidr);
  if (!match || Number(match[1]) > 128) {
    throw invalidParameterValue(`CIDR block ${cidr} is malformed`);
  }
  return cidr.toLowerCase();
}

function portOf(value: unknown, name: string, min: number): number | undefined {
  const port = int(value);
  if (port === undefined) return undefined;
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw invalidParameterValue(`Invalid value '${String(value)}' for ${name}`);
  }
  return port;
}

type RuleShape = Omit<SecurityGroupRule, "ruleId" | "tags">;

/** One permission's protocol and ports, normalised as EC2 stores them. */
function readProtocolAndPorts(
  raw: Record<string, unknown>,
): Pick<RuleShape, "ipProtocol" | "fromPort" | "toPort"> {
  const sent = str(raw.IpProtocol);
  if (sent === undefined || sent === "") throw missingParameter("IpProtocol");
  const ipProtocol = PROTOCOL_NAMES[sent.toLowerCase()] ?? sent;
  if (!PROTOCOL_NAMES[ipProtocol] && !/^\d{1,3}$/.test(ipProtocol)) {
    throw invalidParameterValue(`Invalid value '${sent}' for IP protocol. Unknown protocol.`);
  }
  if (ipProtocol === "tcp" || ipProtocol === "udp") {
    const fromPort = portOf(raw.FromPort, "fromPort", 0);
    const toPort = portOf(raw.ToPort, "toPort", 0);
    if (fromPort === undefined || toPort === undefined) {
      throw invalidParameterValue(
        `Invalid value 'null' for ${fromPort === undefined ? "fromPort" : "toPort"}. You must specify both from and to ports with TCP/UDP.`,
      );
    }
    if (fromPort > toPort) {
      throw invalidParameterValue(
        `Invalid value '${toPort}' for toPort. It must be greater than or equal to fromPort ${fromPort}`,
      );
    }
    return { ipProtocol, fromPort, toPort };
  }
  if (ipProtocol === "icmp" || ipProtocol === "icmpv6") {
    return {
      ipProtocol,
      fromPort: portOf(raw.FromPort, "icmp type", -1) ?? -1,
      toPort: portOf(raw.ToPort, "icmp code", -1) ?? -1,
    };
  }
  return { ipProtocol };
}

/** `IpPermissions.N` (or the older top-level `IpProtocol`/`CidrIp`/ports) as one rule per peer. */
function readRules(
  ctx: SandboxContext,
  params: Params,
  group: SecurityGroup,
  isEgress: boolean,
): RuleShape[] {
  const permissions = list<Record<string, unknown>>(params.IpPermissions);
  if (permissions.length === 0 && str(params.IpProtocol) !== undefined) {
    const peers: Record<string, unknown> = { ...params };
    if (str(params.CidrIp)) peers.IpRanges = [{ CidrIp: params.CidrIp }];
    if (str(params.SourceSecurityGroupName)) {
      peers.Groups = [{ GroupName: params.SourceSecurityGroupName }];
    }
    permissions.push(peers);
  }
  if (permissions.length === 0) throw missingParameter("IpPermissions");
  const rules: RuleShape[] = [];
  for (const permission of permissions) {
    const base = { isEgress, ...readProtocolAndPorts(permission ?? {}) };
    const before = rules.length;
    for (const range of list<Record<string, unknown>>(permission.IpRanges)) {
      const cidr = str(range?.CidrIp);
      if (!cidr) throw missingParameter("CidrIp");
      rules.push({ ...base, cidrIpv4: checkIpv4Cidr(cidr), ...description(range) });
    }
    for (const range of list<Record<string, unknown>>(permission.Ipv6Ranges)) {
      const cidr = str(range?.CidrIpv6);
      if (!cidr) throw missingParameter("CidrIpv6");
      rules.push({ ...base, cidrIpv6: checkIpv6Cidr(cidr), ...description(range) });
    }
    for (const pair of list<Record<string, unknown>>(permission.Groups)) {
      const referenced = referencedGroup(ctx, pair ?? {}, group);
      rules.push({ ...base, referencedGroupId: referenced, ...description(pair) });
    }
    for (const prefixList of list<Record<string, unknown>>(permission.PrefixListIds)) {
      const id = str(prefixList?.PrefixListId);
      if (!id || !/^pl-[0-9a-f]+$/.test(id)) {
        throw new AwsError("InvalidPrefixListId.Malformed", `Invalid prefix list ID '${id ?? ""}'`);
      }
      rules.push({ ...base, prefixListId: id, ...description(prefixList) });
    }
    if (rules.length === before) {
      throw missingParameter("IpRanges, Ipv6Ranges, UserIdGroupPairs or PrefixListIds");
    }
  }
  return rules;
}

function description(raw: Record<string, unknown> | undefined): { description?: string } {
  const text = str(raw?.Description);
  if (text === undefined) return {};
  if (text.length > 255) {
    throw invalidParameterValue(
      "Invalid rule description. Descriptions are limited to 255 characters.",
    );
  }
  return { description: text };
}

function referencedGroup(
  ctx: SandboxContext,
  pair: Record<string, unknown>,
  group: SecurityGroup,
): string {
  const id = str(pair.GroupId);
  if (id) {
    if (!ctx.state.securityGroups.has(id)) throw groupNotFound(id);
    return id;
  }
  const name = str(pair.GroupName);
  if (!name) throw missingParameter("GroupId");
  const found = [...ctx.state.securityGroups.values()].find(
    (g) => g.groupName === name && g.vpcId === group.vpcId,
  );
  if (!found) throw groupNotFound(name);
  return found.groupId;
}

function sameRule(a: RuleShape, b: RuleShape): boolean {
  return (
    a.isEgress === b.isEgress &&
    a.ipProtocol === b.ipProtocol &&
    a.fromPort === b.fromPort &&
    a.toPort === b.toPort &&
    a.cidrIpv4 === b.cidrIpv4 &&
    a.cidrIpv6 === b.cidrIpv6 &&
    a.prefixListId === b.prefixListId &&
    a.referencedGroupId === b.referencedGroupId
  );
}

function ruleText(rule: RuleShape): string {
  const peer = rule.cidrIpv4 ?? rule.cidrIpv6 ?? rule.referencedGroupId ?? rule.prefixListId;
  const protocol = rule.ipProtocol === "-1" ? "ALL" : rule.ipProtocol.toUpperCase();
  const ports =
    rule.fromPort === undefined ? "" : `, from port: ${rule.fromPort}, to port: ${rule.toPort}`;
  return `peer: ${peer}, ${protocol}${ports}, ALLOW`;
}

function ruleWire(ctx: SandboxContext, group: SecurityGroup, rule: SecurityGroupRule) {
  const ranged = rule.fromPort !== undefined;
  return {
    securityGroupRuleId: rule.ruleId,
    groupId: group.groupId,
    groupOwnerId: ACCOUNT_ID,
    isEgress: rule.isEgress,
    ipProtocol: rule.ipProtocol,
    fromPort: ranged ? rule.fromPort : -1,
    toPort: ranged ? rule.toPort : -1,
    cidrIpv4: rule.cidrIpv4,
    cidrIpv6: rule.cidrIpv6,
    prefixListId: rule.prefixListId,
    referencedGroupInfo: rule.referencedGroupId
      ? { groupId: rule.referencedGroupId, userId: ACCOUNT_ID }
      : undefined,
    description: rule.description,
    tagSet: toWireTags(rule.tags),
    securityGroupRuleArn: ctx.state.arn("ec2", `security-group-rule/${rule.ruleId}`),
  };
}

/** Rules grouped as `IpPermissions`: one entry per protocol and port range, peers listed in it. */
function permissionsWire(rules: SecurityGroupRule[]) {
  const grouped = new Map<string, SecurityGroupRule[]>();
  for (const rule of rules) {
    const key = `${rule.ipProtocol}/${rule.fromPort ?? ""}/${rule.toPort ?? ""}`;
    grouped.set(key, [...(grouped.get(key) ?? []), rule]);
  }
  return [...grouped.values()].map((same) => {
    const first = same[0]!;
    return {
      ipProtocol: first.ipProtocol,
      fromPort: first.fromPort,
      toPort: first.toPort,
      groups: same
        .filter((r) => r.referencedGroupId)
        .map((r) => ({
          userId: ACCOUNT_ID,
          groupId: r.referencedGroupId,
          description: r.description,
        })),
      ipRanges: same
        .filter((r) => r.cidrIpv4)
        .map((r) => ({ cidrIp: r.cidrIpv4, description: r.description })),
      ipv6Ranges: same
        .filter((r) => r.cidrIpv6)
        .map((r) => ({ cidrIpv6: r.cidrIpv6, description: r.description })),
      prefixListIds: same
        .filter((r) => r.prefixListId)
        .map((r) => ({ prefixListId: r.prefixListId, description: r.description })),
    };
  });
}

export function securityGroupWire(ctx: SandboxContext, g: SecurityGroup) {
  return {
    ownerId: ACCOUNT_ID,
    groupId: g.groupId,
    groupName: g.groupName,
    groupDescription: g.description,
    vpcId: g.vpcId,
    securityGroupArn: ctx.state.arn("ec2", `security-group/${g.groupId}`),
    ipPermissions: permissionsWire(g.rules.filter((r) => !r.isEgress)),
    ipPermissionsEgress: permissionsWire(g.rules.filter((r) => r.isEgress)),
    tagSet: toWireTags(g.tags),
  };
}

function createSecurityGroup(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const name = str(params.GroupName);
  const text = str(params.GroupDescription);
  if (!name) throw missingParameter("GroupName");
  if (text === undefined || text === "") throw missingParameter("GroupDescription");
  if (name.length > 255 || text.length > 255) {
    throw invalidParameterValue("Group names and descriptions are limited to 255 characters");
  }
  if (name.toLowerCase().startsWith("sg-")) {
    throw invalidParameterValue("Group names may not be in the format sg-*");
  }
  if (name === "default") {
    throw invalidParameterValue("Cannot use reserved security group name: default");
  }
  const vpcId = str(params.VpcId) ?? defaultVpcId(ctx);
  if (!vpcId || !ctx.state.vpcs.has(vpcId)) {
    throw new AwsError("InvalidVpcID.NotFound", `The vpc ID '${vpcId ?? ""}' does not exist`);
  }
  const duplicate = [...ctx.state.securityGroups.values()].some(
    (g) => g.vpcId === vpcId && g.groupName === name,
  );
  if (duplicate) {
    throw new AwsError(
      "InvalidGroup.Duplicate",
      `The security group '${name}' already exists for VPC '${vpcId}'`,
    );
  }
  const group: SecurityGroup = {
    groupId: newId("sg"),
    groupName: name,
    description: text,
    vpcId,
    rules: [
      { ruleId: newId("sgr"), isEgress: true, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", tags: {} },
    ],
    tags: readEc2Tags(params, "security-group"),
  };
  ctx.state.securityGroups.set(group.groupId, group);
  return {
    groupId: group.groupId,
    securityGroupArn: ctx.state.arn("ec2", `security-group/${group.groupId}`),
    tagSet: toWireTags(group.tags),
  };
}

function describeSecurityGroups(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const ids = strings(params.GroupId);
  const names = strings(params.GroupName);
  const filters = readFilters(params);
  const fields: FilterFields<SecurityGroup> = {
    "group-id": (g) => [g.groupId],
    "group-name": (g) => [g.groupName],
    "vpc-id": (g) => [g.vpcId],
    description: (g) => [g.description],
    "owner-id": () => [ACCOUNT_ID],
    "ip-permission.protocol": (g) => g.rules.filter((r) => !r.isEgress).map((r) => r.ipProtocol),
    "ip-permission.cidr": (g) => g.rules.filter((r) => !r.isEgress).map((r) => r.cidrIpv4),
    "ip-permission.group-id": (g) =>
      g.rules.filter((r) => !r.isEgress).map((r) => r.referencedGroupId),
    "egress.ip-permission.cidr": (g) => g.rules.filter((r) => r.isEgress).map((r) => r.cidrIpv4),
  };
  checkFilterNames(filters, fields, true);
  const groups = [...ctx.state.securityGroups.values()];
  const missingId = ids.find((id) => !ctx.state.securityGroups.has(id));
  if (missingId) throw groupNotFound(missingId);
  const vpcId = defaultVpcId(ctx);
  const missingName = names.find(
    (name) => !groups.some((g) => g.groupName === name && g.vpcId === vpcId),
  );
  if (missingName) {
    throw new AwsError(
      "InvalidGroup.NotFound",
      `The security group '${missingName}' does not exist in default VPC '${vpcId ?? "none"}'`,
    );
  }
  const selected = groups.filter(
    (g) =>
      (ids.length === 0 || ids.includes(g.groupId)) &&
      (names.length === 0 || (names.includes(g.groupName) && g.vpcId === vpcId)) &&
      matchesFilters(g, filters, fields, (x) => x.tags),
  );
  const { items, nextToken } = page(selected, (g) => g.groupId, params, { min: 5, max: 1000 });
  return { securityGroupInfo: items.map((g) => securityGroupWire(ctx, g)), nextToken };
}

function authorize(isEgress: boolean) {
  return (params: Params, ctx: SandboxContext) => {
    checkDryRun(params);
    const group = findGroup(ctx, params);
    const wanted = readRules(ctx, params, group, isEgress);
    for (const [i, rule] of wanted.entries()) {
      const twice = wanted.slice(0, i).some((other) => sameRule(other, rule));
      if (twice || group.rules.some((existing) => sameRule(existing, rule))) {
        throw new AwsError(
          "InvalidPermission.Duplicate",
          `the specified rule "${ruleText(rule)}" already exists`,
        );
      }
    }
    const count = group.rules.filter((r) => r.isEgress === isEgress).length;
    if (count + wanted.length > MAX_RULES_PER_DIRECTION) {
      throw new AwsError(
        "RulesPerSecurityGroupLimitExceeded",
        "The maximum number of rules per security group has been reached.",
      );
    }
    const tags = readEc2Tags(params, "security-group-rule");
    const added = wanted.map((rule) => ({ ...rule, ruleId: newId("sgr"), tags: { ...tags } }));
    group.rules.push(...added);
    return { return: true, securityGroupRuleSet: added.map((r) => ruleWire(ctx, group, r)) };
  };
}

function revoke(isEgress: boolean) {
  return (params: Params, ctx: SandboxContext) => {
    checkDryRun(params);
    const group = findGroup(ctx, params);
    const ruleIds = strings(params.SecurityGroupRuleId);
    let removed: SecurityGroupRule[];
    if (ruleIds.length > 0) {
      removed = ruleIds.map((id) => {
        const rule = group.rules.find((r) => r.ruleId === id && r.isEgress === isEgress);
        if (!rule) {
          throw new AwsError(
            "InvalidSecurityGroupRuleId.NotFound",
            `The security group rule ID '${id}' does not exist`,
          );
        }
        return rule;
      });
    } else {
      removed = readRules(ctx, params, group, isEgress).map((wanted) => {
        const rule = group.rules.find((r) => sameRule(r, wanted));
        if (!rule) {
          throw new AwsError(
            "InvalidPermission.NotFound",
            `The specified rule does not exist in this security group.`,
          );
        }
        return rule;
      });
    }
    group.rules = group.rules.filter((r) => !removed.includes(r));
    return {
      return: true,
      revokedSecurityGroupRuleSet: removed.map((r) => ({
        securityGroupRuleId: r.ruleId,
        groupId: group.groupId,
        isEgress: r.isEgress,
        ipProtocol: r.ipProtocol,
        fromPort: r.fromPort ?? -1,
        toPort: r.toPort ?? -1,
        cidrIpv4: r.cidrIpv4,
        cidrIpv6: r.cidrIpv6,
        prefixListId: r.prefixListId,
        referencedGroupId: r.referencedGroupId,
        description: r.description,
      })),
    };
  };
}

function deleteSecurityGroup(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const group = findGroup(ctx, params);
  if (group.groupName === "default") {
    throw new AwsError(
      "CannotDelete",
      `the specified group: "${group.groupId}" name: "default" cannot be deleted by a user`,
    );
  }
  const dependent = () =>
    new AwsError("DependencyViolation", `resource ${group.groupId} has a dependent object`);
  const referencing = [...ctx.state.securityGroups.values()].some(
    (g) => g !== group && g.rules.some((r) => r.referencedGroupId === group.groupId),
  );
  if (referencing) throw dependent();
  const byLoadBalancer = [...ctx.state.loadBalancers.values()].some((lb) =>
    lb.securityGroups.includes(group.groupId),
  );
  if (byLoadBalancer) throw dependent();
  const byInstance = [...ctx.state.instances.values()].some(
    (i) => i.state !== "terminated" && instanceSecurityGroupIds(ctx, i).includes(group.groupId),
  );
  if (byInstance) throw dependent();
  ctx.state.securityGroups.delete(group.groupId);
  return { return: true, groupId: group.groupId };
}

interface RuleRow {
  group: SecurityGroup;
  rule: SecurityGroupRule;
}

function describeSecurityGroupRules(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const ids = strings(params.SecurityGroupRuleId);
  const filters = readFilters(params);
  const fields: FilterFields<RuleRow> = {
    "group-id": (r) => [r.group.groupId],
    "security-group-rule-id": (r) => [r.rule.ruleId],
  };
  checkFilterNames(filters, fields, true);
  const rows: RuleRow[] = [...ctx.state.securityGroups.values()].flatMap((group) =>
    group.rules.map((rule) => ({ group, rule })),
  );
  const missing = ids.find((id) => !rows.some((r) => r.rule.ruleId === id));
  if (missing) {
    throw new AwsError(
      "InvalidSecurityGroupRuleId.NotFound",
      `The security group rule ID '${missing}' does not exist`,
    );
  }
  const selected = rows.filter(
    (r) =>
      (ids.length === 0 || ids.includes(r.rule.ruleId)) &&
      matchesFilters(r, filters, fields, (x) => x.rule.tags),
  );
  const { items, nextToken } = page(selected, (r) => r.rule.ruleId, params, { min: 5, max: 1000 });
  return {
    securityGroupRuleSet: items.map((r) => ruleWire(ctx, r.group, r.rule)),
    nextToken,
  };
}

export const securityGroupHandlers: QueryHandlers = {
  CreateSecurityGroup: createSecurityGroup,
  DescribeSecurityGroups: describeSecurityGroups,
  DeleteSecurityGroup: deleteSecurityGroup,
  AuthorizeSecurityGroupIngress: authorize(false),
  AuthorizeSecurityGroupEgress: authorize(true),
  RevokeSecurityGroupIngress: revoke(false),
  RevokeSecurityGroupEgress: revoke(true),
  DescribeSecurityGroupRules: describeSecurityGroupRules,
};
