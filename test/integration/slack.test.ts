/**
 * ChatOps over a sandbox world: Slack's slash command and buttons against a control plane, with a
 * fake response_url receiver on 127.0.0.1. Signatures and stale timestamps are refused, the
 * allow-lists hold, status answers at once, a deploy asks for a confirming click that only the
 * asker can give, and the confirmed swap's progress reaches the response_url.
 */
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken, newToken } from "../../src/serve/auth.js";
import { type ControlPlane, createControlPlane } from "../../src/serve/control-plane.js";
import { SLACK_PATHS, type SlackMessage, slackRoutes } from "../../src/serve/slack.js";
import type { Switchyard } from "../../src/switchyard.js";
import { eventually } from "../helpers/sandbox.js";
import { SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";

const SECRET = "test-signing-secret-0123456789abcdef";
const OPS = "U0OPS";
const CHANNEL = "C0DEPLOYS";
/** Slack's limit for the answer to a slash command */
const SLACK_LIMIT_MS = 3_000;

function sign(timestamp: string, body: string, secret = SECRET): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

/** The response_urls: every message posted to each, in order. */
class Receiver {
  readonly got = new Map<string, SlackMessage[]>();
  private server: Server | undefined;
  private base = "";
  private n = 0;

  async start() {
    this.server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      req.on("end", () => {
        const list = this.got.get(req.url ?? "") ?? [];
        list.push(JSON.parse(body) as SlackMessage);
        this.got.set(req.url ?? "", list);
        res.end("ok");
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, "127.0.0.1", r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** a fresh response_url */
  next(): string {
    this.n += 1;
    return `${this.base}/hooks/${this.n}`;
  }

  messages(url: string): SlackMessage[] {
    return this.got.get(new URL(url).pathname) ?? [];
  }

  async until(url: string, pattern: RegExp, timeoutMs = 30_000): Promise<SlackMessage[]> {
    try {
      return await eventually(
        () =>
          this.messages(url).some((m) => pattern.test(m.text)) ? this.messages(url) : undefined,
        { timeoutMs, intervalMs: 50, what: `a message matching ${pattern}` },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; got ${JSON.stringify(this.messages(url))}`);
    }
  }

  stop() {
    return new Promise((r) => this.server?.close(r));
  }
}

describe("switchyard serve: Slack", () => {
  let world: SwapWorld;
  let yard: Switchyard;
  let plane: ControlPlane;
  let url = "";
  const receiver = new Receiver();

  async function post(
    path: string,
    body: string,
    o: { timestamp?: string; signature?: string } = {},
  ) {
    const timestamp = o.timestamp ?? String(Math.floor(Date.now() / 1000));
    const started = performance.now();
    const response = await fetch(`${url}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": o.signature ?? sign(timestamp, body),
      },
      body,
    });
    const text = await response.text();
    return {
      status: response.status,
      ms: performance.now() - started,
      text,
      message: (text ? JSON.parse(text) : {}) as SlackMessage,
    };
  }

  /** `/switchyard <text>` as Slack sends it */
  function slash(text: string, o: { user?: string; channel?: string; responseUrl?: string } = {}) {
    const responseUrl = o.responseUrl ?? receiver.next();
    const body = new URLSearchParams({
      token: "unused",
      team_id: "T0TEAM",
      channel_id: o.channel ?? CHANNEL,
      user_id: o.user ?? OPS,
      command: "/switchyard",
      text,
      response_url: responseUrl,
      trigger_id: "1.2.3",
    }).toString();
    return post(SLACK_PATHS.commands, body).then((r) => ({ ...r, responseUrl }));
  }

  /** a click on a button of a message, as Slack sends it */
  function click(
    actionId: string,
    value: string,
    o: { user?: string; channel?: string; responseUrl?: string } = {},
  ) {
    const responseUrl = o.responseUrl ?? receiver.next();
    const payload = {
      type: "block_actions",
      user: { id: o.user ?? OPS },
      channel: { id: o.channel ?? CHANNEL },
      response_url: responseUrl,
      actions: [{ type: "button", action_id: actionId, value, action_ts: "1" }],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return post(SLACK_PATHS.interactions, body).then((r) => ({ ...r, responseUrl }));
  }

  function confirmButton(m: SlackMessage): { action_id: string; value: string } {
    const actions = (m.blocks ?? []).find((b) => (b as { type: string }).type === "actions") as
      | { elements: Array<{ action_id: string; value: string }> }
      | undefined;
    const button = actions?.elements.find((e) => e.action_id === "switchyard.confirm");
    if (!button) throw new Error(`no confirm button in ${JSON.stringify(m)}`);
    return button;
  }

  beforeAll(async () => {
    await receiver.start();
    world = await swapWorld({ pollIntervalMs: 100, config: { steps: [50, 100], bake: 0.2 } });
    const first = await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result;
    expect(first.ok).toBe(true);
    yard = world.another({ pollIntervalMs: 100 });
    plane = createControlPlane({
      yard,
      auth: {
        users: [],
        tokens: [{ name: "ci", role: "operator", sha256: hashToken(newToken()) }],
      },
      routes: (host) =>
        slackRoutes(
          host,
          { signingSecret: SECRET, users: new Set([OPS]), channels: new Set([CHANNEL]) },
          { delivery: { retryDelayMs: 50, timeoutMs: 2_000 } },
        ),
    });
    ({ url } = await plane.listen({ port: 0 }));
  });
  afterAll(async () => {
    await plane?.close({ timeoutMs: 20_000 });
    yard?.close();
    await world?.stop();
    await receiver.stop();
  });

  it("refuses a bad signature, a stale or future timestamp and a tampered body, revealing nothing", async () => {
    const body = new URLSearchParams({ user_id: OPS, channel_id: CHANNEL, text: "status" });
    const now = Math.floor(Date.now() / 1000);
    const attempts = [
      post(SLACK_PATHS.commands, body.toString(), {
        signature: sign(String(now), body.toString(), "wrong"),
      }),
      post(SLACK_PATHS.commands, body.toString(), { timestamp: String(now - 600) }),
      post(SLACK_PATHS.commands, body.toString(), { timestamp: String(now + 600) }),
      post(SLACK_PATHS.commands, `${body.toString()}+web%2Ftest`, {
        timestamp: String(now),
        signature: sign(String(now), body.toString()),
      }),
      post(SLACK_PATHS.interactions, `payload=${encodeURIComponent("{}")}`, { signature: "v0=00" }),
    ];
    for (const r of await Promise.all(attempts)) {
      expect(r.status).toBe(401);
      expect(JSON.parse(r.text)).toEqual({
        error: { code: "UNAUTHORIZED", message: "authentication required" },
      });
    }
    // the old timestamp, correctly signed, is what a replay would send
    expect(sign(String(now - 600), body.toString())).toMatch(/^v0=[0-9a-f]{64}$/);
  });

  it("answers help and status at once, to anyone whose request is signed", async () => {
    const help = await slash("help", { user: "U0ANYONE", channel: "C0RANDOM" });
    expect(help.status).toBe(200);
    expect(help.message.text).toMatch(/deploy <app>\/<env> <release>/);
    const status = await slash(`status ${SERVICE}`, { user: "U0ANYONE", channel: "C0RANDOM" });
    expect(status.status).toBe(200);
    expect(status.ms).toBeLessThan(SLACK_LIMIT_MS);
    expect(status.message.response_type).toBe("ephemeral");
    expect(status.message.text).toMatch(/`web-test-v\d+` live, r1: 100 %/);
  });

  it("lets no one off the allow-lists change anything, nor anyone from another channel", async () => {
    const mallory = await slash(`deploy ${SERVICE} r2`, { user: "U0MALLORY" });
    const elsewhere = await slash(`abort ${SERVICE}`, { channel: "C0RANDOM" });
    for (const r of [mallory, elsewhere]) {
      expect(r.status).toBe(200);
      expect(r.ms).toBeLessThan(SLACK_LIMIT_MS);
      expect(r.message.text).toMatch(/You may not (deploy|abort) web\/test from here/);
      expect(r.message.blocks).toBeUndefined();
    }
    expect((await yard.status(SERVICE)).swap).toBeNull();
  });

  it("deploys only on a confirming click by the asker, and posts the swap's progress", async () => {
    const asked = await slash(`deploy ${SERVICE} r2`);
    expect(asked.status).toBe(200);
    expect(asked.ms).toBeLessThan(SLACK_LIMIT_MS);
    expect(asked.message.response_type).toBe("ephemeral");
    expect(asked.message.text).toMatch(/^Deploy r2 to web\/test\?/);
    const button = confirmButton(asked.message);
    expect(JSON.parse(button.value)).toMatchObject({
      op: "deploy",
      service: SERVICE,
      release: "r2",
    });

    // someone else clicking it (or an expired one) starts nothing
    const other = await click(button.action_id, button.value, { user: "U0OTHER" });
    expect(other.status).toBe(200);
    await receiver.until(other.responseUrl, /Only <@U0OPS>, who asked, can confirm/);
    const stale = { ...JSON.parse(button.value), exp: Date.now() - 1 };
    const expired = await click(button.action_id, JSON.stringify(stale));
    await receiver.until(expired.responseUrl, /expired; ask again/);
    expect((await yard.status(SERVICE)).swap).toBeNull();

    const confirmed = await click(button.action_id, button.value);
    expect(confirmed.status).toBe(200);
    expect(confirmed.ms).toBeLessThan(SLACK_LIMIT_MS);
    const messages = await receiver.until(confirmed.responseUrl, /r2 is live/, 40_000);
    const texts = messages.map((m) => m.text);
    expect(messages[0]).toMatchObject({
      replace_original: true,
      text: expect.stringMatching(/^Confirmed: deploying r2/),
    });
    expect(texts.find((t) => /swap to r2 started/.test(t))).toBeDefined();
    expect(texts.find((t) => /step 1\/2: 50 %/.test(t))).toBeDefined();
    expect(texts.at(-1)).toMatch(/:white_check_mark: `web\/test`: r2 is live .* asked by <@U0OPS>/);
    expect(messages.slice(1).every((m) => m.response_type === "in_channel")).toBe(true);
    expect(messages.length).toBeLessThanOrEqual(5);

    // a second click on the same button starts nothing more
    const again = await click(button.action_id, button.value);
    expect(again.status).toBe(200);
    expect(plane.driving()).toEqual([]);
  });

  it("asks to confirm a rollback naming the release it restores, then restores it", async () => {
    const asked = await slash(`rollback ${SERVICE}`);
    expect(asked.ms).toBeLessThan(SLACK_LIMIT_MS);
    expect(asked.message.text).toMatch(/^Roll web\/test back to r1\?/);
    const button = confirmButton(asked.message);
    const confirmed = await click(button.action_id, button.value);
    const messages = await receiver.until(confirmed.responseUrl, /is live again/, 30_000);
    expect(messages.at(-1)?.text).toMatch(/r1 is live again/);
  });

  it("acts on promote at once, and says there is no swap to promote", async () => {
    const r = await slash(`promote ${SERVICE}`);
    expect(r.ms).toBeLessThan(SLACK_LIMIT_MS);
    expect(r.message.text).toMatch(/^Working on it: promote web\/test/);
    const messages = await receiver.until(r.responseUrl, /NO_SWAP/);
    expect(messages.at(-1)?.response_type).toBe("in_channel");
  });
});
