/**
 * The sandbox's sense of time. Timestamps are real wall-clock times; every timer (boot delay,
 * health-check interval, draining, propagation) is an AWS duration multiplied by `timeScale`,
 * so `timeScale: 0.01` runs a 30-second health-check interval every 300 ms.
 */
export interface Clock {
  readonly timeScale: number;
  now(): number;
  /** Real milliseconds for an AWS duration given in seconds. */
  ms(awsSeconds: number): number;
  /** Runs `fn` after an AWS duration; the returned function cancels it. */
  after(awsSeconds: number, fn: () => void): () => void;
  /** Runs `fn` every AWS duration until cancelled. */
  every(awsSeconds: number, fn: () => void): () => void;
}

export function createClock(timeScale: number): Clock {
  if (!(timeScale > 0 && timeScale <= 1)) {
    throw new RangeError(`timeScale must be in (0, 1]; got ${timeScale}`);
  }
  const ms = (s: number) => Math.max(1, Math.round(s * 1000 * timeScale));
  return {
    timeScale,
    now: () => Date.now(),
    ms,
    after(s, fn) {
      const t = setTimeout(fn, ms(s));
      t.unref();
      return () => clearTimeout(t);
    },
    every(s, fn) {
      const t = setInterval(fn, ms(s));
      t.unref();
      return () => clearInterval(t);
    },
  };
}
