/**
 * Auto Scaling group tags: CreateOrUpdateTags, DeleteTags and DescribeTags. Tags with
 * `PropagateAtLaunch` are copied onto instances the group launches afterwards.
 */
import type { QueryHandler } from "../../context.js";
import { AwsError, validationError } from "../../protocol/errors.js";
import { bool, list, str } from "../../protocol/query.js";
import type { AsgTag, AutoScalingGroup } from "../../state.js";
import { checkLength, groupNotFound, maxRecords, page, upsertTag } from "./model.js";

const MAX_TAGS = 50;

interface TagRequest extends AsgTag {
  ResourceId: string;
}

/** Tags from a `Tags` list; `defaultResource` names the group when ResourceId is left out. */
export function tagsFrom(raw: unknown, defaultResource?: string): TagRequest[] {
  const tags = list<Record<string, unknown>>(raw)
    .filter((t) => typeof t === "object" && t !== null)
    .map((t) => {
      const key = str(t.Key);
      if (key === undefined || key === "") {
        throw validationError(
          "1 validation error detected: Value null at 'tags.member.key' failed to satisfy constraint: Member must not be null",
        );
      }
      checkLength(key, "Tags.member.Key", 128);
      const value = str(t.Value) ?? "";
      checkLength(value, "Tags.member.Value", 256, 0);
      const resourceType = str(t.ResourceType) ?? "auto-scaling-group";
      if (resourceType !== "auto-scaling-group") {
        throw validationError(`Invalid resource type '${resourceType}'.`);
      }
      const resource = str(t.ResourceId) ?? defaultResource;
      if (!resource) {
        throw validationError(
          "1 validation error detected: Value null at 'tags.member.resourceId' failed to satisfy constraint: Member must not be null",
        );
      }
      return {
        ResourceId: resource,
        Key: key,
        Value: value,
        PropagateAtLaunch: bool(t.PropagateAtLaunch) ?? false,
      };
    });
  for (const resource of new Set(tags.map((t) => t.ResourceId))) {
    const keys = new Set(tags.filter((t) => t.ResourceId === resource).map((t) => t.Key));
    if (keys.size > MAX_TAGS) throw tooManyTags(resource);
  }
  return tags;
}

function tooManyTags(group: string): AwsError {
  return new AwsError(
    "LimitExceeded",
    `The number of tags for AutoScalingGroup ${group} exceeds the limit of ${MAX_TAGS}.`,
  );
}

export const createOrUpdateTags: QueryHandler = (params, ctx) => {
  const tags = tagsFrom(params.Tags);
  const groups = new Map<string, AutoScalingGroup>();
  for (const tag of tags) {
    const group = ctx.state.autoScalingGroups.get(tag.ResourceId);
    if (!group) throw groupNotFound(tag.ResourceId);
    groups.set(group.name, group);
  }
  for (const group of groups.values()) {
    const keys = new Set(group.tags.map((t) => t.Key));
    for (const tag of tags) if (tag.ResourceId === group.name) keys.add(tag.Key);
    if (keys.size > MAX_TAGS) throw tooManyTags(group.name);
  }
  for (const tag of tags) {
    upsertTag(groups.get(tag.ResourceId)!.tags, {
      Key: tag.Key,
      Value: tag.Value,
      PropagateAtLaunch: tag.PropagateAtLaunch,
    });
  }
  return {};
};

export const deleteTags: QueryHandler = (params, ctx) => {
  const tags = tagsFrom(params.Tags);
  for (const tag of tags) {
    if (!ctx.state.autoScalingGroups.has(tag.ResourceId)) throw groupNotFound(tag.ResourceId);
  }
  for (const tag of tags) {
    const group = ctx.state.autoScalingGroups.get(tag.ResourceId)!;
    group.tags = group.tags.filter((t) => t.Key !== tag.Key);
  }
  return {};
};

const TAG_FILTERS = ["auto-scaling-group", "key", "value", "propagate-at-launch"];

export const describeTags: QueryHandler = (params, ctx) => {
  const limit = maxRecords(params, 50, 100);
  const filters = list<Record<string, unknown>>(params.Filters)
    .filter((f) => typeof f === "object" && f !== null)
    .map((f) => ({ name: str(f.Name) ?? "", values: list<string>(f.Values).map(String) }));
  for (const f of filters) {
    if (!TAG_FILTERS.includes(f.name)) {
      throw validationError(
        `Filter name '${f.name}' is not valid. Valid filter names are ${TAG_FILTERS.join(", ")}.`,
      );
    }
  }
  const rows = [...ctx.state.autoScalingGroups.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((group) =>
      [...group.tags]
        .sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0))
        .map((tag) => ({ group: group.name, tag })),
    )
    .filter(({ group, tag }) =>
      filters.every((f) => {
        switch (f.name) {
          case "auto-scaling-group":
            return f.values.includes(group);
          case "key":
            return f.values.includes(tag.Key);
          case "value":
            return f.values.includes(tag.Value);
          default:
            return f.values.includes(String(tag.PropagateAtLaunch));
        }
      }),
    );
  const { items, nextToken } = page(rows, params, limit);
  return {
    Tags: items.map(({ group, tag }) => ({
      ResourceId: group,
      ResourceType: "auto-scaling-group",
      Key: tag.Key,
      Value: tag.Value,
      PropagateAtLaunch: tag.PropagateAtLaunch,
    })),
    NextToken: nextToken,
  };
};
