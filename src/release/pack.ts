/**
 * Packing a release: a directory becomes a `.tar.gz` with `switchyard-release.json` at its root;
 * a ready `.tar.gz` is checked and taken as is. Either way the release must hold a `Procfile`
 * with a `web:` line at its root, which is what the base image runs.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { create, list } from "tar";
import { InputError } from "../core/errors.js";
import { assertVersion } from "../core/release-url.js";
import {
  comparePaths,
  createManifest,
  MANIFEST_NAME,
  type PayloadFile,
  parseManifest,
  procfileWebCommand,
  type ReleaseManifest,
} from "./manifest.js";

export interface PackOptions {
  /** the release version (`r42`): letters, digits, '.', '-', '_' */
  version: string;
  /** the manifest's `createdAt` (default: now) */
  now?: Date;
  /** where a relative source is resolved and `git rev-parse HEAD` runs (default: process.cwd()) */
  cwd?: string;
}

export interface PackedRelease {
  /** the `.tar.gz` to upload */
  path: string;
  source: "directory" | "tarball";
  version: string;
  /** the manifest's payload digest (a directory), or the SHA-256 of the tarball as given */
  sha256: string;
  /** bytes of the tarball */
  size: number;
  createdAt: string;
  gitCommit?: string;
  /** written for a directory; read from a tarball when it holds one */
  manifest?: ReleaseManifest;
  /** removes the tarball packRelease wrote (a no-op for a tarball that was given) */
  dispose(): Promise<void>;
}

const TARBALL = /\.(tar\.gz|tgz)$/;
/** folders never packed: version-control metadata */
const SKIPPED_DIRS = new Set([".git", ".hg", ".svn"]);

function invalid(message: string, hint: string, details: Record<string, unknown>): InputError {
  return new InputError("INVALID_INPUT", message, { hint, details });
}

/** Packs a directory, or checks a ready `.tar.gz`. Throws INVALID_INPUT naming what is wrong. */
export async function packRelease(
  dirOrTarball: string,
  options: PackOptions,
): Promise<PackedRelease> {
  const version = assertVersion(options.version);
  const cwd = resolve(options.cwd ?? process.cwd());
  const source = resolve(cwd, dirOrTarball);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(source);
  } catch {
    throw invalid(
      `release source ${dirOrTarball} not found`,
      "name a directory holding a Procfile, or a .tar.gz",
      { source },
    );
  }
  if (info.isDirectory()) return packDirectory(source, version, options.now ?? new Date(), cwd);
  if (info.isFile() && TARBALL.test(source)) {
    return readTarball(source, version, options.now ?? new Date());
  }
  throw invalid(
    `release source ${dirOrTarball} is neither a directory nor a .tar.gz`,
    "name a directory holding a Procfile, or a .tar.gz (.tgz) file",
    { source },
  );
}

async function packDirectory(
  dir: string,
  version: string,
  now: Date,
  cwd: string,
): Promise<PackedRelease> {
  const procfile = join(dir, "Procfile");
  let text: string;
  try {
    text = await readFile(procfile, "utf8");
  } catch {
    throw invalid(
      `${procfile} not found: a release needs a Procfile at its root`,
      "add a Procfile with a line such as `web: node server.js`",
      { file: procfile },
    );
  }
  if (procfileWebCommand(text) === undefined) {
    throw invalid(
      `${procfile} has no web: line`,
      "add a line such as `web: node server.js`: the base image runs it with PORT set",
      { file: procfile },
    );
  }

  const paths = await payloadPaths(dir);
  const files: PayloadFile[] = [];
  for (const path of paths) files.push(await describeFile(dir, path));
  const gitCommit = await gitHead(cwd);
  const manifest = createManifest({ version, createdAt: now, files, gitCommit });

  const work = await mkdtemp(join(tmpdir(), "switchyard-release-"));
  const dispose = () => rm(work, { recursive: true, force: true });
  try {
    await writeFile(join(work, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
    const manifestTar = join(work, "manifest.tar");
    await create({ cwd: work, portable: true, file: manifestTar }, [MANIFEST_NAME]);
    const out = join(work, `${version}.tar.gz`);
    // `@file` adds the entries of another archive: the manifest goes first, at the root
    await create({ gzip: true, cwd: dir, portable: true, file: out }, [
      `@${manifestTar}`,
      ...paths.map((p) => (p.startsWith("@") || p.startsWith("-") ? `./${p}` : p)),
    ]);
    const size = (await stat(out)).size;
    return {
      path: out,
      source: "directory",
      version,
      sha256: manifest.sha256,
      size,
      createdAt: manifest.createdAt,
      ...(manifest.gitCommit ? { gitCommit: manifest.gitCommit } : {}),
      manifest,
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Every file and symlink under `dir`, relative POSIX paths in byte order; VCS folders and a
 * root-level manifest left out. */
async function payloadPaths(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    const entries = await readdir(rel ? join(dir, rel) : dir, { withFileTypes: true });
    for (const entry of entries) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await walk(path);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        if (path !== MANIFEST_NAME) out.push(path);
      }
    }
  };
  await walk("");
  return out.sort(comparePaths);
}

async function describeFile(dir: string, path: string): Promise<PayloadFile> {
  const full = join(dir, path);
  const info = await lstat(full);
  if (info.isSymbolicLink()) {
    // a link is packed as a link: its digest is that of its target's text
    const target = await readlink(full);
    return {
      path,
      size: 0,
      sha256: createHash("sha256").update(target, "utf8").digest("hex"),
    };
  }
  return { path, size: info.size, sha256: await sha256File(full) };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** `git rev-parse HEAD` in `cwd`, or undefined outside a git work tree (or without git). */
export function gitHead(cwd: string): Promise<string | undefined> {
  return new Promise((done) => {
    execFile("git", ["rev-parse", "HEAD"], { cwd, timeout: 5_000 }, (error, stdout) => {
      const commit = String(stdout ?? "").trim();
      done(!error && /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(commit) ? commit : undefined);
    });
  });
}

const SMALL_ENTRY_MAX = 8 * 1024 * 1024;

async function readTarball(file: string, version: string, now: Date): Promise<PackedRelease> {
  const wanted = new Map<string, Buffer[]>([
    ["Procfile", []],
    [MANIFEST_NAME, []],
  ]);
  const found = new Set<string>();
  try {
    await list({
      file,
      onReadEntry: (entry) => {
        const path = entry.path.replace(/^(\.\/)+/, "");
        const chunks = wanted.get(path);
        if (!chunks || entry.type !== "File" || entry.size > SMALL_ENTRY_MAX) return;
        found.add(path);
        entry.on("data", (chunk: Buffer) => chunks.push(chunk));
      },
    });
  } catch (error) {
    throw invalid(
      `${file} is not a readable .tar.gz: ${error instanceof Error ? error.message : String(error)}`,
      "pack it with `tar czf <version>.tar.gz -C <dir> .`, or push the directory",
      { file },
    );
  }
  const text = (name: string) => Buffer.concat(wanted.get(name) ?? []).toString("utf8");
  if (!found.has("Procfile")) {
    throw invalid(
      `${file} has no Procfile at its root`,
      "a release needs a Procfile with a line such as `web: node server.js` at the tarball's root",
      { file },
    );
  }
  if (procfileWebCommand(text("Procfile")) === undefined) {
    throw invalid(
      `the Procfile in ${file} has no web: line`,
      "add a line such as `web: node server.js`",
      {
        file,
      },
    );
  }
  let manifest: ReleaseManifest | undefined;
  if (found.has(MANIFEST_NAME)) {
    manifest = parseManifest(text(MANIFEST_NAME), file);
    if (manifest.version !== version) {
      throw invalid(
        `${file} was packed as version ${manifest.version}, not ${version}`,
        `push it as --version ${manifest.version}, or repack it`,
        { file, version, manifestVersion: manifest.version },
      );
    }
  }
  const size = (await stat(file)).size;
  return {
    path: file,
    source: "tarball",
    version,
    sha256: await sha256File(file),
    size,
    createdAt: manifest?.createdAt ?? now.toISOString(),
    ...(manifest?.gitCommit ? { gitCommit: manifest.gitCommit } : {}),
    ...(manifest ? { manifest } : {}),
    dispose: async () => undefined,
  };
}
