/**
 * ChatOps: a Slack slash command (`/switchyard deploy web/prod r42`) and its buttons, as two
 * public routes of the control plane that check Slack's signature themselves.
 *
 * Every request's raw body is verified (HMAC-SHA256 with the app's signing secret, a timestamp
 * at most 5 minutes off) before anything is parsed. Slack waits 3 s for an answer: reads answer
 * at once when they can, otherwise (and for every change) the answer is an acknowledgement and
 * what follows goes to the command's `response_url`, which a failure to deliver never affects.
 * Changes are for allow-listed users in allow-listed channels; a deploy or a rollback asks for a
 * click on a button naming the service and the release, which only the asker can give, and
 * which expires.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { z } from "zod";
import { serviceConfig } from "../core/config-schema.js";
import { formatDuration } from "../core/duration.js";
import { InputError, toSwitchyardError } from "../core/errors.js";
import type { SwitchyardEvent } from "../core/events.js";
import { parseServiceName } from "../core/names.js";
import { releaseVersion } from "../core/release-url.js";
import type { SwapPlan } from "../core/swap-model.js";
import type { ControlOutcome } from "../swap/control.js";
import type { RollbackPreview, RollbackResult } from "../swap/rollback.js";
import type { ServiceStatus } from "../swap/status.js";
import type { SwapResult } from "../swap/swap.js";
import type { OperationKind, RouteHost } from "./control-plane.js";
import {
  errorReply,
  type Reply,
  type RequestContext,
  type Route,
  readRawBody,
  reply,
} from "./http.js";

export const SLACK_VARIABLES = {
  signingSecret: "SWITCHYARD_SLACK_SIGNING_SECRET",
  signingSecretFile: "SWITCHYARD_SLACK_SIGNING_SECRET_FILE",
  users: "SWITCHYARD_SLACK_USERS",
  channels: "SWITCHYARD_SLACK_CHANNELS",
} as const;

export const SLACK_PATHS = { commands: "/slack/commands", interactions: "/slack/interactions" };

/** How far a request's timestamp may be from this machine's clock. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export interface SlackSettings {
  signingSecret: string;
  /** the user ids (U…, W…) who may change something */
  users: ReadonlySet<string>;
  /** the channel ids where changes may be asked for; `"any"`: every channel */
  channels: ReadonlySet<string> | "any";
}

export interface SlackOptions {
  /** how long a deploy or rollback confirmation may be clicked (default 2 min) */
  confirmTtlMs?: number;
  /** how long a read may take before the answer is an acknowledgement instead (default 2 s) */
  answerWithinMs?: number;
  delivery?: DeliveryOptions;
  /** a line for the operator's log: a message that could not be delivered, a refused request */
  log?: (line: string) => void;
  /** the clock (tests) */
  now?: () => number;
}

// ─── settings ─────────────────────────────────────────────────────────────────────────────────

function idList(value: string | undefined): string[] {
  return (value ?? "").split(/[\s,]+/).filter((id) => id !== "");
}

/**
 * The Slack settings from the environment, or undefined when no signing secret is set (no Slack
 * routes then). Users and channels are ids separated by commas or spaces; `*` as the channels
 * lets changes come from any channel. Without users nobody may change anything from Slack.
 */
export async function loadSlackSettings(
  env: Record<string, string | undefined>,
  options: { cwd?: string } = {},
): Promise<SlackSettings | undefined> {
  let secret = env[SLACK_VARIABLES.signingSecret]?.trim();
  const file = env[SLACK_VARIABLES.signingSecretFile];
  if (!secret && file) {
    secret = (await readFile(resolve(options.cwd ?? process.cwd(), file), "utf8")).trim();
  }
  if (!secret) return undefined;
  const channels = idList(env[SLACK_VARIABLES.channels]);
  return {
    signingSecret: secret,
    users: new Set(idList(env[SLACK_VARIABLES.users])),
    channels: channels.includes("*") ? "any" : new Set(channels),
  };
}

// ─── signatures ───────────────────────────────────────────────────────────────────────────────

/** `v0=` and the hex HMAC-SHA256 of `v0:<timestamp>:<body>` keyed with the signing secret. */
export function slackSignature(secret: string, timestamp: string, body: Buffer | string): string {
  const mac = createHmac("sha256", secret).update(`v0:${timestamp}:`).update(body);
  return `v0=${mac.digest("hex")}`;
}

/**
 * Whether a request is Slack's: a timestamp (seconds) within 5 minutes of now, either way, and
 * a signature over exactly these bytes, compared in constant time.
 */
export function verifySlackSignature(request: {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: Buffer | string;
  nowMs?: number;
}): boolean {
  const { timestamp, signature } = request;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  const now = Math.floor((request.nowMs ?? Date.now()) / 1000);
  if (Math.abs(now - Number(timestamp)) > MAX_CLOCK_SKEW_SECONDS) return false;
  const expected = Buffer.from(slackSignature(request.secret, timestamp, request.body), "utf8");
  const presented = Buffer.from(signature, "utf8");
  // every valid signature has the same, public, length: only equal lengths are compared
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

// ─── commands ─────────────────────────────────────────────────────────────────────────────────

export type SlackCommand =
  | { kind: "help" }
  | { kind: "status"; service: string | null }
  | { kind: "deploy"; service: string; release: string }
  | { kind: "rollback"; service: string; to?: string }
  | { kind: "promote" | "pause" | "abort"; service: string }
  | { kind: "invalid"; message: string };

const USAGE: Record<string, string> = {
  status: "status [<app>/<env>]",
  deploy: "deploy <app>/<env> <release>",
  rollback: "rollback <app>/<env> [<server group>]",
  promote: "promote <app>/<env>",
  pause: "pause <app>/<env>",
  abort: "abort <app>/<env>",
};

/** Slack writes a pasted link as `<url>` or `<url|label>`: the url. */
function unlink(word: string): string {
  const m = /^<([^|>]+)(?:\|[^>]*)?>$/.exec(word);
  return m ? m[1]! : word;
}

/** The command a slash command's text asks for (`deploy web/prod r42`). */
export function parseSlackCommand(text: string): SlackCommand {
  const words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== "")
    .map(unlink);
  const verb = words[0]?.toLowerCase();
  if (verb === undefined || verb === "help") return { kind: "help" };
  const usage = USAGE[verb];
  if (!usage) {
    return { kind: "invalid", message: `unknown command ${JSON.stringify(words[0])}` };
  }
  const [, service, extra, ...rest] = words;
  const wrong = () => ({ kind: "invalid" as const, message: `usage: ${usage}` });
  if (verb === "status" && service === undefined) return { kind: "status", service: null };
  if (service === undefined || rest.length > 0) return wrong();
  try {
    parseServiceName(service);
  } catch {
    return {
      kind: "invalid",
      message: `${JSON.stringify(service)} is not a service name like web/prod`,
    };
  }
  switch (verb) {
    case "status":
      return extra === undefined ? { kind: "status", service } : wrong();
    case "deploy":
      return extra === undefined ? wrong() : { kind: "deploy", service, release: extra };
    case "rollback":
      return { kind: "rollback", service, ...(extra === undefined ? {} : { to: extra }) };
    default:
      return extra === undefined
        ? { kind: verb as "promote" | "pause" | "abort", service }
        : wrong();
  }
}

// ─── messages ─────────────────────────────────────────────────────────────────────────────────

export interface SlackMessage {
  response_type?: "ephemeral" | "in_channel";
  replace_original?: boolean;
  delete_original?: boolean;
  text: string;
  blocks?: unknown[];
}

/** Text for Slack's mrkdwn: `&`, `<` and `>` escaped. */
function esc(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

const ephemeral = (text: string, blocks?: unknown[]): SlackMessage => ({
  response_type: "ephemeral",
  text,
  ...(blocks ? { blocks } : {}),
});
const inChannel = (text: string): SlackMessage => ({
  response_type: "in_channel",
  replace_original: false,
  text,
});

export const HELP_TEXT = [
  "*switchyard* — blue/green swaps from Slack",
  "• `status [<app>/<env>]`: groups, releases, weights and any swap in flight",
  "• `deploy <app>/<env> <release>`: a swap to the release (asks you to confirm)",
  "• `rollback <app>/<env> [<server group>]`: the previous release back live (asks you to confirm)",
  "• `promote <app>/<env>`: end the current bake now",
  "• `pause <app>/<env>`: hold the swap at its step until promoted",
  "• `abort <app>/<env>`: roll the swap in flight back",
  "Changes are for allow-listed users in allow-listed channels.",
].join("\n");

function errorText(thrown: unknown): string {
  const error = toSwitchyardError(thrown);
  const message = error.code === "INTERNAL" ? "internal error" : error.message;
  const hint = error.hint && error.code !== "INTERNAL" ? `\n_${esc(error.hint)}_` : "";
  return `:x: ${error.code}: ${esc(message)}${hint}`;
}

/** A service's status as a few lines of mrkdwn. */
export function statusText(s: ServiceStatus): string {
  const lines = [`*${s.service}*`];
  if (s.groups.length === 0) lines.push("no server groups yet");
  for (const g of s.groups) {
    const weight = g.weight === null ? "–" : `${g.weight} %`;
    lines.push(
      `• \`${g.name}\` ${g.role}, ${esc(releaseVersion(g.release))}: ${weight}, ${g.instances.healthy}/${g.capacity.desired} healthy`,
    );
  }
  const w = s.swap;
  if (w) {
    const at = w.weight === null ? w.phase : `${w.phase}, step ${w.step}/${w.of}, ${w.weight} %`;
    lines.push(
      `swap \`${w.swapId}\` to ${esc(releaseVersion(w.release))}: ${at}${w.paused ? ", paused" : ""}${
        w.halted ? `, halted: ${esc(w.halted.message)}` : ""
      }`,
    );
  }
  for (const warning of s.warnings) lines.push(`:warning: ${esc(warning)}`);
  return lines.join("\n");
}

/** The line a swap's event is worth in the channel, or undefined when it is not worth one. */
export function eventLine(event: SwitchyardEvent): string | undefined {
  const svc = `\`${event.service}\``;
  switch (event.type) {
    case "swap.started":
      return event.resumed
        ? `${svc}: taking over swap \`${event.swapId}\` to ${esc(releaseVersion(event.release))}`
        : `:rocket: ${svc}: swap to ${esc(releaseVersion(event.release))} started (steps ${event.steps.join(" → ")} %, bake ${formatDuration(event.bakeMs)} each)`;
    case "step.shifted":
      return `${svc}: step ${event.step}/${event.of}: ${event.weight} % of traffic on green`;
    case "rollback.started":
      return `:warning: ${svc}: rolling back: ${esc(event.reason)}`;
    case "drift":
      return `:warning: ${svc}: someone else changed ${esc(event.what)}; the swap stopped and left it as found`;
    default:
      return undefined;
  }
}

type Outcome = SwapResult | RollbackResult | ControlOutcome;

/** The closing line of an operation started from Slack. */
export function outcomeLine(
  kind: OperationKind,
  service: string,
  end: { ok: boolean; result?: unknown; error?: unknown },
): string {
  const svc = `\`${service}\``;
  if (end.result === undefined) return `${errorText(end.error)} (${kind} ${svc})`;
  const r = end.result as Outcome;
  if ("appliedBy" in r) {
    if (r.result) return outcomeLine(kind, service, { ok: r.result.ok, result: r.result });
    return r.detached
      ? `${svc}: ${kind} written into swap \`${r.swapId}\`; the next reconcile pass applies it`
      : `${svc}: ${kind} written into swap \`${r.swapId}\`; the process driving it applies it at its next poll`;
  }
  if ("scaledUp" in r) {
    return `:leftwards_arrow_with_hook: ${svc}: ${esc(releaseVersion(r.release))} is live again (\`${r.live}\`, ${formatDuration(r.durationMs)})`;
  }
  if (r.outcome === "completed") {
    return `:white_check_mark: ${svc}: ${esc(releaseVersion(r.release))} is live (\`${r.live}\`, ${formatDuration(r.durationMs)})`;
  }
  if (r.outcome === "in-flight")
    return `${svc}: swap to ${esc(releaseVersion(r.attempted))} left in flight`;
  const why = r.error ? `: ${r.error.code}: ${esc(r.error.message)}` : "";
  return `:x: ${svc}: the swap to ${esc(releaseVersion(r.attempted))} was rolled back; ${esc(releaseVersion(r.release))} is live${why}`;
}

// ─── delivery to response_url ─────────────────────────────────────────────────────────────────

export interface DeliveryOptions {
  /** per attempt (default 5 s) */
  timeoutMs?: number;
  /** attempts after the first, on a network error, a 5xx or a 429 (default 2) */
  retries?: number;
  /** before the first retry; doubled for the next (default 500 ms) */
  retryDelayMs?: number;
  /** messages a response_url takes (Slack: 5 within 30 minutes) */
  uses?: number;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * A command's `response_url`: messages posted in order, each with a timeout and a couple of
 * retries. Nothing it does throws; a message it could not deliver is logged and dropped.
 */
export class ResponseUrl {
  private left: number;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly options: DeliveryOptions = {},
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.left = options.uses ?? 5;
  }

  /** how many more messages Slack takes at this URL */
  get remaining(): number {
    return this.left;
  }

  /** resolves with whether it was delivered */
  post(message: SlackMessage): Promise<boolean> {
    if (this.left <= 0) return Promise.resolve(false);
    this.left -= 1;
    const sent = this.chain.then(() => this.deliver(message));
    this.chain = sent;
    return sent;
  }

  private async deliver(message: SlackMessage): Promise<boolean> {
    const { timeoutMs = 5_000, retries = 2, retryDelayMs = 500 } = this.options;
    let problem = "";
    for (let attempt = 0; attempt <= retries; attempt++) {
      let waitMs = retryDelayMs * 2 ** attempt;
      try {
        const response = await fetch(this.url, {
          method: "POST",
          headers: { "content-type": "application/json; charset=utf-8" },
          body: JSON.stringify(message),
          redirect: "error",
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return true;
        problem = `HTTP ${response.status}`;
        if (response.status !== 429 && response.status < 500) break;
        const after = Number(response.headers.get("retry-after"));
        if (Number.isFinite(after) && after > 0) waitMs = Math.min(after * 1000, 10_000);
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      if (attempt < retries) await sleep(waitMs);
    }
    this.log(`slack: a message to response_url was not delivered (${problem})`);
    return false;
  }
}

/**
 * Posts an operation's progress to a response_url: a line per event worth one while more than one
 * message is left, and always the closing line (the last message is kept for it).
 */
function reportTo(channel: ResponseUrl, who: string, kind: OperationKind, service: string) {
  return {
    onEvent: (event: SwitchyardEvent) => {
      const line = eventLine(event);
      if (line && channel.remaining > 1) void channel.post(inChannel(line));
    },
    onEnd: (end: { ok: boolean; result?: unknown; error?: unknown }) => {
      void channel.post(inChannel(`${outcomeLine(kind, service, end)} — asked by <@${who}>`));
    },
  };
}

// ─── confirmations ────────────────────────────────────────────────────────────────────────────

const CONFIRM = "switchyard.confirm";
const CANCEL = "switchyard.cancel";

const Confirmation = z.strictObject({
  v: z.literal(1),
  op: z.enum(["deploy", "rollback"]),
  service: z.string(),
  release: z.string(),
  to: z.string().optional(),
  user: z.string(),
  exp: z.number(),
  nonce: z.string(),
});
type Confirmation = z.infer<typeof Confirmation>;

/** Slack keeps a button's value to 2000 characters. */
const MAX_VALUE = 2000;

function confirmationMessage(c: Confirmation, details: string, ttlMs: number): SlackMessage {
  const what =
    c.op === "deploy"
      ? `Deploy ${c.release} to ${c.service}`
      : `Roll ${c.service} back to ${c.release}`;
  const label = what.length > 75 ? `${what.slice(0, 72)}…` : what;
  return ephemeral(`${what}? Confirm within ${formatDuration(ttlMs)}.`, [
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*${esc(what)}?*\n${details}\n_Only you can confirm, within ${formatDuration(ttlMs)}._`,
      },
    },
    {
      type: "actions",
      block_id: CONFIRM,
      elements: [
        {
          type: "button",
          action_id: CONFIRM,
          style: c.op === "rollback" ? "danger" : "primary",
          text: { type: "plain_text", text: label },
          value: JSON.stringify(c),
        },
        {
          type: "button",
          action_id: CANCEL,
          text: { type: "plain_text", text: "Cancel" },
          value: "cancel",
        },
      ],
    },
  ]);
}

function planDetails(plan: SwapPlan): string {
  const from = plan.blue
    ? `live now: ${esc(releaseVersion(plan.blue.release))} (\`${plan.blue.name}\`)`
    : "first deploy";
  return `${from}; steps ${plan.steps.join(" → ")} %, bake ${formatDuration(plan.bakeMs)} each`;
}

function rollbackDetails(p: RollbackPreview): string {
  const from = p.from ? `${esc(releaseVersion(p.from.release))} (\`${p.from.name}\`)` : "nothing";
  return p.abortsSwap
    ? `a swap is in flight (\`${p.abortsSwap}\`, to ${from}): it is aborted and \`${p.to.name}\` (${esc(releaseVersion(p.to.release))}) stays live`
    : `\`${p.to.name}\` (${esc(releaseVersion(p.to.release))}) takes all traffic back from ${from}`;
}

// ─── the routes ───────────────────────────────────────────────────────────────────────────────

const Interaction = z.object({
  type: z.string(),
  user: z.object({ id: z.string() }),
  channel: z.object({ id: z.string() }).optional(),
  response_url: z.string().url().optional(),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() })).optional(),
});

/** The slash command's and the buttons' routes, for `createControlPlane({ routes })`. */
export function slackRoutes(
  host: RouteHost,
  settings: SlackSettings,
  options: SlackOptions = {},
): Route[] {
  const { yard } = host;
  const now = options.now ?? Date.now;
  const ttlMs = options.confirmTtlMs ?? 2 * 60_000;
  const answerWithinMs = options.answerWithinMs ?? 2_000;
  const log = options.log ?? (() => undefined);
  /** confirmations clicked on this replica, until they expire: a double click starts one */
  const used = new Map<string, number>();

  const mayChange = (user: string, channel: string) =>
    settings.users.has(user) && (settings.channels === "any" || settings.channels.has(channel));
  const responseUrl = (url: string | null | undefined) =>
    url ? new ResponseUrl(url, options.delivery, log) : undefined;

  /** The raw body, once Slack's signature over it is verified; undefined when it is not. */
  async function signedBody(ctx: RequestContext): Promise<string | undefined> {
    const raw = await readRawBody(ctx.req);
    const header = (name: string) => {
      const v = ctx.req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const ok = verifySlackSignature({
      secret: settings.signingSecret,
      timestamp: header("x-slack-request-timestamp"),
      signature: header("x-slack-signature"),
      body: raw,
      nowMs: now(),
    });
    if (!ok) {
      log(`slack: refused a request to ${ctx.req.url ?? ""} without a valid signature`);
      return undefined;
    }
    return raw.toString("utf8");
  }
  const refused = () => errorReply(401, "UNAUTHORIZED", "authentication required");

  /**
   * The message `work` makes, when it is ready within `answerWithinMs`; otherwise `ack`, and the
   * message goes to the response_url when ready.
   */
  async function answerSoon(
    work: Promise<SlackMessage>,
    ack: SlackMessage,
    channel: ResponseUrl | undefined,
  ): Promise<SlackMessage> {
    const settled = work.catch((error: unknown) => ephemeral(errorText(error)));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((done) => {
      timer = setTimeout(() => done(undefined), answerWithinMs);
    });
    const first = await Promise.race([settled, late]);
    clearTimeout(timer);
    if (first) return first;
    void settled.then((message) => channel?.post(message));
    return ack;
  }

  function start(
    kind: OperationKind,
    service: string,
    user: string,
    channel: ResponseUrl | undefined,
    run: RunStart,
  ): boolean {
    const report = channel ? reportTo(channel, user, kind, service) : undefined;
    const launched = host.launch({
      service,
      kind,
      by: `slack:${user}`,
      start: run,
      ...(report ? { onEvent: report.onEvent, onEnd: report.onEnd } : {}),
    });
    return launched !== undefined;
  }

  async function command(ctx: RequestContext): Promise<Reply> {
    const body = await signedBody(ctx);
    if (body === undefined) return refused();
    const form = new URLSearchParams(body);
    const user = form.get("user_id") ?? "";
    const channelId = form.get("channel_id") ?? "";
    const channel = responseUrl(form.get("response_url"));
    const asked = parseSlackCommand(form.get("text") ?? "");
    const answer = (m: SlackMessage) => reply(200, m);
    if (asked.kind === "help") return answer(ephemeral(HELP_TEXT));
    if (asked.kind === "invalid") {
      return answer(ephemeral(`${esc(asked.message)}\n\n${HELP_TEXT}`));
    }
    if (asked.kind === "status") {
      const { service } = asked;
      const work = service
        ? yard.status(service).then((s) => ephemeral(statusText(s)))
        : yard.statusAll().then((all) => ephemeral(all.map(statusText).join("\n\n")));
      return answer(await answerSoon(work, ephemeral("Reading the status…"), channel));
    }
    let service: string;
    try {
      service = serviceConfig(yard.config, asked.service).name;
    } catch (error) {
      return answer(ephemeral(errorText(error)));
    }
    if (!mayChange(user, channelId)) {
      log(`slack: ${user} in ${channelId} may not ${asked.kind} ${service}`);
      return answer(
        ephemeral(
          `:no_entry: You may not ${asked.kind} ${service} from here: changes are for allow-listed users in allow-listed channels.`,
        ),
      );
    }
    const confirmation = (op: "deploy" | "rollback", release: string, to?: string) => {
      const c: Confirmation = {
        v: 1,
        op,
        service,
        release,
        ...(to ? { to } : {}),
        user,
        exp: now() + ttlMs,
        nonce: randomBytes(9).toString("base64url"),
      };
      if (JSON.stringify(c).length > MAX_VALUE) {
        throw new InputError("INVALID_INPUT", "the release name is too long for a Slack button");
      }
      return c;
    };
    switch (asked.kind) {
      case "deploy": {
        const { release } = asked;
        const work = (async () => {
          const c = confirmation("deploy", release);
          return confirmationMessage(c, planDetails(await yard.plan(service, { release })), ttlMs);
        })();
        return answer(
          await answerSoon(work, ephemeral(`Checking ${esc(release)} for ${service}…`), channel),
        );
      }
      case "rollback": {
        const work = yard
          .previewRollback(service, asked.to ? { to: asked.to } : {})
          .then((p) =>
            confirmationMessage(
              confirmation("rollback", releaseVersion(p.to.release), p.to.name),
              rollbackDetails(p),
              ttlMs,
            ),
          );
        return answer(
          await answerSoon(
            work,
            ephemeral(`Looking up what a rollback of ${service} restores…`),
            channel,
          ),
        );
      }
      default: {
        const kind = asked.kind;
        const gates = await host.gates(service);
        const run: RunStart =
          kind === "promote"
            ? (call) => yard.promote(service, { gates, ...call })
            : kind === "pause"
              ? (call) => yard.pause(service, call)
              : (call) => yard.abort(service, { gates, ...call });
        if (!start(kind, service, user, channel, run)) {
          return answer(ephemeral("switchyard is stopping; try another replica"));
        }
        return answer(ephemeral(`Working on it: ${kind} ${service}; the outcome follows here.`));
      }
    }
  }

  async function interaction(ctx: RequestContext): Promise<Reply | undefined> {
    const body = await signedBody(ctx);
    if (body === undefined) return refused();
    const ack = () => {
      ctx.res.writeHead(200, { "content-length": "0", "cache-control": "no-store" });
      ctx.res.end();
      return undefined;
    };
    let parsed: z.infer<typeof Interaction>;
    try {
      parsed = Interaction.parse(JSON.parse(new URLSearchParams(body).get("payload") ?? ""));
    } catch {
      return reply(400, {
        error: { code: "INVALID_INPUT", message: "not an interaction payload" },
      });
    }
    const action = parsed.actions?.[0];
    const channel = responseUrl(parsed.response_url);
    if (parsed.type !== "block_actions" || !action) return ack();
    const user = parsed.user.id;
    const tell = (m: SlackMessage) => void channel?.post(m);
    if (action.action_id === CANCEL) {
      tell({ ...ephemeral("Cancelled."), replace_original: true });
      return ack();
    }
    if (action.action_id !== CONFIRM) return ack();
    let c: Confirmation;
    try {
      c = Confirmation.parse(JSON.parse(action.value ?? ""));
    } catch {
      return ack();
    }
    if (c.user !== user) {
      tell({
        ...ephemeral(`Only <@${c.user}>, who asked, can confirm this.`),
        replace_original: false,
      });
      return ack();
    }
    const at = now();
    for (const [nonce, exp] of used) if (exp < at) used.delete(nonce);
    if (c.exp < at) {
      tell({
        ...ephemeral(`This confirmation expired; ask again: \`${c.op} ${c.service}\`.`),
        replace_original: true,
      });
      return ack();
    }
    if (used.has(c.nonce)) return ack();
    if (!mayChange(user, parsed.channel?.id ?? "")) {
      tell({
        ...ephemeral(`:no_entry: You may not ${c.op} ${c.service} from here.`),
        replace_original: true,
      });
      return ack();
    }
    used.set(c.nonce, c.exp);
    const service = c.service;
    const gates = c.op === "deploy" ? await host.gates(service) : [];
    const run: RunStart =
      c.op === "deploy"
        ? (call) => yard.deploy(service, { release: c.release, gates, ...call })
        : (call) => yard.rollback(service, { ...(c.to ? { to: c.to } : {}), ...call });
    const what =
      c.op === "deploy"
        ? `deploying ${esc(c.release)} to ${service}`
        : `rolling ${service} back to ${esc(c.release)}`;
    // the confirmation's buttons go first, so they cannot be clicked twice
    tell({
      ...ephemeral(`Confirmed: ${what}; progress follows in the channel.`),
      replace_original: true,
    });
    if (!start(c.op, service, user, channel, run)) {
      tell(inChannel("switchyard is stopping; try another replica"));
    }
    return ack();
  }

  return [
    { method: "POST", path: SLACK_PATHS.commands, access: "public", handler: command },
    { method: "POST", path: SLACK_PATHS.interactions, access: "public", handler: interaction },
  ];
}

type RunStart = Parameters<RouteHost["launch"]>[0]["start"];
