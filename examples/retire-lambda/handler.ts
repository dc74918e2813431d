/**
 * A scheduled AWS Lambda that retires old standby groups. An EventBridge schedule invokes it
 * (e.g. `cron(17 3 * * ? *)`); the event may narrow or override the run:
 *
 *   {}                                        every service, each with its config's retire policy
 *   { "services": ["web/prod"], "dryRun": true }
 *   { "keep": 2, "minAge": "48h" }
 *
 * The config comes from `SWITCHYARD_CONFIG_JSON` (the config as JSON), else from the file
 * `SWITCHYARD_CONFIG` names, else from a switchyard.config.* packaged next to the handler.
 * A run that failed to delete something throws after logging its report, so the invocation
 * counts as an error (alarm on the function's Errors metric); re-running it is safe.
 *
 * No dependencies besides switchyard; in your own project import from "switchyard".
 * The role needs the permissions `switchyard iam-policy` prints.
 */
import {
  type Clients,
  createSwitchyard,
  loadConfigFromEnvironment,
  type ResolvedConfig,
  type RetireReport,
  type Switchyard,
  type SwitchyardConfig,
} from "../../src/index.js";

export interface RetireEvent {
  services?: string[] | "all";
  dryRun?: boolean;
  keep?: number;
  /** a duration: `24h`, `90m`, or a number of seconds */
  minAge?: string | number;
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
  /** time kept in hand before Lambda's own timeout, to stop cleanly and report (default 15 s) */
  reserveMs?: number;
  pollIntervalMs?: number;
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
    event: RetireEvent = {},
    context?: LambdaContext,
  ): Promise<RetireReport> {
    yard ??= configOf(options).then((config) =>
      createSwitchyard({
        config,
        ...(options.clients ? { clients: options.clients } : {}),
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
      }),
    );
    const remaining = context?.getRemainingTimeInMillis();
    const signal =
      remaining === undefined
        ? undefined
        : AbortSignal.timeout(Math.max(1_000, remaining - (options.reserveMs ?? 15_000)));
    const report = await (await yard).retire({
      services: event.services ?? "all",
      ...(event.dryRun !== undefined ? { dryRun: event.dryRun } : {}),
      ...(event.keep !== undefined ? { keep: event.keep } : {}),
      ...(event.minAge !== undefined ? { minAge: event.minAge } : {}),
      ...(signal ? { signal } : {}),
      onEvent: (e) => log(JSON.stringify(e)),
    });
    log(JSON.stringify({ type: "retire.report", ...report }));
    if (report.failed) {
      const failures = report.skipped.map((s) => `${s.name}: ${s.reason}`).join("; ");
      throw new Error(`retire left work undone: ${failures}`);
    }
    return report;
  };
}

/** The Lambda entry point (`handler.handler`). */
export const handler = createHandler();
