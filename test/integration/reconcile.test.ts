/**
 * A swap with no long-running process: `deploy --detach` writes it, `reconcile` passes drive it.
 * Driven only by passes, it ends as a foreground swap does, with the same events; a pass leaves
 * a swap a live process drives alone; a pass killed (SIGKILL) mid-way changes nothing the next
 * pass cannot finish.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandler } from "../../examples/reconcile-lambda/handler.js";
import type { SwitchyardEvent } from "../../src/core/events.js";
import { readLastChange, readRecord } from "../../src/swap/record.js";
import type { ReconcileReport } from "../../src/switchyard.js";
import { buildCli } from "../e2e/helpers.js";
import { listenerWeights, SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";

const CHILD = new URL("./fixtures/deploy-child.mjs", import.meta.url);
const PASS_EVERY_MS = 200;

let world: SwapWorld;

beforeAll(async () => {
  await buildCli();
  world = await swapWorld({
    timeScale: 0.01,
    releases: [{ version: "r1" }, { version: "r2" }, { version: "r3" }, { version: "r4" }],
  });
  const first = await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 100 }).result;
  expect(first.ok).toBe(true);
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

/** The milestones of a swap: what a reader of its events would tell. */
function milestones(events: SwitchyardEvent[]): string[] {
  return events.flatMap((e) => {
    switch (e.type) {
      case "swap.started":
      case "green.healthy":
      case "swap.completed":
      case "lock.released":
        return [e.type];
      case "step.shifted":
      case "step.baked":
        return [`${e.type} ${e.weight}%`];
      default:
        return [];
    }
  });
}

/** Passes every PASS_EVERY_MS until the swap has ended; the passes' reports and events. */
async function passUntilDone(events: SwitchyardEvent[]) {
  const reports: ReconcileReport[] = [];
  for (let i = 0; i < 400; i++) {
    const pass = world.yard.reconcile({ services: [SERVICE] });
    for await (const event of pass.events) events.push(event);
    const report = await pass.result;
    reports.push(report);
    const outcome = report.services[0]?.outcome;
    if (outcome !== "advanced" && outcome !== "held") return reports;
    await new Promise((r) => setTimeout(r, PASS_EVERY_MS));
  }
  throw new Error("the swap did not end within 400 passes");
}

/** One pass in a child process, SIGKILLed right after its first action. */
function passAndKill(): Promise<{ killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD.pathname], {
      env: {
        ...process.env,
        SWITCHYARD_TEST_JOB: JSON.stringify({
          endpoint: world.sandbox.endpoint,
          config: world.config,
          service: SERVICE,
          op: "reconcile",
        }),
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let killed = false;
    createInterface({ input: child.stdout }).on("line", (line) => {
      const event = JSON.parse(line) as SwitchyardEvent;
      if (event.type === "action" && !killed) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("exit", () => resolve({ killed }));
  });
}

describe("deploy --detach, then reconcile passes", () => {
  it("ends as a foreground swap does, with the same milestones", async () => {
    const foreground: SwitchyardEvent[] = [];
    const fg = world.yard.deploy(SERVICE, { release: "r2", steps: [25, 100], bakeMs: 800 });
    for await (const event of fg.events) foreground.push(event);
    expect((await fg.result).ok).toBe(true);

    const detached: SwitchyardEvent[] = [];
    const written = world.yard.deploy(SERVICE, {
      release: "r3",
      steps: [25, 100],
      bakeMs: 800,
      detach: true,
    });
    for await (const event of written.events) detached.push(event);
    const result = await written.result;
    expect(result).toMatchObject({ ok: true, outcome: "in-flight", live: "web-test-v002" });
    // written and let go: no process drives it, and nothing changed yet
    const record = await readRecord(world.clients, world.config.state as never, SERVICE);
    expect(record?.record.detached).toBeDefined();
    expect(record?.record.cursor.phase).toBe("launching");
    expect(await listenerWeights(world)).toEqual({ "web-test-v002": 100, "web-test-v001": 0 });

    const reports = await passUntilDone(detached);
    expect(reports.length).toBeGreaterThan(3);
    expect(reports.at(-1)?.services[0]).toMatchObject({
      outcome: "completed",
      swapId: result.swapId,
    });
    // each pass in between did what was due and said what it waits for
    expect(reports.slice(0, -1).every((r) => r.services[0]?.outcome === "advanced")).toBe(true);
    expect(
      reports.some((r) =>
        /baking at 25%/.test(
          String(r.services[0] && "waiting" in r.services[0] ? r.services[0].waiting : ""),
        ),
      ),
    ).toBe(true);

    expect(milestones(detached)).toEqual(milestones(foreground));
    expect(await listenerWeights(world)).toEqual({ "web-test-v003": 100, "web-test-v002": 0 });
    expect(await readRecord(world.clients, world.config.state as never, SERVICE)).toBeUndefined();
    expect(await readLastChange(world.clients, world.config.state as never, SERVICE)).toMatchObject(
      {
        before: { name: "web-test-v002" },
        after: { name: "web-test-v003" },
      },
    );
  }, 120_000);

  it("leaves a swap a live process drives alone, then finishes a pass killed mid-way", async () => {
    // a swap this process drives: a pass sees it held
    const driven = world.yard.deploy(SERVICE, { release: "r4", steps: [100], bakeMs: 1500 });
    await new Promise((r) => setTimeout(r, 300));
    const held = await world.yard.reconcile({ services: [SERVICE] }).result;
    expect(held.services[0]).toMatchObject({ outcome: "held" });
    expect((await driven.result).ok).toBe(true);

    // a detached swap back to r3; its first pass is killed right after its first action
    const written = await world.yard.deploy(SERVICE, {
      release: "r3",
      steps: [50, 100],
      bakeMs: 300,
      detach: true,
    }).result;
    expect(written.outcome).toBe("in-flight");
    expect((await passAndKill()).killed).toBe(true);
    // the killed pass's pid is gone: the next pass takes the swap and drives it on
    const events: SwitchyardEvent[] = [];
    const reports = await passUntilDone(events);
    expect(reports.at(-1)?.services[0]?.outcome).toBe("completed");
    expect(await listenerWeights(world)).toEqual({ "web-test-v005": 100, "web-test-v004": 0 });
    expect(await readRecord(world.clients, world.config.state as never, SERVICE)).toBeUndefined();
  }, 120_000);

  it("reconcile-lambda: scheduled invocations drive a detached swap to its end", async () => {
    const logged: string[] = [];
    const handler = createHandler({
      config: world.config,
      clients: world.clients,
      log: (line) => logged.push(line),
    });
    const written = await world.yard.deploy(SERVICE, {
      release: "r2",
      steps: [100],
      bakeMs: 200,
      detach: true,
    }).result;
    expect(written.outcome).toBe("in-flight");
    const context = { getRemainingTimeInMillis: () => 60_000 };
    let outcome: string | undefined;
    for (let i = 0; i < 200 && outcome !== "completed"; i++) {
      const report = await handler({ services: [SERVICE] }, context);
      outcome = report.services[0]?.outcome;
      await new Promise((r) => setTimeout(r, PASS_EVERY_MS));
    }
    expect(outcome).toBe("completed");
    expect(await listenerWeights(world)).toEqual({ "web-test-v006": 100, "web-test-v005": 0 });
    // every pass logged its events and its report as JSON lines (CloudWatch Logs)
    const reports = logged
      .map((l) => JSON.parse(l) as { type: string })
      .filter((l) => l.type === "reconcile.report");
    expect(reports.length).toBeGreaterThan(1);
    expect(logged.some((l) => l.includes('"type":"swap.completed"'))).toBe(true);
  }, 120_000);

  it("promote and abort of a detached swap are written for the next pass to apply", async () => {
    await world.yard.deploy(SERVICE, {
      release: "r3",
      steps: [50, 100],
      bakeMs: 600_000,
      detach: true,
    }).result;
    // passes until the first step bakes (for ten minutes)
    let waiting = "";
    for (let i = 0; i < 200 && !waiting.includes("baking at 50%"); i++) {
      const report = await world.yard.reconcile({ services: [SERVICE] }).result;
      const entry = report.services[0];
      waiting = entry && "waiting" in entry ? (entry.waiting ?? "") : "";
      await new Promise((r) => setTimeout(r, PASS_EVERY_MS));
    }
    expect(waiting).toContain("baking at 50%");
    const promoted = await world.yard.promote(SERVICE).result;
    expect(promoted).toMatchObject({ appliedBy: "driver", detached: true });
    expect(promoted.result).toBeUndefined();
    const next = await world.yard.reconcile({ services: [SERVICE] }).result;
    expect(next.services[0]).toMatchObject({
      outcome: "advanced",
      waiting: expect.stringContaining("baking at 100%"),
    });
    const aborted = await world.yard.abort(SERVICE).result;
    expect(aborted).toMatchObject({ appliedBy: "driver", detached: true });
    const reports = await passUntilDone([]);
    expect(reports.at(-1)?.services[0]).toMatchObject({ outcome: "rolled-back" });
    expect(await listenerWeights(world)).toEqual({ "web-test-v006": 100, "web-test-v005": 0 });
  }, 120_000);
});
