import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { configFormatOf, writeServiceConfig } from "../../../src/cli/write-config.js";
import { checkConfig } from "../../../src/core/config.js";
import { type BootstrapResult, sandboxServiceConfig } from "../../../src/demo/bootstrap.js";

const LISTENER =
  "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web-dev/0123456789abcdef/0123456789abcdef";

function bootstrapped(service: string): BootstrapResult {
  const network = {
    vpcId: "vpc-0sandbox00000001",
    subnets: ["subnet-0sandbox0000000a", "subnet-0sandbox0000000b"],
    securityGroups: ["sg-0sandbox00000001"],
  };
  return {
    service,
    bucket: "releases",
    loadBalancerArn: "arn:lb",
    loadBalancerName: "web-dev",
    listenerArn: LISTENER,
    created: { bucket: true, loadBalancer: true, listener: true },
    config: {
      region: "us-east-1",
      state: { bucket: "releases", prefix: ".switchyard" },
      services: {
        [service]: sandboxServiceConfig(service, {
          listenerArn: LISTENER,
          bucket: "releases",
          ...network,
        }),
      },
    },
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchyard-write-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writing a bootstrapped config", () => {
  it("picks YAML or JSON by the extension, and refuses others", () => {
    expect(configFormatOf("a/switchyard.config.yaml")).toBe("yaml");
    expect(configFormatOf("x.YML")).toBe("yaml");
    expect(configFormatOf("x.json")).toBe("json");
    expect(() => configFormatOf("x.ts")).toThrow(/writes YAML \(\.yaml, \.yml\) or JSON/);
  });

  it("writes a complete config that validates, with sandbox timings", async () => {
    const path = join(dir, "fresh.yaml");
    expect(await writeServiceConfig(path, bootstrapped("web/dev"), "made by a test")).toEqual({
      existed: false,
    });
    const text = await readFile(path, "utf8");
    expect(text.startsWith("# made by a test\n")).toBe(true);
    expect(text).toContain("steps: [5, 25, 50, 100]");
    const check = checkConfig(parse(text));
    expect(check.ok).toBe(true);
    if (check.ok) {
      const service = check.config.services["web/dev"]!;
      expect(service.image).toBe("switchyard-sandbox-base");
      expect(service.releases).toBe("s3://releases/web/dev/");
      expect(service.bake).toBe(5_000);
      expect(service.healthyTimeout).toBe(120_000);
      expect(check.config.state.bucket).toBe("releases");
    }
  });

  it("merges into an existing YAML file, keeping its other services and comments", async () => {
    const path = join(dir, "merge.yaml");
    await writeServiceConfig(path, bootstrapped("web/dev"), "first");
    const withComment = (await readFile(path, "utf8")).replace("services:", "# my note\nservices:");
    await writeFile(path, withComment);
    expect(await writeServiceConfig(path, bootstrapped("api/dev"), "second")).toEqual({
      existed: true,
    });
    const text = await readFile(path, "utf8");
    expect(text).toContain("# my note");
    const value = parse(text) as { services: Record<string, unknown> };
    expect(Object.keys(value.services)).toEqual(["web/dev", "api/dev"]);
    expect(checkConfig(value).ok).toBe(true);
    // running it again for the same service changes nothing
    await writeServiceConfig(path, bootstrapped("api/dev"), "third");
    expect(await readFile(path, "utf8")).toBe(text);
  });

  it("merges into an existing JSON file", async () => {
    const path = join(dir, "merge.json");
    await writeServiceConfig(path, bootstrapped("web/dev"), "first");
    await writeServiceConfig(path, bootstrapped("api/dev"), "second");
    const value = JSON.parse(await readFile(path, "utf8")) as { services: Record<string, unknown> };
    expect(Object.keys(value.services)).toEqual(["web/dev", "api/dev"]);
    expect(checkConfig(value).ok).toBe(true);
  });
});
