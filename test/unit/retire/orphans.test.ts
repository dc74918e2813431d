import { describe, expect, it } from "vitest";
import { launchTemplateName, serverGroupName, targetGroupName } from "../../../src/core/names.js";
import {
  launchTemplateSequence,
  referencedTargetGroups,
  targetGroupSequence,
} from "../../../src/retire/orphans.js";

describe("orphan names", () => {
  it("a target group name is matched only when names.ts makes exactly it (plain form)", () => {
    expect(targetGroupSequence("web/prod", targetGroupName("web/prod", 7))).toBe(7);
    expect(targetGroupSequence("web/prod", "web-prod-v1234")).toBe(1234);
    for (const name of [
      "web-prod-v7",
      "web-prod-v0007",
      "web-prod-v007x",
      "web-prod-canary-v007",
    ]) {
      expect(targetGroupSequence("web/prod", name), name).toBeUndefined();
    }
    // another service whose stem starts the same
    expect(targetGroupSequence("web/prod", serverGroupName("web/prod-eu", 3))).toBeUndefined();
  });

  it("the hashed form of a long service is matched exactly, its hash included", () => {
    const service = "checkout-service/production-eu-west";
    const name = targetGroupName(service, 12);
    expect(name).toContain("--");
    expect(targetGroupSequence(service, name)).toBe(12);
    // the plain name is too long to be a target group of this service
    expect(targetGroupSequence(service, serverGroupName(service, 12))).toBeUndefined();
    // same truncated prefix, another hash
    const other = "checkout-service/production-eu-east";
    expect(targetGroupSequence(service, targetGroupName(other, 12))).toBeUndefined();
  });

  it("a launch template name is matched exactly", () => {
    expect(launchTemplateSequence("web/prod", launchTemplateName("web/prod", 5))).toBe(5);
    for (const name of [
      "switchyard-web-prod-v5",
      "switchyard-web-prod-v005-old",
      "web-prod-v005",
      launchTemplateName("web/prod-v2", 5),
    ]) {
      expect(launchTemplateSequence("web/prod", name), name).toBeUndefined();
    }
  });

  it("finds the target groups a set of actions forwards to, weighted or plain", () => {
    expect(
      referencedTargetGroups([
        { Type: "forward", TargetGroupArn: "a" },
        {
          Type: "forward",
          ForwardConfig: { TargetGroups: [{ TargetGroupArn: "b", Weight: 0 }] },
        },
        { Type: "fixed-response" },
      ]),
    ).toEqual(new Set(["a", "b"]));
  });
});
