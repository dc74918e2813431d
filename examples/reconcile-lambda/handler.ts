/**
 * A scheduled AWS Lambda that drives swaps with no long-running process: every invocation is one
 * `reconcile` pass over the services' swap records. `switchyard deploy <service> --release r42
 * --detach` writes a swap and returns; an EventBridge Scheduler schedule (`rate(1 minute)`)
 * invokes this handler, and each pass does what is due: an action, a finished bake, a gate check,
 * a rollback. S3 (the swap records) is the only shared state: a pass that dies is taken over by
 * the next, and a pass never touches a swap a live process drives.
 *
 *   {}                               every service in the config
 *   { "services": ["web/prod"] }     only these
 *
 * The config comes from `SWITCHYARD_CONFIG_JSON` (the config as JSON), else from the file
 * `SWITCHYARD_CONFIG` names, else from a switchyard.config.* packaged next to the handler. A pass
 * that rolled a swap back or failed throws after logging its report, so the invocation counts as
 * an error (alarm on the function's Errors metric). The role needs what `switchyard iam-policy`
 * prints. Command gates (`gates:` in the config) do not run here: a Lambda has no shell scripts of
 * yours; use alarms or the judge for gates of scheduled swaps.
 *
 * No dependencies besides switchyard; in your own project import from "switchyard".
 */
import {
  type Clients,
  createSwitchyard,
  loadConfigFromEnvironment,
  type ReconcileReport,
  type ResolvedConfig,
  type Switchyard,
  type SwitchyardConfig,
} from "../../src/index.js";

export interface ReconcileEvent {
  services?: string[];
}

/** The part of Lambda's context object this handler uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

export interface HandlerOptions {
  config?: ResolvedConfig | SwitchyardConfig;
  /** default: process.env */
  env?: Record<string, string | undefined>;
  /** another AWS endpoint (default: AWS_ENDPOINT_URL) */
  endpoint?: string;
  clients?: Clients;
  /** time kept in hand before Lambda's own timeout (default 10 s) */
  reserveMs?: number;
  /** where log lines go (default: console.log, i.e. CloudWatch Logs) */
  log?: (line: string) => void;
}

/** The config given, else the one the function's environment names (see the module comment). */
function configOf(options: HandlerOptions): Promise<ResolvedConfig | SwitchyardConfig> {
  return options.config
    ? Promise.resolve(options.config)
    : loadConfigFromEnvironment(options.env ?? process.env);
}

export function createHandler(options: HandlerOptions = {}) {
  const log = options.log ?? ((line: string) => console.log(line));
  // built on the first invocation and reused while the execution environment stays warm
  let yard: Promise<Switchyard> | undefined;

  return async function handler(
    event: ReconcileEvent = {},
    context?: LambdaContext,
  ): Promise<ReconcileReport> {
    yard ??= configOf(options).then((config) =>
      createSwitchyard({
        config,
        ...(options.clients ? { clients: options.clients } : {}),
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      }),
    );
    const remaining = context?.getRemainingTimeInMillis();
    const signal =
      remaining === undefined
        ? undefined
        : AbortSignal.timeout(Math.max(1_000, remaining - (options.reserveMs ?? 10_000)));
    const pass = (await yard).reconcile({
      ...(event.services ? { services: event.services } : {}),
      ...(signal ? { signal } : {}),
      onEvent: (e) => log(JSON.stringify(e)),
    });
    const report = await pass.result;
    log(
      JSON.stringify({
        type: "reconcile.report",
        services: report.services.map((s) => ({ service: s.service, outcome: s.outcome })),
      }),
    );
    const bad = report.services.filter(
      (s) => s.outcome === "failed" || s.outcome === "rolled-back",
    );
    if (bad.length > 0) {
      throw new Error(`reconcile: ${bad.map((s) => `${s.service} ${s.outcome}`).join(", ")}`);
    }
    return report;
  };
}

/** The Lambda entry point (`handler.handler`). */
export const handler = createHandler();
