/**
 * Bucket settings kept as sub-resources (`?versioning`, `?encryption`, `?lifecycle`, …): each
 * PUT is checked as S3 checks it and stored as sent, GET returns what was stored (or S3's
 * default, or the error S3 answers when a setting was never made), DELETE removes it. A new
 * bucket starts as one made on S3 today: SSE-S3 encryption, every public access blocked, ACLs
 * disabled (`BucketOwnerEnforced`).
 *
 * The settings are stored, not acted on: versioning does not keep earlier versions, lifecycle
 * rules never expire anything, policies and ACLs are not enforced.
 */
import { XMLParser } from "fast-xml-parser";
import type { S3Request, S3Response, SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import type { Bucket, BucketSetting } from "../../state.js";
import { empty, header, malformedXml, OWNER, requireBucket, S3_NAMESPACE, text } from "./http.js";

interface Setting {
  /** the operation's name without Get/Put/Delete, for fault rules and logs */
  operation: string;
  /** the root element of the PUT body and the GET answer; undefined for JSON (policy) */
  root?: string;
  /** what GET answers when the setting was never made: a body, or the error S3 sends */
  absent: { body: string } | { error: () => AwsError };
  /** whether DELETE is an operation of this sub-resource */
  deletable: boolean;
  /** extra checks of a PUT body beyond its root element */
  check?: (node: Record<string, unknown>) => void;
}

const notFound = (code: string, message: string) => () => new AwsError(code, message, 404);
const xml = (root: string, inner = "") =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_NAMESPACE}">${inner}</${root}>`;

const ENCRYPTION_DEFAULT = xml(
  "ServerSideEncryptionConfiguration",
  "<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule>",
);
const PUBLIC_ACCESS_BLOCK_DEFAULT = xml(
  "PublicAccessBlockConfiguration",
  "<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets>",
);
const OWNERSHIP_DEFAULT = xml(
  "OwnershipControls",
  "<Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule>",
);
const ACL_DEFAULT = xml(
  "AccessControlPolicy",
  `<Owner><ID>${OWNER.ID}</ID><DisplayName>${OWNER.DisplayName}</DisplayName></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${OWNER.ID}</ID><DisplayName>${OWNER.DisplayName}</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList>`,
);

/** What a bucket holds when it is created. */
export function initialBucketSettings(): Map<string, BucketSetting> {
  return new Map([
    ["encryption", { body: ENCRYPTION_DEFAULT }],
    ["publicAccessBlock", { body: PUBLIC_ACCESS_BLOCK_DEFAULT }],
    ["ownershipControls", { body: OWNERSHIP_DEFAULT }],
  ]);
}

const TRANSITION_MINIMUM_HEADER = "x-amz-transition-default-minimum-object-size";

/** Lifecycle's `x-amz-transition-default-minimum-object-size`, sent and returned as a header. */
function transitionMinimum(req: S3Request): Record<string, string> {
  const value = header(req, TRANSITION_MINIMUM_HEADER) ?? "all_storage_classes_128K";
  if (value !== "all_storage_classes_128K" && value !== "varies_by_storage_class") {
    throw new AwsError(
      "InvalidRequest",
      `Invalid value for ${TRANSITION_MINIMUM_HEADER}: ${value}`,
    );
  }
  return { [TRANSITION_MINIMUM_HEADER]: value };
}

const many = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const node = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};

function oneOf(value: string | undefined, allowed: string[], optional = false): void {
  if (value === undefined && optional) return;
  if (value === undefined || !allowed.includes(value)) throw malformedXml();
}

function checkVersioning(config: Record<string, unknown>): void {
  oneOf(text(config, "Status"), ["Enabled", "Suspended"], true);
  oneOf(text(config, "MfaDelete"), ["Enabled", "Disabled"], true);
}

function checkEncryption(config: Record<string, unknown>): void {
  const rules = many(config.Rule);
  if (rules.length === 0) throw malformedXml();
  for (const rule of rules) {
    const byDefault = node(node(rule).ApplyServerSideEncryptionByDefault);
    const algorithm = text(byDefault, "SSEAlgorithm");
    oneOf(algorithm, ["AES256", "aws:kms", "aws:kms:dsse"]);
    if (algorithm === "AES256" && text(byDefault, "KMSMasterKeyID") !== undefined) {
      throw new AwsError(
        "InvalidArgument",
        "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
      );
    }
  }
}

function checkPublicAccessBlock(config: Record<string, unknown>): void {
  for (const name of [
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
  ]) {
    oneOf(text(config, name), ["true", "false"], true);
  }
}

const LIFECYCLE_ACTIONS = [
  "Expiration",
  "Transition",
  "NoncurrentVersionExpiration",
  "NoncurrentVersionTransition",
  "AbortIncompleteMultipartUpload",
];

function positiveDays(value: string | undefined, what: string): void {
  if (value === undefined) return;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new AwsError(
      "InvalidArgument",
      `'${what}' for a lifecycle rule must be a positive integer`,
    );
  }
}

function checkLifecycle(config: Record<string, unknown>): void {
  const rules = many(config.Rule).map(node);
  if (rules.length === 0 || rules.length > 1000) throw malformedXml();
  const ids = new Set<string>();
  for (const rule of rules) {
    oneOf(text(rule, "Status"), ["Enabled", "Disabled"]);
    const id = text(rule, "ID");
    if (id !== undefined) {
      if (id.length > 255) {
        throw new AwsError("InvalidArgument", "ID length should not exceed allowed limit of 255");
      }
      if (ids.has(id))
        throw new AwsError(
          "InvalidArgument",
          "Rule ID must be unique. Found same ID for more than one rule",
        );
      ids.add(id);
    }
    if (!LIFECYCLE_ACTIONS.some((action) => rule[action] !== undefined)) {
      throw new AwsError("InvalidRequest", "At least one action needs to be specified in a rule");
    }
    const expiration = node(rule.Expiration);
    positiveDays(text(expiration, "Days"), "Days");
    if (
      text(expiration, "ExpiredObjectDeleteMarker") !== undefined &&
      (text(expiration, "Days") ?? text(expiration, "Date")) !== undefined
    ) {
      throw malformedXml();
    }
    positiveDays(text(node(rule.NoncurrentVersionExpiration), "NoncurrentDays"), "NoncurrentDays");
    positiveDays(
      text(node(rule.AbortIncompleteMultipartUpload), "DaysAfterInitiation"),
      "DaysAfterInitiation",
    );
  }
}

function checkTagging(config: Record<string, unknown>): void {
  const tags = many(node(config.TagSet).Tag).map(node);
  if (tags.length > 50) throw new AwsError("InvalidTag", "Object tags cannot be greater than 50");
  const keys = new Set<string>();
  for (const tag of tags) {
    const key = text(tag, "Key");
    if (key === undefined || key === "" || key.length > 128) {
      throw new AwsError("InvalidTag", "The TagKey you have provided is invalid");
    }
    if (keys.has(key))
      throw new AwsError("InvalidTag", "Cannot provide multiple Tags with the same key");
    keys.add(key);
  }
}

function checkOwnership(config: Record<string, unknown>): void {
  const rules = many(config.Rule).map(node);
  if (rules.length !== 1) throw malformedXml();
  oneOf(text(rules[0], "ObjectOwnership"), [
    "BucketOwnerEnforced",
    "BucketOwnerPreferred",
    "ObjectWriter",
  ]);
}

export const BUCKET_SETTINGS: Record<string, Setting> = {
  versioning: {
    operation: "BucketVersioning",
    root: "VersioningConfiguration",
    absent: { body: xml("VersioningConfiguration") },
    deletable: false,
    check: checkVersioning,
  },
  encryption: {
    operation: "BucketEncryption",
    root: "ServerSideEncryptionConfiguration",
    absent: {
      error: notFound(
        "ServerSideEncryptionConfigurationNotFoundError",
        "The server side encryption configuration was not found",
      ),
    },
    deletable: true,
    check: checkEncryption,
  },
  publicAccessBlock: {
    operation: "PublicAccessBlock",
    root: "PublicAccessBlockConfiguration",
    absent: {
      error: notFound(
        "NoSuchPublicAccessBlockConfiguration",
        "The public access block configuration was not found",
      ),
    },
    deletable: true,
    check: checkPublicAccessBlock,
  },
  lifecycle: {
    operation: "BucketLifecycleConfiguration",
    root: "LifecycleConfiguration",
    absent: {
      error: notFound("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
    },
    deletable: true,
    check: checkLifecycle,
  },
  policy: {
    operation: "BucketPolicy",
    absent: { error: notFound("NoSuchBucketPolicy", "The bucket policy does not exist") },
    deletable: true,
  },
  tagging: {
    operation: "BucketTagging",
    root: "Tagging",
    absent: { error: notFound("NoSuchTagSet", "The TagSet does not exist") },
    deletable: true,
    check: checkTagging,
  },
  ownershipControls: {
    operation: "BucketOwnershipControls",
    root: "OwnershipControls",
    absent: {
      error: notFound(
        "OwnershipControlsNotFoundError",
        "The bucket ownership controls were not found",
      ),
    },
    deletable: true,
    check: checkOwnership,
  },
  cors: {
    operation: "BucketCors",
    root: "CORSConfiguration",
    absent: { error: notFound("NoSuchCORSConfiguration", "The CORS configuration does not exist") },
    deletable: true,
  },
  website: {
    operation: "BucketWebsite",
    root: "WebsiteConfiguration",
    absent: {
      error: notFound(
        "NoSuchWebsiteConfiguration",
        "The specified bucket does not have a website configuration",
      ),
    },
    deletable: true,
  },
  replication: {
    operation: "BucketReplication",
    root: "ReplicationConfiguration",
    absent: {
      error: notFound(
        "ReplicationConfigurationNotFoundError",
        "The replication configuration was not found",
      ),
    },
    deletable: true,
  },
  "object-lock": {
    operation: "ObjectLockConfiguration",
    root: "ObjectLockConfiguration",
    absent: {
      error: notFound(
        "ObjectLockConfigurationNotFoundError",
        "Object Lock configuration does not exist for this bucket",
      ),
    },
    deletable: false,
  },
  accelerate: {
    operation: "BucketAccelerateConfiguration",
    root: "AccelerateConfiguration",
    absent: { body: xml("AccelerateConfiguration") },
    deletable: false,
  },
  requestPayment: {
    operation: "BucketRequestPayment",
    root: "RequestPaymentConfiguration",
    absent: { body: xml("RequestPaymentConfiguration", "<Payer>BucketOwner</Payer>") },
    deletable: false,
  },
  logging: {
    operation: "BucketLogging",
    root: "BucketLoggingStatus",
    absent: { body: xml("BucketLoggingStatus") },
    deletable: false,
  },
  notification: {
    operation: "BucketNotificationConfiguration",
    root: "NotificationConfiguration",
    absent: { body: xml("NotificationConfiguration") },
    deletable: false,
  },
  acl: {
    operation: "BucketAcl",
    root: "AccessControlPolicy",
    absent: { body: ACL_DEFAULT },
    deletable: false,
  },
};

/** The sub-resource a bucket request names, when it is one of the stored settings. */
export function bucketSettingOf(query: URLSearchParams): string | undefined {
  return Object.keys(BUCKET_SETTINGS).find((name) => query.has(name));
}

const parser = new XMLParser({
  parseTagValue: false,
  trimValues: true,
  ignoreAttributes: true,
  ignoreDeclaration: true,
});

function parseRoot(body: Buffer, root: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parser.parse(body.toString("utf8"), true);
  } catch {
    throw malformedXml();
  }
  const value = node(parsed)[root];
  if (value === undefined) throw malformedXml();
  return node(value);
}

function checkPolicy(body: Buffer): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new AwsError(
      "MalformedPolicy",
      "Policies must be valid JSON and the first byte must be '{'",
    );
  }
  if (typeof parsed !== "object" || parsed === null || !("Statement" in parsed)) {
    throw new AwsError("MalformedPolicy", "Missing required field Statement");
  }
}

function stored(bucket: Bucket): Map<string, BucketSetting> {
  bucket.settings ??= initialBucketSettings();
  return bucket.settings;
}

export function bucketSetting(
  req: S3Request,
  ctx: SandboxContext,
  bucketName: string,
  name: string,
): S3Response {
  const setting = BUCKET_SETTINGS[name]!;
  const bucket = requireBucket(ctx.state, bucketName);
  const settings = stored(bucket);
  switch (req.method) {
    case "GET": {
      const value = settings.get(name);
      if (value === undefined) {
        if ("error" in setting.absent) throw setting.absent.error();
        return settingResponse(setting, { body: setting.absent.body });
      }
      return settingResponse(setting, value);
    }
    case "PUT": {
      if (name === "acl" && req.body.length === 0) {
        // A canned ACL (x-amz-acl) on a bucket whose ACLs are disabled changes nothing.
        return empty(200);
      }
      if (setting.root === undefined) checkPolicy(req.body);
      else setting.check?.(parseRoot(req.body, setting.root));
      const headers = name === "lifecycle" ? transitionMinimum(req) : undefined;
      settings.set(name, { body: req.body.toString("utf8"), ...(headers ? { headers } : {}) });
      return empty(name === "policy" ? 204 : 200, headers);
    }
    case "DELETE":
      if (!setting.deletable) throw methodNotAllowed();
      settings.delete(name);
      return empty(204);
    default:
      throw methodNotAllowed();
  }
}

function settingResponse(setting: Setting, value: BucketSetting): S3Response {
  const contentType = setting.root === undefined ? "application/json" : "application/xml";
  return {
    status: 200,
    headers: { "content-type": contentType, ...value.headers },
    body: value.body,
  };
}

const methodNotAllowed = (): AwsError =>
  new AwsError(
    "MethodNotAllowed",
    "The specified method is not allowed against this resource.",
    405,
  );
