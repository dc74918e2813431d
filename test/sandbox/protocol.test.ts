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

  /** A request as an SDK of another service sends it: signed with that service in its scope. */
  const unserved = (service: string, contentType: string, body: string) =>
    fetch(`${env.sandbox.endpoint}/`, {
      method: "POST",
      headers: {
        "content-type": contentType,
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDSANDBOX/20261203/us-east-1/${service}/aws4_request, SignedHeaders=content-type;host, Signature=00`,
        "x-amz-date": "20261203T120000Z",
      },
      body,
    });

  it("answers a JSON service it does not serve with UnrecognizedService naming it", async () => {
    const res = await unserved("lambda", "application/x-amz-json-1.1", "{}");
    expect(res.status).toBe(400);
    expect(res.headers.get("x-amzn-errortype")).toBe("UnrecognizedService");
    const body = (await res.json()) as { __type: string; message: string };
    expect(body.__type).toBe("UnrecognizedService");
    expect(body.message).toMatch(/^the switchyard sandbox does not serve the 'lambda' service/);
  });

  it("answers a query-protocol service it does not serve as a query-protocol error naming it", async () => {
    const res = await unserved(
      "sns",
      "application/x-www-form-urlencoded; charset=utf-8",
      "Action=ListTopics&Version=2010-03-31",
    );
    expect(res.status).toBe(400);
    const xml = await res.text();
    expect(xml).toContain("<Code>UnrecognizedService</Code>");
    expect(xml).toContain("the switchyard sandbox does not serve the &apos;sns&apos; service");
  });

  it("lists listeners at /_sandbox/listeners as JSON", async () => {
    const res = await fetch(`${env.sandbox.endpoint}/_sandbox/listeners`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
  });
});
