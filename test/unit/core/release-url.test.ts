import { describe, expect, it } from "vitest";
import { isSwitchyardError } from "../../../src/core/errors.js";
import {
  parseReleasesLocation,
  parseReleaseUrl,
  releaseUrlFor,
  resolveRelease,
} from "../../../src/core/release-url.js";

describe("parseReleaseUrl", () => {
  it.each([
    ["s3://releases/web/prod/r42.tar.gz", "releases", "web/prod/r42.tar.gz", "r42"],
    ["s3://releases/r42.tgz", "releases", "r42.tgz", "r42"],
    [
      "s3://my.bucket-1/a/b/1.4.0_rc-1.tar.gz",
      "my.bucket-1",
      "a/b/1.4.0_rc-1.tar.gz",
      "1.4.0_rc-1",
    ],
    [
      "https://releases.s3.us-east-1.amazonaws.com/web/prod/r42.tar.gz",
      "releases",
      "web/prod/r42.tar.gz",
      "r42",
    ],
    ["https://releases.s3.amazonaws.com/web/r42.tar.gz", "releases", "web/r42.tar.gz", "r42"],
    [
      "https://s3.eu-west-1.amazonaws.com/releases/web/prod/r42.tar.gz",
      "releases",
      "web/prod/r42.tar.gz",
      "r42",
    ],
    ["https://releases.s3.amazonaws.com/a%2Bb/r1.tar.gz", "releases", "a+b/r1.tar.gz", "r1"],
  ])("%s → bucket %s, key %s, version %s", (url, bucket, key, version) => {
    expect(parseReleaseUrl(url)).toEqual({ url: `s3://${bucket}/${key}`, bucket, key, version });
  });

  it.each([
    ["", "empty"],
    ["releases/web/r42.tar.gz", "expected an s3:// URL"],
    ["http://releases.s3.amazonaws.com/r42.tar.gz", "expected an s3:// URL"],
    ["s3://releases", "no object key"],
    ["s3://releases/web/prod/", "folder"],
    ["s3://releases/web/prod/r42.zip", ".tar.gz"],
    ["s3://releases/web/prod/r42", ".tar.gz"],
    ["s3://Releases/r42.tar.gz", "bucket"],
    ["s3://ab/r42.tar.gz", "bucket"],
    ["s3://releases/.tar.gz", "not empty"],
    ["s3://releases/r 42.tar.gz", "whitespace"],
    ["https://releases.s3.amazonaws.com/a%20b/r1.tar.gz", "whitespace"],
    [`s3://releases/${"v".repeat(65)}.tar.gz`, "at most 64"],
    ["s3://releases/r42\n.tar.gz", "control characters"],
    ["https://example.com/r42.tar.gz", "not an Amazon S3 object URL"],
  ])("rejects %j (%s), naming the URL and the expected form", (url, why) => {
    let thrown: unknown;
    try {
      parseReleaseUrl(url);
    } catch (error) {
      thrown = error;
    }
    expect(isSwitchyardError(thrown, "INVALID_INPUT")).toBe(true);
    expect((thrown as Error).message).toContain(JSON.stringify(url));
    expect((thrown as Error).message).toContain(why);
    expect((thrown as { hint: string }).hint).toContain("s3://<bucket>/<path>/<version>.tar.gz");
  });
});

describe("releases locations", () => {
  it("builds release URLs under a location", () => {
    expect(releaseUrlFor("s3://releases/web/prod/", "r42")).toBe(
      "s3://releases/web/prod/r42.tar.gz",
    );
    expect(releaseUrlFor("s3://releases/", "r1")).toBe("s3://releases/r1.tar.gz");
  });

  it.each([
    ["s3://releases/web/prod", "end in '/'"],
    ["s3://releases", "end in '/'"],
    ["https://releases.s3.amazonaws.com/web/", "s3://"],
    ["s3://releases//web/", "empty path segment"],
    ["s3://X/web/", "bucket"],
  ])("rejects location %j (%s)", (location, why) => {
    expect(() => parseReleasesLocation(location)).toThrow(why);
  });

  it("rejects a bad version", () => {
    expect(() => releaseUrlFor("s3://releases/", "r 42")).toThrow(/invalid release version "r 42"/);
    expect(() => releaseUrlFor("s3://releases/", "r42.tar.gz")).toThrow(/without .tar.gz/);
  });

  it("resolves --release as a URL or as a version under the location", () => {
    const releases = "s3://releases/web/prod/";
    expect(resolveRelease("r42", releases).url).toBe("s3://releases/web/prod/r42.tar.gz");
    expect(resolveRelease("s3://other/x/r9.tgz", releases)).toMatchObject({
      bucket: "other",
      version: "r9",
    });
    expect(() => resolveRelease("not a version", releases)).toThrow(/URL or a version/);
  });
});
