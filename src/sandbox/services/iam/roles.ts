/**
 * IAM roles, their inline policies and the managed policies attached to them. Stored and
 * returned as IAM would; nothing in the sandbox checks a request against them.
 */
import type { QueryHandlers, SandboxContext } from "../../context.js";
import { int, type Params, str } from "../../protocol/query.js";
import type { IamPolicy, IamRole } from "../../state.js";
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
import { getPolicy } from "./policies.js";

const MAX_TRUST_POLICY = 2048;
const MAX_INLINE_POLICIES_SIZE = 10_240;
const MAX_ATTACHED_POLICIES = 10;

export function getRole(ctx: SandboxContext, params: Params): IamRole {
  const name = validName(params, "RoleName", 64);
  const role = ctx.state.iamRoles.get(name);
  if (!role) throw noSuchEntity(`The role with name ${name} cannot be found.`);
  return role;
}

function maxSessionDuration(params: Params): number | undefined {
  const value = int(params.MaxSessionDuration);
  if (value !== undefined && (value < 3600 || value > 43_200)) {
    throw limitExceeded(
      `The requested MaxSessionDuration (${value}) must be between 3600 and 43200 seconds.`,
    );
  }
  return value;
}

export function roleShape(role: IamRole) {
  return {
    Path: role.path,
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createdAt,
    AssumeRolePolicyDocument: encodeDocument(role.assumeRolePolicyDocument),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    PermissionsBoundary: role.permissionsBoundary
      ? {
          PermissionsBoundaryType: "Policy",
          PermissionsBoundaryArn: role.permissionsBoundary,
        }
      : undefined,
    Tags: Object.keys(role.tags).length > 0 ? wireTags(role.tags) : undefined,
    RoleLastUsed: {},
  };
}

function inlineSize(role: IamRole, without?: string): number {
  let size = 0;
  for (const [name, document] of role.inlinePolicies) {
    if (name !== without) size += document.replace(/\s/g, "").length;
  }
  return size;
}

export const roleHandlers: QueryHandlers = {
  CreateRole(params, ctx) {
    const name = validName(params, "RoleName", 64);
    const path = validPath(params);
    const document = validDocument(params, "AssumeRolePolicyDocument", MAX_TRUST_POLICY);
    const duration = maxSessionDuration(params) ?? 3600;
    const tags = readTags(params.Tags);
    const exists = [...ctx.state.iamRoles.keys()].some(
      (n) => n.toLowerCase() === name.toLowerCase(),
    );
    if (exists) throw entityAlreadyExists(`Role with name ${name} already exists.`);
    const boundary = str(params.PermissionsBoundary);
    const role: IamRole = {
      roleName: name,
      roleId: uniqueId("AROA"),
      path,
      arn: iamArn("role", path, name),
      createdAt: new Date(ctx.clock.now()),
      assumeRolePolicyDocument: document,
      maxSessionDuration: duration,
      tags,
      inlinePolicies: new Map(),
      attachedPolicyArns: [],
      ...(str(params.Description) === undefined ? {} : { description: str(params.Description) }),
      ...(boundary === undefined ? {} : { permissionsBoundary: boundary }),
    };
    ctx.state.iamRoles.set(name, role);
    return { Role: roleShape(role) };
  },

  GetRole(params, ctx) {
    return { Role: roleShape(getRole(ctx, params)) };
  },

  ListRoles(params, ctx) {
    const prefix = str(params.PathPrefix) ?? "/";
    const roles = [...ctx.state.iamRoles.values()].filter((r) => r.path.startsWith(prefix));
    const { items, ...page } = pageOf(roles, (r) => r.roleName, params);
    return { Roles: items.map(roleShape), ...page };
  },

  UpdateRole(params, ctx) {
    const role = getRole(ctx, params);
    const duration = maxSessionDuration(params);
    const description = str(params.Description);
    if (duration !== undefined) role.maxSessionDuration = duration;
    if (description !== undefined) role.description = description;
    return {};
  },

  UpdateRoleDescription(params, ctx) {
    const role = getRole(ctx, params);
    role.description = str(params.Description) ?? "";
    return { Role: roleShape(role) };
  },

  UpdateAssumeRolePolicy(params, ctx) {
    const role = getRole(ctx, params);
    role.assumeRolePolicyDocument = validDocument(params, "PolicyDocument", MAX_TRUST_POLICY);
    return {};
  },

  DeleteRole(params, ctx) {
    const role = getRole(ctx, params);
    if (role.inlinePolicies.size > 0) {
      throw deleteConflict("Cannot delete entity, must delete policies first.");
    }
    if (role.attachedPolicyArns.length > 0) {
      throw deleteConflict("Cannot delete entity, must detach all policies first.");
    }
    const inProfile = [...ctx.state.iamInstanceProfiles.values()].some((p) =>
      p.roleNames.includes(role.roleName),
    );
    if (inProfile) {
      throw deleteConflict("Cannot delete entity, must remove roles from instance profile first.");
    }
    ctx.state.iamRoles.delete(role.roleName);
    return {};
  },

  ...tagHandlers("Role", getRole),

  PutRolePolicy(params, ctx) {
    const role = getRole(ctx, params);
    const name = validName(params, "PolicyName", 128);
    const document = validDocument(params, "PolicyDocument", MAX_INLINE_POLICIES_SIZE);
    if (inlineSize(role, name) + document.replace(/\s/g, "").length > MAX_INLINE_POLICIES_SIZE) {
      throw limitExceeded(
        `Maximum policy size of ${MAX_INLINE_POLICIES_SIZE} bytes exceeded for role ${role.roleName}`,
      );
    }
    role.inlinePolicies.set(name, document);
    return {};
  },

  GetRolePolicy(params, ctx) {
    const role = getRole(ctx, params);
    const name = validName(params, "PolicyName", 128);
    const document = role.inlinePolicies.get(name);
    if (document === undefined) {
      throw noSuchEntity(`The role policy with name ${name} cannot be found.`);
    }
    return {
      RoleName: role.roleName,
      PolicyName: name,
      PolicyDocument: encodeDocument(document),
    };
  },

  ListRolePolicies(params, ctx) {
    const role = getRole(ctx, params);
    const { items, ...page } = pageOf([...role.inlinePolicies.keys()], (n) => n, params);
    return { PolicyNames: items, ...page };
  },

  DeleteRolePolicy(params, ctx) {
    const role = getRole(ctx, params);
    const name = validName(params, "PolicyName", 128);
    if (!role.inlinePolicies.delete(name)) {
      throw noSuchEntity(`The role policy with name ${name} cannot be found.`);
    }
    return {};
  },

  AttachRolePolicy(params, ctx) {
    const role = getRole(ctx, params);
    const policy = getPolicy(ctx, params);
    if (role.attachedPolicyArns.includes(policy.arn)) return {};
    if (role.attachedPolicyArns.length >= MAX_ATTACHED_POLICIES) {
      throw limitExceeded(`Cannot exceed quota for PoliciesPerRole: ${MAX_ATTACHED_POLICIES}`);
    }
    role.attachedPolicyArns.push(policy.arn);
    return {};
  },

  DetachRolePolicy(params, ctx) {
    const role = getRole(ctx, params);
    const arn = str(params.PolicyArn) ?? "";
    const index = role.attachedPolicyArns.indexOf(arn);
    if (index < 0) throw noSuchEntity(`Policy ${arn} was not found.`);
    role.attachedPolicyArns.splice(index, 1);
    return {};
  },

  ListAttachedRolePolicies(params, ctx) {
    const role = getRole(ctx, params);
    const prefix = str(params.PathPrefix) ?? "/";
    const attached = role.attachedPolicyArns
      .map((arn) => ctx.state.iamPolicies.get(arn))
      .filter((p): p is IamPolicy => p?.path.startsWith(prefix) === true)
      .map((p) => ({ PolicyName: p.policyName, PolicyArn: p.arn }));
    const { items, ...page } = pageOf(attached, (p) => p.PolicyName, params);
    return { AttachedPolicies: items, ...page };
  },
};

/** The roles a managed policy is attached to (ListEntitiesForPolicy, DeletePolicy's check). */
export function rolesWithPolicy(ctx: SandboxContext, policyArn: string): IamRole[] {
  return [...ctx.state.iamRoles.values()].filter((r) => r.attachedPolicyArns.includes(policyArn));
}
