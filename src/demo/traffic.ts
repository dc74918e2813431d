/**
 * Steady, bounded HTTP traffic through a load balancer URL, counted by the release version that
 * answered (the sample app's `GET /` says `{"version":"r1",…}`), in labelled buckets: one per
 * phase of a swap.
 */

export interface TrafficBucket {
  label: string;
  /** percent on green the phase had, when it was a step */
  weight?: number;
  requests: number;
  failures: number;
  versions: Record<string, number>;
  startedAt: number;
  endedAt?: number;
}

export interface TrafficOptions {
  url: string;
  /** concurrent clients (default 4) */
  workers?: number;
  /** requests per second across all clients, at most (default 100) */
  requestsPerSecond?: number;
  /** per-request timeout, ms (default 5000) */
  timeoutMs?: number;
  /** the first bucket's label (default "start") */
  label?: string;
}

export interface Traffic {
  /** starts a new bucket; returns the one it closed */
  mark(label: string, weight?: number): TrafficBucket | undefined;
  /** the bucket being filled */
  current(): TrafficBucket;
  buckets(): TrafficBucket[];
  /** stops every client and waits for their requests to end; safe to call twice */
  stop(): Promise<void>;
}

export function startTraffic(options: TrafficOptions): Traffic {
  const workers = Math.max(1, options.workers ?? 4);
  const rate = Math.max(1, options.requestsPerSecond ?? 100);
  const spacingMs = (workers * 1000) / rate;
  const timeoutMs = options.timeoutMs ?? 5000;
  const stopper = new AbortController();
  const all: TrafficBucket[] = [];
  let current: TrafficBucket = {
    label: options.label ?? "start",
    requests: 0,
    failures: 0,
    versions: {},
    startedAt: Date.now(),
  };
  all.push(current);

  const once = async () => {
    const bucket = current;
    try {
      const response = await fetch(options.url, {
        signal: AbortSignal.any([stopper.signal, AbortSignal.timeout(timeoutMs)]),
      });
      const text = await response.text();
      if (stopper.signal.aborted) return;
      bucket.requests++;
      if (response.status !== 200) {
        bucket.failures++;
        return;
      }
      let version = "unknown";
      try {
        version = String((JSON.parse(text) as { version?: unknown }).version ?? "unknown");
      } catch {
        // not the sample app: count it as unknown
      }
      bucket.versions[version] = (bucket.versions[version] ?? 0) + 1;
    } catch {
      if (stopper.signal.aborted) return;
      bucket.requests++;
      bucket.failures++;
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopper.signal.aborted || ms <= 0) return resolve();
      const done = () => {
        clearTimeout(timer);
        stopper.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      stopper.signal.addEventListener("abort", done, { once: true });
    });

  const loop = async (offset: number) => {
    await sleep(offset);
    while (!stopper.signal.aborted) {
      const started = Date.now();
      await once();
      await sleep(spacingMs - (Date.now() - started));
    }
  };
  const running = Array.from({ length: workers }, (_, i) => loop((i * spacingMs) / workers));
  let stopped: Promise<void> | undefined;

  return {
    mark(label, weight) {
      const closed = current;
      closed.endedAt = Date.now();
      current = {
        label,
        ...(weight === undefined ? {} : { weight }),
        requests: 0,
        failures: 0,
        versions: {},
        startedAt: Date.now(),
      };
      all.push(current);
      return closed;
    },
    current: () => current,
    buckets: () => all.slice(),
    stop() {
      stopped ??= (async () => {
        stopper.abort();
        await Promise.all(running);
        current.endedAt ??= Date.now();
      })();
      return stopped;
    },
  };
}
