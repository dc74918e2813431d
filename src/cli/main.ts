#!/usr/bin/env node
/**
 * The `switchyard` bin. Silences the AWS SDK's Node-version warning before anything can load the
 * SDK (every heavy module is imported lazily, inside the command that needs it), then runs the
 * CLI and exits with its code.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

// Node 22.1+ keeps compiled modules on disk between runs: a rollback starts faster the second
// time. Node 20 has no such cache; there this does nothing.
const { default: nodeModule } = await import("node:module");
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const { quietOnClosedPipe } = await import("./io.js");
// A reader that goes away (`| head -1`) ends the output, not with a stack trace: a short command
// finishes with its own exit code; a long one (a swap, --watch) is interrupted as by Ctrl-C.
const interrupt = () => {
  if (process.listenerCount("SIGINT") > 0) process.emit("SIGINT", "SIGINT");
};
quietOnClosedPipe(process.stdout, interrupt);
quietOnClosedPipe(process.stderr, interrupt);

const { runCli } = await import("./run.js");
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
process.exitCode = code;
