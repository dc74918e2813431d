/**
 * Listener proxies: each listener is a real HTTP reverse proxy on its own loopback port. A proxy
 * holds a copy of its listener's default actions and rules; a change reaches it after the
 * propagation delay, as on ALB (a new listener's first configuration applies at once).
 *
 * Per request: the first matching rule by priority, else the default actions; a forward action
 * picks a target group by weight (or by the stickiness cookie), then a target round-robin among
 * the healthy ones, failing open to every non-draining target when none is healthy.
 */
import {
  Agent,
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { RequestRecord } from "../metrics.js";
import type { Action, Listener, SandboxState, Target, TargetGroup } from "../state.js";
import type { RuntimeDeps } from "./index.js";
import {
  actionsFor,
  cookieValue,
  forwardTuples,
  pickWeighted,
  type RuleSnapshot,
  redirectLocation,
  STICKY_COOKIE,
  STICKY_CORS_COOKIE,
  StickyCookies,
  terminalAction,
} from "./routing.js";

/** Response header naming the target group that served a request (sandbox only). */
export const TARGET_GROUP_HEADER = "x-switchyard-target-group";
/** Response header naming the instance that served a request (sandbox only). */
export const TARGET_HEADER = "x-switchyard-target";

/** ALB's default idle timeout, in AWS seconds; a target silent for longer gets a 504. */
const IDLE_TIMEOUT_SECONDS = 60;
/** The idle timeout never drops below this many real milliseconds, whatever the time scale. */
const MIN_IDLE_TIMEOUT_MS = 1000;
/** Stickiness duration when a forward action enables stickiness without one (AWS seconds). */
const DEFAULT_STICKINESS_SECONDS = 86_400;

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** What a proxy routes by: a copy of the listener's configuration when it was applied. */
export interface ListenerConfig {
  listenerPort: number;
  /** the load balancer whose metrics the listener's requests count in */
  loadBalancerArn: string;
  defaultActions: Action[];
  rules: RuleSnapshot[];
}

export function snapshotListener(state: SandboxState, listener: Listener): ListenerConfig {
  const rules: RuleSnapshot[] = [];
  for (const rule of state.rules.values()) {
    if (rule.listenerArn !== listener.arn || rule.priority === "default") continue;
    rules.push({
      priority: Number(rule.priority),
      conditions: structuredClone(rule.conditions),
      actions: structuredClone(rule.actions),
    });
  }
  rules.sort((a, b) => a.priority - b.priority);
  return {
    listenerPort: listener.port,
    loadBalancerArn: listener.loadBalancerArn,
    defaultActions: structuredClone(listener.defaultActions),
    rules,
  };
}

interface ListenerProxy {
  server: Server;
  config: ListenerConfig;
  port: number;
  /** cancels for configuration changes still propagating */
  pending: Set<() => void>;
}

export interface ListenerProxies {
  changed(listener: Listener): void;
  deleted(listenerArn: string): void;
  url(listenerArn: string): string | undefined;
  close(): Promise<void>;
}

class UpstreamTimeout extends Error {}

export function createListenerProxies(deps: RuntimeDeps): ListenerProxies {
  const { state, clock, settings } = deps;
  const proxies = new Map<string, ListenerProxy>();
  const agent = new Agent({ keepAlive: true, timeout: 4000 });
  const cookies = new StickyCookies();
  /** round-robin position per target group */
  const cursor = new Map<string, number>();
  let closed = false;

  /** Counts a request in the load balancer's CloudWatch metrics. */
  function count(proxy: ListenerProxy, record: Omit<RequestRecord, "loadBalancerArn">): void {
    state.metrics.recordRequest({ loadBalancerArn: proxy.config.loadBalancerArn, ...record });
  }

  function sendError(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    extra?: OutgoingHttpHeaders,
  ): void {
    req.resume();
    if (res.destroyed) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const text = `${status} ${STATUS_CODES[status] ?? ""}`;
    const body = `<html>\r\n<head><title>${text}</title></head>\r\n<body>\r\n<center><h1>${text}</h1></center>\r\n</body>\r\n</html>\r\n`;
    res.writeHead(status, {
      ...extra,
      server: "awselb/2.0",
      "content-type": "text/html",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  }

  /** Round-robin over healthy targets; with none healthy, over every non-draining target. */
  function pickTarget(tg: TargetGroup): Target | undefined {
    let healthy = 0;
    let open = 0;
    for (const t of tg.targets.values()) {
      if (t.state === "healthy") healthy++;
      if (t.state !== "draining") open++;
    }
    const count = healthy > 0 ? healthy : open;
    if (count === 0) return undefined;
    const n = cursor.get(tg.arn) ?? 0;
    cursor.set(tg.arn, (n + 1) % 1_000_000_007);
    let skip = n % count;
    for (const t of tg.targets.values()) {
      const eligible = healthy > 0 ? t.state === "healthy" : t.state !== "draining";
      if (!eligible) continue;
      if (skip === 0) return t;
      skip--;
    }
    return undefined;
  }

  function handle(proxy: ListenerProxy, req: IncomingMessage, res: ServerResponse): void {
    const config = proxy.config;
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const hostHeader = req.headers.host ?? "";
    const [host, port] = splitHost(hostHeader);
    const method = req.method ?? "GET";
    const action = terminalAction(
      actionsFor(config.rules, config.defaultActions, { path, host, method }),
    );
    if (!action) {
      count(proxy, { status: 503, source: "elb" });
      sendError(req, res, 503);
      return;
    }
    switch (action.Type) {
      case "fixed-response": {
        req.resume();
        const fixed = action.FixedResponseConfig;
        const body = fixed?.MessageBody ?? "";
        count(proxy, { status: Number(fixed?.StatusCode ?? 200), source: "action" });
        res.writeHead(Number(fixed?.StatusCode ?? 200), {
          server: "awselb/2.0",
          "content-type": `${fixed?.ContentType ?? "text/plain"}; charset=utf-8`,
          "content-length": Buffer.byteLength(body),
        });
        res.end(body);
        return;
      }
      case "redirect": {
        req.resume();
        const config = action.RedirectConfig ?? {};
        const location = redirectLocation(config, {
          path,
          query: q < 0 ? "" : rawUrl.slice(q + 1),
          host,
          port: port || String(proxy.port),
        });
        count(proxy, { status: config.StatusCode === "HTTP_301" ? 301 : 302, source: "action" });
        res.writeHead(config.StatusCode === "HTTP_301" ? 301 : 302, {
          server: "awselb/2.0",
          location,
          "content-length": 0,
        });
        res.end();
        return;
      }
      default:
        forward(proxy, action, req, res);
    }
  }

  function forward(
    proxy: ListenerProxy,
    action: Action,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    const tuples = forwardTuples(action);
    const stickiness = action.ForwardConfig?.TargetGroupStickinessConfig;
    const now = clock.now();
    let arn: string | undefined;
    if (stickiness?.Enabled) {
      // A client stays on its target group while the action still names it, whatever its
      // weight: stickiness takes precedence over weights on ALB.
      const named = cookies.decode(
        cookieValue(req.headers.cookie, STICKY_COOKIE) ??
          cookieValue(req.headers.cookie, STICKY_CORS_COOKIE),
        now,
      );
      if (named && tuples.some((t) => t.arn === named)) arn = named;
    }
    if (!arn) {
      const index = pickWeighted(tuples);
      if (index < 0) {
        count(proxy, { status: 503, source: "elb" });
        sendError(req, res, 503);
        return;
      }
      arn = tuples[index]!.arn;
    }
    const tg = state.targetGroups.get(arn);
    if (!tg) {
      count(proxy, { status: 503, source: "elb" });
      sendError(req, res, 503);
      return;
    }
    const extra: OutgoingHttpHeaders = { [TARGET_GROUP_HEADER]: tg.name };
    const setCookies = stickiness?.Enabled
      ? cookies.setCookieHeaders(
          arn,
          now + clock.ms(stickiness.DurationSeconds ?? DEFAULT_STICKINESS_SECONDS),
        )
      : undefined;
    const target = pickTarget(tg);
    if (!target) {
      count(proxy, { status: 503, source: "elb" });
      sendError(req, res, 503, extra);
      return;
    }
    extra[TARGET_HEADER] = target.id;
    const instance = state.instances.get(target.id);
    const targetPort = instance?.state === "running" ? instance.hostPort : 0;
    if (!targetPort) {
      count(proxy, { targetGroupArn: tg.arn, status: 502, source: "elb" });
      sendError(req, res, 502, extra);
      return;
    }

    const headers: OutgoingHttpHeaders = {};
    for (const name in req.headers) {
      const value = req.headers[name];
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    const client = (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
    const prior = req.headers["x-forwarded-for"];
    headers["x-forwarded-for"] = prior ? `${prior}, ${client}` : client;
    headers["x-forwarded-proto"] = "http";
    headers["x-forwarded-port"] = String(proxy.config.listenerPort);

    const sentAt = performance.now();
    const upstream = request({
      host: "127.0.0.1",
      port: targetPort,
      method: req.method,
      path: req.url,
      headers,
      agent,
    });
    upstream.setTimeout(Math.max(clock.ms(IDLE_TIMEOUT_SECONDS), MIN_IDLE_TIMEOUT_MS), () => {
      upstream.destroy(new UpstreamTimeout("target timed out"));
    });
    upstream.on("response", (answer) => {
      count(proxy, {
        targetGroupArn: tg.arn,
        status: answer.statusCode ?? 502,
        source: "target",
        latencySeconds: (performance.now() - sentAt) / 1000,
      });
      const out: OutgoingHttpHeaders = {};
      for (const name in answer.headers) {
        const value = answer.headers[name];
        if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      }
      Object.assign(out, extra);
      if (setCookies) {
        const own = answer.headers["set-cookie"] ?? [];
        out["set-cookie"] = [...own, ...setCookies];
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
      answer.on("error", () => res.destroy());
    });
    upstream.on("error", (error) => {
      const status = error instanceof UpstreamTimeout ? 504 : 502;
      if (!res.headersSent) count(proxy, { targetGroupArn: tg.arn, status, source: "elb" });
      sendError(req, res, status, extra);
    });
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  function createProxy(config: ListenerConfig): ListenerProxy {
    const server = createServer();
    const proxy: ListenerProxy = { server, config, port: 0, pending: new Set() };
    server.on("request", (req, res) => handle(proxy, req, res));
    server.on("clientError", (_error, socket) => socket.destroy());
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (typeof address === "object" && address) proxy.port = address.port;
    });
    return proxy;
  }

  function shutdown(proxy: ListenerProxy): Promise<void> {
    for (const cancel of proxy.pending) cancel();
    proxy.pending.clear();
    proxy.port = 0;
    return new Promise((resolve) => {
      proxy.server.close(() => resolve());
      proxy.server.closeAllConnections();
    });
  }

  return {
    changed(listener) {
      if (closed) return;
      const config = snapshotListener(state, listener);
      const proxy = proxies.get(listener.arn);
      if (!proxy) {
        proxies.set(listener.arn, createProxy(config));
        return;
      }
      const cancel = clock.after(settings.propagationSeconds, () => {
        proxy.pending.delete(cancel);
        proxy.config = config;
      });
      proxy.pending.add(cancel);
    },

    deleted(listenerArn) {
      const proxy = proxies.get(listenerArn);
      if (!proxy) return;
      proxies.delete(listenerArn);
      void shutdown(proxy);
    },

    url(listenerArn) {
      const port = proxies.get(listenerArn)?.port;
      return port ? `http://127.0.0.1:${port}` : undefined;
    },

    async close() {
      closed = true;
      const all = [...proxies.values()];
      proxies.clear();
      await Promise.all(all.map(shutdown));
      agent.destroy();
    },
  };
}

/** `host:port` (or `[v6]:port`) into its host, lower-cased, and port. */
function splitHost(header: string): [string, string] {
  if (header.startsWith("[")) {
    const end = header.indexOf("]");
    const rest = header.slice(end + 1);
    return [header.slice(0, end + 1).toLowerCase(), rest.startsWith(":") ? rest.slice(1) : ""];
  }
  const colon = header.lastIndexOf(":");
  if (colon < 0) return [header.toLowerCase(), ""];
  return [header.slice(0, colon).toLowerCase(), header.slice(colon + 1)];
}
