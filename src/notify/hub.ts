/**
 * The notifications of a Switchyard: the notifiers its config names (top level and per service)
 * and those passed in code, each behind its own ordered queue. An operation's events are handed
 * over as they are emitted and `push` returns at once: a slow, failing or hanging receiver never
 * holds a swap back. A notification that cannot be delivered becomes a `warning` event.
 */
import type { NotifierConfig, ResolvedConfig } from "../core/config-schema.js";
import type { EventSink, SwitchyardEvent } from "../core/events.js";
import { DEFAULT_DELIVERY_POLICY, type DeliveryPolicy, DeliveryQueue } from "./delivery.js";
import { githubNotifier } from "./github.js";
import { type Notification, type OperationKind, OperationNotices } from "./notification.js";
import type { Notifier } from "./notifier.js";
import { slackNotifier } from "./slack.js";
import { webhookNotifier } from "./webhook.js";

export interface HubOptions {
  /** notifiers made in code, for every service */
  notifiers?: readonly Notifier[];
  policy?: Partial<DeliveryPolicy>;
  fetch?: typeof fetch;
}

/** The notifier a config entry describes. */
export function notifierFromConfig(entry: NotifierConfig): Notifier {
  if ("slack" in entry) return slackNotifier(entry.slack);
  if ("webhook" in entry) return webhookNotifier(entry.webhook);
  return githubNotifier(entry.github);
}

interface Job {
  notification: Notification;
  /** where a failure is reported: the operation's events while it runs, else the global sink */
  warn: EventSink;
}

/** A notifier with its queue, and whether its receiver failed last time (then one attempt). */
class Lane {
  readonly queue: DeliveryQueue<Job>;
  private failing = false;

  constructor(
    readonly notifier: Notifier,
    private readonly hub: { policy: DeliveryPolicy; fetch: typeof fetch; signal: AbortSignal },
  ) {
    this.queue = new DeliveryQueue<Job>(
      (job) => this.send(job),
      (job) => this.report(job, "dropped: too many notifications waiting"),
    );
  }

  accepts(n: Notification): boolean {
    return this.notifier.events === undefined || this.notifier.events.includes(n.type);
  }

  private async send(job: Job): Promise<void> {
    if (this.hub.signal.aborted) return;
    const policy = this.failing ? { ...this.hub.policy, attempts: 1 } : this.hub.policy;
    try {
      await this.notifier.notify(job.notification, {
        signal: this.hub.signal,
        policy,
        fetch: this.hub.fetch,
      });
      this.failing = false;
    } catch (error) {
      if (this.hub.signal.aborted) return;
      this.failing = true;
      this.report(job, error instanceof Error ? error.message : String(error));
    }
  }

  private report(job: Job, why: string): void {
    const n = job.notification;
    job.warn({
      type: "warning",
      service: n.service,
      at: Date.now(),
      message: `notification ${n.type} to ${this.notifier.name} not delivered: ${why}`,
    });
  }
}

/** Runs `f`, swallowing what it throws: notifying must never break the operation it follows. */
function guard(f: () => void): void {
  try {
    f();
  } catch {
    // a bug in a notifier's bookkeeping is not the swap's problem
  }
}

export class NotificationHub {
  private readonly global: Lane[];
  private readonly perService = new Map<string, Lane[]>();
  private readonly closing = new AbortController();
  private readonly policy: DeliveryPolicy;
  private readonly fetchFn: typeof fetch;

  constructor(
    config: ResolvedConfig,
    private readonly onEvent: EventSink | undefined,
    options: HubOptions = {},
  ) {
    this.policy = { ...DEFAULT_DELIVERY_POLICY, ...options.policy };
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    const lane = (n: Notifier) =>
      new Lane(n, { policy: this.policy, fetch: this.fetchFn, signal: this.closing.signal });
    this.global = [
      ...(config.notify ?? []).map(notifierFromConfig),
      ...(options.notifiers ?? []),
    ].map(lane);
    for (const [name, service] of Object.entries(config.services)) {
      if (service.notify?.length) {
        this.perService.set(name, service.notify.map(notifierFromConfig).map(lane));
      }
    }
  }

  /** Whether any notifier is configured at all. */
  get enabled(): boolean {
    return this.global.length > 0 || this.perService.size > 0;
  }

  private lanes(service: string): Lane[] {
    return [...this.global, ...(this.perService.get(service) ?? [])];
  }

  private allLanes(): Lane[] {
    return [...this.global, ...[...this.perService.values()].flat()];
  }

  /**
   * Follows one operation: `observe` each event as it is emitted, `settle` with its error (if it
   * failed) once it ends. `warn` is where delivery failures go while the operation runs.
   */
  operation(service: string, kind: OperationKind, warn: EventSink) {
    const notices = new OperationNotices(service, kind);
    let open = true;
    const report: EventSink = (event) => (open ? warn(event) : this.onEvent?.(event));
    const dispatch = (n: Notification | undefined) => {
      if (n === undefined || this.closing.signal.aborted) return;
      for (const lane of this.lanes(service)) {
        if (lane.accepts(n)) lane.queue.push({ notification: n, warn: report });
      }
    };
    return {
      observe: (event: SwitchyardEvent) => {
        if (event.type !== "warning") guard(() => dispatch(notices.observe(event)));
      },
      settle: (error?: unknown) => {
        if (error !== undefined) guard(() => dispatch(notices.failed(error)));
        open = false;
      },
    };
  }

  /** How many notifications are waiting or being sent. */
  get pending(): number {
    return this.allLanes().reduce((sum, lane) => sum + lane.queue.pending, 0);
  }

  /**
   * Resolves once every queued notification was sent (or failed), or after `timeoutMs`, with how
   * many were still pending then.
   */
  async flush(timeoutMs = Number.POSITIVE_INFINITY): Promise<number> {
    const idle = Promise.all(this.allLanes().map((lane) => lane.queue.whenIdle()));
    if (timeoutMs === Number.POSITIVE_INFINITY) {
      await idle;
      return 0;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      idle,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return this.pending;
  }

  /** Stops sending: drops what waits and aborts what is in flight. */
  close(): void {
    this.closing.abort(new Error("closed"));
    for (const lane of this.allLanes()) lane.queue.clear();
  }
}
