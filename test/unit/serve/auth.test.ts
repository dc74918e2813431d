import { describe, expect, it } from "vitest";
import {
  allows,
  authenticate,
  type Credentials,
  constantTimeEqual,
  hashPassword,
  hashToken,
  LoginLimiter,
  loadCredentials,
  newToken,
  parseAuthorization,
  parseCredentialLines,
  verifyPassword,
} from "../../../src/serve/auth.js";

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("passwords", () => {
  it("are stored as salted scrypt hashes that verify the password and nothing else", async () => {
    const a = await hashPassword("correct horse");
    const b = await hashPassword("correct horse");
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b); // a fresh salt each time
    expect(a).not.toContain("correct");
    expect(await verifyPassword("correct horse", a)).toBe(true);
    expect(await verifyPassword("correct horse", b)).toBe(true);
    expect(await verifyPassword("correct horsE", a)).toBe(false);
    expect(await verifyPassword("", a)).toBe(false);
  });

  it("a malformed hash, or none (an unknown user), verifies nothing and throws nothing", async () => {
    expect(await verifyPassword("x", "scrypt$1$1$1$AAAA$BBBB")).toBe(false);
    expect(await verifyPassword("x", "plain-text")).toBe(false);
    expect(await verifyPassword("x", undefined)).toBe(false);
  });

  it("an empty password is refused", async () => {
    await expect(hashPassword("")).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });
});

describe("constant-time comparison", () => {
  it("compares equal-length buffers and calls different lengths unequal without throwing", () => {
    expect(constantTimeEqual(Buffer.from("abc"), Buffer.from("abc"))).toBe(true);
    expect(constantTimeEqual(Buffer.from("abc"), Buffer.from("abd"))).toBe(false);
    // crypto.timingSafeEqual throws on different lengths; this must not
    expect(constantTimeEqual(Buffer.from("abc"), Buffer.from("abcd"))).toBe(false);
  });
});

describe("the Authorization header", () => {
  it("parses Basic and Bearer, and says when it is missing or malformed", () => {
    expect(parseAuthorization(undefined)).toEqual({ kind: "none" });
    expect(parseAuthorization(basic("alice", "pa:ss"))).toEqual({
      kind: "basic",
      user: "alice",
      password: "pa:ss",
    });
    expect(parseAuthorization("bearer sy_abc")).toEqual({ kind: "bearer", token: "sy_abc" });
    expect(parseAuthorization("Digest x=y")).toEqual({ kind: "malformed" });
    expect(parseAuthorization(`Basic ${Buffer.from("nocolon").toString("base64")}`)).toEqual({
      kind: "malformed",
    });
  });
});

describe("authenticate", () => {
  let credentials: Credentials;
  const token = newToken();

  it("proves a user by password and a token by its digest; anything else proves nobody", async () => {
    credentials = {
      users: [{ name: "alice", role: "operator", hash: await hashPassword("s3cret") }],
      tokens: [{ name: "ci", role: "viewer", sha256: hashToken(token) }],
    };
    expect(token).toMatch(/^sy_[A-Za-z0-9_-]{43}$/);
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    const auth = (h: string) => authenticate(credentials, parseAuthorization(h));
    expect(await auth(basic("alice", "s3cret"))).toEqual({
      name: "alice",
      role: "operator",
      via: "basic",
    });
    expect(await auth(`Bearer ${token}`)).toEqual({ name: "ci", role: "viewer", via: "bearer" });
    expect(await auth(basic("alice", "wrong"))).toBeUndefined();
    expect(await auth(basic("mallory", "s3cret"))).toBeUndefined();
    expect(await auth(`Bearer ${token}x`)).toBeUndefined();
    expect(await auth("Bearer ")).toBeUndefined();
  });

  it("an unknown user costs a full scrypt, like a known one with a wrong password", async () => {
    const time = async (h: string) => {
      const t = process.hrtime.bigint();
      await authenticate(credentials, parseAuthorization(h));
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    await time(basic("alice", "warm-up"));
    // not a benchmark: a lookup that missed would answer in microseconds, scrypt takes ms
    expect(await time(basic("nobody", "wrong"))).toBeGreaterThan(2);
  });

  it("a viewer may read, an operator may change", () => {
    expect(allows("viewer", "viewer")).toBe(true);
    expect(allows("viewer", "operator")).toBe(false);
    expect(allows("operator", "operator")).toBe(true);
  });
});

describe("LoginLimiter", () => {
  it("refuses an address after 5 failures in a minute, until its oldest failure is a minute old", () => {
    let now = 1_000_000;
    const limiter = new LoginLimiter({ now: () => now });
    for (let i = 0; i < 4; i++) {
      limiter.fail("10.0.0.1");
      now += 1_000;
    }
    expect(limiter.retryAfterMs("10.0.0.1")).toBe(0);
    limiter.fail("10.0.0.1");
    // the first failure was at 1 000 000; it leaves the window at 1 060 000
    expect(limiter.retryAfterMs("10.0.0.1")).toBe(1_060_000 - now);
    expect(limiter.retryAfterMs("10.0.0.2")).toBe(0); // per address
    now = 1_060_001;
    expect(limiter.retryAfterMs("10.0.0.1")).toBe(0);
  });

  it("forgets old addresses first, keeping its memory bounded", () => {
    let now = 0;
    const limiter = new LoginLimiter({ maxClients: 3, now: () => now });
    for (const a of ["a", "b", "c", "d"]) {
      limiter.fail(a);
      now++;
    }
    expect(limiter.size).toBe(3);
    now = 120_000;
    expect(limiter.retryAfterMs("b")).toBe(0);
    expect(limiter.size).toBe(2); // b's failures left the window and b was forgotten
  });
});

describe("credential lines", () => {
  it("parses name:role:hash lines, skipping blanks and comments", async () => {
    const hash = await hashPassword("pw");
    const digest = hashToken("t");
    expect(
      parseCredentialLines(`# users\n\nalice:operator:${hash}\nbob:viewer:${hash}\n`, "users", "F"),
    ).toEqual([
      { name: "alice", role: "operator", hash },
      { name: "bob", role: "viewer", hash },
    ]);
    expect(parseCredentialLines(`ci:operator:${digest}`, "tokens", "T")).toEqual([
      { name: "ci", role: "operator", sha256: digest },
    ]);
  });

  it("a bad line names where it is and what is wrong, never what it holds", async () => {
    const hash = await hashPassword("pw");
    const bad = (text: string, kind: "users" | "tokens" = "users") => {
      try {
        parseCredentialLines(text, kind, "USERS_FILE");
      } catch (error) {
        return error as { code: string; message: string };
      }
      throw new Error("no error");
    };
    expect(bad(`alice:admin:${hash}`)).toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("USERS_FILE, line 1: the role must be viewer or operator"),
    });
    expect(bad("\nalice:viewer:hunter2").message).toMatch(/line 2: the hash is not a scrypt hash/);
    expect(bad("\nalice:viewer:hunter2").message).not.toContain("hunter2");
    expect(bad("ci:viewer:abc", "tokens").message).toMatch(/64 lowercase hex/);
    expect(bad(`a:viewer:${hash}\na:operator:${hash}`).message).toMatch(/a is listed twice/);
  });

  it("loadCredentials reads the variables and the files they name", async () => {
    const hash = await hashPassword("pw");
    const digest = hashToken("t");
    const files: Record<string, string> = { "/etc/sy/users": `alice:operator:${hash}\n` };
    const read = async (path: string) => {
      const text = files[path];
      if (text === undefined) throw new Error("ENOENT");
      return text;
    };
    const c = await loadCredentials(
      {
        SWITCHYARD_SERVE_USERS_FILE: "/etc/sy/users",
        SWITCHYARD_SERVE_TOKENS: `ci:viewer:${digest}`,
      },
      { read },
    );
    expect(c.users.map((u) => u.name)).toEqual(["alice"]);
    expect(c.tokens.map((t) => t.name)).toEqual(["ci"]);
    expect(await loadCredentials({}, { read })).toEqual({ users: [], tokens: [] });
    await expect(
      loadCredentials({ SWITCHYARD_SERVE_TOKENS_FILE: "/nope" }, { read }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT", message: /SWITCHYARD_SERVE_TOKENS_FILE/ });
  });
});
