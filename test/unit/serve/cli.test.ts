import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { runCli } from "../../../src/cli/run.js";
import { hashToken, verifyPassword } from "../../../src/serve/auth.js";
import { memoryIo } from "../cli/helpers.js";

describe("switchyard serve (before it serves)", () => {
  it("refuses to start without credentials (exit 2, naming what to set), before reading any config", async () => {
    const m = memoryIo({ env: {}, cwd: "/nonexistent" });
    expect(await runCli(["serve"], m.io)).toBe(2);
    expect(m.stderr.text()).toMatch(
      /^error INVALID_INPUT: serve needs credentials: set SWITCHYARD_SERVE_USERS_FILE .*SWITCHYARD_SERVE_TOKENS_FILE/,
    );
    expect(m.stderr.text()).toContain("--insecure-local");
  });

  it("serves without credentials only on loopback, and only when told to", async () => {
    const m = memoryIo({ env: {}, cwd: "/nonexistent" });
    expect(await runCli(["serve", "--insecure-local", "--host", "0.0.0.0"], m.io)).toBe(2);
    expect(m.stderr.text()).toContain("--insecure-local serves loopback addresses only");
    const both = memoryIo({ env: { SWITCHYARD_SERVE_TOKENS: `ci:viewer:${hashToken("t")}` } });
    expect(await runCli(["serve", "--insecure-local"], both.io)).toBe(2);
    expect(both.stderr.text()).toContain("SWITCHYARD_SERVE_TOKENS");
  });

  it("a malformed credentials line is exit 2 naming the line, not its contents", async () => {
    const m = memoryIo({ env: { SWITCHYARD_SERVE_USERS: "alice:operator:hunter2" } });
    expect(await runCli(["serve"], m.io)).toBe(2);
    expect(m.stderr.text()).toContain("SWITCHYARD_SERVE_USERS, line 1");
    expect(m.stderr.text()).not.toContain("hunter2");
  });
});

describe("switchyard serve hash-password / new-token", () => {
  it("hash-password reads the password from stdin and prints the users-file line", async () => {
    const m = memoryIo();
    m.io.stdin = Readable.from(["s3cret pass\n"]);
    expect(
      await runCli(["serve", "hash-password", "--name", "alice", "--role", "operator"], m.io),
    ).toBe(0);
    const line = m.stdout.text().trim();
    const [name, role, hash] = line.split(":");
    expect([name, role]).toEqual(["alice", "operator"]);
    expect(await verifyPassword("s3cret pass", hash)).toBe(true);
    expect(m.stdout.text() + m.stderr.text()).not.toContain("s3cret");
  });

  it("hash-password with no password on stdin is exit 2; a bad role is a usage error", async () => {
    const empty = memoryIo();
    empty.io.stdin = Readable.from([""]);
    expect(await runCli(["serve", "hash-password"], empty.io)).toBe(2);
    const role = memoryIo();
    expect(
      await runCli(["serve", "hash-password", "--name", "a", "--role", "admin"], role.io),
    ).toBe(2);
  });

  it("new-token prints the token once on stderr and its tokens-file line on stdout", async () => {
    const m = memoryIo();
    expect(await runCli(["serve", "new-token", "--name", "ci", "--role", "operator"], m.io)).toBe(
      0,
    );
    const token = /(sy_[A-Za-z0-9_-]+)/.exec(m.stderr.text())?.[1];
    expect(token).toBeDefined();
    expect(m.stdout.text()).toBe(`ci:operator:${hashToken(token!)}\n`);
  });
});
