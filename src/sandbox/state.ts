/**
 * The one state store of the sandbox: every resource of every service, in plain objects close
 * to the APIs' own shapes. Services read and change it; the runtime (instances, health checks,
 * listener proxies) acts on it. One account, one region.
 */
import { randomBytes } from "node:crypto";
import type { Clock } from "./clock.js";
import { type MetricAlarm, MetricStore } from "./metrics.js";

export const ACCOUNT_ID = "123456789012";

// ---------- S3 ----------
export interface S3Object {
  key: string;
  body: Buffer;
  etag: string; // quoted, as in headers
  lastModified: Date;
  contentType?: string;
  metadata: Record<string, string>;
  /** Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires as sent */
  headers?: Record<string, string>;
  /** the additional checksum sent with the upload (base64), returned when the reader asks for it */
  checksum?: { algorithm: string; value: string };
  /** the sizes of the parts a multipart upload assembled it from, in order */
  partSizes?: number[];
}
export interface MultipartPart {
  partNumber: number;
  body: Buffer;
  etag: string; // quoted
  lastModified: Date;
  checksum?: { algorithm: string; value: string };
}
export interface MultipartUpload {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: Date;
  contentType?: string;
  metadata: Record<string, string>;
  headers?: Record<string, string>;
  parts: Map<number, MultipartPart>;
}
export interface BucketSetting {
  body: string;
  /** response headers that belong to the setting (e.g. lifecycle's minimum transition size) */
  headers?: Record<string, string>;
}
export interface Bucket {
  name: string;
  createdAt: Date;
  objects: Map<string, S3Object>;
  /** bucket settings by sub-resource (`versioning`, `lifecycle`, …), as the PUT sent them */
  settings?: Map<string, BucketSetting>;
}

// ---------- EC2 ----------
/** How instances from an image behave: run the release from user data, or never answer. */
export type ImageBehaviour = "runs-release" | "never-healthy";
export interface Image {
  imageId: string;
  name: string;
  description: string;
  creationDate: Date;
  behaviour: ImageBehaviour;
}
export interface Vpc {
  vpcId: string;
  cidrBlock: string;
  isDefault: boolean;
}
export interface Subnet {
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  cidrBlock: string;
}
/** One rule of a security group, as `DescribeSecurityGroupRules` shows it: one peer each. */
export interface SecurityGroupRule {
  ruleId: string;
  isEgress: boolean;
  /** `tcp`, `udp`, `icmp`, `icmpv6`, `-1` (all) or a protocol number */
  ipProtocol: string;
  fromPort?: number;
  toPort?: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  prefixListId?: string;
  referencedGroupId?: string;
  description?: string;
  tags: Record<string, string>;
}
export interface SecurityGroup {
  groupId: string;
  groupName: string;
  description: string;
  vpcId: string;
  rules: SecurityGroupRule[];
  tags: Record<string, string>;
}
export interface LaunchTemplateData {
  imageId?: string;
  instanceType?: string;
  /** base64, as on the wire */
  userData?: string;
  securityGroupIds: string[];
  iamInstanceProfile?: { name?: string; arn?: string };
  keyName?: string;
}
export interface LaunchTemplateVersion {
  versionNumber: number;
  createdAt: Date;
  description?: string;
  data: LaunchTemplateData;
}
export interface LaunchTemplate {
  id: string;
  name: string;
  createdAt: Date;
  defaultVersion: number;
  latestVersion: number;
  versions: LaunchTemplateVersion[];
  tags: Record<string, string>;
}
export type InstanceState = "pending" | "running" | "shutting-down" | "terminated";
export interface Instance {
  instanceId: string;
  imageId: string;
  instanceType: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  privateIpAddress: string;
  state: InstanceState;
  launchTime: Date;
  launchTemplate?: { id: string; name: string; version: string };
  userData?: string; // base64
  tags: Record<string, string>;
  /** The loopback port the instance's application really listens on (0 until it starts). */
  hostPort: number;
  /** Why the release did not start, when it did not. */
  bootError?: string;
  terminatedAt?: number;
}

// ---------- ELBv2 ----------
export interface TargetGroupTuple {
  TargetGroupArn: string;
  Weight?: number;
}
export interface Action {
  Type: "forward" | "fixed-response" | "redirect";
  Order?: number;
  TargetGroupArn?: string;
  ForwardConfig?: {
    TargetGroups: TargetGroupTuple[];
    TargetGroupStickinessConfig?: { Enabled: boolean; DurationSeconds?: number };
  };
  FixedResponseConfig?: { StatusCode: string; ContentType?: string; MessageBody?: string };
  RedirectConfig?: Record<string, string>;
}
export interface LoadBalancer {
  arn: string;
  name: string;
  dnsName: string;
  scheme: string;
  vpcId: string;
  subnets: string[];
  securityGroups: string[];
  createdAt: Date;
  /** attributes changed with ModifyLoadBalancerAttributes (the rest have AWS's defaults) */
  attributes?: Record<string, string>;
}
export interface Listener {
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: string;
  defaultActions: Action[];
  /** attributes changed with ModifyListenerAttributes (the rest have AWS's defaults) */
  attributes?: Record<string, string>;
}
export interface Condition {
  Field?: string;
  Values?: string[];
  PathPatternConfig?: { Values: string[] };
  HostHeaderConfig?: { Values: string[] };
}
export interface Rule {
  arn: string;
  listenerArn: string;
  /** "default" for a listener's default rule */
  priority: string;
  conditions: Condition[];
  actions: Action[];
}
export interface HealthCheck {
  protocol: string;
  port: string; // "traffic-port" or a number
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  matcher: string;
  enabled: boolean;
}
export type TargetHealthState = "initial" | "healthy" | "unhealthy" | "unused" | "draining";
export interface Target {
  id: string;
  port: number;
  state: TargetHealthState;
  reason?: string;
  description?: string;
  okStreak: number;
  failStreak: number;
  registeredAt: number;
  /** when a draining target is finally removed (real ms) */
  drainUntil?: number;
  /** when health checks last moved the target to healthy or unhealthy (real ms) */
  stateSince?: number;
}
export interface TargetGroup {
  arn: string;
  name: string;
  protocol: string;
  port: number;
  vpcId: string;
  targetType: "instance";
  healthCheck: HealthCheck;
  attributes: Record<string, string>;
  createdAt: Date;
  targets: Map<string, Target>;
}

// ---------- Auto Scaling ----------
export type LifecycleState = "Pending" | "InService" | "Terminating" | "Terminated";
export interface AsgInstance {
  instanceId: string;
  availabilityZone: string;
  lifecycleState: LifecycleState;
  healthStatus: "Healthy" | "Unhealthy";
  launchTemplate?: { LaunchTemplateId: string; LaunchTemplateName: string; Version: string };
  instanceType: string;
  protectedFromScaleIn: boolean;
  launchedAt: number;
}
export interface AsgTag {
  Key: string;
  Value: string;
  PropagateAtLaunch: boolean;
}
export interface AutoScalingGroup {
  name: string;
  arn: string;
  launchTemplate: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string };
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  defaultCooldown: number;
  availabilityZones: string[];
  vpcZoneIdentifier: string;
  healthCheckType: "EC2" | "ELB";
  healthCheckGracePeriod: number;
  targetGroupArns: string[];
  instances: Map<string, AsgInstance>;
  /** process name → reason */
  suspendedProcesses: Map<string, string>;
  tags: AsgTag[];
  createdAt: Date;
  /** set while DeleteAutoScalingGroup is running */
  status?: "Delete in progress";
  newInstancesProtectedFromScaleIn: boolean;
  terminationPolicies: string[];
}
export interface Activity {
  activityId: string;
  autoScalingGroupName: string;
  description: string;
  cause: string;
  startTime: Date;
  endTime?: Date;
  statusCode: "Successful" | "Failed" | "InProgress" | "Cancelled" | "WaitingForSpotInstanceId";
  statusMessage?: string;
  progress: number;
  details: string;
}
/** Stored in the API's own shape (PutScalingPolicy's parameters plus ARN and alarms). */
export type ScalingPolicy = Record<string, unknown> & {
  PolicyName: string;
  PolicyARN: string;
  AutoScalingGroupName: string;
};
export type ScheduledAction = Record<string, unknown> & {
  ScheduledActionName: string;
  ScheduledActionARN: string;
  AutoScalingGroupName: string;
};

// ---------- IAM (stored and returned, never enforced) ----------
export interface IamRole {
  roleName: string;
  roleId: string;
  path: string;
  arn: string;
  createdAt: Date;
  /** the trust policy, JSON as sent */
  assumeRolePolicyDocument: string;
  description?: string;
  maxSessionDuration: number;
  permissionsBoundary?: string;
  tags: Record<string, string>;
  /** inline policies: name → JSON document as sent */
  inlinePolicies: Map<string, string>;
  attachedPolicyArns: string[];
}
export interface IamPolicyVersion {
  versionId: string;
  document: string;
  createdAt: Date;
}
export interface IamPolicy {
  policyName: string;
  policyId: string;
  path: string;
  arn: string;
  description?: string;
  createdAt: Date;
  updatedAt: Date;
  defaultVersionId: string;
  versions: IamPolicyVersion[];
  /** the number the next CreatePolicyVersion takes (`v<n>`) */
  nextVersion: number;
  tags: Record<string, string>;
}
export interface IamInstanceProfile {
  name: string;
  id: string;
  path: string;
  arn: string;
  createdAt: Date;
  roleNames: string[];
  tags: Record<string, string>;
}

// ---------- the store ----------
export class SandboxState {
  readonly region: string;
  readonly clock: Clock;
  readonly buckets = new Map<string, Bucket>();
  /** S3 multipart uploads in progress, by upload id */
  readonly multipartUploads = new Map<string, MultipartUpload>();
  readonly images = new Map<string, Image>();
  readonly vpcs = new Map<string, Vpc>();
  readonly subnets = new Map<string, Subnet>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  readonly launchTemplates = new Map<string, LaunchTemplate>();
  readonly instances = new Map<string, Instance>();
  readonly loadBalancers = new Map<string, LoadBalancer>();
  readonly listeners = new Map<string, Listener>();
  readonly rules = new Map<string, Rule>();
  readonly targetGroups = new Map<string, TargetGroup>();
  /** ELBv2 tags by resource ARN */
  readonly elbTags = new Map<string, Map<string, string>>();
  readonly autoScalingGroups = new Map<string, AutoScalingGroup>();
  readonly activities: Activity[] = [];
  readonly policies = new Map<string, ScalingPolicy>();
  readonly scheduledActions = new Map<string, ScheduledAction>();
  /** CloudWatch metric samples (from listener proxies and host-count sampling) */
  readonly metrics: MetricStore;
  /** CloudWatch metric alarms by name */
  readonly alarms = new Map<string, MetricAlarm>();
  /** IAM roles by name */
  readonly iamRoles = new Map<string, IamRole>();
  /** IAM customer managed policies by ARN */
  readonly iamPolicies = new Map<string, IamPolicy>();
  /** IAM instance profiles by name */
  readonly iamInstanceProfiles = new Map<string, IamInstanceProfile>();

  constructor(region: string, clock: Clock) {
    this.region = region;
    this.clock = clock;
    this.metrics = new MetricStore(clock);
  }

  arn(service: string, resource: string): string {
    return `arn:aws:${service}:${this.region}:${ACCOUNT_ID}:${resource}`;
  }
}

/** A hex id like AWS's: `newId("i")` → `i-0a1b2c3d4e5f60718`. */
export function newId(prefix: string, bytes = 9): string {
  return `${prefix}-${randomBytes(bytes).toString("hex").slice(0, 17)}`;
}

export function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}
