import { describe, expect, it } from "vitest";
import {
  call,
  errorName,
  httpStatus,
  isRetryable,
  noteRequestContext,
  throughCall,
  toAwsError,
  UNREACHABLE_RETRIES,
  unreachableCode,
} from "../../../src/aws/call.js";
import { exitCodeOf, isSwitchyardError, type SwitchyardError } from "../../../src/core/errors.js";

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

/** A network error as Node's socket raises it (the SDK passes it through unchanged). */
function networkError(code: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:4566`), { code, ...fields });
}

describe("errors that name the fix", () => {
  it("an endpoint that refuses connections is retried twice, quickly, then ENDPOINT_UNREACHABLE (exit 2)", async () => {
    let attempts = 0;
    const started = Date.now();
    const error = await call(async () => {
      attempts++;
      const e = networkError("ECONNREFUSED", { address: "127.0.0.1", port: 4566 });
      noteRequestContext(e, { endpoint: "http://127.0.0.1:4566" });
      throw e;
    }).catch((e: unknown) => e);
    expect(attempts).toBe(1 + UNREACHABLE_RETRIES);
    expect(UNREACHABLE_RETRIES).toBe(2);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(isSwitchyardError(error, "ENDPOINT_UNREACHABLE")).toBe(true);
    expect(exitCodeOf(error)).toBe(2);
    const e = error as SwitchyardError;
    expect(e.message).toBe("cannot reach http://127.0.0.1:4566: connection refused (ECONNREFUSED)");
    expect(e.hint).toContain("is `switchyard sandbox` running?");
    expect(e.details).toMatchObject({
      endpoint: "http://127.0.0.1:4566",
      networkError: "ECONNREFUSED",
    });
    expect((e.cause as { code?: string }).code).toBe("ECONNREFUSED");
  });

  it("an unknown host names it and points at the endpoint setting, not the sandbox", () => {
    const cause = networkError("ENOTFOUND", { hostname: "aws.example.internal" });
    noteRequestContext(cause, { endpoint: "https://aws.example.internal" });
    const e = toAwsError(cause) as SwitchyardError;
    expect(e.code).toBe("ENDPOINT_UNREACHABLE");
    expect(e.message).toContain("cannot reach https://aws.example.internal: no such host");
    expect(e.hint).toContain("--endpoint-url");
    expect(e.hint).not.toContain("sandbox");
  });

  it("Node's AggregateError (one error per address tried) counts by its first error", () => {
    const cause = Object.assign(
      new AggregateError([networkError("ECONNREFUSED", { address: "::1", port: 4566 })]),
      {},
    );
    expect(unreachableCode(cause)).toBe("ECONNREFUSED");
    const e = toAwsError(cause) as SwitchyardError;
    expect(e.code).toBe("ENDPOINT_UNREACHABLE");
    expect(e.message).toContain("[::1]:4566");
    expect(e.hint).toContain("switchyard sandbox");
  });

  it("the SDK's CredentialsProviderError is NO_CREDENTIALS (exit 2), not retried, the cause kept", async () => {
    let attempts = 0;
    const cause = Object.assign(new Error("Could not load credentials from any providers"), {
      name: "CredentialsProviderError",
      tryNextLink: false,
    });
    const error = await call(async () => {
      attempts++;
      noteRequestContext(cause, {});
      throw cause;
    }).catch((e: unknown) => e);
    expect(attempts).toBe(1);
    expect(isSwitchyardError(error, "NO_CREDENTIALS")).toBe(true);
    expect(exitCodeOf(error)).toBe(2);
    const e = error as SwitchyardError;
    expect(e.cause).toBe(cause);
    expect(e.hint).toContain("AWS_PROFILE");
    expect(e.hint).toContain("--profile");
    expect(e.hint).toContain("AWS_ACCESS_KEY_ID");
    expect(e.hint).toContain("aws sso login");
    // no endpoint was set: the sandbox is one flag away
    expect(e.hint).toContain("--endpoint-url");
    expect(e.hint).toContain("AWS_ENDPOINT_URL");
  });

  it("NO_CREDENTIALS with an endpoint set does not suggest one; with a profile it names it", () => {
    const cause = Object.assign(new Error("Could not load credentials from any providers"), {
      name: "CredentialsProviderError",
    });
    noteRequestContext(cause, { endpoint: "https://aws.example.internal", profile: "ops" });
    const e = toAwsError(cause) as SwitchyardError;
    expect(e.code).toBe("NO_CREDENTIALS");
    expect(e.message).toContain("profile ops");
    expect(e.hint).toContain("aws sso login --profile ops");
    expect(e.hint).not.toContain("--endpoint-url");
  });

  it.each([
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "UnrecognizedClientException",
  ])("AWS refusing the credentials (%s) is BAD_CREDENTIALS (exit 2)", async (name) => {
    let attempts = 0;
    const error = await call(async () => {
      attempts++;
      throw sdkError(name, 403, "The security token included in the request is invalid.");
    }).catch((e: unknown) => e);
    expect(attempts).toBe(1);
    expect(isSwitchyardError(error, "BAD_CREDENTIALS")).toBe(true);
    expect(exitCodeOf(error)).toBe(2);
    expect(errorName(error)).toBe(name);
    expect((error as SwitchyardError).hint).toContain("AWS_ACCESS_KEY_ID");
  });
});
