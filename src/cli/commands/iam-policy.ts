/**
 * `switchyard iam-policy [service...]`: the least-privilege IAM policy switchyard's operator or
 * CI role needs, from the config alone (no AWS call), as pretty JSON on stdout.
 */
import type { Command } from "commander";
import { globalsOf, writeLine } from "../io.js";
import type { CommandContext } from "../program.js";
import { noteService } from "../shared.js";

export function registerIamPolicy(program: Command, { io, state }: CommandContext): void {
  program
    .command("iam-policy")
    .description(
      "print the least-privilege IAM policy switchyard needs for the services (JSON, from the config)",
    )
    .argument("[service...]", "services, <app>/<env> (default: every service in the config)")
    .option(
      "--adopt",
      "allow `switchyard adopt` of groups another tool made: their first switchyard:* tags, then management by tag",
    )
    .option(
      "--instance-role",
      "print the policy of the instances' role instead (reading the services' releases)",
    )
    .action(
      async (
        services: string[],
        flags: { instanceRole?: boolean; adopt?: boolean },
        command: Command,
      ) => {
        if (services.length === 1) noteService(state, services[0]);
        const globals = globalsOf(command, io);
        const [{ loadConfig }, { iamPolicy, instanceRolePolicy }] = await Promise.all([
          import("../../core/config.js"),
          import("../../core/iam-policy.js"),
        ]);
        const { config } = await loadConfig({ path: globals.config, cwd: io.cwd, env: io.env });
        // an unknown service is UNKNOWN_SERVICE (exit 2)
        const policy = flags.instanceRole
          ? instanceRolePolicy(config, services)
          : iamPolicy(config, services, flags.adopt ? { adopt: true } : {});
        writeLine(io.stdout, JSON.stringify(policy, null, 2));
      },
    );
}
