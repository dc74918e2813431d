import type { QueryHandlers } from "../../context.js";

export const elbv2Handlers: QueryHandlers = {};
