/**
 * The control plane where it runs on AWS: examples/serve-lambda invoked with function URL events
 * as Lambda invokes it, and examples/serve-container's command (the Dockerfile's CMD) run as the
 * container runs it, both against a sandbox.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandler, type FunctionUrlEvent } from "../../examples/serve-lambda/handler.js";
import { hashToken, newToken } from "../../src/serve/auth.js";
import { buildCli, ROOT, spawnCli, until } from "../e2e/helpers.js";
import { SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";

let world: SwapWorld;
const token = newToken();
const tokens = `ci:viewer:${hashToken(token)}`;

beforeAll(async () => {
  await buildCli();
  world = await swapWorld({ timeScale: 0.01 });
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

function urlEvent(
  path: string,
  options: { method?: string; headers?: Record<string, string>; ip?: string } = {},
): FunctionUrlEvent {
  const [rawPath = path, rawQueryString = ""] = path.split("?");
  return {
    rawPath,
    rawQueryString,
    headers: { host: "abc.lambda-url.us-east-1.on.aws", ...options.headers },
    requestContext: {
      http: { method: options.method ?? "GET", sourceIp: options.ip ?? "198.51.100.7" },
    },
  };
}

describe("serve-lambda: the control plane behind a function URL", () => {
  it("answers function URL events: health, reads with a token, 401 without, failed logins per caller", async () => {
    const handler = createHandler({
      config: world.config,
      clients: world.clients,
      env: { SWITCHYARD_SERVE_TOKENS: tokens },
    });
    const health = await handler(urlEvent("/healthz"));
    expect(health.statusCode).toBe(200);

    const bearer = { authorization: `Bearer ${token}` };
    const services = await handler(urlEvent("/api/services", { headers: bearer }));
    expect(services.statusCode).toBe(200);
    expect(JSON.parse(services.body)).toEqual(
      expect.arrayContaining([expect.objectContaining({ service: SERVICE })]),
    );
    expect(services.headers["content-type"]).toMatch(/^application\/json/);

    expect((await handler(urlEvent("/api/services"))).statusCode).toBe(401);
    // a viewer token cannot change anything
    const deploy = await handler(
      urlEvent(`/api/services/${SERVICE}/deploy`, {
        method: "POST",
        headers: { ...bearer, "content-type": "application/json" },
      }),
    );
    expect(deploy.statusCode).toBe(403);

    // one caller's failed logins lock out that caller, not every caller of the function
    const wrong = { authorization: `Bearer ${newToken()}` };
    let last = 0;
    for (let i = 0; i < 8; i++) {
      last = (await handler(urlEvent("/api/services", { headers: wrong, ip: "203.0.113.9" })))
        .statusCode;
    }
    expect(last).toBe(429);
    expect(
      (await handler(urlEvent("/api/services", { headers: bearer, ip: "203.0.113.9" }))).statusCode,
    ).toBe(429);
    expect((await handler(urlEvent("/api/services", { headers: bearer }))).statusCode).toBe(200);
  }, 60_000);
});

describe("serve-container: the image's command", () => {
  it("serves behind a load balancer (X-Forwarded-For) and stops on SIGTERM", async () => {
    const dockerfile = await readFile(join(ROOT, "examples/serve-container/Dockerfile"), "utf8");
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? "[]") as string[];
    expect(cmd.slice(0, 3)).toEqual(["npx", "switchyard", "serve"]);
    // as in the container, but on loopback: this machine serves nothing beyond it
    const args = cmd
      .slice(2)
      .map((a, i, all) =>
        all[i - 1] === "--host" ? "127.0.0.1" : all[i - 1] === "--port" ? "0" : a,
      );
    const configFile = join(ROOT, ".tmp", `serve-container-${process.pid}.json`);
    await writeFile(configFile, JSON.stringify(world.config));
    const run = spawnCli(
      [...args, "--config", configFile, "--endpoint-url", world.sandbox.endpoint],
      {
        cwd: ROOT,
        env: {
          SWITCHYARD_SERVE_TOKENS: tokens,
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
        },
      },
    );
    try {
      await until(() => /switchyard serve on (http:\/\/\S+)/.test(run.stdout()), 30_000);
      const url = /switchyard serve on (http:\/\/\S+)/.exec(run.stdout())![1]!;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const read = await fetch(`${url}/api/services/${SERVICE}`, {
        headers: { authorization: `Bearer ${token}`, "x-forwarded-for": "192.0.2.10" },
      });
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ service: SERVICE });
    } finally {
      run.child.kill("SIGTERM");
    }
    const ended = await run.done;
    expect(ended.code, ended.stderr).toBe(0);
    // the access log names the client the load balancer forwarded for
    expect(ended.stdout + ended.stderr).toContain("192.0.2.10");
    expect(ended.stdout + ended.stderr).not.toContain(token);
  }, 60_000);
});
