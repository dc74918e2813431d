import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import {
  AwsError,
  ConfigError,
  ERROR_CODES,
  type ErrorCode,
  errorCodes,
  exitCodeOf,
  InputError,
  InternalError,
  isSwitchyardError,
  LockError,
  SwapError,
  SwitchyardError,
  toSwitchyardError,
} from "../../../src/core/errors.js";

const REQUIRED_CODES: ErrorCode[] = [
  "CONFIG_NOT_FOUND",
  "CONFIG_INVALID",
  "INVALID_INPUT",
  "UNKNOWN_SERVICE",
  "RELEASE_NOT_FOUND",
  "RELEASE_EXISTS",
  "PREFLIGHT_FAILED",
  "LOCK_HELD",
  "LOCK_LOST",
  "LOCK_NOT_STALE",
  "NO_STANDBY",
  "GREEN_UNHEALTHY",
  "LAUNCH_FAILED",
  "GATE_FAILED",
  "ROLLED_BACK",
  "ABORTED",
  "AWS_ERROR",
  "SWAP_INCOMPLETE",
  "NOTHING_TO_RESUME",
  "INTERNAL",
];

describe("SwitchyardError", () => {
  it("carries code, source, cause, hint and details", () => {
    const cause = new Error("ThrottlingException");
    const error = new AwsError("AWS_ERROR", "DescribeListeners failed", {
      cause,
      hint: "try again",
      details: { operation: "DescribeListeners" },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(SwitchyardError);
    expect(error.code).toBe("AWS_ERROR");
    expect(error.source).toBe("aws");
    expect(error.cause).toBe(cause);
    expect(error.hint).toBe("try again");
    expect(error.details).toEqual({ operation: "DescribeListeners" });
    expect(error.name).toBe("AwsError");
    expect(error.toJSON()).toEqual({
      code: "AWS_ERROR",
      message: "DescribeListeners failed",
      source: "aws",
      hint: "try again",
      details: { operation: "DescribeListeners" },
    });
  });

  it("takes its source from the code unless told otherwise", () => {
    expect(new InputError("INVALID_INPUT", "x").source).toBe("user");
    expect(new InternalError("x").source).toBe("internal");
    expect(new InputError("INVALID_INPUT", "x", { source: "aws" }).source).toBe("aws");
  });

  it("defines every code the contract needs, each with an exit code", () => {
    for (const code of REQUIRED_CODES) expect(errorCodes).toContain(code);
    for (const code of errorCodes) expect([1, 2, 3, 4]).toContain(ERROR_CODES[code].exitCode);
  });
});

describe("exitCodeOf", () => {
  it.each([
    [new ConfigError("CONFIG_NOT_FOUND", "x"), 2],
    [new ConfigError("CONFIG_INVALID", "x"), 2],
    [new InputError("INVALID_INPUT", "x"), 2],
    [new InputError("UNKNOWN_SERVICE", "x"), 2],
    [new InputError("PREFLIGHT_FAILED", "x"), 2],
    [new LockError("LOCK_HELD", "x"), 3],
    [new LockError("LOCK_LOST", "x"), 1],
    [new SwapError("GATE_FAILED", "x"), 4],
    [new SwapError("GREEN_UNHEALTHY", "x"), 4],
    [new SwapError("ROLLED_BACK", "x"), 4],
    [new SwapError("SWAP_INCOMPLETE", "x"), 1],
    [new SwapError("ABORTED", "x"), 1],
    [new AwsError("AWS_ERROR", "x"), 1],
    [new InternalError("x"), 1],
    [new Error("plain"), 1],
    ["a string", 1],
    [undefined, 0],
  ])("maps %s to %i", (error, code) => {
    expect(exitCodeOf(error)).toBe(code);
  });
});

describe("isSwitchyardError", () => {
  it("recognises errors, optionally by code", () => {
    const error = new LockError("LOCK_HELD", "held");
    expect(isSwitchyardError(error)).toBe(true);
    expect(isSwitchyardError(error, "LOCK_HELD", "LOCK_LOST")).toBe(true);
    expect(isSwitchyardError(error, "INTERNAL")).toBe(false);
    expect(isSwitchyardError(new Error("x"))).toBe(false);
    expect(isSwitchyardError({ code: "LOCK_HELD" })).toBe(false);
    expect(isSwitchyardError(null)).toBe(false);
  });

  it("recognises an error thrown by a second copy of the package", async () => {
    // A query string makes vite load a separate module instance: a second copy of the class.
    const copy: typeof import("../../../src/core/errors.js") = await import(
      // @ts-expect-error -- the query string is for the module loader, not for tsc
      "../../../src/core/errors.js?copy"
    );
    const foreign = new copy.SwapError("GATE_FAILED", "smoke test failed");
    expect(foreign).not.toBeInstanceOf(SwitchyardError);
    expect(isSwitchyardError(foreign, "GATE_FAILED")).toBe(true);
    expect(exitCodeOf(foreign)).toBe(4);
  });
});

describe("toSwitchyardError", () => {
  it("keeps switchyard errors and wraps anything else as INTERNAL with the cause", () => {
    const own = new InputError("INVALID_INPUT", "x");
    expect(toSwitchyardError(own)).toBe(own);
    const plain = new TypeError("boom");
    const wrapped = toSwitchyardError(plain);
    expect(wrapped.code).toBe("INTERNAL");
    expect(wrapped.cause).toBe(plain);
    expect(wrapped.message).toContain("boom");
  });
});

describe("docs/errors.md", () => {
  it("documents every code with its exit code and source", async () => {
    const doc = await readFile(new URL("../../../docs/errors.md", import.meta.url), "utf8");
    for (const code of errorCodes) {
      const { exitCode, source } = ERROR_CODES[code];
      expect(doc, code).toContain(`| \`${code}\` | ${exitCode} | ${source} |`);
    }
  });
});
