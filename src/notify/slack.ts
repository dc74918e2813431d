/**
 * Slack incoming webhooks: one message per notification, Block Kit blocks (a header, the facts
 * as fields, the reason of a failure) with a `text` fallback for notifications and old clients.
 * `slackMessage` is pure; see docs/notifications.md for examples.
 */
import type { NotificationType, SlackNotifierConfig } from "../core/config-schema.js";
import type { Weighted } from "../core/swap-model.js";
import { deliver } from "./delivery.js";
import type { Notification } from "./notification.js";
import { releaseVersion } from "./notification.js";
import { jsonRequest, type Notifier } from "./notifier.js";

/** One Block Kit block of the kinds switchyard sends. */
export type SlackBlock =
  | { type: "header"; text: { type: "plain_text"; text: string; emoji: true } }
  | {
      type: "section";
      text?: { type: "mrkdwn"; text: string };
      fields?: Array<{ type: "mrkdwn"; text: string }>;
    }
  | { type: "context"; elements: Array<{ type: "mrkdwn"; text: string }> };

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

// Slack's limits: header text 150 characters, section text 3000, a field 2000, 10 fields
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;

const EMOJI: Record<NotificationType, string> = {
  "swap.started": ":rocket:",
  "step.shifted": ":arrow_right:",
  "swap.paused": ":double_vertical_bar:",
  "gate.failed": ":x:",
  drift: ":warning:",
  "swap.completed": ":white_check_mark:",
  "swap.rolled-back": ":leftwards_arrow_with_hook:",
  "swap.failed": ":octagonal_sign:",
  "rollback.completed": ":leftwards_arrow_with_hook:",
};

/** `&`, `<` and `>` are Slack's control characters in text. */
export function escapeSlack(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** `web-prod-v002` from a target group ARN (its name), or the ARN. */
function groupOf(targetGroupArn: string): string {
  return /targetgroup\/([^/]+)/.exec(targetGroupArn)?.[1] ?? targetGroupArn;
}

/** `web-prod-v002 25% · web-prod-v001 75%`, green first. */
export function formatWeights(weights: readonly Weighted[]): string {
  return weights.map((w) => `${groupOf(w.targetGroupArn)} ${w.weight}%`).join(" · ");
}

/** The one-line summary: the header and the `text` fallback. */
export function slackTitle(n: Notification): string {
  const e = n.event;
  const s = n.service;
  const version = n.swap.release ? releaseVersion(n.swap.release) : undefined;
  const to = version ? ` to ${version}` : "";
  switch (e.type) {
    case "swap.started":
      return e.resumed ? `${s}: swap${to} resumed` : `${s}: swap${to} started`;
    case "step.shifted":
      return `${s}: step ${e.step}/${e.of}, ${e.weight}% on ${version ?? "green"}`;
    case "control":
      return `${s}: pause requested`;
    case "waiting": {
      const p = e.progress;
      const at = p?.weight !== undefined ? ` at ${p.weight}%` : "";
      const step = p?.step !== undefined && p.of !== undefined ? ` (step ${p.step}/${p.of})` : "";
      return `${s}: held${at}${step}`;
    }
    case "gate.failed":
      return `${s}: gate failed: ${e.gate}`;
    case "drift":
      return `${s}: swap${to} stopped: drift`;
    case "swap.completed":
      return `${s}: ${version ?? e.live} is live`;
    case "swap.rolled-back":
      return `${s}: swap${to} rolled back${e.live ? `; ${e.live} is live` : ""}`;
    case "operation.failed":
      return `${s}: ${n.operation} failed (${e.code})`;
    case "rollback.completed":
      return `${s}: rolled back to ${e.release ? releaseVersion(e.release) : e.live}`;
    default:
      return `${s}: ${n.type}`;
  }
}

/** The reason of a failure, when the notification is one. */
function reasonOf(n: Notification): string | undefined {
  const e = n.event;
  switch (e.type) {
    case "gate.failed":
      return e.message;
    case "swap.rolled-back":
      return `${e.code}: ${e.reason}`;
    case "operation.failed":
      return `${e.code}: ${e.message}`;
    case "drift":
      return e.what;
    default:
      return undefined;
  }
}

/** The message for a notification: header, facts, reason, gate output, context. */
export function slackMessage(n: Notification): SlackMessage {
  const e = n.event;
  const title = slackTitle(n);
  const fields: string[] = [`*Service*\n${escapeSlack(n.service)}`];
  const release = e.type === "rollback.completed" ? e.release : n.swap.release;
  if (release) fields.push(`*Release*\n${escapeSlack(releaseVersion(release))}`);
  if (e.type === "step.shifted") fields.push(`*Step*\n${e.step}/${e.of} (${e.weight}%)`);
  else if (e.type === "waiting" && e.progress?.step !== undefined && e.progress.of !== undefined) {
    fields.push(`*Step*\n${e.progress.step}/${e.progress.of}`);
  }
  const weights = e.type === "step.shifted" || e.type === "drift" ? undefined : n.swap.weights;
  if (e.type === "step.shifted") fields.push(`*Weights*\n${escapeSlack(formatWeights(e.weights))}`);
  else if (e.type === "drift") {
    fields.push(`*Expected*\n${escapeSlack(formatWeights(e.expected))}`);
    fields.push(`*Found*\n${escapeSlack(formatWeights(e.found))}`);
  } else if (weights && !isEnd(e.type)) {
    fields.push(`*Weights*\n${escapeSlack(formatWeights(weights))}`);
  }
  if (e.type === "swap.started") {
    fields.push(`*Green*\n${escapeSlack(e.green)}`);
    fields.push(`*Blue*\n${escapeSlack(e.blue ?? "none (first deploy)")}`);
    fields.push(`*Steps*\n${e.steps.map((w) => `${w}%`).join(" → ")}`);
  }
  if (e.type === "swap.completed" || e.type === "rollback.completed") {
    fields.push(`*Live*\n${escapeSlack(e.live)}`);
    fields.push(`*Standby*\n${escapeSlack(e.standby ?? "none")}`);
    fields.push(`*Took*\n${Math.round(e.durationMs / 1000)} s`);
  }
  if (e.type === "control") fields.push(`*By*\n${escapeSlack(e.by)}`);

  const blocks: SlackBlock[] = [
    {
      type: "header",
      text: { type: "plain_text", text: cut(`${EMOJI[n.type]} ${title}`, HEADER_MAX), emoji: true },
    },
    {
      type: "section",
      fields: fields.slice(0, 10).map((text) => ({ type: "mrkdwn", text: cut(text, FIELD_MAX) })),
    },
  ];
  const reason = reasonOf(n);
  if (reason) {
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: cut(`*Reason*\n${escapeSlack(reason)}`, SECTION_MAX) },
    });
  }
  if (e.type === "gate.failed" && e.output) {
    const output = cut(e.output.replaceAll("```", "'''"), SECTION_MAX - 8);
    blocks.push({ type: "section", text: { type: "mrkdwn", text: `\`\`\`${output}\`\`\`` } });
  }
  const context = [
    `<!date^${Math.floor(n.at / 1000)}^{date_short_pretty} {time_secs}|${new Date(n.at).toISOString()}>`,
  ];
  if (n.swap.swapId) context.push(`swap \`${escapeSlack(n.swap.swapId)}\``);
  context.push(`switchyard ${escapeSlack(n.operation)}`);
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: context.join(" · ") }] });

  const reasonText = reason ? ` — ${cut(reason, 300)}` : "";
  return { text: `${title}${reasonText}`, blocks };
}

function isEnd(type: string): boolean {
  return type === "swap.completed" || type === "swap.rolled-back" || type === "rollback.completed";
}

/** Posts each notification to a Slack incoming webhook. */
export function slackNotifier(config: SlackNotifierConfig): Notifier {
  return {
    name: "slack",
    events: config.events,
    async notify(n, context) {
      await deliver(
        jsonRequest(context, config.webhookUrl, { body: slackMessage(n) }),
        context.policy,
        context.signal,
      );
    },
  };
}
