/**
 * A swap plan for unit tests of the swap's pure parts: web/prod, blue v001 live at 100 with an
 * older standby at 0, green v002 at 5/25/100.
 */
import type { SwapPlan } from "../../src/core/swap-model.js";

export const BLUE_TG = "arn:tg/blue";
export const GREEN_TG = "arn:tg/green";
export const OLD_TG = "arn:tg/old";

export function samplePlan(overrides: Partial<SwapPlan> = {}): SwapPlan {
  return {
    swapId: "s1",
    service: "web/prod",
    app: "web",
    env: "prod",
    release: { url: "s3://releases/web/prod/r2.tar.gz", version: "r2" },
    green: {
      name: "web-prod-v002",
      sequence: 2,
      targetGroupName: "web-prod-v002",
      launchTemplateName: "switchyard-web-prod-v002",
    },
    blue: {
      name: "web-prod-v001",
      targetGroupArn: BLUE_TG,
      release: "s3://releases/web/prod/r1.tar.gz",
      suspended: [],
    },
    originalTargetGroups: [
      { targetGroupArn: BLUE_TG, weight: 100 },
      { targetGroupArn: OLD_TG, weight: 0 },
    ],
    capacity: { min: 2, max: 4, desired: 2 },
    steps: [5, 25, 100],
    bakeMs: 60_000,
    healthyTimeoutMs: 600_000,
    stickinessSeconds: 3600,
    keepFailed: false,
    gates: [],
    originalActions: [],
    launch: {
      imageId: "ami-1",
      instanceType: "t3.small",
      securityGroupIds: [],
      userData: "",
      vpcId: "vpc-1",
      subnets: ["subnet-a"],
      healthCheckGracePeriodSeconds: 60,
      targetGroup: {
        port: 8080,
        protocol: "HTTP",
        healthCheck: {
          path: "/health",
          intervalSeconds: 10,
          timeoutSeconds: 5,
          healthyThreshold: 2,
          unhealthyThreshold: 2,
          matcher: "200",
        },
        deregistrationDelaySeconds: 30,
      },
    },
    ...overrides,
  };
}
