import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isSwitchyardError } from "../../../src/core/errors.js";
import {
  compareVersions,
  createManifest,
  parseManifest,
  payloadDigest,
  procfileWebCommand,
} from "../../../src/release/manifest.js";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

describe("payloadDigest", () => {
  it("is the sha256 of a sha256sum listing in byte-wise path order", () => {
    const files = [
      { path: "b.txt", sha256: sha("b") },
      { path: "Procfile", sha256: sha("web: x") },
      { path: "a/z.txt", sha256: sha("z") },
    ];
    // 'P' (0x50) < 'a' (0x61) < 'b': byte order, as LC_ALL=C sort orders it
    const listing = [
      `${sha("web: x")}  Procfile\n`,
      `${sha("z")}  a/z.txt\n`,
      `${sha("b")}  b.txt\n`,
    ].join("");
    expect(payloadDigest(files)).toBe(sha(listing));
  });

  it("does not depend on the order the files are given in", () => {
    const files = [
      { path: "x", sha256: sha("1") },
      { path: "y", sha256: sha("2") },
      { path: "é", sha256: sha("3") },
    ];
    expect(payloadDigest([...files].reverse())).toBe(payloadDigest(files));
  });

  it("changes when a file's content or path changes", () => {
    const base = payloadDigest([{ path: "x", sha256: sha("1") }]);
    expect(payloadDigest([{ path: "x", sha256: sha("2") }])).not.toBe(base);
    expect(payloadDigest([{ path: "y", sha256: sha("1") }])).not.toBe(base);
  });
});

describe("manifests", () => {
  const files = [
    { path: "server.js", size: 10, sha256: sha("s") },
    { path: "Procfile", size: 7, sha256: sha("p") },
  ];

  it("sorts files, computes the digest and leaves gitCommit out when unknown", () => {
    const m = createManifest({ version: "r7", createdAt: new Date(0), files });
    expect(m).toEqual({
      version: "r7",
      createdAt: "1970-01-01T00:00:00.000Z",
      sha256: payloadDigest(files),
      files: [files[1], files[0]],
    });
    expect("gitCommit" in m).toBe(false);
  });

  it("round-trips through JSON", () => {
    const m = createManifest({
      version: "1.4.0",
      createdAt: "2026-01-02T03:04:05.000Z",
      files,
      gitCommit: "a".repeat(40),
    });
    expect(parseManifest(JSON.stringify(m), "r.tar.gz")).toEqual(m);
  });

  it.each([
    ["not JSON", "{", /invalid JSON/],
    ["a bad version", JSON.stringify({ version: "r 1" }), /version/],
    [
      "a short sha256",
      JSON.stringify({
        version: "r1",
        createdAt: "2026-01-01T00:00:00Z",
        sha256: "abc",
        files: [],
      }),
      /sha256/,
    ],
    [
      "a malformed file entry",
      JSON.stringify({
        version: "r1",
        createdAt: "2026-01-01T00:00:00Z",
        sha256: sha("x"),
        files: [{ path: "a" }],
      }),
      /files\[0\]/,
    ],
  ])("rejects %s with INVALID_INPUT naming the source", (_what, text, why) => {
    try {
      parseManifest(text, "build/r1.tar.gz");
      expect.unreachable();
    } catch (error) {
      expect(isSwitchyardError(error, "INVALID_INPUT")).toBe(true);
      expect((error as Error).message).toContain("build/r1.tar.gz");
      expect((error as Error).message).toMatch(why);
    }
  });
});

describe("procfileWebCommand", () => {
  it.each([
    ["web: node server.js\n", "node server.js"],
    ["worker: x\r\n  web :  npm start  \n", "npm start"],
    ["worker: x\n", undefined],
    ["web:\n", undefined],
    ["", undefined],
  ])("%j → %j", (text, command) => {
    expect(procfileWebCommand(text)).toBe(command);
  });
});

describe("compareVersions", () => {
  it("orders versions naturally", () => {
    expect(["r10", "r9", "r100", "r1"].sort(compareVersions)).toEqual(["r1", "r9", "r10", "r100"]);
    expect(compareVersions("1.10.0", "1.9.0")).toBeGreaterThan(0);
  });
});
