/**
 * The web dashboard in a real browser (Debian's Chromium, driven by playwright-core) against a
 * control plane over a sandbox world: the live split follows a swap from the event stream; an
 * operator drives a whole swap from the page (deploy, pause, promote, rollback) with clicks and
 * keys; a viewer gets no actions; a phone's width never scrolls sideways.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../src/serve/auth.js";
import { type ControlPlane, createControlPlane } from "../../src/serve/control-plane.js";
import { dashboardRoutes } from "../../src/serve/dashboard.js";
import type { Switchyard } from "../../src/switchyard.js";
import { listenerWeights, SERVICE, type SwapWorld, swapWorld } from "../helpers/swap-world.js";
import { buildCli, ROOT } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const USERS = {
  alice: { password: "alice-operator-pw", role: "operator" },
  victor: { password: "victor-viewer-pw", role: "viewer" },
} as const;
const PAGE = "/services/web/test";
const GREEN = "web-test-v002";
const BLUE = "web-test-v001";
/** how long the page may take to show a change (a swap's steps, on a busy machine) */
const soon = { timeout: 30_000, interval: 50 };

function basic(user: keyof typeof USERS): string {
  return `Basic ${Buffer.from(`${user}:${USERS[user].password}`).toString("base64")}`;
}

describe("the web dashboard, in Chromium", () => {
  let world: SwapWorld;
  let yard: Switchyard;
  let plane: ControlPlane;
  let url: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  async function open(
    user: keyof typeof USERS,
    viewport = { width: 1280, height: 800 },
  ): Promise<Page> {
    const context = await browser.newContext({
      httpCredentials: { username: user, password: USERS[user].password },
      viewport,
      ...(viewport.width < 500 ? { isMobile: true, hasTouch: true, deviceScaleFactor: 3 } : {}),
    });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    return page;
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `the dashboard tests drive Chromium at ${CHROMIUM}, which is not installed: apt-get install chromium`,
      );
    }
    const launching = chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // launch() gives the browser a fresh, temporary user-data directory of its own
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    world = await swapWorld({ pollIntervalMs: 100 });
    const first = await world.yard.deploy(SERVICE, { release: "r1", bakeMs: 50 }).result;
    expect(first.ok).toBe(true);
    yard = world.another({ pollIntervalMs: 100 });
    plane = createControlPlane({
      yard,
      auth: {
        users: await Promise.all(
          Object.entries(USERS).map(async ([name, u]) => ({
            name,
            role: u.role,
            hash: await hashPassword(u.password),
          })),
        ),
        tokens: [],
      },
      watchIntervalMs: 100,
      routes: dashboardRoutes(),
    });
    url = (await plane.listen({ port: 0 })).url;
    browser = await launching;
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await plane?.close({ timeoutMs: 20_000 });
    yard?.close();
    await world?.stop();
  });

  it("serves the page and its files under the same authentication, with their types and caching", async () => {
    const anonymous = await fetch(`${url}/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic realm="switchyard"/);
    const page = await fetch(`${url}${PAGE}`, { headers: { authorization: basic("victor") } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    const script = /src="(\/dashboard\/dashboard\.js\?v=[0-9a-f]+)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${url}${script}`, { headers: { authorization: basic("victor") } });
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    const etag = js.headers.get("etag") ?? "";
    const again = await fetch(`${url}/dashboard/dashboard.js`, {
      headers: { authorization: basic("victor"), "if-none-match": etag },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get("cache-control")).toBe("private, no-cache");
    const css = await fetch(`${url}/dashboard/dashboard.css`, {
      headers: { authorization: basic("victor") },
    });
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const missing = await fetch(`${url}/dashboard/nope.js`, {
      headers: { authorization: basic("victor") },
    });
    expect(missing.status).toBe(404);
    expect((await fetch(`${url}/dashboard/dashboard.js`)).status).toBe(401);

    // the build puts the files beside the compiled module, where it serves them from
    await buildCli();
    const built = (await import(
      pathToFileURL(join(ROOT, "dist/serve/dashboard.js")).href
    )) as typeof import("../../src/serve/dashboard.js");
    for (const file of ["index.html", "dashboard.js", "dashboard.css"]) {
      expect(existsSync(new URL(file, built.DASHBOARD_DIR))).toBe(true);
    }
  });

  it("an operator drives a swap from the page: deploy r2, pause, promote, then roll back to r1; the split follows the stream", async () => {
    const page = await open("alice");
    const statusReads: string[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname === `/api${PAGE}`) statusReads.push(r.url());
    });
    await page.goto(`${url}${PAGE}`);
    await expect.poll(() => page.locator("#whoami").textContent(), soon).toBe("alice · operator");
    const readBack = (group: string) =>
      page.locator(`#weights tr[data-group="${group}"] .readback`).textContent({ timeout: 500 });
    await expect.poll(() => readBack(BLUE), soon).toBe("100");
    await expect.poll(() => page.locator("#connection").textContent(), soon).toBe("live");

    // the green group's weight as the page shows it, sampled while the swap runs
    const seen = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const text = await readBack(GREEN).catch(() => null);
        if (text !== null) seen.add(text);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    // deploy: the newest release not live is chosen; Enter in the bake field submits the form
    const release = page.getByLabel("Release");
    await expect.poll(() => release.inputValue(), soon).toBe("r2");
    await expect.poll(() => page.locator("#deploy").isEnabled(), soon).toBe(true);
    await page.getByLabel("Bake per step (optional)").fill("2s");
    await page.getByLabel("Bake per step (optional)").press("Enter");
    const dialog = page.getByRole("dialog");
    await expect
      .poll(() => dialog.locator("h2").textContent(), soon)
      .toBe("Deploy r2 to web/test?");
    // the focus starts on Cancel and stays in the dialog
    const focused = () => page.evaluate<string>('document.activeElement?.id ?? ""');
    expect(await focused()).toBe("confirm-cancel");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("confirm-ok");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("confirm-cancel");
    await page.keyboard.press("Shift+Tab");
    expect(await focused()).toBe("confirm-ok");
    await page.keyboard.press("Enter");
    await expect.poll(() => dialog.isVisible(), soon).toBe(false);
    await expect
      .poll(() => page.locator("#outcome").textContent(), soon)
      .toMatch(/^deploy: accepted \(swap [0-9a-f-]+\)/);

    // pause at the first step it reaches, and it holds there past its bake
    await expect.poll(() => page.locator("#swap-step").textContent(), soon).toMatch(/^\d of 4$/);
    await page.getByRole("button", { name: "Pause" }).click();
    await expect.poll(() => page.locator("#paused").isVisible(), soon).toBe(true);
    const heldAt = await page.locator("#swap-step").textContent();
    expect(await page.locator("#swap-bake").textContent()).toBe("paused");
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await page.locator("#swap-step").textContent()).toBe(heldAt);
    expect(await page.getByRole("button", { name: "Pause" }).isDisabled()).toBe(true);

    // promote: the swap goes on to 100 % and ends; the timeline tells it
    await page.getByRole("button", { name: "Promote", exact: true }).click();
    await expect
      .poll(() => page.locator("#swap-state").textContent(), soon)
      .toBe("No swap in flight.");
    await expect.poll(() => readBack(GREEN), soon).toBe("100");
    sampling = false;
    await sampler;
    const timeline = page.locator("#timeline-list");
    for (const type of ["swap.started", "step.shifted", "control", "swap.completed"]) {
      expect(await timeline.locator(`li[data-type="${type}"]`).count()).toBeGreaterThan(0);
    }
    expect(await timeline.textContent()).toContain("deploy ended: ok");
    // the split moved through the steps, each one read from the event stream (never a GET)
    const partial = [...seen].filter((w) => Number(w) > 0 && Number(w) < 100);
    expect(partial.length, `green's weights seen: ${[...seen].join(", ")}`).toBeGreaterThanOrEqual(
      2,
    );
    expect(seen).toContain("100");
    expect(statusReads).toEqual([]);
    expect(await listenerWeights(world)).toMatchObject({ [GREEN]: 100 });

    // rollback, by keyboard: Escape cancels, and the confirmation names the release it restores
    const rollback = page.getByRole("button", { name: "Roll back" });
    await expect.poll(() => rollback.isEnabled(), soon).toBe(true);
    await rollback.focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => dialog.isVisible(), soon).toBe(true);
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.isVisible(), soon).toBe(false);
    expect(await focused()).toBe("rollback");
    await page.keyboard.press("Enter");
    expect(await dialog.locator("h2").textContent()).toBe("Roll back web/test to r1?");
    expect(await dialog.textContent()).toContain(`${BLUE}, which runs r1`);
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("confirm-ok");
    expect(await page.locator("#confirm-ok").textContent()).toBe("Roll back to r1");
    await page.keyboard.press("Enter");
    await expect.poll(() => readBack(BLUE), soon).toBe("100");
    await expect
      .poll(() => page.locator(`#groups-table tr[data-group="${BLUE}"] .role`).textContent(), soon)
      .toBe("live");
    await expect.poll(() => timeline.textContent(), soon).toContain("rollback ended: ok");
    expect(await listenerWeights(world)).toMatchObject({ [BLUE]: 100, [GREEN]: 0 });

    // a retire dry run changes nothing and says what it would do
    await page.getByRole("button", { name: "Retire dry run" }).click();
    await expect
      .poll(() => page.locator("#retire-report").textContent(), soon)
      .toContain("nothing was deleted");
    if (process.env.DASHBOARD_SCREENSHOTS) {
      await page.screenshot({
        path: join(process.env.DASHBOARD_SCREENSHOTS, "service.png"),
        fullPage: true,
      });
    }
  });

  it("lists the services, and a viewer sees everything but no action", async () => {
    const page = await open("victor");
    await page.goto(`${url}/`);
    const row = page.locator(`tr[data-service="${SERVICE}"]`);
    await expect.poll(() => row.textContent(), soon).toContain("r1");
    expect(await row.textContent()).toContain(GREEN);
    expect(await page.locator("#whoami").textContent()).toBe("victor · viewer");
    // the service's link, by keyboard
    await page.getByRole("link", { name: SERVICE }).focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(`${url}${PAGE}`);
    await expect
      .poll(() => page.locator(`#weights tr[data-group="${BLUE}"] .readback`).textContent(), soon)
      .toBe("100");
    expect(await page.locator("#groups-table tbody tr").count()).toBe(2);
    expect(await page.locator("main button").count()).toBe(0);
    expect(await page.getByRole("button").count()).toBe(0);
    expect(await page.locator("#actions").count()).toBe(0);
  });

  it("fits a phone's width (390 px): nothing scrolls sideways", async () => {
    const page = await open("alice", { width: 390, height: 844 });
    // the page's width and how wide its content is (more means a sideways scroll)
    const overflow = () =>
      page.evaluate<{ scroll: number; width: number }>(
        "({ scroll: document.documentElement.scrollWidth, width: document.documentElement.clientWidth })",
      );
    await page.goto(`${url}/`);
    await page.locator(`tr[data-service="${SERVICE}"]`).waitFor();
    const list = await overflow();
    expect(list.scroll).toBeLessThanOrEqual(list.width);
    await page.goto(`${url}${PAGE}`);
    await page.locator("#groups-table").waitFor();
    await expect.poll(() => page.locator("#deploy").isVisible(), soon).toBe(true);
    if (process.env.DASHBOARD_SCREENSHOTS) {
      await page.screenshot({
        path: join(process.env.DASHBOARD_SCREENSHOTS, "phone.png"),
        fullPage: true,
      });
    }
    const one = await overflow();
    expect(one.width).toBe(390);
    expect(one.scroll).toBeLessThanOrEqual(one.width);
  });
});
