/**
 * Benchmarks of the swap engine against the sandbox: overhead over the ideal swap time,
 * detection latency, API calls per swap by operation, sequential AWS round trips on the
 * critical path of rollback, status and plan, rollback latency through the CLI, and how fast a
 * driving process sees control requests and a lost lock.
 * Every figure is the median of several runs; results go to docs/benchmarks.md.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { isSwitchyardError } from "../../src/core/errors.js";
import type { SwitchyardEvent } from "../../src/core/events.js";
import { createSwitchyard } from "../../src/switchyard.js";
import { SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";
import { judgeBenchmark } from "./judge.js";

const POLL_MS = 100;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** The q-quantile (nearest rank) of xs. */
const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

function greenHealthyAt(world: SwapWorld, group: string): number {
  for (const tg of world.sandbox.context.state.targetGroups.values()) {
    if (tg.name !== group) continue;
    return Math.max(...[...tg.targets.values()].map((t) => t.stateSince ?? 0));
  }
  throw new Error(`no target group ${group}`);
}

interface SwapRun {
  wallMs: number;
  idealMs: number;
  detectMs: number;
  calls: Map<string, number>;
}

/** One swap r1→r2 (after a first deploy) measured against the sandbox's own timings. */
async function measuredSwap(
  world: SwapWorld,
  release: string,
  steps: number[],
  bakeMs: number,
): Promise<SwapRun> {
  const before = new Map(world.clients.calls);
  const from = world.events.length;
  const start = Date.now();
  const result = await world.yard.deploy(SERVICE, { release, steps, bakeMs }).result;
  const wallMs = Date.now() - start;
  if (!result.ok) throw new Error(`swap failed: ${result.error?.message}`);
  const group = result.live!;
  const healthyAt = greenHealthyAt(world, group);
  const detected = world.events.slice(from).find((e) => e.type === "green.healthy");
  const calls = new Map<string, number>();
  for (const [op, n] of world.clients.calls) {
    const d = n - (before.get(op) ?? 0);
    if (d > 0) calls.set(op, d);
  }
  return {
    wallMs,
    idealMs: healthyAt - start + bakeMs * steps.length,
    detectMs: (detected?.at ?? Number.NaN) - healthyAt,
    calls,
  };
}

async function overheadAndDetection(lines: string[]) {
  const bakeMs = 3_000;
  const steps = [5, 25, 50, 100];
  const world = await swapWorld({ pollIntervalMs: POLL_MS });
  try {
    await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 100 }).result;
    const runs: SwapRun[] = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(await measuredSwap(world, i % 2 ? "r1" : "r2", steps, bakeMs));
      process.stderr.write(".");
    }
    const overhead = runs.map((r) => ((r.wallMs - r.idealMs) / r.idealMs) * 100);
    const overheadMs = runs.map((r) => r.wallMs - r.idealMs);
    lines.push(
      "## Swap overhead",
      "",
      `A swap r1 → r2 at ${steps.join("/")}% with a ${bakeMs / 1000} s bake per step, ${RUNS} runs, poll interval ${POLL_MS} ms.`,
      "The ideal is the time green took to become healthy as the sandbox saw it (its last target's",
      "move to `healthy`) plus the sum of the bakes; the overhead is everything else: observing,",
      "deciding, every AWS change, reading the listener back, finalizing and releasing the lock.",
      "",
      "| figure | median | runs |",
      "| --- | --- | --- |",
      `| wall time | ${round(median(runs.map((r) => r.wallMs)))} ms | ${runs.map((r) => r.wallMs).join(", ")} |`,
      `| ideal | ${round(median(runs.map((r) => r.idealMs)))} ms | ${runs.map((r) => r.idealMs).join(", ")} |`,
      `| overhead | ${round(median(overheadMs))} ms (${round(median(overhead), 2)} %) | ${overhead.map((x) => `${round(x, 2)} %`).join(", ")} |`,
      "",
      "Target: ≤ 2 % over the ideal. The overhead is a fixed cost (a few dozen AWS calls on",
      "loopback) and does not grow with the bake, so with production bakes of minutes it is far",
      "below 1 %.",
      "",
      "## Detection",
      "",
      `From green's last target turning healthy (sandbox timestamp) to switchyard acting on it (the`,
      "`green.healthy` event that starts the shift), and from a gate starting to fail to the",
      `rollback's listener change. Poll interval ${POLL_MS} ms.`,
      "",
      "| figure | median | runs |",
      "| --- | --- | --- |",
      `| healthy → acting | ${round(median(runs.map((r) => r.detectMs)))} ms | ${runs.map((r) => r.detectMs).join(", ")} |`,
    );
    // a gate that starts failing half-way through the 25% bake
    const gateRuns: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let failingSince = 0;
      let shiftedAt = 0;
      const from = world.events.length;
      const result = await world.yard.deploy(SERVICE, {
        release: i % 2 ? "r2" : "r1",
        steps: [25, 100],
        bakeMs: 2_000,
        gates: [
          {
            name: "bench",
            check: async () => {
              shiftedAt ||= Date.now();
              if (Date.now() - shiftedAt < 700) return true;
              failingSince ||= shiftedAt + 700;
              return false;
            },
          },
        ],
      }).result;
      if (result.ok) throw new Error("the gate benchmark's swap should have rolled back");
      const acted = world.events
        .slice(from)
        .find((e) => e.type === "action" && e.description.startsWith("rollback:"));
      gateRuns.push((acted?.at ?? Number.NaN) - failingSince);
      process.stderr.write(".");
    }
    lines.push(
      `| gate failing → rollback change | ${round(median(gateRuns))} ms | ${gateRuns.join(", ")} |`,
      "",
      `Target: ≤ one poll interval (${POLL_MS} ms).`,
      "",
    );
  } finally {
    await world.stop();
  }
}

async function callsPerSwap(lines: string[]) {
  const table: Array<{
    steps: number[];
    desired: number;
    bakeMs: number;
    wallMs: number;
    calls: Map<string, number>;
  }> = [];
  for (const desired of [2, 6]) {
    const world = await swapWorld({ pollIntervalMs: POLL_MS, desired });
    try {
      await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 100 }).result;
      let release = "r2";
      for (const [steps, bakeMs] of [
        [[100], 1_000],
        [[50, 100], 1_000],
        [[5, 25, 50, 100], 1_000],
        [[5, 25, 50, 100], 2_000],
      ] as Array<[number[], number]>) {
        const run = await measuredSwap(world, release, steps, bakeMs);
        table.push({ steps, desired, bakeMs, wallMs: run.wallMs, calls: run.calls });
        release = release === "r2" ? "r1" : "r2";
        process.stderr.write(".");
      }
    } finally {
      await world.stop();
    }
  }
  const ops = [...new Set(table.flatMap((t) => [...t.calls.keys()]))].sort();
  const mutating = (op: string) =>
    /:(Create|Delete|Modify|Put|Update|Suspend|Resume|Set|Add)/.test(op);
  const sum = (calls: Map<string, number>, pick: (op: string) => boolean) =>
    [...calls].filter(([op]) => pick(op)).reduce((a, [, n]) => a + n, 0);
  lines.push(
    "## API calls per swap",
    "",
    `Calls by operation for one swap (after a first deploy), by steps, bake and instances per group,`,
    `poll interval ${POLL_MS} ms. Mutating calls depend on the number of steps only; describe calls`,
    "on the elapsed time (polls) only; neither on the number of instances. While a step bakes a",
    "poll is three describe calls (listener, managed groups, green's target health) and one read",
    "of the swap record (control requests, a lost lock); preflight and the wait for green add a",
    "fixed few, so the rate per second falls as bakes get longer. The swap record's writes are the",
    "changes' cursor updates and a heartbeat every 500 ms (here; 15 s by default). With the",
    "default 5 s poll interval a swap spends under one ELBv2 describe call per second of the",
    "account's shared budget.",
    "",
    `| operation | ${table.map((t) => `${t.steps.length} step${t.steps.length > 1 ? "s" : ""}, ${t.bakeMs / 1000} s, ${t.desired} inst.`).join(" | ")} |`,
    `| --- | ${table.map(() => "---").join(" | ")} |`,
    ...ops.map((op) => `| ${op} | ${table.map((t) => t.calls.get(op) ?? 0).join(" | ")} |`),
    `| **mutating (AWS)** | ${table.map((t) => sum(t.calls, (op) => mutating(op) && !op.startsWith("s3:"))).join(" | ")} |`,
    `| **describe (AWS)** | ${table.map((t) => sum(t.calls, (op) => !mutating(op) && !op.startsWith("s3:"))).join(" | ")} |`,
    `| **S3 (swap record)** | ${table.map((t) => sum(t.calls, (op) => op.startsWith("s3:"))).join(" | ")} |`,
    `| swap wall time | ${table.map((t) => `${round(t.wallMs / 1000, 1)} s`).join(" | ")} |`,
    `| **describe per second** | ${table.map((t) => round(sum(t.calls, (op) => !mutating(op) && !op.startsWith("s3:")) / (t.wallMs / 1000), 1)).join(" | ")} |`,
    "",
  );
}

/** Added latency per sandbox call for the round-trip benchmarks (real milliseconds). */
const LATENCY_MS = 100;
/** The sandbox's listener propagation delay: 5 AWS seconds × time scale 0.01. */
const PROPAGATION_MS = 5 * 0.01 * 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function callsSince(world: SwapWorld, before: Map<string, number>): number {
  let n = 0;
  for (const [op, count] of world.clients.calls) n += count - (before.get(op) ?? 0);
  return n;
}

/** The first event from index `from` on that matches, once it has been emitted. */
async function nextEvent<T extends SwitchyardEvent["type"]>(
  world: SwapWorld,
  from: number,
  type: T,
  match: (e: Extract<SwitchyardEvent, { type: T }>) => boolean = () => true,
  timeoutMs = 60_000,
): Promise<Extract<SwitchyardEvent, { type: T }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = world.events
      .slice(from)
      .find(
        (e): e is Extract<SwitchyardEvent, { type: T }> => e.type === type && match(e as never),
      );
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${type} event within ${timeoutMs} ms`);
    await sleep(2);
  }
}

interface Timed {
  ms: number;
  calls: number;
  /** rollback only: from the call to the decision to move traffic (the `setTraffic` event) */
  decidedMs?: number;
  /** rollback only: from the call until its result (bookkeeping done, lock released) */
  endMs?: number;
  endCalls?: number;
}

/**
 * Runs `measure` 2 × RUNS times, alternating without and with LATENCY_MS added to every sandbox
 * call (`measure` turns the latency on for the operation it times, and off after it).
 */
async function alternating(
  world: SwapWorld,
  measure: (latency: boolean) => Promise<Timed>,
): Promise<{ without: Timed[]; with: Timed[] }> {
  const out = { without: [] as Timed[], with: [] as Timed[] };
  for (let i = 0; i < 2 * RUNS; i++) {
    const latency = i % 2 === 1;
    (latency ? out.with : out.without).push(await measure(latency));
    world.sandbox.faults.clear();
    process.stderr.write(".");
  }
  return out;
}

/** Rollback to the standby, timed from the call until the sandbox applies its listener change. */
async function timedRollback(world: SwapWorld, latency: boolean): Promise<Timed> {
  const runtime = world.sandbox.context.runtime;
  const original = runtime.listenerChanged;
  let changedAt = 0;
  let callsAtChange = 0;
  const before = new Map(world.clients.calls);
  // the ModifyListener handler tells the runtime right after changing the listener's action:
  // the moment traffic moves in the sandbox (after the call's injected latency)
  runtime.listenerChanged = (listener) => {
    if (!changedAt) {
      changedAt = performance.now();
      callsAtChange = callsSince(world, before);
    }
    original.call(runtime, listener);
  };
  const from = world.events.length;
  try {
    if (latency) world.sandbox.faults.set([{ latencyMs: LATENCY_MS }]);
    const started = performance.now();
    const startedWall = Date.now();
    await world.yard.rollback(SERVICE).result;
    const endMs = performance.now() - started;
    const actions = world.events.slice(from).filter((e) => e.type === "action");
    if (!changedAt || actions[0]?.action !== "setTraffic") {
      throw new Error(`the rollback's first change was ${actions[0]?.action}, not setTraffic`);
    }
    return {
      ms: changedAt - started,
      calls: callsAtChange,
      decidedMs: actions[0].at - startedWall,
      endMs,
      endCalls: callsSince(world, before),
    };
  } finally {
    runtime.listenerChanged = original;
    world.sandbox.faults.clear();
  }
}

async function timedCall(
  world: SwapWorld,
  latency: boolean,
  work: () => Promise<unknown>,
): Promise<Timed> {
  const before = new Map(world.clients.calls);
  if (latency) world.sandbox.faults.set([{ latencyMs: LATENCY_MS }]);
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  world.sandbox.faults.clear();
  return { ms, calls: callsSince(world, before) };
}

async function roundTrips(lines: string[]) {
  const world = await swapWorld({ pollIntervalMs: POLL_MS });
  const rows: string[] = [];
  const row = (
    figure: string,
    runs: { without: Timed[]; with: Timed[] },
    target: number | undefined,
    pick: (t: Timed) => number = (t) => t.ms,
    calls: (t: Timed) => number | undefined = (t) => t.calls,
  ) => {
    const a = median(runs.without.map(pick));
    const b = median(runs.with.map(pick));
    const trips = (b - a) / LATENCY_MS;
    const n =
      calls(runs.without[0]!) === undefined ? "" : median(runs.without.map((t) => calls(t)!));
    // a quarter of a round trip is left for the noise of two medians of a few runs
    const verdict = target === undefined ? "" : trips <= target + 0.25 ? "met" : "missed";
    rows.push(
      `| ${figure} | ${round(a)} ms | ${round(b)} ms | **${round(trips, 1)}** | ${n} | ${target === undefined ? "–" : `≤ ${target}`} | ${verdict} |`,
    );
  };
  try {
    await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 100 }).result;
    await world.yard.deploy(SERVICE, { release: "r2", bakeMs: 100 }).result;
    // warm-up: each operation's modules loaded and its connections open before timing
    await world.yard.rollback(SERVICE).result;
    await world.yard.rollback(SERVICE).result;
    await world.yard.status(SERVICE);
    await world.yard.plan(SERVICE, { release: "r2" });

    const rollbacks = await alternating(world, async (latency) => {
      const t = await timedRollback(world, latency);
      // roll forward again (no latency), so each run starts from r2 live and r1 on standby
      await world.yard.rollback(SERVICE).result;
      return t;
    });
    row("rollback, until traffic moves", rollbacks, 2);
    row(
      "… until it decides to move traffic (the `setTraffic` event)",
      rollbacks,
      undefined,
      (t) => t.decidedMs ?? Number.NaN,
      () => undefined,
    );
    row(
      "… until it ends (bookkeeping done, lock released)",
      rollbacks,
      undefined,
      (t) => t.endMs ?? Number.NaN,
      (t) => t.endCalls,
    );
    row(
      "status of one service",
      await alternating(world, (latency) =>
        timedCall(world, latency, () => world.yard.status(SERVICE)),
      ),
      2,
    );
    row(
      "deploy preflight (`plan`)",
      await alternating(world, (latency) =>
        timedCall(world, latency, () => world.yard.plan(SERVICE, { release: "r2" })),
      ),
      4,
    );
  } finally {
    await world.stop();
  }
  lines.push(
    "## Sequential round trips",
    "",
    `How many AWS round trips an operation waits for one after the other: the sandbox adds`,
    `${LATENCY_MS} ms to every call (a fault rule with only \`latencyMs\`) in every other run, and`,
    `round trips = (median with latency − median without) / ${LATENCY_MS} ms. ${RUNS} + ${RUNS} runs,`,
    "alternating. Calls run at once count once; a call's latency is added before the sandbox",
    "carries it out, so a change counts as one round trip by the time it has taken effect.",
    "",
    "- **rollback**: `rollback` after deploys r1 then r2 (the standby healthy and in the listener's",
    "  action), from the call until the sandbox changes the listener's action (its ModifyListener",
    "  handler telling the runtime); each run then rolls forward again without latency.",
    "- **status**: `status(service)`, end to end.",
    "- **plan**: `plan(service, { release })`, the deploy's read-only preflight, end to end.",
    "",
    `| operation | without latency | with ${LATENCY_MS} ms | round trips | calls | target | |`,
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    "Targets: a rollback moves traffic after one batch of reads (the lock, the listener, the",
    "groups and the last change at once) and the listener change; status reads the listener,",
    "groups and swap record at once, then every group's target health at once; a preflight",
    "reads everything at once. *calls* is the number of requests up to the measured point",
    "(median of the runs without latency).",
    "",
  );
}

/** ms from spawning `node …args` to its first byte on stderr (or its exit). */
function firstByte(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise<number>((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], env });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve(Math.round(performance.now() - started));
    };
    child.stderr.once("data", finish);
    child.on("exit", finish);
  });
}

/**
 * The first line a deploy prints (what it is checking), from the moment it is spawned: before
 * any AWS call, so the same on a sandbox as on AWS. Beside it, a bare Node start.
 */
async function firstLine(lines: string[]) {
  const world = await swapWorld({ pollIntervalMs: POLL_MS });
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-"));
  const configFile = join(dir, "switchyard.config.json");
  writeFileSync(configFile, JSON.stringify(world.config, null, 2));
  const main = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
  const env = { ...process.env, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" };
  const deploys: number[] = [];
  const bare: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      deploys.push(
        await firstByte(
          [
            main,
            "deploy",
            SERVICE,
            "--release",
            "r1",
            "--dry-run",
            "--config",
            configFile,
            "--endpoint-url",
            world.sandbox.endpoint,
          ],
          env,
        ),
      );
      bare.push(await firstByte(["-e", "process.stderr.write('x')"], env));
    }
  } finally {
    await world.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  lines.push(
    "## First line of a deploy",
    "",
    "From `switchyard deploy` being spawned (plain output, as on CI) to its first line on stderr,",
    "which says what it is checking: printed before the config and the AWS SDK load. Beside it, a bare",
    "Node start spawned the same way: the difference is switchyard's own start-up.",
    "Target: within 300 ms.",
    "",
    "| measure | median | p90 | runs (ms) |",
    "| --- | --- | --- | --- |",
    `| spawn → first line of \`switchyard deploy\` | ${round(median(deploys))} ms | ${round(quantile(deploys, 0.9))} ms | ${deploys.join(", ")} |`,
    `| spawn → first byte of a bare \`node -e\` | ${round(median(bare))} ms | ${round(quantile(bare, 0.9))} ms | ${bare.join(", ")} |`,
    "",
  );
}

const load = () =>
  loadavg()
    .map((x) => round(x, 2))
    .join(", ");

/** Spawns `node …args` from the checkout; resolves with its exit code once it has exited. */
function node(args: string[]): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, args, {
      stdio: "inherit",
      env: { ...process.env, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" },
    });
    child.on("exit", (c) => resolve(c ?? 1));
  });
}

async function rollbackLatency(lines: string[]) {
  const world = await swapWorld({ pollIntervalMs: POLL_MS });
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-"));
  const configFile = join(dir, "switchyard.config.json");
  writeFileSync(configFile, JSON.stringify(world.config, null, 2));
  const runs: number[] = [];
  const exits: number[] = [];
  const bare: number[] = [];
  const firstCalls: number[] = [];
  // when the CLI's first AWS request reaches the sandbox: its start-up cost before any round trip
  const faults = world.sandbox.faults;
  const apply = faults.apply.bind(faults);
  let firstCall = 0;
  faults.apply = (...args: Parameters<typeof apply>) => {
    firstCall ||= Date.now();
    return apply(...args);
  };
  try {
    await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 100 }).result;
    await world.yard.deploy(SERVICE, { release: "r2", bakeMs: 100 }).result;
    let live = "r2";
    for (let i = 0; i < RUNS; i++) {
      const standby = live === "r2" ? "r1" : "r2";
      const url = world.listenerUrl();
      let firstServed = 0;
      let stop = false;
      // two gentle pollers: enough to see the switch within a few ms, without starving the
      // CLI process being measured of CPU on a small machine; they run during the bare Node
      // start too, so both are measured under the same load
      const pollers = Array.from({ length: 2 }, async () => {
        while (!stop) {
          const res = await fetch(url);
          const body = (await res.json()) as { version?: string };
          if (body.version === standby && !firstServed) firstServed = Date.now();
          await sleep(2);
        }
      });
      // a bare Node start (spawn → exit), before the rollback in even runs, after it in odd ones
      const bareStart = async () => {
        const started = Date.now();
        const code = await node(["-e", "0"]);
        if (code !== 0) throw new Error(`node -e 0 exited ${code}`);
        bare.push(Date.now() - started);
      };
      if (i % 2 === 0) await bareStart();
      firstCall = 0;
      const started = Date.now();
      const code = await node([
        "dist/cli/main.js",
        "rollback",
        SERVICE,
        "--config",
        configFile,
        "--endpoint-url",
        world.sandbox.endpoint,
        "--quiet",
      ]);
      exits.push(Date.now() - started);
      const deadline = Date.now() + 10_000;
      while (!firstServed && Date.now() < deadline) await sleep(5);
      if (i % 2 === 1) await bareStart();
      stop = true;
      await Promise.all(pollers);
      if (code !== 0 || !firstServed) throw new Error(`rollback exited ${code}`);
      runs.push(firstServed - started);
      firstCalls.push(firstCall - started);
      live = standby;
      process.stderr.write(".");
    }
  } finally {
    await world.stop();
  }
  const ratio = (median(runs) - PROPAGATION_MS) / median(bare);
  lines.push(
    "## Rollback",
    "",
    "From `switchyard rollback` being spawned (a new Node process: start-up, config, the reads",
    "and one listener change) to the first request served by the standby through the listener.",
    `Includes the sandbox's listener propagation delay (5 AWS seconds × time scale 0.01 =`,
    `${PROPAGATION_MS} ms). Compared with a bare Node start, \`node -e 0\` spawned the same way`,
    "(spawn → exit), in the same runs under the same load (two processes polling the listener).",
    "",
    "| figure | median | runs |",
    "| --- | --- | --- |",
    `| spawn → first request on standby | ${round(median(runs))} ms | ${runs.join(", ")} |`,
    `| spawn → first AWS request reaches the sandbox | ${round(median(firstCalls))} ms | ${firstCalls.join(", ")} |`,
    `| spawn → exit of \`switchyard rollback\` (its bookkeeping done) | ${round(median(exits))} ms | ${exits.join(", ")} |`,
    `| spawn → exit of \`node -e 0\` | ${round(median(bare))} ms | ${bare.join(", ")} |`,
    `| (first request on standby − propagation) / \`node -e 0\` | **${round(ratio, 1)}×** | |`,
    "",
    `Load average (1, 5, 15 min) after these runs: ${load()}.`,
    "",
    `Targets: ≤ 1.0 s including process start (${median(runs) <= 1000 ? "met" : "missed"}); ≤ 4× a bare`,
    `Node start once the propagation delay is taken off (${ratio <= 4 ? "met" : "missed"}).`,
    "",
  );
}

/** The poll interval of the driving process in the control benchmarks. */
const CONTROL_POLL_MS = 500;

async function controlLatency(lines: string[]) {
  const P = CONTROL_POLL_MS;
  const HEARTBEAT_MS = 3 * P;
  const world = await swapWorld({ pollIntervalMs: P });
  // the driver refreshes its heartbeat every 3 P, the defaults' ratio (5 s poll, 15 s heartbeat);
  // requests come at a random moment of the heartbeat period, so at a random phase of both timers
  // (the next poll's read or heartbeat's write, whichever comes first, sees them)
  const driver = createSwitchyard({
    config: world.config,
    clients: world.clients,
    pollIntervalMs: P,
    heartbeatMs: HEARTBEAT_MS,
    onEvent: (e) => world.events.push(e),
  });
  const steering = world.another();
  const promoteRuns: number[] = [];
  const lostRuns: number[] = [];
  try {
    await driver.deploy(SERVICE, { release: "r1", bakeMs: 100 }).result;
    // promote: one swap with a step per run, each step's bake (10 minutes) ended by a promote
    const steps = Array.from({ length: RUNS }, (_, i) => Math.round(((i + 1) / RUNS) * 100));
    let from = world.events.length;
    const swap = driver.deploy(SERVICE, { release: "r2", steps, bakeMs: 600_000 });
    for (let step = 1; step <= steps.length; step++) {
      await nextEvent(world, from, "step.shifted", (e) => e.step === step);
      await sleep(Math.random() * HEARTBEAT_MS);
      await steering.promote(SERVICE).result;
      const promoted = Date.now();
      const baked = await nextEvent(world, from, "step.baked", (e) => e.step === step);
      promoteRuns.push((baked.at - promoted) / P);
      process.stderr.write(".");
    }
    const result = await swap.result;
    if (!result.ok) throw new Error(`the promoted swap failed: ${result.error?.message}`);

    // the swap record deleted under a swap baking at 100 %: how long until the driver stops
    const recordKey = `${world.config.state.prefix}/${SERVICE}/swap.json`;
    for (let i = 0; i < RUNS; i++) {
      const blue = (await driver.status(SERVICE)).groups.find((g) => g.role === "live");
      if (!blue) throw new Error("no live group");
      from = world.events.length;
      const op = driver.deploy(SERVICE, {
        release: blue.release.endsWith("r2.tar.gz") ? "r1" : "r2",
        steps: [100],
        bakeMs: 600_000,
      });
      await nextEvent(world, from, "step.shifted");
      await sleep(Math.random() * HEARTBEAT_MS);
      await world.clients.s3.send(
        new DeleteObjectCommand({ Bucket: world.config.state.bucket, Key: recordKey }),
      );
      const deleted = Date.now();
      const error = await op.result.then(
        () => undefined,
        (e: unknown) => e,
      );
      const stopped = Date.now();
      if (!isSwitchyardError(error, "LOCK_LOST")) {
        throw new Error(`the swap whose record was deleted ended with ${String(error)}`);
      }
      lostRuns.push((stopped - deleted) / P);
      // put traffic back on blue, and delete the group the stopped swap left behind
      await driver.rollback(SERVICE, { to: blue.name }).result;
      await driver.retire({ keep: 1, minAge: 0 });
      process.stderr.write(".");
    }
  } finally {
    await world.stop();
  }
  const fmt = (xs: number[]) => xs.map((x) => round(x, 2)).join(", ");
  lines.push(
    "## Control requests and a lost lock",
    "",
    "How soon the process driving a swap sees what another process writes into its swap record,",
    `in units of its poll interval P = ${P} ms; the driver's heartbeat is every 3 P (the ratio of`,
    "the defaults, 5 s and 15 s). Each request comes at a random moment of the heartbeat period,",
    "so at a random phase of both timers.",
    "",
    `- **promote**: a swap at ${stepList(RUNS)} with a 10-minute bake per step; at each step a second`,
    "  switchyard on the same sandbox promotes it; from the promote's result to the driver's",
    "  `step.baked`.",
    "- **lost lock**: a swap baking at 100 %; its swap record is deleted (DeleteObject); from the",
    "  delete's answer to the driver's `deploy(…).result` rejecting with LOCK_LOST (each run then",
    "  rolls back to blue and retires the group left behind).",
    "",
    "| figure | median | runs | target | |",
    "| --- | --- | --- | --- | --- |",
    `| promote → step baked | ${round(median(promoteRuns), 2)} P (${round(median(promoteRuns) * P)} ms) | ${fmt(promoteRuns)} | ≤ 1 P | ${median(promoteRuns) <= 1 ? "met" : "missed"} |`,
    `| record deleted → LOCK_LOST | ${round(median(lostRuns), 2)} P (${round(median(lostRuns) * P)} ms) | ${fmt(lostRuns)} | ≤ 1 P | ${median(lostRuns) <= 1 ? "met" : "missed"} |`,
    "",
    "The driver reads its record at every poll and writes it at every heartbeat; whichever comes",
    "first sees a control request (a read, or a write refused with 412 and read back) or the",
    "deleted record (a read or a write answered 404). A promote then costs the write that",
    "answers it before `step.baked`. Worst case one poll plus a few round trips.",
    "",
  );
}

function stepList(n: number): string {
  return `${Array.from({ length: n }, (_, i) => Math.round(((i + 1) / n) * 100)).join("/")}%`;
}

export async function main(args: string[]) {
  const only = new Set(args);
  const want = (name: string) => only.size === 0 || only.has(name);
  const lines = [
    "# Benchmarks",
    "",
    "Produced by `npm run bench` (test/bench/benchmarks.ts) against the in-process sandbox at time",
    `scale 0.01, on ${cpus().length} cores (${cpus()[0]?.model.trim() ?? "unknown cpu"}), Node ${process.version}.`,
    `Each figure is the median of ${RUNS} runs unless the table says otherwise. Do not edit by hand.`,
    "`npm run bench -- <section>…` (overhead, calls, roundtrips, rollback, control, judge, firstline) runs only those",
    "and prints them without writing this file.",
    `Load average (1, 5, 15 min) when the run started: ${load()}; when it ended: see the end.`,
    "Other processes on the machine slow the process-start figures (Rollback) most.",
    "",
  ];
  if (want("overhead")) await overheadAndDetection(lines);
  if (want("calls")) await callsPerSwap(lines);
  if (want("roundtrips")) await roundTrips(lines);
  if (want("rollback")) await rollbackLatency(lines);
  if (want("control")) await controlLatency(lines);
  if (want("judge")) judgeBenchmark(lines);
  if (want("firstline")) await firstLine(lines);
  lines.push(`Load average (1, 5, 15 min) when the run ended: ${load()}.`, "");
  process.stderr.write("\n");
  const text = `${lines.join("\n")}\n`;
  if (only.size === 0) writeFileSync(new URL("../../docs/benchmarks.md", import.meta.url), text);
  process.stdout.write(text);
}
