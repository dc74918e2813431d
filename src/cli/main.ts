#!/usr/bin/env node
/**
 * The `switchyard` bin. Silences the AWS SDK's Node-version warning before anything can load the
 * SDK (every heavy module is imported lazily, inside the command that needs it), then runs the
 * CLI and exits with its code.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const { runCli } = await import("./run.js");
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
process.exitCode = code;
