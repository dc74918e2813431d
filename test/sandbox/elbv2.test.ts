import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  type CreateTargetGroupCommandInput,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  RemoveTagsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { BASE_IMAGE_ID, DEFAULT_VPC_ID } from "../../src/sandbox/index.js";
import type { Instance } from "../../src/sandbox/state.js";
import { launchInstance } from "../../src/sandbox/world.js";
import { eventually, type SandboxClients, sandboxWithClients } from "../helpers/sandbox.js";

const SUBNETS = ["subnet-0sandbox0000000a", "subnet-0sandbox0000000b"];
const FIXED_503 = [
  {
    Type: "fixed-response" as const,
    FixedResponseConfig: {
      StatusCode: "503",
      ContentType: "text/plain",
      MessageBody: "no server group yet",
    },
  },
];

let env: SandboxClients;
let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

beforeAll(async () => {
  env = await sandboxWithClients();
});
afterAll(() => env.stop());

async function createLoadBalancer(name = unique("alb")) {
  const out = await env.elbv2.send(new CreateLoadBalancerCommand({ Name: name, Subnets: SUBNETS }));
  return out.LoadBalancers![0]!;
}

async function createTargetGroup(input: Partial<CreateTargetGroupCommandInput> = {}) {
  const out = await env.elbv2.send(
    new CreateTargetGroupCommand({
      Name: unique("tg"),
      Protocol: "HTTP",
      Port: 8080,
      VpcId: DEFAULT_VPC_ID,
      ...input,
    }),
  );
  return out.TargetGroups![0]!;
}

async function createListener(lbArn: string) {
  const out = await env.elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: lbArn,
      Protocol: "HTTP",
      Port: 80,
      DefaultActions: FIXED_503,
    }),
  );
  return out.Listeners![0]!;
}

function forwardTo(...groups: Array<[string, number]>) {
  return [
    {
      Type: "forward" as const,
      ForwardConfig: {
        TargetGroups: groups.map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })),
      },
    },
  ];
}

/** An instance launched through world.ts and booted to `running`. */
async function runningInstance(): Promise<Instance> {
  const { state } = env.sandbox.context;
  const templateId = "lt-0elbv2test000001";
  if (!state.launchTemplates.has(templateId)) {
    state.launchTemplates.set(templateId, {
      id: templateId,
      name: "elbv2-test",
      createdAt: new Date(),
      defaultVersion: 1,
      latestVersion: 1,
      versions: [
        {
          versionNumber: 1,
          createdAt: new Date(),
          data: { imageId: BASE_IMAGE_ID, instanceType: "t3.micro", securityGroupIds: [] },
        },
      ],
      tags: {},
    });
  }
  const instance = launchInstance(env.sandbox.context, {
    launchTemplate: { LaunchTemplateId: templateId },
    subnetId: SUBNETS[0]!,
    tags: {},
  });
  await eventually(() => instance.state === "running", { what: "instance running" });
  return instance;
}

async function health(tgArn: string) {
  const out = await env.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }));
  return out.TargetHealthDescriptions ?? [];
}

describe("load balancers", () => {
  it("creates an ALB with AWS-shaped ARN and DNS name and finds it by name", async () => {
    const lb = await createLoadBalancer("web-prod");
    expect(lb.LoadBalancerArn).toMatch(
      /^arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer\/app\/web-prod\/[0-9a-f]{16}$/,
    );
    expect(lb.DNSName).toMatch(/^web-prod-\d+\.us-east-1\.elb\.amazonaws\.com$/);
    expect(lb).toMatchObject({
      Type: "application",
      Scheme: "internet-facing",
      VpcId: DEFAULT_VPC_ID,
    });
    expect(lb.AvailabilityZones?.map((z) => z.ZoneName)).toEqual(["us-east-1a", "us-east-1b"]);
    const found = await env.elbv2.send(new DescribeLoadBalancersCommand({ Names: ["web-prod"] }));
    expect(found.LoadBalancers?.map((l) => l.LoadBalancerArn)).toEqual([lb.LoadBalancerArn]);
  });

  it("requires two subnets in different zones", async () => {
    await expect(
      env.elbv2.send(
        new CreateLoadBalancerCommand({ Name: unique("alb"), Subnets: [SUBNETS[0]!] }),
      ),
    ).rejects.toMatchObject({ name: "ValidationError" });
  });

  it("rejects a name starting with internal- and a name over 32 characters", async () => {
    for (const Name of ["internal-web", "a".repeat(33)]) {
      await expect(
        env.elbv2.send(new CreateLoadBalancerCommand({ Name, Subnets: SUBNETS })),
      ).rejects.toMatchObject({ name: "ValidationError" });
    }
  });

  it("answers the same name with different settings with DuplicateLoadBalancerNameException", async () => {
    const name = unique("alb");
    const lb = await createLoadBalancer(name);
    const again = await createLoadBalancer(name);
    expect(again.LoadBalancerArn).toBe(lb.LoadBalancerArn);
    await expect(
      env.elbv2.send(
        new CreateLoadBalancerCommand({ Name: name, Subnets: SUBNETS, Scheme: "internal" }),
      ),
    ).rejects.toMatchObject({ name: "DuplicateLoadBalancerNameException" });
  });

  it("deleting a load balancer deletes its listeners and tells the runtime", async () => {
    const lb = await createLoadBalancer();
    const listener = await createListener(lb.LoadBalancerArn!);
    const deleted = vi.spyOn(env.sandbox.context.runtime, "listenerDeleted");
    await env.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    expect(deleted).toHaveBeenCalledWith(listener.ListenerArn);
    deleted.mockRestore();
    await expect(
      env.elbv2.send(new DescribeListenersCommand({ ListenerArns: [listener.ListenerArn!] })),
    ).rejects.toMatchObject({ name: "ListenerNotFoundException" });
    await expect(
      env.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.LoadBalancerArn!] })),
    ).rejects.toMatchObject({ name: "LoadBalancerNotFoundException" });
  });
});

describe("listeners and forward actions", () => {
  let lbArn: string;
  let listenerArn: string;
  let blue: string;
  let green: string;

  beforeAll(async () => {
    lbArn = (await createLoadBalancer()).LoadBalancerArn!;
    listenerArn = (await createListener(lbArn)).ListenerArn!;
    blue = (await createTargetGroup()).TargetGroupArn!;
    green = (await createTargetGroup()).TargetGroupArn!;
  });

  it("a new listener describes its fixed-response 503 default action", async () => {
    const out = await env.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }));
    expect(out.Listeners).toHaveLength(1);
    expect(out.Listeners![0]).toMatchObject({
      Port: 80,
      Protocol: "HTTP",
      DefaultActions: FIXED_503,
    });
  });

  it("ModifyListener to forward 95/5 is described back exactly and reaches the runtime", async () => {
    const changed = vi.spyOn(env.sandbox.context.runtime, "listenerChanged");
    await env.elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: listenerArn,
        DefaultActions: forwardTo([blue, 95], [green, 5]),
      }),
    );
    expect(changed).toHaveBeenCalledWith(expect.objectContaining({ arn: listenerArn }));
    changed.mockRestore();
    const out = await env.elbv2.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }));
    expect(out.Listeners![0]!.DefaultActions).toEqual([
      {
        Type: "forward",
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: blue, Weight: 95 },
            { TargetGroupArn: green, Weight: 5 },
          ],
          TargetGroupStickinessConfig: { Enabled: false },
        },
      },
    ]);
  });

  it("six target groups in one forward action is TooManyTargetGroupsException", async () => {
    const extra = await Promise.all([1, 2, 3, 4].map(() => createTargetGroup()));
    const six = [blue, green, ...extra.map((t) => t.TargetGroupArn!)].map(
      (arn) => [arn, 1] as [string, number],
    );
    await expect(
      env.elbv2.send(
        new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: forwardTo(...six) }),
      ),
    ).rejects.toMatchObject({ name: "TooManyTargetGroupsException" });
    await env.elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: listenerArn,
        DefaultActions: forwardTo(...six.slice(0, 5)),
      }),
    );
    await env.elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: listenerArn,
        DefaultActions: forwardTo([blue, 95], [green, 5]),
      }),
    );
  });

  it("a weight of 1000 is a ValidationError", async () => {
    await expect(
      env.elbv2.send(
        new ModifyListenerCommand({
          ListenerArn: listenerArn,
          DefaultActions: forwardTo([blue, 1000], [green, 0]),
        }),
      ),
    ).rejects.toMatchObject({
      name: "ValidationError",
      message: expect.stringContaining("between 0 and 999"),
    });
  });

  it("stickiness needs a duration of 1 to 604800 seconds", async () => {
    const sticky = (DurationSeconds: number) => [
      {
        Type: "forward" as const,
        ForwardConfig: {
          TargetGroups: [{ TargetGroupArn: blue, Weight: 1 }],
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds },
        },
      },
    ];
    await expect(
      env.elbv2.send(
        new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: sticky(604_801) }),
      ),
    ).rejects.toMatchObject({ name: "ValidationError" });
  });

  it("a forward to a missing target group is TargetGroupNotFoundException", async () => {
    const missing = blue.replace(/\/[0-9a-f]{16}$/, "/0000000000000000");
    await expect(
      env.elbv2.send(
        new ModifyListenerCommand({
          ListenerArn: listenerArn,
          DefaultActions: forwardTo([missing, 1]),
        }),
      ),
    ).rejects.toMatchObject({ name: "TargetGroupNotFoundException" });
  });

  it("a target group used by one load balancer cannot join another", async () => {
    const otherLb = await createLoadBalancer();
    await expect(
      env.elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: otherLb.LoadBalancerArn,
          Protocol: "HTTP",
          Port: 80,
          DefaultActions: forwardTo([blue, 1]),
        }),
      ),
    ).rejects.toMatchObject({ name: "TargetGroupAssociationLimitException" });
  });

  it("a second listener on the same port is DuplicateListenerException", async () => {
    await expect(
      env.elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: lbArn,
          Protocol: "HTTP",
          Port: 80,
          DefaultActions: forwardTo([green, 1]),
        }),
      ),
    ).rejects.toMatchObject({ name: "DuplicateListenerException" });
  });

  it("an unknown listener is ListenerNotFoundException", async () => {
    await expect(
      env.elbv2.send(
        new ModifyListenerCommand({ ListenerArn: `${listenerArn}0`, DefaultActions: FIXED_503 }),
      ),
    ).rejects.toMatchObject({ name: "ListenerNotFoundException" });
  });

  it("DescribeTargetGroups fills LoadBalancerArns from listener references", async () => {
    const out = await env.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lbArn }));
    expect(out.TargetGroups?.map((t) => t.TargetGroupArn).sort()).toEqual([blue, green].sort());
    expect(out.TargetGroups?.every((t) => t.LoadBalancerArns?.[0] === lbArn)).toBe(true);
  });
});

describe("rules", () => {
  let listenerArn: string;
  let tgArn: string;

  beforeAll(async () => {
    const lb = await createLoadBalancer();
    listenerArn = (await createListener(lb.LoadBalancerArn!)).ListenerArn!;
    tgArn = (await createTargetGroup()).TargetGroupArn!;
  });

  it("DescribeRules lists created rules by priority and the default rule last", async () => {
    for (const Priority of [20, 10]) {
      await env.elbv2.send(
        new CreateRuleCommand({
          ListenerArn: listenerArn,
          Priority,
          Conditions: [{ Field: "path-pattern", Values: [`/p${Priority}/*`] }],
          Actions: forwardTo([tgArn, 1]),
        }),
      );
    }
    const out = await env.elbv2.send(new DescribeRulesCommand({ ListenerArn: listenerArn }));
    expect(out.Rules?.map((r) => [r.Priority, r.IsDefault])).toEqual([
      ["10", false],
      ["20", false],
      ["default", true],
    ]);
    expect(out.Rules![0]!.Conditions![0]).toMatchObject({
      Field: "path-pattern",
      PathPatternConfig: { Values: ["/p10/*"] },
    });
    expect(out.Rules![2]!.Actions).toEqual(FIXED_503);
  });

  it("a priority already used on the listener is PriorityInUseException", async () => {
    await expect(
      env.elbv2.send(
        new CreateRuleCommand({
          ListenerArn: listenerArn,
          Priority: 10,
          Conditions: [{ Field: "host-header", HostHeaderConfig: { Values: ["a.example.com"] } }],
          Actions: FIXED_503,
        }),
      ),
    ).rejects.toMatchObject({ name: "PriorityInUseException" });
  });

  it("a priority outside 1-50000 is a ValidationError", async () => {
    await expect(
      env.elbv2.send(
        new CreateRuleCommand({
          ListenerArn: listenerArn,
          Priority: 50_001,
          Conditions: [{ Field: "path-pattern", Values: ["/x"] }],
          Actions: FIXED_503,
        }),
      ),
    ).rejects.toMatchObject({ name: "ValidationError" });
  });

  it("ModifyRule replaces actions, DeleteRule removes the rule, then RuleNotFoundException", async () => {
    const rules = await env.elbv2.send(new DescribeRulesCommand({ ListenerArn: listenerArn }));
    const ruleArn = rules.Rules![0]!.RuleArn!;
    const modified = await env.elbv2.send(
      new ModifyRuleCommand({ RuleArn: ruleArn, Actions: FIXED_503 }),
    );
    expect(modified.Rules![0]!.Actions).toEqual(FIXED_503);
    await env.elbv2.send(new DeleteRuleCommand({ RuleArn: ruleArn }));
    await expect(
      env.elbv2.send(new DescribeRulesCommand({ RuleArns: [ruleArn] })),
    ).rejects.toMatchObject({ name: "RuleNotFoundException" });
    await expect(env.elbv2.send(new DeleteRuleCommand({ RuleArn: ruleArn }))).rejects.toMatchObject(
      { name: "RuleNotFoundException" },
    );
  });

  it("the default rule cannot be deleted", async () => {
    const rules = await env.elbv2.send(new DescribeRulesCommand({ ListenerArn: listenerArn }));
    const defaultRule = rules.Rules!.find((r) => r.IsDefault)!;
    await expect(
      env.elbv2.send(new DeleteRuleCommand({ RuleArn: defaultRule.RuleArn })),
    ).rejects.toMatchObject({ name: "OperationNotPermittedException" });
  });
});

describe("target groups", () => {
  it("applies AWS's health-check defaults", async () => {
    const tg = await createTargetGroup();
    expect(tg).toMatchObject({
      Protocol: "HTTP",
      Port: 8080,
      TargetType: "instance",
      HealthCheckProtocol: "HTTP",
      HealthCheckPort: "traffic-port",
      HealthCheckPath: "/",
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 5,
      UnhealthyThresholdCount: 2,
      Matcher: { HttpCode: "200" },
      LoadBalancerArns: [],
    });
  });

  it("a 33-character name is a ValidationError, 32 characters is fine", async () => {
    await expect(createTargetGroup({ Name: "a".repeat(33) })).rejects.toMatchObject({
      name: "ValidationError",
    });
    await expect(createTargetGroup({ Name: "-leading" })).rejects.toMatchObject({
      name: "ValidationError",
    });
    await createTargetGroup({ Name: `b${"c".repeat(31)}` });
  });

  it.each([
    ["HealthCheckIntervalSeconds", { HealthCheckIntervalSeconds: 4 }, /healthCheckIntervalSeconds/],
    [
      "HealthCheckIntervalSeconds",
      { HealthCheckIntervalSeconds: 301 },
      /healthCheckIntervalSeconds/,
    ],
    ["HealthCheckTimeoutSeconds", { HealthCheckTimeoutSeconds: 1 }, /healthCheckTimeoutSeconds/],
    ["HealthCheckTimeoutSeconds", { HealthCheckTimeoutSeconds: 121 }, /healthCheckTimeoutSeconds/],
    ["HealthyThresholdCount", { HealthyThresholdCount: 11 }, /healthyThresholdCount/],
    ["UnhealthyThresholdCount", { UnhealthyThresholdCount: 1 }, /unhealthyThresholdCount/],
    [
      "timeout not below interval",
      { HealthCheckIntervalSeconds: 10, HealthCheckTimeoutSeconds: 10 },
      /interval must be greater than the timeout/,
    ],
    ["Matcher", { Matcher: { HttpCode: "100" } }, /matcher/],
  ] as const)(
    "%s out of range is a ValidationError naming it (%o)",
    async (_field, input, message) => {
      await expect(createTargetGroup(input)).rejects.toMatchObject({
        name: "ValidationError",
        message: expect.stringMatching(message),
      });
    },
  );

  it("ModifyTargetGroup checks the merged settings", async () => {
    const tg = await createTargetGroup({
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
    });
    await expect(
      env.elbv2.send(
        new ModifyTargetGroupCommand({
          TargetGroupArn: tg.TargetGroupArn,
          HealthCheckIntervalSeconds: 5,
        }),
      ),
    ).rejects.toMatchObject({ name: "ValidationError" });
    const out = await env.elbv2.send(
      new ModifyTargetGroupCommand({
        TargetGroupArn: tg.TargetGroupArn,
        HealthCheckPath: "/health",
        HealthyThresholdCount: 2,
      }),
    );
    expect(out.TargetGroups![0]).toMatchObject({
      HealthCheckPath: "/health",
      HealthyThresholdCount: 2,
      HealthCheckIntervalSeconds: 10,
    });
  });

  it("the same name with identical settings returns the existing group, different settings fail", async () => {
    const name = unique("tg");
    const tg = await createTargetGroup({ Name: name });
    const again = await createTargetGroup({ Name: name });
    expect(again.TargetGroupArn).toBe(tg.TargetGroupArn);
    await expect(createTargetGroup({ Name: name, Port: 9090 })).rejects.toMatchObject({
      name: "DuplicateTargetGroupNameException",
    });
  });

  it("attributes have AWS's defaults, accept valid changes and reject unknown keys and bad values", async () => {
    const arn = (await createTargetGroup()).TargetGroupArn!;
    const read = async () =>
      Object.fromEntries(
        (
          await env.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }))
        ).Attributes!.map((a) => [a.Key, a.Value]),
      );
    expect(await read()).toMatchObject({
      "deregistration_delay.timeout_seconds": "300",
      "stickiness.enabled": "false",
      "stickiness.type": "lb_cookie",
      "stickiness.lb_cookie.duration_seconds": "86400",
    });
    await env.elbv2.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: arn,
        Attributes: [
          { Key: "deregistration_delay.timeout_seconds", Value: "30" },
          { Key: "stickiness.enabled", Value: "true" },
        ],
      }),
    );
    expect(await read()).toMatchObject({
      "deregistration_delay.timeout_seconds": "30",
      "stickiness.enabled": "true",
    });
    for (const attribute of [
      { Key: "no.such.attribute", Value: "1" },
      { Key: "deregistration_delay.timeout_seconds", Value: "3601" },
      { Key: "stickiness.lb_cookie.duration_seconds", Value: "0" },
    ]) {
      await expect(
        env.elbv2.send(
          new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: [attribute] }),
        ),
      ).rejects.toMatchObject({ name: "ValidationError" });
    }
  });

  it("deleting a group in use is ResourceInUseException; once out of the action it deletes", async () => {
    const lb = await createLoadBalancer();
    const listener = await createListener(lb.LoadBalancerArn!);
    const tg = await createTargetGroup();
    await env.elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: listener.ListenerArn,
        DefaultActions: forwardTo([tg.TargetGroupArn!, 1]),
      }),
    );
    await expect(
      env.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn })),
    ).rejects.toMatchObject({
      name: "ResourceInUseException",
      message: `Target group '${tg.TargetGroupArn}' is currently in use by a listener or a rule`,
    });
    await env.elbv2.send(
      new ModifyListenerCommand({ ListenerArn: listener.ListenerArn, DefaultActions: FIXED_503 }),
    );
    await env.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn }));
    await expect(
      env.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg.TargetGroupArn!] })),
    ).rejects.toMatchObject({ name: "TargetGroupNotFoundException" });
  });

  it("DescribeTargetGroups pages through 30 groups with PageSize and Marker", async () => {
    const remaining = env.sandbox.context.state.targetGroups.size;
    const created = new Set<string>();
    for (let i = 0; i < 30; i++) created.add((await createTargetGroup()).TargetGroupArn!);
    const seen: string[] = [];
    let Marker: string | undefined;
    let pages = 0;
    do {
      const out = await env.elbv2.send(new DescribeTargetGroupsCommand({ PageSize: 7, Marker }));
      expect(out.TargetGroups!.length).toBeLessThanOrEqual(7);
      seen.push(...out.TargetGroups!.map((t) => t.TargetGroupArn!));
      Marker = out.NextMarker;
      pages++;
    } while (Marker);
    expect(seen).toHaveLength(30 + remaining);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...created].every((arn) => seen.includes(arn))).toBe(true);
    expect(pages).toBe(Math.ceil((30 + remaining) / 7));
    await expect(
      env.elbv2.send(new DescribeTargetGroupsCommand({ PageSize: 401 })),
    ).rejects.toMatchObject({ name: "ValidationError" });
  });
});

describe("target health", () => {
  it("targets of a group no listener references are unused (Target.NotInUse) until a listener forwards to it", async () => {
    const [a, b] = await Promise.all([runningInstance(), runningInstance()]);
    const tg = await createTargetGroup();
    const tgArn = tg.TargetGroupArn!;
    await env.elbv2.send(
      new RegisterTargetsCommand({
        TargetGroupArn: tgArn,
        Targets: [{ Id: a.instanceId }, { Id: b.instanceId, Port: 9000 }],
      }),
    );
    const before = await health(tgArn);
    expect(before).toHaveLength(2);
    for (const d of before) {
      expect(d.TargetHealth).toMatchObject({ State: "unused", Reason: "Target.NotInUse" });
    }
    expect(before.map((d) => [d.Target?.Id, d.Target?.Port, d.HealthCheckPort])).toEqual([
      [a.instanceId, 8080, "8080"],
      [b.instanceId, 9000, "9000"],
    ]);

    const lb = await createLoadBalancer();
    const listener = await createListener(lb.LoadBalancerArn!);
    await env.elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: listener.ListenerArn,
        DefaultActions: forwardTo([tgArn, 1]),
      }),
    );
    for (const d of await health(tgArn)) expect(d.TargetHealth?.State).not.toBe("unused");

    await env.elbv2.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn }));
    for (const d of await health(tgArn)) {
      expect(d.TargetHealth).toMatchObject({ State: "unused", Reason: "Target.NotInUse" });
    }
  });

  it("asking about a target that is not registered reports Target.NotRegistered", async () => {
    const instance = await runningInstance();
    const tg = await createTargetGroup();
    const out = await env.elbv2.send(
      new DescribeTargetHealthCommand({
        TargetGroupArn: tg.TargetGroupArn,
        Targets: [{ Id: instance.instanceId }],
      }),
    );
    expect(out.TargetHealthDescriptions![0]!.TargetHealth).toMatchObject({
      State: "unused",
      Reason: "Target.NotRegistered",
    });
  });

  it("deregistering an unused target removes it at once", async () => {
    const instance = await runningInstance();
    const tgArn = (await createTargetGroup()).TargetGroupArn!;
    await env.elbv2.send(
      new RegisterTargetsCommand({ TargetGroupArn: tgArn, Targets: [{ Id: instance.instanceId }] }),
    );
    await env.elbv2.send(
      new DeregisterTargetsCommand({
        TargetGroupArn: tgArn,
        Targets: [{ Id: instance.instanceId }],
      }),
    );
    expect(await health(tgArn)).toEqual([]);
  });

  it("registering with an unknown target group is TargetGroupNotFoundException", async () => {
    await expect(
      env.elbv2.send(
        new RegisterTargetsCommand({
          TargetGroupArn:
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/nope/0000000000000000",
          Targets: [{ Id: "i-0000000000000000" }],
        }),
      ),
    ).rejects.toMatchObject({ name: "TargetGroupNotFoundException" });
  });
});

describe("tags", () => {
  it("adds, describes and removes tags on a target group and a load balancer", async () => {
    const tgArn = (await createTargetGroup()).TargetGroupArn!;
    const lbArn = (await createLoadBalancer()).LoadBalancerArn!;
    await env.elbv2.send(
      new AddTagsCommand({
        ResourceArns: [tgArn, lbArn],
        Tags: [
          { Key: "switchyard:app", Value: "web" },
          { Key: "switchyard:role", Value: "live" },
        ],
      }),
    );
    await env.elbv2.send(
      new RemoveTagsCommand({ ResourceArns: [tgArn], TagKeys: ["switchyard:role"] }),
    );
    const out = await env.elbv2.send(new DescribeTagsCommand({ ResourceArns: [tgArn, lbArn] }));
    expect(out.TagDescriptions).toEqual([
      { ResourceArn: tgArn, Tags: [{ Key: "switchyard:app", Value: "web" }] },
      {
        ResourceArn: lbArn,
        Tags: [
          { Key: "switchyard:app", Value: "web" },
          { Key: "switchyard:role", Value: "live" },
        ],
      },
    ]);
  });

  it("more than 50 tags on a resource is TooManyTagsException", async () => {
    const tgArn = (await createTargetGroup()).TargetGroupArn!;
    const tags = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => ({ Key: `${prefix}${i}`, Value: "v" }));
    await env.elbv2.send(new AddTagsCommand({ ResourceArns: [tgArn], Tags: tags(50, "a") }));
    await expect(
      env.elbv2.send(new AddTagsCommand({ ResourceArns: [tgArn], Tags: tags(1, "b") })),
    ).rejects.toMatchObject({ name: "TooManyTagsException" });
  });

  it("more than 20 resource ARNs is a ValidationError", async () => {
    const tgArn = (await createTargetGroup()).TargetGroupArn!;
    await expect(
      env.elbv2.send(new DescribeTagsCommand({ ResourceArns: Array(21).fill(tgArn) })),
    ).rejects.toMatchObject({ name: "ValidationError" });
  });

  it("tags on a missing target group are TargetGroupNotFoundException", async () => {
    await expect(
      env.elbv2.send(
        new AddTagsCommand({
          ResourceArns: [
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/nope/0000000000000000",
          ],
          Tags: [{ Key: "k", Value: "v" }],
        }),
      ),
    ).rejects.toMatchObject({ name: "TargetGroupNotFoundException" });
  });
});
