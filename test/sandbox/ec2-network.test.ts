/**
 * EC2 security groups, their rules and tags, and the network reads Terraform makes (default VPC,
 * VPC attributes, network interfaces), through the real EC2 client.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateLoadBalancerCommand,
  DeleteLoadBalancerCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_VPC_ID } from "../../src/sandbox/seed.js";
import { ACCOUNT_ID } from "../../src/sandbox/state.js";
import { type SandboxClients, sandboxWithClients } from "../helpers/sandbox.js";

let env: SandboxClients;
beforeAll(async () => {
  env = await sandboxWithClients();
});
afterAll(() => env.stop());

const SUBNETS = ["subnet-0sandbox0000000a", "subnet-0sandbox0000000b"];
let count = 0;
const unique = (prefix: string) => `${prefix}-${++count}`;

async function createGroup(name = unique("group"), tags: Record<string, string> = {}) {
  const out = await env.ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: name,
      Description: `group ${name}`,
      VpcId: DEFAULT_VPC_ID,
      TagSpecifications:
        Object.keys(tags).length > 0
          ? [
              {
                ResourceType: "security-group",
                Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
              },
            ]
          : undefined,
    }),
  );
  return out.GroupId!;
}

async function describeGroup(groupId: string) {
  const out = await env.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  return out.SecurityGroups![0]!;
}

async function rulesOf(groupId: string) {
  const out = await env.ec2.send(
    new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] }),
  );
  return out.SecurityGroupRules ?? [];
}

describe("security groups", () => {
  it("a new group has an ARN, its tags and EC2's default egress rule (all traffic out)", async () => {
    const name = unique("web-prod-lb");
    const groupId = await createGroup(name, { app: "web" });
    expect(groupId).toMatch(/^sg-[0-9a-f]{17}$/);
    const group = await describeGroup(groupId);
    expect(group).toMatchObject({
      GroupName: name,
      Description: `group ${name}`,
      VpcId: DEFAULT_VPC_ID,
      OwnerId: ACCOUNT_ID,
      SecurityGroupArn: `arn:aws:ec2:us-east-1:${ACCOUNT_ID}:security-group/${groupId}`,
      Tags: [{ Key: "app", Value: "web" }],
      IpPermissions: [],
      IpPermissionsEgress: [
        {
          IpProtocol: "-1",
          IpRanges: [{ CidrIp: "0.0.0.0/0" }],
          Ipv6Ranges: [],
          PrefixListIds: [],
          UserIdGroupPairs: [],
        },
      ],
    });
    const rules = await rulesOf(groupId);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      GroupId: groupId,
      IsEgress: true,
      IpProtocol: "-1",
      FromPort: -1,
      ToPort: -1,
      CidrIpv4: "0.0.0.0/0",
    });
    expect(rules[0]?.SecurityGroupRuleId).toMatch(/^sgr-[0-9a-f]{17}$/);
  });

  it("a duplicate name in the VPC is InvalidGroup.Duplicate; a missing group InvalidGroup.NotFound", async () => {
    const name = unique("dup");
    await createGroup(name);
    await expect(createGroup(name)).rejects.toMatchObject({
      name: "InvalidGroup.Duplicate",
      message: `The security group '${name}' already exists for VPC '${DEFAULT_VPC_ID}'`,
    });
    await expect(
      env.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ["sg-0123456789abcdef0"] })),
    ).rejects.toMatchObject({
      name: "InvalidGroup.NotFound",
      message: "The security group 'sg-0123456789abcdef0' does not exist",
    });
  });

  it("ingress: authorize returns the new rule ids, grouped by port in IpPermissions; revoke by rule id or by shape", async () => {
    const lb = await createGroup();
    const instances = await createGroup();
    const out = await env.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: instances,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 8080,
            ToPort: 8080,
            UserIdGroupPairs: [{ GroupId: lb, Description: "from the load balancer" }],
            IpRanges: [{ CidrIp: "10.0.0.0/8" }],
          },
          { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "192.0.2.0/24" }] },
        ],
      }),
    );
    expect(out.Return).toBe(true);
    const added = out.SecurityGroupRules ?? [];
    expect(added).toHaveLength(3);
    for (const rule of added) expect(rule.SecurityGroupRuleId).toMatch(/^sgr-/);
    const peerOf = (r: (typeof added)[number]) => r.CidrIpv4 ?? r.ReferencedGroupInfo?.GroupId;
    expect(added.map((r) => `${r.FromPort} ${peerOf(r)}`).sort()).toEqual(
      [`22 192.0.2.0/24`, `8080 10.0.0.0/8`, `8080 ${lb}`].sort(),
    );
    const idOf = (port: number, peer: string) =>
      added.find((r) => r.FromPort === port && peerOf(r) === peer)?.SecurityGroupRuleId ?? "";

    const group = await describeGroup(instances);
    expect(group.IpPermissions).toEqual([
      {
        IpProtocol: "tcp",
        FromPort: 8080,
        ToPort: 8080,
        UserIdGroupPairs: [
          { UserId: ACCOUNT_ID, GroupId: lb, Description: "from the load balancer" },
        ],
        IpRanges: [{ CidrIp: "10.0.0.0/8" }],
        Ipv6Ranges: [],
        PrefixListIds: [],
      },
      {
        IpProtocol: "tcp",
        FromPort: 22,
        ToPort: 22,
        UserIdGroupPairs: [],
        IpRanges: [{ CidrIp: "192.0.2.0/24" }],
        Ipv6Ranges: [],
        PrefixListIds: [],
      },
    ]);

    // the same rule twice
    await expect(
      env.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: instances,
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "192.0.2.0/24" }] },
          ],
        }),
      ),
    ).rejects.toMatchObject({
      name: "InvalidPermission.Duplicate",
      message:
        'the specified rule "peer: 192.0.2.0/24, TCP, from port: 22, to port: 22, ALLOW" already exists',
    });

    // revoke one by its id, one by its shape
    const ssh = idOf(22, "192.0.2.0/24");
    const byId = await env.ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupId: instances, SecurityGroupRuleIds: [ssh] }),
    );
    expect(byId.Return).toBe(true);
    await env.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: instances,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 8080, ToPort: 8080, IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
        ],
      }),
    );
    const left = (await rulesOf(instances)).filter((r) => !r.IsEgress);
    expect(left.map((r) => r.SecurityGroupRuleId)).toEqual([idOf(8080, lb)]);
    expect(left[0]).toMatchObject({
      ReferencedGroupInfo: { GroupId: lb, UserId: ACCOUNT_ID },
      Description: "from the load balancer",
    });

    await expect(
      env.ec2.send(
        new RevokeSecurityGroupIngressCommand({ GroupId: instances, SecurityGroupRuleIds: [ssh] }),
      ),
    ).rejects.toMatchObject({
      name: "InvalidSecurityGroupRuleId.NotFound",
      message: `The security group rule ID '${ssh}' does not exist`,
    });
  });

  it("egress: revoke the default rule, authorize a narrower one", async () => {
    const groupId = await createGroup();
    await env.ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    expect((await describeGroup(groupId)).IpPermissionsEgress).toEqual([]);
    const out = await env.ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
        ],
      }),
    );
    expect(out.SecurityGroupRules?.[0]).toMatchObject({ IsEgress: true, FromPort: 443 });
    const rules = await rulesOf(groupId);
    expect(rules.map((r) => [r.IsEgress, r.IpProtocol, r.FromPort, r.ToPort])).toEqual([
      [true, "tcp", 443, 443],
    ]);
    // a rule id can be looked up directly
    const byId = await env.ec2.send(
      new DescribeSecurityGroupRulesCommand({
        SecurityGroupRuleIds: [rules[0]?.SecurityGroupRuleId ?? ""],
      }),
    );
    expect(byId.SecurityGroupRules?.map((r) => r.GroupId)).toEqual([groupId]);
  });

  it("rejects a malformed CIDR and TCP without ports with InvalidParameterValue", async () => {
    const groupId = await createGroup();
    await expect(
      env.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: groupId,
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "10.0.0.300/8" }] },
          ],
        }),
      ),
    ).rejects.toMatchObject({
      name: "InvalidParameterValue",
      message: "CIDR block 10.0.0.300/8 is malformed",
    });
    await expect(
      env.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: groupId,
          IpPermissions: [{ IpProtocol: "tcp", IpRanges: [{ CidrIp: "10.0.0.0/8" }] }],
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidParameterValue" });
  });

  it("DeleteSecurityGroup is DependencyViolation while a rule or a load balancer uses the group", async () => {
    const lb = await createGroup();
    const instances = await createGroup();
    await env.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: instances,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 80, ToPort: 80, UserIdGroupPairs: [{ GroupId: lb }] },
        ],
      }),
    );
    await expect(
      env.ec2.send(new DeleteSecurityGroupCommand({ GroupId: lb })),
    ).rejects.toMatchObject({
      name: "DependencyViolation",
      message: `resource ${lb} has a dependent object`,
    });
    // the referencing group goes first; then a load balancer holds it
    await env.ec2.send(new DeleteSecurityGroupCommand({ GroupId: instances }));
    const created = await env.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: unique("sg-holder"),
        Subnets: SUBNETS,
        SecurityGroups: [lb],
      }),
    );
    const lbArn = created.LoadBalancers?.[0]?.LoadBalancerArn ?? "";
    await expect(
      env.ec2.send(new DeleteSecurityGroupCommand({ GroupId: lb })),
    ).rejects.toMatchObject({ name: "DependencyViolation" });
    await env.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lbArn }));
    const deleted = await env.ec2.send(new DeleteSecurityGroupCommand({ GroupId: lb }));
    expect(deleted.Return).toBe(true);
    await expect(describeGroup(lb)).rejects.toMatchObject({ name: "InvalidGroup.NotFound" });
  });

  it("the default group cannot be deleted", async () => {
    const [group] =
      (
        await env.ec2.send(
          new DescribeSecurityGroupsCommand({
            Filters: [
              { Name: "group-name", Values: ["default"] },
              { Name: "vpc-id", Values: [DEFAULT_VPC_ID] },
            ],
          }),
        )
      ).SecurityGroups ?? [];
    await expect(
      env.ec2.send(new DeleteSecurityGroupCommand({ GroupId: group?.GroupId })),
    ).rejects.toMatchObject({ name: "CannotDelete" });
  });
});

describe("CreateTags and DeleteTags", () => {
  it("tag security groups and rules; DeleteTags removes by key, or only a matching value", async () => {
    const groupId = await createGroup();
    const [rule] = await rulesOf(groupId);
    const ruleId = rule?.SecurityGroupRuleId ?? "";
    await env.ec2.send(
      new CreateTagsCommand({
        Resources: [groupId, ruleId],
        Tags: [
          { Key: "Name", Value: "web" },
          { Key: "env", Value: "prod" },
        ],
      }),
    );
    expect((await describeGroup(groupId)).Tags).toEqual([
      { Key: "Name", Value: "web" },
      { Key: "env", Value: "prod" },
    ]);
    expect((await rulesOf(groupId))[0]?.Tags).toEqual([
      { Key: "Name", Value: "web" },
      { Key: "env", Value: "prod" },
    ]);
    // a value that does not match leaves the tag; a key alone removes it
    await env.ec2.send(
      new DeleteTagsCommand({ Resources: [groupId], Tags: [{ Key: "env", Value: "dev" }] }),
    );
    expect((await describeGroup(groupId)).Tags?.map((t) => t.Key)).toEqual(["Name", "env"]);
    await env.ec2.send(new DeleteTagsCommand({ Resources: [groupId], Tags: [{ Key: "env" }] }));
    expect((await describeGroup(groupId)).Tags).toEqual([{ Key: "Name", Value: "web" }]);
    // tag filters find it
    const found = await env.ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "tag:Name", Values: ["web"] }] }),
    );
    expect(found.SecurityGroups?.map((g) => g.GroupId)).toEqual([groupId]);
  });

  it("tagging a missing group is InvalidGroup.NotFound", async () => {
    await expect(
      env.ec2.send(
        new CreateTagsCommand({
          Resources: ["sg-0000000000000dead"],
          Tags: [{ Key: "a", Value: "b" }],
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidGroup.NotFound" });
  });
});

describe("VPCs and network interfaces", () => {
  it("DescribeVpcs with isDefault=true finds the default VPC", async () => {
    const out = await env.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "isDefault", Values: ["true"] }] }),
    );
    expect(out.Vpcs).toHaveLength(1);
    expect(out.Vpcs?.[0]).toMatchObject({
      VpcId: DEFAULT_VPC_ID,
      IsDefault: true,
      CidrBlock: "172.31.0.0/16",
      State: "available",
      OwnerId: ACCOUNT_ID,
    });
    const none = await env.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "isDefault", Values: ["false"] }] }),
    );
    expect(none.Vpcs).toEqual([]);
  });

  it("DescribeVpcAttribute answers DNS support and hostnames as a default VPC has them", async () => {
    const support = await env.ec2.send(
      new DescribeVpcAttributeCommand({ VpcId: DEFAULT_VPC_ID, Attribute: "enableDnsSupport" }),
    );
    expect(support).toMatchObject({ VpcId: DEFAULT_VPC_ID, EnableDnsSupport: { Value: true } });
    const hostnames = await env.ec2.send(
      new DescribeVpcAttributeCommand({ VpcId: DEFAULT_VPC_ID, Attribute: "enableDnsHostnames" }),
    );
    expect(hostnames.EnableDnsHostnames).toEqual({ Value: true });
    const metrics = await env.ec2.send(
      new DescribeVpcAttributeCommand({
        VpcId: DEFAULT_VPC_ID,
        Attribute: "enableNetworkAddressUsageMetrics",
      }),
    );
    expect(metrics.EnableNetworkAddressUsageMetrics).toEqual({ Value: false });
    await expect(
      env.ec2.send(
        new DescribeVpcAttributeCommand({
          VpcId: "vpc-0000000000000dead",
          Attribute: "enableDnsSupport",
        }),
      ),
    ).rejects.toMatchObject({
      name: "InvalidVpcID.NotFound",
      message: "The vpc ID 'vpc-0000000000000dead' does not exist",
    });
  });

  it("DescribeNetworkInterfaces shows a load balancer's interfaces, one per subnet, gone with it", async () => {
    const groupId = await createGroup();
    const name = unique("eni-lb");
    const created = await env.elbv2.send(
      new CreateLoadBalancerCommand({ Name: name, Subnets: SUBNETS, SecurityGroups: [groupId] }),
    );
    const arn = created.LoadBalancers?.[0]?.LoadBalancerArn ?? "";
    const suffix = arn.split(":loadbalancer/")[1];
    const filters = [{ Name: "description", Values: [`ELB ${suffix}`] }];
    const out = await env.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: filters }));
    const interfaces = out.NetworkInterfaces ?? [];
    expect(interfaces.map((n) => n.SubnetId).sort()).toEqual(SUBNETS);
    for (const n of interfaces) {
      expect(n).toMatchObject({
        VpcId: DEFAULT_VPC_ID,
        RequesterId: "amazon-elb",
        RequesterManaged: true,
        Status: "in-use",
        InterfaceType: "interface",
        Groups: [{ GroupId: groupId, GroupName: expect.any(String) }],
      });
      expect(n.NetworkInterfaceId).toMatch(/^eni-[0-9a-f]{17}$/);
      expect(n.PrivateIpAddress).toMatch(/^172\.31\./);
    }
    // by group too, the way Terraform finds what still holds a security group
    const byGroup = await env.ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] }),
    );
    expect(byGroup.NetworkInterfaces).toHaveLength(2);

    await env.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn }));
    const after = await env.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: filters }));
    expect(after.NetworkInterfaces).toEqual([]);
  });
});
