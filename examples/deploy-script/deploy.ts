/**
 * A team's deploy script: push the build directory as a release, then swap it in with a gate of
 * our own (an error-rate smoke check through the load balancer), printing progress as it goes.
 *
 *   npx jiti examples/deploy-script/deploy.ts --service web/prod --dir ./build --version r42 \
 *     --smoke-url https://web.example.com/health
 *
 * Exit codes follow the CLI's: 0 done, 2 bad input (or the version exists), 3 locked,
 * 4 rolled back (blue is live), 1 anything else.
 *
 * In your own project, import from the package instead:
 *   import { createSwitchyard, loadConfig } from "switchyard";
 */
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  type Clients,
  createSwitchyard,
  exitCodeOf,
  type Gate,
  isSwitchyardError,
  loadConfig,
  type ResolvedConfig,
  type SwitchyardConfig,
  type SwitchyardEvent,
} from "../../src/index.js";

export interface DeployScriptOptions {
  service: string;
  /** the build directory (holding a Procfile), or a ready .tar.gz */
  dir: string;
  version: string;
  /** default: the switchyard.config.* in the working directory */
  config?: ResolvedConfig | SwitchyardConfig;
  /** another AWS endpoint, e.g. the sandbox's */
  endpoint?: string;
  clients?: Clients;
  /** the smoke gate requests this URL at every bake poll; no URL, no smoke gate */
  smokeUrl?: string;
  /** requests per check (default 10) */
  smokeRequests?: number;
  /** share of failed requests the gate tolerates, 0–1 (default 0) */
  maxErrorRate?: number;
  /** a version already pushed is deployed as it is instead of failing */
  allowExisting?: boolean;
  steps?: number[];
  bakeMs?: number;
  pollIntervalMs?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface DeployScriptResult {
  ok: boolean;
  exitCode: number;
  release: string;
  live: string | null;
  standby: string | null;
  error?: { code: string; message: string };
}

/** The custom gate: N requests through the load balancer, at most `maxErrorRate` failing. */
export function smokeGate(url: string, requests = 10, maxErrorRate = 0): Gate {
  return {
    name: `smoke ${url}`,
    async check({ signal }) {
      const failures: string[] = [];
      for (let i = 0; i < requests; i++) {
        try {
          const res = await fetch(url, {
            signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]),
          });
          await res.arrayBuffer();
          if (res.status >= 400) failures.push(String(res.status));
        } catch (error) {
          failures.push(error instanceof Error ? error.name : String(error));
        }
      }
      const rate = failures.length / requests;
      return rate <= maxErrorRate
        ? { ok: true }
        : {
            ok: false,
            message: `${failures.length}/${requests} smoke requests failed (${[...new Set(failures)].join(", ")})`,
          };
    },
  };
}

function describeEvent(e: SwitchyardEvent): string | undefined {
  switch (e.type) {
    case "swap.started":
      return `swap ${e.swapId}: ${e.blue ?? "(first deploy)"} → ${e.green}, steps ${e.steps.join(",")}`;
    case "green.healthy":
      return `${e.group} healthy (${e.healthy}) after ${Math.round(e.elapsedMs / 1000)}s`;
    case "step.shifted":
      return `step ${e.step}/${e.of}: ${e.weight}% on green`;
    case "gate.failed":
      return `gate ${e.gate} failed: ${e.message}`;
    case "swap.completed":
      return `done: ${e.live} live, ${e.standby ?? "no"} standby`;
    case "swap.rolled-back":
      return `rolled back (${e.code}): ${e.reason}`;
    case "warning":
      return `warning: ${e.message}`;
    default:
      return undefined;
  }
}

export async function main(options: DeployScriptOptions): Promise<DeployScriptResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const config = options.config ?? (await loadConfig()).config;
  const yard = createSwitchyard({
    config,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.clients ? { clients: options.clients } : {}),
    ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
    onEvent: (e) => {
      const line = describeEvent(e);
      if (line) log(line);
    },
  });
  let release = options.version;
  try {
    // 1. the release: pushed once, immutable
    try {
      let lastPercent = -10;
      const pushed = await yard.releases.push(options.service, {
        source: options.dir,
        version: options.version,
        signal: options.signal,
        onProgress: ({ loaded, total }) => {
          const percent = total ? Math.floor((loaded / total) * 100) : 100;
          if (percent >= lastPercent + 10) {
            lastPercent = percent;
            log(`upload ${percent}%`);
          }
        },
      });
      release = pushed.url;
      log(`pushed ${pushed.url} (${pushed.size} bytes, sha256 ${pushed.sha256.slice(0, 12)})`);
    } catch (error) {
      if (!(options.allowExisting && isSwitchyardError(error, "RELEASE_EXISTS"))) throw error;
      log(`${options.version} is already pushed; deploying it as it is`);
    }

    // 2. the swap, with our gate on top of switchyard's own health gates
    const gates = options.smokeUrl
      ? [smokeGate(options.smokeUrl, options.smokeRequests, options.maxErrorRate)]
      : [];
    const result = await yard.deploy(options.service, {
      release: options.version,
      gates,
      ...(options.steps ? { steps: options.steps } : {}),
      ...(options.bakeMs !== undefined ? { bakeMs: options.bakeMs } : {}),
      signal: options.signal,
    }).result;
    return {
      ok: result.ok,
      exitCode: exitCodeOf(result.error),
      release: result.release || release,
      live: result.live,
      standby: result.standby,
      ...(result.error
        ? { error: { code: result.error.code, message: result.error.message } }
        : {}),
    };
  } catch (error) {
    const code = isSwitchyardError(error) ? error.code : "INTERNAL";
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      exitCode: exitCodeOf(error),
      release,
      live: null,
      standby: null,
      error: { code, message },
    };
  } finally {
    yard.close();
  }
}

// run as a script
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      service: { type: "string" },
      dir: { type: "string" },
      version: { type: "string" },
      "smoke-url": { type: "string" },
      "max-error-rate": { type: "string" },
      "allow-existing": { type: "boolean" },
      "endpoint-url": { type: "string" },
    },
  });
  if (!values.service || !values.dir || !values.version) {
    console.error(
      "usage: deploy.ts --service <app/env> --dir <build dir> --version <v> [--smoke-url URL] [--max-error-rate 0.01] [--allow-existing] [--endpoint-url URL]",
    );
    process.exit(2);
  }
  const abort = new AbortController();
  process.once("SIGINT", () => abort.abort()); // Ctrl-C rolls the swap back
  const result = await main({
    service: values.service,
    dir: values.dir,
    version: values.version,
    ...(values["smoke-url"] ? { smokeUrl: values["smoke-url"] } : {}),
    ...(values["max-error-rate"] ? { maxErrorRate: Number(values["max-error-rate"]) } : {}),
    ...(values["allow-existing"] ? { allowExisting: true } : {}),
    ...(values["endpoint-url"] ? { endpoint: values["endpoint-url"] } : {}),
    signal: abort.signal,
  });
  if (result.error) console.error(`error ${result.error.code}: ${result.error.message}`);
  process.exitCode = result.exitCode;
}
