/**
 * What a notifier is told: a `Notification`, derived from an operation's events (and from the
 * error an operation ended with). Pure: which events notify, and what each one carries. The
 * kinds are listed in docs/notifications.md.
 */
import { randomUUID } from "node:crypto";
import type { NotificationType } from "../core/config-schema.js";
import type { SwitchyardEvent } from "../core/events.js";
import type { Weighted } from "../core/swap-model.js";

export type { NotificationType } from "../core/config-schema.js";

/** The operations of a Switchyard whose events notify. */
export type OperationKind =
  | "deploy"
  | "resume"
  | "rollback"
  | "promote"
  | "pause"
  | "abort"
  | "cycle"
  | "reconcile";

/** An operation that ended in an error after it had taken the service's lock. */
export interface OperationFailed {
  type: "operation.failed";
  service: string;
  at: number;
  code: string;
  message: string;
}

/** What the swap is, as far as the operation has seen it. */
export interface SwapFacts {
  swapId?: string;
  release?: string;
  blueRelease?: string;
  green?: string;
  blue?: string | null;
  steps?: number[];
  bakeMs?: number;
  /** the weights last set on the listener */
  weights?: Weighted[];
}

export interface Notification {
  /** unique per notification (a webhook's `webhook-id`), the same across retries */
  id: string;
  type: NotificationType;
  service: string;
  operation: OperationKind;
  /** when it happened (ms since epoch) */
  at: number;
  swap: SwapFacts;
  /** the event it was derived from */
  event: SwitchyardEvent | OperationFailed;
}

/** Which notification an event makes, if any; `held` is whether the swap was already held. */
function notificationType(event: SwitchyardEvent, held: boolean): NotificationType | undefined {
  switch (event.type) {
    case "swap.started":
    case "step.shifted":
    case "gate.failed":
    case "drift":
    case "swap.completed":
    case "swap.rolled-back":
    case "rollback.completed":
      return event.type;
    case "control":
      return event.request === "pause" ? "swap.paused" : undefined;
    case "waiting":
      return isPausedWait(event.reason) && !held ? "swap.paused" : undefined;
    default:
      return undefined;
  }
}

function isPausedWait(reason: string): boolean {
  return reason.startsWith("paused");
}

/**
 * Follows one operation's events and says which notifications they make. Keeps what the swap is
 * (its id, release, groups, steps) so each notification carries it, and sends "held" once per
 * pause rather than on every progress change of the wait.
 */
export class OperationNotices {
  readonly swap: SwapFacts = {};
  private held = false;
  private locked = false;
  private drifted = false;

  constructor(
    readonly service: string,
    readonly operation: OperationKind,
    private readonly newId: () => string = () => `msg_${randomUUID().replaceAll("-", "")}`,
  ) {}

  /** The notification this event makes, or undefined. */
  observe(event: SwitchyardEvent): Notification | undefined {
    switch (event.type) {
      case "lock.acquired":
        this.locked = true;
        this.swap.swapId ??= event.swapId;
        break;
      case "swap.started":
        this.locked = true;
        Object.assign(this.swap, {
          swapId: event.swapId,
          release: event.release,
          green: event.green,
          blue: event.blue,
          steps: event.steps,
          bakeMs: event.bakeMs,
          ...(event.blueRelease === undefined ? {} : { blueRelease: event.blueRelease }),
        });
        break;
      case "step.shifted":
        this.swap.weights = event.weights;
        break;
      case "drift":
        this.drifted = true;
        break;
      default:
        break;
    }
    const type = notificationType(event, this.held);
    if (event.type === "waiting") this.held = isPausedWait(event.reason);
    if (event.type === "step.shifted" || event.type === "step.baked") this.held = false;
    if (type === undefined) return undefined;
    return this.make(type, event);
  }

  /**
   * The notification of an operation that ended in an error: only once it had taken the lock (a
   * typo in a release never reaches Slack), and not for the drift a `drift` notification told.
   */
  failed(error: unknown): Notification | undefined {
    if (!this.locked) return undefined;
    const code = errorCode(error);
    if (code === "DRIFT" && this.drifted) return undefined;
    const message = error instanceof Error ? error.message : String(error);
    return this.make("swap.failed", {
      type: "operation.failed",
      service: this.service,
      at: Date.now(),
      code,
      message,
    });
  }

  private make(type: NotificationType, event: SwitchyardEvent | OperationFailed): Notification {
    return {
      id: this.newId(),
      type,
      service: this.service,
      operation: this.operation,
      at: event.at,
      swap: { ...this.swap },
      event,
    };
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "INTERNAL";
}

/** The release version of a release URL (`s3://…/r42.tar.gz` → `r42`), or the text itself. */
export function releaseVersion(release: string): string {
  const name = release.slice(release.lastIndexOf("/") + 1);
  return name.replace(/\.(tar\.gz|tgz)$/, "");
}

/**
 * The notification as the webhook's `data` and the receivers' shared facts: the event's fields,
 * with the service, the swap id and the operation.
 */
export function notificationData(n: Notification): Record<string, unknown> {
  return {
    ...n.event,
    service: n.service,
    ...(n.swap.swapId === undefined ? {} : { swapId: n.swap.swapId }),
    ...(n.swap.release === undefined || "release" in n.event ? {} : { release: n.swap.release }),
    operation: n.operation,
  };
}
