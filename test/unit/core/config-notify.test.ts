// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkConfig, loadConfig, substituteEnv } from "../../../src/core/config.js";
import { isSwitchyardError } from "../../../src/core/errors.js";

const SERVICE = {
  listenerArn:
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2",
  vpcId: "vpc-0abc12345",
  subnets: ["subnet-0a1b2c3d"],
  securityGroups: [],
  image: "ami-0abc1234def567890",
  instanceType: "t3.small",
  capacity: { min: 1, max: 2, desired: 1 },
  targetGroup: { port: 8080 },
  releases: "s3://releases/web/prod/",
};
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

function base(extra: Record<string, unknown> = {}, service: Record<string, unknown> = {}) {
  return {
    state: { bucket: "releases" },
    services: { "web/prod": { ...SERVICE, ...service } },
    ...extra,
  };
}

describe("notify in the config", () => {
  it("takes slack, webhook and github entries at the top level and per service, with defaults", () => {
    const check = checkConfig(
      base(
        {
          notify: [
            { slack: { webhookUrl: "https://hooks.slack.com/services/T0/B0/x" } },
            { webhook: { url: "https://ci.example.com/hook", secret: SECRET, events: ["drift"] } },
          ],
        },
        { notify: [{ github: { repository: "org/web", token: "ghp_x" } }] },
      ),
    );
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.config.notify).toEqual([
      { slack: { webhookUrl: "https://hooks.slack.com/services/T0/B0/x" } },
      { webhook: { url: "https://ci.example.com/hook", secret: SECRET, events: ["drift"] } },
    ]);
    expect(check.config.services["web/prod"]?.notify).toEqual([
      {
        github: {
          repository: "org/web",
          token: "ghp_x",
          apiUrl: "https://api.github.com",
          ref: "{{version}}",
        },
      },
    ]);
  });

  it("leaves notify out of a config without it", () => {
    const check = checkConfig(base());
    expect(check.ok && "notify" in check.config).toBe(false);
    expect(check.ok && "notify" in (check.config.services["web/prod"] ?? {})).toBe(false);
  });

  it("names the problem of each bad entry without echoing secret values", () => {
    const check = checkConfig(
      base({
        notify: [
          {},
          { slack: { webhookUrl: "hooks.slack.com/very-secret" } },
          { webhook: { url: "https://x.example", secret: "very-secret" } },
          { github: { repository: "web", token: "" } },
          {
            slack: { webhookUrl: "https://h.example/x" },
            github: { repository: "o/r", token: "t" },
          },
          { slack: { webhookUrl: "https://h.example/x", events: ["swap.exploded"] } },
        ],
      }),
    );
    expect(check.ok).toBe(false);
    if (check.ok) return;
    const lines = check.issues.map((i) => `${i.path}: ${i.message}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^notify\[0\]: expected one of slack:, webhook:, github:/),
        expect.stringMatching(/^notify\[1\]\.slack\.webhookUrl: expected an http\(s\):\/\/ URL/),
        expect.stringMatching(/^notify\[2\]\.webhook\.secret: expected a Standard Webhooks secret/),
        expect.stringMatching(/^notify\[3\]\.github\.repository: expected owner\/name/),
        expect.stringMatching(/^notify\[3\]\.github\.token: is empty/),
        expect.stringMatching(
          /^notify\[4\]: one notifier per entry; this one has slack and github/,
        ),
        expect.stringMatching(/^notify\[5\]\.slack\.events\[0\]: expected one of swap\.started/),
      ]),
    );
    expect(lines.join("\n")).not.toContain("very-secret");
  });
});

describe("${VAR} in the config file", () => {
  it("replaces references in strings from the environment, $${ staying literal, gates untouched", () => {
    const { value, issues } = substituteEnv(
      {
        a: "${HOOK}",
        b: ["x-${HOOK}-${HOOK}", 3, true, null],
        c: "$${HOOK}",
        services: { "web/prod": { gates: ["curl ${SWITCHYARD_WEIGHT}"], image: "${IMG}" } },
      },
      { HOOK: "h", IMG: "ami-0abc1234def567890" },
    );
    expect(issues).toEqual([]);
    expect(value).toEqual({
      a: "h",
      b: ["x-h-h", 3, true, null],
      c: "${HOOK}",
      services: {
        "web/prod": { gates: ["curl ${SWITCHYARD_WEIGHT}"], image: "ami-0abc1234def567890" },
      },
    });
  });

  it("names every unset variable and malformed reference with its field", () => {
    const { issues } = substituteEnv(
      { notify: [{ slack: { webhookUrl: "${NOPE}" } }], x: "${1a}" },
      {},
    );
    expect(issues).toEqual([
      {
        path: "notify[0].slack.webhookUrl",
        message: "environment variable NOPE is not set; set it, or write the value in its place",
      },
      {
        path: "x",
        message: expect.stringContaining("${1a} is not an environment variable reference"),
      },
    ]);
  });

  it("loadConfig substitutes before validating, and fails with CONFIG_INVALID naming the variable", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-notify-"));
    const file = join(dir, "switchyard.config.json");
    await writeFile(
      file,
      JSON.stringify(base({ notify: [{ webhook: { url: "${URL}", secret: "${SECRET}" } }] })),
    );
    const { config } = await loadConfig({
      path: file,
      env: { URL: "https://ci.example.com/hook", SECRET },
    });
    expect(config.notify).toEqual([
      { webhook: { url: "https://ci.example.com/hook", secret: SECRET } },
    ]);
    const error = await loadConfig({ path: file, env: { URL: "https://x.example" } }).catch(
      (e: unknown) => e,
    );
    expect(isSwitchyardError(error, "CONFIG_INVALID")).toBe(true);
    expect(String((error as Error).message)).toContain(
      "notify[0].webhook.secret: environment variable SECRET is not set",
    );
  });
});
