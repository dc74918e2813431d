/**
 * The read-only part of the account: images, VPCs, subnets and security groups. The sandbox
 * seeds them (seed.ts); EC2 here only describes them.
 */
import type { QueryHandlers, SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import type { Params } from "../../protocol/query.js";
import type { Image, SecurityGroup, Subnet, Vpc } from "../../state.js";
import { ACCOUNT_ID } from "../../state.js";
import {
  checkDryRun,
  checkFilterNames,
  type FilterFields,
  matchesFilters,
  notFoundList,
  page,
  readFilters,
  strings,
} from "./common.js";

const AMI_ID = /^ami-[0-9a-z]{8,17}$/i;

const imageFields: FilterFields<Image> = {
  name: (i) => [i.name],
  "image-id": (i) => [i.imageId],
  state: () => ["available"],
  description: (i) => [i.description],
  "owner-id": () => [ACCOUNT_ID],
  "image-type": () => ["machine"],
  architecture: () => ["x86_64"],
  "is-public": () => ["false"],
  "root-device-type": () => ["ebs"],
  "virtualization-type": () => ["hvm"],
};

function describeImages(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const ids = strings(params.ImageId);
  const owners = strings(params.Owner);
  const filters = readFilters(params);
  checkFilterNames(filters, imageFields, false);
  const malformed = ids.find((id) => !AMI_ID.test(id));
  if (malformed) {
    throw new AwsError(
      "InvalidAMIID.Malformed",
      `Invalid id: "${malformed}" (expecting "ami-...")`,
    );
  }
  const missing = ids.filter((id) => !ctx.state.images.has(id));
  if (missing.length > 0)
    throw new AwsError("InvalidAMIID.NotFound", notFoundList("image", missing));
  const images = [...ctx.state.images.values()].filter(
    (image) =>
      (ids.length === 0 || ids.includes(image.imageId)) &&
      (owners.length === 0 || owners.some((o) => o === "self" || o === ACCOUNT_ID)) &&
      matchesFilters(image, filters, imageFields),
  );
  const { items, nextToken } = page(images, (i) => i.imageId, params, { min: 6, max: 1000 });
  return { imagesSet: items.map(imageWire), nextToken };
}

function imageWire(image: Image) {
  return {
    imageId: image.imageId,
    imageLocation: `${ACCOUNT_ID}/${image.name}`,
    imageState: "available",
    imageOwnerId: ACCOUNT_ID,
    creationDate: image.creationDate.toISOString(),
    isPublic: false,
    architecture: "x86_64",
    imageType: "machine",
    name: image.name,
    description: image.description,
    rootDeviceType: "ebs",
    rootDeviceName: "/dev/xvda",
    virtualizationType: "hvm",
    hypervisor: "xen",
    enaSupport: true,
    platformDetails: "Linux/UNIX",
    usageOperation: "RunInstances",
    bootMode: "uefi-preferred",
  };
}

const vpcFields: FilterFields<Vpc> = {
  "vpc-id": (v) => [v.vpcId],
  "is-default": (v) => [String(v.isDefault)],
  "cidr-block": (v) => [v.cidrBlock],
  cidr: (v) => [v.cidrBlock],
  "cidr-block-association.cidr-block": (v) => [v.cidrBlock],
  state: () => ["available"],
  "owner-id": () => [ACCOUNT_ID],
};

function describeVpcs(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const ids = strings(params.VpcId);
  const filters = readFilters(params);
  checkFilterNames(filters, vpcFields, true);
  const missing = ids.find((id) => !ctx.state.vpcs.has(id));
  if (missing)
    throw new AwsError("InvalidVpcID.NotFound", `The vpc ID '${missing}' does not exist`);
  const vpcs = [...ctx.state.vpcs.values()].filter(
    (v) =>
      (ids.length === 0 || ids.includes(v.vpcId)) && matchesFilters(v, filters, vpcFields, noTags),
  );
  const { items, nextToken } = page(vpcs, (v) => v.vpcId, params, { min: 5, max: 1000 });
  return {
    vpcSet: items.map((v) => ({
      vpcId: v.vpcId,
      ownerId: ACCOUNT_ID,
      state: "available",
      cidrBlock: v.cidrBlock,
      dhcpOptionsId: "dopt-0sandbox00000001",
      instanceTenancy: "default",
      isDefault: v.isDefault,
      cidrBlockAssociationSet: [
        {
          associationId: `vpc-cidr-assoc-${v.vpcId.slice(4)}`,
          cidrBlock: v.cidrBlock,
          cidrBlockState: { state: "associated" },
        },
      ],
      tagSet: [],
    })),
    nextToken,
  };
}

function zoneId(ctx: SandboxContext, availabilityZone: string): string {
  const letter = availabilityZone.slice(ctx.state.region.length);
  const index = Math.max(0, letter.charCodeAt(0) - 96);
  const short = ctx.state.region.replace(/^(\w\w)-(\w)\w*-(\d+)$/, "$1$2$3");
  return `${short}-az${index}`;
}

function isDefaultVpc(ctx: SandboxContext, vpcId: string): boolean {
  return ctx.state.vpcs.get(vpcId)?.isDefault === true;
}

function describeSubnets(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const ids = strings(params.SubnetId);
  const filters = readFilters(params);
  const fields: FilterFields<Subnet> = {
    "subnet-id": (s) => [s.subnetId],
    "vpc-id": (s) => [s.vpcId],
    "availability-zone": (s) => [s.availabilityZone],
    availabilityZone: (s) => [s.availabilityZone],
    "availability-zone-id": (s) => [zoneId(ctx, s.availabilityZone)],
    "cidr-block": (s) => [s.cidrBlock],
    cidr: (s) => [s.cidrBlock],
    cidrBlock: (s) => [s.cidrBlock],
    "default-for-az": (s) => [String(isDefaultVpc(ctx, s.vpcId))],
    defaultForAz: (s) => [String(isDefaultVpc(ctx, s.vpcId))],
    state: () => ["available"],
    "owner-id": () => [ACCOUNT_ID],
  };
  checkFilterNames(filters, fields, true);
  const missing = ids.find((id) => !ctx.state.subnets.has(id));
  if (missing) {
    throw new AwsError("InvalidSubnetID.NotFound", `The subnet ID '${missing}' does not exist`);
  }
  const subnets = [...ctx.state.subnets.values()].filter(
    (s) =>
      (ids.length === 0 || ids.includes(s.subnetId)) && matchesFilters(s, filters, fields, noTags),
  );
  const { items, nextToken } = page(subnets, (s) => s.subnetId, params, { min: 5, max: 1000 });
  return {
    subnetSet: items.map((s) => ({
      subnetId: s.subnetId,
      subnetArn: ctx.state.arn("ec2", `subnet/${s.subnetId}`),
      state: "available",
      vpcId: s.vpcId,
      ownerId: ACCOUNT_ID,
      cidrBlock: s.cidrBlock,
      availableIpAddressCount: availableAddresses(s.cidrBlock),
      availabilityZone: s.availabilityZone,
      availabilityZoneId: zoneId(ctx, s.availabilityZone),
      defaultForAz: isDefaultVpc(ctx, s.vpcId),
      mapPublicIpOnLaunch: isDefaultVpc(ctx, s.vpcId),
      assignIpv6AddressOnCreation: false,
      ipv6Native: false,
      tagSet: [],
    })),
    nextToken,
  };
}

/** Addresses in a CIDR block less the five AWS reserves in every subnet. */
function availableAddresses(cidr: string): number {
  const bits = Number(cidr.split("/")[1] ?? "32");
  return Math.max(0, 2 ** (32 - bits) - 5);
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
  };
  checkFilterNames(filters, fields, true);
  const groups = [...ctx.state.securityGroups.values()];
  const missingId = ids.find((id) => !ctx.state.securityGroups.has(id));
  if (missingId) {
    throw new AwsError("InvalidGroup.NotFound", `The security group '${missingId}' does not exist`);
  }
  const defaultVpc = [...ctx.state.vpcs.values()].find((v) => v.isDefault);
  const missingName = names.find(
    (name) => !groups.some((g) => g.groupName === name && g.vpcId === defaultVpc?.vpcId),
  );
  if (missingName) {
    throw new AwsError(
      "InvalidGroup.NotFound",
      `The security group '${missingName}' does not exist in default VPC '${defaultVpc?.vpcId ?? "none"}'`,
    );
  }
  const selected = groups.filter(
    (g) =>
      (ids.length === 0 || ids.includes(g.groupId)) &&
      (names.length === 0 || (names.includes(g.groupName) && g.vpcId === defaultVpc?.vpcId)) &&
      matchesFilters(g, filters, fields, noTags),
  );
  const { items, nextToken } = page(selected, (g) => g.groupId, params, { min: 5, max: 1000 });
  return {
    securityGroupInfo: items.map((g) => ({
      ownerId: ACCOUNT_ID,
      groupId: g.groupId,
      groupName: g.groupName,
      groupDescription: g.description,
      vpcId: g.vpcId,
      securityGroupArn: ctx.state.arn("ec2", `security-group/${g.groupId}`),
      ipPermissions: [
        {
          ipProtocol: "-1",
          groups: [{ userId: ACCOUNT_ID, groupId: g.groupId }],
          ipRanges: [],
          ipv6Ranges: [],
          prefixListIds: [],
        },
      ],
      ipPermissionsEgress: [
        {
          ipProtocol: "-1",
          groups: [],
          ipRanges: [{ cidrIp: "0.0.0.0/0" }],
          ipv6Ranges: [],
          prefixListIds: [],
        },
      ],
      tagSet: [],
    })),
    nextToken,
  };
}

/** The seeded network resources carry no tags: tag filters match nothing. */
function noTags(): Record<string, string> {
  return {};
}

export const networkHandlers: QueryHandlers = {
  DescribeImages: describeImages,
  DescribeVpcs: describeVpcs,
  DescribeSubnets: describeSubnets,
  DescribeSecurityGroups: describeSecurityGroups,
};
