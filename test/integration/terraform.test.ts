/**
 * The project's own Terraform example, applied as a team would apply it, against a sandbox:
 * `examples/terraform/main.tf` unchanged, with only the provider pointed at the sandbox (an
 * `_override.tf` file holding the provider block `switchyard sandbox` prints: endpoints, dummy
 * credentials, the `skip_*` settings). switchyard then
 * pushes releases and deploys, swaps and rolls back on the listener Terraform made, with traffic
 * checked after each; the documented second apply (with switchyard-policy.json) creates the
 * operator policy; `terraform plan` wants no change (the listener's `ignore_changes` holds);
 * `terraform destroy` removes it all.
 *
 * Terraform and the AWS provider come from the machine, never from the network: the binary from
 * SWITCHYARD_TERRAFORM or PATH, the provider from an offline mirror (SWITCHYARD_TF_PLUGIN_DIR or
 * a well-known folder), installed through a CLI config file the test writes. When either is
 * missing the test fails and says what to install; SWITCHYARD_SKIP_TERRAFORM=1 skips it instead,
 * saying so.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from "@aws-sdk/client-auto-scaling";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { DeleteObjectsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, createClients } from "../../src/aws/clients.js";
import { terraformProvider } from "../../src/cli/commands/sandbox.js";
import type { SwitchyardConfig } from "../../src/core/config.js";
import { resolveConfig } from "../../src/core/config-schema.js";
import { iamPolicy } from "../../src/core/iam-policy.js";
import { BASE_IMAGE_NAME, type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { createSwitchyard, type Switchyard } from "../../src/switchyard.js";
import { eventually } from "../helpers/sandbox.js";
import { sampleAppDir } from "../helpers/swap-world.js";
import { TOLERANT_TARGET_GROUP } from "../helpers/tolerant-health.js";

const EXAMPLE = fileURLToPath(new URL("../../examples/terraform/main.tf", import.meta.url));
const SERVICE = "web/prod";
const STATE_BUCKET = "acme-switchyard-state";
const RELEASES_BUCKET = "acme-releases";
const SUBNETS = ["subnet-0sandbox0000000a", "subnet-0sandbox0000000b"];

/** The terraform binary: SWITCHYARD_TERRAFORM, else the first `terraform` on PATH. */
function findTerraform(): string | undefined {
  const named = process.env.SWITCHYARD_TERRAFORM;
  if (named) return existsSync(named) ? named : undefined;
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = join(dir, "terraform");
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** A filesystem mirror holding hashicorp/aws for this platform. */
function findProviderMirror(): string | undefined {
  const candidates = [
    process.env.SWITCHYARD_TF_PLUGIN_DIR,
    "/opt/tf-plugins",
    "/usr/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    join(homedir(), ".terraform.d/plugins"),
  ];
  const platform = `linux_${process.arch === "arm64" ? "arm64" : "amd64"}`;
  return candidates.find((dir) => {
    if (!dir) return false;
    const versions = join(dir, "registry.terraform.io/hashicorp/aws");
    if (!existsSync(versions)) return false;
    return readdirSync(versions).some((v) => existsSync(join(versions, v, platform)));
  });
}

const terraform = findTerraform();
const mirror = findProviderMirror();
const skipRequested = process.env.SWITCHYARD_SKIP_TERRAFORM === "1";
const missing = [
  terraform ? undefined : "the terraform binary (set SWITCHYARD_TERRAFORM or put it on PATH)",
  mirror
    ? undefined
    : "an offline mirror of the hashicorp/aws provider (set SWITCHYARD_TF_PLUGIN_DIR to a folder holding registry.terraform.io/hashicorp/aws/<version>/<platform>/)",
].filter((m) => m !== undefined);

if (skipRequested) {
  console.warn(
    "terraform.test.ts: SKIPPED because SWITCHYARD_SKIP_TERRAFORM=1; the Terraform example was not applied",
  );
}

describe.skipIf(skipRequested)("examples/terraform applied to the sandbox", () => {
  let sandbox: Sandbox;
  let clients: Clients;
  let yard: Switchyard;
  let dir: string;
  let listenerArn = "";

  /** Runs terraform in the working folder (asynchronously: the sandbox answers in this process). */
  const tf = ([command = "", ...rest]: string[]) => {
    const flags = ["validate", "output"].includes(command)
      ? ["-no-color"]
      : ["-no-color", "-input=false"];
    const child = spawn(terraform ?? "terraform", [command, ...flags, ...rest], {
      cwd: dir,
      env: {
        ...process.env,
        TF_CLI_CONFIG_FILE: join(dir, "cli.tfrc"),
        TF_DATA_DIR: join(dir, ".terraform"),
        TF_IN_AUTOMATION: "1",
        CHECKPOINT_DISABLE: "1",
        AWS_EC2_METADATA_DISABLED: "true",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      out += c.toString();
    });
    return new Promise<{ code: number | null; out: string }>((resolve) => {
      child.on("close", (code) => resolve({ code, out }));
    });
  };
  const ok = async (args: string[]) => {
    const run = await tf(args);
    expect(run.code, `terraform ${args.join(" ")}\n${run.out}`).toBe(0);
    return run.out;
  };

  /** What the listener Terraform made answers on `/`, once it is `version`. */
  const serving = (version: string) =>
    eventually(
      async () => {
        const url = sandbox.listenerUrl(listenerArn);
        if (!url) return undefined;
        const res = await fetch(url);
        if (res.status !== 200) return undefined;
        const body = (await res.json()) as { version?: string };
        return body.version === version ? body : undefined;
      },
      { timeoutMs: 20_000, what: `the listener to serve ${version}` },
    );

  beforeAll(async () => {
    if (missing.length > 0) return;
    sandbox = await startSandbox({ port: 0 });
    clients = createClients({
      endpoint: sandbox.endpoint,
      region: sandbox.region,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    dir = await mkdtemp(join(tmpdir(), "switchyard-terraform-"));
    await copyFile(EXAMPLE, join(dir, "main.tf"));
    // exactly the provider block `switchyard sandbox` prints
    await writeFile(
      join(dir, "sandbox_override.tf"),
      `${terraformProvider(sandbox.endpoint, sandbox.region).join("\n")}\n`,
    );
    await writeFile(
      join(dir, "terraform.tfvars"),
      [
        `vpc_id              = "vpc-0sandbox00000001"`,
        `public_subnet_ids   = ${JSON.stringify(SUBNETS)}`,
        `instance_subnet_ids = ${JSON.stringify(SUBNETS)}`,
        `state_bucket        = "${STATE_BUCKET}"`,
        `releases_bucket     = "${RELEASES_BUCKET}"`,
        "",
      ].join("\n"),
    );
    await writeFile(
      join(dir, "cli.tfrc"),
      `provider_installation {
  filesystem_mirror {
    path    = "${mirror}"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
`,
    );
  }, 30_000);

  afterAll(async () => {
    yard?.close();
    clients?.destroy();
    await sandbox?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("finds terraform and the offline AWS provider on this machine", () => {
    expect(missing, `missing: ${missing.join("; ")} (SWITCHYARD_SKIP_TERRAFORM=1 skips)`).toEqual(
      [],
    );
  });

  it("validates and applies before switchyard-policy.json exists", async () => {
    if (missing.length > 0) return;
    await ok(["init"]);
    // The provider waits about a minute on its own clock during apply (a new load balancer: 30 s
    // before its first look, twice; a lifecycle configuration: ten equal reads 5 s apart), so
    // validation runs beside it rather than before it.
    const [, applied] = await Promise.all([ok(["validate"]), ok(["apply", "-auto-approve"])]);
    expect(applied).toMatch(/Apply complete! Resources: 15 added/);
  }, 240_000);

  it("serves switchyard's release push, deploy, second deploy and rollback on its listener", async () => {
    if (missing.length > 0) return;
    const outputs = JSON.parse(await ok(["output", "-json", "switchyard_config"])) as {
      region: string;
      state: { bucket: string; prefix: string };
      services: Record<string, Record<string, unknown>>;
    };
    const service = outputs.services[SERVICE];
    expect(service).toBeDefined();
    listenerArn = String(service?.listenerArn);
    const config = {
      region: outputs.region,
      state: outputs.state,
      services: {
        [SERVICE]: {
          ...service,
          image: BASE_IMAGE_NAME,
          instanceType: "t3.small",
          capacity: { min: 1, max: 3, desired: 1 },
          targetGroup: TOLERANT_TARGET_GROUP,
          steps: [50, 100],
          bake: 1,
          healthyTimeout: 60,
          listenerPropagation: "0.4",
        },
      },
    } as unknown as SwitchyardConfig;
    yard = createSwitchyard({ config, clients, pollIntervalMs: 50, heartbeatMs: 500 });

    for (const version of ["r1", "r2"]) {
      await yard.releases.push(SERVICE, { source: await sampleAppDir(dir, version), version });
    }
    const first = await yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result;
    expect(first.outcome).toBe("completed");
    await serving("r1");
    const second = await yard.deploy(SERVICE, { release: "r2", bakeMs: 50 }).result;
    expect(second.outcome).toBe("completed");
    await serving("r2");
    await yard.rollback(SERVICE).result;
    await serving("r1");

    // the documented second apply: the operator policy, from `switchyard iam-policy`
    const policy = iamPolicy(resolveConfig(config), [SERVICE]);
    await writeFile(join(dir, "switchyard-policy.json"), JSON.stringify(policy, null, 2));
    expect(await ok(["apply", "-auto-approve"])).toMatch(
      /Resources: 1 added, 0 changed, 0 destroyed/,
    );
    await serving("r1");
  }, 180_000);

  it("plans no change after switchyard took over the listener", async () => {
    if (missing.length > 0) return;
    const plan = await tf(["plan", "-detailed-exitcode"]);
    expect(plan.code, plan.out).toBe(0);
    expect(plan.out).toContain("No changes.");
  }, 120_000);

  it("destroys it all once switchyard's groups and the buckets' objects are gone", async () => {
    if (missing.length > 0) return;
    // What an operator does first: switchyard's groups are not Terraform's, and buckets must be empty.
    const groups = await clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({}));
    for (const group of groups.AutoScalingGroups ?? []) {
      await clients.autoscaling.send(
        new DeleteAutoScalingGroupCommand({
          AutoScalingGroupName: group.AutoScalingGroupName,
          ForceDelete: true,
        }),
      );
    }
    await eventually(
      async () => {
        const out = await clients.ec2.send(new DescribeInstancesCommand({}));
        const states = (out.Reservations ?? []).flatMap((r) =>
          (r.Instances ?? []).map((i) => i.State?.Name),
        );
        return states.every((s) => s === "terminated");
      },
      { timeoutMs: 30_000, what: "switchyard's instances to terminate" },
    );
    for (const bucket of [STATE_BUCKET, RELEASES_BUCKET]) {
      const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key ?? "" }));
      if (keys.length > 0) {
        await clients.s3.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }),
        );
      }
    }
    const destroyed = await ok(["destroy", "-auto-approve"]);
    expect(destroyed).toMatch(/Destroy complete! Resources: 16 destroyed/);
    expect(sandbox.context.state.loadBalancers.size).toBe(0);
    expect(sandbox.context.state.iamRoles.size).toBe(0);
    expect([...sandbox.context.state.buckets.keys()]).toEqual([]);
  }, 180_000);
});
