/**
 * What every EC2 operation shares: reading `Filter.N` parameters and matching them (with EC2's
 * `*` and `?` wildcards and `tag:<key>` filters), `NextToken`/`MaxResults` paging, tag lists,
 * `DryRun`, and the errors EC2 answers with.
 */
import { AwsError } from "../../protocol/errors.js";
import { bool, int, list, type Params, str } from "../../protocol/query.js";

export interface Filter {
  name: string;
  values: string[];
}

/** A filter name → the values a resource has for it (any one matching is a match). */
export type FilterFields<T> = Record<string, (resource: T) => Array<string | undefined>>;

export interface WireTag {
  key: string;
  value: string;
}

export function invalidParameterValue(message: string): AwsError {
  return new AwsError("InvalidParameterValue", message);
}

export function missingParameter(name: string): AwsError {
  return new AwsError("MissingParameter", `The request must contain the parameter ${name}`);
}

/** `Filter.N.Name` / `Filter.N.Value.M` as `{ name, values }`. */
export function readFilters(params: Params): Filter[] {
  return list<Record<string, unknown>>(params.Filter).map((raw) => {
    const name = str(raw?.Name);
    if (!name) throw missingParameter("Filter.Name");
    return { name, values: list<string>(raw.Value).filter((v) => typeof v === "string") };
  });
}

/** A list of strings from an EC2 `Name.N` parameter. */
export function strings(value: unknown): string[] {
  return list<unknown>(value).filter((v): v is string => typeof v === "string" && v !== "");
}

/** EC2 filter values take `*` (any run of characters) and `?` (one character). */
export function wildcard(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s");
}

/**
 * Whether a resource passes every filter. Filters AND together, values of one filter OR.
 * `tag:<key>`, `tag-key` and `tag-value` work on any resource that has tags; any other name
 * must be one the operation knows, as AWS rejects unknown filters.
 */
export function matchesFilters<T>(
  resource: T,
  filters: Filter[],
  fields: FilterFields<T>,
  tagsOf?: (resource: T) => Record<string, string>,
): boolean {
  return filters.every((filter) => {
    const patterns = filter.values.map(wildcard);
    const any = (values: Array<string | undefined>) =>
      values.some((v) => v !== undefined && patterns.some((p) => p.test(v)));
    if (tagsOf && filter.name.startsWith("tag:")) {
      const value = tagsOf(resource)[filter.name.slice(4)];
      return any([value]);
    }
    if (tagsOf && filter.name === "tag-key") return any(Object.keys(tagsOf(resource)));
    if (tagsOf && filter.name === "tag-value") return any(Object.values(tagsOf(resource)));
    const field = fields[filter.name];
    if (!field) throw invalidParameterValue(`The filter '${filter.name}' is invalid`);
    return any(field(resource));
  });
}

/** Checks filter names up front, so an unknown filter fails even when nothing is there to match. */
export function checkFilterNames<T>(
  filters: Filter[],
  fields: FilterFields<T>,
  tagged: boolean,
): void {
  for (const f of filters) {
    const isTag = f.name.startsWith("tag:") || f.name === "tag-key" || f.name === "tag-value";
    if (!(f.name in fields) && !(tagged && isTag)) {
      throw invalidParameterValue(`The filter '${f.name}' is invalid`);
    }
  }
}

export function toWireTags(tags: Record<string, string>): WireTag[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

/** `DryRun=true`: EC2 answers DryRunOperation (HTTP 412) instead of doing anything. */
export function checkDryRun(params: Params): void {
  if (bool(params.DryRun) === true) {
    throw new AwsError(
      "DryRunOperation",
      "Request would have succeeded, but DryRun flag is set.",
      412,
    );
  }
}

export interface PageOptions {
  /** smallest and largest MaxResults the operation accepts */
  min: number;
  max: number;
}

/**
 * One page of `items` ordered by `key`. The token names the last key returned, so a page
 * stays correct when resources come and go between calls.
 */
export function page<T>(
  items: T[],
  key: (item: T) => string,
  params: Params,
  options: PageOptions,
): { items: T[]; nextToken?: string } {
  const maxResults = int(params.MaxResults);
  if (maxResults !== undefined && (maxResults < options.min || maxResults > options.max)) {
    throw invalidParameterValue(
      `Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value between ${options.min} and ${options.max}.`,
    );
  }
  const sorted = [...items].sort((a, b) => compare(key(a), key(b)));
  const token = str(params.NextToken);
  let start = 0;
  if (token) {
    const after = decodeToken(token);
    start = sorted.findIndex((item) => compare(key(item), after) > 0);
    if (start < 0) start = sorted.length;
  }
  if (maxResults === undefined) return { items: sorted.slice(start) };
  const slice = sorted.slice(start, start + maxResults);
  const more = start + maxResults < sorted.length;
  const last = slice.at(-1);
  return {
    items: slice,
    nextToken: more && last !== undefined ? encodeToken(key(last)) : undefined,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function encodeToken(after: string): string {
  return Buffer.from(JSON.stringify({ after }), "utf8").toString("base64url");
}

function decodeToken(token: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof parsed === "object" && parsed !== null && "after" in parsed) {
      const after = (parsed as { after: unknown }).after;
      if (typeof after === "string") return after;
    }
  } catch {
    // falls through to the error below
  }
  throw new AwsError(
    "InvalidPaginationToken",
    `The specified pagination token is not valid or is expired: ${token}`,
  );
}

/** Zero-padded, so version numbers sort as strings. */
export function numberKey(n: number): string {
  return String(n).padStart(10, "0");
}

/** `The image id '[ami-1]' does not exist` / `The image ids '[ami-1, ami-2]' do not exist`. */
export function notFoundList(what: string, ids: string[]): string {
  return ids.length === 1
    ? `The ${what} id '[${ids[0]}]' does not exist`
    : `The ${what} ids '[${ids.join(", ")}]' do not exist`;
}
