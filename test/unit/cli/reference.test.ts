import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { createProgram } from "../../../src/cli/program.js";
import { renderCliReference } from "../../../src/cli/reference.js";
import { memoryIo } from "./helpers.js";

describe("docs/cli.md", () => {
  it("is the reference generated from the commander definitions (run `npm run docs:cli`)", async () => {
    const generated = renderCliReference(createProgram(memoryIo().io));
    const written = await readFile(new URL("../../../docs/cli.md", import.meta.url), "utf8");
    expect(written).toBe(generated);
  });

  it("lists every command, and no hidden option", () => {
    const reference = renderCliReference(createProgram(memoryIo().io));
    for (const heading of [
      "### `switchyard sandbox`",
      "### `switchyard sandbox bootstrap`",
      "### `switchyard demo`",
      "### `switchyard init`",
      "### `switchyard deploy`",
      "### `switchyard status`",
      "### `switchyard rollback`",
      "### `switchyard resume`",
      "### `switchyard unlock`",
    ]) {
      expect(reference).toContain(heading);
    }
    expect(reference).not.toContain("--poll-interval");
    expect(reference).toContain("| `LOCK_HELD` | 3 |");
  });
});
