// `npm run bench`: runs the benchmarks in test/bench/benchmarks.ts (TypeScript, loaded with
// jiti against the sources; the rollback benchmark spawns the built CLI) and writes
// docs/benchmarks.md.
import { createJiti } from "jiti";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const jiti = createJiti(import.meta.url);
const { main } = await jiti.import("./benchmarks.ts");
await main(process.argv.slice(2));
