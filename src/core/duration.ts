/**
 * Durations as users write them (`90s`, `5m`, `1h30m`, `2d`, or a number of seconds) and as
 * switchyard keeps them (milliseconds).
 */
import { InputError } from "./errors.js";

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
const UNIT_ORDER: readonly Unit[] = ["d", "h", "m", "s", "ms"];

/** The accepted forms, for messages and docs. */
export const DURATION_FORMS =
  "a number of seconds, or numbers with units d, h, m, s, ms, largest first (90s, 5m, 1h30m, 2d)";

/** A JSON Schema pattern for the string form (the order of units is checked by the parser). */
export const DURATION_PATTERN =
  "^\\s*\\d+(\\.\\d+)?((d|h|m|s|ms)(\\d+(\\.\\d+)?(d|h|m|s|ms))*)?\\s*$";

const PLAIN_NUMBER = /^\d+(?:\.\d+)?$/;
const TOKEN = /(\d+(?:\.\d+)?)([a-zA-Z]*)/y;

function invalid(input: unknown, why: string): InputError {
  const shown = typeof input === "string" ? JSON.stringify(input) : String(input);
  return new InputError("INVALID_INPUT", `invalid duration ${shown}: ${why}`, {
    hint: `write ${DURATION_FORMS}`,
    details: { value: input },
  });
}

function toMs(amount: number, unitMs: number, input: unknown): number {
  if (!Number.isFinite(amount)) throw invalid(input, "it must be a finite number");
  if (amount < 0) throw invalid(input, "it must not be negative");
  const ms = Math.round(amount * unitMs);
  if (!Number.isSafeInteger(ms)) throw invalid(input, "it is too large");
  return ms;
}

function isUnit(unit: string): unit is Unit {
  return Object.hasOwn(UNIT_MS, unit);
}

/**
 * Parses a duration into milliseconds. A number (or numeric string) is seconds; a string is
 * components with units largest first, each at most once: `1h30m`, `1.5h`, `250ms`.
 * Throws INVALID_INPUT naming the value and the accepted forms.
 */
export function parseDuration(input: string | number): number {
  if (typeof input === "number") return toMs(input, 1000, input);
  if (typeof input !== "string") throw invalid(input, "expected a string or a number");
  const text = input.trim();
  if (text === "") throw invalid(input, "it is empty");
  if (text.startsWith("-")) throw invalid(input, "it must not be negative");
  if (PLAIN_NUMBER.test(text)) return toMs(Number(text), 1000, input);

  let total = 0;
  let last = -1;
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (match === null) throw invalid(input, `unexpected ${JSON.stringify(text.slice(at))}`);
    const [, amount = "", unit = ""] = match;
    if (unit === "") throw invalid(input, `${amount} needs a unit`);
    if (!isUnit(unit)) throw invalid(input, `unknown unit "${unit}"`);
    const order = UNIT_ORDER.indexOf(unit);
    if (order <= last) throw invalid(input, "units must appear once each, largest first");
    last = order;
    total += toMs(Number(amount), UNIT_MS[unit], input);
  }
  if (!Number.isSafeInteger(total)) throw invalid(input, "it is too large");
  return total;
}

/** True when `input` parses as a duration. */
export function isDuration(input: unknown): boolean {
  if (typeof input !== "string" && typeof input !== "number") return false;
  try {
    parseDuration(input);
    return true;
  } catch {
    return false;
  }
}

/**
 * Formats milliseconds the way users write them: `1h30m`, `45s`, `1s500ms`, `250ms`, `0s`.
 * `parseDuration(formatDuration(ms)) === ms` for every whole, non-negative `ms`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw invalid(ms, "a formatted duration must be ≥ 0");
  let rest = Math.round(ms);
  if (rest === 0) return "0s";
  let out = "";
  for (const unit of UNIT_ORDER) {
    const size = UNIT_MS[unit];
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
