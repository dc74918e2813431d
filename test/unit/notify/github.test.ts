import { describe, expect, it } from "vitest";
import type { SwitchyardEvent } from "../../../src/core/events.js";
import { githubNotifier } from "../../../src/notify/github.js";
import { OperationNotices } from "../../../src/notify/notification.js";
import type { NotifierContext } from "../../../src/notify/notifier.js";

const AT = Date.UTC(2026, 0, 19);

/** A fake GitHub answering from a list of deployments, recording each call. */
function fakeGithub(existing: Array<{ id: number; payload: unknown }>) {
  const calls: Array<{ method: string; path: string; body?: unknown; auth: string | null }> = [];
  const fetchFn: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({
      method: init?.method ?? "GET",
      path: `${url.pathname}${url.search}`,
      body,
      auth: new Headers(init?.headers).get("authorization"),
    });
    if (init?.method === "GET") return Response.json(existing);
    if (url.pathname.endsWith("/deployments")) return Response.json({ id: 99 }, { status: 201 });
    return Response.json({}, { status: 201 });
  };
  const context: NotifierContext = {
    signal: new AbortController().signal,
    policy: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 1000 },
    fetch: fetchFn,
  };
  return { calls, context };
}

const config = {
  repository: "org/web",
  token: "t0ken",
  apiUrl: "https://github.example/api/v3",
  ref: "release-{{version}}",
};

const started = (resumed: boolean): SwitchyardEvent => ({
  type: "swap.started",
  service: "web/prod",
  at: AT,
  swapId: "s1",
  release: "s3://releases/web/prod/r42.tar.gz",
  green: "web-prod-v043",
  blue: "web-prod-v042",
  steps: [50, 100],
  bakeMs: 1000,
  resumed,
});

describe("GitHub deployments", () => {
  it("a new swap creates a deployment, then sets in_progress, without listing first", async () => {
    const { calls, context } = fakeGithub([]);
    const notifier = githubNotifier({ ...config, environment: "production" });
    const n = new OperationNotices("web/prod", "deploy").observe(started(false));
    if (!n) throw new Error("no notification");
    await notifier.notify(n, context);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      "POST /api/v3/repos/org/web/deployments",
      "POST /api/v3/repos/org/web/deployments/99/statuses",
    ]);
    expect(calls[0]?.body).toMatchObject({
      ref: "release-r42",
      environment: "production",
      auto_merge: false,
      required_contexts: [],
      payload: { swapId: "s1", green: "web-prod-v043", blue: "web-prod-v042" },
    });
    expect(calls[1]?.body).toMatchObject({ state: "in_progress", environment: "production" });
    expect(calls.every((c) => c.auth === "Bearer t0ken")).toBe(true);
  });

  it("a resumed swap finds its deployment by payload.swapId and creates none", async () => {
    const { calls, context } = fakeGithub([
      { id: 7, payload: { swapId: "other" } },
      { id: 8, payload: { swapId: "s1" } },
    ]);
    const notifier = githubNotifier(config);
    const notices = new OperationNotices("web/prod", "resume");
    const first = notices.observe(started(true));
    const done = notices.observe({
      type: "swap.completed",
      service: "web/prod",
      at: AT,
      live: "web-prod-v043",
      standby: "web-prod-v042",
      durationMs: 5,
    });
    if (!first || !done) throw new Error("no notification");
    await notifier.notify(first, context);
    await notifier.notify(done, context);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      "GET /api/v3/repos/org/web/deployments?environment=web%2Fprod&per_page=100",
      "POST /api/v3/repos/org/web/deployments/8/statuses",
      "POST /api/v3/repos/org/web/deployments/8/statuses",
    ]);
    expect(calls[2]?.body).toMatchObject({ state: "success", auto_inactive: true });
  });
});
