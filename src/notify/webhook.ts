/**
 * A generic webhook signed per the Standard Webhooks spec (standardwebhooks.com): each POST carries
 * `webhook-id` (unique per notification, the same across retries), `webhook-timestamp` (unix
 * seconds of the attempt) and `webhook-signature` = `v1,<base64 HMAC-SHA256 of id.timestamp.body>`
 * keyed with the base64-decoded part of the `whsec_…` secret. Each retry is signed afresh.
 */
import { createHmac } from "node:crypto";
import type { WebhookNotifierConfig } from "../core/config-schema.js";
import { deliver } from "./delivery.js";
import { type Notification, notificationData } from "./notification.js";
import type { Notifier } from "./notifier.js";

/** The HMAC key of a `whsec_<base64>` secret. */
export function webhookKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
}

/** The `webhook-signature` value of one message: `v1,<base64>`. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac("sha256", webhookKey(secret))
    .update(`${id}.${timestamp}.${body}`)
    .digest("base64");
  return `v1,${mac}`;
}

/** The headers of a signed message sent at `timestamp` (unix seconds). */
export function webhookHeaders(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signWebhook(secret, id, timestamp, body),
  };
}

/** The JSON body: `{ type, timestamp (ISO 8601 of the event), data }`. */
export function webhookBody(n: Notification): string {
  return JSON.stringify({
    type: n.type,
    timestamp: new Date(n.at).toISOString(),
    data: notificationData(n),
  });
}

/** `webhook (ci.example.com)`: the host only, since a path may hold a token. */
function nameOf(url: string): string {
  try {
    return `webhook (${new URL(url).host})`;
  } catch {
    return "webhook";
  }
}

/** POSTs each notification, signed, to `url`. */
export function webhookNotifier(
  config: WebhookNotifierConfig,
  now: () => number = Date.now,
): Notifier {
  return {
    name: nameOf(config.url),
    events: config.events,
    async notify(n, context) {
      const body = webhookBody(n);
      await deliver(
        (signal) =>
          context.fetch(config.url, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "user-agent": "switchyard",
              ...webhookHeaders(config.secret, n.id, Math.floor(now() / 1000), body),
            },
            body,
            signal,
          }),
        context.policy,
        context.signal,
      );
    },
  };
}
