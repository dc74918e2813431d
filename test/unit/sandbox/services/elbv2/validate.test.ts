import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matcherProblem } from "../../../../../src/core/config-schema.js";
import {
  applyTargetGroupAttributes,
  DEFAULT_HEALTH_CHECK,
  DEFAULT_TARGET_GROUP_ATTRIBUTES,
  matchesHttpCode,
  paginate,
  parseActions,
  parseConditions,
  parseHealthCheck,
  parseTags,
  validateLoadBalancerName,
  validatePriority,
  validateTargetGroupName,
} from "../../../../../src/sandbox/services/elbv2/validate.js";

const TG_A = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a/0123456789abcdef";
const TG_B = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/b/0123456789abcdef";

/** The error code a call throws, or undefined if it does not throw. */
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe("names", () => {
  it.each([
    ["a".repeat(32), undefined],
    ["a".repeat(33), "ValidationError"],
    ["web_prod", "ValidationError"],
    ["-web", "ValidationError"],
    ["web-", "ValidationError"],
    ["", "ValidationError"],
  ])("target group name %j → %s", (name, code) => {
    expect(codeOf(() => validateTargetGroupName(name))).toBe(code);
  });

  it("load balancer names may not start with internal-", () => {
    expect(codeOf(() => validateLoadBalancerName("internal-web"))).toBe("ValidationError");
    expect(validateLoadBalancerName("web-prod")).toBe("web-prod");
  });
});

describe("health checks", () => {
  it("keeps the base settings when no parameter is given", () => {
    expect(parseHealthCheck({}, DEFAULT_HEALTH_CHECK)).toEqual(DEFAULT_HEALTH_CHECK);
  });

  it.each([
    ["HealthCheckIntervalSeconds", "4", "healthCheckIntervalSeconds"],
    ["HealthCheckIntervalSeconds", "301", "healthCheckIntervalSeconds"],
    ["HealthCheckTimeoutSeconds", "1", "healthCheckTimeoutSeconds"],
    ["HealthCheckTimeoutSeconds", "121", "healthCheckTimeoutSeconds"],
    ["HealthyThresholdCount", "1", "healthyThresholdCount"],
    ["HealthyThresholdCount", "11", "healthyThresholdCount"],
    ["UnhealthyThresholdCount", "11", "unhealthyThresholdCount"],
    ["HealthCheckPort", "70000", "healthCheckPort"],
  ])("%s=%s is a ValidationError naming %s", (key, value, field) => {
    expect(() => parseHealthCheck({ [key]: value }, DEFAULT_HEALTH_CHECK)).toThrow(field);
  });

  it("the timeout must stay below the interval, judged on the merged settings", () => {
    const base = { ...DEFAULT_HEALTH_CHECK, intervalSeconds: 10, timeoutSeconds: 5 };
    expect(() => parseHealthCheck({ HealthCheckIntervalSeconds: "5" }, base)).toThrow(
      "Health check interval must be greater than the timeout.",
    );
    expect(parseHealthCheck({ HealthCheckIntervalSeconds: "6" }, base).intervalSeconds).toBe(6);
  });

  it("accepts matcher lists and ranges within 200-499 and rejects others", () => {
    expect(
      parseHealthCheck({ Matcher: { HttpCode: "200,302" } }, DEFAULT_HEALTH_CHECK).matcher,
    ).toBe("200,302");
    expect(
      parseHealthCheck({ Matcher: { HttpCode: "200-299" } }, DEFAULT_HEALTH_CHECK).matcher,
    ).toBe("200-299");
    for (const HttpCode of ["199", "500", "600", "abc", "300-200", "200-100", "200,600"]) {
      expect(codeOf(() => parseHealthCheck({ Matcher: { HttpCode } }, DEFAULT_HEALTH_CHECK))).toBe(
        "ValidationError",
      );
    }
  });

  it("accepts exactly the matchers the config accepts", () => {
    const code = fc.integer({ min: 100, max: 699 }).map(String);
    const part = fc.oneof(
      code,
      fc.tuple(code, code).map(([low, high]) => `${low}-${high}`),
    );
    const matcher = fc.array(part, { minLength: 1, maxLength: 3 }).map((parts) => parts.join(","));
    fc.assert(
      fc.property(matcher, (HttpCode) => {
        let sandbox = true;
        try {
          parseHealthCheck({ Matcher: { HttpCode } }, DEFAULT_HEALTH_CHECK);
        } catch {
          sandbox = false;
        }
        expect(sandbox).toBe(matcherProblem(HttpCode) === undefined);
      }),
    );
  });

  it("a path must begin with a slash", () => {
    expect(
      codeOf(() => parseHealthCheck({ HealthCheckPath: "health" }, DEFAULT_HEALTH_CHECK)),
    ).toBe("ValidationError");
  });

  it("matchesHttpCode reads codes, lists and ranges", () => {
    expect(matchesHttpCode("200", 200)).toBe(true);
    expect(matchesHttpCode("200", 201)).toBe(false);
    expect(matchesHttpCode("200,302", 302)).toBe(true);
    expect(matchesHttpCode("200-299", 250)).toBe(true);
    expect(matchesHttpCode("200-299", 300)).toBe(false);
  });
});

describe("target group attributes", () => {
  const apply = (Key: string, Value: string) =>
    applyTargetGroupAttributes(DEFAULT_TARGET_GROUP_ATTRIBUTES, [{ Key, Value }]);

  it.each([
    ["deregistration_delay.timeout_seconds", "0"],
    ["deregistration_delay.timeout_seconds", "3600"],
    ["stickiness.enabled", "true"],
    ["stickiness.lb_cookie.duration_seconds", "604800"],
    ["load_balancing.algorithm.type", "least_outstanding_requests"],
  ])("accepts %s=%s", (key, value) => {
    expect(apply(key, value)[key]).toBe(value);
  });

  it.each([
    ["deregistration_delay.timeout_seconds", "-1"],
    ["deregistration_delay.timeout_seconds", "3601"],
    ["deregistration_delay.timeout_seconds", "30s"],
    ["stickiness.enabled", "yes"],
    ["stickiness.type", "source_ip"],
    ["stickiness.lb_cookie.duration_seconds", "604801"],
    ["load_balancing.algorithm.type", "random"],
    ["unknown.key", "1"],
  ])("rejects %s=%s", (key, value) => {
    expect(codeOf(() => apply(key, value))).toBe("ValidationError");
  });

  it("does not change the attributes it is given", () => {
    apply("stickiness.enabled", "true");
    expect(DEFAULT_TARGET_GROUP_ATTRIBUTES["stickiness.enabled"]).toBe("false");
  });
});

describe("actions", () => {
  const forward = (groups: Array<{ TargetGroupArn?: string; Weight?: string }>, extra = {}) => [
    { Type: "forward", ForwardConfig: { TargetGroups: groups, ...extra } },
  ];

  it("normalizes a plain TargetGroupArn into a one-group ForwardConfig of weight 1", () => {
    expect(parseActions([{ Type: "forward", TargetGroupArn: TG_A }], "defaultActions")).toEqual([
      {
        Type: "forward",
        TargetGroupArn: TG_A,
        ForwardConfig: {
          TargetGroups: [{ TargetGroupArn: TG_A, Weight: 1 }],
          TargetGroupStickinessConfig: { Enabled: false },
        },
      },
    ]);
  });

  it("keeps weights and leaves TargetGroupArn out when several groups share the action", () => {
    const [action] = parseActions(
      forward([
        { TargetGroupArn: TG_A, Weight: "95" },
        { TargetGroupArn: TG_B, Weight: "5" },
      ]),
      "defaultActions",
    );
    expect(action?.TargetGroupArn).toBeUndefined();
    expect(action?.ForwardConfig?.TargetGroups).toEqual([
      { TargetGroupArn: TG_A, Weight: 95 },
      { TargetGroupArn: TG_B, Weight: 5 },
    ]);
  });

  it("allows five target groups and answers six with TooManyTargetGroups", () => {
    const groups = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ TargetGroupArn: `${TG_A}${i}`, Weight: "1" }));
    expect(
      parseActions(forward(groups(5)), "actions")[0]?.ForwardConfig?.TargetGroups,
    ).toHaveLength(5);
    expect(codeOf(() => parseActions(forward(groups(6)), "actions"))).toBe("TooManyTargetGroups");
  });

  it.each(["-1", "1000", "1.5"])("weight %s is a ValidationError", (Weight) => {
    expect(codeOf(() => parseActions(forward([{ TargetGroupArn: TG_A, Weight }]), "actions"))).toBe(
      "ValidationError",
    );
  });

  it("a target group named twice in one action is a ValidationError", () => {
    expect(
      codeOf(() =>
        parseActions(
          forward([
            { TargetGroupArn: TG_A, Weight: "1" },
            { TargetGroupArn: TG_A, Weight: "2" },
          ]),
          "actions",
        ),
      ),
    ).toBe("ValidationError");
  });

  it("TargetGroupArn next to a ForwardConfig must name the same single group", () => {
    const both = (groups: Array<{ TargetGroupArn: string }>) => [
      { Type: "forward", TargetGroupArn: TG_A, ForwardConfig: { TargetGroups: groups } },
    ];
    expect(parseActions(both([{ TargetGroupArn: TG_A }]), "actions")[0]?.TargetGroupArn).toBe(TG_A);
    expect(codeOf(() => parseActions(both([{ TargetGroupArn: TG_B }]), "actions"))).toBe(
      "ValidationError",
    );
    expect(
      codeOf(() =>
        parseActions(both([{ TargetGroupArn: TG_A }, { TargetGroupArn: TG_B }]), "actions"),
      ),
    ).toBe("ValidationError");
  });

  it("stickiness needs a duration of 1 to 604800 seconds when enabled", () => {
    const sticky = (config: Record<string, string | undefined>) =>
      forward([{ TargetGroupArn: TG_A, Weight: "1" }], { TargetGroupStickinessConfig: config });
    expect(
      parseActions(sticky({ Enabled: "true", DurationSeconds: "3600" }), "actions")[0]
        ?.ForwardConfig?.TargetGroupStickinessConfig,
    ).toEqual({ Enabled: true, DurationSeconds: 3600 });
    for (const config of [
      { Enabled: "true" },
      { Enabled: "true", DurationSeconds: "0" },
      { Enabled: "true", DurationSeconds: "604801" },
    ]) {
      expect(codeOf(() => parseActions(sticky(config), "actions"))).toBe("ValidationError");
    }
  });

  it("checks fixed-response status codes and redirect loops", () => {
    const fixed = (StatusCode: string) => [
      { Type: "fixed-response", FixedResponseConfig: { StatusCode } },
    ];
    expect(parseActions(fixed("503"), "actions")[0]?.FixedResponseConfig?.StatusCode).toBe("503");
    expect(codeOf(() => parseActions(fixed("302"), "actions"))).toBe("ValidationError");
    expect(
      codeOf(() =>
        parseActions([{ Type: "redirect", RedirectConfig: { StatusCode: "HTTP_301" } }], "actions"),
      ),
    ).toBe("InvalidLoadBalancerAction");
    expect(
      parseActions(
        [
          {
            Type: "redirect",
            RedirectConfig: { StatusCode: "HTTP_301", Protocol: "HTTPS", Port: "443" },
          },
        ],
        "actions",
      )[0]?.RedirectConfig,
    ).toMatchObject({ Protocol: "HTTPS", Port: "443", Host: "#{host}", Path: "/#{path}" });
  });

  it("an empty action list, an unknown type or two terminal actions are rejected", () => {
    expect(codeOf(() => parseActions("", "actions"))).toBe("ValidationError");
    expect(codeOf(() => parseActions([{ Type: "teleport" }], "actions"))).toBe("ValidationError");
    const fixed = { Type: "fixed-response", FixedResponseConfig: { StatusCode: "503" } };
    expect(codeOf(() => parseActions([fixed, fixed], "actions"))).toBe("InvalidLoadBalancerAction");
  });
});

describe("rule conditions and priorities", () => {
  it("describes path-pattern conditions in both the Values and the PathPatternConfig form", () => {
    expect(parseConditions([{ Field: "path-pattern", Values: ["/api/*"] }])).toEqual([
      { Field: "path-pattern", Values: ["/api/*"], PathPatternConfig: { Values: ["/api/*"] } },
    ]);
    expect(
      parseConditions([{ Field: "host-header", HostHeaderConfig: { Values: ["*.example.com"] } }]),
    ).toEqual([
      {
        Field: "host-header",
        Values: ["*.example.com"],
        HostHeaderConfig: { Values: ["*.example.com"] },
      },
    ]);
  });

  it("allows at most five condition values per rule", () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => `/p${i}`);
    expect(parseConditions([{ Field: "path-pattern", Values: values(5) }])).toHaveLength(1);
    expect(() => parseConditions([{ Field: "path-pattern", Values: values(6) }])).toThrow(
      "A rule can only have '5' condition values",
    );
  });

  it("rejects no conditions, unknown fields and repeated fields", () => {
    expect(codeOf(() => parseConditions(""))).toBe("ValidationError");
    expect(codeOf(() => parseConditions([{ Field: "cookie", Values: ["x"] }]))).toBe(
      "ValidationError",
    );
    expect(
      codeOf(() =>
        parseConditions([
          { Field: "path-pattern", Values: ["/a"] },
          { Field: "path-pattern", Values: ["/b"] },
        ]),
      ),
    ).toBe("ValidationError");
  });

  it.each([
    ["1", 1],
    ["50000", 50000],
  ])("priority %s is accepted", (raw, value) => {
    expect(validatePriority(raw)).toBe(value);
  });

  it.each(["0", "50001", undefined])("priority %s is a ValidationError", (raw) => {
    expect(codeOf(() => validatePriority(raw))).toBe("ValidationError");
  });
});

describe("tags", () => {
  it("rejects duplicate keys with DuplicateTagKeys and reserved aws: keys", () => {
    expect(
      codeOf(() =>
        parseTags([
          { Key: "a", Value: "1" },
          { Key: "a", Value: "2" },
        ]),
      ),
    ).toBe("DuplicateTagKeys");
    expect(codeOf(() => parseTags([{ Key: "aws:name", Value: "x" }]))).toBe("ValidationError");
    expect(parseTags([{ Key: "k" }])).toEqual([{ Key: "k", Value: "" }]);
  });
});

describe("paging", () => {
  it("walking the markers visits every item once, in order, for any page size", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer(), { maxLength: 60 }),
        fc.integer({ min: 1, max: 400 }),
        (items, size) => {
          const seen: number[] = [];
          let marker: string | undefined;
          do {
            const { page, nextMarker } = paginate(items, marker, String(size));
            expect(page.length).toBeLessThanOrEqual(size);
            seen.push(...page);
            marker = nextMarker;
          } while (marker);
          expect(seen).toEqual(items);
        },
      ),
    );
  });

  it("rejects a page size outside 1-400 and a marker it did not issue", () => {
    expect(codeOf(() => paginate([1], undefined, "0"))).toBe("ValidationError");
    expect(codeOf(() => paginate([1], undefined, "401"))).toBe("ValidationError");
    expect(codeOf(() => paginate([1], "not-a-marker", undefined))).toBe("ValidationError");
  });
});
