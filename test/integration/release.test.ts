/**
 * Releases on the sandbox: push a directory, list it, refuse the same version twice, deploy it
 * by bare version, and a multipart push of a large release.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { list } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PreconditionFailed, uploadFile } from "../../src/aws/s3.js";
import { exitCodeOf, isSwitchyardError } from "../../src/core/errors.js";
import { RELEASE_METADATA } from "../../src/release/push.js";
import { eventually } from "../helpers/sandbox.js";
import { SERVICE, type SwapWorld, sampleAppDir, swapWorld } from "../helpers/swap-world.js";

/** A release directory of the sample app; it reports the manifest's version. */

/** What the listener answers on `/`, once it answers 200 (health checks are real and run on
 * a shrunk clock, so a loaded machine can briefly see a 503). */
function answer(world: SwapWorld): Promise<{ version?: string }> {
  return eventually(
    async () => {
      const res = await fetch(world.listenerUrl());
      return res.status === 200 ? ((await res.json()) as { version?: string }) : undefined;
    },
    { timeoutMs: 10_000, what: "the listener to answer 200" },
  );
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("releases: push, list, deploy by version", () => {
  let world: SwapWorld;
  let root: string;
  beforeAll(async () => {
    world = await swapWorld({
      releases: [],
      desired: 1,
    });
    root = await mkdtemp(join(tmpdir(), "switchyard-release-it-"));
  });
  afterAll(async () => {
    await world?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("pushes a directory with a Procfile; list shows it with the manifest's sha256", async () => {
    const dir = await sampleAppDir(root, "r7");
    const progress: Array<{ loaded: number; total: number }> = [];
    const pushed = await world.yard.releases.push(SERVICE, {
      source: dir,
      version: "r7",
      onProgress: (p) => progress.push(p),
    });
    expect(pushed).toMatchObject({ url: "s3://releases/web/test/r7.tar.gz", version: "r7" });
    expect(pushed.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(progress.at(-1)).toEqual({ loaded: pushed.size, total: pushed.size });

    // the manifest inside the object carries the same digest
    const object = await world.clients.s3.send(
      new GetObjectCommand({ Bucket: "releases", Key: "web/test/r7.tar.gz" }),
    );
    expect(object.Metadata).toMatchObject({
      [RELEASE_METADATA.version]: "r7",
      [RELEASE_METADATA.sha256]: pushed.sha256,
    });
    const file = join(root, "r7-downloaded.tar.gz");
    await writeFile(file, await object.Body!.transformToByteArray());
    let manifest: { sha256?: string; version?: string } = {};
    await list({
      file,
      onReadEntry: (e) => {
        if (e.path !== "switchyard-release.json") return;
        const chunks: Buffer[] = [];
        e.on("data", (c: Buffer) => chunks.push(c));
        e.on("end", () => {
          manifest = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        });
      },
    });
    expect(manifest).toMatchObject({ version: "r7", sha256: pushed.sha256 });

    const releases = await world.yard.releases.list(SERVICE);
    expect(releases).toEqual([
      expect.objectContaining({
        version: "r7",
        url: pushed.url,
        size: pushed.size,
        sha256: pushed.sha256,
        live: false,
        standby: false,
      }),
    ]);
  });

  it("the same version twice is RELEASE_EXISTS (exit 2), naming the URL", async () => {
    const dir = await sampleAppDir(root, "r7-again");
    const error = await caught(world.yard.releases.push(SERVICE, { source: dir, version: "r7" }));
    expect(isSwitchyardError(error, "RELEASE_EXISTS")).toBe(true);
    expect(exitCodeOf(error)).toBe(2);
    expect((error as Error).message).toContain("s3://releases/web/test/r7.tar.gz");
  });

  it("deploys by bare version; list marks the live and standby releases, newest first", async () => {
    const first = await world.yard.deploy(SERVICE, { release: "r7", bakeMs: 50 }).result;
    expect(first).toMatchObject({ ok: true, live: "web-test-v001" });
    expect(await answer(world)).toMatchObject({ version: "r7" });

    await world.yard.releases.push(SERVICE, {
      source: await sampleAppDir(root, "r8"),
      version: "r8",
    });
    const second = await world.yard.deploy(SERVICE, {
      release: "r8",
      bakeMs: 50,
      steps: [50, 100],
    }).result;
    expect(second).toMatchObject({ ok: true, live: "web-test-v002", standby: "web-test-v001" });
    expect(await answer(world)).toMatchObject({ version: "r8" });

    const releases = await world.yard.releases.list(SERVICE);
    expect(releases.map((r) => [r.version, r.live, r.standby])).toEqual([
      ["r8", true, false],
      ["r7", false, true],
    ]);
  });

  it("refuses a directory without a Procfile before uploading anything", async () => {
    const dir = join(root, "no-procfile");
    await mkdir(dir);
    await writeFile(join(dir, "server.mjs"), "");
    const before = world.clients.calls.get("s3:PutObject") ?? 0;
    const error = await caught(world.yard.releases.push(SERVICE, { source: dir, version: "r9" }));
    expect(isSwitchyardError(error, "INVALID_INPUT")).toBe(true);
    expect((error as Error).message).toContain(join(dir, "Procfile"));
    expect(world.clients.calls.get("s3:PutObject") ?? 0).toBe(before);
  });
});

describe("a large release goes up in parts", () => {
  let world: SwapWorld;
  let root: string;
  let bigSize = 0;
  beforeAll(async () => {
    world = await swapWorld({ releases: [] });
    root = await mkdtemp(join(tmpdir(), "switchyard-release-big-"));
  });
  afterAll(async () => {
    await world?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("a >16 MB release round-trips through a multipart upload with progress", async () => {
    const dir = await sampleAppDir(root, "big");
    const blob = randomBytes(17 * 1024 * 1024);
    await writeFile(join(dir, "blob.bin"), blob);
    const progress: number[] = [];
    const pushed = await world.yard.releases.push(SERVICE, {
      source: dir,
      version: "big1",
      onProgress: (p) => progress.push(p.loaded),
    });
    expect(pushed.size).toBeGreaterThan(16 * 1024 * 1024);
    bigSize = pushed.size;
    const calls = world.clients.calls;
    expect(calls.get("s3:CreateMultipartUpload")).toBe(1);
    expect(calls.get("s3:UploadPart")).toBe(3); // 8 + 8 + the rest
    expect(calls.get("s3:CompleteMultipartUpload")).toBe(1);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.at(-1)).toBe(pushed.size);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);

    const head = await world.clients.s3.send(
      new HeadObjectCommand({ Bucket: "releases", Key: "web/test/big1.tar.gz" }),
    );
    expect(head.ContentLength).toBe(pushed.size);
    expect(head.Metadata?.[RELEASE_METADATA.sha256]).toBe(pushed.sha256);

    // the bytes that come back unpack to the same blob
    const object = await world.clients.s3.send(
      new GetObjectCommand({ Bucket: "releases", Key: "web/test/big1.tar.gz" }),
    );
    const file = join(root, "big1.tar.gz");
    await writeFile(file, await object.Body!.transformToByteArray());
    expect((await stat(file)).size).toBe(pushed.size);
    const chunks: Buffer[] = [];
    await list({
      file,
      onReadEntry: (e) => {
        if (e.path === "blob.bin") e.on("data", (c: Buffer) => chunks.push(c));
      },
    });
    expect(Buffer.concat(chunks).equals(blob)).toBe(true);
  });

  it("a multipart create never overwrites: If-None-Match reaches CompleteMultipartUpload", async () => {
    // bypasses push's early HeadObject check to prove the conditional create itself
    const file = join(root, "other.bin");
    await writeFile(file, randomBytes(9 * 1024 * 1024));
    const before = world.clients.calls.get("s3:CompleteMultipartUpload") ?? 0;
    const error = await caught(
      uploadFile(world.clients, {
        bucket: "releases",
        key: "web/test/big1.tar.gz",
        file,
        size: (await stat(file)).size,
        ifNoneMatch: true,
      }),
    );
    expect(error).toBeInstanceOf(PreconditionFailed);
    expect(world.clients.calls.get("s3:CompleteMultipartUpload")).toBe(before + 1);
    const head = await world.clients.s3.send(
      new HeadObjectCommand({ Bucket: "releases", Key: "web/test/big1.tar.gz" }),
    );
    // the first upload is still there, untouched
    expect(head.ContentLength).toBe(bigSize);
    expect(head.Metadata?.[RELEASE_METADATA.version]).toBe("big1");
  });
});
