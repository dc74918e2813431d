/**
 * The HTTP control plane over a sandbox world: every endpoint and role, authentication and its
 * refusals, a deploy driven through the API and streamed over SSE, and two replicas over the same
 * AWS agreeing, one steering the swap the other drives.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run.js";
import type { SwitchyardEvent } from "../../src/core/events.js";
import { hashPassword, hashToken, newToken } from "../../src/serve/auth.js";
import {
  type AccessLogEntry,
  type ControlPlane,
  createControlPlane,
} from "../../src/serve/control-plane.js";
import type { ServiceStatus } from "../../src/swap/status.js";
import { statusProjection } from "../../src/swap/watch.js";
import type { Switchyard } from "../../src/switchyard.js";
import { eventually } from "../helpers/sandbox.js";
import { listenerWeights, SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";
import { memoryIo } from "../unit/cli/helpers.js";

const PASSWORD = { alice: "alice-operator-pw", victor: "victor-viewer-pw" };
const TOKEN = { ci: newToken(), ro: newToken() };

interface Plane {
  plane: ControlPlane;
  yard: Switchyard;
  url: string;
  log: AccessLogEntry[];
}

interface Call {
  method?: string;
  body?: unknown;
  /** a user, a token, or none */
  as?: keyof typeof PASSWORD | keyof typeof TOKEN | "nobody";
  headers?: Record<string, string>;
  raw?: string;
}

function authHeader(as: Call["as"]): Record<string, string> {
  if (as === undefined || as === "nobody") return {};
  if (as === "ci" || as === "ro") return { authorization: `Bearer ${TOKEN[as]}` };
  return {
    authorization: `Basic ${Buffer.from(`${as}:${PASSWORD[as]}`).toString("base64")}`,
  };
}

async function call(p: Plane, path: string, c: Call = {}) {
  const method = c.method ?? (c.body !== undefined ? "POST" : "GET");
  const response = await fetch(`${p.url}${path}`, {
    method,
    headers: {
      ...authHeader(c.as ?? "ci"),
      ...(c.body !== undefined ? { "content-type": "application/json" } : {}),
      ...c.headers,
    },
    ...(c.raw !== undefined
      ? { body: c.raw }
      : c.body !== undefined
        ? { body: JSON.stringify(c.body) }
        : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: text ? (JSON.parse(text) as Record<string, unknown> & { error?: { code: string } }) : {},
  };
}

interface SseMessage {
  event: string;
  id?: string;
  data: unknown;
}

/** Reads a Server-Sent Events stream, calling `on` for each message, until it ends or `on` says stop. */
async function readSse(
  p: Plane,
  path: string,
  on: (m: SseMessage) => boolean | undefined,
  as: Call["as"] = "ci",
): Promise<SseMessage[]> {
  const controller = new AbortController();
  const response = await fetch(`${p.url}${path}`, {
    headers: authHeader(as),
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const messages: SseMessage[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut = buffer.indexOf("\n\n");
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        cut = buffer.indexOf("\n\n");
        const m: Partial<SseMessage> & { lines: string[] } = { lines: [] };
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const [field, ...rest] = line.split(": ");
          const value = rest.join(": ");
          if (field === "event") m.event = value;
          else if (field === "id") m.id = value;
          else if (field === "data") m.lines.push(value);
        }
        if (!m.event) continue;
        const message: SseMessage = {
          event: m.event,
          data: JSON.parse(m.lines.join("\n")),
          ...(m.id ? { id: m.id } : {}),
        };
        messages.push(message);
        if (on(message) === true) {
          controller.abort();
          return messages;
        }
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  return messages;
}

const swapEvents = (ms: SseMessage[]) =>
  ms.filter((m) => m.event === "event").map((m) => m.data as SwitchyardEvent);

describe("switchyard serve: the HTTP control plane", () => {
  let world: SwapWorld;
  let a: Plane;
  let b: Plane;
  const planes: Plane[] = [];

  async function open(options: { rateLimit?: { failures: number } } = {}): Promise<Plane> {
    const yard = world.another({ pollIntervalMs: 100 });
    const log: AccessLogEntry[] = [];
    const plane = createControlPlane({
      yard,
      auth: {
        users: [
          { name: "alice", role: "operator", hash: await hashPassword(PASSWORD.alice) },
          { name: "victor", role: "viewer", hash: await hashPassword(PASSWORD.victor) },
        ],
        tokens: [
          { name: "ci", role: "operator", sha256: hashToken(TOKEN.ci) },
          { name: "ro", role: "viewer", sha256: hashToken(TOKEN.ro) },
        ],
      },
      watchIntervalMs: 100,
      log: (e) => log.push(e),
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    });
    const { url } = await plane.listen({ port: 0 });
    const p = { plane, yard, url, log };
    planes.push(p);
    return p;
  }

  beforeAll(async () => {
    world = await swapWorld({ pollIntervalMs: 100 });
    const first = await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result;
    expect(first.ok).toBe(true);
    a = await open();
    b = await open();
  });
  afterAll(async () => {
    for (const p of planes) {
      await p.plane.close({ timeoutMs: 20_000 });
      p.yard.close();
    }
    await world?.stop();
  });

  it("answers /healthz to anyone, and everything else only to a known user or token", async () => {
    expect(await call(a, "/healthz", { as: "nobody" })).toMatchObject({
      status: 200,
      body: { ok: true },
    });
    const none = await call(a, "/api/services", { as: "nobody" });
    const wrong = await call(a, "/api/services", {
      as: "nobody",
      headers: { authorization: `Basic ${Buffer.from("alice:nope").toString("base64")}` },
    });
    const unknown = await call(a, "/api/services", {
      as: "nobody",
      headers: { authorization: `Basic ${Buffer.from("mallory:x").toString("base64")}` },
    });
    const badToken = await call(a, "/api/services", {
      as: "nobody",
      headers: { authorization: `Bearer ${TOKEN.ci}x` },
    });
    for (const r of [none, wrong, unknown, badToken]) {
      expect(r.status).toBe(401);
      expect(r.headers.get("www-authenticate")).toMatch(/^Basic realm="switchyard"/);
      // the same body whatever was wrong
      expect(r.text).toBe(none.text);
    }
    expect(none.body).toEqual({
      error: { code: "UNAUTHORIZED", message: "authentication required" },
    });
    expect(await call(a, "/api/whoami", { as: "alice" })).toMatchObject({
      status: 200,
      body: { name: "alice", role: "operator" },
    });
    expect(await call(a, "/api/whoami", { as: "ro" })).toMatchObject({
      body: { name: "ro", role: "viewer" },
    });
    expect((await call(a, "/api/nothing-here")).status).toBe(404);
    expect((await call(a, "/api/services", { method: "DELETE" })).status).toBe(405);
  });

  it("a viewer reads status, releases, plans and the IAM policy, and may change nothing (403)", async () => {
    const all = await call(a, "/api/services", { as: "victor" });
    expect(all.status).toBe(200);
    const list = all.body as unknown as ServiceStatus[];
    expect(list.map((s) => s.service)).toEqual([SERVICE]);
    const one = await call(a, "/api/services/web/test", { as: "ro" });
    expect(one.body).toMatchObject({ service: SERVICE, swap: null });
    expect((one.body as unknown as ServiceStatus).groups).toContainEqual(
      expect.objectContaining({ name: "web-test-v001", role: "live", weight: 100 }),
    );
    const releases = await call(a, "/api/services/web/test/releases", { as: "ro" });
    expect(releases.body).toEqual([
      expect.objectContaining({ version: "r2", live: false }),
      expect.objectContaining({ version: "r1", live: true }),
    ]);
    const plan = await call(a, "/api/services/web/test/plan?release=r2&steps=50,100", {
      as: "ro",
    });
    expect(plan.body).toMatchObject({ green: { name: "web-test-v002" } });
    const policy = await call(a, `/api/iam-policy?service=${SERVICE}`, { as: "ro" });
    expect(policy.body).toMatchObject({ Version: "2012-10-17" });
    expect((await call(a, "/api/services/web/nope", { as: "ro" })).body).toMatchObject({
      error: { code: "UNKNOWN_SERVICE" },
    });
    expect((await call(a, "/api/services/web/nope", { as: "ro" })).status).toBe(404);

    for (const [path, body] of [
      ["/api/services/web/test/deploy", { release: "r2" }],
      ["/api/services/web/test/rollback", {}],
      ["/api/services/web/test/pause", {}],
      ["/api/retire", { all: true, dryRun: true }],
    ] as const) {
      for (const as of ["victor", "ro"] as const) {
        const r = await call(a, path, { as, body });
        expect(r.status).toBe(403);
        expect(r.body).toEqual({ error: { code: "FORBIDDEN", message: "forbidden" } });
      }
    }
    expect((await call(a, "/api/services/web/test")).body).toMatchObject({ swap: null });
  });

  it("refuses a form-encoded POST and a foreign Origin (CSRF), and bad input with the CLI's codes", async () => {
    const form = await call(a, "/api/services/web/test/deploy", {
      method: "POST",
      raw: "release=r2",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(415);
    expect(form.body.error?.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    const foreign = await call(a, "/api/services/web/test/deploy", {
      body: { release: "r2" },
      headers: { origin: "https://evil.example" },
    });
    expect(foreign.status).toBe(403);
    const noBody = await call(a, "/api/services/web/test/abort", { method: "POST" });
    expect(noBody.status).toBe(415);
    // the custom header stands in for a JSON body: this one reaches the library (no swap: 409)
    const headerOnly = await call(a, "/api/services/web/test/abort", {
      method: "POST",
      headers: { "x-switchyard-request": "1" },
    });
    expect(headerOnly).toMatchObject({ status: 409, body: { error: { code: "NO_SWAP" } } });
    expect((await call(a, "/api/services/web/test")).body).toMatchObject({ swap: null });

    const steps = await call(a, "/api/services/web/test/deploy", {
      body: { release: "r2", steps: [50, 20] },
    });
    expect(steps).toMatchObject({ status: 400, body: { error: { code: "INVALID_INPUT" } } });
    const missing = await call(a, "/api/services/web/test/deploy", { body: { release: "r9" } });
    expect(missing).toMatchObject({
      status: 400,
      body: { error: { code: "RELEASE_NOT_FOUND", hint: expect.stringContaining("release push") } },
    });
    const extra = await call(a, "/api/services/web/test/deploy", {
      body: { release: "r2", colour: "green" },
    });
    expect(extra.status).toBe(400);
    expect(extra.body.error).toMatchObject({ message: expect.stringContaining("colour") });
    const notJson = await call(a, "/api/services/web/test/deploy", {
      method: "POST",
      raw: "{release",
      headers: { "content-type": "application/json" },
    });
    expect(notJson.status).toBe(400);
  });

  it("a deploy started through the API runs to its end, its events streamed over SSE; the other replica agrees and is refused the lock", async () => {
    const started = await call(a, "/api/services/web/test/deploy", {
      as: "alice",
      body: { release: "r2", steps: [50, 100], bake: 0.3 },
    });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      accepted: true,
      operation: "deploy",
      swapId: expect.any(String),
      events: "/api/services/web/test/events",
    });
    const swapId = started.body.swapId as string;

    // while it runs: B sees the same swap, and a second deploy through B is refused
    const locked = await call(b, "/api/services/web/test/deploy", { body: { release: "r1" } });
    expect(locked).toMatchObject({
      status: 409,
      body: { error: { code: "LOCK_HELD" }, holder: { swapId } },
    });
    const [sa, sb] = await Promise.all([
      call(a, "/api/services/web/test"),
      call(b, "/api/services/web/test"),
    ]);
    expect((sa.body as unknown as ServiceStatus).swap?.swapId).toBe(swapId);
    expect((sb.body as unknown as ServiceStatus).swap?.swapId).toBe(swapId);

    const messages = await readSse(a, "/api/services/web/test/events?until=idle", () => undefined);
    const events = swapEvents(messages);
    // replayed from the start, in order, then live
    expect(events[0]).toMatchObject({ type: "lock.acquired", swapId });
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(["swap.started", "step.shifted", "step.baked", "swap.completed"]),
    );
    expect(messages.every((m) => m.event !== "event" || m.id)).toBe(true);
    const result = messages.find((m) => m.event === "result");
    expect(result?.data).toMatchObject({
      operation: "deploy",
      swapId,
      ok: true,
      result: { ok: true, live: "web-test-v002" },
    });
    const statuses = messages.filter((m) => m.event === "status");
    expect((statuses.at(-1)!.data as ServiceStatus).swap).toBeNull();

    // both replicas read the same world
    const [ea, eb] = await Promise.all([
      call(a, "/api/services/web/test"),
      call(b, "/api/services/web/test"),
    ]);
    expect(statusProjection(ea.body as unknown as ServiceStatus)).toEqual(
      statusProjection(eb.body as unknown as ServiceStatus),
    );
    expect((await listenerWeights(world))["web-test-v002"]).toBe(100);
  });

  it("a pause sent to replica B holds the swap replica A drives; a promote through B finishes it", async () => {
    // long enough for the pause to land on a loaded machine before the bake would end
    const BAKE_S = 3;
    const started = await call(a, "/api/services/web/test/deploy", {
      body: { release: "r1", steps: [50, 100], bake: BAKE_S },
    });
    expect(started.status).toBe(202);
    let shiftedAt = 0;
    // follow A's stream; on the first step, pause through B
    const first = await readSse(a, "/api/services/web/test/events", (m) => {
      if (m.event !== "event") return undefined;
      const e = m.data as SwitchyardEvent;
      if (e.type !== "step.shifted" || e.step !== 1) return undefined;
      shiftedAt = Date.now();
      return true;
    });
    expect(swapEvents(first).some((e) => e.type === "step.baked")).toBe(false);
    const paused = await call(b, "/api/services/web/test/pause", { as: "alice", body: {} });
    expect(paused).toMatchObject({
      status: 200,
      body: { request: "pause", appliedBy: "driver" },
    });
    // the bake would have ended by now; the pause holds step 1 at 50 %
    await new Promise((r) =>
      setTimeout(r, Math.max(0, shiftedAt + BAKE_S * 1000 + 1_000 - Date.now())),
    );
    const held = (await call(b, "/api/services/web/test")).body as unknown as ServiceStatus;
    expect(held.swap).toMatchObject({ step: 1, paused: true });
    expect((await listenerWeights(world))["web-test-v003"]).toBe(50);

    // B's stream follows the swap A drives by polling: status changes, no driven events
    const promoted = await call(b, "/api/services/web/test/promote", { body: { full: true } });
    expect(promoted).toMatchObject({
      status: 200,
      body: { request: "promote", appliedBy: "driver" },
    });
    const fromB = await readSse(b, "/api/services/web/test/events?until=idle", () => undefined);
    expect(fromB.filter((m) => m.event === "status").length).toBeGreaterThanOrEqual(1);
    expect(swapEvents(fromB).some((e) => e.type === "swap.started")).toBe(false);
    await eventually(async () => a.plane.driving().length === 0, {
      timeoutMs: 20_000,
      what: "A's swap to end",
    });
    const after = (await call(a, "/api/services/web/test")).body as unknown as ServiceStatus;
    expect(after.swap).toBeNull();
    expect(after.groups).toContainEqual(
      expect.objectContaining({ name: "web-test-v003", role: "live", weight: 100 }),
    );
  });

  it("rollback answers with its result; retire dry-runs; a token's secret never reaches the log", async () => {
    const rolled = await call(a, "/api/services/web/test/rollback", { as: "alice", body: {} });
    if (rolled.status === 202) {
      await readSse(a, "/api/services/web/test/events?until=idle", () => undefined);
    } else {
      expect(rolled).toMatchObject({ status: 200, body: { ok: true, live: "web-test-v002" } });
    }
    const status = (await call(b, "/api/services/web/test")).body as unknown as ServiceStatus;
    expect(status.groups).toContainEqual(
      expect.objectContaining({ name: "web-test-v002", role: "live", weight: 100 }),
    );
    const retire = await call(b, "/api/retire", { body: { all: true, dryRun: true } });
    expect(retire).toMatchObject({ status: 200, body: { dryRun: true } });
    expect((await call(b, "/api/retire", { body: {} })).status).toBe(400);

    const logged = JSON.stringify([...a.log, ...b.log]);
    expect(a.log.length).toBeGreaterThan(10);
    expect(a.log.find((e) => e.principal === "alice")).toMatchObject({ method: "GET" });
    for (const secret of [TOKEN.ci, TOKEN.ro, PASSWORD.alice, PASSWORD.victor, "Basic "]) {
      expect(logged).not.toContain(secret);
    }
    expect(logged).not.toContain("?"); // no query strings
  });

  it("rate-limits failed logins per client address: 429 with Retry-After, even for right credentials", async () => {
    const r = await open({ rateLimit: { failures: 3 } });
    const bad = { authorization: `Bearer ${TOKEN.ci}-wrong` };
    for (let i = 0; i < 3; i++) {
      expect((await call(r, "/api/services", { as: "nobody", headers: bad })).status).toBe(401);
    }
    const limited = await call(r, "/api/services");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ error: { code: "RATE_LIMITED" } });
    // other replicas, and public routes, are not affected
    expect((await call(r, "/healthz", { as: "nobody" })).status).toBe(200);
    expect((await call(a, "/api/whoami")).status).toBe(200);
  });

  it("refuses to start without credentials, or insecure beyond loopback", async () => {
    expect(() =>
      createControlPlane({ yard: a.yard, auth: { users: [], tokens: [] } }),
    ).toThrowError(
      expect.objectContaining({
        code: "INVALID_INPUT",
        message: expect.stringContaining("SWITCHYARD_SERVE_USERS_FILE"),
      }),
    );
    const open = createControlPlane({ yard: a.yard, auth: "insecure-local" });
    await expect(open.listen({ port: 0, host: "0.0.0.0" })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    const local = await open.listen({ port: 0, host: "127.0.0.1" });
    const whoami = await fetch(`${local.url}/api/whoami`);
    expect(await whoami.json()).toEqual({ name: "local", role: "operator" });
    // CSRF checks hold without credentials too: a browser on this machine is a client
    const form = await fetch(`${local.url}/api/services/web/test/abort`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "x",
    });
    expect(form.status).toBe(415);
    await open.close();
  });

  it("close() stops accepting and interrupts a swap it drives, which rolls back to blue", async () => {
    const c = await open();
    const before = (await call(c, "/api/services/web/test")).body as unknown as ServiceStatus;
    const blue = before.groups.find((g) => g.role === "live")?.name;
    expect(blue).toBeDefined();
    const started = await call(c, "/api/services/web/test/deploy", {
      body: { release: "r1", steps: [50, 100], bake: 30 },
    });
    expect(started.status).toBe(202);
    const stream = readSse(c, "/api/services/web/test/events", () => undefined);
    await eventually(
      async () =>
        ((await call(c, "/api/services/web/test")).body as unknown as ServiceStatus).swap?.step ===
        1,
      { timeoutMs: 20_000, what: "the first step" },
    );
    const closing = c.plane.close({ timeoutMs: 30_000 });
    const { unfinished } = await closing;
    expect(unfinished).toEqual([]);
    // the stream carried the rollback to its end, then ended
    const messages = await stream;
    expect(swapEvents(messages).map((e) => e.type)).toContain("swap.rolled-back");
    expect(messages.find((m) => m.event === "result")?.data).toMatchObject({
      operation: "deploy",
      ok: false,
    });
    await expect(fetch(`${c.url}/healthz`)).rejects.toThrow();
    const status = (await call(a, "/api/services/web/test")).body as unknown as ServiceStatus;
    expect(status.swap).toBeNull();
    expect(status.groups).toContainEqual(
      expect.objectContaining({ name: blue, role: "live", weight: 100 }),
    );
  });
});

describe("switchyard serve, the command", () => {
  it("serves the config's services with the environment's credentials, logs requests without secrets, and stops on SIGINT", async () => {
    const world = await swapWorld({ pollIntervalMs: 100 });
    const dir = await mkdtemp(join(tmpdir(), "switchyard-serve-"));
    const saved = { ...process.env };
    try {
      await writeFile(join(dir, "switchyard.config.json"), JSON.stringify(world.config));
      await writeFile(join(dir, "tokens"), `# the CI's\nci:viewer:${hashToken(TOKEN.ci)}\n`);
      process.env.AWS_ACCESS_KEY_ID = "test";
      process.env.AWS_SECRET_ACCESS_KEY = "test";
      const m = memoryIo({ cwd: dir, env: { SWITCHYARD_SERVE_TOKENS_FILE: "tokens" } });
      const handlers: Record<string, () => void> = {};
      m.io.onSignal = (signal, handler) => {
        handlers[signal] = handler;
        return () => undefined;
      };
      const run = runCli(
        ["--endpoint-url", world.sandbox.endpoint, "serve", "--port", "0", "--json"],
        m.io,
      );
      const listening = await eventually(
        () => m.stdout.lines().find((l) => l.includes('"listening"')),
        { timeoutMs: 20_000, what: "the listening line" },
      );
      const { url, auth } = JSON.parse(listening) as { url: string; auth: string };
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(auth).toBe("0 users, 1 tokens");
      const response = await fetch(`${url}/api/services/web/test`, {
        headers: { authorization: `Bearer ${TOKEN.ci}` },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ service: SERVICE });
      const refused = await fetch(`${url}/api/services/web/test/deploy`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN.ci}`, "content-type": "application/json" },
        body: JSON.stringify({ release: "r1" }),
      });
      expect(refused.status).toBe(403);
      handlers.SIGINT?.();
      expect(await run).toBe(0);
      const requests = m.stderr
        .lines()
        .map((l) => JSON.parse(l) as { type: string; principal: string; status: number });
      expect(requests.filter((r) => r.type === "request").map((r) => r.status)).toEqual([200, 403]);
      expect(requests[0]?.principal).toBe("ci");
      expect(m.stderr.text()).not.toContain(TOKEN.ci);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      process.env = saved;
      await world.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
