import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that take longest, longest first: started first, they run beside the many short
 * ones instead of alone at the end (a clean checkout has no timing cache to learn this from).
 */
const LONGEST_FIRST = [
  "test/integration/abort-under-load-aws-timing.test.ts",
  "test/integration/terraform.test.ts",
  "test/e2e/docs-run.test.ts",
  "test/e2e/cli.test.ts",
  "test/integration/crash-resume.test.ts",
  "test/integration/abort-under-load.test.ts",
  "test/integration/metric-gates.test.ts",
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((name) => f.moduleId.endsWith(name));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    // most test time is spent waiting (sandbox timers, bakes, Terraform's own waits): three
    // workers on two cores keep both busy
    maxWorkers: 3,
    sequence: { sequencer: LongestFirst },
    reporters: ["default", "json"],
    outputFile: { json: ".tmp/vitest-results.json" },
  },
});
