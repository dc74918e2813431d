/**
 * GitHub Deployments: a deployment per swap (ref = the release's version, or the configured ref;
 * environment = the service's name unless configured; `payload.swapId` names the swap) with
 * statuses `in_progress` at the start and at each step, `success` when it completes (with
 * `auto_inactive`, so GitHub marks the environment's previous deployment inactive), `failure`
 * when it is rolled back or fails, `error` when it stops on drift. A `rollback` records a new
 * deployment of the release it made live, `success`.
 *
 * The deployment's id is kept in memory for the run. A process that did not create it (a resume
 * after a crash, a takeover) finds it by listing the environment's deployments and matching
 * `payload.swapId`: GitHub keeps the state, the swap record stays the swap layer's alone.
 */
import type { GithubNotifierConfig } from "../core/config-schema.js";
import { DeliveryError, deliver } from "./delivery.js";
import { type Notification, releaseVersion } from "./notification.js";
import { jsonRequest, type Notifier, type NotifierContext } from "./notifier.js";

type DeploymentState = "in_progress" | "success" | "failure" | "error" | "inactive";

interface Deployment {
  id: number;
  payload?: unknown;
}

const DESCRIPTION_MAX = 140;

function describe(text: string): string {
  return text.length <= DESCRIPTION_MAX ? text : `${text.slice(0, DESCRIPTION_MAX - 1)}…`;
}

/** The status a notification sets on its swap's deployment, if any. */
export function deploymentStatus(
  n: Notification,
): { state: DeploymentState; description: string } | undefined {
  const e = n.event;
  switch (e.type) {
    case "swap.started":
      return {
        state: "in_progress",
        description: e.resumed ? "swap resumed" : `launching ${e.green}`,
      };
    case "step.shifted":
      return { state: "in_progress", description: `step ${e.step}/${e.of}: ${e.weight}% on green` };
    case "waiting":
      return {
        state: "in_progress",
        description: `held${e.progress?.weight === undefined ? "" : ` at ${e.progress.weight}%`}`,
      };
    case "drift":
      return { state: "error", description: describe(`stopped on drift: ${e.what}`) };
    case "swap.completed":
      return { state: "success", description: `${e.live} is live` };
    case "swap.rolled-back":
      return { state: "failure", description: describe(`rolled back: ${e.code}: ${e.reason}`) };
    case "operation.failed":
      return { state: "failure", description: describe(`${e.code}: ${e.message}`) };
    default:
      return undefined;
  }
}

/** Records swaps as GitHub deployments of `repository`. */
export function githubNotifier(config: GithubNotifierConfig): Notifier {
  const [owner = "", repo = ""] = config.repository.split("/");
  const base = `${config.apiUrl}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
  const headers = {
    accept: "application/vnd.github+json",
    authorization: `Bearer ${config.token}`,
    "x-github-api-version": "2022-11-28",
  };
  /** swapId → deployment id, for this run */
  const known = new Map<string, number>();

  const environmentOf = (service: string) => config.environment ?? service;
  const refOf = (release: string) => config.ref.replaceAll("{{version}}", releaseVersion(release));

  async function call<T>(
    context: NotifierContext,
    path: string,
    init: { method?: string; body?: unknown },
  ): Promise<T> {
    const answer = await deliver(
      jsonRequest(context, `${base}${path}`, { ...init, headers }),
      context.policy,
      context.signal,
    );
    return JSON.parse(answer.body === "" ? "null" : answer.body) as T;
  }

  /** The deployment of a swap, from this run's memory or GitHub's list. */
  async function find(
    context: NotifierContext,
    service: string,
    swapId: string,
  ): Promise<number | undefined> {
    const id = known.get(swapId);
    if (id !== undefined) return id;
    const query = `?environment=${encodeURIComponent(environmentOf(service))}&per_page=100`;
    const list = await call<Deployment[]>(context, `/deployments${query}`, { method: "GET" });
    const found = (Array.isArray(list) ? list : []).find(
      (d) => (d.payload as { swapId?: unknown } | null)?.swapId === swapId,
    );
    if (found) known.set(swapId, found.id);
    return found?.id;
  }

  async function create(
    context: NotifierContext,
    n: Notification,
    release: string,
    payload: Record<string, unknown>,
    description: string,
  ): Promise<number> {
    const deployment = await call<Deployment>(context, "/deployments", {
      body: {
        ref: refOf(release),
        environment: environmentOf(n.service),
        auto_merge: false,
        required_contexts: [],
        task: "deploy",
        description: describe(description),
        payload: { service: n.service, release, ...payload },
      },
    });
    if (typeof deployment?.id !== "number") {
      throw new DeliveryError("GitHub created no deployment (no id in its answer)");
    }
    return deployment.id;
  }

  async function setStatus(
    context: NotifierContext,
    n: Notification,
    id: number,
    status: { state: DeploymentState; description: string },
  ): Promise<void> {
    await call(context, `/deployments/${id}/statuses`, {
      body: {
        state: status.state,
        description: describe(status.description),
        environment: environmentOf(n.service),
        ...(status.state === "success" ? { auto_inactive: true } : {}),
      },
    });
  }

  return {
    name: `github ${config.repository}`,
    events: config.events,
    async notify(n, context) {
      const e = n.event;
      if (e.type === "rollback.completed") {
        if (!e.release) return;
        const id = await create(
          context,
          n,
          e.release,
          { rollback: true, live: e.live, standby: e.standby, ...swapIdOf(n) },
          `rollback: ${e.live} is live`,
        );
        await setStatus(context, n, id, { state: "success", description: `${e.live} is live` });
        return;
      }
      const status = deploymentStatus(n);
      const swapId = n.swap.swapId;
      if (!status || swapId === undefined) return;
      const fresh = e.type === "swap.started" && !e.resumed;
      let id = fresh ? known.get(swapId) : await find(context, n.service, swapId);
      if (id === undefined) {
        // a swap this run saw begin, or one whose deployment is gone: record it now
        if (!n.swap.release) return;
        id = await create(
          context,
          n,
          n.swap.release,
          { swapId, green: n.swap.green ?? null, blue: n.swap.blue ?? null },
          `swap to ${releaseVersion(n.swap.release)}`,
        );
        known.set(swapId, id);
      }
      await setStatus(context, n, id, status);
    },
  };
}

function swapIdOf(n: Notification): { swapId?: string } {
  return n.swap.swapId === undefined ? {} : { swapId: n.swap.swapId };
}
