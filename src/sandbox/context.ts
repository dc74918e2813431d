/**
 * What every service handler and runtime part is given: the state store, the clock, the
 * runtime that makes instances and listeners real, fault rules and the sandbox's settings.
 */
import type { Clock } from "./clock.js";
import type { Faults } from "./faults.js";
import type { Params } from "./protocol/query.js";
import type { Instance, Listener, SandboxState } from "./state.js";

export interface SandboxSettings {
  region: string;
  /** multiplier on every AWS duration the sandbox waits for (0 < timeScale ≤ 1) */
  timeScale: number;
  /** where instances unpack and run their releases */
  stateDir: string;
  /** AWS seconds from launch until an instance is `running` and starts its release */
  bootSeconds: number;
  /** AWS seconds until a listener or rule change reaches the listener's proxy */
  propagationSeconds: number;
  /** AWS seconds after a minute ends until its CloudWatch metrics are published */
  metricLagSeconds: number;
  /** the endpoint instances fetch releases from (the sandbox itself) */
  endpoint: string;
}

/**
 * The parts that make resources real: instance processes, listener proxies, health checks.
 * Services tell the runtime what changed; the runtime never calls back into the API layer.
 */
export interface Runtime {
  /** Starts the release of an instance that has just become `running`. */
  startInstance(instance: Instance): void;
  /** Stops an instance's processes; resolves when they are gone. */
  stopInstance(instance: Instance): Promise<void>;
  /** A listener was created or its actions or rules changed (the proxy applies it after the propagation delay). */
  listenerChanged(listener: Listener): void;
  listenerDeleted(listenerArn: string): void;
  /** Loopback URL where a listener serves traffic, once its proxy is up. */
  listenerUrl(listenerArn: string): string | undefined;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface SandboxContext {
  readonly state: SandboxState;
  readonly clock: Clock;
  readonly faults: Faults;
  readonly settings: SandboxSettings;
  readonly runtime: Runtime;
  /** image ids whose instances never become healthy (fault injection) */
  readonly unhealthyImages: Set<string>;
}

/** A query-protocol operation (Auto Scaling, ELBv2, EC2): decoded params in, result object out. */
export type QueryHandler = (params: Params, ctx: SandboxContext) => unknown | Promise<unknown>;
export type QueryHandlers = Record<string, QueryHandler>;

export interface S3Request {
  method: string;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}
export interface S3Response {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}
export type S3Handler = (req: S3Request, ctx: SandboxContext) => S3Response | Promise<S3Response>;
