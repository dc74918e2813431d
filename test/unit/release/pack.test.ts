import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, list } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSwitchyardError } from "../../../src/core/errors.js";
import { MANIFEST_NAME, payloadDigest } from "../../../src/release/manifest.js";
import { packRelease } from "../../../src/release/pack.js";

const sha = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

async function entries(file: string): Promise<Array<{ path: string; text: string }>> {
  const out: Array<{ path: string; chunks: Buffer[] }> = [];
  await list({
    file,
    onReadEntry: (e) => {
      const item = { path: e.path, chunks: [] as Buffer[] };
      out.push(item);
      e.on("data", (c: Buffer) => item.chunks.push(c));
    },
  });
  return out.map((e) => ({ path: e.path, text: Buffer.concat(e.chunks).toString("utf8") }));
}

async function expectInvalid(promise: Promise<unknown>, pattern: RegExp) {
  try {
    await promise;
    expect.unreachable("expected INVALID_INPUT");
  } catch (error) {
    expect(isSwitchyardError(error, "INVALID_INPUT"), String(error)).toBe(true);
    expect((error as Error).message).toMatch(pattern);
  }
}

describe("packRelease", () => {
  let root: string;
  let app: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "switchyard-pack-test-"));
    app = join(root, "app");
    await mkdir(join(app, "lib"), { recursive: true });
    await mkdir(join(app, ".git"), { recursive: true });
    await writeFile(join(app, "Procfile"), "web: node server.js\n");
    await writeFile(join(app, "server.js"), "console.log('hi')\n");
    await writeFile(join(app, "lib", "util.js"), "export {}\n");
    await writeFile(join(app, ".git", "HEAD"), "ref: refs/heads/main\n");
    await writeFile(join(app, MANIFEST_NAME), "{ stale }");
    await symlink("server.js", join(app, "main.js"));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("packs a directory with the manifest first, at the root, and a stable digest", async () => {
    const now = new Date("2026-03-04T05:06:07.000Z");
    const packed = await packRelease(app, { version: "r42", now, cwd: root });
    try {
      const got = await entries(packed.path);
      expect(got.map((e) => e.path)).toEqual([
        MANIFEST_NAME,
        "Procfile",
        "lib/util.js",
        "main.js",
        "server.js",
      ]);
      const manifest = JSON.parse(got[0]!.text);
      expect(manifest).toMatchObject({ version: "r42", createdAt: now.toISOString() });
      expect(manifest.files.map((f: { path: string }) => f.path)).toEqual([
        "Procfile",
        "lib/util.js",
        "main.js",
        "server.js",
      ]);
      expect(manifest.files[0]).toEqual({
        path: "Procfile",
        size: 20,
        sha256: sha("web: node server.js\n"),
      });
      // a link is described by its target
      expect(manifest.files[2].sha256).toBe(sha("server.js"));
      expect(manifest.sha256).toBe(payloadDigest(manifest.files));
      expect(packed).toMatchObject({
        source: "directory",
        version: "r42",
        sha256: manifest.sha256,
        size: (await stat(packed.path)).size,
      });
      // not in a git work tree: no commit
      expect(manifest.gitCommit).toBeUndefined();
      expect(packed.gitCommit).toBeUndefined();
    } finally {
      await packed.dispose();
    }
    await expect(stat(packed.path)).rejects.toThrow();
  });

  it("gives the same digest for the same files packed again later", async () => {
    const a = await packRelease(app, { version: "r1", now: new Date(1), cwd: root });
    const b = await packRelease(app, { version: "r2", now: new Date(2), cwd: root });
    expect(a.sha256).toBe(b.sha256);
    await a.dispose();
    await b.dispose();
  });

  it("records the commit when run inside a git work tree", async () => {
    const repo = join(root, "repo");
    await mkdir(repo);
    const git = (...args: string[]) =>
      execFileSync("git", args, { cwd: repo, encoding: "utf8" }).trim();
    git("init", "-q");
    git(
      "-c",
      "user.email=t@example.com",
      "-c",
      "user.name=t",
      "commit",
      "-q",
      "--allow-empty",
      "-m",
      "x",
    );
    const head = git("rev-parse", "HEAD");
    const packed = await packRelease(app, { version: "r3", cwd: repo });
    try {
      expect(packed.gitCommit).toBe(head);
      expect(packed.manifest?.gitCommit).toBe(head);
    } finally {
      await packed.dispose();
    }
  });

  it("takes a ready tarball as is: its sha256, and the manifest's createdAt", async () => {
    const packed = await packRelease(app, {
      version: "r5",
      now: new Date("2026-01-01T00:00:00.000Z"),
      cwd: root,
    });
    const copy = join(root, "r5.tar.gz");
    await writeFile(copy, await readFile(packed.path));
    await packed.dispose();
    const given = await packRelease(copy, { version: "r5", cwd: root });
    expect(given).toMatchObject({
      source: "tarball",
      path: copy,
      sha256: sha(await readFile(copy)),
      createdAt: "2026-01-01T00:00:00.000Z",
    });
    expect(given.manifest?.version).toBe("r5");
    await given.dispose();
    await expect(stat(copy)).resolves.toBeTruthy();
    await expectInvalid(packRelease(copy, { version: "r6", cwd: root }), /packed as version r5/);
  });

  it("takes a tarball without a manifest", async () => {
    const dir = join(root, "plain");
    await mkdir(dir);
    await writeFile(join(dir, "Procfile"), "web: ./run\n");
    const file = join(root, "plain.tgz");
    await create({ gzip: true, cwd: dir, file }, ["."]);
    const given = await packRelease(file, { version: "p1", now: new Date(5), cwd: root });
    expect(given.manifest).toBeUndefined();
    expect(given.createdAt).toBe(new Date(5).toISOString());
  });

  it("refuses a directory without a Procfile, or without a web: line, naming the file", async () => {
    const empty = join(root, "empty");
    await mkdir(empty);
    await expectInvalid(packRelease(empty, { version: "r1" }), /empty\/Procfile not found/);
    await writeFile(join(empty, "Procfile"), "worker: x\n");
    await expectInvalid(packRelease(empty, { version: "r1" }), /empty\/Procfile has no web: line/);
  });

  it("refuses a tarball without a Procfile, a bad version and a missing source", async () => {
    const dir = join(root, "noproc");
    await mkdir(dir);
    await writeFile(join(dir, "x"), "x");
    const file = join(root, "noproc.tar.gz");
    await create({ gzip: true, cwd: dir, file }, ["x"]);
    await expectInvalid(packRelease(file, { version: "r1" }), /has no Procfile at its root/);
    await expectInvalid(packRelease(app, { version: "r 1" }), /invalid release version/);
    await expectInvalid(packRelease(join(root, "nope"), { version: "r1" }), /not found/);
    await writeFile(join(root, "junk.tar.gz"), "not a tarball");
    await expectInvalid(
      packRelease(join(root, "junk.tar.gz"), { version: "r1" }),
      /not a readable \.tar\.gz|no Procfile/,
    );
  });
});
