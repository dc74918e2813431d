/**
 * `switchyard sandbox`: the local AWS-compatible cloud in the foreground, and
 * `switchyard sandbox bootstrap <service>`: a bucket, ALB, listener and config in a running one.
 */
import type { Command } from "commander";
import { exitNow, globalsOf, onSignal, writeLine } from "../io.js";
import { parsePort, parseTimeScale } from "../options.js";
import type { CommandContext } from "../program.js";

export const DEFAULT_SANDBOX_ENDPOINT = "http://127.0.0.1:4566";

interface SandboxFlags {
  port: number;
  timeScale?: number;
  stateDir?: string;
}

/** Fails fast, with what to do, when no sandbox answers at `endpoint`. */
export async function checkSandbox(
  endpoint: string,
): Promise<{ region: string; timeScale: number; propagationSeconds?: number }> {
  const { InputError } = await import("../../core/errors.js");
  let response: Response;
  try {
    response = await fetch(new URL("/_sandbox/health", endpoint), {
      signal: AbortSignal.timeout(5000),
    });
  } catch (error) {
    throw new InputError("PREFLIGHT_FAILED", `no sandbox answers at ${endpoint}`, {
      cause: error,
      hint: "start one with `switchyard sandbox` (in another terminal), or pass its --endpoint-url",
    });
  }
  if (!response.ok) {
    throw new InputError(
      "PREFLIGHT_FAILED",
      `${endpoint} is not a switchyard sandbox (GET /_sandbox/health answered ${response.status})`,
      {
        hint: "sandbox bootstrap only works against `switchyard sandbox`; pass its --endpoint-url",
      },
    );
  }
  return (await response.json()) as {
    region: string;
    timeScale: number;
    propagationSeconds?: number;
  };
}

/** The loopback URL where a listener serves traffic, from the sandbox's `/_sandbox/listeners`. */
export async function sandboxListenerUrl(
  endpoint: string,
  listenerArn: string,
): Promise<string | undefined> {
  const response = await fetch(new URL("/_sandbox/listeners", endpoint));
  if (!response.ok) return undefined;
  const listeners = (await response.json()) as Array<{ listenerArn: string; url: string | null }>;
  return listeners.find((l) => l.listenerArn === listenerArn)?.url ?? undefined;
}

/** The services `switchyard sandbox` serves, by their Terraform AWS provider `endpoints` names. */
export const TERRAFORM_ENDPOINTS = [
  "autoscaling",
  "cloudwatch",
  "ec2",
  "elbv2",
  "iam",
  "s3",
  "sts",
] as const;

/** A Terraform AWS provider block pointed at a sandbox: endpoints, dummy keys, no AWS checks. */
export function terraformProvider(endpoint: string, region: string): string[] {
  return [
    'provider "aws" {',
    `  region                      = "${region}"`,
    '  access_key                  = "sandbox"',
    '  secret_key                  = "sandbox"',
    "  skip_credentials_validation = true",
    "  skip_requesting_account_id  = true",
    "  skip_metadata_api_check     = true",
    "  s3_use_path_style           = true",
    "  endpoints {",
    ...TERRAFORM_ENDPOINTS.map((name) => `    ${name.padEnd(11)} = "${endpoint}"`),
    "  }",
    "}",
  ];
}

export function registerSandbox(program: Command, { io, state }: CommandContext): void {
  const sandbox = program
    .command("sandbox")
    .description(
      "serve the local AWS-compatible cloud (Auto Scaling, ELBv2, EC2, S3, CloudWatch, IAM, STS) in the foreground",
    )
    .option("--port <port>", "TCP port on 127.0.0.1 (0 picks a free one)", parsePort, 4566)
    .option(
      "--time-scale <factor>",
      "multiplier on every sandbox timer, 0 < F ≤ 1 (default 0.05: 20× faster than AWS)",
      parseTimeScale,
    )
    .option(
      "--state-dir <dir>",
      "folder for instance working directories (default: a temporary one, removed on stop)",
    )
    .action(async (flags: SandboxFlags, command: Command) => {
      const globals = globalsOf(command, io);
      const [{ startSandbox }, { InputError }] = await Promise.all([
        import("../../sandbox/index.js"),
        import("../../core/errors.js"),
      ]);
      let running: Awaited<ReturnType<typeof startSandbox>>;
      try {
        running = await startSandbox({
          port: flags.port,
          ...(flags.timeScale === undefined ? {} : { timeScale: flags.timeScale }),
          ...(flags.stateDir === undefined ? {} : { stateDir: flags.stateDir }),
          ...(globals.region === undefined ? {} : { region: globals.region }),
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
          throw new InputError("INVALID_INPUT", `port ${flags.port} is already in use`, {
            cause: error,
            hint: "is a sandbox already running? Otherwise pick another port with --port (0 picks a free one)",
          });
        }
        throw error;
      }
      const { endpoint } = running;
      if (globals.json) {
        writeLine(
          io.stdout,
          JSON.stringify({
            endpoint,
            port: running.port,
            region: running.region,
            timeScale: running.clock.timeScale,
          }),
        );
      } else {
        writeLine(
          io.stdout,
          `switchyard sandbox on ${endpoint} (region ${running.region}, timers × ${running.clock.timeScale})`,
        );
        if (!globals.quiet) {
          for (const line of [
            "",
            "Use it from another terminal:",
            `  export AWS_ENDPOINT_URL=${endpoint}`,
            "  switchyard sandbox bootstrap web/dev --write-config switchyard.config.yaml",
            "  switchyard release push <folder with a Procfile> --service web/dev --version r1",
            "  switchyard deploy web/dev --release r1",
            "Any credentials work. Ctrl-C stops it and every instance it runs.",
            "",
            "The AWS CLI:",
            `  export AWS_ENDPOINT_URL=${endpoint} AWS_DEFAULT_REGION=${running.region}`,
            "  export AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox",
            "  aws elbv2 describe-load-balancers",
            "",
            "Terraform (a provider block for your own stack; IAM is stored, not enforced):",
            ...terraformProvider(endpoint, running.region).map((line) => `  ${line}`),
          ]) {
            writeLine(io.stdout, line);
          }
        }
      }
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = () => {
          if (stopping) {
            writeLine(
              io.stderr,
              "warning: stopping at once; instance processes may be left behind",
            );
            exitNow(io, 130);
            return;
          }
          stopping = true;
          if (!globals.json && !globals.quiet) writeLine(io.stdout, "stopping the sandbox…");
          running.stop().then(() => {
            offInt();
            offTerm();
            resolve();
          });
        };
        const offInt = onSignal(io, "SIGINT", stop);
        const offTerm = onSignal(io, "SIGTERM", stop);
      });
      if (!globals.json && !globals.quiet) writeLine(io.stdout, "sandbox stopped");
    });

  sandbox
    .command("bootstrap")
    .description(
      "in a running sandbox: the releases bucket, an ALB and a listener (fixed 503), and a complete config for <service>",
    )
    .argument("<service>", "the service, <app>/<env>")
    .option(
      "--write-config <file>",
      "write the config here (YAML or JSON by extension; merged into an existing file) instead of printing it",
    )
    .action(async (service: string, flags: { writeConfig?: string }, command: Command) => {
      state.service = service;
      const globals = globalsOf(command, io);
      const endpoint = globals.endpointUrl ?? DEFAULT_SANDBOX_ENDPOINT;
      const health = await checkSandbox(endpoint);
      const [{ createClients }, { bootstrapService }, output, { resolve }] = await Promise.all([
        import("../../aws/clients.js"),
        import("../../demo/bootstrap.js"),
        import("../write-config.js"),
        import("node:path"),
      ]);
      const clients = createClients({
        endpoint,
        region: globals.region ?? health.region,
        ...(globals.profile === undefined ? {} : { profile: globals.profile }),
      });
      try {
        const result = await bootstrapService({ clients, service, timing: health });
        const listenerUrl = await sandboxListenerUrl(endpoint, result.listenerArn);
        const header = [
          `switchyard config for ${service} in the sandbox at ${endpoint}`,
          `use it with --endpoint-url ${endpoint} (or export AWS_ENDPOINT_URL=${endpoint})`,
        ].join("\n");
        const summary = {
          service,
          bucket: result.bucket,
          loadBalancerArn: result.loadBalancerArn,
          listenerArn: result.listenerArn,
          listenerUrl: listenerUrl ?? null,
          created: result.created,
        };
        if (flags.writeConfig !== undefined) {
          const path = resolve(io.cwd ?? process.cwd(), flags.writeConfig);
          const { existed } = await output.writeServiceConfig(path, result, header);
          if (globals.json) writeLine(io.stdout, JSON.stringify({ ...summary, path }));
          else
            writeLine(io.stdout, `${existed ? "updated" : "wrote"} ${path} (service ${service})`);
        } else if (globals.json) {
          writeLine(io.stdout, JSON.stringify({ ...summary, config: result.config }));
        } else {
          io.stdout.write(output.formatConfig(result.config, "yaml", header));
        }
        if (!globals.json && !globals.quiet) {
          const made = (what: string, created: boolean) =>
            `${what} ${created ? "created" : "already there"}`;
          writeLine(
            io.stderr,
            `${made(`bucket ${result.bucket}`, result.created.bucket)}; ${made(`load balancer ${result.loadBalancerName}`, result.created.loadBalancer)}; ${made("listener", result.created.listener)}`,
          );
          if (listenerUrl)
            writeLine(io.stderr, `traffic: ${listenerUrl} (answers 503 until the first deploy)`);
          writeLine(
            io.stderr,
            `releases go to s3://${result.bucket}/${service}/<version>.tar.gz; then: switchyard deploy ${service} --release <version>`,
          );
        }
      } finally {
        clients.destroy();
      }
    });
}
