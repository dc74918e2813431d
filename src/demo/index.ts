/**
 * The demo: an in-process sandbox, the sample app's releases r1 and r2, a first deploy of r1,
 * steady traffic through the load balancer, a swap to r2 at 5/25/50/100% with the live split
 * printed per step, then a rollback, a swap to a flaky release that the judge catches at its
 * first step and rolls back by itself, a retire run showing what the policy keeps, and a summary.
 * No AWS account; under a minute.
 */
import { putObject } from "../aws/bootstrap.js";
import { createClients } from "../aws/clients.js";
import { formatDuration } from "../core/duration.js";
import type { SwitchyardEvent } from "../core/events.js";
import { startSandbox } from "../sandbox/index.js";
import { createSwitchyard, type Operation } from "../switchyard.js";
import { bootstrapService } from "./bootstrap.js";
import { startTraffic, type TrafficBucket } from "./traffic.js";

export interface DemoOptions {
  /** where the demo prints */
  out: { write(text: string): unknown };
  /** sandbox time scale (default 0.02: fifty times faster than AWS) */
  timeScale?: number;
  /** bake at each step of the swap, ms (default 3000) */
  bakeMs?: number;
  /** how often the swap observes the sandbox, ms (default 100) */
  pollIntervalMs?: number;
  /** traffic: concurrent clients (default 4) and requests per second in all (default 100) */
  clients?: number;
  requestsPerSecond?: number;
  /** the flaky release's swap: requests per second (default 250) and its bake, ms (default 5000) */
  flakyRequestsPerSecond?: number;
  flakyBakeMs?: number;
  /** print every event, not only milestones */
  verbose?: boolean;
  /** stops the demo early (Ctrl-C); the sandbox is stopped either way */
  signal?: AbortSignal;
}

export interface DemoStep {
  label: string;
  /** percent on green the library set for this step (undefined outside the swap) */
  weight?: number;
  requests: number;
  failures: number;
  /** responses by the release version that served them */
  versions: Record<string, number>;
}

/** The demo's retire step: a real run with the service's policy, then a dry run with keep 0. */
export interface DemoRetire {
  /** what the real run (keep 1, minAge 1h) kept */
  kept: string[];
  /** what it deleted (nothing, right after a swap: the standby is young and within keep) */
  deleted: string[];
  /** what a dry run with keep 0 and minAge 0 would delete */
  wouldDelete: string[];
}

/** The flaky release's swap: caught by the judge at its first step, rolled back by itself. */
export interface DemoFlaky {
  /** rolled back by the judge (ANALYSIS_FAILED) */
  caught: boolean;
  code: string | null;
  /** the judge's sentence at the step it failed */
  verdict: string | null;
  /** requests during that swap, and how many failed */
  requests: number;
  failures: number;
}

export interface DemoSummary {
  ok: boolean;
  requests: number;
  failures: number;
  steps: DemoStep[];
  durations: { firstDeployMs: number; swapMs: number; rollbackMs: number; totalMs: number };
  live: string | null;
  /** null when the demo stopped before its retire step */
  retire: DemoRetire | null;
  /** null when the demo stopped before the flaky release */
  flaky: DemoFlaky | null;
}

export const DEMO_SERVICE = "web/demo";
const RELEASES = ["r1", "r2"] as const;
/** the release that fails 5 % of requests, for the judge to catch */
const FLAKY = { version: "r3", variant: "flaky", failRate: 0.05 } as const;

function percent(n: number, of: number): string {
  return of === 0 ? "0%" : `${((100 * n) / of).toFixed(1).replace(/\.0$/, "")}%`;
}

/** `r1 95% · r2 5%` */
function split(bucket: TrafficBucket): string {
  const served = Object.values(bucket.versions).reduce((a, b) => a + b, 0);
  const parts = Object.keys(bucket.versions)
    .sort()
    .map((v) => `${v} ${percent(bucket.versions[v] ?? 0, served)}`);
  return parts.length ? parts.join(" · ") : "no answers";
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

async function loadSampleApp(): Promise<{
  buildSampleRelease(o: {
    version: string;
    variant?: "healthy" | "flaky";
    failRate?: number;
  }): Promise<Buffer>;
}> {
  // the sample app lives in examples/ (TypeScript, outside the compiled sources): load it with jiti
  const { createJiti } = await import("jiti");
  const jiti = createJiti(import.meta.url);
  const path = new URL("../../examples/sample-app/release.ts", import.meta.url);
  return jiti.import(path.pathname);
}

/** Runs the demo end to end; resolves with what happened. Never leaves a process behind. */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const { out } = options;
  const say = (line = "") => out.write(`${line}\n`);
  const started = Date.now();
  const bakeMs = options.bakeMs ?? 3000;
  const { describeEvent, formatElapsed } = await import("../cli/render.js");

  say(
    "switchyard demo: a local sandbox, the sample app, a blue/green swap under live traffic, a rollback, retire",
  );
  say();
  const sandbox = await startSandbox({ port: 0, timeScale: options.timeScale ?? 0.02 });
  const clients = createClients({ endpoint: sandbox.endpoint, region: sandbox.region });
  let traffic: ReturnType<typeof startTraffic> | undefined;
  const onAbort = () => traffic?.stop();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    say(
      `▸ sandbox on ${sandbox.endpoint} (region ${sandbox.region}, timers × ${sandbox.clock.timeScale})`,
    );
    const boot = await bootstrapService({
      clients,
      service: DEMO_SERVICE,
      timing: { timeScale: sandbox.clock.timeScale },
    });
    const service = boot.config.services[DEMO_SERVICE]!;
    const { buildSampleRelease } = await loadSampleApp();
    for (const version of RELEASES) {
      await putObject(clients, {
        bucket: boot.bucket,
        key: `web/demo/${version}.tar.gz`,
        body: await buildSampleRelease({ version }),
        contentType: "application/gzip",
      });
    }
    await putObject(clients, {
      bucket: boot.bucket,
      key: `web/demo/${FLAKY.version}.tar.gz`,
      body: await buildSampleRelease(FLAKY),
      contentType: "application/gzip",
    });
    say(
      `▸ releases ${RELEASES.join(", ")} and ${FLAKY.version} (flaky: fails ${FLAKY.failRate * 100}% of requests) built from examples/sample-app and uploaded to ${service.releases}`,
    );
    const listeners = (await (
      await fetch(`${sandbox.endpoint}/_sandbox/listeners`)
    ).json()) as Array<{
      listenerArn: string;
      url: string | null;
    }>;
    const url = listeners.find((l) => l.listenerArn === boot.listenerArn)?.url;
    if (!url) throw new Error(`the sandbox serves no URL for listener ${boot.listenerArn}`);
    say(
      `▸ load balancer ${boot.loadBalancerName}, listener ${url} (a fixed 503 until the first deploy)`,
    );

    const yard = createSwitchyard({
      config: {
        ...boot.config,
        services: {
          [DEMO_SERVICE]: {
            ...service,
            bake: bakeMs / 1000,
            stickiness: false,
            steps: [5, 25, 50, 100],
          },
        },
      },
      clients,
      pollIntervalMs: options.pollIntervalMs ?? 100,
      heartbeatMs: 2_000,
    });

    const timeline = {};
    const show = (event: SwitchyardEvent) => {
      const line = describeEvent(event, timeline);
      if (line.verbose && !options.verbose) return;
      if (
        !options.verbose &&
        (line.kind === "action" || line.kind === "wait" || line.kind === "info")
      )
        return;
      const mark = line.kind === "fail" ? "✖" : line.kind === "warn" ? "⚠" : "✔";
      say(`  ${mark} ${line.text}`);
    };
    const follow = async <T>(operation: Operation<T>, onEvent?: (e: SwitchyardEvent) => void) => {
      for await (const event of operation.events) {
        onEvent?.(event);
        show(event);
        if (options.signal?.aborted) break;
      }
      return operation.result;
    };
    const aborted = () => options.signal?.aborted === true;

    // 1. the first deploy
    say();
    say("1. first deploy of r1 (no blue yet: the listener points at green once it is healthy)");
    const first = await follow(
      yard.deploy(DEMO_SERVICE, { release: "r1", signal: options.signal }),
    );
    if (!first.ok) throw first.error ?? new Error("the first deploy did not complete");
    const firstDeployMs = first.durationMs;

    // 2. traffic
    const workers = options.clients ?? 4;
    const rate = options.requestsPerSecond ?? 100;
    say();
    say(`2. steady traffic: ${workers} clients, ${rate} requests/s in all, through ${url}`);
    traffic = startTraffic({ url, workers, requestsPerSecond: rate, label: "before the swap" });
    const firstTraffic = traffic;
    await new Promise((r) => setTimeout(r, 1000));
    const report = (bucket: TrafficBucket | undefined) => {
      if (!bucket) return;
      const failures = bucket.failures ? `, ${bucket.failures} failed` : "";
      say(
        `     ${bucket.label.padEnd(22)} ${split(bucket)}  (${bucket.requests} requests${failures})`,
      );
    };
    report(traffic.mark("launching green"));

    // 3. the swap
    say();
    say(`3. swap to r2 at 5% → 25% → 50% → 100%, baking ${seconds(bakeMs)} at each step`);
    const swap = aborted()
      ? undefined
      : await follow(
          yard.deploy(DEMO_SERVICE, { release: "r2", signal: options.signal }),
          (event) => {
            if (event.type === "step.shifted") {
              traffic?.mark(`step ${event.step}/${event.of} (${event.weight}% r2)`, event.weight);
            } else if (event.type === "step.baked") {
              report(traffic?.current());
            } else if (event.type === "swap.completed" || event.type === "swap.rolled-back") {
              traffic?.mark("after the swap");
            }
          },
        );
    const swapMs = swap?.durationMs ?? 0;
    if (swap && !swap.ok)
      say(`  ✖ the swap did not complete: ${swap.error?.message ?? "rolled back"}`);
    await new Promise((r) => setTimeout(r, aborted() ? 0 : 1000));
    report(traffic.mark("after the rollback"));

    // 4. the rollback
    say();
    say("4. rollback: the standby (r1) back to 100% in one listener change");
    let rollbackMs = 0;
    let live: string | null = swap?.live ?? first.live;
    if (!aborted() && swap?.ok) {
      const back = await follow(yard.rollback(DEMO_SERVICE, { signal: options.signal }));
      rollbackMs = back.durationMs;
      live = back.live;
      await new Promise((r) => setTimeout(r, 1000));
    }
    report(traffic.mark("done"));
    await traffic.stop();

    // 5. a flaky release, judged against blue
    let flaky: DemoFlaky | null = null;
    if (!aborted() && rollbackMs > 0) {
      const flakyRate = options.flakyRequestsPerSecond ?? 250;
      const flakyBakeMs = options.flakyBakeMs ?? 5000;
      say();
      say(
        `5. swap to ${FLAKY.version}, which fails ${FLAKY.failRate * 100}% of requests, with the judge on: green against blue on the load balancer's metrics`,
      );
      say(
        `     ${flakyRate} requests/s; bake ${seconds(flakyBakeMs)}, then the judge reads CloudWatch's metrics once published (a period is ${seconds(60_000 * sandbox.clock.timeScale)} here)`,
      );
      const judged = createSwitchyard({
        config: {
          ...boot.config,
          services: {
            [DEMO_SERVICE]: {
              ...service,
              bake: flakyBakeMs / 1000,
              stickiness: false,
              steps: [5, 25, 50, 100],
              // a demo's traffic is small: a verdict from 100 requests a side (green's 5% of
              // 250/s over the bake and a period), the bake extended while there are fewer
              analysis: { errorRate: { maxIncrease: "1%" }, minRequests: 100, maxExtension: "20s" },
            },
          },
        },
        clients,
        pollIntervalMs: options.pollIntervalMs ?? 100,
        heartbeatMs: 2_000,
      });
      traffic = startTraffic({
        url,
        workers,
        requestsPerSecond: flakyRate,
        label: `before ${FLAKY.version}`,
      });
      let verdict: string | null = null;
      const result = await follow(
        judged.deploy(DEMO_SERVICE, { release: FLAKY.version, signal: options.signal }),
        (event) => {
          if (event.type === "step.shifted") {
            traffic?.mark(`${FLAKY.version} at ${event.weight}%`);
          } else if (event.type === "gate.verdict" && event.gate === "judge") {
            verdict = event.sentence;
          } else if (event.type === "rollback.started") {
            report(traffic?.mark(`${FLAKY.version} rolled back`));
          }
        },
      );
      await new Promise((r) => setTimeout(r, 500));
      report(traffic.mark("done"));
      await traffic.stop();
      judged.close();
      // from green's first step until the rollback's listener change had spread
      const during = traffic.buckets().filter((b) => b.label.startsWith(`${FLAKY.version} `));
      flaky = {
        caught: !result.ok && result.error?.code === "ANALYSIS_FAILED",
        code: result.error?.code ?? null,
        verdict,
        requests: during.reduce((n, b) => n + b.requests, 0),
        failures: during.reduce((n, b) => n + b.failures, 0),
      };
    }

    // 6. retire
    let retired: DemoRetire | null = null;
    if (!aborted() && rollbackMs > 0) {
      say();
      const policy = yard.config.services[DEMO_SERVICE]!.retire;
      say(
        `6. retire: delete the standby groups the policy no longer keeps (keep ${policy.keep}, minAge ${formatDuration(policy.minAge)})`,
      );
      const real = await yard.retire({ services: [DEMO_SERVICE], signal: options.signal });
      say(`  $ switchyard retire ${DEMO_SERVICE}`);
      for (const name of real.deleted) say(`  ✔ deleted ${name}`);
      say(
        `  ✔ kept ${real.kept.join(", ") || "nothing"}${real.deleted.length ? "" : "; nothing to retire"}`,
      );
      const dry = await yard.retire({
        services: [DEMO_SERVICE],
        keep: 0,
        minAge: 0,
        dryRun: true,
        signal: options.signal,
      });
      say(`  $ switchyard retire ${DEMO_SERVICE} --keep 0 --min-age 0 --dry-run`);
      for (const name of dry.deleted) say(`  ✔ would delete ${name} (giving up instant rollback)`);
      say(`  ✔ would keep ${dry.kept.join(", ") || "nothing"}; dry run: nothing was deleted`);
      retired = { kept: real.kept, deleted: real.deleted, wouldDelete: dry.deleted };
    }
    yard.close();

    // 7. the summary
    const buckets = [
      ...firstTraffic.buckets(),
      ...(traffic === firstTraffic ? [] : traffic.buckets()),
    ].filter((b) => b.requests > 0);
    const requests = buckets.reduce((n, b) => n + b.requests, 0);
    const failures = buckets.reduce((n, b) => n + b.failures, 0);
    const totalMs = Date.now() - started;
    say();
    say("summary");
    say(`  requests   ${requests}, failed ${failures} (${percent(failures, requests)})`);
    if (flaky) {
      say(
        `  flaky ${FLAKY.version}   ${flaky.caught ? "caught by the judge at 5% and rolled back by itself" : `not caught (${flaky.code ?? "completed"})`}: ${flaky.failures} of ${flaky.requests} requests failed while it served`,
      );
    }
    say(
      `  durations  first deploy ${formatElapsed(firstDeployMs)}, swap ${formatElapsed(swapMs)}, rollback ${formatElapsed(rollbackMs)}, demo ${formatElapsed(totalMs)}`,
    );
    say("  served by release, per phase:");
    for (const b of buckets) say(`    ${b.label.padEnd(22)} ${split(b)}  (${b.requests} requests)`);
    say(`  live now   ${live ?? "nothing"}`);
    const ok =
      !aborted() &&
      swap?.ok === true &&
      rollbackMs > 0 &&
      flaky?.caught === true &&
      retired !== null;
    say();
    say(
      ok
        ? "That was a blue/green swap, a rollback, a bad release caught by the judge, and retire on a local cloud. Next: `switchyard sandbox`, then `switchyard sandbox bootstrap web/dev`."
        : "The demo stopped early.",
    );
    return {
      ok,
      requests,
      failures,
      steps: buckets.map((b) => ({
        label: b.label,
        ...(b.weight === undefined ? {} : { weight: b.weight }),
        requests: b.requests,
        failures: b.failures,
        versions: { ...b.versions },
      })),
      durations: { firstDeployMs, swapMs, rollbackMs, totalMs },
      live,
      retire: retired,
      flaky,
    };
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await traffic?.stop();
    clients.destroy();
    await sandbox.stop();
  }
}
