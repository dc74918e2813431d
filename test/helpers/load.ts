/**
 * Steady, bounded traffic through a listener: a few workers sending GET / until stopped, a
 * request cap or a time cap is reached. Counts answers by release version and failures.
 */
export interface LoadReport {
  requests: number;
  failures: number;
  byVersion: Record<string, number>;
  failureSamples: string[];
}

export interface Load {
  /** counts since start, or since the last `mark()` */
  snapshot(): LoadReport;
  /** starts a new window for `snapshot()` */
  mark(): void;
  stop(): Promise<LoadReport>;
}

export function startLoad(
  url: string,
  { workers = 4, maxRequests = 50_000, maxMs = 120_000, pauseMs = 2 } = {},
): Load {
  const total: LoadReport = { requests: 0, failures: 0, byVersion: {}, failureSamples: [] };
  let window: LoadReport = { requests: 0, failures: 0, byVersion: {}, failureSamples: [] };
  let stopped = false;
  const deadline = Date.now() + maxMs;
  const record = (version: string | undefined, failure?: string) => {
    for (const r of [total, window]) {
      r.requests++;
      if (failure !== undefined) {
        r.failures++;
        if (r.failureSamples.length < 5) r.failureSamples.push(failure);
      } else if (version) r.byVersion[version] = (r.byVersion[version] ?? 0) + 1;
    }
  };
  const worker = async () => {
    while (!stopped && total.requests < maxRequests && Date.now() < deadline) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        const text = await res.text();
        if (res.status !== 200) record(undefined, `${res.status} ${text.slice(0, 80)}`);
        else record((JSON.parse(text) as { version?: string }).version ?? "?");
      } catch (error) {
        record(undefined, String(error));
      }
      if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  const running = Promise.all(Array.from({ length: workers }, worker));
  return {
    snapshot: () => structuredClone(window),
    mark: () => {
      window = { requests: 0, failures: 0, byVersion: {}, failureSamples: [] };
    },
    async stop() {
      stopped = true;
      await running;
      return structuredClone(total);
    },
  };
}
