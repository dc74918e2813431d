/**
 * Parsers for flag values. A bad value becomes commander's InvalidArgumentError, which names the
 * flag and exits 2 through the top-level catch.
 */
import { InvalidArgumentError } from "commander";
import { parseDuration } from "../core/duration.js";
import { isSwitchyardError } from "../core/errors.js";

/** `--steps 5,25,100`: whole percents separated by commas (their order is checked by deploy). */
export function parseSteps(value: string): number[] {
  const parts = value.split(",").map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) {
    throw new InvalidArgumentError(
      `steps must be whole percents separated by commas, increasing and ending at 100 (5,25,50,100); got ${JSON.stringify(value)}`,
    );
  }
  return parts.map(Number);
}

/** A duration flag (`--bake 30s`) in milliseconds. */
export function parseDurationFlag(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError(isSwitchyardError(error) ? error.message : String(error));
  }
}

/** Collects a repeatable flag (`--gate A --gate B`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new InvalidArgumentError(
      `expected a TCP port from 0 to 65535; got ${JSON.stringify(value)}`,
    );
  }
  return port;
}

export function parseTimeScale(value: string): number {
  const scale = Number(value);
  if (!(Number.isFinite(scale) && scale > 0 && scale <= 1)) {
    throw new InvalidArgumentError(
      `expected a number with 0 < F ≤ 1 (0.05 runs timers 20× faster); got ${JSON.stringify(value)}`,
    );
  }
  return scale;
}

export function parseCount(value: string): number {
  if (!/^\d+$/.test(value))
    throw new InvalidArgumentError(`expected a whole number; got ${JSON.stringify(value)}`);
  return Number(value);
}
