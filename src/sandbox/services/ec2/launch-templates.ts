/**
 * Launch templates and their versions: create, add versions (optionally from a source version),
 * describe (by id, name, filter, version alias), change the default version, delete.
 * Versions are immutable; `$Latest` and `$Default` resolve as EC2 resolves them.
 */
import type { QueryHandlers, SandboxContext } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";
import { list, type Params, str } from "../../protocol/query.js";
import type { LaunchTemplate, LaunchTemplateData, LaunchTemplateVersion } from "../../state.js";
import { ACCOUNT_ID, newId } from "../../state.js";
import { resolveLaunchTemplate } from "../../world.js";
import {
  checkDryRun,
  checkFilterNames,
  type FilterFields,
  invalidParameterValue,
  matchesFilters,
  missingParameter,
  numberKey,
  page,
  readFilters,
  strings,
  toWireTags,
} from "./common.js";
import { readTagList } from "./tags.js";

const NAME = /^[a-zA-Z0-9().\-/_]{3,128}$/;
const TEMPLATE_ID = /^lt-[0-9a-z]{8,17}$/i;
/** AWS limits user data to 16 KB before base64 encoding. */
export const USER_DATA_LIMIT = 16384;
const CREATED_BY = `arn:aws:iam::${ACCOUNT_ID}:root`;

/**
 * Launch template settings the state store has no field for but that describe calls must
 * return as given: tags for launched resources and instance metadata options.
 */
interface ExtraData {
  tagSpecifications?: Array<{ resourceType: string; tags: Record<string, string> }>;
  metadataOptions?: Record<string, string>;
}
const extras = new WeakMap<LaunchTemplateData, ExtraData>();

type Warning = { code: string; message: string };

/** Reads `LaunchTemplateData.*` over `base` (a source version's data, or nothing). */
function readData(
  raw: unknown,
  base: LaunchTemplateData | undefined,
  ctx: SandboxContext,
  warnings: Warning[],
): LaunchTemplateData {
  const input = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  const data: LaunchTemplateData = base
    ? {
        ...base,
        securityGroupIds: [...base.securityGroupIds],
        iamInstanceProfile: base.iamInstanceProfile ? { ...base.iamInstanceProfile } : undefined,
      }
    : { securityGroupIds: [] };
  const extra: ExtraData = { ...(base ? extras.get(base) : undefined) };

  const imageId = str(input.ImageId);
  if (imageId !== undefined) data.imageId = imageId;
  const instanceType = str(input.InstanceType);
  if (instanceType !== undefined) data.instanceType = instanceType;
  const keyName = str(input.KeyName);
  if (keyName !== undefined) data.keyName = keyName;
  const userData = str(input.UserData);
  if (userData !== undefined && userData !== "") {
    checkUserData(userData);
    data.userData = userData;
  }
  if (input.SecurityGroupId !== undefined || input.SecurityGroup !== undefined) {
    const ids = strings(input.SecurityGroupId);
    for (const name of strings(input.SecurityGroup)) {
      const group = [...ctx.state.securityGroups.values()].find((g) => g.groupName === name);
      if (group) ids.push(group.groupId);
      else {
        warnings.push({
          code: "InvalidGroup.NotFound",
          message: `The security group '${name}' does not exist`,
        });
      }
    }
    data.securityGroupIds = [...new Set(ids)];
  }
  const profile = input.IamInstanceProfile;
  if (typeof profile === "object" && profile !== null) {
    const p = profile as Record<string, unknown>;
    data.iamInstanceProfile = { arn: str(p.Arn), name: str(p.Name) };
  }
  if (input.TagSpecification !== undefined) {
    extra.tagSpecifications = list<Record<string, unknown>>(input.TagSpecification).map((spec) => ({
      resourceType: str(spec?.ResourceType) ?? "",
      tags: readTagList(spec?.Tag),
    }));
  }
  const metadata = input.MetadataOptions;
  if (typeof metadata === "object" && metadata !== null) {
    const options: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata as Record<string, unknown>)) {
      if (typeof v === "string") options[k] = v;
    }
    extra.metadataOptions = options;
  }

  if (data.imageId !== undefined && !ctx.state.images.has(data.imageId)) {
    warnings.push({
      code: "InvalidAMIID.NotFound",
      message: `The image id '[${data.imageId}]' does not exist`,
    });
  }
  extras.set(data, extra);
  return data;
}

/** User data must be base64 and at most 16384 bytes once decoded. */
export function checkUserData(userData: string): void {
  const compact = userData.replace(/\s+/g, "");
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new AwsError("InvalidUserData.Malformed", "Invalid BASE64 encoding of user data.");
  }
  if (Buffer.from(compact, "base64").length > USER_DATA_LIMIT) {
    throw invalidParameterValue(`User data is limited to ${USER_DATA_LIMIT} bytes`);
  }
}

/** Tags for the launch template itself (`TagSpecification.N.ResourceType=launch-template`). */
function readTemplateTags(params: Params): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const spec of list<Record<string, unknown>>(params.TagSpecification)) {
    const type = str(spec?.ResourceType);
    if (type !== "launch-template") {
      throw invalidParameterValue(
        `'${type ?? ""}' is not a valid taggable resource type for this operation.`,
      );
    }
    Object.assign(tags, readTagList(spec.Tag));
  }
  return tags;
}

function readDescription(params: Params): string | undefined {
  const description = str(params.VersionDescription);
  if (description !== undefined && description.length > 255) {
    throw invalidParameterValue("The version description must be at most 255 characters long.");
  }
  return description;
}

function templateWire(t: LaunchTemplate) {
  return {
    launchTemplateId: t.id,
    launchTemplateName: t.name,
    createTime: t.createdAt,
    createdBy: CREATED_BY,
    defaultVersionNumber: t.defaultVersion,
    latestVersionNumber: t.latestVersion,
    tagSet: toWireTags(t.tags),
  };
}

function versionWire(t: LaunchTemplate, v: LaunchTemplateVersion) {
  return {
    launchTemplateId: t.id,
    launchTemplateName: t.name,
    versionNumber: v.versionNumber,
    versionDescription: v.description,
    createTime: v.createdAt,
    createdBy: CREATED_BY,
    defaultVersion: v.versionNumber === t.defaultVersion,
    launchTemplateData: dataWire(v.data),
  };
}

function dataWire(data: LaunchTemplateData) {
  const extra = extras.get(data);
  const metadata = extra?.metadataOptions;
  return {
    imageId: data.imageId,
    instanceType: data.instanceType,
    keyName: data.keyName,
    userData: data.userData,
    securityGroupIdSet: data.securityGroupIds.length > 0 ? data.securityGroupIds : undefined,
    iamInstanceProfile: data.iamInstanceProfile
      ? { arn: data.iamInstanceProfile.arn, name: data.iamInstanceProfile.name }
      : undefined,
    tagSpecificationSet: extra?.tagSpecifications?.map((s) => ({
      resourceType: s.resourceType,
      tagSet: toWireTags(s.tags),
    })),
    metadataOptions: metadata
      ? Object.fromEntries(
          Object.entries(metadata).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), v]),
        )
      : undefined,
  };
}

function warningWire(warnings: Warning[]) {
  return warnings.length > 0 ? { errorSet: warnings } : undefined;
}

/** The template named by `LaunchTemplateId` or `LaunchTemplateName` (one of them required). */
function findTemplate(params: Params, ctx: SandboxContext): LaunchTemplate {
  const id = str(params.LaunchTemplateId) || undefined;
  const name = str(params.LaunchTemplateName) || undefined;
  if (id !== undefined) {
    if (!TEMPLATE_ID.test(id)) throw malformedId(id);
    const template = ctx.state.launchTemplates.get(id);
    if (template) return template;
    throw new AwsError(
      "InvalidLaunchTemplateId.NotFound",
      `The specified launch template, with template ID ${id}, does not exist.`,
    );
  }
  if (name === undefined) missingTemplateRef();
  const template = [...ctx.state.launchTemplates.values()].find((t) => t.name === name);
  if (template) return template;
  throw new AwsError(
    "InvalidLaunchTemplateName.NotFoundException",
    `The specified launch template, with template name ${name}, does not exist.`,
  );
}

function missingTemplateRef(): never {
  throw missingParameter("LaunchTemplateId or LaunchTemplateName");
}

function malformedId(id: string): AwsError {
  return new AwsError(
    "InvalidLaunchTemplateId.Malformed",
    `The specified ID for the launch template (${id}) is not valid. Launch template IDs begin with "lt-".`,
  );
}

function createLaunchTemplate(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const name = str(params.LaunchTemplateName);
  if (!name) throw missingParameter("LaunchTemplateName");
  if (!NAME.test(name)) {
    throw new AwsError(
      "InvalidLaunchTemplateName.MalformedException",
      "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'",
    );
  }
  if (params.LaunchTemplateData === undefined) throw missingParameter("LaunchTemplateData");
  if ([...ctx.state.launchTemplates.values()].some((t) => t.name === name)) {
    throw new AwsError(
      "InvalidLaunchTemplateName.AlreadyExistsException",
      `Launch template name already in use.`,
    );
  }
  const tags = readTemplateTags(params);
  const description = readDescription(params);
  const warnings: Warning[] = [];
  const data = readData(params.LaunchTemplateData, undefined, ctx, warnings);
  const now = new Date(ctx.clock.now());
  const template: LaunchTemplate = {
    id: newId("lt"),
    name,
    createdAt: now,
    defaultVersion: 1,
    latestVersion: 1,
    versions: [{ versionNumber: 1, createdAt: now, description, data }],
    tags,
  };
  ctx.state.launchTemplates.set(template.id, template);
  return { launchTemplate: templateWire(template), warning: warningWire(warnings) };
}

function createLaunchTemplateVersion(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const template = findTemplate(params, ctx);
  if (params.LaunchTemplateData === undefined) throw missingParameter("LaunchTemplateData");
  const sourceVersion = str(params.SourceVersion);
  const source = sourceVersion
    ? resolveLaunchTemplate(ctx.state, { LaunchTemplateId: template.id, Version: sourceVersion })
        .version
    : undefined;
  const description = readDescription(params);
  const warnings: Warning[] = [];
  const data = readData(params.LaunchTemplateData, source?.data, ctx, warnings);
  const version: LaunchTemplateVersion = {
    versionNumber: template.latestVersion + 1,
    createdAt: new Date(ctx.clock.now()),
    description,
    data,
  };
  template.versions.push(version);
  template.latestVersion = version.versionNumber;
  return {
    launchTemplateVersion: versionWire(template, version),
    warning: warningWire(warnings),
  };
}

const templateFields: FilterFields<LaunchTemplate> = {
  "launch-template-name": (t) => [t.name],
  "launch-template-id": (t) => [t.id],
  "create-time": (t) => [t.createdAt.toISOString()],
};

function describeLaunchTemplates(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const ids = strings(params.LaunchTemplateId);
  const names = strings(params.LaunchTemplateName);
  const filters = readFilters(params);
  checkFilterNames(filters, templateFields, true);
  const templates = [...ctx.state.launchTemplates.values()];
  const malformed = ids.find((id) => !TEMPLATE_ID.test(id));
  if (malformed) throw malformedId(malformed);
  if (ids.some((id) => !ctx.state.launchTemplates.has(id))) {
    throw new AwsError(
      "InvalidLaunchTemplateId.NotFound",
      "At least one of the launch templates specified in the request does not exist.",
    );
  }
  if (names.some((name) => !templates.some((t) => t.name === name))) {
    throw new AwsError(
      "InvalidLaunchTemplateName.NotFoundException",
      "At least one of the launch templates specified in the request does not exist.",
    );
  }
  const selected = templates.filter(
    (t) =>
      (ids.length === 0 || ids.includes(t.id)) &&
      (names.length === 0 || names.includes(t.name)) &&
      matchesFilters(t, filters, templateFields, (x) => x.tags),
  );
  const { items, nextToken } = page(selected, (t) => t.id, params, { min: 1, max: 200 });
  return { launchTemplates: items.map(templateWire), nextToken };
}

const versionFields: FilterFields<{ template: LaunchTemplate; version: LaunchTemplateVersion }> = {
  "is-default-version": ({ template, version }) => [
    String(version.versionNumber === template.defaultVersion),
  ],
  "image-id": ({ version }) => [version.data.imageId],
  "instance-type": ({ version }) => [version.data.instanceType],
  "iam-instance-profile": ({ version }) => [
    version.data.iamInstanceProfile?.arn,
    version.data.iamInstanceProfile?.name,
  ],
  "create-time": ({ version }) => [version.createdAt.toISOString()],
  "ebs-optimized": () => ["false"],
  "kernel-id": () => [],
  "ram-disk-id": () => [],
};

function describeLaunchTemplateVersions(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const wanted = strings(params.LaunchTemplateVersion);
  const filters = readFilters(params);
  checkFilterNames(filters, versionFields, false);
  const hasRef = Boolean(str(params.LaunchTemplateId) || str(params.LaunchTemplateName));
  let found: Array<{ template: LaunchTemplate; version: LaunchTemplateVersion }>;
  if (!hasRef) {
    // Without a template, EC2 describes `$Latest` or `$Default` of every template.
    if (wanted.length === 0 || wanted.some((v) => v !== "$Latest" && v !== "$Default")) {
      missingTemplateRef();
    }
    found = [...ctx.state.launchTemplates.values()].flatMap((template) =>
      wanted.map((v) => ({
        template,
        version: resolveLaunchTemplate(ctx.state, { LaunchTemplateId: template.id, Version: v })
          .version,
      })),
    );
  } else {
    const template = findTemplate(params, ctx);
    if (wanted.length > 0) {
      found = wanted.map((v) => {
        if (!/^(\$Latest|\$Default|\d+)$/.test(v)) {
          throw invalidParameterValue(
            `Invalid launch template version: '${v}'. Specify a version number, $Latest or $Default.`,
          );
        }
        return {
          template,
          version: resolveLaunchTemplate(ctx.state, { LaunchTemplateId: template.id, Version: v })
            .version,
        };
      });
    } else {
      const min = versionBound(template, str(params.MinVersion), 0);
      const max = versionBound(template, str(params.MaxVersion), Number.POSITIVE_INFINITY);
      found = template.versions
        .filter((v) => v.versionNumber >= min && v.versionNumber <= max)
        .map((version) => ({ template, version }));
    }
  }
  const unique = new Map(found.map((f) => [versionKey(f), f]));
  const selected = [...unique.values()].filter((f) => matchesFilters(f, filters, versionFields));
  const { items, nextToken } = page(selected, versionKey, params, { min: 1, max: 200 });
  return {
    launchTemplateVersionSet: items.map((f) => versionWire(f.template, f.version)),
    nextToken,
  };
}

function versionKey(f: { template: LaunchTemplate; version: LaunchTemplateVersion }): string {
  return `${f.template.id}/${numberKey(f.version.versionNumber)}`;
}

function versionBound(template: LaunchTemplate, value: string | undefined, none: number): number {
  if (value === undefined || value === "") return none;
  if (value === "$Latest") return template.latestVersion;
  if (value === "$Default") return template.defaultVersion;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw invalidParameterValue(`Invalid launch template version: '${value}'.`);
  }
  return n;
}

function modifyLaunchTemplate(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const template = findTemplate(params, ctx);
  const wanted = str(params.SetDefaultVersion);
  if (wanted) {
    const { version } = resolveLaunchTemplate(ctx.state, {
      LaunchTemplateId: template.id,
      Version: wanted,
    });
    template.defaultVersion = version.versionNumber;
  }
  return { launchTemplate: templateWire(template) };
}

function deleteLaunchTemplate(params: Params, ctx: SandboxContext) {
  checkDryRun(params);
  const template = findTemplate(params, ctx);
  ctx.state.launchTemplates.delete(template.id);
  return { launchTemplate: templateWire(template) };
}

/** Tags on launch templates, for DescribeTags. */
export function launchTemplateTags(
  ctx: SandboxContext,
): Array<{ resourceId: string; resourceType: string; tags: Record<string, string> }> {
  return [...ctx.state.launchTemplates.values()].map((t) => ({
    resourceId: t.id,
    resourceType: "launch-template",
    tags: t.tags,
  }));
}

export const launchTemplateHandlers: QueryHandlers = {
  CreateLaunchTemplate: createLaunchTemplate,
  CreateLaunchTemplateVersion: createLaunchTemplateVersion,
  DescribeLaunchTemplates: describeLaunchTemplates,
  DescribeLaunchTemplateVersions: describeLaunchTemplateVersions,
  ModifyLaunchTemplate: modifyLaunchTemplate,
  DeleteLaunchTemplate: deleteLaunchTemplate,
};
