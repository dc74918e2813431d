/** `switchyard init`: write a commented config file to start from. */
import type { Command } from "commander";
import { commandLine, globalsOf, writeLine } from "../io.js";
import type { CommandContext } from "../program.js";

export const DEFAULT_CONFIG_FILE = "switchyard.config.yaml";

/** The commented config `init` writes; valid as written (its ids are examples to replace). */
export function configTemplate(service = "web/prod"): string {
  const [app = "web", env = "prod"] = service.split("/");
  return `# switchyard config (the fields are documented in the JSON Schema below and in the README)
# yaml-language-server: $schema=./node_modules/switchyard/schema/switchyard.config.schema.json
#
# Durations are 90s, 5m, 1h, 2d or a number of seconds.
# Replace every example id below with yours (the AWS console, or \`aws elbv2 describe-listeners\`).
# To try switchyard without an AWS account: \`switchyard sandbox\`, then
# \`switchyard sandbox bootstrap ${service} --write-config ${DEFAULT_CONFIG_FILE}\`.

# region: us-east-1               # optional: else the AWS SDK's default chain

# where swap records (the locks) live
state:
  bucket: my-releases
  prefix: .switchyard

services:
  ${service}:                       # <app>/<env>: lowercase letters, digits, '-'
    # the ALB listener whose forward action switchyard shifts
    listenerArn: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/${app}-${env}/0123456789abcdef/0123456789abcdef
    # ruleArn: arn:aws:elasticloadbalancing:...:listener-rule/app/...   # optional: shift a rule instead
    vpcId: vpc-0123456789abcdef0
    subnets: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]
    securityGroups: [sg-0123456789abcdef0]
    image: ami-0123456789abcdef0     # the base AMI: an id, or an image name to look up
    instanceType: t3.small
    # instanceProfile: ${app}-${env}   # optional IAM instance profile
    capacity: { min: 2, max: 6, desired: 2 }   # first launch only; later copied from live
    targetGroup:
      port: 8080
      protocol: HTTP
      healthCheck: { path: /health, intervalSeconds: 10, timeoutSeconds: 5,
                     healthyThreshold: 2, unhealthyThreshold: 2, matcher: "200" }
      deregistrationDelaySeconds: 30
    steps: [5, 25, 50, 100]          # percent of traffic on green; ends at 100
    bake: 5m                         # wait at each step while gates are checked
    healthyTimeout: 15m              # green must be healthy within this
    stickiness: 1h                   # target-group stickiness during the shift; false to turn off
    releases: s3://my-releases/${app}/${env}/   # where releases (.tar.gz) live
    # userData: ./userdata.sh.tmpl   # optional; the built-in template is documented
    gates: []                        # commands run at each bake, e.g. ["./scripts/smoke.sh"]
    retire: { keep: 1, minAge: 24h }
`;
}

export function registerInit(program: Command, { io, state }: CommandContext): void {
  program
    .command("init")
    .description(`write a commented config file (${DEFAULT_CONFIG_FILE}, or the --config path)`)
    .option("--service <service>", "the service to put in it, <app>/<env>", "web/prod")
    .action(async (flags: { service: string }, command: Command) => {
      const globals = globalsOf(command, io);
      state.service = flags.service;
      const [
        { existsSync },
        { writeFile },
        { extname, resolve },
        { InputError },
        { serviceNameProblem },
      ] = await Promise.all([
        import("node:fs"),
        import("node:fs/promises"),
        import("node:path"),
        import("../../core/errors.js"),
        import("../../core/names.js"),
      ]);
      const problem = serviceNameProblem(flags.service);
      if (problem !== undefined) {
        throw new InputError(
          "INVALID_INPUT",
          `--service ${JSON.stringify(flags.service)}: ${problem}`,
        );
      }
      const path = resolve(io.cwd ?? process.cwd(), globals.config ?? DEFAULT_CONFIG_FILE);
      if (![".yaml", ".yml"].includes(extname(path).toLowerCase())) {
        throw new InputError(
          "INVALID_INPUT",
          `init writes a commented YAML file; ${path} is not .yaml or .yml`,
          {
            hint: `name a .yaml file with --config, or leave it out to write ${DEFAULT_CONFIG_FILE}`,
          },
        );
      }
      if (existsSync(path) && !globals.yes) {
        throw new InputError("INVALID_INPUT", `${path} already exists`, {
          hint: "pass --yes to overwrite it",
          details: { path },
        });
      }
      await writeFile(path, configTemplate(flags.service));
      if (globals.json) writeLine(io.stdout, JSON.stringify({ path, service: flags.service }));
      else {
        writeLine(io.stdout, `wrote ${path}`);
        if (!globals.quiet) {
          writeLine(
            io.stderr,
            `next: replace the example ids with yours, then \`${commandLine(`deploy ${flags.service} --release <version> --dry-run`, globals.hintArgs)}\``,
          );
        }
      }
    });
}
