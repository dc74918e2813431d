import type { QueryHandlers } from "../../context.js";

export const ec2Handlers: QueryHandlers = {};
