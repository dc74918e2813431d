import type { QueryHandlers, SandboxContext } from "../../context.js";

export const autoscalingHandlers: QueryHandlers = {};

export function startAutoScaling(_ctx: SandboxContext): () => void {
  return () => {};
}
