/**
 * Builds a release of the sample app: a .tar.gz holding a Procfile (`web: node server.mjs`),
 * the server and the files that set its version and behaviour. Tests and the demo upload it to
 * (sandbox) S3 and name it in an instance's user data.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "tar";

export type SampleVariant = "healthy" | "never-healthy" | "flaky";

export interface SampleReleaseOptions {
  /** what `GET /` reports, e.g. `r1` */
  version: string;
  /** `healthy` (default), `never-healthy` (health check answers 500) or `flaky` (`/` fails a share of requests) */
  variant?: SampleVariant;
  /** share of `/` requests a flaky release answers with 500, 0–1 (default 0.5) */
  failRate?: number;
}

const VARIANTS: readonly SampleVariant[] = ["healthy", "never-healthy", "flaky"];

export async function buildSampleRelease(options: SampleReleaseOptions): Promise<Buffer> {
  const { version, variant = "healthy", failRate } = options;
  if (!/^[A-Za-z0-9._-]+$/.test(version)) {
    throw new RangeError(
      `version must be letters, digits, '.', '_' or '-'; got ${JSON.stringify(version)}`,
    );
  }
  if (!VARIANTS.includes(variant)) {
    throw new RangeError(`variant must be one of ${VARIANTS.join(", ")}; got ${String(variant)}`);
  }
  if (failRate !== undefined && !(failRate >= 0 && failRate <= 1)) {
    throw new RangeError(`failRate must be between 0 and 1; got ${failRate}`);
  }
  const dir = await mkdtemp(join(tmpdir(), "switchyard-sample-"));
  try {
    const server = await readFile(new URL("./server.mjs", import.meta.url));
    const files: Record<string, string | Buffer> = {
      Procfile: "web: node server.mjs\n",
      "server.mjs": server,
      VERSION: `${version}\n`,
      VARIANT: `${variant}\n`,
    };
    if (failRate !== undefined) files.FAIL_RATE = `${failRate}\n`;
    for (const [name, content] of Object.entries(files)) {
      await writeFile(join(dir, name), content);
    }
    const chunks: Buffer[] = [];
    const stream = create({ gzip: true, cwd: dir, portable: true }, Object.keys(files));
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
