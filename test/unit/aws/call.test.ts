import { describe, expect, it } from "vitest";
import {
  call,
  errorName,
  httpStatus,
  isRetryable,
  throughCall,
  toAwsError,
} from "../../../src/aws/call.js";
import { exitCodeOf, isSwitchyardError } from "../../../src/core/errors.js";

/** An error shaped as the AWS SDK throws them: a name and `$metadata`. */
function sdkError(name: string, status: number, message = "boom"): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

describe("call", () => {
  it("retries throttling until it succeeds", async () => {
    let attempts = 0;
    const value = await call(async () => {
      attempts++;
      if (attempts < 3) throw sdkError("Throttling", 400, "Rate exceeded");
      return "ok";
    });
    expect(value).toBe("ok");
    expect(attempts).toBe(3);
  });

  it("does not retry a validation error, and reports it as AWS_ERROR with the AWS name kept", async () => {
    let attempts = 0;
    const error = await call(async () => {
      attempts++;
      throw sdkError("ValidationError", 400, "bad value");
    }).catch((e: unknown) => e);
    expect(attempts).toBe(1);
    expect(isSwitchyardError(error, "AWS_ERROR")).toBe(true);
    expect(exitCodeOf(error)).toBe(1);
    expect((error as Error).message).toBe("AWS ValidationError: bad value");
    expect(errorName(error)).toBe("ValidationError");
    expect(httpStatus(error)).toBe(400);
  });

  it("retries a not-found error only where the caller expects eventual consistency", async () => {
    let attempts = 0;
    await call(
      async () => {
        attempts++;
        if (attempts < 2) throw sdkError("TargetGroupNotFoundException", 400);
      },
      { retryOn: ["TargetGroupNotFoundException"] },
    );
    expect(attempts).toBe(2);
  });

  it("gives up after its retries on a persistent 5xx", async () => {
    let attempts = 0;
    const error = await call(
      async () => {
        attempts++;
        throw sdkError("InternalFailure", 500);
      },
      { retries: 2 },
    ).catch((e: unknown) => e);
    expect(attempts).toBe(3);
    expect(errorName(error)).toBe("InternalFailure");
  });

  it("with retries 0 runs a failing request exactly once", async () => {
    let attempts = 0;
    const error = await call(
      async () => {
        attempts++;
        throw sdkError("InternalFailure", 500);
      },
      { retries: 0 },
    ).catch((e: unknown) => e);
    expect(attempts).toBe(1);
    expect(isSwitchyardError(error, "AWS_ERROR")).toBe(true);
  });
});

describe("throughCall", () => {
  class FakeClient {
    sent: string[] = [];
    failures = 1;
    readonly config = { region: "test" };
    async send(command: string): Promise<string> {
      this.sent.push(command);
      if (this.failures-- > 0) throw sdkError("Throttling", 400);
      return `${command}:ok`;
    }
  }

  it("sends through call (retried) and keeps the client's class and other members", async () => {
    const client = new FakeClient();
    const wrapped = throughCall(client);
    expect(wrapped).toBeInstanceOf(FakeClient);
    expect(wrapped.config.region).toBe("test");
    expect(await wrapped.send("page")).toBe("page:ok");
    expect(client.sent).toEqual(["page", "page"]);
  });

  it("passes as a given class for a client that is not an instance of it", async () => {
    const client = new FakeClient();
    const lazy = { send: (command: string) => client.send(command) };
    const wrapped = throughCall(lazy, { retries: 0 }, FakeClient);
    expect(wrapped).toBeInstanceOf(FakeClient);
    await expect(wrapped.send("page")).rejects.toMatchObject({ code: "AWS_ERROR" });
    expect(client.sent).toEqual(["page"]);
  });
});

describe("toAwsError", () => {
  it("says to check the IAM policy when access is denied", () => {
    const e = toAwsError(sdkError("AccessDenied", 403));
    expect(isSwitchyardError(e, "AWS_ERROR")).toBe(true);
    expect((e as { hint?: string }).hint).toContain("switchyard iam-policy");
  });

  it("leaves programming errors alone", () => {
    const bug = new TypeError("x is undefined");
    expect(toAwsError(bug)).toBe(bug);
  });

  it("classifies throttling and 5xx as retryable, validation errors not", () => {
    expect(isRetryable(sdkError("ThrottlingException", 400))).toBe(true);
    expect(isRetryable(sdkError("SlowDown", 503))).toBe(true);
    expect(isRetryable(sdkError("ValidationError", 400))).toBe(false);
  });
});
