import { describe, expect, it } from "vitest";
import { isSwitchyardError } from "../../../src/core/errors.js";
import {
  asgTags,
  elbTags,
  type GroupDescriptor,
  groupTagRecord,
  isManaged,
  parseGroupTags,
  TAG,
} from "../../../src/core/tags.js";

const group: GroupDescriptor = {
  app: "web",
  env: "prod",
  release: "s3://releases/web/prod/r42.tar.gz",
  sequence: 7,
  role: "live",
  createdAt: "2026-01-01T00:00:00.000Z",
  swapId: "swap-1234",
};

const record = {
  "switchyard:app": "web",
  "switchyard:env": "prod",
  "switchyard:release": "s3://releases/web/prod/r42.tar.gz",
  "switchyard:sequence": "7",
  "switchyard:role": "live",
  "switchyard:created-at": "2026-01-01T00:00:00.000Z",
  "switchyard:swap-id": "swap-1234",
  "switchyard:managed": "true",
};

describe("tag builders", () => {
  it("builds the tag record with every key", () => {
    expect(groupTagRecord(group)).toEqual(record);
    expect(Object.values(TAG).sort()).toEqual(Object.keys(record).sort());
  });

  it("omits the swap id when there is none", () => {
    const { swapId: _, ...withoutSwap } = group;
    expect(groupTagRecord(withoutSwap)).not.toHaveProperty(TAG.swapId);
  });

  it("builds Auto Scaling tags that propagate at launch", () => {
    const tags = asgTags(group, "web-prod-v007");
    expect(tags).toHaveLength(8);
    expect(tags).toContainEqual({
      ResourceId: "web-prod-v007",
      ResourceType: "auto-scaling-group",
      Key: "switchyard:role",
      Value: "live",
      PropagateAtLaunch: true,
    });
  });

  it("accepts sequence 0: an adopted group, which keeps its own name", () => {
    expect(groupTagRecord({ ...group, sequence: 0 })["switchyard:sequence"]).toBe("0");
    expect(parseGroupTags({ ...record, "switchyard:sequence": "0" }).sequence).toBe(0);
  });

  it("builds ELBv2 tags", () => {
    expect(elbTags(group)).toContainEqual({ Key: "switchyard:sequence", Value: "7" });
  });

  it("refuses to build tags from a bad descriptor", () => {
    expect(() => groupTagRecord({ ...group, sequence: -1 })).toThrow(/switchyard:sequence/);
    expect(() => groupTagRecord({ ...group, release: "x".repeat(300) })).toThrow(/256/);
  });
});

describe("parseGroupTags", () => {
  it("reads a record back into the descriptor", () => {
    expect(parseGroupTags(record)).toEqual(group);
  });

  it("reads the SDK's tag list form, ignoring other tags", () => {
    const list = [
      ...Object.entries(record).map(([Key, Value]) => ({ Key, Value })),
      { Key: "Name", Value: "web" },
      { Value: "no key" },
    ];
    expect(parseGroupTags(list)).toEqual(group);
  });

  it("round-trips the builders' output", () => {
    for (const role of ["live", "standby", "failed", "green"] as const) {
      const g = { ...group, role };
      expect(parseGroupTags(elbTags(g))).toEqual(g);
    }
  });

  it.each([
    ["switchyard:managed", undefined, "required"],
    ["switchyard:managed", "yes", 'expected "true"'],
    ["switchyard:app", "", "required"],
    ["switchyard:app", "Web", "not a valid service name"],
    ["switchyard:sequence", "seven", "whole number"],
    ["switchyard:sequence", "007", "whole number"],
    ["switchyard:sequence", "00", "whole number"],
    ["switchyard:sequence", "-1", "whole number"],
    ["switchyard:role", "blue", "live, standby, failed, green"],
    ["switchyard:created-at", "yesterday", "ISO 8601"],
    ["switchyard:created-at", "2026-13-45T00:00:00Z", "ISO 8601"],
    ["switchyard:swap-id", "", "characters"],
  ])("rejects %s=%j (%s), naming the tag and the resource", (key, value, why) => {
    const tags: Record<string, string | undefined> = { ...record, [key]: value };
    let thrown: unknown;
    try {
      parseGroupTags(tags, "web-prod-v007");
    } catch (error) {
      thrown = error;
    }
    expect(isSwitchyardError(thrown, "INVALID_INPUT")).toBe(true);
    expect((thrown as Error).message).toContain(key);
    expect((thrown as Error).message).toContain("web-prod-v007");
    expect((thrown as Error).message).toContain(why);
  });

  it("tells managed resources apart", () => {
    expect(isManaged(record)).toBe(true);
    expect(isManaged([{ Key: "switchyard:managed", Value: "true" }])).toBe(true);
    expect(isManaged({ "switchyard:managed": "false" })).toBe(false);
    expect(isManaged([])).toBe(false);
  });
});
