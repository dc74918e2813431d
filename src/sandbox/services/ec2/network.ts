/**
 * The read-only part of the account: images, VPCs (and their attributes), subnets, and the
 * network interfaces of running instances and load balancers. The sandbox seeds images, VPCs and
 * subnets (seed.ts); EC2 here only describes them.
 */
import { createHash } from "node:crypto";
import type { QueryHandlers, SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import { type Params, str } from "../../protocol/query.js";
import type { Image, Subnet, Vpc } from "../../state.js";
import { ACCOUNT_ID } from "../../state.js";
import {
  checkDryRun,
  checkFilterNames,
  type FilterFields,
  invalidParameterValue,
  matchesFilters,
  missingParameter,
  notFoundList,
  page,
  readFilters,
  strings,
} from "./common.js";
import { instanceSecurityGroupIds } from "./instances.js";

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
  isDefault: (v) => [String(v.isDefault)],
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

const VPC_ATTRIBUTES = [
  "enableDnsSupport",
  "enableDnsHostnames",
  "enableNetworkAddressUsageMetrics",
] as const;

/** DescribeVpcAttribute: a default VPC resolves DNS names and gives instances DNS hostnames. */
function describeVpcAttribute(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const vpcId = str(params.VpcId);
  if (!vpcId) throw missingParameter("VpcId");
  const attribute = str(params.Attribute);
  if (!attribute) throw missingParameter("Attribute");
  if (!(VPC_ATTRIBUTES as readonly string[]).includes(attribute)) {
    throw invalidParameterValue(
      `Value (${attribute}) for parameter attribute is invalid. Unknown attribute.`,
    );
  }
  const vpc = ctx.state.vpcs.get(vpcId);
  if (!vpc) throw new AwsError("InvalidVpcID.NotFound", `The vpc ID '${vpcId}' does not exist`);
  const value = attribute !== "enableNetworkAddressUsageMetrics";
  return { vpcId, [attribute]: { value } };
}

interface NetworkInterfaceView {
  id: string;
  subnet: Subnet;
  description: string;
  privateIp: string;
  groups: string[];
  interfaceType: string;
  requesterId?: string;
  instanceId?: string;
}

/** A stable id and address for an interface the sandbox derives from its owner and subnet. */
function interfaceIdentity(owner: string, subnet: Subnet): { id: string; privateIp: string } {
  const digest = createHash("sha256").update(`${owner}/${subnet.subnetId}`).digest();
  const base = subnet.cidrBlock.split("/")[0]!.split(".").map(Number);
  const host = 4 + (digest.readUInt16BE(0) % 4000);
  const ip = [base[0], base[1], (base[2] ?? 0) + Math.floor(host / 256), host % 256].join(".");
  return { id: `eni-${digest.toString("hex").slice(0, 17)}`, privateIp: ip };
}

/**
 * The interfaces behind what runs: one per running instance (its private address) and one per
 * subnet of each load balancer (`ELB app/<name>/<id>`, requester-managed). They appear and go
 * with their owners and cannot be created or changed.
 */
function networkInterfaces(ctx: SandboxContext): NetworkInterfaceView[] {
  const views: NetworkInterfaceView[] = [];
  for (const instance of ctx.state.instances.values()) {
    if (instance.state === "terminated") continue;
    const subnet = ctx.state.subnets.get(instance.subnetId);
    if (!subnet) continue;
    views.push({
      id: interfaceIdentity(instance.instanceId, subnet).id,
      subnet,
      description: "",
      privateIp: instance.privateIpAddress,
      groups: instanceSecurityGroupIds(ctx, instance),
      interfaceType: "interface",
      instanceId: instance.instanceId,
    });
  }
  for (const lb of ctx.state.loadBalancers.values()) {
    const suffix = lb.arn.slice(lb.arn.indexOf(":loadbalancer/") + ":loadbalancer/".length);
    for (const subnetId of lb.subnets) {
      const subnet = ctx.state.subnets.get(subnetId);
      if (!subnet) continue;
      const { id, privateIp } = interfaceIdentity(lb.arn, subnet);
      views.push({
        id,
        subnet,
        description: `ELB ${suffix}`,
        privateIp,
        groups: lb.securityGroups,
        interfaceType: "interface",
        requesterId: "amazon-elb",
      });
    }
  }
  return views;
}

const interfaceFields: FilterFields<NetworkInterfaceView> = {
  "network-interface-id": (n) => [n.id],
  description: (n) => [n.description],
  "group-id": (n) => n.groups,
  "vpc-id": (n) => [n.subnet.vpcId],
  "subnet-id": (n) => [n.subnet.subnetId],
  "availability-zone": (n) => [n.subnet.availabilityZone],
  "attachment.instance-id": (n) => [n.instanceId],
  "attachment.status": () => ["attached"],
  "private-ip-address": (n) => [n.privateIp],
  "addresses.private-ip-address": (n) => [n.privateIp],
  status: () => ["in-use"],
  "interface-type": (n) => [n.interfaceType],
  "requester-id": (n) => [n.requesterId],
  "requester-managed": (n) => [String(n.requesterId !== undefined)],
  "owner-id": () => [ACCOUNT_ID],
};

function describeNetworkInterfaces(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const ids = strings(params.NetworkInterfaceId);
  const filters = readFilters(params);
  checkFilterNames(filters, interfaceFields, true);
  const all = networkInterfaces(ctx);
  const missing = ids.find((id) => !all.some((n) => n.id === id));
  if (missing) {
    throw new AwsError(
      "InvalidNetworkInterfaceID.NotFound",
      `The networkInterface ID '${missing}' does not exist`,
    );
  }
  const selected = all.filter(
    (n) =>
      (ids.length === 0 || ids.includes(n.id)) &&
      matchesFilters(n, filters, interfaceFields, noTags),
  );
  const { items, nextToken } = page(selected, (n) => n.id, params, { min: 5, max: 1000 });
  return {
    networkInterfaceSet: items.map((n) => ({
      networkInterfaceId: n.id,
      subnetId: n.subnet.subnetId,
      vpcId: n.subnet.vpcId,
      availabilityZone: n.subnet.availabilityZone,
      description: n.description,
      ownerId: ACCOUNT_ID,
      requesterId: n.requesterId,
      requesterManaged: n.requesterId !== undefined,
      status: "in-use",
      macAddress: `02:${n.id.slice(4, 14).match(/../g)?.join(":") ?? "00:00:00:00:00"}`,
      privateIpAddress: n.privateIp,
      sourceDestCheck: true,
      interfaceType: n.interfaceType,
      groupSet: n.groups.map((groupId) => ({
        groupId,
        groupName: ctx.state.securityGroups.get(groupId)?.groupName,
      })),
      attachment: n.instanceId
        ? {
            attachmentId: `eni-attach-${n.id.slice(4)}`,
            instanceId: n.instanceId,
            instanceOwnerId: ACCOUNT_ID,
            deviceIndex: 0,
            status: "attached",
            deleteOnTermination: true,
          }
        : undefined,
      privateIpAddressesSet: [{ privateIpAddress: n.privateIp, primary: true }],
      ipv6AddressesSet: [],
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
  DescribeVpcAttribute: describeVpcAttribute,
  DescribeNetworkInterfaces: describeNetworkInterfaces,
};
