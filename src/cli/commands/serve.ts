/**
 * `switchyard serve [--port 8080] [--host 127.0.0.1]`: the HTTP control plane and its web
 * dashboard in the foreground (see docs/serve.md), and its helpers `serve hash-password` (a user's
 * line for the users file) and `serve new-token` (a bearer token and its line for the tokens file).
 */
import { type Command, InvalidArgumentError } from "commander";
import type { ControlPlane, DrivenOperation } from "../../serve/control-plane.js";
import { type CliIo, exitNow, globalsOf, onSignal, writeLine } from "../io.js";
import { parsePort } from "../options.js";
import type { CommandContext } from "../program.js";
import { openSwitchyard, pollIntervalOption } from "../shared.js";

interface ServeFlags {
  port: number;
  host: string;
  insecureLocal?: boolean;
  trustProxy?: boolean;
  pollInterval?: number;
}

interface LineFlags {
  name?: string;
  role: string;
}

function parseRole(value: string): string {
  if (value !== "viewer" && value !== "operator") {
    throw new InvalidArgumentError(`expected viewer or operator; got ${JSON.stringify(value)}`);
  }
  return value;
}

export function registerServe(program: Command, { io }: CommandContext): void {
  const serve = program
    .command("serve")
    .description(
      "serve the HTTP control plane and its web dashboard: status, releases, deploy, rollback, promote/pause/abort, retire, event streams (needs credentials; see docs/serve.md)",
    )
    .option("--port <port>", "TCP port (0 picks a free one)", parsePort, 8080)
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option(
      "--insecure-local",
      "no credentials: everyone on this machine is an operator (loopback addresses only)",
    )
    .option(
      "--trust-proxy",
      "behind a load balancer: the client's address is the last X-Forwarded-For entry (for the login limiter and the log)",
    )
    .addOption(pollIntervalOption())
    .action(async (flags: ServeFlags, command: Command) => {
      const globals = globalsOf(command, io);
      const [{ loadCredentials, hasCredentials, CREDENTIAL_VARIABLES }, { InputError }] =
        await Promise.all([import("../../serve/auth.js"), import("../../core/errors.js")]);
      // credentials first: a server that would let anyone in does not start
      const credentials = await loadCredentials(io.env, { ...(io.cwd ? { cwd: io.cwd } : {}) });
      const [{ createControlPlane, isLoopback, noCredentialsError }, { dashboardRoutes }] =
        await Promise.all([
          import("../../serve/control-plane.js"),
          import("../../serve/dashboard.js"),
        ]);
      if (flags.insecureLocal && hasCredentials(credentials)) {
        throw new InputError(
          "INVALID_INPUT",
          `--insecure-local turns authentication off, but credentials are set (${Object.values(
            CREDENTIAL_VARIABLES,
          )
            .filter((v) => io.env[v])
            .join(", ")}); drop one or the other`,
        );
      }
      if (!flags.insecureLocal && !hasCredentials(credentials)) throw noCredentialsError();
      if (flags.insecureLocal && !isLoopback(flags.host)) {
        throw new InputError(
          "INVALID_INPUT",
          `--insecure-local serves loopback addresses only; got --host ${flags.host}`,
          { hint: "set credentials (see docs/serve.md) to serve other addresses" },
        );
      }
      const yard = await openSwitchyard(globals, io, {
        ...(flags.pollInterval === undefined ? {} : { pollIntervalMs: flags.pollInterval }),
      });
      const { commandGates } = await import("../gates.js");
      const { loadSlackSettings, slackRoutes, SLACK_PATHS } = await import("../../serve/slack.js");
      const slack = await loadSlackSettings(io.env, { ...(io.cwd ? { cwd: io.cwd } : {}) });
      const plane = createControlPlane({
        yard,
        auth: flags.insecureLocal ? "insecure-local" : credentials,
        ...(flags.trustProxy ? { trustProxy: true } : {}),
        gates: (service) =>
          commandGates(yard.config.services[service]?.gates ?? [], [], {
            env: io.env,
            ...(io.cwd ? { cwd: io.cwd } : {}),
          }),
        log: (e) => {
          if (globals.quiet) return;
          writeLine(
            io.stderr,
            globals.json
              ? JSON.stringify({ type: "request", ...e })
              : `${e.at} ${e.method} ${e.path} ${e.status} ${e.ms}ms ${e.principal ?? "-"} ${e.client}`,
          );
        },
        onOperationEnd: (op, outcome) => {
          const how = outcome.ok
            ? "ok"
            : `failed: ${outcome.error?.code ?? "ERROR"}: ${outcome.error?.message ?? ""}`;
          writeLine(
            io.stderr,
            globals.json
              ? JSON.stringify({
                  type: "operation",
                  ...op,
                  ok: outcome.ok,
                  ...(outcome.error ? { error: outcome.error.toJSON() } : {}),
                })
              : `${new Date().toISOString()} ${op.kind} ${op.service}${op.swapId ? ` (${op.swapId})` : ""} by ${op.by}: ${how}`,
          );
        },
        // the dashboard's pages and files, and the Slack endpoints when a signing secret is set
        routes: (host) => [
          ...dashboardRoutes(),
          ...(slack
            ? slackRoutes(host, slack, {
                log: (line) =>
                  writeLine(
                    io.stderr,
                    globals.json ? JSON.stringify({ type: "slack", message: line }) : line,
                  ),
              })
            : []),
        ],
      });
      let url: string;
      try {
        ({ url } = await plane.listen({ port: flags.port, host: flags.host }));
      } catch (error) {
        yard.close();
        throw error;
      }
      const who = flags.insecureLocal
        ? "no credentials (--insecure-local)"
        : `${credentials.users.length} users, ${credentials.tokens.length} tokens`;
      const slackLine = slack
        ? `Slack: ${SLACK_PATHS.commands} and ${SLACK_PATHS.interactions} (${slack.users.size} users may change; channels: ${slack.channels === "any" ? "any" : slack.channels.size})`
        : undefined;
      if (globals.json) {
        writeLine(
          io.stdout,
          JSON.stringify({
            type: "listening",
            url,
            auth: who,
            ...(slack ? { slack: SLACK_PATHS } : {}),
          }),
        );
      } else {
        writeLine(io.stdout, `switchyard serve on ${url} (${who})`);
        if (slackLine) writeLine(io.stdout, `  ${slackLine}`);
        if (!globals.quiet) {
          writeLine(
            io.stdout,
            `  curl ${flags.insecureLocal ? "" : "-u <user> "}${url}/api/services    # Ctrl-C stops it; swaps it drives roll back`,
          );
        }
      }
      const { unfinished } = await waitForStop(io, plane, globals);
      yard.close();
      if (unfinished.length > 0) {
        const { SwapError } = await import("../../core/errors.js");
        throw new SwapError(
          "SWAP_INCOMPLETE",
          `stopped with ${unfinished.map((o) => `${o.kind} ${o.service}`).join(", ")} still rolling back`,
          {
            hint: `their records keep their state: \`switchyard resume ${unfinished[0]?.service}\` finishes each`,
          },
        );
      }
    });

  serve
    .command("hash-password")
    .description(
      "read a password from stdin and print its scrypt hash (with --name: the users-file line)",
    )
    .option("--name <name>", "the user's name: print name:role:hash")
    .option("--role <role>", "viewer or operator (with --name)", parseRole, "viewer")
    .action(async (flags: LineFlags) => {
      const { hashPassword } = await import("../../serve/auth.js");
      const password = await readSecret(io, "password: ");
      const hash = await hashPassword(password);
      writeLine(io.stdout, flags.name ? `${flags.name}:${flags.role}:${hash}` : hash);
    });

  serve
    .command("new-token")
    .description(
      "make a bearer token: the token on stderr (shown once), its tokens-file line on stdout",
    )
    .requiredOption("--name <name>", "who uses it (shown in the access log)")
    .option("--role <role>", "viewer or operator", parseRole, "viewer")
    .action(async (flags: LineFlags) => {
      const { hashToken, newToken } = await import("../../serve/auth.js");
      const token = newToken();
      writeLine(io.stderr, `token (give it to ${flags.name}; it is not stored): ${token}`);
      writeLine(io.stdout, `${flags.name}:${flags.role}:${hashToken(token)}`);
    });
}

/** Serves until SIGINT/SIGTERM; the first stops gracefully, a second exits at once (130). */
function waitForStop(
  io: CliIo,
  plane: ControlPlane,
  globals: { quiet: boolean; json: boolean },
): Promise<{ unfinished: DrivenOperation[] }> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) {
        writeLine(
          io.stderr,
          "warning: exiting before the rollbacks finished; `switchyard resume <service>` finishes each",
        );
        void import("../../swap/record.js")
          .then((m) => m.settleRecordWrites(2_000))
          .finally(() => exitNow(io, 130));
        return;
      }
      stopping = true;
      const n = plane.driving().length;
      if (globals.json) writeLine(io.stderr, JSON.stringify({ type: "stopping", interrupted: n }));
      else if (!globals.quiet) {
        writeLine(
          io.stderr,
          n > 0
            ? `stopping: ${n} operation${n > 1 ? "s" : ""} driven here interrupted; swaps roll back (Ctrl-C again to exit at once)`
            : "stopping",
        );
      }
      void plane.close().then((report) => {
        offInt();
        offTerm();
        resolve(report);
      });
    };
    const offInt = onSignal(io, "SIGINT", stop);
    const offTerm = onSignal(io, "SIGTERM", stop);
  });
}

/** A secret from stdin: typed without echo on a terminal, else the first line of the input. */
async function readSecret(io: CliIo, prompt: string): Promise<string> {
  const stdin = (io.stdin ?? process.stdin) as NodeJS.ReadStream;
  const { InputError } = await import("../../core/errors.js");
  let text: string;
  if (stdin.isTTY && typeof stdin.setRawMode === "function") {
    io.stderr.write(prompt);
    text = await new Promise<string>((resolve, reject) => {
      let typed = "";
      stdin.setRawMode(true);
      stdin.resume();
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString("utf8")) {
          if (ch === "\r" || ch === "\n") return done();
          if (ch === "\u0003") return done(new Error("cancelled"));
          if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1);
          else typed += ch;
        }
      };
      const done = (error?: Error) => {
        stdin.off("data", onData);
        stdin.setRawMode(false);
        stdin.pause();
        io.stderr.write("\n");
        if (error) reject(new InputError("INVALID_INPUT", "no password given"));
        else resolve(typed);
      };
      stdin.on("data", onData);
    });
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
    text = Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
  }
  if (text === "") {
    throw new InputError("INVALID_INPUT", "no password on stdin", {
      hint: 'type it at the prompt, or pipe it: `printf %s "$PASSWORD" | switchyard serve hash-password --name alice`',
    });
  }
  return text;
}
