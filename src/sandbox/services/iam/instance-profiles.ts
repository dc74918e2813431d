/** IAM instance profiles: the container that hands one role to an instance. */
import type { QueryHandlers, SandboxContext } from "../../context.js";
import { type Params, str } from "../../protocol/query.js";
import type { IamInstanceProfile } from "../../state.js";
import {
  deleteConflict,
  entityAlreadyExists,
  iamArn,
  limitExceeded,
  noSuchEntity,
  pageOf,
  readTags,
  tagHandlers,
  uniqueId,
  validName,
  validPath,
  wireTags,
} from "./common.js";
import { getRole, roleShape } from "./roles.js";

function getProfile(ctx: SandboxContext, params: Params): IamInstanceProfile {
  const name = validName(params, "InstanceProfileName", 128);
  const profile = ctx.state.iamInstanceProfiles.get(name);
  if (!profile) throw noSuchEntity(`Instance Profile ${name} cannot be found.`);
  return profile;
}

function profileShape(ctx: SandboxContext, profile: IamInstanceProfile) {
  return {
    Path: profile.path,
    InstanceProfileName: profile.name,
    InstanceProfileId: profile.id,
    Arn: profile.arn,
    CreateDate: profile.createdAt,
    Roles: profile.roleNames
      .map((name) => ctx.state.iamRoles.get(name))
      .filter((role) => role !== undefined)
      .map(roleShape),
    Tags: Object.keys(profile.tags).length > 0 ? wireTags(profile.tags) : undefined,
  };
}

export const instanceProfileHandlers: QueryHandlers = {
  CreateInstanceProfile(params, ctx) {
    const name = validName(params, "InstanceProfileName", 128);
    const path = validPath(params);
    const tags = readTags(params.Tags);
    const exists = [...ctx.state.iamInstanceProfiles.keys()].some(
      (n) => n.toLowerCase() === name.toLowerCase(),
    );
    if (exists) throw entityAlreadyExists(`Instance Profile ${name} already exists.`);
    const profile: IamInstanceProfile = {
      name,
      id: uniqueId("AIPA"),
      path,
      arn: iamArn("instance-profile", path, name),
      createdAt: new Date(ctx.clock.now()),
      roleNames: [],
      tags,
    };
    ctx.state.iamInstanceProfiles.set(name, profile);
    return { InstanceProfile: profileShape(ctx, profile) };
  },

  GetInstanceProfile(params, ctx) {
    return { InstanceProfile: profileShape(ctx, getProfile(ctx, params)) };
  },

  ListInstanceProfiles(params, ctx) {
    const prefix = str(params.PathPrefix) ?? "/";
    const profiles = [...ctx.state.iamInstanceProfiles.values()].filter((p) =>
      p.path.startsWith(prefix),
    );
    const { items, ...page } = pageOf(profiles, (p) => p.name, params);
    return { InstanceProfiles: items.map((p) => profileShape(ctx, p)), ...page };
  },

  ListInstanceProfilesForRole(params, ctx) {
    const role = getRole(ctx, params);
    const profiles = [...ctx.state.iamInstanceProfiles.values()].filter((p) =>
      p.roleNames.includes(role.roleName),
    );
    const { items, ...page } = pageOf(profiles, (p) => p.name, params);
    return { InstanceProfiles: items.map((p) => profileShape(ctx, p)), ...page };
  },

  DeleteInstanceProfile(params, ctx) {
    const profile = getProfile(ctx, params);
    if (profile.roleNames.length > 0) {
      throw deleteConflict("Cannot delete entity, must remove roles from instance profile first.");
    }
    ctx.state.iamInstanceProfiles.delete(profile.name);
    return {};
  },

  AddRoleToInstanceProfile(params, ctx) {
    const profile = getProfile(ctx, params);
    const role = getRole(ctx, params);
    if (profile.roleNames.length > 0) {
      throw limitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1");
    }
    profile.roleNames.push(role.roleName);
    return {};
  },

  RemoveRoleFromInstanceProfile(params, ctx) {
    const profile = getProfile(ctx, params);
    const role = getRole(ctx, params);
    if (!profile.roleNames.includes(role.roleName)) {
      throw noSuchEntity(
        `The role with name ${role.roleName} cannot be found in instance profile ${profile.name}.`,
      );
    }
    profile.roleNames = profile.roleNames.filter((n) => n !== role.roleName);
    return {};
  },

  ...tagHandlers("InstanceProfile", getProfile),
};
