import { DescribeAccountLimitsCommand } from "@aws-sdk/client-auto-scaling";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeQuery } from "../../src/sandbox/protocol/query.js";
import { type SandboxClients, sandboxWithClients } from "../helpers/sandbox.js";

describe("query protocol decoding", () => {
  it("turns member lists and nested structures into arrays and objects", () => {
    const params = decodeQuery(
      "Action=ModifyListener&DefaultActions.member.1.Type=forward&DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight=5&DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight=95",
    );
    expect(params).toEqual({
      Action: "ModifyListener",
      DefaultActions: [
        { Type: "forward", ForwardConfig: { TargetGroups: [{ Weight: "95" }, { Weight: "5" }] } },
      ],
    });
  });

  it("decodes EC2 lists without .member and orders by index", () => {
    expect(decodeQuery("Filter.2.Name=b&Filter.1.Name=a&Filter.1.Value.1=x")).toEqual({
      Filter: [{ Name: "a", Value: ["x"] }, { Name: "b" }],
    });
  });

  it("keeps an empty list sent as `Name=` as an empty string", () => {
    expect(decodeQuery("Action=X&Names=")).toEqual({ Action: "X", Names: "" });
  });
});

describe("sandbox endpoint", () => {
  let env: SandboxClients;
  beforeAll(async () => {
    env = await sandboxWithClients();
  });
  afterAll(() => env.stop());

  it("answers an operation it does not model with InvalidAction, as a named SDK error", async () => {
    await expect(env.autoscaling.send(new DescribeAccountLimitsCommand({}))).rejects.toMatchObject({
      name: "InvalidAction",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("lists listeners at /_sandbox/listeners as JSON", async () => {
    const res = await fetch(`${env.sandbox.endpoint}/_sandbox/listeners`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
  });
});
