/**
 * Writing a bootstrapped service into a config file, YAML or JSON by the file's extension. An
 * existing file keeps its other services (and, for YAML, its comments); the service is replaced.
 */
import { readFile, writeFile } from "node:fs/promises";
import { extname } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { Document, isMap, isScalar, parseDocument, visit } from "yaml";
import { ConfigError, InputError } from "../core/errors.js";
import type { BootstrapResult } from "../demo/bootstrap.js";

export type ConfigFormat = "yaml" | "json";

export function configFormatOf(path: string): ConfigFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".yaml" || ext === ".yml") return "yaml";
  if (ext === ".json") return "json";
  throw new InputError(
    "INVALID_INPUT",
    `--write-config ${path}: writes YAML (.yaml, .yml) or JSON (.json); got ${JSON.stringify(ext || "no extension")}`,
    { hint: "name a .yaml or .json file" },
  );
}

/** A config as text in a format, with a header saying where it came from (YAML only). */
export function formatConfig(config: object, format: ConfigFormat, header?: string): string {
  if (format === "json") return `${JSON.stringify(config, null, 2)}\n`;
  const head = header
    ? `${header
        .split("\n")
        .map((l) => `# ${l}`.trimEnd())
        .join("\n")}\n`
    : "";
  const doc = new Document(config);
  flowScalarLists(doc);
  return `${head}${doc.toString({ lineWidth: 0, flowCollectionPadding: false })}`;
}

/** Lists of plain values on one line (`steps: [5, 25, 50, 100]`), as people write them. */
function flowScalarLists(node: Parameters<typeof visit>[0]): void {
  visit(node, {
    Seq(_key, node) {
      if (node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Writes (or merges) the bootstrapped service into `path`. Returns whether the file existed. */
export async function writeServiceConfig(
  path: string,
  result: BootstrapResult,
  header: string,
): Promise<{ existed: boolean }> {
  const format = configFormatOf(path);
  const existing = await readIfExists(path);
  const service = result.config.services[result.service];
  if (existing === undefined || existing.trim() === "") {
    await writeFile(path, formatConfig(result.config, format, header));
    return { existed: false };
  }
  const invalid = (why: string) =>
    new ConfigError("CONFIG_INVALID", `${path} could not be updated: ${why}`, {
      hint: "fix the file, or write to another one with --write-config",
    });
  if (format === "json") {
    let value: unknown;
    try {
      value = JSON.parse(existing);
    } catch (error) {
      throw invalid(`invalid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw invalid("it does not hold an object");
    }
    const current = value as Record<string, unknown>;
    const services =
      typeof current.services === "object" && current.services !== null
        ? (current.services as Record<string, unknown>)
        : {};
    const merged = {
      ...current,
      region: current.region ?? result.config.region,
      state: current.state ?? result.config.state,
      services: { ...services, [result.service]: service },
    };
    await writeFile(path, formatConfig(merged, "json"));
    return { existed: true };
  }
  const doc = parseDocument(existing);
  if (doc.errors.length > 0) throw invalid(`invalid YAML: ${doc.errors[0]?.message}`);
  if (doc.contents === null) {
    await writeFile(path, formatConfig(result.config, format, header));
    return { existed: true };
  }
  if (!isMap(doc.contents)) throw invalid("it does not hold a mapping");
  const current = doc.toJS() as {
    region?: unknown;
    state?: unknown;
    services?: Record<string, unknown>;
  };
  if (
    current.region !== undefined &&
    current.state !== undefined &&
    isDeepStrictEqual(current.services?.[result.service], service)
  ) {
    return { existed: true }; // already up to date: leave the file as it is
  }
  if (!doc.has("region")) doc.set("region", result.config.region);
  if (!doc.has("state")) doc.set("state", doc.createNode(result.config.state));
  if (!isMap(doc.get("services"))) doc.set("services", doc.createNode({}));
  const node = doc.createNode(service);
  flowScalarLists(node);
  doc.setIn(["services", result.service], node);
  await writeFile(path, doc.toString({ lineWidth: 0 }));
  return { existed: true };
}
