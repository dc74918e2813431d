import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { configJsonSchema } from "../../../src/core/config.js";

const schemaPath = fileURLToPath(
  new URL("../../../schema/switchyard.config.schema.json", import.meta.url),
);

describe("the committed JSON Schema", () => {
  it("equals the one generated from the zod schema (regenerate with `npm run schema`)", () => {
    const generated = configJsonSchema();
    if (process.env.SWITCHYARD_WRITE_SCHEMA === "1") {
      writeFileSync(schemaPath, `${JSON.stringify(generated, null, 2)}\n`);
    }
    const committed: unknown = JSON.parse(readFileSync(schemaPath, "utf8"));
    expect(committed).toEqual(generated);
  });

  it("has a title and a description on every service field", () => {
    const schema = configJsonSchema() as {
      title?: string;
      properties: { services: { additionalProperties: { properties: Record<string, object> } } };
    };
    expect(schema.title).toBe("switchyard config");
    const fields = schema.properties.services.additionalProperties.properties;
    for (const [name, field] of Object.entries(fields)) {
      expect(field, name).toHaveProperty("description");
    }
  });
});
