import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { SwitchyardError } from "../../../src/core/errors.js";
import {
  crossSiteProblem,
  matchPath,
  replyForError,
  statusOfError,
} from "../../../src/serve/http.js";

const request = (method: string, headers: Record<string, string>) =>
  ({ method, headers: { host: "127.0.0.1:8080", ...headers } }) as unknown as IncomingMessage;

describe("cross-site requests", () => {
  it("a JSON body from this host, or no body with the X-Switchyard-Request header, passes", () => {
    expect(crossSiteProblem(request("POST", { "content-type": "application/json" }))).toBe(
      undefined,
    );
    expect(
      crossSiteProblem(
        request("POST", {
          "content-type": "application/json; charset=utf-8",
          origin: "http://127.0.0.1:8080",
        }),
      ),
    ).toBe(undefined);
    expect(crossSiteProblem(request("POST", { "x-switchyard-request": "1" }))).toBe(undefined);
  });

  it("what an HTML form can send is refused: form-encoded, multipart, text/plain, no type", () => {
    for (const type of [
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "text/plain",
    ]) {
      expect(
        crossSiteProblem(request("POST", { "content-type": type, "content-length": "3" })),
      ).toMatchObject({ status: 415, body: { error: { code: "UNSUPPORTED_MEDIA_TYPE" } } });
    }
    expect(crossSiteProblem(request("POST", {}))?.status).toBe(415);
  });

  it("a foreign Origin, a null one, or Sec-Fetch-Site: cross-site is refused", () => {
    const json = { "content-type": "application/json" };
    for (const extra of [
      { origin: "https://evil.example" } as Record<string, string>,
      { origin: "http://127.0.0.1:9999" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
    ]) {
      expect(crossSiteProblem(request("POST", { ...json, ...extra }))).toMatchObject({
        status: 403,
        body: { error: { code: "FORBIDDEN" } },
      });
    }
  });
});

describe("routes and errors", () => {
  it("matches path patterns with decoded parameters", () => {
    expect(matchPath("/api/services/:app/:env", "/api/services/web/prod")).toEqual({
      app: "web",
      env: "prod",
    });
    expect(matchPath("/api/services/:app/:env", "/api/services/web")).toBeUndefined();
    expect(matchPath("/api/services/:app/:env", "/api/services/web/")).toBeUndefined();
    expect(matchPath("/healthz", "/healthz")).toEqual({});
  });

  it("maps the library's codes to statuses the way the CLI maps them to exit codes", () => {
    expect(statusOfError("INVALID_INPUT")).toBe(400);
    expect(statusOfError("RELEASE_NOT_FOUND")).toBe(400);
    expect(statusOfError("UNKNOWN_SERVICE")).toBe(404);
    expect(statusOfError("LOCK_HELD")).toBe(409);
    expect(statusOfError("NO_SWAP")).toBe(409);
    expect(statusOfError("AWS_ERROR")).toBe(502);
    expect(statusOfError("SWAP_INCOMPLETE")).toBe(500);
  });

  it("an error reply carries code, message and hint; LOCK_HELD names the holder; a bug says nothing", () => {
    const held = replyForError(
      new SwitchyardError("LOCK_HELD", "web/prod is locked", {
        hint: "wait",
        details: { swapId: "s1", owner: { user: "bob", host: "h", pid: 1 } },
      }),
    );
    expect(held).toMatchObject({
      status: 409,
      body: {
        error: { code: "LOCK_HELD", message: "web/prod is locked", hint: "wait" },
        holder: { swapId: "s1", user: "bob", host: "h", pid: 1 },
      },
    });
    expect(replyForError(new Error("secret at /home/x"))).toEqual({
      status: 500,
      body: { error: { code: "INTERNAL", message: "internal error" } },
    });
  });
});
