/**
 * The library's entry point: `createSwitchyard({ config, … })` and the operations on it.
 * Long operations return a handle with an `events` async iterable and a `result` promise; every
 * one takes an AbortSignal. Nothing here prints, prompts or exits.
 */
import { type ClientOptions, type Clients, createClients } from "./aws/index.js";
import {
  type ResolvedConfig,
  resolveConfig,
  type SwitchyardConfig,
  serviceConfig,
} from "./core/config.js";
import { type SwitchyardError, toSwitchyardError } from "./core/errors.js";
import type { EventSink, SwitchyardEvent } from "./core/events.js";
import type { SwapPlan } from "./core/swap-model.js";
import type { DeliveryPolicy } from "./notify/delivery.js";
import { NotificationHub } from "./notify/hub.js";
import type { OperationKind } from "./notify/notification.js";
import type { Notifier } from "./notify/notifier.js";
import type { ReleaseInfo } from "./release/list.js";
import type { PushOptions, PushResult } from "./release/push.js";
import type { RetireOptions, RetireReport } from "./retire/retire.js";
import type { AdoptOptions, AdoptResult } from "./swap/adopt.js";
import type {
  ControlOptions,
  ControlOutcome,
  PassResult,
  ResumeOptions,
  UnlockResult,
} from "./swap/control.js";
import type { CycleOptions, CycleResult } from "./swap/cycle.js";
import type { DeployOptions } from "./swap/deploy.js";
import type { RollbackOptions, RollbackPreview, RollbackResult } from "./swap/rollback.js";
import type { ServiceStatus } from "./swap/status.js";
import type { Gate, SwapDeps, SwapResult } from "./swap/swap.js";
import type { SwapEnding, WaitForSwapOptions, WatchOptions } from "./swap/watch.js";

// Each operation loads its own modules when first called, so a CLI command (a rollback must
// start fast) loads only what it uses: not the release packer, not the EC2 client.
const deployModule = () => import("./swap/deploy.js");
const controlModule = () => import("./swap/control.js");
const rollbackModule = () => import("./swap/rollback.js");
const statusModule = () => import("./swap/status.js");
const watchModule = () => import("./swap/watch.js");

export interface SwitchyardOptions extends ClientOptions {
  /** a resolved config, or a config object as a config file would hold it */
  config: ResolvedConfig | SwitchyardConfig;
  /** ready-made clients (tests, custom credentials); otherwise built from the client options */
  clients?: Clients;
  /** how often a waiting swap observes the world (default 5 s) */
  pollIntervalMs?: number;
  /** how often a waiting swap refreshes its lock's heartbeat (default 15 s) */
  heartbeatMs?: number;
  /** called for every event of every operation, besides each handle's `events` */
  onEvent?: EventSink;
  /** notifiers made in code, for every service, besides those the config's `notify` names */
  notifiers?: Notifier[];
  /** the retries and timeout of notifications (default 4 attempts 1, 2, 4 s apart; 5 s each) */
  delivery?: Partial<DeliveryPolicy>;
  /** the fetch notifiers send with (default the global one) */
  fetch?: typeof fetch;
}

/** A running operation: its events as they happen, and its result. */
export interface Operation<T> {
  events: AsyncIterable<SwitchyardEvent>;
  result: Promise<T>;
}

export interface ReconcileOptions {
  /** the services to pass over (default: every service in the config) */
  services?: readonly string[];
  /** command gates, as `deploy` takes them */
  gates?: (service: string) => Gate[];
  /** a heartbeat older than this means a holder is gone (default 60 s) */
  staleAfterMs?: number;
}

export interface ReconcileReport {
  services: Array<PassResult | { service: string; outcome: "failed"; error: SwitchyardError }>;
}

export interface CallOptions {
  signal?: AbortSignal;
  onEvent?: EventSink;
}

export interface Switchyard {
  readonly config: ResolvedConfig;
  readonly clients: Clients;
  /** the plan of a swap, after every read-only check; changes nothing */
  plan(service: string, options: DeployOptions): Promise<SwapPlan>;
  /** a blue/green swap; `result` resolves with `ok: false` and an `error` when it was rolled back */
  deploy(service: string, options: DeployOptions & CallOptions): Operation<SwapResult>;
  /**
   * the group live before the last change back to 100 %; during a swap, aborts it and waits for
   * blue to be live
   */
  rollback(service: string, options?: RollbackOptions & CallOptions): Operation<RollbackResult>;
  /** the group and release a rollback would restore now (a deploy in flight: its blue); reads only */
  previewRollback(service: string, options?: RollbackOptions): Promise<RollbackPreview>;
  resume(service: string, options?: ResumeOptions & CallOptions): Operation<SwapResult>;
  /**
   * one pass over the services' swap records (every service by default): each swap no live
   * process drives (`deploy --detach`, an earlier pass, a process that died) is advanced by what
   * is due and left detached for the next pass; run it from a schedule to drive swaps without a
   * long-running process. A service whose pass fails is reported with its error, not thrown.
   */
  reconcile(options?: ReconcileOptions & CallOptions): Operation<ReconcileReport>;
  /**
   * ends the current bake of the swap in flight now (`full`: skips the remaining steps), from any
   * process; if no live process drives the swap, this one takes it over and drives it to its end
   */
  promote(
    service: string,
    options?: ControlOptions & CallOptions & { full?: boolean },
  ): Operation<ControlOutcome>;
  /**
   * replaces the live group's instances a batch at a time (each drained first, the next batch only
   * once every desired instance is healthy again), under the service's lock
   */
  cycle(service: string, options?: CycleOptions & CallOptions): Operation<CycleResult>;
  /** holds the swap at its current step until promoted (or for `forMs`) */
  pause(
    service: string,
    options?: ControlOptions & CallOptions & { forMs?: number },
  ): Operation<ControlOutcome>;
  /** rolls the swap in flight back to blue; `wait` returns once it has ended */
  abort(
    service: string,
    options?: ControlOptions & CallOptions & { wait?: boolean },
  ): Operation<ControlOutcome>;
  /**
   * takes an Auto Scaling group another tool made under management as the service's live group
   * (tags only, under the service's lock), so the next deploy swaps away from it and keeps it as
   * blue; every check runs first and `dryRun` stops there (`changed: false`)
   */
  adopt(service: string, options: AdoptOptions): Promise<AdoptResult>;
  status(service: string): Promise<ServiceStatus>;
  statusAll(): Promise<ServiceStatus[]>;
  /**
   * the service's status at once, then again each time it changes (groups' roles, weights, health
   * and capacity; the swap's phase, step, weights set, bake, pause, control requests, failure,
   * halt; not heartbeats), read every `intervalMs` (default `pollIntervalMs`); ends when `signal`
   * aborts or the loop breaks
   */
  watch(service: string, options?: WatchOptions): AsyncIterable<ServiceStatus>;
  /**
   * resolves once no swap is in flight for the service (or it stopped on drift), saying how the
   * one in flight when the wait began ended and with which exit code (`none`, exit 0, at once when
   * there was none); TIMEOUT after `timeoutMs` (default 1 h), ABORTED when `signal` aborts
   */
  waitForSwap(service: string, options?: WaitForSwapOptions): Promise<SwapEnding>;
  unlock(
    service: string,
    options: { force: boolean; staleAfterMs?: number },
  ): Promise<UnlockResult>;
  /** a service's releases in S3 (its `releases` location) */
  readonly releases: {
    /** packs a directory (or takes a .tar.gz) and uploads it; RELEASE_EXISTS if the version is there */
    push(service: string, options: PushOptions): Promise<PushResult>;
    /** newest first, marking the live and standby ones */
    list(service: string, options?: { signal?: AbortSignal }): Promise<ReleaseInfo[]>;
  };
  /** deletes the server groups the retire policy no longer keeps (all services by default) */
  retire(options?: RetireOptions): Promise<RetireReport>;
  /**
   * waits until the notifications sent so far are delivered (or failed), at most `timeoutMs`;
   * resolves with how many were still pending then. Operations never wait for notifications.
   */
  flush(options?: { timeoutMs?: number }): Promise<{ pending: number }>;
  /** releases the clients' connections and drops notifications not yet delivered */
  close(): void;
}

function isResolved(config: ResolvedConfig | SwitchyardConfig): config is ResolvedConfig {
  const services = (config as ResolvedConfig).services;
  const first = services ? Object.values(services)[0] : undefined;
  return (
    first !== undefined &&
    typeof (first as { app?: unknown }).app === "string" &&
    typeof (first as { bake?: unknown }).bake === "number"
  );
}

/** An async-iterable queue of events that ends when the operation settles. */
class EventChannel implements AsyncIterable<SwitchyardEvent> {
  private queue: SwitchyardEvent[] = [];
  private waiting: Array<(r: IteratorResult<SwitchyardEvent>) => void> = [];
  private closed = false;

  push = (event: SwitchyardEvent) => {
    const next = this.waiting.shift();
    if (next) next({ value: event, done: false });
    else this.queue.push(event);
  };

  close() {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<SwitchyardEvent> {
    return {
      next: () => {
        const value = this.queue.shift();
        if (value) return Promise.resolve({ value, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiting.push(resolve));
      },
    };
  }
}

export function createSwitchyard(options: SwitchyardOptions): Switchyard {
  const config = isResolved(options.config) ? options.config : resolveConfig(options.config);
  const clients =
    options.clients ??
    createClients({
      region: options.region ?? config.region,
      endpoint: options.endpoint,
      profile: options.profile,
      credentials: options.credentials,
    });
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const notifies =
    (config.notify?.length ?? 0) > 0 ||
    (options.notifiers?.length ?? 0) > 0 ||
    Object.values(config.services).some((s) => (s.notify?.length ?? 0) > 0);
  const notifications = notifies
    ? new NotificationHub(config, options.onEvent, {
        ...(options.notifiers ? { notifiers: options.notifiers } : {}),
        ...(options.delivery ? { policy: options.delivery } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      })
    : undefined;

  /** An operation; `kind` and `service` say which notifications it sends (none without them). */
  function run<T>(
    kind: OperationKind | undefined,
    service: string | undefined,
    call: CallOptions,
    work: (emit: EventSink) => Promise<T>,
  ): Operation<T> {
    const channel = new EventChannel();
    const deliver: EventSink = (event) => {
      channel.push(event);
      options.onEvent?.(event);
      call.onEvent?.(event);
    };
    // notifications are queued, never awaited: a receiver can slow down only itself
    const notices =
      kind && service !== undefined ? notifications?.operation(service, kind, deliver) : undefined;
    const emit: EventSink = notices
      ? (event) => {
          deliver(event);
          notices.observe(event);
        }
      : deliver;
    const result = (async () => {
      try {
        const value = await work(emit);
        notices?.settle();
        return value;
      } catch (error) {
        notices?.settle(error);
        throw error;
      } finally {
        channel.close();
      }
    })();
    // a caller that only awaits `events` must not see an unhandled rejection
    result.catch(() => undefined);
    return { events: channel, result };
  }

  const deps = (emit: EventSink, signal?: AbortSignal): SwapDeps => ({
    clients,
    state: config.state,
    emit,
    pollIntervalMs,
    heartbeatMs,
    signal,
  });

  async function* watchService(service: string, o: WatchOptions) {
    const [{ status }, { watchStatus }] = await Promise.all([statusModule(), watchModule()]);
    const svc = serviceConfig(config, service);
    yield* watchStatus(() => status(clients, config.state, svc), {
      intervalMs: o.intervalMs ?? pollIntervalMs,
      ...(o.signal ? { signal: o.signal } : {}),
    });
  }

  return {
    config,
    clients,
    plan: async (service, o) =>
      (await deployModule()).preflight(
        { clients, state: config.state },
        serviceConfig(config, service),
        o,
      ),
    deploy: (service, o) =>
      run("deploy", service, o, async (emit) =>
        (await deployModule()).deploy(deps(emit, o.signal), serviceConfig(config, service), o),
      ),
    rollback: (service, o = {}) =>
      run("rollback", service, o, async (emit) =>
        (await rollbackModule()).rollback(deps(emit, o.signal), serviceConfig(config, service), o),
      ),
    previewRollback: async (service, o = {}) =>
      (await rollbackModule()).previewRollback(
        { clients, state: config.state },
        serviceConfig(config, service),
        o,
      ),
    resume: (service, o = {}) =>
      run("resume", service, o, async (emit) =>
        (await controlModule()).resume(deps(emit, o.signal), serviceConfig(config, service), o),
      ),
    reconcile: (o = {}) =>
      // each service's pass notifies as an operation of its own
      run(undefined, undefined, o, async (emit) => {
        const m = await controlModule();
        const names = o.services ?? Object.keys(config.services);
        const services = names.map((name) => serviceConfig(config, name));
        const report: ReconcileReport = { services: [] };
        // one service at a time: a pass is short, and one failing never stops the others
        for (const service of services) {
          if (o.signal?.aborted) break;
          const notices = notifications?.operation(service.name, "reconcile", emit);
          const passEmit: EventSink = notices
            ? (event) => {
                emit(event);
                notices.observe(event);
              }
            : emit;
          try {
            report.services.push(
              await m.reconcilePass(deps(passEmit, o.signal), service, {
                ...(o.gates ? { gates: o.gates(service.name) } : {}),
                ...(o.staleAfterMs === undefined ? {} : { staleAfterMs: o.staleAfterMs }),
              }),
            );
            notices?.settle();
          } catch (error) {
            notices?.settle(error);
            report.services.push({
              service: service.name,
              outcome: "failed",
              error: toSwitchyardError(error),
            });
          }
        }
        return report;
      }),
    promote: (service, o = {}) =>
      run("promote", service, o, async (emit) =>
        (await controlModule()).promoteSwap(
          deps(emit, o.signal),
          serviceConfig(config, service),
          o,
        ),
      ),
    cycle: (service, o = {}) =>
      run("cycle", service, o, async (emit) =>
        (await import("./swap/cycle.js")).cycle(
          deps(emit, o.signal),
          serviceConfig(config, service),
          o,
        ),
      ),
    pause: (service, o = {}) =>
      run("pause", service, o, async (emit) =>
        (await controlModule()).pauseSwap(deps(emit, o.signal), serviceConfig(config, service), o),
      ),
    abort: (service, o = {}) =>
      run("abort", service, o, async (emit) => {
        const m = await controlModule();
        return (await m.abortSwap(deps(emit, o.signal), serviceConfig(config, service), o)).outcome;
      }),
    adopt: async (service, o) =>
      (await import("./swap/adopt.js")).adopt(
        { clients, state: config.state },
        serviceConfig(config, service),
        o,
      ),
    status: async (service) =>
      (await statusModule()).status(clients, config.state, serviceConfig(config, service)),
    statusAll: async () => {
      const { status } = await statusModule();
      return Promise.all(
        Object.values(config.services).map((s) => status(clients, config.state, s)),
      );
    },
    watch: (service, o = {}) => watchService(service, o),
    waitForSwap: async (service, o = {}) => {
      const svc = serviceConfig(config, service);
      return (await watchModule()).waitForSwap(
        { clients, state: config.state, pollIntervalMs },
        svc.name,
        o,
      );
    },
    unlock: async (service, o) =>
      (await controlModule()).unlock(
        { clients, state: config.state },
        serviceConfig(config, service),
        o,
      ),
    releases: {
      push: async (service, o) =>
        (await import("./release/push.js")).pushRelease(clients, serviceConfig(config, service), o),
      list: async (service, o = {}) =>
        (await import("./release/list.js")).listReleases(clients, serviceConfig(config, service), {
          state: config.state,
          ...o,
        }),
    },
    retire: async (o = {}) =>
      (await import("./retire/retire.js")).retire(
        {
          clients,
          state: config.state,
          emit: (event) => options.onEvent?.(event),
          pollIntervalMs,
          signal: o.signal,
        },
        config,
        o,
      ),
    flush: async (o = {}) => ({ pending: (await notifications?.flush(o.timeoutMs)) ?? 0 }),
    close: () => {
      notifications?.close();
      if (!options.clients) clients.destroy();
    },
  };
}
