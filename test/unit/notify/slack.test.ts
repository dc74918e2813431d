import { describe, expect, it } from "vitest";
import type { SwitchyardEvent } from "../../../src/core/events.js";
import { OperationNotices } from "../../../src/notify/notification.js";
import { escapeSlack, type SlackBlock, slackMessage } from "../../../src/notify/slack.js";

const AT = Date.UTC(2026, 0, 19, 12, 0, 0);
const TG = (name: string) =>
  `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/0123456789abcdef`;

function notices() {
  let n = 0;
  return new OperationNotices("web/prod", "deploy", () => `msg_${++n}`);
}

const started: SwitchyardEvent = {
  type: "swap.started",
  service: "web/prod",
  at: AT,
  swapId: "3f9c2a1b",
  release: "s3://releases/web/prod/r42.tar.gz",
  green: "web-prod-v043",
  blue: "web-prod-v042",
  blueRelease: "s3://releases/web/prod/r41.tar.gz",
  steps: [5, 25, 50, 100],
  bakeMs: 300_000,
  resumed: false,
};

const shifted: SwitchyardEvent = {
  type: "step.shifted",
  service: "web/prod",
  at: AT,
  step: 2,
  of: 4,
  weight: 25,
  weights: [
    { targetGroupArn: TG("web-prod-v043"), weight: 25 },
    { targetGroupArn: TG("web-prod-v042"), weight: 75 },
  ],
};

function texts(blocks: SlackBlock[]): string {
  return blocks
    .map((b) =>
      b.type === "header"
        ? b.text.text
        : b.type === "section"
          ? [b.text?.text ?? "", ...(b.fields ?? []).map((f) => f.text)].join("\n")
          : b.elements.map((e) => e.text).join(" "),
    )
    .join("\n");
}

describe("Slack messages", () => {
  it("a step: header, service, release, step N/M and weights, with a text fallback", () => {
    const o = notices();
    o.observe(started);
    const n = o.observe(shifted);
    if (!n) throw new Error("no notification");
    const message = slackMessage(n);
    expect(message.text).toBe("web/prod: step 2/4, 25% on r42");
    expect(message.blocks[0]).toEqual({
      type: "header",
      text: {
        type: "plain_text",
        text: ":arrow_right: web/prod: step 2/4, 25% on r42",
        emoji: true,
      },
    });
    expect(message.blocks[1]).toEqual({
      type: "section",
      fields: [
        { type: "mrkdwn", text: "*Service*\nweb/prod" },
        { type: "mrkdwn", text: "*Release*\nr42" },
        { type: "mrkdwn", text: "*Step*\n2/4 (25%)" },
        { type: "mrkdwn", text: "*Weights*\nweb-prod-v043 25% · web-prod-v042 75%" },
      ],
    });
    expect(texts(message.blocks)).toContain("swap `3f9c2a1b`");
  });

  it("a rolled-back swap says why, in a section and in the fallback", () => {
    const o = notices();
    o.observe(started);
    const n = o.observe({
      type: "swap.rolled-back",
      service: "web/prod",
      at: AT,
      live: "web-prod-v042",
      code: "GATE_FAILED",
      reason: "gate smoke.sh failed: exit 1 <see log>",
    });
    if (!n) throw new Error("no notification");
    const message = slackMessage(n);
    expect(message.text).toBe(
      "web/prod: swap to r42 rolled back; web-prod-v042 is live — GATE_FAILED: gate smoke.sh failed: exit 1 <see log>",
    );
    expect(message.blocks).toContainEqual({
      type: "section",
      text: {
        type: "mrkdwn",
        text: "*Reason*\nGATE_FAILED: gate smoke.sh failed: exit 1 &lt;see log&gt;",
      },
    });
  });

  it("a failed gate shows its last output lines in a code block, within Slack's limits", () => {
    const o = notices();
    o.observe(started);
    const n = o.observe({
      type: "gate.failed",
      service: "web/prod",
      at: AT,
      gate: "./smoke.sh",
      message: "exit 1",
      output: "x".repeat(5000),
    });
    if (!n) throw new Error("no notification");
    const blocks = slackMessage(n).blocks;
    const code = blocks.find((b) => b.type === "section" && b.text?.text.startsWith("```"));
    expect(code?.type === "section" && code.text ? code.text.text.length : 0).toBeLessThanOrEqual(
      3000,
    );
  });

  it("escapes Slack's control characters", () => {
    expect(escapeSlack("a < b && c > d")).toBe("a &lt; b &amp;&amp; c &gt; d");
  });
});

describe("which events notify", () => {
  it("maps an operation's events to notifications, held once per pause, with the swap's facts", () => {
    const o = notices();
    const waiting = (reason: string): SwitchyardEvent => ({
      type: "waiting",
      service: "web/prod",
      at: AT,
      reason,
      progress: { step: 2, of: 4, weight: 25 },
    });
    const types = [
      started,
      { type: "action", service: "web/prod", at: AT, action: "shiftWeights", description: "x" },
      shifted,
      waiting("baking step 2"),
      waiting("paused at 25% (gates still checked; promote to go on)"),
      waiting("paused at 25% (gates still checked; promote to go on)"),
      { type: "step.baked", service: "web/prod", at: AT, step: 2, weight: 25 },
      { type: "control", service: "web/prod", at: AT, request: "pause", by: "me", detail: "{}" },
      { type: "control", service: "web/prod", at: AT, request: "promote", by: "me", detail: "{}" },
      {
        type: "drift",
        service: "web/prod",
        at: AT,
        what: "listener weights changed",
        expected: [],
        found: [],
      },
      { type: "warning", service: "web/prod", at: AT, message: "x" },
    ]
      .map((e) => o.observe(e as SwitchyardEvent))
      .map((n) => n?.type);
    expect(types).toEqual([
      "swap.started",
      undefined,
      "step.shifted",
      undefined,
      "swap.paused",
      undefined,
      undefined,
      "swap.paused",
      undefined,
      "drift",
      undefined,
    ]);
    // drift told it already
    expect(o.failed(Object.assign(new Error("drift"), { code: "DRIFT" }))).toBeUndefined();
    const failed = o.failed(Object.assign(new Error("lock lost"), { code: "LOCK_LOST" }));
    expect(failed).toMatchObject({
      type: "swap.failed",
      swap: { swapId: "3f9c2a1b", release: "s3://releases/web/prod/r42.tar.gz" },
      event: { type: "operation.failed", code: "LOCK_LOST", message: "lock lost" },
    });
  });

  it("an operation that failed before taking the lock notifies nothing", () => {
    const o = notices();
    expect(
      o.failed(Object.assign(new Error("no such release"), { code: "RELEASE_NOT_FOUND" })),
    ).toBeUndefined();
  });
});
