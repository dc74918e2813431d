import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CONFIG_FILE_NAMES,
  checkConfig,
  defineConfig,
  loadConfig,
  parseImageRef,
  type ResolvedConfig,
  resolveConfig,
  resolveGate,
  type SwitchyardConfig,
  serviceConfig,
} from "../../../src/core/config.js";
import { isSwitchyardError } from "../../../src/core/errors.js";

const LISTENER =
  "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2";
const RULE =
  "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee";

const YAML = `# a comment
region: us-east-1
state: { bucket: releases, prefix: .switchyard }
services:
  web/prod:
    listenerArn: ${LISTENER}
    ruleArn: ${RULE}
    vpcId: vpc-0sandbox00000001
    subnets: [subnet-0sandbox0000000a, subnet-0sandbox0000000b]
    securityGroups: [sg-0sandbox00000001]
    image: ami-05a1dbox0base0001
    instanceType: t3.small
    instanceProfile: web-prod
    capacity: { min: 2, max: 6, desired: 2 }
    targetGroup:
      port: 8080
      protocol: HTTP
      healthCheck: { path: /health, intervalSeconds: 10, timeoutSeconds: 5,
                     healthyThreshold: 2, unhealthyThreshold: 2, matcher: "200" }
      deregistrationDelaySeconds: 30
    steps: [5, 25, 50, 100]
    bake: 5m
    healthyTimeout: 15m
    stickiness: 1h
    releases: s3://releases/web/prod/
    userData: ./userdata.sh.tmpl
    gates: ["./scripts/smoke.sh --fast", "curl -fsS http://example.com/health"]
    retire: { keep: 1, minAge: 24h }
`;

const input = {
  region: "us-east-1",
  state: { bucket: "releases", prefix: ".switchyard" },
  services: {
    "web/prod": {
      listenerArn: LISTENER,
      ruleArn: RULE,
      vpcId: "vpc-0sandbox00000001",
      subnets: ["subnet-0sandbox0000000a", "subnet-0sandbox0000000b"],
      securityGroups: ["sg-0sandbox00000001"],
      image: "ami-05a1dbox0base0001",
      instanceType: "t3.small",
      instanceProfile: "web-prod",
      capacity: { min: 2, max: 6, desired: 2 },
      targetGroup: {
        port: 8080,
        protocol: "HTTP",
        healthCheck: {
          path: "/health",
          intervalSeconds: 10,
          timeoutSeconds: 5,
          healthyThreshold: 2,
          unhealthyThreshold: 2,
          matcher: "200",
        },
        deregistrationDelaySeconds: 30,
      },
      steps: [5, 25, 50, 100],
      bake: "5m",
      healthyTimeout: "15m",
      stickiness: "1h",
      releases: "s3://releases/web/prod/",
      userData: "./userdata.sh.tmpl",
      gates: ["./scripts/smoke.sh --fast", "curl -fsS http://example.com/health"],
      retire: { keep: 1, minAge: "24h" },
    },
  },
} satisfies SwitchyardConfig;

/** The smallest valid config: every default applies. */
function minimal(): {
  state: { bucket: string };
  services: Record<string, Record<string, unknown>>;
} {
  return {
    state: { bucket: "releases" },
    services: {
      "web/prod": {
        listenerArn: LISTENER,
        vpcId: "vpc-0abc12345",
        subnets: ["subnet-0abc12345"],
        securityGroups: [],
        image: "switchyard-sandbox-base",
        instanceType: "t3.small",
        capacity: { min: 1, max: 2, desired: 1 },
        targetGroup: { port: 8080 },
        releases: "s3://releases/web/prod/",
      },
    },
  };
}

let dir: string;
const configModule = fileURLToPath(new URL("../../../src/core/config.js", import.meta.url));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchyard-config-"));
  await writeFile(join(dir, "userdata.sh.tmpl"), "#!/bin/bash\nfetch {{releaseUrl}}\n");
  await writeFile(join(dir, "app.yaml"), YAML);
  await writeFile(join(dir, "app.json"), JSON.stringify(input, null, 2));
  await writeFile(
    join(dir, "app.ts"),
    `import { defineConfig } from ${JSON.stringify(configModule)};\n` +
      `const steps: number[] = [5, 25, 50, 100];\n` +
      `export default defineConfig(${JSON.stringify(input).replace(/"steps":\[[^\]]*\]/, '"steps":steps')});\n`,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadConfig", () => {
  it("loads YAML, JSON and a TypeScript defineConfig module to the same resolved config", async () => {
    const yaml = await loadConfig({ cwd: dir, path: "app.yaml" });
    const json = await loadConfig({ cwd: dir, path: "app.json" });
    const ts = await loadConfig({ cwd: dir, path: join(dir, "app.ts") });
    expect(yaml.path).toBe(join(dir, "app.yaml"));
    expect(json.config).toEqual(yaml.config);
    expect(ts.config).toEqual(yaml.config);
  });

  it("applies defaults, converts durations to ms and resolves paths against the config folder", async () => {
    const { config } = await loadConfig({ cwd: tmpdir(), path: join(dir, "app.yaml") });
    const expected: ResolvedConfig = {
      region: "us-east-1",
      state: { bucket: "releases", prefix: ".switchyard" },
      services: {
        "web/prod": {
          ...input.services["web/prod"],
          name: "web/prod",
          app: "web",
          env: "prod",
          bake: 300_000,
          healthyTimeout: 900_000,
          stickiness: 3_600_000,
          listenerPropagation: 15_000,
          userData: join(dir, "userdata.sh.tmpl"),
          gates: [`${join(dir, "scripts/smoke.sh")} --fast`, "curl -fsS http://example.com/health"],
          retire: { keep: 1, minAge: 86_400_000 },
          alarms: [],
          alarmsUnreadable: "fail",
          metrics: { period: 60_000, lag: 60_000 },
        },
      },
    };
    expect(config).toEqual(expected);
  });

  it("finds switchyard.config.* in the working directory", async () => {
    const here = await mkdtemp(join(dir, "find-"));
    await writeFile(join(here, "switchyard.config.json"), JSON.stringify(minimal()));
    const loaded = await loadConfig({ cwd: here });
    expect(loaded.path).toBe(join(here, "switchyard.config.json"));
    expect(loaded.config.services["web/prod"]?.steps).toEqual([5, 25, 50, 100]);
  });

  it("refuses to guess between two config files", async () => {
    const here = await mkdtemp(join(dir, "two-"));
    await writeFile(join(here, "switchyard.config.json"), JSON.stringify(minimal()));
    await writeFile(join(here, "switchyard.config.yaml"), "state: {}\n");
    await expect(loadConfig({ cwd: here })).rejects.toThrow(
      /more than one config file.*switchyard\.config\.yaml, switchyard\.config\.json/,
    );
  });

  it("says which names it looked for, and where, when there is no config", async () => {
    const empty = await mkdtemp(join(dir, "empty-"));
    const error: unknown = await loadConfig({ cwd: empty }).catch((e: unknown) => e);
    expect(isSwitchyardError(error, "CONFIG_NOT_FOUND")).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(empty);
    for (const name of CONFIG_FILE_NAMES) expect(message).toContain(name);
  });

  it("reports a missing --config file as CONFIG_NOT_FOUND", async () => {
    const error: unknown = await loadConfig({ cwd: dir, path: "nope.yaml" }).catch(
      (e: unknown) => e,
    );
    expect(isSwitchyardError(error, "CONFIG_NOT_FOUND")).toBe(true);
    expect((error as Error).message).toContain(join(dir, "nope.yaml"));
  });

  it.each([
    ["bad.yaml", "services: [unclosed\n", "invalid YAML"],
    ["bad.json", "{ nope", "invalid JSON"],
    ["empty.yaml", "\n", "empty"],
    ["bad.ts", "export default {{;", "could not be read"],
    ["bad.toml", "x = 1", "unsupported file type"],
  ])("reports an unreadable %s as CONFIG_INVALID", async (name, text, why) => {
    await writeFile(join(dir, name), text);
    const error: unknown = await loadConfig({ cwd: dir, path: name }).catch((e: unknown) => e);
    expect(isSwitchyardError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as Error).message).toContain(name);
    expect((error as Error).message).toContain(why);
  });

  it("lists every problem, one per line, under the file name", async () => {
    const config = minimal();
    Object.assign(config.services["web/prod"] ?? {}, {
      steps: [50, 20, 100],
      bake: "soon",
      stepz: 1,
    });
    await writeFile(join(dir, "invalid.json"), JSON.stringify(config));
    const error: unknown = await loadConfig({ cwd: dir, path: "invalid.json" }).catch(
      (e: unknown) => e,
    );
    expect(isSwitchyardError(error, "CONFIG_INVALID")).toBe(true);
    const lines = (error as Error).message.split("\n");
    expect(lines[0]).toBe("invalid.json is invalid (3 problems):");
    expect(lines).toHaveLength(4);
    expect(lines).toContain(
      `  services."web/prod".steps: steps must increase and end at 100; got 50,20,100`,
    );
    expect(
      lines.some((l) => l.startsWith(`  services."web/prod".bake: invalid duration "soon"`)),
    ).toBe(true);
    expect(
      lines.some((l) =>
        l.startsWith(
          `  services."web/prod".stepz: unknown key "stepz"; expected one of listenerArn,`,
        ),
      ),
    ).toBe(true);
    expect((error as { details: { issues: unknown[] } }).details.issues).toHaveLength(3);
  });

  it("checks the user data template exists and uses known placeholders", async () => {
    const config = minimal();
    Object.assign(config.services["web/prod"] ?? {}, { userData: "missing.tmpl" });
    await writeFile(join(dir, "missing-tmpl.json"), JSON.stringify(config));
    await expect(loadConfig({ cwd: dir, path: "missing-tmpl.json" })).rejects.toThrow(
      /services\."web\/prod"\.userData: file not found: missing\.tmpl/,
    );
    await writeFile(join(dir, "typo.tmpl"), "echo {{relase}}\n");
    Object.assign(config.services["web/prod"] ?? {}, { userData: "typo.tmpl" });
    await writeFile(join(dir, "typo-tmpl.json"), JSON.stringify(config));
    await expect(loadConfig({ cwd: dir, path: "typo-tmpl.json" })).rejects.toThrow(
      /\{\{relase\}\}/,
    );
  });
});

describe("config validation", () => {
  type Case = [string, (c: ReturnType<typeof minimal>) => void, string, string];
  const svc = (c: ReturnType<typeof minimal>): Record<string, unknown> =>
    c.services["web/prod"] ?? {};
  const cases: Case[] = [
    [
      "steps not increasing",
      (c) => Object.assign(svc(c), { steps: [50, 20, 100] }),
      `services."web/prod".steps`,
      "steps must increase and end at 100; got 50,20,100",
    ],
    [
      "steps repeating a value",
      (c) => Object.assign(svc(c), { steps: [50, 50, 100] }),
      `services."web/prod".steps`,
      "must increase",
    ],
    [
      "steps not ending at 100",
      (c) => Object.assign(svc(c), { steps: [5, 25, 50] }),
      `services."web/prod".steps`,
      "end at 100; got 5,25,50",
    ],
    [
      "a step of 0",
      (c) => Object.assign(svc(c), { steps: [0, 100] }),
      `services."web/prod".steps[0]`,
      "whole percent from 1 to 100; got 0",
    ],
    [
      "a step of 101",
      (c) => Object.assign(svc(c), { steps: [5, 101] }),
      `services."web/prod".steps[1]`,
      "whole percent from 1 to 100; got 101",
    ],
    [
      "a fractional step",
      (c) => Object.assign(svc(c), { steps: [2.5, 100] }),
      `services."web/prod".steps[0]`,
      "whole percent",
    ],
    [
      "no steps",
      (c) => Object.assign(svc(c), { steps: [] }),
      `services."web/prod".steps`,
      "at least one step",
    ],
    [
      "capacity min > desired",
      (c) => Object.assign(svc(c), { capacity: { min: 3, max: 6, desired: 2 } }),
      `services."web/prod".capacity`,
      "min ≤ desired ≤ max; got min 3, desired 2, max 6",
    ],
    [
      "capacity desired > max",
      (c) => Object.assign(svc(c), { capacity: { min: 1, max: 2, desired: 3 } }),
      `services."web/prod".capacity`,
      "min ≤ desired ≤ max",
    ],
    [
      "a bad duration",
      (c) => Object.assign(svc(c), { bake: "5 minutes" }),
      `services."web/prod".bake`,
      `invalid duration "5 minutes"`,
    ],
    [
      "a negative duration",
      (c) => Object.assign(svc(c), { healthyTimeout: -5 }),
      `services."web/prod".healthyTimeout`,
      "negative",
    ],
    [
      "a duration of the wrong type",
      (c) => Object.assign(svc(c), { bake: [] }),
      `services."web/prod".bake`,
      "expected a duration",
    ],
    [
      "a zero healthy timeout",
      (c) => Object.assign(svc(c), { healthyTimeout: 0 }),
      `services."web/prod".healthyTimeout`,
      "at least 1s",
    ],
    [
      "stickiness over 7 days",
      (c) => Object.assign(svc(c), { stickiness: "8d" }),
      `services."web/prod".stickiness`,
      `must be from 1s to 7d; got "8d"`,
    ],
    [
      "stickiness true",
      (c) => Object.assign(svc(c), { stickiness: true }),
      `services."web/prod".stickiness`,
      "expected false or a duration",
    ],
    [
      "a bad retire minAge",
      (c) => Object.assign(svc(c), { retire: { minAge: "1 day" } }),
      `services."web/prod".retire.minAge`,
      "invalid duration",
    ],
    [
      "a negative retire keep",
      (c) => Object.assign(svc(c), { retire: { keep: -1 } }),
      `services."web/prod".retire.keep`,
      "must be ≥ 0; got -1",
    ],
    [
      "a bad service name",
      (c) => {
        c.services["Web/Prod"] = c.services["web/prod"] ?? {};
      },
      `services."Web/Prod"`,
      "not a valid service name",
    ],
    [
      "a service name without env",
      (c) => {
        c.services.web = c.services["web/prod"] ?? {};
      },
      `services.web`,
      "<app>/<env>",
    ],
    [
      "services sharing resource names",
      (c) => {
        c.services["web-prod/x"] = { ...svc(c) };
        c.services["web/prod-x"] = { ...svc(c) };
      },
      `services."web/prod-x"`,
      `would share resource names (web-prod-x-v<NNN>)`,
    ],
    [
      "no services",
      (c) => {
        c.services = {};
      },
      "services",
      "add at least one service",
    ],
    [
      "an unknown top-level key",
      (c) => Object.assign(c, { servies: {} }),
      "servies",
      `unknown key "servies"; expected one of region, state, services`,
    ],
    [
      "an unknown service key",
      (c) => Object.assign(svc(c), { stepz: [5, 100] }),
      `services."web/prod".stepz`,
      `unknown key "stepz"`,
    ],
    [
      "an unknown health check key",
      (c) => Object.assign(svc(c), { targetGroup: { port: 80, healthCheck: { interval: 5 } } }),
      `services."web/prod".targetGroup.healthCheck.interval`,
      `unknown key "interval"; expected one of path, intervalSeconds`,
    ],
    [
      "health-check timeout = interval",
      (c) =>
        Object.assign(svc(c), {
          targetGroup: { port: 80, healthCheck: { intervalSeconds: 5, timeoutSeconds: 5 } },
        }),
      `services."web/prod".targetGroup.healthCheck.timeoutSeconds`,
      "timeoutSeconds must be less than intervalSeconds; got timeout 5 ≥ interval 5",
    ],
    [
      "health-check timeout > default interval",
      (c) =>
        Object.assign(svc(c), { targetGroup: { port: 80, healthCheck: { timeoutSeconds: 20 } } }),
      `services."web/prod".targetGroup.healthCheck.timeoutSeconds`,
      "got timeout 20 ≥ interval 10",
    ],
    [
      "health-check interval out of range",
      (c) =>
        Object.assign(svc(c), { targetGroup: { port: 80, healthCheck: { intervalSeconds: 500 } } }),
      `services."web/prod".targetGroup.healthCheck.intervalSeconds`,
      "must be ≤ 300; got 500",
    ],
    [
      "a bad matcher",
      (c) => Object.assign(svc(c), { targetGroup: { port: 80, healthCheck: { matcher: "ok" } } }),
      `services."web/prod".targetGroup.healthCheck.matcher`,
      `"ok" is not a list of HTTP codes; write a code, codes separated by commas or a range, e.g. "200", "200,204" or "200-299"`,
    ],
    [
      "a matcher code AWS refuses (600)",
      (c) => Object.assign(svc(c), { targetGroup: { port: 80, healthCheck: { matcher: "600" } } }),
      `services."web/prod".targetGroup.healthCheck.matcher`,
      `"600" is not a valid HTTP code; use codes 200-499, e.g. "200" or "200-299"`,
    ],
    [
      "a matcher code below 200 in a list",
      (c) =>
        Object.assign(svc(c), { targetGroup: { port: 80, healthCheck: { matcher: "200,199" } } }),
      `services."web/prod".targetGroup.healthCheck.matcher`,
      `"200,199" has 199, which is not a valid HTTP code; use codes 200-499`,
    ],
    [
      "a matcher range reaching 500",
      (c) =>
        Object.assign(svc(c), { targetGroup: { port: 80, healthCheck: { matcher: "200-500" } } }),
      `services."web/prod".targetGroup.healthCheck.matcher`,
      `"200-500" has 500, which is not a valid HTTP code`,
    ],
    [
      "a matcher range written high to low",
      (c) =>
        Object.assign(svc(c), { targetGroup: { port: 80, healthCheck: { matcher: "200-100" } } }),
      `services."web/prod".targetGroup.healthCheck.matcher`,
      `"200-100" has the range 200-100, whose first code is above its last; write it low to high`,
    ],
    [
      "port 0",
      (c) => Object.assign(svc(c), { targetGroup: { port: 0 } }),
      `services."web/prod".targetGroup.port`,
      "must be ≥ 1; got 0",
    ],
    [
      "a bad protocol",
      (c) => Object.assign(svc(c), { targetGroup: { port: 80, protocol: "TCP" } }),
      `services."web/prod".targetGroup.protocol`,
      `expected HTTP or HTTPS; got "TCP"`,
    ],
    [
      "deregistration delay over an hour",
      (c) => Object.assign(svc(c), { targetGroup: { port: 80, deregistrationDelaySeconds: 3601 } }),
      `services."web/prod".targetGroup.deregistrationDelaySeconds`,
      "≤ 3600",
    ],
    [
      "a missing field",
      (c) => {
        delete svc(c).vpcId;
      },
      `services."web/prod".vpcId`,
      "is required",
    ],
    [
      "a wrong type",
      (c) => Object.assign(svc(c), { subnets: "subnet-0abc12345" }),
      `services."web/prod".subnets`,
      `expected a list; got "subnet-0abc12345"`,
    ],
    [
      "no subnets",
      (c) => Object.assign(svc(c), { subnets: [] }),
      `services."web/prod".subnets`,
      "at least one subnet",
    ],
    [
      "a bad subnet id",
      (c) => Object.assign(svc(c), { subnets: ["sub-1"] }),
      `services."web/prod".subnets[0]`,
      `expected a subnet id (subnet-0abc…); got "sub-1"`,
    ],
    [
      "a bad listener ARN",
      (c) =>
        Object.assign(svc(c), {
          listenerArn:
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc",
        }),
      `services."web/prod".listenerArn`,
      "listener ARN",
    ],
    [
      "a rule of another listener",
      (c) =>
        Object.assign(svc(c), { ruleArn: RULE.replace("f2f7dc8efc522ab2", "0000000000000000") }),
      `services."web/prod".ruleArn`,
      "belongs to listener",
    ],
    [
      "a malformed AMI id",
      (c) => Object.assign(svc(c), { image: "ami-xyz" }),
      `services."web/prod".image`,
      "AMI id",
    ],
    [
      "a bad instance type",
      (c) => Object.assign(svc(c), { instanceType: "large" }),
      `services."web/prod".instanceType`,
      "instance type",
    ],
    [
      "releases without a trailing '/'",
      (c) => Object.assign(svc(c), { releases: "s3://releases/web/prod" }),
      `services."web/prod".releases`,
      "end in '/'",
    ],
    [
      "a bad state bucket",
      (c) => {
        c.state.bucket = "Releases";
      },
      "state.bucket",
      "bucket name",
    ],
    ["a bad region", (c) => Object.assign(c, { region: "virginia" }), "region", "AWS region"],
    [
      "an empty gate",
      (c) => Object.assign(svc(c), { gates: ["  "] }),
      `services."web/prod".gates[0]`,
      "non-empty command",
    ],
    [
      "an empty alarm name",
      (c) => Object.assign(svc(c), { alarms: [""] }),
      `services."web/prod".alarms[0]`,
      "alarm name",
    ],
    [
      "an unknown alarmsUnreadable",
      (c) => Object.assign(svc(c), { alarmsUnreadable: "warn" }),
      `services."web/prod".alarmsUnreadable`,
      "fail or ignore",
    ],
    [
      "a maxIncrease without a percent sign",
      (c) => Object.assign(svc(c), { analysis: { errorRate: { maxIncrease: "1" } } }),
      `services."web/prod".analysis.errorRate.maxIncrease`,
      'percentage from 0% to 100% such as "1%"',
    ],
    [
      "a maxIncrease over 100%",
      (c) => Object.assign(svc(c), { analysis: { errorRate: { maxIncrease: "150%" } } }),
      `services."web/prod".analysis.errorRate.maxIncrease`,
      "percentage",
    ],
    [
      "an unknown latency statistic",
      (c) => Object.assign(svc(c), { analysis: { latency: { stat: "p999x" } } }),
      `services."web/prod".analysis.latency.stat`,
      "p99, p99.9",
    ],
    [
      "a latency ratio under 1",
      (c) => Object.assign(svc(c), { analysis: { latency: { maxRatio: 0.5 } } }),
      `services."web/prod".analysis.latency.maxRatio`,
      "at least 1",
    ],
    [
      "an unknown onInsufficientData",
      (c) => Object.assign(svc(c), { analysis: { onInsufficientData: "skip" } }),
      `services."web/prod".analysis.onInsufficientData`,
      "fail or pass",
    ],
    [
      "an unknown analysis key",
      (c) => Object.assign(svc(c), { analysis: { errorrate: {} } }),
      `services."web/prod".analysis.errorrate`,
      "expected one of errorRate, latency",
    ],
    [
      "a bad maxExtension",
      (c) => Object.assign(svc(c), { analysis: { maxExtension: "soon" } }),
      `services."web/prod".analysis.maxExtension`,
      "duration",
    ],
  ];

  it("maps analysis onto the judge's terms: fractions, ms and seconds", () => {
    const config = minimal();
    Object.assign(svc(config), {
      alarms: ["web-5xx"],
      analysis: {
        errorRate: { maxIncrease: "1%" },
        latency: { stat: "p99", maxRatio: 1.25 },
        onInsufficientData: "fail",
      },
    });
    const service = serviceConfig(resolveConfig(config), "web/prod");
    expect(service.alarms).toEqual(["web-5xx"]);
    expect(service.alarmsUnreadable).toBe("fail");
    expect(service.analysis).toEqual({
      errorRate: { maxIncrease: 0.01 },
      latency: { stat: "p99", maxRatio: 1.25, floorSeconds: 0.05 },
      minRequests: 500,
      significance: 0.01,
      maxExtension: 300_000,
      onInsufficientData: "fail",
    });
    expect(service.metrics).toEqual({ period: 60_000, lag: 60_000 });
    // an empty analysis is the judge's defaults, 5xx only
    Object.assign(svc(config), { analysis: {} });
    expect(serviceConfig(resolveConfig(config), "web/prod").analysis).toEqual({
      errorRate: { maxIncrease: 0.005 },
      minRequests: 500,
      significance: 0.01,
      maxExtension: 300_000,
      onInsufficientData: "fail",
    });
  });

  it.each(cases)("rejects %s, naming the path", (_, mutate, path, message) => {
    const config = minimal();
    mutate(config);
    const check = checkConfig(config);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.issues).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it("throws CONFIG_INVALID from resolveConfig with the source named", () => {
    const config = minimal();
    Object.assign(svc(config), { steps: [50, 20, 100] });
    expect(() => resolveConfig(config, { source: "switchyard.config.yaml" })).toThrow(
      `switchyard.config.yaml is invalid (1 problem):\n  services."web/prod".steps: steps must increase and end at 100; got 50,20,100`,
    );
  });

  it("applies every default", () => {
    const config = resolveConfig(minimal());
    expect(config.state.prefix).toBe(".switchyard");
    expect(config.region).toBeUndefined();
    const service = serviceConfig(config, "web/prod");
    expect(service).toMatchObject({
      steps: [5, 25, 50, 100],
      bake: 300_000,
      healthyTimeout: 900_000,
      stickiness: 3_600_000,
      gates: [],
      retire: { keep: 1, minAge: 86_400_000 },
      targetGroup: {
        port: 8080,
        protocol: "HTTP",
        deregistrationDelaySeconds: 30,
        healthCheck: {
          path: "/health",
          intervalSeconds: 10,
          timeoutSeconds: 5,
          healthyThreshold: 2,
          unhealthyThreshold: 2,
          matcher: "200",
        },
      },
    });
    expect(service).not.toHaveProperty("ruleArn");
    expect(service).not.toHaveProperty("userData");
  });

  it.each(["200", "200,202", "200-299", "200-299,404", "499", "301,302"])(
    "accepts the health check matcher %s, as AWS does",
    (matcher) => {
      const config = minimal();
      Object.assign(svc(config), { targetGroup: { port: 80, healthCheck: { matcher } } });
      const service = serviceConfig(resolveConfig(config), "web/prod");
      expect(service.targetGroup.healthCheck.matcher).toBe(matcher);
    },
  );

  it("reports one problem for a bad matcher", () => {
    const config = minimal();
    Object.assign(svc(config), { targetGroup: { port: 80, healthCheck: { matcher: "600" } } });
    const check = checkConfig(config);
    expect(check.ok ? [] : check.issues).toEqual([
      {
        path: `services."web/prod".targetGroup.healthCheck.matcher`,
        message: `"600" is not a valid HTTP code; use codes 200-499, e.g. "200" or "200-299"`,
      },
    ]);
  });

  it("accepts stickiness false, durations as seconds and a $schema key", () => {
    const config = minimal();
    Object.assign(config, {
      $schema: "./node_modules/switchyard/schema/switchyard.config.schema.json",
    });
    Object.assign(svc(config), { stickiness: false, bake: 30, healthyTimeout: "90" });
    const service = serviceConfig(resolveConfig(config), "web/prod");
    expect(service.stickiness).toBe(false);
    expect(service.bake).toBe(30_000);
    expect(service.healthyTimeout).toBe(90_000);
  });

  it("keeps relative paths as written when no base folder is given", () => {
    const config = minimal();
    Object.assign(svc(config), { userData: "./u.tmpl", gates: ["./smoke.sh"] });
    const service = serviceConfig(resolveConfig(config), "web/prod");
    expect(service.userData).toBe("./u.tmpl");
    expect(service.gates).toEqual(["./smoke.sh"]);
  });

  it("strips slashes around the state prefix", () => {
    const config = minimal();
    Object.assign(config.state, { prefix: "/locks/" });
    expect(resolveConfig(config).state.prefix).toBe("locks");
  });
});

describe("helpers", () => {
  it("defineConfig returns its argument", () => {
    expect(defineConfig(input)).toBe(input);
  });

  it("serviceConfig lists the known services for an unknown one", () => {
    const config = resolveConfig(minimal());
    let thrown: unknown;
    try {
      serviceConfig(config, "api/prod");
    } catch (error) {
      thrown = error;
    }
    expect(isSwitchyardError(thrown, "UNKNOWN_SERVICE")).toBe(true);
    expect((thrown as Error).message).toBe(`unknown service "api/prod"; the config has web/prod`);
    expect(() => serviceConfig(config, "toString")).toThrow(/unknown service/);
  });

  it("resolves ./ and ../ gate scripts, quoting paths the shell would split", () => {
    expect(resolveGate("./smoke.sh --fast", "/srv/app")).toBe("/srv/app/smoke.sh --fast");
    expect(resolveGate("../bin/check", "/srv/app")).toBe("/srv/bin/check");
    expect(resolveGate("./smoke.sh", "/my dir")).toBe("'/my dir/smoke.sh'");
    expect(resolveGate("curl -f http://x/./y", "/srv")).toBe("curl -f http://x/./y");
  });

  it("tells AMI ids from image names", () => {
    expect(parseImageRef("ami-0abc1234def567890")).toEqual({
      kind: "id",
      id: "ami-0abc1234def567890",
    });
    expect(parseImageRef("switchyard-sandbox-base")).toEqual({
      kind: "name",
      name: "switchyard-sandbox-base",
    });
  });
});
