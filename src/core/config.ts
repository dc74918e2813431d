/**
 * The config file: finding and reading `switchyard.config.{yaml,yml,json,ts,mts,js,mjs}` in the
 * working directory, or the file `--config` names (YAML via `yaml`, JSON, and TS/JS modules whose
 * default export is usually `defineConfig({...})`, via `jiti`), then validating it with the
 * schema in config-schema.ts, which this module re-exports.
 */
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, relative, resolve } from "node:path";
import {
  type ConfigIssue,
  checkConfig,
  configInvalid,
  formatConfigPath,
  type ResolvedConfig,
  type SwitchyardConfig,
} from "./config-schema.js";
import { ConfigError, isSwitchyardError } from "./errors.js";
import { checkUserDataTemplate } from "./user-data.js";

export * from "./config-schema.js";

/** The file names looked for in the working directory, in this order. */
export const CONFIG_FILE_NAMES = [
  "switchyard.config.yaml",
  "switchyard.config.yml",
  "switchyard.config.json",
  "switchyard.config.ts",
  "switchyard.config.mts",
  "switchyard.config.js",
  "switchyard.config.mjs",
] as const;

const YAML_EXTENSIONS = new Set([".yaml", ".yml"]);
const MODULE_EXTENSIONS = new Set([".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"]);

export interface LoadConfigOptions {
  /** The config file (`--config`); relative to `cwd`. Default: look for one in `cwd`. */
  path?: string | undefined;
  /** The working directory; default `process.cwd()`. */
  cwd?: string | undefined;
  /** Where `${VAR}` references in the file are looked up; default `process.env`. */
  env?: Record<string, string | undefined> | undefined;
}

export interface LoadedConfig {
  /** Absolute path of the file that was read. */
  path: string;
  config: ResolvedConfig;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function displayName(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/**
 * The config file in `cwd`, or undefined when there is none. Throws CONFIG_INVALID when more
 * than one is there, since which one wins would be a guess.
 */
export async function findConfigFile(cwd: string): Promise<string | undefined> {
  const found: string[] = [];
  for (const name of CONFIG_FILE_NAMES) {
    const path = resolve(cwd, name);
    if (await isFile(path)) found.push(path);
  }
  if (found.length > 1) {
    throw new ConfigError(
      "CONFIG_INVALID",
      `found more than one config file in ${cwd}: ${found.map((p) => basename(p)).join(", ")}`,
      { hint: "keep one of them, or name one with --config", details: { cwd, found } },
    );
  }
  return found[0];
}

/** Reads a config file into a plain value, without validating it. */
export async function readConfigFile(path: string, source = path): Promise<unknown> {
  const extension = extname(path).toLowerCase();
  const unreadable = (why: string, cause?: unknown): ConfigError =>
    new ConfigError("CONFIG_INVALID", `${source} could not be read: ${why}`, {
      details: { source, path },
      ...(cause === undefined ? {} : { cause }),
    });

  if (MODULE_EXTENSIONS.has(extension)) {
    try {
      // loaded only for .ts/.js configs: jiti is large and a CLI command must start fast
      const { createJiti } = await import("jiti");
      const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: false });
      let value: unknown = await jiti.import(path, { default: true });
      if (typeof value === "function") value = await (value as () => unknown)();
      return value;
    } catch (error) {
      if (isSwitchyardError(error)) throw error;
      throw unreadable(error instanceof Error ? error.message : String(error), error);
    }
  }

  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw unreadable(error instanceof Error ? error.message : String(error), error);
  }
  if (text.trim() === "") throw unreadable("the file is empty");

  if (extension === ".json") {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw unreadable(
        `invalid JSON: ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    }
  }
  if (YAML_EXTENSIONS.has(extension)) {
    const { parseDocument } = await import("yaml");
    const document = parseDocument(text, { prettyErrors: true });
    const [first] = document.errors;
    if (first !== undefined) throw unreadable(`invalid YAML: ${first.message}`, first);
    return document.toJS() as unknown;
  }
  throw unreadable(
    `unsupported file type ${JSON.stringify(extension)}; use .yaml, .yml, .json, .ts, .mts, .js or .mjs`,
  );
}

const ENV_REFERENCE = /\$(\$)?\{([^}]*)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The config value with every `${VAR}` in its strings replaced by the variable's value from `env`
 * (`$${` writes a literal `${`), so secrets live in the environment, never in the file. Gate
 * commands are left as written: the shell expands them when the gate runs, with the step's
 * variables. Every unset variable and malformed reference is an issue naming the field.
 */
export function substituteEnv(
  value: unknown,
  env: Record<string, string | undefined>,
): { value: unknown; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const walk = (v: unknown, path: PropertyKey[]): unknown => {
    if (typeof v === "string") {
      if (!v.includes("${")) return v;
      return v.replace(ENV_REFERENCE, (whole, escaped: string | undefined, name: string) => {
        if (escaped !== undefined) return whole.slice(1);
        if (!ENV_NAME.test(name)) {
          issues.push({
            path: formatConfigPath(path),
            message: `\${${name}} is not an environment variable reference; write \${NAME} with letters, digits and _ (or $\${ for a literal \${)`,
          });
          return whole;
        }
        const found = env[name];
        if (found === undefined) {
          issues.push({
            path: formatConfigPath(path),
            message: `environment variable ${name} is not set; set it, or write the value in its place`,
          });
          return whole;
        }
        return found;
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(v)) {
        const isGates = key === "gates" && path.length === 2 && path[0] === "services";
        out[key] = isGates ? item : walk(item, [...path, key]);
      }
      return out;
    }
    return v;
  };
  return { value: walk(value, []), issues };
}

/** Problems with the user data templates a config names: missing files, unknown placeholders. */
async function checkTemplates(config: ResolvedConfig, cwd: string): Promise<ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  for (const [name, service] of Object.entries(config.services)) {
    if (service.userData === undefined) continue;
    const path = formatConfigPath(["services", name, "userData"]);
    let text: string;
    try {
      text = await readFile(service.userData, "utf8");
    } catch {
      issues.push({ path, message: `file not found: ${displayName(service.userData, cwd)}` });
      continue;
    }
    try {
      checkUserDataTemplate(text, displayName(service.userData, cwd));
    } catch (error) {
      issues.push({ path, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return issues;
}

/**
 * Finds, reads and validates the config file. Throws CONFIG_NOT_FOUND (naming the file names
 * looked for and where) or CONFIG_INVALID (listing every problem, one per line, with the file
 * name). Relative `userData` and `gates` paths are resolved against the file's folder; `${VAR}` in
 * strings (gate commands aside) is replaced from the environment (`substituteEnv`).
 */
/**
 * The config of a function or a container, from its environment: `SWITCHYARD_CONFIG_JSON` (the
 * config as JSON), else the file `SWITCHYARD_CONFIG` names, else a `switchyard.config.*` in
 * `LAMBDA_TASK_ROOT` (a Lambda's bundle) or the working directory. `createSwitchyard` takes it.
 */
export async function loadConfigFromEnvironment(
  env: Record<string, string | undefined> = process.env,
): Promise<ResolvedConfig | SwitchyardConfig> {
  if (env.SWITCHYARD_CONFIG_JSON) return JSON.parse(env.SWITCHYARD_CONFIG_JSON) as SwitchyardConfig;
  const { config } = await loadConfig({
    env,
    ...(env.SWITCHYARD_CONFIG ? { path: env.SWITCHYARD_CONFIG } : {}),
    ...(env.LAMBDA_TASK_ROOT ? { cwd: env.LAMBDA_TASK_ROOT } : {}),
  });
  return config;
}

export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = resolve(options.cwd ?? process.cwd());
  let path: string;
  if (options.path !== undefined) {
    path = resolve(cwd, options.path);
    if (!(await isFile(path))) {
      throw new ConfigError("CONFIG_NOT_FOUND", `config file not found: ${path}`, {
        hint: "check the --config path, or run `switchyard init` to write one",
        details: { path, cwd },
      });
    }
  } else {
    const found = await findConfigFile(cwd);
    if (found === undefined) {
      throw new ConfigError(
        "CONFIG_NOT_FOUND",
        `no config file in ${cwd}; looked for ${CONFIG_FILE_NAMES.join(", ")}`,
        {
          hint: "run `switchyard init` to write one, or name one with --config",
          details: { cwd, looked: [...CONFIG_FILE_NAMES] },
        },
      );
    }
    path = found;
  }

  const source = displayName(path, cwd);
  const read = await readConfigFile(path, source);
  const { value: raw, issues: envIssues } = substituteEnv(read, options.env ?? process.env);
  if (envIssues.length > 0) throw configInvalid(source, envIssues);
  const check = checkConfig(raw, { source, baseDir: dirname(path) });
  if (!check.ok) throw configInvalid(source, check.issues);
  const templateIssues = await checkTemplates(check.config, cwd);
  if (templateIssues.length > 0) throw configInvalid(source, templateIssues);
  return { path, config: check.config };
}
