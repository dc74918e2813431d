/**
 * Notifications from real swaps in the sandbox: Slack, a Standard Webhooks consumer and a fake
 * GitHub API on loopback receive every notification; receivers that hang or answer 500 get their
 * retries and delay no step; GitHub records a deployment per swap with its statuses.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SwitchyardEvent } from "../../src/core/events.js";
import { eventually } from "../helpers/sandbox.js";
import { SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TOKEN = "ghp_test-token-never-in-a-payload";
const SLACK_PATH = "/services/T000/B000/slack-secret-path";

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  at: number;
}

interface Receiver {
  url: string;
  requests: Received[];
  close(): Promise<void>;
}

async function receiver(
  answer: (r: Received, res: ServerResponse, all: Received[]) => void,
): Promise<Receiver> {
  const requests: Received[] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: Received = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      requests.push(r);
      open.add(res);
      res.on("close", () => open.delete(res));
      answer(r, res, requests);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const ok = (_r: Received, res: ServerResponse) => res.end("ok");

/** The Standard Webhooks check, written from the spec: HMAC-SHA256 of id.timestamp.body. */
function verified(r: Received): boolean {
  const id = String(r.headers["webhook-id"] ?? "");
  const timestamp = String(r.headers["webhook-timestamp"] ?? "");
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const key = Buffer.from(SECRET.slice("whsec_".length), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${r.body}`).digest();
  return String(r.headers["webhook-signature"] ?? "")
    .split(" ")
    .some((entry) => {
      const given = Buffer.from(entry.replace(/^v1,/, ""), "base64");
      return (
        entry.startsWith("v1,") &&
        given.length === expected.length &&
        timingSafeEqual(given, expected)
      );
    });
}

/** A fake GitHub Deployments API: deployments and their statuses, kept in memory. */
function githubApi() {
  const deployments: Array<{
    id: number;
    ref: string;
    environment: string;
    payload: Record<string, unknown>;
  }> = [];
  const statuses: Array<{
    deployment: number;
    state: string;
    auto_inactive?: boolean;
    description: string;
  }> = [];
  const handle = (r: Received, res: ServerResponse) => {
    res.setHeader("content-type", "application/json");
    if (r.headers.authorization !== `Bearer ${TOKEN}`) {
      res.statusCode = 401;
      return res.end(JSON.stringify({ message: "Bad credentials" }));
    }
    const url = new URL(r.path, "http://x");
    if (r.method === "POST" && url.pathname === "/repos/org/web/deployments") {
      const body = JSON.parse(r.body) as Omit<(typeof deployments)[number], "id">;
      const d = { ...body, id: deployments.length + 1 };
      deployments.push(d);
      res.statusCode = 201;
      return res.end(JSON.stringify(d));
    }
    const status = /^\/repos\/org\/web\/deployments\/(\d+)\/statuses$/.exec(url.pathname);
    if (r.method === "POST" && status) {
      statuses.push({ deployment: Number(status[1]), ...JSON.parse(r.body) });
      res.statusCode = 201;
      return res.end("{}");
    }
    if (r.method === "GET" && url.pathname === "/repos/org/web/deployments") {
      const env = url.searchParams.get("environment");
      return res.end(JSON.stringify(deployments.filter((d) => d.environment === env).reverse()));
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ message: "Not Found" }));
  };
  return { deployments, statuses, handle };
}

const FAST = { attempts: 3, baseDelayMs: 50, maxDelayMs: 200, timeoutMs: 1_000 };

describe("notifications from real swaps", () => {
  let world: SwapWorld;
  let slack: Receiver;
  let hook: Receiver;
  let gh: Receiver;
  let hanging: Receiver;
  let failing: Receiver;
  const github = githubApi();

  beforeAll(async () => {
    slack = await receiver(ok);
    hook = await receiver((r, res) => {
      res.statusCode = verified(r) ? 204 : 401;
      res.end();
    });
    gh = await receiver(github.handle);
    hanging = await receiver(() => undefined);
    failing = await receiver((_r, res) => {
      res.statusCode = 500;
      res.end("down");
    });
    world = await swapWorld({
      config: {
        bake: 0.2,
        steps: [25, 100],
        notify: [{ github: { repository: "org/web", token: TOKEN, apiUrl: gh.url } }],
      },
      topConfig: {
        notify: [
          { slack: { webhookUrl: `${slack.url}${SLACK_PATH}` } },
          { webhook: { url: `${hook.url}/hooks/switchyard`, secret: SECRET } },
        ],
      },
      yard: { delivery: FAST },
      pollIntervalMs: 100,
    });
  });
  afterAll(async () => {
    await world?.stop();
    await Promise.all([slack, hook, gh, hanging, failing].map((r) => r?.close()));
  });

  it("a swap sends every notification to Slack, the signed webhook and GitHub", async () => {
    const first = await world.yard.deploy(SERVICE, { release: "r1" }).result;
    expect(first.ok).toBe(true);
    const r2 = await world.yard.deploy(SERVICE, { release: "r2" }).result;
    expect(r2.ok).toBe(true);
    expect((await world.yard.flush({ timeoutMs: 10_000 })).pending).toBe(0);

    const hookTypes = hook.requests.map((r) => (JSON.parse(r.body) as { type: string }).type);
    expect(hookTypes).toEqual([
      "swap.started",
      "step.shifted",
      "swap.completed",
      "swap.started",
      "step.shifted",
      "step.shifted",
      "swap.completed",
    ]);
    expect(hook.requests.every(verified)).toBe(true);
    expect(new Set(hook.requests.map((r) => r.headers["webhook-id"])).size).toBe(7);
    const completed = JSON.parse(hook.requests[6]!.body) as { data: Record<string, unknown> };
    expect(completed.data).toMatchObject({
      type: "swap.completed",
      service: SERVICE,
      live: "web-test-v002",
      standby: "web-test-v001",
      release: expect.stringMatching(/r2\.tar\.gz$/),
      swapId: expect.any(String),
      operation: "deploy",
    });

    expect(slack.requests.map((r) => r.path)).toEqual(Array(7).fill(SLACK_PATH));
    const messages = slack.requests.map(
      (r) => JSON.parse(r.body) as { text: string; blocks: unknown[] },
    );
    expect(messages.map((m) => m.text)).toEqual([
      "web/test: swap to r1 started",
      "web/test: step 1/1, 100% on r1",
      "web/test: r1 is live",
      "web/test: swap to r2 started",
      "web/test: step 1/2, 25% on r2",
      "web/test: step 2/2, 100% on r2",
      "web/test: r2 is live",
    ]);
    expect(messages.every((m) => m.blocks.length >= 3)).toBe(true);

    expect(github.deployments.map((d) => [d.ref, d.environment])).toEqual([
      ["r1", SERVICE],
      ["r2", SERVICE],
    ]);
    expect(github.deployments[1]!.payload).toMatchObject({
      swapId: r2Swap(world.events),
      green: "web-test-v002",
      blue: "web-test-v001",
    });
    const second = github.statuses.filter((s) => s.deployment === 2);
    expect(second.map((s) => s.state)).toEqual([
      "in_progress",
      "in_progress",
      "in_progress",
      "success",
    ]);
    expect(second.at(-1)?.auto_inactive).toBe(true);

    const everything = [slack, hook, gh].flatMap((r) => r.requests.map((q) => q.body)).join("\n");
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain("slack-secret-path");
  });

  it("a rolled-back swap and a rollback reach GitHub as failure and a new success", async () => {
    const before = github.deployments.length;
    const result = await world.yard.deploy(SERVICE, {
      release: "r1",
      gates: [{ name: "smoke", check: async () => ({ ok: false, message: "smoke failed" }) }],
    }).result;
    expect(result).toMatchObject({ ok: false, outcome: "rolled-back" });
    const rollback = await world.yard.rollback(SERVICE).result;
    expect(rollback.live).toBe("web-test-v001");
    await world.yard.flush({ timeoutMs: 10_000 });

    const failed = github.deployments[before]!;
    expect(failed.ref).toBe("r1");
    const failedStates = github.statuses
      .filter((s) => s.deployment === failed.id)
      .map((s) => s.state);
    expect(failedStates[0]).toBe("in_progress");
    expect(failedStates.at(-1)).toBe("failure");

    const restored = github.deployments[before + 1]!;
    expect(restored).toMatchObject({
      ref: "r1",
      payload: { rollback: true, live: "web-test-v001" },
    });
    expect(github.statuses.filter((s) => s.deployment === restored.id).map((s) => s.state)).toEqual(
      ["success"],
    );

    const types = hook.requests.map((r) => (JSON.parse(r.body) as { type: string }).type);
    expect(types.slice(-3)).toEqual(["gate.failed", "swap.rolled-back", "rollback.completed"]);
    const reason = slack.requests.map((r) => (JSON.parse(r.body) as { text: string }).text);
    expect(reason).toContainEqual(
      expect.stringContaining("rolled back; web-test-v002 is live — GATE_FAILED"),
    );
  });

  it("receivers that hang or answer 500 get their retries and hold no step back", async () => {
    const timed = async (yard = world.yard, release: string) => {
      const started = Date.now();
      const result = await yard.deploy(SERVICE, { release }).result;
      expect(result.ok).toBe(true);
      // the result is there while notifications still wait: it never waited for them
      const { pending } = await yard.flush({ timeoutMs: 0 });
      return { ms: Date.now() - started, pending };
    };
    const normal = await timed(world.yard, "r2");

    const warnings: SwitchyardEvent[] = [];
    const slow = world.another({
      pollIntervalMs: 100,
      yard: {
        config: {
          ...world.config,
          notify: [
            { webhook: { url: `${hanging.url}/hook`, secret: SECRET } },
            { slack: { webhookUrl: `${failing.url}/slack` } },
          ],
        },
        delivery: FAST,
        onEvent: (e) => {
          if (e.type === "warning") warnings.push(e);
        },
      },
    });
    const bad = await timed(slow, "r1");
    // durations only for the log: the machine's load decides them, not the receivers
    console.info(`swap with good receivers ${normal.ms} ms, with bad ones ${bad.ms} ms`);
    expect(bad.pending).toBeGreaterThan(0);

    await eventually(() => hanging.requests.length >= 4 && failing.requests.length >= 6, {
      timeoutMs: 20_000,
      what: "the bad receivers' attempts",
    });
    // the first notification gets every attempt; while a receiver keeps failing, one each
    expect(failing.requests.length).toBe(3 + 3);
    expect(new Set(hanging.requests.slice(0, 3).map((r) => r.headers["webhook-id"])).size).toBe(1);
    await slow.flush({ timeoutMs: 15_000 });
    expect(warnings.map((w) => (w as { message: string }).message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^notification swap.started to slack not delivered: (HTTP 500|no answer in time) after 3 attempts$/,
        ),
        expect.stringMatching(
          /^notification swap.started to webhook \(127\.0\.0\.1:\d+\) not delivered: no answer in time after 3 attempts$/,
        ),
      ]),
    );
    expect(JSON.stringify(warnings)).not.toContain("/slack");
    slow.close();
  });
});

function r2Swap(events: SwitchyardEvent[]): string | undefined {
  const started = events.filter((e) => e.type === "swap.started");
  const second = started[1];
  return second?.type === "swap.started" ? second.swapId : undefined;
}
