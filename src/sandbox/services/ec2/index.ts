/**
 * The sandbox's EC2 (EC2 query protocol): images, VPCs and subnets as seeded, security groups and
 * their rules, network interfaces, tags, launch templates and their versions, and the instances
 * Auto Scaling launches.
 */
import type { QueryHandlers } from "../../context.js";
import { instanceHandlers } from "./instances.js";
import { launchTemplateHandlers } from "./launch-templates.js";
import { networkHandlers } from "./network.js";
import { securityGroupHandlers } from "./security-groups.js";
import { tagHandlers } from "./tags.js";

export const ec2Handlers: QueryHandlers = {
  ...networkHandlers,
  ...securityGroupHandlers,
  ...tagHandlers,
  ...launchTemplateHandlers,
  ...instanceHandlers,
};
