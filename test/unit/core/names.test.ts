import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isSwitchyardError } from "../../../src/core/errors.js";
import {
  formatSequence,
  launchTemplateName,
  nextSequence,
  parseServerGroupName,
  parseServiceName,
  serverGroupName,
  serverGroupNames,
  serviceHash,
  swapRecordKey,
  TARGET_GROUP_NAME_PATTERN,
  targetGroupName,
} from "../../../src/core/names.js";

const part = fc.stringMatching(/^[a-z](?:-?[a-z0-9]){0,40}$/);
const service = fc
  .tuple(part, part)
  .map(([app, env]) => `${app}/${env}`)
  .filter((name) => name.length <= 64);
const sequence = fc.oneof(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 2 ** 40 }));

describe("parseServiceName", () => {
  it.each([
    ["web/prod", { app: "web", env: "prod" }],
    ["my-app/eu-west-1", { app: "my-app", env: "eu-west-1" }],
    ["a1/b2", { app: "a1", env: "b2" }],
    [`a/${"b".repeat(62)}`, { app: "a", env: "b".repeat(62) }],
  ])("parses %s", (name, parsed) => {
    expect(parseServiceName(name)).toEqual(parsed);
  });

  it.each([
    "web",
    "web/prod/eu",
    "Web/prod",
    "web/Prod",
    "1web/prod",
    "web/-prod",
    "web-/prod",
    "web/prod-",
    "we--b/prod",
    "web/pr_od",
    "/prod",
    "web/",
    `a/${"b".repeat(63)}`,
  ])("rejects %j with a message naming it and the rule", (name) => {
    let thrown: unknown;
    try {
      parseServiceName(name);
    } catch (error) {
      thrown = error;
    }
    expect(isSwitchyardError(thrown, "INVALID_INPUT")).toBe(true);
    expect((thrown as Error).message).toContain(JSON.stringify(name));
    expect((thrown as Error).message).toContain("<app>/<env>");
  });
});

describe("server group names", () => {
  it.each([
    ["web/prod", 1, "web-prod-v001"],
    ["web/prod", 42, "web-prod-v042"],
    ["web/prod", 999, "web-prod-v999"],
    ["web/prod", 1000, "web-prod-v1000"],
    ["my-app/eu-west", 7, "my-app-eu-west-v007"],
  ])("%s #%i is %s", (svc, seq, name) => {
    expect(serverGroupName(svc, seq)).toBe(name);
    expect(launchTemplateName(svc, seq)).toBe(`switchyard-${name}`);
  });

  it.each([0, -1, 1.5, Number.NaN])("rejects sequence %d", (seq) => {
    expect(() => formatSequence(seq)).toThrow(/sequence/);
  });

  it("parses a name back against the known services, even when parts contain '-'", () => {
    const services = ["a/b-c", "web/prod", "web/prod-v2"];
    expect(parseServerGroupName("a-b-c-v003", services)).toEqual({
      app: "a",
      env: "b-c",
      service: "a/b-c",
      sequence: 3,
    });
    expect(parseServerGroupName("web-prod-v2-v010", services)?.service).toBe("web/prod-v2");
    expect(parseServerGroupName("web-prod-v1234", services)?.sequence).toBe(1234);
    expect(parseServerGroupName("web-prod-v7", services)).toBeUndefined();
    expect(parseServerGroupName("web-prod-v0007", services)).toBeUndefined();
    expect(parseServerGroupName("web-prod-v000", services)).toBeUndefined();
    expect(parseServerGroupName("api-prod-v001", services)).toBeUndefined();
  });

  it("round-trips every generated name", () => {
    fc.assert(
      fc.property(service, sequence, (svc, seq) => {
        expect(parseServerGroupName(serverGroupName(svc, seq), [svc])).toMatchObject({
          service: svc,
          sequence: seq,
        });
      }),
    );
  });

  it("keeps launch template names within 128 characters", () => {
    fc.assert(
      fc.property(service, sequence, (svc, seq) => {
        expect(launchTemplateName(svc, seq).length).toBeLessThanOrEqual(128);
      }),
    );
  });

  it("computes the next sequence", () => {
    expect(nextSequence([])).toBe(1);
    expect(nextSequence([3, 1, 2])).toBe(4);
  });

  it("returns all three names at once", () => {
    expect(serverGroupNames("web/prod", 5)).toEqual({
      autoScalingGroup: "web-prod-v005",
      targetGroup: "web-prod-v005",
      launchTemplate: "switchyard-web-prod-v005",
    });
  });
});

describe("targetGroupName", () => {
  it("is the server group name when that fits in 32 characters", () => {
    expect(targetGroupName("web/prod", 3)).toBe("web-prod-v003");
    const fits = `${"a".repeat(12)}/${"b".repeat(14)}`; // a…-b…-v001 is exactly 32
    expect(targetGroupName(fits, 1)).toBe(serverGroupName(fits, 1));
    expect(targetGroupName(fits, 1)).toHaveLength(32);
  });

  it("truncates and adds a stable hash of the service when it does not fit", () => {
    const long = "checkout-service/production-eu-west";
    const name = targetGroupName(long, 12);
    expect(name).toBe(`checkout-service-pr--${serviceHash(long)}-v012`);
    expect(name).toHaveLength(32);
    expect(serviceHash(long)).toMatch(/^[0-9a-z]{6}$/);
    expect(targetGroupName(long, 12)).toBe(name);
    expect(targetGroupName(long, 1234)).toBe(`checkout-service-p--${serviceHash(long)}-v1234`);
  });

  it("never leaves a hyphen before the hash separator", () => {
    // The prefix cut lands right after a '-': it is dropped, not doubled into '---'.
    const svc = "abcdefghijklmnopqr/production-eu";
    const name = targetGroupName(svc, 1);
    expect(name).toBe(`abcdefghijklmnopqr--${serviceHash(svc)}-v001`);
    expect(name).toHaveLength(31);
  });

  it("is at most 32 characters and matches AWS's pattern for every service and sequence", () => {
    fc.assert(
      fc.property(service, sequence, (svc, seq) => {
        const name = targetGroupName(svc, seq);
        expect(name.length).toBeLessThanOrEqual(32);
        expect(name).toMatch(TARGET_GROUP_NAME_PATTERN);
      }),
      { numRuns: 2000 },
    );
  });

  it("never maps two different services with the same sequence to the same name", () => {
    fc.assert(
      fc.property(service, service, sequence, (a, b, seq) => {
        fc.pre(a !== b);
        // Services with equal stems (a-b/c vs a/b-c) are rejected by the config schema.
        fc.pre(serverGroupName(a, 1) !== serverGroupName(b, 1));
        expect(targetGroupName(a, seq)).not.toBe(targetGroupName(b, seq));
      }),
      { numRuns: 2000 },
    );
  });

  it("tells apart long services that share a truncated prefix", () => {
    const a = "checkout-service/production-eu-west";
    const b = "checkout-service/production-us-east";
    expect(targetGroupName(a, 1)).not.toBe(targetGroupName(b, 1));
    expect(targetGroupName(a, 1).slice(0, 15)).toBe(targetGroupName(b, 1).slice(0, 15));
  });

  it("cannot be mistaken for another service's untruncated name", () => {
    // A long service's hashed name contains '--'; no service name does.
    const long = "checkout-service/production-eu-west";
    const hashed = targetGroupName(long, 1);
    const [prefix = "", rest = ""] = hashed.split("--");
    const lookalike = `${prefix.replace("-", "/")}-${rest.replace(/-v001$/, "")}`;
    expect(() => parseServiceName(lookalike)).not.toThrow();
    expect(targetGroupName(lookalike, 1)).not.toBe(hashed);
  });
});

describe("swapRecordKey", () => {
  it.each([
    [".switchyard", "web/prod", ".switchyard/web/prod/swap.json"],
    ["locks/", "web/prod", "locks/web/prod/swap.json"],
    ["", "web/prod", "web/prod/swap.json"],
  ])("%j + %s → %s", (prefix, svc, key) => {
    expect(swapRecordKey(prefix, svc)).toBe(key);
  });
});
