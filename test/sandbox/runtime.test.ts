import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateAutoScalingGroupCommand } from "@aws-sdk/client-auto-scaling";
import { CreateLaunchTemplateCommand } from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { create } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSampleRelease } from "../../examples/sample-app/release.js";
import type { SandboxContext } from "../../src/sandbox/context.js";
import { RELEASE_LOG } from "../../src/sandbox/runtime/instances.js";
import { BASE_IMAGE_ID, BROKEN_IMAGE_ID } from "../../src/sandbox/seed.js";
import {
  type Action,
  type Condition,
  type HealthCheck,
  hex,
  type Instance,
  type Listener,
  type TargetGroup,
} from "../../src/sandbox/state.js";
import { deregisterTargets, launchInstance, registerTargets } from "../../src/sandbox/world.js";
import { eventually, type SandboxClients, sandboxWithClients } from "../helpers/sandbox.js";

const BUCKET = "releases";
/** AWS seconds until a listener change reaches its proxy; 300 ms at the tests' time scale */
const PROPAGATION_SECONDS = 30;

// ---------- world set-up, straight into the state store ----------

function putObject(ctx: SandboxContext, key: string, body: Buffer): string {
  let bucket = ctx.state.buckets.get(BUCKET);
  if (!bucket) {
    bucket = { name: BUCKET, createdAt: new Date(), objects: new Map() };
    ctx.state.buckets.set(BUCKET, bucket);
  }
  bucket.objects.set(key, {
    key,
    body,
    etag: `"${createHash("md5").update(body).digest("hex")}"`,
    lastModified: new Date(),
    metadata: {},
  });
  return `s3://${BUCKET}/${key}`;
}

async function tarball(files: Record<string, string>): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), "runtime-test-"));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    const chunks: Buffer[] = [];
    for await (const chunk of create({ gzip: true, cwd: dir }, Object.keys(files))) {
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let seq = 0;

function launchTemplate(ctx: SandboxContext, userData: string, imageId = BASE_IMAGE_ID): string {
  const id = `lt-${hex(8)}`;
  const name = `runtime-test-${++seq}`;
  ctx.state.launchTemplates.set(id, {
    id,
    name,
    createdAt: new Date(),
    defaultVersion: 1,
    latestVersion: 1,
    versions: [
      {
        versionNumber: 1,
        createdAt: new Date(),
        data: {
          imageId,
          instanceType: "t3.micro",
          userData: Buffer.from(userData).toString("base64"),
          securityGroupIds: [],
        },
      },
    ],
    tags: {},
  });
  return name;
}

function launch(ctx: SandboxContext, userData: string, imageId = BASE_IMAGE_ID): Instance {
  return launchInstance(ctx, {
    launchTemplate: { LaunchTemplateName: launchTemplate(ctx, userData, imageId) },
    subnetId: "subnet-0sandbox0000000a",
    tags: {},
  });
}

const markerFor = (url: string) => `#!/bin/sh\n# switchyard:release-url=${url}\n`;

async function running(instance: Instance): Promise<Instance> {
  await eventually(() => instance.hostPort > 0 || instance.bootError, {
    what: `${instance.instanceId} to start its release`,
  });
  expect(instance.bootError).toBeUndefined();
  // the release is listening once it answers
  await eventually(
    async () => (await fetch(`http://127.0.0.1:${instance.hostPort}/health`)).status > 0,
    { what: `${instance.instanceId} to listen` },
  );
  return instance;
}

function targetGroup(
  ctx: SandboxContext,
  options: { healthCheck?: Partial<HealthCheck>; deregistrationDelay?: number } = {},
): TargetGroup {
  const name = `tg-${++seq}`;
  const tg: TargetGroup = {
    arn: ctx.state.arn("elasticloadbalancing", `targetgroup/${name}/${hex(8)}`),
    name,
    protocol: "HTTP",
    port: 8080,
    vpcId: "vpc-0sandbox00000001",
    targetType: "instance",
    healthCheck: {
      protocol: "HTTP",
      port: "traffic-port",
      path: "/health",
      intervalSeconds: 5,
      timeoutSeconds: 2,
      healthyThreshold: 2,
      unhealthyThreshold: 2,
      matcher: "200",
      enabled: true,
      ...options.healthCheck,
    },
    attributes: {
      "deregistration_delay.timeout_seconds": String(options.deregistrationDelay ?? 300),
    },
    createdAt: new Date(),
    targets: new Map(),
  };
  ctx.state.targetGroups.set(tg.arn, tg);
  return tg;
}

function register(ctx: SandboxContext, tg: TargetGroup, ...instances: Instance[]): void {
  registerTargets(
    ctx,
    tg.arn,
    instances.map((i) => ({ Id: i.instanceId })),
  );
}

function forward(groups: Array<[TargetGroup, number]>, stickySeconds?: number): Action {
  return {
    Type: "forward",
    ForwardConfig: {
      TargetGroups: groups.map(([tg, weight]) => ({ TargetGroupArn: tg.arn, Weight: weight })),
      ...(stickySeconds
        ? { TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: stickySeconds } }
        : {}),
    },
  };
}

function fixed(body: string, status = "200"): Action {
  return {
    Type: "fixed-response",
    FixedResponseConfig: { StatusCode: status, ContentType: "text/plain", MessageBody: body },
  };
}

async function listener(ctx: SandboxContext, actions: Action[]): Promise<Listener> {
  const l: Listener = {
    arn: ctx.state.arn("elasticloadbalancing", `listener/app/runtime-test/${hex(8)}/${hex(8)}`),
    loadBalancerArn: ctx.state.arn("elasticloadbalancing", "loadbalancer/app/runtime-test/1"),
    port: 80,
    protocol: "HTTP",
    defaultActions: actions,
  };
  ctx.state.listeners.set(l.arn, l);
  ctx.runtime.listenerChanged(l);
  await eventually(() => ctx.runtime.listenerUrl(l.arn), { what: "the listener's proxy" });
  return l;
}

function changeListener(ctx: SandboxContext, l: Listener, actions: Action[]): void {
  l.defaultActions = actions;
  ctx.runtime.listenerChanged(l);
}

async function allHealthy(tg: TargetGroup): Promise<void> {
  await eventually(
    () => tg.targets.size > 0 && [...tg.targets.values()].every((t) => t.state === "healthy"),
    { what: `every target of ${tg.name} healthy` },
  );
}

interface Answer {
  status: number;
  targetGroup: string | null;
  target: string | null;
  body: string;
  setCookie: string[];
}

const agent = new Agent({ keepAlive: true });

/** One request through a listener's proxy (node:http, so a Host header can be set). */
function get(
  ctx: SandboxContext,
  l: Listener,
  path = "/",
  headers: Record<string, string> = {},
): Promise<Answer> {
  const url = new URL(path, ctx.runtime.listenerUrl(l.arn));
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const header = (name: string) => {
          const v = res.headers[name];
          return typeof v === "string" ? v : null;
        };
        resolve({
          status: res.statusCode ?? 0,
          targetGroup: header("x-switchyard-target-group"),
          target: header("x-switchyard-target"),
          body: Buffer.concat(chunks).toString("utf8"),
          setCookie: res.headers["set-cookie"] ?? [],
        });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

const versionOf = (a: Answer) => (JSON.parse(a.body) as { version: string }).version;

// ---------- the tests ----------

describe("sandbox runtime", () => {
  let env: SandboxClients;
  let ctx: SandboxContext;
  let r1Url: string;
  let r2Url: string;
  let sickUrl: string;
  let r1a: Instance;
  let r1b: Instance;
  let r2a: Instance;
  let sickA: Instance;
  let sickB: Instance;

  beforeAll(async () => {
    env = await sandboxWithClients({ propagationSeconds: PROPAGATION_SECONDS });
    ctx = env.sandbox.context;
    r1Url = putObject(ctx, "web/r1.tar.gz", await buildSampleRelease({ version: "r1" }));
    r2Url = putObject(ctx, "web/r2.tar.gz", await buildSampleRelease({ version: "r2" }));
    sickUrl = putObject(
      ctx,
      "web/sick.tar.gz",
      await buildSampleRelease({ version: "sick", variant: "never-healthy" }),
    );
    r1a = launch(ctx, markerFor(r1Url));
    r1b = launch(ctx, markerFor(r1Url));
    r2a = launch(ctx, markerFor(r2Url));
    sickA = launch(ctx, markerFor(sickUrl));
    sickB = launch(ctx, markerFor(sickUrl));
    await Promise.all([r1a, r1b, r2a, sickA, sickB].map(running));
  });
  afterAll(async () => {
    agent.destroy();
    await env?.stop();
  });

  describe("instances", () => {
    it("boots the release named in its user data and answers through the listener URL", async () => {
      const tg = targetGroup(ctx);
      register(ctx, tg, r1a);
      const l = await listener(ctx, [forward([[tg, 1]])]);
      await allHealthy(tg);
      const answer = await get(ctx, l);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ version: "r1", instance: r1a.instanceId });
      expect(answer.targetGroup).toBe(tg.name);
      expect(answer.target).toBe(r1a.instanceId);
      expect(r1a.state).toBe("running");
      const dir = join(ctx.settings.stateDir, "instances", r1a.instanceId);
      expect(readFileSync(join(dir, "VERSION"), "utf8").trim()).toBe("r1");
      expect(readFileSync(join(dir, RELEASE_LOG), "utf8")).toContain("listening");
    });

    it("also reads the release URL from a quoted SWITCHYARD_RELEASE_URL shell line", async () => {
      const instance = launch(ctx, `#!/bin/bash\nexport SWITCHYARD_RELEASE_URL="${r2Url}"\n`);
      await running(instance);
      const res = await fetch(`http://127.0.0.1:${instance.hostPort}/`);
      expect(await res.json()).toMatchObject({ version: "r2", instance: instance.instanceId });
    });

    it("records a boot error for a missing release object and stays running", async () => {
      const instance = launch(ctx, markerFor(`s3://${BUCKET}/web/nope.tar.gz`));
      await eventually(() => instance.bootError, { what: "a boot error" });
      expect(instance.bootError).toMatch(/NoSuchKey/);
      expect(instance.state).toBe("running");
      expect(instance.hostPort).toBe(0);
    });

    it("records a boot error for a release that is not a .tar.gz", async () => {
      const url = putObject(ctx, "web/garbage.tar.gz", Buffer.from("not a tarball"));
      const instance = launch(ctx, markerFor(url));
      await eventually(() => instance.bootError, { what: "a boot error" });
      expect(instance.bootError).toMatch(/not a readable \.tar\.gz/);
    });

    it("records a boot error for a release without a Procfile web: line", async () => {
      const url = putObject(ctx, "web/noweb.tar.gz", await tarball({ Procfile: "worker: x\n" }));
      const instance = launch(ctx, markerFor(url));
      await eventually(() => instance.bootError, { what: "a boot error" });
      expect(instance.bootError).toMatch(/no web: line/);
    });

    it("records a boot error when the release's process exits", async () => {
      const url = putObject(
        ctx,
        "web/crash.tar.gz",
        await tarball({ Procfile: `web: node -e "process.exit(3)"\n` }),
      );
      const instance = launch(ctx, markerFor(url));
      await eventually(() => instance.bootError, { what: "a boot error" });
      expect(instance.bootError).toMatch(/exited with code 3/);
      expect(instance.hostPort).toBe(0);
    });

    it("runs the sample app's flaky variant, failing exactly its share of / requests", async () => {
      const url = putObject(
        ctx,
        "web/flaky.tar.gz",
        await buildSampleRelease({ version: "f1", variant: "flaky", failRate: 0.25 }),
      );
      const instance = await running(launch(ctx, markerFor(url)));
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        statuses.push((await fetch(`http://127.0.0.1:${instance.hostPort}/`)).status);
      }
      expect(statuses.filter((s) => s === 500)).toHaveLength(5);
      expect((await fetch(`http://127.0.0.1:${instance.hostPort}/health`)).status).toBe(200);
    });

    it("boots an instance of a never-healthy image without starting its release", async () => {
      const broken = launch(ctx, markerFor(r1Url), BROKEN_IMAGE_ID);
      const imageId = "ami-0runtimetest0001";
      ctx.state.images.set(imageId, {
        imageId,
        name: "runtime-test-faulty",
        description: "",
        creationDate: new Date(),
        behaviour: "runs-release",
      });
      ctx.unhealthyImages.add(imageId);
      const faulty = launch(ctx, markerFor(r1Url), imageId);
      await eventually(() => broken.state === "running" && faulty.state === "running");
      await new Promise((r) => setTimeout(r, 300));
      for (const instance of [broken, faulty]) {
        expect(instance.hostPort).toBe(0);
        expect(instance.bootError).toBeUndefined();
      }
    });
  });

  describe("health checks", () => {
    it("marks a never-healthy release's target unhealthy with the codes it answered", async () => {
      const tg = targetGroup(ctx);
      register(ctx, tg, sickA);
      await listener(ctx, [forward([[tg, 1]])]);
      const target = tg.targets.get(sickA.instanceId)!;
      await eventually(() => target.state === "unhealthy", { what: "unhealthy" });
      expect(target.reason).toBe("Target.ResponseCodeMismatch");
      expect(target.description).toBe("Health checks failed with these codes: [500]");
    });

    it("fails checks of a target with nothing listening with Target.FailedHealthChecks", async () => {
      const broken = launch(ctx, markerFor(r1Url), BROKEN_IMAGE_ID);
      const tg = targetGroup(ctx);
      register(ctx, tg, broken);
      await listener(ctx, [forward([[tg, 1]])]);
      const target = tg.targets.get(broken.instanceId)!;
      await eventually(() => target.state === "unhealthy", { what: "unhealthy" });
      expect(target.reason).toBe("Target.FailedHealthChecks");
    });

    it("fails a check that outlasts its timeout with Target.Timeout", async () => {
      const tg = targetGroup(ctx, { healthCheck: { path: "/slow?ms=2000" } });
      register(ctx, tg, r1b);
      await listener(ctx, [forward([[tg, 1]])]);
      const target = tg.targets.get(r1b.instanceId)!;
      await eventually(() => target.state === "unhealthy", { what: "unhealthy" });
      expect(target.reason).toBe("Target.Timeout");
    });

    it("reports targets of a group no listener references as unused, initial once referenced", async () => {
      // 100 s interval (1 s here): a target stays `initial` between its first and second check
      const tg = targetGroup(ctx, { healthCheck: { intervalSeconds: 100 } });
      register(ctx, tg, r1a);
      const target = tg.targets.get(r1a.instanceId)!;
      await new Promise((r) => setTimeout(r, 100));
      expect(target).toMatchObject({ state: "unused", reason: "Target.NotInUse" });

      const l = await listener(ctx, [forward([[tg, 1]])]);
      await eventually(() => target.reason === "Elb.InitialHealthChecking", { what: "initial" });
      expect(target.state).toBe("initial");
      await eventually(() => target.state === "healthy", { what: "healthy" });

      changeListener(ctx, l, [fixed("gone")]);
      await eventually(() => target.state === "unused", { what: "unused again" });
      expect(target.reason).toBe("Target.NotInUse");
    });
  });

  describe("listener proxy", () => {
    it("splits a 95/5 forward within 2 points over 2,000 requests", async () => {
      const blue = targetGroup(ctx);
      const green = targetGroup(ctx);
      register(ctx, blue, r1a);
      register(ctx, green, r2a);
      const l = await listener(ctx, [
        forward([
          [blue, 95],
          [green, 5],
        ]),
      ]);
      await Promise.all([allHealthy(blue), allHealthy(green)]);
      const counts = { r1: 0, r2: 0 };
      const worker = async () => {
        for (let i = 0; i < 100; i++) {
          const answer = await get(ctx, l);
          counts[versionOf(answer) as "r1" | "r2"]++;
        }
      };
      await Promise.all(Array.from({ length: 20 }, worker));
      expect(counts.r1 + counts.r2).toBe(2000);
      expect(Math.abs((counts.r2 / 2000) * 100 - 5)).toBeLessThanOrEqual(2);
    });

    it("keeps a client with the stickiness cookie on one target group", async () => {
      const blue = targetGroup(ctx);
      const green = targetGroup(ctx);
      register(ctx, blue, r1a);
      register(ctx, green, r2a);
      const l = await listener(ctx, [
        forward(
          [
            [blue, 50],
            [green, 50],
          ],
          3600,
        ),
      ]);
      await Promise.all([allHealthy(blue), allHealthy(green)]);

      // without the cookie, requests spread over both groups
      const seen = new Set<string | null>();
      for (let i = 0; i < 50; i++) seen.add((await get(ctx, l)).targetGroup);
      expect(seen.size).toBe(2);

      const first = await get(ctx, l);
      const cookie = first.setCookie.find((c) => c.startsWith("AWSALBTG="));
      expect(cookie).toBeDefined();
      expect(first.setCookie.some((c) => c.startsWith("AWSALBTGCORS="))).toBe(true);
      const header = { cookie: cookie!.split(";")[0]! };
      for (let i = 0; i < 50; i++) {
        expect((await get(ctx, l, "/", header)).targetGroup).toBe(first.targetGroup);
      }
    });

    it("keeps a sticky client on a group at weight 0 until stickiness is turned off", async () => {
      const blue = targetGroup(ctx);
      const green = targetGroup(ctx);
      register(ctx, blue, r1a);
      register(ctx, green, r2a);
      const l = await listener(ctx, [forward([[green, 1]], 3600)]);
      await allHealthy(green);
      const first = await get(ctx, l);
      expect(first.targetGroup).toBe(green.name);
      const header = { cookie: first.setCookie[0]!.split(";")[0]! };

      changeListener(ctx, l, [
        forward(
          [
            [blue, 100],
            [green, 0],
          ],
          3600,
        ),
      ]);
      await allHealthy(blue);
      await eventually(async () => (await get(ctx, l)).targetGroup === blue.name);
      for (let i = 0; i < 20; i++) {
        expect((await get(ctx, l, "/", header)).targetGroup).toBe(green.name);
        expect((await get(ctx, l)).targetGroup).toBe(blue.name);
      }

      changeListener(ctx, l, [
        forward([
          [blue, 100],
          [green, 0],
        ]),
      ]);
      await eventually(async () => (await get(ctx, l, "/", header)).targetGroup === blue.name);
      for (let i = 0; i < 20; i++) {
        expect((await get(ctx, l, "/", header)).targetGroup).toBe(blue.name);
      }
    });

    it("still sends traffic when every target is unhealthy (fails open)", async () => {
      const tg = targetGroup(ctx);
      register(ctx, tg, sickA, sickB);
      const l = await listener(ctx, [forward([[tg, 1]])]);
      await eventually(() => [...tg.targets.values()].every((t) => t.state === "unhealthy"), {
        what: "every target unhealthy",
      });
      const targets = new Set<string | null>();
      for (let i = 0; i < 10; i++) {
        const answer = await get(ctx, l);
        expect(answer.status).toBe(200);
        expect(versionOf(answer)).toBe("sick");
        targets.add(answer.target);
      }
      expect(targets).toEqual(new Set([sickA.instanceId, sickB.instanceId]));
    });

    it("sends only to healthy targets while one is healthy", async () => {
      const tg = targetGroup(ctx);
      register(ctx, tg, r1b, sickA);
      const l = await listener(ctx, [forward([[tg, 1]])]);
      await eventually(() => tg.targets.get(sickA.instanceId)?.state === "unhealthy");
      await eventually(() => tg.targets.get(r1b.instanceId)?.state === "healthy");
      for (let i = 0; i < 10; i++) expect((await get(ctx, l)).target).toBe(r1b.instanceId);
    });

    it("drains a deregistered target: in-flight requests finish, new ones go elsewhere", async () => {
      // 60 s deregistration delay: 600 ms here
      const tg = targetGroup(ctx, { deregistrationDelay: 60 });
      register(ctx, tg, r1a, r1b);
      const l = await listener(ctx, [forward([[tg, 1]])]);
      await allHealthy(tg);

      const slow = await fetch(`${ctx.runtime.listenerUrl(l.arn)}/stream?ms=300`);
      const draining = slow.headers.get("x-switchyard-target")!;
      const other = draining === r1a.instanceId ? r1b.instanceId : r1a.instanceId;
      deregisterTargets(ctx, tg.arn, [{ Id: draining }]);
      expect(tg.targets.get(draining)?.state).toBe("draining");

      for (let i = 0; i < 20; i++) expect((await get(ctx, l)).target).toBe(other);
      expect(JSON.parse(await slow.text())).toMatchObject({ streamed: true, version: "r1" });
      expect(tg.targets.get(draining)?.state).toBe("draining");
      await eventually(() => !tg.targets.has(draining), { what: "the drained target to go" });
    });

    it("answers 503 for a group without targets and for a forward whose weights are all 0", async () => {
      const empty = targetGroup(ctx);
      const l = await listener(ctx, [forward([[empty, 1]])]);
      const answer = await get(ctx, l);
      expect(answer.status).toBe(503);
      expect(answer.targetGroup).toBe(empty.name);

      const tg = targetGroup(ctx);
      register(ctx, tg, r1a);
      const zero = await listener(ctx, [forward([[tg, 0]])]);
      expect((await get(ctx, zero)).status).toBe(503);
    });

    it("answers 502 when the chosen target has nothing listening", async () => {
      const broken = launch(ctx, markerFor(r1Url), BROKEN_IMAGE_ID);
      const tg = targetGroup(ctx);
      register(ctx, tg, broken);
      const l = await listener(ctx, [forward([[tg, 1]])]);
      await eventually(() => broken.state === "running");
      const answer = await get(ctx, l);
      expect(answer.status).toBe(502);
      expect(answer.body).toContain("502 Bad Gateway");
    });

    it("answers 504 when a target stays silent past the idle timeout", async () => {
      const tg = targetGroup(ctx);
      register(ctx, tg, r1b);
      const l = await listener(ctx, [forward([[tg, 1]])]);
      await allHealthy(tg);
      const answer = await get(ctx, l, "/slow?ms=5000");
      expect(answer.status).toBe(504);
    });

    it("routes by rule priority, path pattern and host, else by the default action", async () => {
      const api = targetGroup(ctx);
      register(ctx, api, r2a);
      const l: Listener = {
        arn: ctx.state.arn("elasticloadbalancing", `listener/app/runtime-rules/${hex(8)}/1`),
        loadBalancerArn: "lb",
        port: 80,
        protocol: "HTTP",
        defaultActions: [fixed("default", "404")],
      };
      const rule = (priority: string, conditions: Condition[], actions: Action[]) => {
        const arn = `${l.arn}/rule/${priority}`;
        ctx.state.rules.set(arn, { arn, listenerArn: l.arn, priority, conditions, actions });
      };
      rule("20", [{ Field: "path-pattern", Values: ["/api/*"] }], [fixed("second")]);
      rule("10", [{ Field: "path-pattern", Values: ["/api/v?"] }], [forward([[api, 1]])]);
      rule(
        "30",
        [{ Field: "host-header", HostHeaderConfig: { Values: ["*.example.com"] } }],
        [fixed("by host")],
      );
      ctx.state.listeners.set(l.arn, l);
      ctx.runtime.listenerChanged(l);
      await eventually(() => ctx.runtime.listenerUrl(l.arn));
      await allHealthy(api);

      const routed = await get(ctx, l, "/api/v1");
      expect(routed.targetGroup).toBe(api.name);
      expect(JSON.parse(routed.body)).toMatchObject({ path: "/api/v1" }); // the app's own 404
      expect((await get(ctx, l, "/api/v12")).body).toBe("second");
      expect((await get(ctx, l, "/", { host: "shop.EXAMPLE.com" })).body).toBe("by host");
      const fallback = await get(ctx, l, "/other");
      expect(fallback).toMatchObject({ status: 404, body: "default" });
    });

    it("applies a listener change only after the propagation delay", async () => {
      const l = await listener(ctx, [fixed("before")]);
      expect((await get(ctx, l)).body).toBe("before");
      const changedAt = Date.now();
      changeListener(ctx, l, [fixed("after")]);
      expect((await get(ctx, l)).body).toBe("before");
      await eventually(async () => (await get(ctx, l)).body === "after", { intervalMs: 5 });
      expect(Date.now() - changedAt).toBeGreaterThanOrEqual(ctx.clock.ms(PROPAGATION_SECONDS) - 20);
    });
  });
  describe("through the SDK clients", () => {
    it("serves an Auto Scaling group's release through the listener once its targets are healthy", async () => {
      const bucket = "sdk-releases";
      await env.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await env.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: "web/sdk1.tar.gz",
          Body: await buildSampleRelease({ version: "sdk1" }),
        }),
      );
      await env.ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: "sdk-web",
          LaunchTemplateData: {
            ImageId: BASE_IMAGE_ID,
            InstanceType: "t3.micro",
            UserData: Buffer.from(markerFor(`s3://${bucket}/web/sdk1.tar.gz`)).toString("base64"),
          },
        }),
      );
      const lb = await env.elbv2.send(
        new CreateLoadBalancerCommand({
          Name: "sdk-web",
          Subnets: ["subnet-0sandbox0000000a", "subnet-0sandbox0000000b"],
        }),
      );
      const tg = await env.elbv2.send(
        new CreateTargetGroupCommand({
          Name: "sdk-web-v001",
          Protocol: "HTTP",
          Port: 8080,
          VpcId: "vpc-0sandbox00000001",
          HealthCheckPath: "/health",
          HealthCheckIntervalSeconds: 5,
          HealthCheckTimeoutSeconds: 2,
          HealthyThresholdCount: 2,
        }),
      );
      const tgArn = tg.TargetGroups![0]!.TargetGroupArn!;
      const created = await env.elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb.LoadBalancers![0]!.LoadBalancerArn!,
          Protocol: "HTTP",
          Port: 80,
          DefaultActions: [{ Type: "forward", TargetGroupArn: tgArn }],
        }),
      );
      const listenerArn = created.Listeners![0]!.ListenerArn!;
      await env.autoscaling.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: "sdk-web-v001",
          LaunchTemplate: { LaunchTemplateName: "sdk-web", Version: "$Latest" },
          MinSize: 2,
          MaxSize: 2,
          DesiredCapacity: 2,
          VPCZoneIdentifier: "subnet-0sandbox0000000a,subnet-0sandbox0000000b",
          TargetGroupARNs: [tgArn],
        }),
      );
      await eventually(
        async () => {
          const health = await env.elbv2.send(
            new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }),
          );
          const states = health.TargetHealthDescriptions?.map((d) => d.TargetHealth?.State);
          return states?.length === 2 && states.every((s) => s === "healthy");
        },
        { what: "both targets healthy" },
      );

      const listeners = (await (
        await fetch(`${env.sandbox.endpoint}/_sandbox/listeners`)
      ).json()) as Array<{ listenerArn: string; url: string }>;
      const url = listeners.find((l) => l.listenerArn === listenerArn)!.url;
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ version: "sdk1" });

      await env.elbv2.send(
        new ModifyListenerCommand({
          ListenerArn: listenerArn,
          DefaultActions: [
            {
              Type: "fixed-response",
              FixedResponseConfig: { StatusCode: "503", MessageBody: "maintenance" },
            },
          ],
        }),
      );
      await eventually(async () => (await fetch(url)).status === 503, {
        what: "the modified listener to answer",
      });
    });
  });
});

describe("sandbox runtime shutdown", () => {
  it("leaves no release process behind after sandbox.stop()", async () => {
    const env = await sandboxWithClients();
    const ctx = env.sandbox.context;
    const url = putObject(ctx, "web/r1.tar.gz", await buildSampleRelease({ version: "r1" }));
    const forked = putObject(
      ctx,
      "web/forked.tar.gz",
      await tarball({
        Procfile: "web: sleep 300 & echo $! > sleep.pid; exec node server.mjs\n",
        "server.mjs": readFileSync(
          new URL("../../examples/sample-app/server.mjs", import.meta.url),
          "utf8",
        ),
      }),
    );
    const instances = [launch(ctx, markerFor(url)), launch(ctx, markerFor(forked))];
    const pids: number[] = [];
    for (const instance of instances) {
      await running(instance);
      const res = await fetch(`http://127.0.0.1:${instance.hostPort}/`);
      pids.push(((await res.json()) as { pid: number }).pid);
    }
    const sleepPidFile = join(
      ctx.settings.stateDir,
      "instances",
      instances[1]!.instanceId,
      "sleep.pid",
    );
    const sleepPid = Number(readFileSync(sleepPidFile, "utf8").trim());
    expect(sleepPid).toBeGreaterThan(0);

    await env.stop();

    for (const pid of pids) {
      expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
    }
    // the command's other processes went with it (an exited orphan may linger as a zombie
    // until init reaps it; it no longer runs)
    expect(isRunning(sleepPid)).toBe(false);
    expect(existsSync(ctx.settings.stateDir)).toBe(false);
  });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}
