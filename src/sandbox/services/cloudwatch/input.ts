/**
 * Reading CloudWatch parameters the same way whichever protocol carried them: JSON 1.0 sends
 * numbers, booleans, arrays and timestamps as epoch seconds; the query protocol sends strings,
 * `.member.N` lists (decoded to arrays) and ISO 8601 timestamps.
 */

import type { Dimension } from "../../metrics.js";
import { AwsError } from "../../protocol/errors.js";
import { list } from "../../protocol/query.js";

export type Input = Record<string, unknown>;

export const invalidParameter = (message: string): AwsError =>
  new AwsError("InvalidParameterValue", message, 400);
export const missingParameter = (name: string): AwsError =>
  new AwsError("MissingParameter", `The parameter ${name} is required.`, 400);

export function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return undefined;
}

export function number(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(n)) throw invalidParameter(`The parameter ${name} must be a number.`);
  return n;
}

export function integer(value: unknown, name: string): number | undefined {
  const n = number(value, name);
  if (n !== undefined && !Number.isInteger(n)) {
    throw invalidParameter(`The parameter ${name} must be an integer.`);
  }
  return n;
}

export function flag(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}

/** A timestamp in real milliseconds: epoch seconds (JSON) or ISO 8601 / epoch seconds (query). */
export function time(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number") return value * 1000;
  if (typeof value === "string") {
    const asNumber = Number(value);
    const ms = Number.isFinite(asNumber) ? asNumber * 1000 : Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  throw invalidParameter(`The parameter ${name} must be a timestamp.`);
}

export function objects(value: unknown): Input[] {
  return list<unknown>(value).filter((v): v is Input => typeof v === "object" && v !== null);
}

export function strings(value: unknown): string[] {
  return list<unknown>(value)
    .map(text)
    .filter((v): v is string => v !== undefined);
}

export function dimensions(value: unknown, name = "Dimensions"): Dimension[] {
  const out = objects(value).map((d, i) => {
    const dimName = text(d.Name);
    const dimValue = text(d.Value);
    if (!dimName || dimValue === undefined) {
      throw missingParameter(`${name}.member.${i + 1}.${dimName ? "Value" : "Name"}`);
    }
    return { Name: dimName, Value: dimValue };
  });
  if (out.length > 30)
    throw invalidParameter(`The collection ${name} must not have more than 30 members.`);
  return out;
}
