/** The only way into AWS: clients, retrying calls and narrow typed operations. */
export * from "./autoscaling.js";
export * from "./bootstrap.js";
export * from "./call.js";
export * from "./clients.js";
export * from "./cloudwatch.js";
export * from "./ec2.js";
export * from "./elbv2.js";
export * from "./s3.js";
