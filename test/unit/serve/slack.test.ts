import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import type { SwitchyardEvent } from "../../../src/core/events.js";
import {
  eventLine,
  loadSlackSettings,
  outcomeLine,
  parseSlackCommand,
  ResponseUrl,
  slackSignature,
  verifySlackSignature,
} from "../../../src/serve/slack.js";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const BODY =
  "token=x&team_id=T1&channel_id=C1&user_id=U1&command=%2Fswitchyard&text=status+web%2Fprod&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1";
const NOW = 1_700_000_000_000;
const TS = String(NOW / 1000);

/** The signature computed here, independently of the module: `v0=` + HMAC-SHA256 hex. */
function sign(secret: string, timestamp: string, body: string): string {
  const mac = createHmac("sha256", Buffer.from(secret, "utf8"));
  mac.update(Buffer.from(`v0:${timestamp}:${body}`, "utf8"));
  return `v0=${mac.digest("hex")}`;
}

describe("Slack signatures", () => {
  const good = { secret: SECRET, timestamp: TS, signature: sign(SECRET, TS, BODY), body: BODY };

  it("computes v0=HMAC-SHA256(secret, v0:timestamp:body) in hex", () => {
    expect(slackSignature(SECRET, TS, BODY)).toBe(sign(SECRET, TS, BODY));
    expect(slackSignature(SECRET, TS, Buffer.from(BODY))).toMatch(/^v0=[0-9a-f]{64}$/);
  });

  it("accepts a request signed with the secret, within five minutes either way", () => {
    expect(verifySlackSignature({ ...good, nowMs: NOW })).toBe(true);
    expect(verifySlackSignature({ ...good, nowMs: NOW + 299_000 })).toBe(true);
    expect(verifySlackSignature({ ...good, nowMs: NOW - 299_000 })).toBe(true);
  });

  it.each([
    ["a wrong secret", { signature: sign("another-secret", TS, BODY) }],
    ["a tampered body", { body: BODY.replace("status", "deploy") }],
    ["a body with a byte added", { body: `${BODY}&` }],
    ["no signature", { signature: undefined }],
    ["a truncated signature", { signature: sign(SECRET, TS, BODY).slice(0, 40) }],
    ["another version", { signature: sign(SECRET, TS, BODY).replace("v0=", "v1=") }],
    ["no timestamp", { timestamp: undefined }],
    ["a timestamp that is not a number", { timestamp: `${TS}.5` }],
  ])("refuses %s", (_, change) => {
    expect(verifySlackSignature({ ...good, ...change, nowMs: NOW })).toBe(false);
  });

  it("refuses a timestamp more than five minutes old or ahead, even correctly signed", () => {
    for (const skew of [301_000, -301_000, 3_600_000]) {
      const ts = String((NOW - skew) / 1000);
      expect(
        verifySlackSignature({
          secret: SECRET,
          timestamp: ts,
          signature: sign(SECRET, ts, BODY),
          body: BODY,
          nowMs: NOW,
        }),
      ).toBe(false);
    }
  });
});

describe("parseSlackCommand", () => {
  it.each([
    ["", { kind: "help" }],
    ["help", { kind: "help" }],
    ["status", { kind: "status", service: null }],
    ["status web/prod", { kind: "status", service: "web/prod" }],
    ["  DEPLOY   web/prod  r42 ", { kind: "deploy", service: "web/prod", release: "r42" }],
    [
      "deploy web/prod <https://example.com/r42.tar.gz>",
      { kind: "deploy", service: "web/prod", release: "https://example.com/r42.tar.gz" },
    ],
    ["rollback web/prod", { kind: "rollback", service: "web/prod" }],
    [
      "rollback web/prod web-prod-v003",
      { kind: "rollback", service: "web/prod", to: "web-prod-v003" },
    ],
    ["promote web/prod", { kind: "promote", service: "web/prod" }],
    ["pause web/prod", { kind: "pause", service: "web/prod" }],
    ["abort web/prod", { kind: "abort", service: "web/prod" }],
  ])("%j", (text, expected) => {
    expect(parseSlackCommand(text)).toEqual(expected);
  });

  it.each([
    ["launch web/prod", /unknown command "launch"/],
    ["deploy web/prod", /usage: deploy <app>\/<env> <release>/],
    ["deploy", /usage: deploy/],
    ["deploy web/prod r42 now", /usage: deploy/],
    ["promote web/prod full", /usage: promote/],
    ["status Web/Prod", /not a service name/],
    ["deploy web r42", /not a service name/],
  ])("%j is refused with a reason", (text, message) => {
    const parsed = parseSlackCommand(text);
    expect(parsed.kind).toBe("invalid");
    expect(parsed.kind === "invalid" && parsed.message).toMatch(message);
  });
});

describe("Slack settings", () => {
  it("are absent without a signing secret, and read ids separated by commas or spaces", async () => {
    expect(await loadSlackSettings({})).toBeUndefined();
    const s = await loadSlackSettings({
      SWITCHYARD_SLACK_SIGNING_SECRET: " s3cret ",
      SWITCHYARD_SLACK_USERS: "U1, U2 U3",
      SWITCHYARD_SLACK_CHANNELS: "C1",
    });
    expect(s?.signingSecret).toBe("s3cret");
    expect([...(s?.users ?? [])]).toEqual(["U1", "U2", "U3"]);
    expect(s?.channels).toEqual(new Set(["C1"]));
    const any = await loadSlackSettings({
      SWITCHYARD_SLACK_SIGNING_SECRET: "x",
      SWITCHYARD_SLACK_CHANNELS: "*",
    });
    expect(any?.channels).toBe("any");
    expect(any?.users.size).toBe(0);
  });
});

describe("progress lines", () => {
  const base = { service: "web/prod", at: 0 };
  it("names the steps and the outcome", () => {
    expect(
      eventLine({ ...base, type: "step.shifted", step: 2, of: 4, weight: 25, weights: [] }),
    ).toBe("`web/prod`: step 2/4: 25 % of traffic on green");
    expect(eventLine({ ...base, type: "lock.acquired", swapId: "s1" } as SwitchyardEvent)).toBe(
      undefined,
    );
    expect(
      outcomeLine("deploy", "web/prod", {
        ok: true,
        result: {
          ok: true,
          service: "web/prod",
          outcome: "completed",
          live: "web-prod-v002",
          standby: "web-prod-v001",
          release: "r2",
          attempted: "r2",
          durationMs: 65_000,
        },
      }),
    ).toMatch(/^:white_check_mark: `web\/prod`: r2 is live \(`web-prod-v002`/);
  });
});

describe("ResponseUrl", () => {
  async function receiver(statuses: number[]) {
    const got: unknown[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        got.push(JSON.parse(body));
        res.statusCode = statuses.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    return { got, url, close: () => new Promise((r) => server.close(r)) };
  }

  it("retries a 5xx, gives up on a 4xx, and keeps to its number of uses", async () => {
    const r = await receiver([503, 200, 404]);
    const lines: string[] = [];
    const channel = new ResponseUrl(r.url, { retryDelayMs: 10, uses: 2 }, (l) => lines.push(l));
    expect(await channel.post({ text: "one" })).toBe(true);
    expect(r.got).toEqual([{ text: "one" }, { text: "one" }]);
    expect(await channel.post({ text: "two" })).toBe(false);
    expect(lines.join("\n")).toMatch(/not delivered \(HTTP 404\)/);
    expect(channel.remaining).toBe(0);
    expect(await channel.post({ text: "three" })).toBe(false);
    expect(r.got).toHaveLength(3);
    await r.close();
  });

  it("never throws when nothing listens", async () => {
    const channel = new ResponseUrl("http://127.0.0.1:9/hook", { retryDelayMs: 5, timeoutMs: 500 });
    expect(await channel.post({ text: "lost" })).toBe(false);
  });
});
