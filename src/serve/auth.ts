/**
 * Who may do what on the control plane: HTTP Basic users (passwords kept as salted scrypt hashes)
 * and bearer tokens (kept as SHA-256 digests: a token is 32 random bytes, so a fast digest is
 * safe), each a `viewer` (reads) or an `operator` (changes too). Every comparison is made in
 * constant time on equal-length digests, and an unknown user costs the same scrypt as a known
 * one. Failed logins are counted per client address. Nothing here logs or returns a secret.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { InputError } from "../core/errors.js";

export type Role = "viewer" | "operator";
export const ROLES: readonly Role[] = ["viewer", "operator"];

/** Who a request is: a user, a token's name, or anyone (`--insecure-local`). */
export interface Principal {
  name: string;
  role: Role;
  via: "basic" | "bearer" | "insecure-local";
}

export interface UserEntry {
  name: string;
  role: Role;
  /** `scrypt$<N>$<r>$<p>$<salt, base64url>$<key, base64url>` */
  hash: string;
}

export interface TokenEntry {
  name: string;
  role: Role;
  /** the token's SHA-256, 64 hex digits */
  sha256: string;
}

export interface Credentials {
  users: UserEntry[];
  tokens: TokenEntry[];
}

// ─── passwords ────────────────────────────────────────────────────────────────────────────────

/** scrypt's cost: N = 2^14, r = 8, p = 1 (16 MiB, tens of ms): OWASP's minimum for scrypt. */
const SCRYPT = { N: 16_384, r: 8, p: 1, keyLength: 32, saltLength: 16 } as const;
const HASH_PATTERN = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{32,})$/;

function scryptAsync(
  password: string,
  salt: Buffer,
  keyLength: number,
  cost: { N: number; r: number; p: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize("NFC"),
      salt,
      keyLength,
      { ...cost, maxmem: 256 * cost.N * cost.r },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** A salted scrypt hash of `password`, in the form the users file holds. */
export async function hashPassword(password: string): Promise<string> {
  if (password.length === 0) throw new InputError("INVALID_INPUT", "the password is empty");
  const salt = randomBytes(SCRYPT.saltLength);
  const key = await scryptAsync(password, salt, SCRYPT.keyLength, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parseHash(hash: string): ParsedHash | undefined {
  const m = HASH_PATTERN.exec(hash);
  if (!m) return undefined;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // a power of two, and costs a server can afford (a file must not make every login take minutes)
  if (!(N >= 2 && N <= 2 ** 20 && (N & (N - 1)) === 0 && r >= 1 && r <= 32 && p >= 1 && p <= 16))
    return undefined;
  return { N, r, p, salt: Buffer.from(m[4]!, "base64url"), key: Buffer.from(m[5]!, "base64url") };
}

/** Whether `hash` is a well-formed password hash (its cost within bounds). */
export function isPasswordHash(hash: string): boolean {
  return parseHash(hash) !== undefined;
}

/** A hash nobody's password matches, checked when the user is unknown so timing says nothing. */
const DUMMY: ParsedHash = {
  ...SCRYPT,
  salt: Buffer.alloc(SCRYPT.saltLength, 1),
  key: Buffer.alloc(SCRYPT.keyLength, 0),
};

/** Whether `password` matches `hash`; false (never an error) for a malformed hash. */
export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  const parsed = (hash === undefined ? undefined : parseHash(hash)) ?? DUMMY;
  const key = await scryptAsync(password, parsed.salt, parsed.key.length, parsed);
  return constantTimeEqual(key, parsed.key) && parsed !== DUMMY;
}

// ─── tokens ───────────────────────────────────────────────────────────────────────────────────

/** A new bearer token: 32 random bytes, `sy_` and base64url. */
export function newToken(): string {
  return `sy_${randomBytes(32).toString("base64url")}`;
}

/** The SHA-256 of a token, 64 hex digits: what the tokens file holds. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Equal-length buffers compared in constant time; different lengths are simply unequal. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

// ─── checking a request's credentials ─────────────────────────────────────────────────────────

/** What a request's `Authorization` header says, parsed; nothing about whether it is right. */
export type Presented =
  | { kind: "none" }
  | { kind: "malformed" }
  | { kind: "basic"; user: string; password: string }
  | { kind: "bearer"; token: string };

export function parseAuthorization(header: string | undefined): Presented {
  if (header === undefined || header.trim() === "") return { kind: "none" };
  const m = /^(\S+)\s+(\S+)\s*$/.exec(header);
  if (!m) return { kind: "malformed" };
  const scheme = m[1]!.toLowerCase();
  if (scheme === "bearer") return { kind: "bearer", token: m[2]! };
  if (scheme !== "basic") return { kind: "malformed" };
  const decoded = Buffer.from(m[2]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return { kind: "malformed" };
  return { kind: "basic", user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * The principal the presented credentials prove, or undefined. A token is looked up by comparing
 * its digest with every entry's (all of them, in constant time each); a user's password is
 * checked with scrypt even when the user is unknown.
 */
export async function authenticate(
  credentials: Credentials,
  presented: Presented,
): Promise<Principal | undefined> {
  if (presented.kind === "bearer") {
    const digest = Buffer.from(hashToken(presented.token), "hex");
    let found: TokenEntry | undefined;
    for (const entry of credentials.tokens) {
      if (constantTimeEqual(digest, Buffer.from(entry.sha256, "hex")) && !found) found = entry;
    }
    return found ? { name: found.name, role: found.role, via: "bearer" } : undefined;
  }
  if (presented.kind === "basic") {
    const user = credentials.users.find((u) => u.name === presented.user);
    const ok = await verifyPassword(presented.password, user?.hash);
    return ok && user ? { name: user.name, role: user.role, via: "basic" } : undefined;
  }
  return undefined;
}

/** Whether `role` may make a request with `needs`. */
export function allows(role: Role, needs: Role): boolean {
  return role === "operator" || needs === "viewer";
}

// ─── failed logins, per client address ────────────────────────────────────────────────────────

export interface RateLimitOptions {
  /** failed logins allowed in a window (default 5) */
  failures?: number;
  /** the window, sliding (default 60 s) */
  windowMs?: number;
  /** addresses remembered at most (the oldest forgotten first; default 10 000) */
  maxClients?: number;
  now?: () => number;
}

/**
 * Counts failed logins per client address in a sliding window. Once an address has failed
 * `failures` times within `windowMs`, it is refused (without checking its credentials) until
 * its oldest failure leaves the window. Memory is bounded by `maxClients`.
 */
export class LoginLimiter {
  private readonly failures: number;
  private readonly windowMs: number;
  private readonly maxClients: number;
  private readonly now: () => number;
  private readonly seen = new Map<string, number[]>();

  constructor(options: RateLimitOptions = {}) {
    this.failures = options.failures ?? 5;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxClients = options.maxClients ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  private recent(client: string): number[] {
    const since = this.now() - this.windowMs;
    const times = (this.seen.get(client) ?? []).filter((t) => t > since);
    if (times.length === 0) this.seen.delete(client);
    else this.seen.set(client, times);
    return times;
  }

  /** ms until `client` may try again; 0 when it may now */
  retryAfterMs(client: string): number {
    const times = this.recent(client);
    if (times.length < this.failures) return 0;
    return Math.max(1, times[times.length - this.failures]! + this.windowMs - this.now());
  }

  fail(client: string): void {
    const times = this.recent(client);
    times.push(this.now());
    this.seen.delete(client);
    this.seen.set(client, times);
    while (this.seen.size > this.maxClients) {
      const oldest = this.seen.keys().next().value;
      if (oldest === undefined) break;
      this.seen.delete(oldest);
    }
  }

  /** how many addresses are remembered (tests) */
  get size(): number {
    return this.seen.size;
  }
}

// ─── where credentials come from ──────────────────────────────────────────────────────────────

/** The environment variables credentials are read from. */
export const CREDENTIAL_VARIABLES = {
  users: "SWITCHYARD_SERVE_USERS",
  usersFile: "SWITCHYARD_SERVE_USERS_FILE",
  tokens: "SWITCHYARD_SERVE_TOKENS",
  tokensFile: "SWITCHYARD_SERVE_TOKENS_FILE",
} as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * Parses credential lines `name:role:secret-hash` (blank lines and `#` comments skipped). A bad
 * line is INVALID_INPUT naming where it is and what is wrong, never what it holds.
 */
export function parseCredentialLines(
  text: string,
  kind: "users" | "tokens",
  where: string,
): UserEntry[] | TokenEntry[] {
  const users: UserEntry[] = [];
  const tokens: TokenEntry[] = [];
  const names = new Set<string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const at = `${where}, line ${i + 1}`;
    const bad = (why: string) =>
      new InputError("INVALID_INPUT", `${at}: ${why}`, {
        hint:
          kind === "users"
            ? "each line is name:role:hash, the hash made by `switchyard serve hash-password`"
            : "each line is name:role:sha256, made by `switchyard serve new-token`",
      });
    const parts = line.split(":");
    if (parts.length !== 3) throw bad("expected three fields separated by ':'");
    const [name, role, secret] = parts as [string, string, string];
    if (!NAME.test(name)) throw bad("the name must be letters, digits, '.', '_', '@' or '-'");
    if (!(ROLES as readonly string[]).includes(role))
      throw bad(`the role must be viewer or operator; got ${JSON.stringify(role)}`);
    if (names.has(name)) throw bad(`${name} is listed twice`);
    names.add(name);
    if (kind === "users") {
      if (!isPasswordHash(secret)) throw bad("the hash is not a scrypt hash of hash-password's");
      users.push({ name, role: role as Role, hash: secret });
    } else {
      if (!/^[0-9a-f]{64}$/.test(secret)) throw bad("the digest must be 64 lowercase hex digits");
      tokens.push({ name, role: role as Role, sha256: secret });
    }
  });
  return kind === "users" ? users : tokens;
}

/**
 * The credentials the environment names: `SWITCHYARD_SERVE_USERS` / `SWITCHYARD_SERVE_TOKENS`
 * (lines in the variable itself) and `…_FILE` (lines in a file). Empty when none is set.
 */
export async function loadCredentials(
  env: Record<string, string | undefined>,
  options: { cwd?: string; read?: (path: string) => Promise<string> } = {},
): Promise<Credentials> {
  const read = options.read ?? ((path: string) => readFile(path, "utf8"));
  const { resolve } = await import("node:path");
  const users: UserEntry[] = [];
  const tokens: TokenEntry[] = [];
  const source = async (kind: "users" | "tokens", variable: string, fileVariable: string) => {
    const out: Array<UserEntry | TokenEntry> = [];
    const inline = env[variable];
    if (inline?.trim()) out.push(...parseCredentialLines(inline, kind, variable));
    const file = env[fileVariable];
    if (file?.trim()) {
      const path = resolve(options.cwd ?? process.cwd(), file);
      let text: string;
      try {
        text = await read(path);
      } catch (error) {
        throw new InputError("INVALID_INPUT", `${fileVariable}: cannot read ${path}`, {
          cause: error,
        });
      }
      out.push(...parseCredentialLines(text, kind, `${fileVariable} (${path})`));
    }
    return out;
  };
  users.push(
    ...((await source(
      "users",
      CREDENTIAL_VARIABLES.users,
      CREDENTIAL_VARIABLES.usersFile,
    )) as UserEntry[]),
  );
  tokens.push(
    ...((await source(
      "tokens",
      CREDENTIAL_VARIABLES.tokens,
      CREDENTIAL_VARIABLES.tokensFile,
    )) as TokenEntry[]),
  );
  const seen = new Set<string>();
  for (const name of [...users.map((u) => u.name), ...tokens.map((t) => t.name)]) {
    if (seen.has(name)) {
      throw new InputError(
        "INVALID_INPUT",
        `the credential name ${name} is used twice (users and tokens share one namespace)`,
      );
    }
    seen.add(name);
  }
  return { users, tokens };
}

/** Whether any credential is configured. */
export function hasCredentials(c: Credentials): boolean {
  return c.users.length > 0 || c.tokens.length > 0;
}
