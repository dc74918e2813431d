/**
 * The sandbox's ELBv2 (Application Load Balancer) API, query protocol, version 2015-12-01:
 * load balancers, HTTP listeners and rules, instance target groups, targets, tags, and the
 * attributes of load balancers and listeners.
 */
import type { QueryHandlers } from "../../context.js";
import { attributeHandlers } from "./attributes.js";
import { listenerHandlers } from "./listeners.js";
import { loadBalancerHandlers } from "./loadBalancers.js";
import { tagHandlers } from "./tags.js";
import { targetGroupHandlers } from "./targetGroups.js";

export const elbv2Handlers: QueryHandlers = {
  ...loadBalancerHandlers,
  ...listenerHandlers,
  ...targetGroupHandlers,
  ...tagHandlers,
  ...attributeHandlers,
};
