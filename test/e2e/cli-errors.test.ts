/**
 * The built CLI's first-run failures, as an operator or a CI job meets them: no credentials, an
 * endpoint nobody listens on. Each exits 2 at once with a code and a hint naming the fix.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli, jsonLines, MAIN, type Run, shell, spawnCli } from "./helpers.js";

const CONFIG = `region: us-east-1
state: { bucket: releases, prefix: .switchyard }
services:
  web/x:
    listenerArn: arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/web/0123456789abcdef/0123456789abcdef
    vpcId: vpc-0abc1234
    subnets: [subnet-0abc1234]
    securityGroups: [sg-0abc1234]
    image: ami-0abc1234
    instanceType: t3.small
    capacity: { min: 1, max: 2, desired: 1 }
    targetGroup: { port: 8080 }
    releases: s3://releases/web/x/
`;

let dir: string;
/** No credentials anywhere: none in the environment, no shared files, no instance metadata. */
let noCredentials: Record<string, string | undefined>;

beforeAll(async () => {
  await buildCli();
  dir = await mkdtemp(join(tmpdir(), "switchyard-e2e-errors-"));
  await writeFile(join(dir, "switchyard.config.yaml"), CONFIG);
  noCredentials = {
    AWS_CONFIG_FILE: join(dir, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-aws-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SESSION_TOKEN: undefined,
    AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    AWS_ROLE_ARN: undefined,
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
  };
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function cli(...args: string[]): Promise<Run> {
  return spawnCli(args, { cwd: dir, env: noCredentials }).done;
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("errors that name the fix (built CLI)", () => {
  it("an endpoint nobody listens on: ENDPOINT_UNREACHABLE, exit 2, asks for the sandbox, in seconds", async () => {
    const port = await closedPort();
    const started = Date.now();
    const r = await cli("status", "web/x", "--endpoint-url", `http://127.0.0.1:${port}`);
    const elapsed = Date.now() - started;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error ENDPOINT_UNREACHABLE: cannot reach http://127.0.0.1:${port}: connection refused (ECONNREFUSED)`,
    );
    expect(r.stderr).toContain("hint: is `switchyard sandbox` running?");
    expect(r.stderr).not.toContain("INTERNAL");
    // two quick retries, not 11 s of backoff
    expect(elapsed).toBeLessThan(5_000);
  });

  it("no credentials and no endpoint: NO_CREDENTIALS, exit 2, naming what to set and the sandbox flag", async () => {
    const r = await cli("status", "web/x");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error NO_CREDENTIALS: no AWS credentials could be loaded/);
    expect(r.stderr).toContain("AWS_PROFILE");
    expect(r.stderr).toContain("AWS_ACCESS_KEY_ID");
    expect(r.stderr).toContain("aws sso login");
    expect(r.stderr).toContain("--endpoint-url http://127.0.0.1:4566");
    expect(r.stderr).not.toContain("INTERNAL");
  });

  it("a profile that does not exist: NO_CREDENTIALS naming the profile, even towards a loopback endpoint", async () => {
    const port = await closedPort();
    const r = await cli(
      "status",
      "web/x",
      "--profile",
      "nonexistent",
      "--endpoint-url",
      `http://127.0.0.1:${port}`,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "error NO_CREDENTIALS: no AWS credentials could be loaded for profile nonexistent",
    );
    expect(r.stderr).toContain("aws sso login --profile nonexistent");
    // an endpoint is set: no advice to set one
    expect(r.stderr).not.toContain("no endpoint is set");
  });

  it("status --json with an endpoint nobody listens on: one result object on stdout, the error in it", async () => {
    const port = await closedPort();
    const r = await cli("status", "web/x", "--json", "--endpoint-url", `http://127.0.0.1:${port}`);
    expect(r.code).toBe(2);
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      type: "result",
      ok: false,
      service: "web/x",
      error: { code: "ENDPOINT_UNREACHABLE" },
    });
    expect(r.stderr).toMatch(/^error ENDPOINT_UNREACHABLE: /);
  });

  it("retire with an endpoint nobody listens on: ENDPOINT_UNREACHABLE, exit 2, not a per-service report", async () => {
    const port = await closedPort();
    const r = await cli("retire", "web/x", "--json", "--endpoint-url", `http://127.0.0.1:${port}`);
    expect(r.code).toBe(2);
    expect(jsonLines(r.stdout)).toMatchObject([
      { type: "result", ok: false, error: { code: "ENDPOINT_UNREACHABLE" } },
    ]);
    expect(r.stderr).toMatch(/^error ENDPOINT_UNREACHABLE: cannot reach http:\/\/127\.0\.0\.1:\d+/);
  });
});

describe("a closed pipe ends quietly (built CLI)", () => {
  /** The CLI with its stdout's reader gone at once, as `switchyard … | head -1` leaves it. */
  function closedStdout(...args: string[]): Promise<Run> {
    const run = spawnCli(args, { cwd: dir, env: noCredentials });
    run.child.stdout.destroy();
    return run.done;
  }

  it.each([["--help"], ["iam-policy"]])("%s: exit 0, nothing on stderr", async (command) => {
    const r = await closedStdout(command);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("a failing command keeps its exit code and its one error line, no stack trace", async () => {
    const port = await closedPort();
    const r = await closedStdout(
      "status",
      "web/x",
      "--json",
      "--endpoint-url",
      `http://127.0.0.1:${port}`,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error ENDPOINT_UNREACHABLE: [^\n]*\n$/);
  });

  it("through a shell pipe into head", async () => {
    const { code, stdout, stderr } = await shell(
      `"${process.execPath}" "${MAIN}" --help | head -1`,
      {
        cwd: dir,
        env: process.env,
      },
    );
    expect(code).toBe(0);
    expect(stdout).toBe("Usage: switchyard [options] [command]\n");
    expect(stderr).toBe("");
  });
});
