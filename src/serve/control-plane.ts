/**
 * `createControlPlane({ yard, auth })`: a JSON HTTP API over a `Switchyard`, with no state of its
 * own. What it shows is read from AWS and the swap records on every request; what it changes it
 * changes through the library, so a pause sent to one replica is honoured by the swap another
 * drives (the request is written into the swap record). A swap it starts is driven by it; the
 * operation and its events are kept only to stream them, and if the process dies, `switchyard
 * resume` (or any replica's promote/abort) takes the swap over from its record.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { serviceConfig } from "../core/config-schema.js";
import { parseDuration } from "../core/duration.js";
import {
  InputError,
  isSwitchyardError,
  type SwitchyardError,
  toSwitchyardError,
} from "../core/errors.js";
import type { SwitchyardEvent } from "../core/events.js";
import { parseServiceName } from "../core/names.js";
import type { Gate } from "../swap/swap.js";
import type { Operation, Switchyard } from "../switchyard.js";
import {
  allows,
  authenticate,
  CREDENTIAL_VARIABLES,
  type Credentials,
  hasCredentials,
  LoginLimiter,
  type Principal,
  parseAuthorization,
  type RateLimitOptions,
} from "./auth.js";
import {
  BodyTooLarge,
  crossSiteProblem,
  errorReply,
  isStateChanging,
  matchPath,
  type Reply,
  type RequestContext,
  type Route,
  readBody,
  reply,
  replyForError,
  sendJson,
} from "./http.js";

export interface AccessLogEntry {
  at: string;
  method: string;
  /** the path only: a query string is never logged */
  path: string;
  status: number;
  ms: number;
  client: string;
  /** the user's or token's name; never a secret */
  principal: string | null;
}

export interface ControlPlaneOptions {
  yard: Switchyard;
  /**
   * who may do what (see `loadCredentials`); `"insecure-local"`: everyone is an operator, which
   * `listen` allows on a loopback address only
   */
  auth: Credentials | "insecure-local";
  /** the gates of a swap this process drives or takes over (the CLI: the config's commands) */
  gates?: (service: string) => Gate[] | Promise<Gate[]>;
  /** one entry per request answered */
  log?: (entry: AccessLogEntry) => void;
  /** called when an operation this process drove has ended (an audit line: who, what, how) */
  onOperationEnd?: (
    operation: DrivenOperation,
    outcome: { ok: boolean; error?: SwitchyardError },
  ) => void;
  /**
   * the client's address is the last one a proxy in front of this one added to X-Forwarded-For
   * (a load balancer, a Lambda function URL forwarding to it); default: the connection's peer
   */
  trustProxy?: boolean;
  /** failed logins allowed per client address (default 5 a minute) */
  rateLimit?: RateLimitOptions;
  /** how often an event stream reads the status (default: the switchyard's poll interval) */
  watchIntervalMs?: number;
  /** how often an idle event stream sends a comment, so proxies keep it open (default 15 s) */
  keepAliveMs?: number;
  /**
   * how long a started operation has to settle or take its lock before the answer is 202 anyway
   * (default 2 s): a quick rollback answers with its result, a swap with 202 and its swapId
   */
  acceptAfterMs?: number;
  /**
   * more routes (a dashboard's files, a ChatOps endpoint), matched after the API's; as a function,
   * they are made with what they may use of the plane (to start operations it drives)
   */
  routes?: Route[] | ((host: RouteHost) => Route[]);
}

/** What routes added through `routes` may use of the control plane. */
export interface RouteHost {
  yard: Switchyard;
  /** the gates of a swap this process drives (as `ControlPlaneOptions.gates`) */
  gates(service: string): Promise<Gate[]>;
  /**
   * starts an operation this process drives, as the API's POST routes do: `close()` interrupts
   * it, the service's event stream carries its events, `onOperationEnd` hears of its end;
   * undefined when the plane is stopping
   */
  launch<T>(request: LaunchRequest<T>): DrivenOperation | undefined;
}

export interface LaunchRequest<T> {
  service: string;
  kind: OperationKind;
  /** who asked for it (the operations log names them) */
  by: string;
  start(call: { signal: AbortSignal; onEvent: (event: SwitchyardEvent) => void }): Operation<T>;
  /** each event, as it happens; what it throws is ignored */
  onEvent?(event: SwitchyardEvent, operation: DrivenOperation): void;
  /**
   * once it has ended: `result` when it settled (`ok: false` and `error` for a swap rolled back),
   * only `error` when it threw; what it throws is ignored
   */
  onEnd?(
    end: { ok: boolean; result?: T; error?: SwitchyardError },
    operation: DrivenOperation,
  ): void;
}

export interface DrivenOperation {
  id: string;
  service: string;
  kind: OperationKind;
  swapId: string | null;
  startedAt: string;
  /** who asked for it */
  by: string;
}

export interface ControlPlane {
  /** the request handler, to mount in a server of one's own */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** starts serving (default 127.0.0.1:8080); `port: 0` picks a free port */
  listen(options?: { port?: number; host?: string }): Promise<{ url: string; port: number }>;
  /** the operations this process drives now */
  driving(): DrivenOperation[];
  /**
   * stops accepting, interrupts the operations this process drives (a swap rolls back, as on
   * Ctrl-C) and waits for them at most `timeoutMs` (default 120 s); resolves with those that had
   * not ended by then (their records let `switchyard resume` finish them)
   */
  close(options?: { timeoutMs?: number }): Promise<{ unfinished: DrivenOperation[] }>;
}

export type OperationKind = "deploy" | "rollback" | "resume" | "promote" | "pause" | "abort";

/** What a stream subscriber is sent. */
type StreamItem =
  | { kind: "event"; id: string; event: SwitchyardEvent }
  | { kind: "result"; id: string; body: unknown };

interface Running extends DrivenOperation {
  events: SwitchyardEvent[];
  controller: AbortController;
  settled: Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The reason nobody is allowed in: no credential is configured. */
export function noCredentialsError(): InputError {
  return new InputError(
    "INVALID_INPUT",
    `serve needs credentials: set ${CREDENTIAL_VARIABLES.usersFile} (lines name:role:hash) or ${CREDENTIAL_VARIABLES.tokensFile} (lines name:role:sha256), or ${CREDENTIAL_VARIABLES.users} / ${CREDENTIAL_VARIABLES.tokens} with the lines themselves`,
    {
      hint: "`switchyard serve hash-password --name <you> --role operator` makes a user's line; `switchyard serve new-token --name ci --role operator` a token's; on your own machine only, `--insecure-local` serves 127.0.0.1 without credentials",
    },
  );
}

// ─── request bodies ───────────────────────────────────────────────────────────────────────────

const duration = z.union([z.string(), z.number().nonnegative()]);
const DeployBody = z.strictObject({
  release: z.string().min(1),
  steps: z.array(z.number().int()).min(1).optional(),
  bake: duration.optional(),
  stickiness: z.boolean().optional(),
  keepFailed: z.boolean().optional(),
});
const RollbackBody = z.strictObject({ to: z.string().min(1).optional() });
const ResumeBody = z.strictObject({ abort: z.boolean().optional() });
const PromoteBody = z.strictObject({ full: z.boolean().optional() });
const PauseBody = z.strictObject({ for: duration.optional() });
const AbortBody = z.strictObject({});
const RetireBody = z.strictObject({
  services: z.union([z.array(z.string()).min(1), z.literal("all")]).optional(),
  all: z.boolean().optional(),
  keep: z.number().int().nonnegative().optional(),
  minAge: duration.optional(),
  dryRun: z.boolean().optional(),
});

function parseBody<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (i) => `${i.path.length > 0 ? i.path.join(".") : "body"}: ${i.message}`,
  );
  throw new InputError("INVALID_INPUT", `invalid request body: ${problems.join("; ")}`, {
    hint: "see docs/serve.md for each endpoint's body",
  });
}

function durationMs(value: string | number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InputError(
      "INVALID_INPUT",
      `${what} must be a duration like 30s or 5m (or a number of seconds); got ${JSON.stringify(value)}`,
      { cause: error },
    );
  }
}

// ─── the control plane ────────────────────────────────────────────────────────────────────────

export function createControlPlane(options: ControlPlaneOptions): ControlPlane {
  /** Who is asking: the peer, or behind a trusted proxy the address it says it forwarded for. */
  const clientOf = (req: IncomingMessage): string => {
    const forwarded = options.trustProxy ? req.headers["x-forwarded-for"] : undefined;
    const last = (Array.isArray(forwarded) ? forwarded.join(",") : forwarded)
      ?.split(",")
      .map((a) => a.trim())
      .filter((a) => a !== "")
      .at(-1);
    return last ?? req.socket.remoteAddress ?? "unknown";
  };

  const { yard } = options;
  const auth = options.auth;
  if (auth !== "insecure-local" && !hasCredentials(auth)) throw noCredentialsError();
  const limiter = new LoginLimiter(options.rateLimit);
  const acceptAfterMs = options.acceptAfterMs ?? 2_000;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  /** aborted when close() begins: no new operation starts */
  const shutdown = new AbortController();
  /** aborted once the operations driven here have ended: the event streams end then */
  const streamsEnd = new AbortController();
  const running = new Map<string, Running>();
  /** stream subscribers, by service */
  const subscribers = new Map<string, Set<(item: StreamItem) => void>>();
  /** the event streams open now, each settling once its response has ended */
  const streams = new Set<Promise<undefined>>();
  let server: Server | undefined;

  const publish = (service: string, item: StreamItem) => {
    for (const send of subscribers.get(service) ?? []) send(item);
  };
  const runningFor = (service: string) =>
    [...running.values()].filter((r) => r.service === service);
  const describe = (r: Running): DrivenOperation => ({
    id: r.id,
    service: r.service,
    kind: r.kind,
    swapId: r.swapId,
    startedAt: r.startedAt,
    by: r.by,
  });

  /** The service a route names, checked against the config (404 for one it does not have). */
  const serviceOf = (params: Record<string, string>): string => {
    const name = `${params.app ?? ""}/${params.env ?? ""}`;
    parseServiceName(name);
    return serviceConfig(yard.config, name).name;
  };
  const gatesOf = async (service: string) => (options.gates ? await options.gates(service) : []);
  const eventsPath = (service: string) => `/api/services/${service}/events`;

  /**
   * Starts an operation this process drives: close() interrupts it, the service's event stream
   * carries its events and `onOperationEnd` hears of its end. undefined while the plane stops.
   */
  function launch<T>(request: LaunchRequest<T>): DrivenOperation | undefined {
    if (shutdown.signal.aborted) return undefined;
    const { service, kind } = request;
    const controller = new AbortController();
    const r: Running = {
      id: randomBytes(6).toString("hex"),
      service,
      kind,
      swapId: null,
      startedAt: new Date().toISOString(),
      by: request.by,
      events: [],
      controller,
      settled: Promise.resolve(),
    };
    // a listener's failure never reaches the operation
    const tell = (listener: (() => void) | undefined) => {
      try {
        listener?.();
      } catch {
        // ignored: the operation goes on
      }
    };
    const onEvent = (event: SwitchyardEvent) => {
      const id = `${r.id}.${r.events.length}`;
      r.events.push(event);
      if (event.type === "lock.acquired" || event.type === "swap.started") {
        r.swapId ??= event.swapId;
      }
      publish(service, { kind: "event", id, event });
      tell(() => request.onEvent?.(event, describe(r)));
    };
    running.set(r.id, r);
    const operation = request.start({ signal: controller.signal, onEvent });
    // the events are taken through onEvent; the handle's own queue is drained so it keeps nothing
    void (async () => {
      for await (const _ of operation.events);
    })();
    r.settled = operation.result.then(
      (result) => {
        const body = { operation: kind, swapId: r.swapId, ok: okOf(result), result };
        publish(service, { kind: "result", id: `${r.id}.end`, body });
        const error = errorOf(result);
        const outcome = { ok: body.ok, ...(error ? { error } : {}) };
        tell(() => request.onEnd?.({ ...outcome, result }, describe(r)));
        options.onOperationEnd?.(describe(r), outcome);
      },
      (thrown: unknown) => {
        const failed = replyForError(thrown);
        const body = { operation: kind, swapId: r.swapId, ok: false, ...(failed.body as object) };
        publish(service, { kind: "result", id: `${r.id}.end`, body });
        const error = toSwitchyardError(thrown);
        tell(() => request.onEnd?.({ ok: false, error }, describe(r)));
        options.onOperationEnd?.(describe(r), { ok: false, error });
      },
    );
    void r.settled.finally(() => running.delete(r.id));
    return describe(r);
  }

  /**
   * Starts an operation this process drives, and answers once it has settled (200 with its
   * result, or its error) or once it holds the service's lock (202 with the swapId and where its
   * events stream), whichever comes first; after `acceptAfterMs` a running one is 202 too.
   */
  function drive<T>(
    ctx: RequestContext,
    service: string,
    kind: OperationKind,
    start: (call: { signal: AbortSignal; onEvent: (e: SwitchyardEvent) => void }) => Operation<T>,
  ): Promise<Reply> {
    return new Promise<Reply>((answer) => {
      let answered = false;
      let swapId: string | null = null;
      let timer: NodeJS.Timeout | undefined;
      const once = (r: Reply) => {
        clearTimeout(timer);
        if (answered) return;
        answered = true;
        answer(r);
      };
      const accept = () =>
        once(
          reply(
            202,
            { accepted: true, service, operation: kind, swapId, events: eventsPath(service) },
            { location: eventsPath(service) },
          ),
        );
      const started = launch({
        service,
        kind,
        by: ctx.principal?.name ?? "anonymous",
        start,
        onEvent: (event, op) => {
          swapId = op.swapId;
          if (event.type === "swap.started") accept();
        },
        onEnd: (end) => once("result" in end ? reply(200, end.result) : replyForError(end.error)),
      });
      if (!started) {
        once(errorReply(503, "SHUTTING_DOWN", "the control plane is stopping"));
        return;
      }
      if (!answered) timer = setTimeout(accept, acceptAfterMs);
    });
  }

  // ─── routes ───────────────────────────────────────────────────────────────────────────────

  const routes: Route[] = [
    {
      method: "GET",
      path: "/healthz",
      access: "public",
      handler: async () => reply(200, { ok: true, driving: running.size }),
    },
    {
      method: "GET",
      path: "/api/whoami",
      access: "viewer",
      handler: async ({ principal }) =>
        reply(200, { name: principal?.name ?? null, role: principal?.role ?? null }),
    },
    {
      method: "GET",
      path: "/api/services",
      access: "viewer",
      handler: async () => reply(200, await yard.statusAll()),
    },
    {
      method: "GET",
      path: "/api/services/:app/:env",
      access: "viewer",
      handler: async ({ params }) => reply(200, await yard.status(serviceOf(params))),
    },
    {
      method: "GET",
      path: "/api/services/:app/:env/releases",
      access: "viewer",
      handler: async ({ params, signal }) =>
        reply(200, await yard.releases.list(serviceOf(params), { signal })),
    },
    {
      method: "GET",
      path: "/api/services/:app/:env/plan",
      access: "viewer",
      handler: async ({ params, query }) => {
        const service = serviceOf(params);
        const release = query.get("release");
        if (!release) throw new InputError("INVALID_INPUT", "plan needs ?release=<version|url>");
        const steps = query.get("steps");
        const bakeMs = durationMs(query.get("bake") ?? undefined, "bake");
        return reply(
          200,
          await yard.plan(service, {
            release,
            ...(steps ? { steps: steps.split(",").map(Number) } : {}),
            ...(bakeMs === undefined ? {} : { bakeMs }),
          }),
        );
      },
    },
    {
      method: "GET",
      path: "/api/services/:app/:env/events",
      access: "viewer",
      handler: (ctx) => {
        const stream = streamEvents(ctx);
        const tracked = stream.catch(() => undefined);
        streams.add(tracked);
        void tracked.finally(() => streams.delete(tracked));
        return stream;
      },
    },
    {
      method: "POST",
      path: "/api/services/:app/:env/deploy",
      access: "operator",
      handler: async (ctx) => {
        const service = serviceOf(ctx.params);
        const body = parseBody(DeployBody, await ctx.json());
        const bakeMs = durationMs(body.bake, "bake");
        const gates = await gatesOf(service);
        return drive(ctx, service, "deploy", (call) =>
          yard.deploy(service, {
            release: body.release,
            ...(body.steps ? { steps: body.steps } : {}),
            ...(bakeMs === undefined ? {} : { bakeMs }),
            ...(body.stickiness === undefined ? {} : { stickiness: body.stickiness }),
            ...(body.keepFailed === undefined ? {} : { keepFailed: body.keepFailed }),
            gates,
            ...call,
          }),
        );
      },
    },
    {
      method: "POST",
      path: "/api/services/:app/:env/rollback",
      access: "operator",
      handler: async (ctx) => {
        const service = serviceOf(ctx.params);
        const body = parseBody(RollbackBody, await ctx.json());
        return drive(ctx, service, "rollback", (call) =>
          yard.rollback(service, { ...(body.to ? { to: body.to } : {}), ...call }),
        );
      },
    },
    {
      method: "POST",
      path: "/api/services/:app/:env/resume",
      access: "operator",
      handler: async (ctx) => {
        const service = serviceOf(ctx.params);
        const body = parseBody(ResumeBody, await ctx.json());
        const gates = await gatesOf(service);
        return drive(ctx, service, "resume", (call) =>
          yard.resume(service, { abort: body.abort === true, gates, ...call }),
        );
      },
    },
    {
      method: "POST",
      path: "/api/services/:app/:env/promote",
      access: "operator",
      handler: async (ctx) => {
        const service = serviceOf(ctx.params);
        const body = parseBody(PromoteBody, await ctx.json());
        const gates = await gatesOf(service);
        return drive(ctx, service, "promote", (call) =>
          yard.promote(service, { full: body.full === true, gates, ...call }),
        );
      },
    },
    {
      method: "POST",
      path: "/api/services/:app/:env/pause",
      access: "operator",
      handler: async (ctx) => {
        const service = serviceOf(ctx.params);
        const body = parseBody(PauseBody, await ctx.json());
        const forMs = durationMs(body.for, "for");
        return drive(ctx, service, "pause", (call) =>
          yard.pause(service, { ...(forMs === undefined ? {} : { forMs }), ...call }),
        );
      },
    },
    {
      method: "POST",
      path: "/api/services/:app/:env/abort",
      access: "operator",
      handler: async (ctx) => {
        const service = serviceOf(ctx.params);
        parseBody(AbortBody, await ctx.json());
        const gates = await gatesOf(service);
        return drive(ctx, service, "abort", (call) => yard.abort(service, { gates, ...call }));
      },
    },
    {
      method: "POST",
      path: "/api/retire",
      access: "operator",
      handler: async (ctx) => {
        const body = parseBody(RetireBody, await ctx.json());
        const services = body.all ? "all" : body.services;
        if (services === undefined || (body.all && body.services !== undefined)) {
          throw new InputError(
            "INVALID_INPUT",
            'retire needs either "services": ["<app>/<env>", …] (or "all") or "all": true',
          );
        }
        const minAge = body.minAge;
        if (minAge !== undefined) durationMs(minAge, "minAge");
        const report = await yard.retire({
          services,
          ...(body.keep === undefined ? {} : { keep: body.keep }),
          ...(minAge === undefined ? {} : { minAge }),
          dryRun: body.dryRun === true,
          signal: ctx.signal,
        });
        return reply(200, report);
      },
    },
    {
      method: "GET",
      path: "/api/iam-policy",
      access: "viewer",
      handler: async ({ query }) => {
        const { iamPolicy, instanceRolePolicy } = await import("../core/iam-policy.js");
        const services = query.getAll("service").flatMap((s) => s.split(","));
        const instanceRole = ["1", "true"].includes(query.get("instanceRole") ?? "");
        return reply(
          200,
          instanceRole
            ? instanceRolePolicy(yard.config, services)
            : iamPolicy(yard.config, services),
        );
      },
    },
    ...(typeof options.routes === "function"
      ? options.routes({ yard, gates: gatesOf, launch })
      : (options.routes ?? [])),
  ];

  // ─── the event stream ─────────────────────────────────────────────────────────────────────

  /**
   * Server-Sent Events for a service: `status` at once and on every change (read by polling, so
   * it follows a swap any process drives), `event` for each event of an operation this process
   * drives (replayed from its start; `Last-Event-ID` skips what a reconnecting client has seen),
   * `result` when such an operation ends. `?until=idle` ends the stream once no swap is in flight
   * and this process drives nothing for the service.
   */
  async function streamEvents(ctx: RequestContext): Promise<undefined> {
    const service = serviceOf(ctx.params);
    const untilIdle = ctx.query.get("until") === "idle";
    const { res, signal } = ctx;
    const seen = lastSeen(ctx.req.headers["last-event-id"]);
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      "x-content-type-options": "nosniff",
    });
    res.write("retry: 2000\n\n");
    const write = (name: string, data: unknown, id?: string) => {
      if (res.writableEnded) return;
      res.write(`${id ? `id: ${id}\n` : ""}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const send = (item: StreamItem) => {
      if (item.kind === "event") write("event", item.event, item.id);
      else write("result", item.body, item.id);
    };
    // replay what the operations driven here emitted so far, then follow them live
    for (const r of runningFor(service)) {
      r.events.forEach((event, i) => {
        if (seen && seen.op === r.id && i <= seen.index) return;
        send({ kind: "event", id: `${r.id}.${i}`, event });
      });
    }
    const set = subscribers.get(service) ?? new Set();
    subscribers.set(service, set);
    set.add(send);
    const keepAlive = setInterval(() => {
      if (!res.writableEnded) res.write(": keep-alive\n\n");
    }, keepAliveMs);
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for await (const s of yard.watch(service, {
        signal: stop.signal,
        ...(options.watchIntervalMs ? { intervalMs: options.watchIntervalMs } : {}),
      })) {
        write("status", s);
        if (untilIdle && s.swap === null && runningFor(service).length === 0) break;
      }
    } catch (error) {
      write("error", replyForError(error).body);
    } finally {
      signal.removeEventListener("abort", onAbort);
      clearInterval(keepAlive);
      set.delete(send);
      if (set.size === 0) subscribers.delete(service);
      res.end();
    }
    return undefined;
  }

  // ─── requests ─────────────────────────────────────────────────────────────────────────────

  const challenge = {
    "www-authenticate": 'Basic realm="switchyard", charset="UTF-8"',
  };

  /** The principal of a request to a protected route, or the reply refusing it. */
  async function admit(
    req: IncomingMessage,
    client: string,
    needs: "viewer" | "operator",
  ): Promise<Principal | Reply> {
    if (isStateChanging(req.method ?? "GET")) {
      const problem = crossSiteProblem(req);
      if (problem) return problem;
    }
    let principal: Principal | undefined;
    if (auth === "insecure-local") {
      principal = { name: "local", role: "operator", via: "insecure-local" };
    } else {
      const wait = limiter.retryAfterMs(client);
      if (wait > 0) {
        return errorReply(429, "RATE_LIMITED", "too many failed logins; try again later", {
          "retry-after": String(Math.ceil(wait / 1000)),
        });
      }
      const presented = parseAuthorization(req.headers.authorization);
      if (presented.kind === "none") {
        return errorReply(401, "UNAUTHORIZED", "authentication required", challenge);
      }
      principal = await authenticate(auth, presented);
      if (!principal) {
        limiter.fail(client);
        return errorReply(401, "UNAUTHORIZED", "authentication required", challenge);
      }
    }
    if (!allows(principal.role, needs)) return errorReply(403, "FORBIDDEN", "forbidden");
    return principal;
  }

  interface Handled {
    /** undefined when the route wrote the response itself (a stream) */
    reply: Reply | undefined;
    principal?: Principal;
  }

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    signal: AbortSignal,
  ): Promise<Handled> {
    const url = new URL(req.url ?? "/", "http://switchyard.invalid");
    const method = req.method ?? "GET";
    let methodMismatch = false;
    let found: { route: Route; params: Record<string, string> } | undefined;
    for (const route of routes) {
      const params = matchPath(route.path, url.pathname);
      if (!params) continue;
      if (route.method === method || (method === "HEAD" && route.method === "GET")) {
        found = { route, params };
        break;
      }
      methodMismatch = true;
    }
    if (!found) {
      return {
        reply: methodMismatch
          ? errorReply(405, "METHOD_NOT_ALLOWED", `${method} is not allowed here`)
          : errorReply(404, "NOT_FOUND", "no such endpoint"),
      };
    }
    const { route, params } = found;
    const client = clientOf(req);
    let principal: Principal | undefined;
    if (route.access !== "public") {
      const admitted = await admit(req, client, route.access);
      if ("status" in admitted) return { reply: admitted };
      principal = admitted;
    }
    const who = principal ? { principal } : {};
    if (shutdown.signal.aborted && isStateChanging(method)) {
      return { reply: errorReply(503, "SHUTTING_DOWN", "the control plane is stopping"), ...who };
    }
    const ctx: RequestContext = {
      req,
      res,
      params,
      query: url.searchParams,
      principal,
      signal,
      json: async () => {
        let text: string;
        try {
          text = await readBody(req);
        } catch (error) {
          if (error instanceof BodyTooLarge) throw error;
          throw new InputError("INVALID_INPUT", "the request body could not be read");
        }
        if (text.trim() === "") return {};
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new InputError("INVALID_INPUT", "the request body is not valid JSON");
        }
      },
    };
    try {
      return { reply: await route.handler(ctx), ...who };
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        return {
          reply: errorReply(413, "PAYLOAD_TOO_LARGE", "the request body is too large"),
          ...who,
        };
      }
      return { reply: replyForError(error), ...who };
    }
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const startedAt = Date.now();
    const gone = new AbortController();
    res.on("close", () => gone.abort());
    const signal = AbortSignal.any([gone.signal, streamsEnd.signal]);
    const path = new URL(req.url ?? "/", "http://switchyard.invalid").pathname;
    const done = (r: Handled) => {
      if (r.reply) sendJson(res, r.reply);
      // drain a body nobody read, so the connection can be reused
      if (!req.readableEnded) req.resume();
      options.log?.({
        at: new Date(startedAt).toISOString(),
        method: req.method ?? "GET",
        path,
        status: r.reply?.status ?? res.statusCode,
        ms: Date.now() - startedAt,
        client: clientOf(req),
        principal: r.principal?.name ?? null,
      });
    };
    handle(req, res, signal).then(done, (error: unknown) => done({ reply: replyForError(error) }));
  };

  return {
    handler,
    driving: () => [...running.values()].map(describe),
    listen: ({ port = 8080, host = "127.0.0.1" } = {}) => {
      if (auth === "insecure-local" && !isLoopback(host)) {
        return Promise.reject(
          new InputError(
            "INVALID_INPUT",
            `--insecure-local serves loopback addresses only; got --host ${host}`,
            { hint: "set credentials (see docs/serve.md) to serve other addresses" },
          ),
        );
      }
      return new Promise((resolve, reject) => {
        const s = createServer(handler);
        // an event stream is long-lived: no request timeout beyond the headers'
        s.requestTimeout = 0;
        s.headersTimeout = 30_000;
        s.keepAliveTimeout = 5_000;
        s.once("error", (error: NodeJS.ErrnoException) => {
          reject(
            error.code === "EADDRINUSE"
              ? new InputError("INVALID_INPUT", `port ${port} on ${host} is already in use`, {
                  cause: error,
                  hint: "pick another with --port (0 picks a free one)",
                })
              : error,
          );
        });
        s.listen(port, host, () => {
          server = s;
          const address = s.address() as AddressInfo;
          const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
          resolve({ url: `http://${shown}:${address.port}`, port: address.port });
        });
      });
    },
    close: async ({ timeoutMs = 120_000 } = {}) => {
      if (!shutdown.signal.aborted) shutdown.abort();
      const closed = server
        ? new Promise<void>((resolve) => server?.close(() => resolve()))
        : Promise.resolve();
      server?.closeIdleConnections();
      const ops = [...running.values()];
      for (const r of ops) r.controller.abort();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(ops.map((r) => r.settled)),
        new Promise((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      // the streams have carried the operations' last events; they end now, each cleanly
      streamsEnd.abort();
      await Promise.race([
        Promise.all([...streams]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, 2_000);
        }),
      ]);
      clearTimeout(timer);
      const unfinished = [...running.values()].map(describe);
      server?.closeAllConnections();
      await closed;
      return { unfinished };
    },
  };
}

/** The error a settled result carries (a swap that was rolled back), if any. */
function errorOf(result: unknown): SwitchyardError | undefined {
  if (typeof result !== "object" || result === null) return undefined;
  const r = result as { error?: unknown; result?: { error?: unknown } };
  const error = r.error ?? r.result?.error;
  return isSwitchyardError(error) ? error : undefined;
}

function okOf(result: unknown): boolean {
  if (typeof result !== "object" || result === null) return true;
  const r = result as { ok?: unknown; result?: { ok?: unknown } };
  if (typeof r.ok === "boolean") return r.ok;
  if (r.result && typeof r.result.ok === "boolean") return r.result.ok;
  return true;
}

function lastSeen(
  header: string | string[] | undefined,
): { op: string; index: number } | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value ? /^([0-9a-f]+)\.(\d+)$/.exec(value) : null;
  return m ? { op: m[1]!, index: Number(m[2]) } : undefined;
}
