/**
 * The notifier interface: what the built-in Slack, webhook and GitHub notifiers implement, and
 * what a library user passes as `notifiers` to `createSwitchyard` for anything else.
 */
import type { NotificationType } from "../core/config-schema.js";
import type { DeliveryPolicy } from "./delivery.js";
import type { Notification } from "./notification.js";

export interface NotifierContext {
  /** aborts when the Switchyard closes: stop waiting and sending */
  signal: AbortSignal;
  /** the retry policy to pass to `deliver` (one attempt while the receiver keeps failing) */
  policy: DeliveryPolicy;
  /** the fetch to send with (tests, proxies); default the global one */
  fetch: typeof fetch;
}

export interface Notifier {
  /** a label for warnings, e.g. `slack` or `github org/web`; never a URL or a secret */
  readonly name: string;
  /** the notifications it takes; default all of them */
  readonly events?: readonly NotificationType[] | undefined;
  /**
   * Sends one notification; resolves once it is delivered, throws when it could not be (the
   * message must hold no secret). Called one at a time per notifier, in order.
   */
  notify(notification: Notification, context: NotifierContext): Promise<void>;
}

/** A JSON POST (or other method) through `deliver`'s retries: the shared helper of notifiers. */
export function jsonRequest(
  context: NotifierContext,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown },
): (signal: AbortSignal) => Promise<Response> {
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  return (signal) =>
    context.fetch(url, {
      method: init.method ?? "POST",
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        "user-agent": "switchyard",
        ...init.headers,
      },
      ...(body === undefined ? {} : { body }),
      signal,
    });
}
