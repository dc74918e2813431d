/**
 * The sandbox's IAM, query protocol, version 2010-05-08: roles, inline role policies, managed
 * policies and their versions, attachments and instance profiles. Everything is stored and
 * returned as IAM would; nothing is enforced (any credentials may call anything).
 */
import type { QueryHandlers } from "../../context.js";
import { instanceProfileHandlers } from "./instance-profiles.js";
import { policyHandlers } from "./policies.js";
import { roleHandlers } from "./roles.js";

export const iamHandlers: QueryHandlers = {
  ...roleHandlers,
  ...policyHandlers,
  ...instanceProfileHandlers,
};
