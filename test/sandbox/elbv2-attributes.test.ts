/**
 * Load balancer and listener attributes, the capacity reservation, deletion protection and
 * DeleteListener through the real ELBv2 client: AWS's defaults for an Application Load Balancer,
 * changes kept, and the errors ELBv2 answers with.
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DescribeCapacityReservationCommand,
  DescribeListenerAttributesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  ModifyListenerAttributesCommand,
  ModifyLoadBalancerAttributesCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SandboxClients, sandboxWithClients } from "../helpers/sandbox.js";

let env: SandboxClients;
beforeAll(async () => {
  env = await sandboxWithClients();
});
afterAll(() => env.stop());

const SUBNETS = ["subnet-0sandbox0000000a", "subnet-0sandbox0000000b"];
let count = 0;
const unique = (prefix: string) => `${prefix}-${++count}`;

async function createLoadBalancer() {
  const out = await env.elbv2.send(
    new CreateLoadBalancerCommand({ Name: unique("attrs"), Subnets: SUBNETS }),
  );
  return out.LoadBalancers![0]!.LoadBalancerArn!;
}

async function createListener(lbArn: string) {
  const out = await env.elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: lbArn,
      Protocol: "HTTP",
      Port: 80,
      DefaultActions: [
        {
          Type: "fixed-response",
          FixedResponseConfig: { StatusCode: "503", ContentType: "text/plain" },
        },
      ],
    }),
  );
  return out.Listeners![0]!.ListenerArn!;
}

const asRecord = (attributes: { Key?: string; Value?: string }[] | undefined) =>
  Object.fromEntries((attributes ?? []).map((a) => [a.Key, a.Value]));

async function loadBalancerAttributes(arn: string) {
  const out = await env.elbv2.send(
    new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }),
  );
  return asRecord(out.Attributes);
}

describe("load balancer attributes", () => {
  it("a new Application Load Balancer has AWS's defaults", async () => {
    const attributes = await loadBalancerAttributes(await createLoadBalancer());
    expect(attributes).toMatchObject({
      "access_logs.s3.enabled": "false",
      "connection_logs.s3.enabled": "false",
      "deletion_protection.enabled": "false",
      "idle_timeout.timeout_seconds": "60",
      "client_keep_alive.seconds": "3600",
      "load_balancing.cross_zone.enabled": "true",
      "routing.http.desync_mitigation_mode": "defensive",
      "routing.http.drop_invalid_header_fields.enabled": "false",
      "routing.http.xff_header_processing.mode": "append",
      "routing.http2.enabled": "true",
      "waf.fail_open.enabled": "false",
    });
  });

  it("ModifyLoadBalancerAttributes keeps a change, answers every attribute, and leaves the others alone", async () => {
    const arn = await createLoadBalancer();
    const out = await env.elbv2.send(
      new ModifyLoadBalancerAttributesCommand({
        LoadBalancerArn: arn,
        Attributes: [
          { Key: "idle_timeout.timeout_seconds", Value: "120" },
          { Key: "routing.http.drop_invalid_header_fields.enabled", Value: "true" },
        ],
      }),
    );
    const answered = asRecord(out.Attributes);
    expect(answered["idle_timeout.timeout_seconds"]).toBe("120");
    expect(answered["routing.http2.enabled"]).toBe("true");
    const read = await loadBalancerAttributes(arn);
    expect(read).toEqual(answered);
    expect(read).toMatchObject({
      "idle_timeout.timeout_seconds": "120",
      "routing.http.drop_invalid_header_fields.enabled": "true",
      "deletion_protection.enabled": "false",
    });
  });

  it("an unknown key, a value out of range and a log bucket that does not exist are refused; nothing changes", async () => {
    const arn = await createLoadBalancer();
    // the message the Terraform provider parses to drop keys a partition lacks
    await expect(
      env.elbv2.send(
        new ModifyLoadBalancerAttributesCommand({
          LoadBalancerArn: arn,
          Attributes: [{ Key: "routing.http.nonsense", Value: "true" }],
        }),
      ),
    ).rejects.toMatchObject({
      name: "ValidationError",
      message: "Load balancer attribute key 'routing.http.nonsense' is not recognized",
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      env.elbv2.send(
        new ModifyLoadBalancerAttributesCommand({
          LoadBalancerArn: arn,
          Attributes: [
            { Key: "routing.http2.enabled", Value: "false" },
            { Key: "idle_timeout.timeout_seconds", Value: "5000" },
          ],
        }),
      ),
    ).rejects.toMatchObject({
      name: "ValidationError",
      message: expect.stringContaining("idle_timeout.timeout_seconds"),
    });
    await expect(
      env.elbv2.send(
        new ModifyLoadBalancerAttributesCommand({
          LoadBalancerArn: arn,
          Attributes: [
            { Key: "access_logs.s3.enabled", Value: "true" },
            { Key: "access_logs.s3.bucket", Value: "no-such-bucket" },
          ],
        }),
      ),
    ).rejects.toMatchObject({
      name: "InvalidConfigurationRequestException",
      message: "Access Denied for bucket: no-such-bucket. Please check S3bucket permission",
    });
    const read = await loadBalancerAttributes(arn);
    expect(read["routing.http2.enabled"]).toBe("true");
    expect(read["access_logs.s3.enabled"]).toBe("false");

    // with the bucket there, access logs turn on
    await env.s3.send(new CreateBucketCommand({ Bucket: "lb-logs" }));
    await env.elbv2.send(
      new ModifyLoadBalancerAttributesCommand({
        LoadBalancerArn: arn,
        Attributes: [
          { Key: "access_logs.s3.enabled", Value: "true" },
          { Key: "access_logs.s3.bucket", Value: "lb-logs" },
        ],
      }),
    );
    expect(await loadBalancerAttributes(arn)).toMatchObject({
      "access_logs.s3.enabled": "true",
      "access_logs.s3.bucket": "lb-logs",
    });
  });

  it("a missing load balancer is LoadBalancerNotFound", async () => {
    const arn = await createLoadBalancer();
    await env.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn }));
    await expect(
      env.elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn })),
    ).rejects.toMatchObject({ name: "LoadBalancerNotFoundException" });
  });
});

describe("deletion protection", () => {
  it("DeleteLoadBalancer is OperationNotPermitted while it is on, and succeeds once it is off", async () => {
    const arn = await createLoadBalancer();
    await env.elbv2.send(
      new ModifyLoadBalancerAttributesCommand({
        LoadBalancerArn: arn,
        Attributes: [{ Key: "deletion_protection.enabled", Value: "true" }],
      }),
    );
    await expect(
      env.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn })),
    ).rejects.toMatchObject({
      name: "OperationNotPermittedException",
      message: `Load balancer '${arn}' cannot be deleted because deletion protection is enabled`,
    });
    const still = await env.elbv2.send(
      new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] }),
    );
    expect(still.LoadBalancers).toHaveLength(1);

    await env.elbv2.send(
      new ModifyLoadBalancerAttributesCommand({
        LoadBalancerArn: arn,
        Attributes: [{ Key: "deletion_protection.enabled", Value: "false" }],
      }),
    );
    await env.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn }));
    await expect(
      env.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] })),
    ).rejects.toMatchObject({ name: "LoadBalancerNotFoundException" });
  });
});

describe("DescribeCapacityReservation", () => {
  it("answers an empty reservation, as for a load balancer nobody reserved capacity for", async () => {
    const arn = await createLoadBalancer();
    const out = await env.elbv2.send(
      new DescribeCapacityReservationCommand({ LoadBalancerArn: arn }),
    );
    expect(out.CapacityReservationState).toEqual([]);
    expect(out.DecreaseRequestsRemaining).toBe(4);
    expect(out.MinimumLoadBalancerCapacity).toBeUndefined();
  });
});

describe("listener attributes and DeleteListener", () => {
  it("an HTTP listener has the server header on by default; a change is kept; an unknown key is refused", async () => {
    const listenerArn = await createListener(await createLoadBalancer());
    const defaults = await env.elbv2.send(
      new DescribeListenerAttributesCommand({ ListenerArn: listenerArn }),
    );
    expect(defaults.Attributes).toEqual([
      { Key: "routing.http.response.server.enabled", Value: "true" },
    ]);

    const out = await env.elbv2.send(
      new ModifyListenerAttributesCommand({
        ListenerArn: listenerArn,
        Attributes: [{ Key: "routing.http.response.server.enabled", Value: "false" }],
      }),
    );
    expect(out.Attributes).toEqual([
      { Key: "routing.http.response.server.enabled", Value: "false" },
    ]);
    const read = await env.elbv2.send(
      new DescribeListenerAttributesCommand({ ListenerArn: listenerArn }),
    );
    expect(asRecord(read.Attributes)["routing.http.response.server.enabled"]).toBe("false");

    await expect(
      env.elbv2.send(
        new ModifyListenerAttributesCommand({
          ListenerArn: listenerArn,
          Attributes: [{ Key: "tcp.idle_timeout.seconds", Value: "350" }],
        }),
      ),
    ).rejects.toMatchObject({
      name: "ValidationError",
      message: "Listener attribute key 'tcp.idle_timeout.seconds' is not recognized",
    });
  });

  it("DeleteListener removes it: describing it afterwards is ListenerNotFound", async () => {
    const lbArn = await createLoadBalancer();
    const listenerArn = await createListener(lbArn);
    await env.elbv2.send(new DeleteListenerCommand({ ListenerArn: listenerArn }));
    await expect(
      env.elbv2.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] })),
    ).rejects.toMatchObject({ name: "ListenerNotFoundException" });
    const left = await env.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }));
    expect(left.Listeners).toEqual([]);
    await expect(
      env.elbv2.send(new DescribeListenerAttributesCommand({ ListenerArn: listenerArn })),
    ).rejects.toMatchObject({ name: "ListenerNotFoundException" });
    await expect(
      env.elbv2.send(new DeleteListenerCommand({ ListenerArn: listenerArn })),
    ).rejects.toMatchObject({ name: "ListenerNotFoundException" });
  });
});
