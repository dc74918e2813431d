import { describe, expect, it } from "vitest";
import {
  actionsFor,
  conditionMatches,
  cookieValue,
  forwardTuples,
  pickWeighted,
  type RuleSnapshot,
  redirectLocation,
  StickyCookies,
  terminalAction,
} from "../../../src/sandbox/runtime/routing.js";
import type { Action } from "../../../src/sandbox/state.js";

const req = (path: string, host = "app.example.com", method = "GET") => ({ path, host, method });
const fixed = (body: string): Action => ({
  Type: "fixed-response",
  FixedResponseConfig: { StatusCode: "200", MessageBody: body },
});

describe("rule conditions", () => {
  it.each([
    ["/api/*", "/api/users", true],
    ["/api/*", "/api", false],
    ["/img/?.png", "/img/a.png", true],
    ["/img/?.png", "/img/ab.png", false],
    ["/API/*", "/api/x", false],
    ["/a.b", "/aXb", false],
    ["*", "/anything/at/all", true],
  ])("path pattern %s against %s is %s", (pattern, path, expected) => {
    expect(conditionMatches({ Field: "path-pattern", Values: [pattern] }, req(path))).toBe(
      expected,
    );
    expect(conditionMatches({ PathPatternConfig: { Values: [pattern] } }, req(path))).toBe(
      expected,
    );
  });

  it("matches host headers without regard to case", () => {
    const c = { Field: "host-header", HostHeaderConfig: { Values: ["*.Example.com"] } };
    expect(conditionMatches(c, req("/", "shop.example.com"))).toBe(true);
    expect(conditionMatches(c, req("/", "example.com"))).toBe(false);
  });

  it("matches request methods and never an unknown field", () => {
    expect(
      conditionMatches({ Field: "http-request-method", Values: ["POST"] }, req("/", "h", "post")),
    ).toBe(true);
    expect(conditionMatches({ Field: "source-ip", Values: ["0.0.0.0/0"] }, req("/"))).toBe(false);
  });
});

describe("rule evaluation", () => {
  const rules: RuleSnapshot[] = [
    {
      priority: 5,
      conditions: [{ Field: "path-pattern", Values: ["/a/*"] }],
      actions: [fixed("five")],
    },
    {
      priority: 9,
      conditions: [
        { Field: "path-pattern", Values: ["/a/*", "/b"] },
        { Field: "host-header", Values: ["x.com"] },
      ],
      actions: [fixed("nine")],
    },
  ];

  it("takes the first matching rule in priority order, else the default actions", () => {
    const body = (path: string, host?: string) =>
      terminalAction(actionsFor(rules, [fixed("default")], req(path, host)))?.FixedResponseConfig
        ?.MessageBody;
    expect(body("/a/1", "x.com")).toBe("five");
    expect(body("/b", "x.com")).toBe("nine");
    expect(body("/b", "y.com")).toBe("default");
  });

  it("answers with the lowest-Order terminal action", () => {
    const actions: Action[] = [
      { Type: "redirect", Order: 2, RedirectConfig: {} },
      { ...fixed("first"), Order: 1 },
    ];
    expect(terminalAction(actions)?.Type).toBe("fixed-response");
  });
});

describe("forward weights", () => {
  it("reads a lone TargetGroupArn as weight 1", () => {
    expect(forwardTuples({ Type: "forward", TargetGroupArn: "tg" })).toEqual([
      { arn: "tg", weight: 1 },
    ]);
  });

  it("never picks a zero weight while another group has weight", () => {
    const groups = [
      { arn: "a", weight: 0 },
      { arn: "b", weight: 3 },
      { arn: "c", weight: 0 },
    ];
    for (const r of [0, 0.3, 0.999999]) expect(pickWeighted(groups, () => r)).toBe(1);
  });

  it("picks nothing when every weight is zero", () => {
    expect(pickWeighted([{ arn: "a", weight: 0 }], () => 0.5)).toBe(-1);
    expect(pickWeighted([], () => 0.5)).toBe(-1);
  });

  it("picks in proportion to the weights", () => {
    const groups = [
      { arn: "a", weight: 95 },
      { arn: "b", weight: 5 },
    ];
    expect(pickWeighted(groups, () => 0.949)).toBe(0);
    expect(pickWeighted(groups, () => 0.951)).toBe(1);
  });
});

describe("stickiness cookie", () => {
  const cookies = new StickyCookies(Buffer.alloc(32, 7));

  it("names the target group until it expires", () => {
    const value = cookies.encode("arn:tg/blue", 2_000);
    expect(cookies.decode(value, 1_999)).toBe("arn:tg/blue");
    expect(cookies.decode(value, 2_000)).toBeUndefined();
  });

  it("is opaque to tampering: a changed value or another key's cookie is ignored", () => {
    const value = cookies.encode("arn:tg/blue", 2_000);
    const forged = `${Buffer.from("zzzz|arn:tg/green").toString("base64url")}.${value.split(".")[1]}`;
    expect(cookies.decode(forged, 0)).toBeUndefined();
    expect(new StickyCookies(Buffer.alloc(32, 8)).decode(value, 0)).toBeUndefined();
    expect(cookies.decode("garbage", 0)).toBeUndefined();
  });

  it("sets AWSALBTG and AWSALBTGCORS with the expiry", () => {
    const [plain, cors] = cookies.setCookieHeaders("arn:tg/blue", Date.UTC(2030, 0, 1));
    expect(plain).toMatch(/^AWSALBTG=[^;]+; Expires=Tue, 01 Jan 2030 00:00:00 GMT; Path=\/$/);
    expect(cors).toMatch(/^AWSALBTGCORS=[^;]+; .*SameSite=None; Secure$/);
  });

  it("is read from a Cookie header among others", () => {
    expect(cookieValue("a=1; AWSALBTG=xyz.abc; b=2", "AWSALBTG")).toBe("xyz.abc");
    expect(cookieValue("AWSALBTGCORS=1", "AWSALBTG")).toBeUndefined();
    expect(cookieValue(undefined, "AWSALBTG")).toBeUndefined();
  });
});

describe("redirect actions", () => {
  it("fills ALB's placeholders from the request", () => {
    const location = redirectLocation(
      { Path: "/new/#{path}", StatusCode: "HTTP_301" },
      { path: "/old", query: "a=1", host: "example.com", port: "8080" },
    );
    expect(location).toBe("http://example.com:8080/new/old?a=1");
  });
});
