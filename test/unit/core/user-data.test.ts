import { describe, expect, it } from "vitest";
import { isSwitchyardError } from "../../../src/core/errors.js";
import {
  builtInUserData,
  decodeUserData,
  encodeUserData,
  findReleaseUrl,
  renderUserData,
  USER_DATA_MAX_BYTES,
  type UserDataVars,
  userDataFor,
} from "../../../src/core/user-data.js";

const vars: UserDataVars = {
  releaseUrl: "s3://releases/web/prod/r42.tar.gz",
  service: "web/prod",
  app: "web",
  env: "prod",
  group: "web-prod-v007",
  version: "r42",
};

describe("built-in user data", () => {
  it("is a bash script with the marker line, the exports and fetch-and-run", () => {
    const text = builtInUserData(vars);
    const lines = text.split("\n");
    expect(lines[0]).toBe("#!/bin/bash");
    expect(lines).toContain("# switchyard:release-url=s3://releases/web/prod/r42.tar.gz");
    expect(lines).toContain("export SWITCHYARD_RELEASE_URL=s3://releases/web/prod/r42.tar.gz");
    expect(lines).toContain("export SWITCHYARD_SERVICE=web/prod");
    expect(lines).toContain("export SWITCHYARD_GROUP=web-prod-v007");
    expect(lines.filter((l) => l !== "").at(-1)).toBe("exec /opt/switchyard/bin/fetch-and-run");
    expect(findReleaseUrl(text)).toBe(vars.releaseUrl);
  });

  it("quotes values the shell would misread", () => {
    const url = "s3://releases/it's/r1.tar.gz";
    const text = builtInUserData({ ...vars, releaseUrl: url });
    expect(text).toContain(`export SWITCHYARD_RELEASE_URL='s3://releases/it'\\''s/r1.tar.gz'`);
    expect(findReleaseUrl(text)).toBe(url);
  });
});

describe("renderUserData", () => {
  it("replaces every placeholder, with or without spaces", () => {
    const template =
      "#!/bin/sh\n# switchyard:release-url={{releaseUrl}}\necho {{ service }} {{app}} {{env}} {{group}} {{version}}\n";
    expect(renderUserData(template, vars)).toBe(
      "#!/bin/sh\n# switchyard:release-url=s3://releases/web/prod/r42.tar.gz\necho web/prod web prod web-prod-v007 r42\n",
    );
  });

  it("adds the marker line after the shebang when the template lacks it", () => {
    const out = renderUserData("#!/bin/bash\nrun {{releaseUrl}}\n", vars);
    expect(out.split("\n").slice(0, 2)).toEqual([
      "#!/bin/bash",
      "# switchyard:release-url=s3://releases/web/prod/r42.tar.gz",
    ]);
  });

  it("adds the marker line at the top when there is no header line", () => {
    const out = renderUserData("echo hi\n", vars);
    expect(out).toBe("# switchyard:release-url=s3://releases/web/prod/r42.tar.gz\necho hi\n");
  });

  it("keeps #cloud-config first", () => {
    const out = renderUserData("#cloud-config\nruncmd: []\n", vars);
    expect(out.split("\n")[0]).toBe("#cloud-config");
    expect(findReleaseUrl(out)).toBe(vars.releaseUrl);
  });

  it("rejects an unknown placeholder, naming it and the template", () => {
    let thrown: unknown;
    try {
      renderUserData("echo {{relaseUrl}} {{service}}", vars, "userdata.sh.tmpl");
    } catch (error) {
      thrown = error;
    }
    expect(isSwitchyardError(thrown, "INVALID_INPUT")).toBe(true);
    expect((thrown as Error).message).toContain("{{relaseUrl}}");
    expect((thrown as Error).message).toContain("userdata.sh.tmpl");
    expect((thrown as { details: unknown }).details).toMatchObject({ unknown: ["relaseUrl"] });
  });

  it("rejects a marker line naming another release", () => {
    expect(() => renderUserData("# switchyard:release-url=s3://x/old.tar.gz\n", vars)).toThrow(
      /does not name the release/,
    );
  });

  it("chooses between a template and the built-in script", () => {
    expect(userDataFor(vars)).toBe(builtInUserData(vars));
    expect(userDataFor(vars, { text: "echo {{version}}" })).toContain("echo r42");
  });
});

describe("encodeUserData", () => {
  it("base64-encodes and decodes back", () => {
    const text = builtInUserData(vars);
    expect(decodeUserData(encodeUserData(text))).toBe(text);
  });

  it("accepts exactly 16384 bytes", () => {
    expect(() => encodeUserData("x".repeat(USER_DATA_MAX_BYTES))).not.toThrow();
  });

  it("rejects more than 16384 bytes before encoding, saying the size", () => {
    const text = `${"é".repeat(8192)}x`; // 16385 bytes in UTF-8
    let thrown: unknown;
    try {
      encodeUserData(text);
    } catch (error) {
      thrown = error;
    }
    expect(isSwitchyardError(thrown, "INVALID_INPUT")).toBe(true);
    expect((thrown as Error).message).toContain("16385 bytes");
    expect((thrown as Error).message).toContain("16384");
  });
});
