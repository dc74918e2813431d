/**
 * IAM customer managed policies and their versions (at most five, one of them the default).
 * Stored and returned; the sandbox never evaluates them.
 */
import type { QueryHandlers, SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import { bool, type Params, str } from "../../protocol/query.js";
import type { IamPolicy, IamPolicyVersion } from "../../state.js";
import {
  deleteConflict,
  encodeDocument,
  entityAlreadyExists,
  iamArn,
  limitExceeded,
  noSuchEntity,
  pageOf,
  readTags,
  tagHandlers,
  uniqueId,
  validDocument,
  validName,
  validPath,
  wireTags,
} from "./common.js";
import { rolesWithPolicy } from "./roles.js";

const MAX_POLICY_SIZE = 6144;
const MAX_VERSIONS = 5;

export function getPolicy(ctx: SandboxContext, params: Params): IamPolicy {
  const arn = str(params.PolicyArn);
  if (arn === undefined || arn === "") {
    throw new AwsError(
      "ValidationError",
      "1 validation error detected: Value null at 'policyArn' failed to satisfy constraint: Member must not be null",
    );
  }
  if (!/^arn:aws:iam::\d{12}:policy\//.test(arn) && !arn.startsWith("arn:aws:iam::aws:policy/")) {
    throw new AwsError("InvalidInput", `ARN ${arn} is not valid.`);
  }
  const policy = ctx.state.iamPolicies.get(arn);
  if (!policy) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
  return policy;
}

function policyShape(ctx: SandboxContext, policy: IamPolicy) {
  return {
    PolicyName: policy.policyName,
    PolicyId: policy.policyId,
    Arn: policy.arn,
    Path: policy.path,
    DefaultVersionId: policy.defaultVersionId,
    AttachmentCount: rolesWithPolicy(ctx, policy.arn).length,
    PermissionsBoundaryUsageCount: 0,
    IsAttachable: true,
    Description: policy.description,
    CreateDate: policy.createdAt,
    UpdateDate: policy.updatedAt,
    Tags: Object.keys(policy.tags).length > 0 ? wireTags(policy.tags) : undefined,
  };
}

function versionShape(policy: IamPolicy, version: IamPolicyVersion, withDocument: boolean) {
  return {
    Document: withDocument ? encodeDocument(version.document) : undefined,
    VersionId: version.versionId,
    IsDefaultVersion: version.versionId === policy.defaultVersionId,
    CreateDate: version.createdAt,
  };
}

function getVersion(policy: IamPolicy, params: Params): IamPolicyVersion {
  const id = str(params.VersionId) ?? "";
  const version = policy.versions.find((v) => v.versionId === id);
  if (!version) {
    throw noSuchEntity(`Policy ${policy.arn} version ${id} does not exist or is not attachable.`);
  }
  return version;
}

export const policyHandlers: QueryHandlers = {
  CreatePolicy(params, ctx) {
    const name = validName(params, "PolicyName", 128);
    const path = validPath(params);
    const document = validDocument(params, "PolicyDocument", MAX_POLICY_SIZE);
    const tags = readTags(params.Tags);
    const arn = iamArn("policy", path, name);
    const exists = [...ctx.state.iamPolicies.values()].some(
      (p) => p.policyName.toLowerCase() === name.toLowerCase(),
    );
    if (exists) {
      throw entityAlreadyExists(
        `A policy called ${name} already exists. Duplicate names are not allowed.`,
      );
    }
    const now = new Date(ctx.clock.now());
    const description = str(params.Description);
    const policy: IamPolicy = {
      policyName: name,
      policyId: uniqueId("ANPA"),
      path,
      arn,
      createdAt: now,
      updatedAt: now,
      defaultVersionId: "v1",
      versions: [{ versionId: "v1", document, createdAt: now }],
      nextVersion: 2,
      tags,
      ...(description === undefined ? {} : { description }),
    };
    ctx.state.iamPolicies.set(arn, policy);
    return { Policy: policyShape(ctx, policy) };
  },

  GetPolicy(params, ctx) {
    return { Policy: policyShape(ctx, getPolicy(ctx, params)) };
  },

  ListPolicies(params, ctx) {
    const scope = str(params.Scope) ?? "All";
    const prefix = str(params.PathPrefix) ?? "/";
    const attachedOnly = bool(params.OnlyAttached) === true;
    const policies = [...ctx.state.iamPolicies.values()].filter(
      (p) =>
        scope !== "AWS" &&
        p.path.startsWith(prefix) &&
        (!attachedOnly || rolesWithPolicy(ctx, p.arn).length > 0),
    );
    const { items, ...page } = pageOf(policies, (p) => p.policyName, params);
    return { Policies: items.map((p) => policyShape(ctx, p)), ...page };
  },

  DeletePolicy(params, ctx) {
    const policy = getPolicy(ctx, params);
    if (rolesWithPolicy(ctx, policy.arn).length > 0) {
      throw deleteConflict("Cannot delete a policy attached to entities.");
    }
    if (policy.versions.length > 1) {
      throw deleteConflict("Cannot delete a policy with non-default versions; delete them first.");
    }
    ctx.state.iamPolicies.delete(policy.arn);
    return {};
  },

  GetPolicyVersion(params, ctx) {
    const policy = getPolicy(ctx, params);
    return { PolicyVersion: versionShape(policy, getVersion(policy, params), true) };
  },

  ListPolicyVersions(params, ctx) {
    const policy = getPolicy(ctx, params);
    const { items, ...page } = pageOf(
      policy.versions,
      (v) => v.versionId.padStart(12, "0"),
      params,
    );
    return { Versions: items.reverse().map((v) => versionShape(policy, v, false)), ...page };
  },

  CreatePolicyVersion(params, ctx) {
    const policy = getPolicy(ctx, params);
    const document = validDocument(params, "PolicyDocument", MAX_POLICY_SIZE);
    if (policy.versions.length >= MAX_VERSIONS) {
      throw limitExceeded(
        `A managed policy can have up to ${MAX_VERSIONS} versions. Before you create a new version, you must delete an existing version.`,
      );
    }
    const now = new Date(ctx.clock.now());
    const version: IamPolicyVersion = {
      versionId: `v${policy.nextVersion}`,
      document,
      createdAt: now,
    };
    policy.nextVersion += 1;
    policy.versions.push(version);
    policy.updatedAt = now;
    if (bool(params.SetAsDefault) === true) policy.defaultVersionId = version.versionId;
    return { PolicyVersion: versionShape(policy, version, false) };
  },

  SetDefaultPolicyVersion(params, ctx) {
    const policy = getPolicy(ctx, params);
    policy.defaultVersionId = getVersion(policy, params).versionId;
    policy.updatedAt = new Date(ctx.clock.now());
    return {};
  },

  DeletePolicyVersion(params, ctx) {
    const policy = getPolicy(ctx, params);
    const version = getVersion(policy, params);
    if (version.versionId === policy.defaultVersionId) {
      throw deleteConflict("Cannot delete the default version of a policy.");
    }
    policy.versions = policy.versions.filter((v) => v !== version);
    return {};
  },

  ListEntitiesForPolicy(params, ctx) {
    const policy = getPolicy(ctx, params);
    const roles = rolesWithPolicy(ctx, policy.arn).map((r) => ({
      RoleName: r.roleName,
      RoleId: r.roleId,
    }));
    const { items, ...page } = pageOf(roles, (r) => r.RoleName, params);
    return { PolicyGroups: [], PolicyUsers: [], PolicyRoles: items, ...page };
  },

  ...tagHandlers("Policy", getPolicy),
};
