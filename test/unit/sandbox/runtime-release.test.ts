import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { shellScript } from "../../../src/sandbox/runtime/instances.js";
import {
  decodeUserData,
  findReleaseUrl,
  parseProcfileWeb,
  parseS3Url,
} from "../../../src/sandbox/runtime/release.js";

describe("release URL in user data", () => {
  it("reads the `# switchyard:release-url=` marker line", () => {
    const userData =
      "#!/bin/bash\n# switchyard:release-url=s3://releases/web/prod/r42.tar.gz\nset -e\n";
    expect(findReleaseUrl(userData)).toBe("s3://releases/web/prod/r42.tar.gz");
  });

  it.each([
    ["SWITCHYARD_RELEASE_URL=s3://b/r1.tar.gz", "s3://b/r1.tar.gz"],
    ['export SWITCHYARD_RELEASE_URL="s3://b/r1.tar.gz"', "s3://b/r1.tar.gz"],
    ["  export SWITCHYARD_RELEASE_URL='s3://b/r 1.tar.gz'", "s3://b/r 1.tar.gz"],
  ])("reads a shell assignment %s", (line, url) => {
    expect(findReleaseUrl(`#!/bin/sh\r\n${line}\r\nexec run\r\n`)).toBe(url);
  });

  it("takes the first line that names a release", () => {
    const userData =
      "# switchyard:release-url=s3://a/1.tar.gz\nSWITCHYARD_RELEASE_URL=s3://b/2.tar.gz\n";
    expect(findReleaseUrl(userData)).toBe("s3://a/1.tar.gz");
  });

  it("finds nothing in user data without either line", () => {
    expect(findReleaseUrl("#!/bin/sh\necho SWITCHYARD_RELEASE_URL is unset\n")).toBeUndefined();
    expect(findReleaseUrl("")).toBeUndefined();
  });

  it("decodes base64 user data, gzip-compressed or not", () => {
    const text = "# switchyard:release-url=s3://b/k.tar.gz\n";
    expect(decodeUserData(Buffer.from(text).toString("base64"))).toBe(text);
    expect(decodeUserData(gzipSync(text).toString("base64"))).toBe(text);
    expect(decodeUserData(undefined)).toBe("");
  });
});

describe("S3 release URLs", () => {
  it.each([
    ["s3://releases/web/prod/r42.tar.gz", { bucket: "releases", key: "web/prod/r42.tar.gz" }],
    [
      "https://releases.s3.us-east-1.amazonaws.com/web/r%2042.tar.gz",
      { bucket: "releases", key: "web/r 42.tar.gz" },
    ],
    [
      "https://s3.eu-west-1.amazonaws.com/releases/r1.tar.gz",
      { bucket: "releases", key: "r1.tar.gz" },
    ],
  ])("splits %s into bucket and key", (url, parts) => {
    expect(parseS3Url(url)).toEqual(parts);
  });

  it.each(["s3://bucket-only", "s3://bucket/", "https://example.com/b/k", "ftp://b/k", "nonsense"])(
    "rejects %s",
    (url) => {
      expect(parseS3Url(url)).toBeUndefined();
    },
  );
});

describe("Procfile", () => {
  it("gives the web: command, ignoring comments and other process types", () => {
    const procfile =
      "# processes\nworker: node worker.mjs\nweb:   node server.mjs --port $PORT  \n";
    expect(parseProcfileWeb(procfile)).toBe("node server.mjs --port $PORT");
  });

  it("has no command without a web: line or with an empty one", () => {
    expect(parseProcfileWeb("worker: x\n")).toBeUndefined();
    expect(parseProcfileWeb("web:\n")).toBeUndefined();
  });
});

describe("the shell script a Procfile command runs as", () => {
  it("execs a simple command so the release process leads its group", () => {
    expect(shellScript("node server.mjs --port $PORT")).toBe("exec node server.mjs --port $PORT");
  });

  it.each([
    "cd app && node server.mjs",
    "sleep 1; node x",
    "node a | tee log",
    "PORT=1 node x",
    "exit 3",
    'node -e "process.exit(3)"',
  ])("runs %s as written", (command) => {
    expect(shellScript(command)).toBe(command);
  });
});
