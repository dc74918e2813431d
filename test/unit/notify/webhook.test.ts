import { createHmac, timingSafeEqual } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Notification } from "../../../src/notify/notification.js";
import {
  signWebhook,
  webhookBody,
  webhookHeaders,
  webhookNotifier,
} from "../../../src/notify/webhook.js";

/**
 * A receiver's check written from the spec's text alone: the key is the base64 after `whsec_`;
 * the signed content is `${id}.${timestamp}.${body}`; the header holds space-separated
 * `v1,<base64 HMAC-SHA256>` entries, one of which must match.
 */
function verify(secret: string, headers: Record<string, string>, body: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const content = `${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`;
  const expected = createHmac("sha256", key).update(content).digest();
  return (headers["webhook-signature"] ?? "").split(" ").some((entry) => {
    const [version, signature = ""] = entry.split(",");
    const given = Buffer.from(signature, "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

const NOTIFICATION: Notification = {
  id: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
  type: "swap.completed",
  service: "web/prod",
  operation: "deploy",
  at: Date.UTC(2026, 0, 19, 0, 13, 51),
  swap: { swapId: "3f9c2a1b", release: "s3://releases/web/prod/r42.tar.gz" },
  event: {
    type: "swap.completed",
    service: "web/prod",
    at: Date.UTC(2026, 0, 19, 0, 13, 51),
    live: "web-prod-v043",
    standby: "web-prod-v042",
    durationMs: 1_260_000,
  },
};

describe("Standard Webhooks signing", () => {
  it("reproduces the spec's published test vector", () => {
    expect(
      signWebhook(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'),
    ).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("signs what an independent verifier accepts, and nothing else", () => {
    const body = webhookBody(NOTIFICATION);
    const headers = webhookHeaders(SECRET, NOTIFICATION.id, 1_768_781_631, body);
    expect(headers["webhook-id"]).toBe(NOTIFICATION.id);
    expect(headers["webhook-timestamp"]).toBe("1768781631");
    expect(verify(SECRET, headers, body)).toBe(true);
    expect(verify(SECRET, headers, body.replace("v043", "v044"))).toBe(false);
    expect(verify(SECRET, { ...headers, "webhook-timestamp": "1768781632" }, body)).toBe(false);
    expect(verify("whsec_dGhlLXdyb25nLXNlY3JldC1rZXktMTIzNA==", headers, body)).toBe(false);
  });

  it("sends {type, timestamp, data} with the event, the service and the swap id", () => {
    expect(JSON.parse(webhookBody(NOTIFICATION))).toEqual({
      type: "swap.completed",
      timestamp: "2026-01-19T00:13:51.000Z",
      data: {
        type: "swap.completed",
        service: "web/prod",
        at: NOTIFICATION.at,
        live: "web-prod-v043",
        standby: "web-prod-v042",
        durationMs: 1_260_000,
        swapId: "3f9c2a1b",
        release: "s3://releases/web/prod/r42.tar.gz",
        operation: "deploy",
      },
    });
  });

  it("keeps the webhook-id across retries and signs each attempt at its own time", async () => {
    const seen: Array<Record<string, string>> = [];
    let clock = 1_768_781_631_000;
    const fetchFn: typeof fetch = async (_url, init) => {
      seen.push(Object.fromEntries(new Headers(init?.headers).entries()));
      clock += 3_000;
      return new Response("busy", { status: seen.length < 3 ? 503 : 200 });
    };
    const notifier = webhookNotifier(
      { url: "https://ci.example.com/hooks/x", secret: SECRET },
      () => clock,
    );
    await notifier.notify(NOTIFICATION, {
      signal: new AbortController().signal,
      policy: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 1000 },
      fetch: fetchFn,
    });
    expect(notifier.name).toBe("webhook (ci.example.com)");
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((h) => h["webhook-id"]))).toEqual(new Set([NOTIFICATION.id]));
    expect(new Set(seen.map((h) => h["webhook-timestamp"])).size).toBe(3);
    const body = webhookBody(NOTIFICATION);
    for (const headers of seen) expect(verify(SECRET, headers, body)).toBe(true);
  });
});
