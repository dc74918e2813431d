/** What a new sandbox account holds: a default VPC, a subnet per zone, a security group, images. */
import type { SandboxState } from "./state.js";

export const BASE_IMAGE_NAME = "switchyard-sandbox-base";
export const BROKEN_IMAGE_NAME = "switchyard-sandbox-broken";
export const BASE_IMAGE_ID = "ami-05a1dbox0base0001";
export const BROKEN_IMAGE_ID = "ami-05a1dbox0broken01";
export const DEFAULT_VPC_ID = "vpc-0sandbox00000001";
export const DEFAULT_SECURITY_GROUP_ID = "sg-0sandbox00000001";

export function seed(state: SandboxState): void {
  const created = new Date("2026-01-01T00:00:00Z");
  state.images.set(BASE_IMAGE_ID, {
    imageId: BASE_IMAGE_ID,
    name: BASE_IMAGE_NAME,
    description: "Fetches the release named in its user data and runs its Procfile web command",
    creationDate: created,
    behaviour: "runs-release",
  });
  state.images.set(BROKEN_IMAGE_ID, {
    imageId: BROKEN_IMAGE_ID,
    name: BROKEN_IMAGE_NAME,
    description: "Boots but never starts its release: its targets never become healthy",
    creationDate: created,
    behaviour: "never-healthy",
  });
  state.vpcs.set(DEFAULT_VPC_ID, {
    vpcId: DEFAULT_VPC_ID,
    cidrBlock: "172.31.0.0/16",
    isDefault: true,
  });
  ["a", "b", "c"].forEach((zone, i) => {
    const subnetId = `subnet-0sandbox0000000${zone}`;
    state.subnets.set(subnetId, {
      subnetId,
      vpcId: DEFAULT_VPC_ID,
      availabilityZone: `${state.region}${zone}`,
      cidrBlock: `172.31.${i * 16}.0/20`,
    });
  });
  state.securityGroups.set(DEFAULT_SECURITY_GROUP_ID, {
    groupId: DEFAULT_SECURITY_GROUP_ID,
    groupName: "default",
    description: "default VPC security group",
    vpcId: DEFAULT_VPC_ID,
    rules: [
      {
        ruleId: "sgr-0sandbox0default1",
        isEgress: false,
        ipProtocol: "-1",
        referencedGroupId: DEFAULT_SECURITY_GROUP_ID,
        tags: {},
      },
      {
        ruleId: "sgr-0sandbox0default2",
        isEgress: true,
        ipProtocol: "-1",
        cidrIpv4: "0.0.0.0/0",
        tags: {},
      },
    ],
    tags: {},
  });
}
