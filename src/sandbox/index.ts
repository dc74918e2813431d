/** The local AWS-compatible cloud: `import { startSandbox } from "switchyard/sandbox"`. */
export type { SandboxContext, SandboxSettings } from "./context.js";
export type { FaultRule } from "./faults.js";
export { Faults } from "./faults.js";
export {
  BASE_IMAGE_ID,
  BASE_IMAGE_NAME,
  BROKEN_IMAGE_ID,
  BROKEN_IMAGE_NAME,
  DEFAULT_SECURITY_GROUP_ID,
  DEFAULT_VPC_ID,
} from "./seed.js";
export { type Sandbox, type SandboxOptions, startSandbox } from "./server.js";
