import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse, parseDocument } from "yaml";
import { resolveConfig } from "../../../src/core/config-schema.js";
import { iamPolicy, iamPolicyActions, instanceRolePolicy } from "../../../src/core/iam-policy.js";
import { builtInUserData, FETCH_AND_RUN, type UserDataVars } from "../../../src/core/user-data.js";
import { packRelease } from "../../../src/release/pack.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DOC = join(ROOT, "docs/aws-setup.md");
const FETCH = join(ROOT, "examples/base-ami/fetch-and-run");
const UNIT = join(ROOT, "examples/base-ami/switchyard-release.service");
const TERRAFORM = join(ROOT, "examples/terraform/main.tf");
const CLOUDFORMATION = join(ROOT, "examples/cloudformation/listener.yaml");

/** The example server group the doc shows the built-in user data for. */
const EXAMPLE_VARS: UserDataVars = {
  releaseUrl: "s3://acme-releases/web/prod/r42.tar.gz",
  service: "web/prod",
  app: "web",
  env: "prod",
  group: "web-prod-v007",
  version: "r42",
  port: 8080,
};

function block(text: string, name: string): string {
  const start = `<!-- ${name} -->\n`;
  const end = `<!-- /${name} -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end, from);
  if (from < 0 || to < 0) throw new Error(`docs/aws-setup.md has no ${name} block`);
  return text.slice(from + start.length, to);
}

function replaceBlock(text: string, name: string, content: string): string {
  const current = block(text, name);
  const start = `<!-- ${name} -->\n`;
  return text.replace(`${start}${current}`, `${start}${content}`);
}

function fenced(lang: string, body: string): string {
  return `\`\`\`${lang}\n${body.endsWith("\n") ? body : `${body}\n`}\`\`\`\n`;
}

/** Markdown-safe table cell: no pipes, no HTML, no emphasis. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/\*/g, "\\*");
}

function actionsTable(): string {
  const rows = iamPolicyActions().map(
    (a) => `| \`${a.action}\` | \`${a.sid}\` | ${cell(a.scope)} | ${cell(a.reason)} |`,
  );
  return `${["| action | statement | resource | why |", "| --- | --- | --- | --- |", ...rows].join("\n")}\n`;
}

/** The generated blocks of the doc, from the example config the doc itself shows. */
function generated(doc: string): Record<string, string> {
  const yaml = block(doc, "example-config").replace(/^```yaml\n|```\n$/g, "");
  const config = resolveConfig(parse(yaml), { source: "docs/aws-setup.md" });
  return {
    "generated:user-data": fenced("bash", builtInUserData(EXAMPLE_VARS)),
    "generated:instance-policy": fenced(
      "json",
      JSON.stringify(instanceRolePolicy(config, ["web/prod"]), null, 2),
    ),
    "generated:iam-policy": fenced(
      "json",
      JSON.stringify(iamPolicy(config, ["web/prod"]), null, 2),
    ),
    "generated:iam-actions": actionsTable(),
  };
}

// SWITCHYARD_WRITE_DOCS=1 rewrites the generated blocks (after changing the code they show).
if (process.env.SWITCHYARD_WRITE_DOCS === "1") {
  let doc = readFileSync(DOC, "utf8");
  for (const [name, content] of Object.entries(generated(doc))) {
    doc = replaceBlock(doc, name, content);
  }
  writeFileSync(DOC, doc);
}

describe("docs/aws-setup.md (regenerate with SWITCHYARD_WRITE_DOCS=1)", () => {
  const doc = readFileSync(DOC, "utf8");
  const expected = generated(doc);

  it("shows the built-in user data exactly as switchyard writes it today", () => {
    expect(block(doc, "generated:user-data")).toBe(expected["generated:user-data"]);
    expect(doc).toContain(builtInUserData(EXAMPLE_VARS));
  });

  it("shows the policy `switchyard iam-policy web/prod` prints for the example config", () => {
    expect(block(doc, "generated:iam-policy")).toBe(expected["generated:iam-policy"]);
  });

  it("shows the instance role policy for the example config", () => {
    expect(block(doc, "generated:instance-policy")).toBe(expected["generated:instance-policy"]);
  });

  it("lists every action of the policy with its reason", () => {
    expect(block(doc, "generated:iam-actions")).toBe(expected["generated:iam-actions"]);
    for (const { action } of iamPolicyActions()) expect(doc).toContain(`\`${action}\``);
  });

  it("links only to files that exist", () => {
    const links = [...doc.matchAll(/\]\((\.\.\/[^)#\s]+|[a-z-]+\.md)(?:#[^)]*)?\)/g)].map(
      (m) => m[1] ?? "",
    );
    expect(links.length).toBeGreaterThan(3);
    for (const link of links) {
      expect(existsSync(resolve(dirname(DOC), link)), link).toBe(true);
    }
  });
});

// ─── examples/base-ami ───────────────────────────────────────────────────────────────────────

describe("examples/base-ami/fetch-and-run", () => {
  const work = mkdtempSync(join(tmpdir(), "switchyard-fetch-"));
  const s3 = join(work, "s3");
  const bin = join(work, "bin");
  const disposers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const dispose of disposers) await dispose();
    rmSync(work, { recursive: true, force: true });
  });

  /** A release directory: a Procfile that records what it was started with, and a symlink. */
  function releaseDir(name: string): string {
    const dir = join(work, name);
    mkdirSync(join(dir, "lib"), { recursive: true });
    writeFileSync(
      join(dir, "Procfile"),
      `web: echo "port=$PORT version=$(cat VERSION) cwd=$(pwd)" > "$OUT"\r\n`,
    );
    writeFileSync(join(dir, "VERSION"), "r7\n");
    writeFileSync(join(dir, "lib", "app.js"), "console.log('hi')\n");
    symlinkSync("VERSION", join(dir, "RELEASE"));
    return dir;
  }

  /** Puts a tarball on the fake S3 under `<name>.tar.gz`. */
  function putObject(name: string, tarball: string): string {
    mkdirSync(s3, { recursive: true });
    copyFileSync(tarball, join(s3, `${name}.tar.gz`));
    return `s3://acme-releases/web/prod/${name}.tar.gz`;
  }

  function tarDir(dir: string, out: string): void {
    const tar = spawnSync("tar", ["-czf", out, "-C", dir, "."], { encoding: "utf8" });
    expect(tar.stderr).toBe("");
  }

  function sha256(file: string): string {
    return createHash("sha256").update(readFileSync(file)).digest("hex");
  }

  // a fake `aws` on PATH: `s3 cp s3://…/<name> <dest>` copies from the fake S3;
  // `s3api head-object` prints FAKE_SHA (the object's switchyard-sha256 metadata) or None
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, "aws"),
    [
      "#!/bin/sh",
      'if [ "$1" = s3 ] && [ "$2" = cp ]; then',
      `  [ -f "${s3}/\${4##*/}" ] || exit 1`,
      `  cp "${s3}/\${4##*/}" "$5"; exit $?`,
      "fi",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
      'if [ "$1" = s3api ]; then echo "${FAKE_SHA:-None}"; exit 0; fi',
      "exit 2",
      "",
    ].join("\n"),
  );
  chmodSync(join(bin, "aws"), 0o755);

  function runFetch(env: Record<string, string>, args: string[] = []) {
    return spawnSync("sh", [FETCH, ...args], {
      encoding: "utf8",
      env: {
        PATH: `${bin}:${process.env.PATH ?? ""}`,
        SWITCHYARD_FOREGROUND: "1",
        SWITCHYARD_DOWNLOAD_TRIES: "1",
        AWS_DEFAULT_REGION: "us-east-1",
        ...env,
      },
    });
  }

  it("is a POSIX shell script that `sh -n` accepts, and executable", () => {
    const check = spawnSync("sh", ["-n", FETCH], { encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
    expect(readFileSync(FETCH, "utf8").startsWith("#!/bin/sh\n")).toBe(true);
    expect(statSync(FETCH).mode & 0o111).not.toBe(0);
  });

  it("verifies a release `release push` packed against its manifest and metadata, then execs web with PORT", async () => {
    const packed = await packRelease(releaseDir("pushed"), { version: "r7", cwd: work });
    disposers.push(packed.dispose);
    const url = putObject("r7", packed.path);
    const releases = join(work, "releases-pushed");
    const out = join(work, "out-pushed");
    const run = runFetch({
      SWITCHYARD_RELEASE_URL: url,
      SWITCHYARD_RELEASES_DIR: releases,
      PORT: "9123",
      FAKE_SHA: packed.sha256,
      OUT: out,
    });
    expect(run.stderr).toContain(`sha256 verified (payload ${packed.sha256})`);
    expect(run.status).toBe(0);
    expect(readFileSync(out, "utf8").trim()).toBe(`port=9123 version=r7 cwd=${releases}/r7`);
    expect(readlinkSync(join(releases, "current"))).toBe(join(releases, "r7"));
  });

  it("refuses a release whose files do not match its manifest, and unpacks nothing", async () => {
    const packed = await packRelease(releaseDir("tampered"), { version: "r8", cwd: work });
    disposers.push(packed.dispose);
    const unpacked = join(work, "tampered-unpacked");
    mkdirSync(unpacked);
    spawnSync("tar", ["-xzf", packed.path, "-C", unpacked]);
    writeFileSync(join(unpacked, "lib", "app.js"), "console.log('changed')\n");
    const tampered = join(work, "tampered.tar.gz");
    tarDir(unpacked, tampered);
    const releases = join(work, "releases-tampered");
    const run = runFetch({
      SWITCHYARD_RELEASE_URL: putObject("r8", tampered),
      SWITCHYARD_RELEASES_DIR: releases,
      OUT: join(work, "out-tampered"),
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/hash to [0-9a-f]{64}; its manifest says [0-9a-f]{64}/);
    expect(existsSync(join(releases, "r8"))).toBe(false);
  });

  it("refuses a tarball whose SHA-256 differs from its switchyard-sha256 metadata", () => {
    const tarball = join(work, "plain.tar.gz");
    tarDir(releaseDir("plain"), tarball);
    const releases = join(work, "releases-plain-bad");
    const run = runFetch({
      SWITCHYARD_RELEASE_URL: putObject("r9", tarball),
      SWITCHYARD_RELEASES_DIR: releases,
      FAKE_SHA: "0".repeat(64),
      OUT: join(work, "out-plain-bad"),
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `sha256 of s3://acme-releases/web/prod/r9.tar.gz is ${sha256(tarball)}`,
    );
    expect(existsSync(join(releases, "r9"))).toBe(false);
  });

  it("accepts a tarball pushed as is (metadata = the tarball's SHA-256) and reuses it later", () => {
    const tarball = join(work, "plain-ok.tar.gz");
    tarDir(releaseDir("plain-ok"), tarball);
    const releases = join(work, "releases-plain-ok");
    const out = join(work, "out-plain-ok");
    const env = {
      SWITCHYARD_RELEASE_URL: putObject("r10", tarball),
      SWITCHYARD_RELEASE_VERSION: "r10",
      SWITCHYARD_RELEASES_DIR: releases,
      FAKE_SHA: sha256(tarball),
      OUT: out,
    };
    const first = runFetch(env, ["run"]);
    expect(first.stderr).toContain("sha256 verified");
    expect(first.status).toBe(0);
    const again = runFetch({ ...env, PATH: "/usr/bin:/bin" }, ["run"]); // no aws on PATH now
    expect(again.stderr).toContain("reusing");
    expect(again.status).toBe(0);
    expect(readFileSync(out, "utf8")).toContain(`port=8080 version=r7 cwd=${releases}/r10`);
  });

  it("runs a release with neither manifest nor metadata, saying it is unverified", () => {
    const tarball = join(work, "bare.tar.gz");
    tarDir(releaseDir("bare"), tarball);
    const run = runFetch({
      SWITCHYARD_RELEASE_URL: putObject("r11", tarball),
      SWITCHYARD_RELEASES_DIR: join(work, "releases-bare"),
      OUT: join(work, "out-bare"),
    });
    expect(run.stderr).toContain("not verifying");
    expect(run.status).toBe(0);
  });

  it("fails with a message when the release URL is missing or not s3://", () => {
    const missing = runFetch({ SWITCHYARD_RELEASES_DIR: join(work, "x") }, ["run"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("SWITCHYARD_RELEASE_URL is not set");
    const https = runFetch(
      {
        SWITCHYARD_RELEASE_URL: "https://example.com/r1.tar.gz",
        SWITCHYARD_RELEASES_DIR: join(work, "x"),
      },
      ["run"],
    );
    expect(https.status).toBe(1);
    expect(https.stderr).toContain("must be s3://");
  });

  it("fails when the download fails, naming the instance role permission", () => {
    const run = runFetch({
      SWITCHYARD_RELEASE_URL: "s3://acme-releases/web/prod/r404.tar.gz",
      SWITCHYARD_RELEASES_DIR: join(work, "releases-404"),
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("s3:GetObject");
  });
});

describe("examples/base-ami/switchyard-release.service", () => {
  const unit = readFileSync(UNIT, "utf8");
  const script = readFileSync(FETCH, "utf8");

  it("runs `fetch-and-run run` from the path the built-in user data execs", () => {
    expect(unit).toMatch(new RegExp(`^ExecStart=${FETCH_AND_RUN} run$`, "m"));
    expect(builtInUserData(EXAMPLE_VARS)).toContain(`exec ${FETCH_AND_RUN}\n`);
  });

  it("reads the environment file fetch-and-run writes, as an unprivileged user", () => {
    const envFile = /ENV_FILE=\$\{SWITCHYARD_ENV_FILE:-([^}]+)\}/.exec(script)?.[1];
    expect(envFile).toBe("/etc/switchyard/release.env");
    expect(unit).toContain(`EnvironmentFile=${envFile}`);
    expect(unit).toMatch(/^User=(?!root$)\w+$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^WantedBy=multi-user\.target$/m);
  });
});

// ─── the listener examples ───────────────────────────────────────────────────────────────────

describe("examples/cloudformation/listener.yaml", () => {
  const text = readFileSync(CLOUDFORMATION, "utf8");

  it("parses as plain YAML (long-form intrinsics, no custom tags)", () => {
    const document = parseDocument(text);
    expect(document.errors).toEqual([]);
    expect(document.warnings).toEqual([]);
  });

  it("declares a listener whose default action is a fixed 503", () => {
    const template = parse(text) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const listener = template.Resources.Listener;
    expect(listener?.Type).toBe("AWS::ElasticLoadBalancingV2::Listener");
    expect(listener?.Properties.DefaultActions).toEqual([
      {
        Type: "fixed-response",
        FixedResponseConfig: {
          StatusCode: "503",
          ContentType: "text/plain",
          MessageBody: "no release deployed yet",
        },
      },
    ]);
  });

  it("versions the state bucket and expires old record versions and history", () => {
    const template = parse(text) as {
      Resources: Record<string, { Properties: Record<string, unknown> }>;
    };
    const bucket = template.Resources.StateBucket?.Properties as {
      VersioningConfiguration: { Status: string };
      LifecycleConfiguration: { Rules: Array<Record<string, unknown>> };
    };
    expect(bucket.VersioningConfiguration.Status).toBe("Enabled");
    const rules = bucket.LifecycleConfiguration.Rules;
    expect(rules.some((r) => "NoncurrentVersionExpiration" in r)).toBe(true);
    expect(rules.some((r) => JSON.stringify(r.Prefix).includes("/history/"))).toBe(true);
  });
});

describe("examples/terraform/main.tf", () => {
  const text = readFileSync(TERRAFORM, "utf8");

  function resourceBody(type: string, name: string): string {
    const start = text.indexOf(`resource "${type}" "${name}" {`);
    expect(start, `${type}.${name}`).toBeGreaterThanOrEqual(0);
    let depth = 0;
    for (let i = text.indexOf("{", start); i < text.length; i++) {
      if (text[i] === "{") depth++;
      else if (text[i] === "}" && --depth === 0) return text.slice(start, i + 1);
    }
    throw new Error(`unbalanced braces in ${type}.${name}`);
  }

  it("has balanced braces", () => {
    const code = text.replace(/#.*$/gm, "").replace(/"(?:[^"\\]|\\.)*"/g, '""');
    expect(code.split("{").length).toBe(code.split("}").length);
  });

  it("declares the listener with a fixed 503 and ignores later changes to its default action", () => {
    const listener = resourceBody("aws_lb_listener", "http");
    expect(listener).toMatch(/type\s*=\s*"fixed-response"/);
    expect(listener).toMatch(/status_code\s*=\s*"503"/);
    expect(listener).toMatch(/lifecycle\s*\{\s*ignore_changes\s*=\s*\[default_action\]\s*\}/);
  });

  it("versions the state bucket and expires old record versions and history", () => {
    expect(resourceBody("aws_s3_bucket_versioning", "state")).toMatch(/status\s*=\s*"Enabled"/);
    const lifecycle = resourceBody("aws_s3_bucket_lifecycle_configuration", "state");
    expect(lifecycle).toContain("noncurrent_version_expiration");
    expect(lifecycle).toContain("/history/");
  });

  it("gives the instance role and profile one name and lets the role read releases only", () => {
    expect(resourceBody("aws_iam_role", "instance")).toContain("name               = local.name");
    expect(resourceBody("aws_iam_instance_profile", "instance")).toContain("name = local.name");
    const read = resourceBody("aws_iam_role_policy", "read_releases");
    expect(read).toContain('Action   = ["s3:GetObject"]');
  });
});
