/**
 * The sandbox's EC2 (EC2 query protocol): images, VPCs, subnets and security groups as seeded,
 * launch templates and their versions, and the instances Auto Scaling launches.
 */
import type { QueryHandlers } from "../../context.js";
import { instanceHandlers } from "./instances.js";
import { launchTemplateHandlers } from "./launch-templates.js";
import { networkHandlers } from "./network.js";

export const ec2Handlers: QueryHandlers = {
  ...networkHandlers,
  ...launchTemplateHandlers,
  ...instanceHandlers,
};
