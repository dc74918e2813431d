import { describe, expect, it } from "vitest";
import { allCommands, COMMAND_HELP, commandPath } from "../../../src/cli/help.js";
import { createProgram } from "../../../src/cli/program.js";
import { memoryIo } from "./helpers.js";

/** Groups of commands, which run nothing of their own. */
const GROUPS = new Set(["release"]);

function program() {
  return createProgram(memoryIo().io);
}

describe("every command's help", () => {
  it("has an entry: its global options and its examples (and no entry names a missing command)", () => {
    const names = allCommands(program()).map(commandPath);
    expect(names.filter((n) => !GROUPS.has(n)).sort()).toEqual(Object.keys(COMMAND_HELP).sort());
  });

  it.each(Object.keys(COMMAND_HELP))(
    "%s --help lists its global options and its examples",
    async (name) => {
      const { io, stdout } = memoryIo();
      const p = createProgram(io);
      await expect(
        p.parseAsync([...name.split(" "), "--help"], { from: "user" }),
      ).rejects.toThrow();
      const text = stdout.text();
      const [, trailer = ""] = text.split("Global options it honours:\n");
      const listed = [
        ...trailer.split("\nExamples:")[0]!.matchAll(/^ {2}(?:-\w, )?--([\w-]+)/gm),
      ].map((m) => m[1]);
      expect(listed).toEqual(
        p.options
          .map((o) => o.long!.slice(2))
          .filter((o) => (COMMAND_HELP[name]!.globals as readonly string[]).includes(o)),
      );
      for (const example of COMMAND_HELP[name]!.examples) {
        expect(text).toContain(`  $ switchyard ${example}\n`);
      }
    },
  );

  it.each(
    Object.entries(COMMAND_HELP).flatMap(([name, help]) =>
      help.examples.map((example) => [name, example] as const),
    ),
  )("%s: the example `%s` parses", async (name, example) => {
    const p = program();
    let ran = "";
    for (const command of allCommands(p)) {
      command.action(() => {
        ran = commandPath(command);
      });
    }
    // a shell redirect is the shell's, not the command's
    const words = example.replace(/\s*>.*$/, "").split(/\s+/);
    await p.parseAsync(words, { from: "user" });
    expect(ran).toBe(name);
  });
});
