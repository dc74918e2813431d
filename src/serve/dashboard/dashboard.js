/**
 * The switchyard dashboard: the services (`/`) and one service (`/services/:app/:env`), read from
 * the control plane's JSON API. A service page follows the service's event stream: `status` on
 * every change, `event` for each step of an operation this replica drives, `result` when it ends.
 * Every text from the API goes into the page as a text node (never as HTML).
 */

const OVERVIEW_REFRESH_MS = 5_000;

// ─── small helpers ──────────────────────────────────────────────────────────────────────────

/**
 * An element with attributes and children; strings become text nodes, so nothing from the API is
 * ever parsed as HTML.
 */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const byId = (id) => document.getElementById(id);

/** `s3://releases/web/prod/r42.tar.gz` → `r42` */
function version(url) {
  const file = String(url ?? "")
    .split("/")
    .pop();
  return file ? file.replace(/\.(tar\.gz|tgz)$/, "") : "";
}

/** The release a group runs, by its version (its tag holds the URL). */
const releaseOf = (group) => version(group?.release) || group?.release || "";

function duration(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "";
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1_000);
  if (s < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 120 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function clock(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour12: false });
}

function time(at) {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return "";
  return h("time", { datetime: d.toISOString() }, clock(at));
}

/** A table that reads as label/value rows on a narrow screen (CSS uses `data-label`). */
function table(caption, columns, rows, attrs = {}) {
  return h(
    "table",
    { class: "stack", ...attrs },
    caption ? h("caption", {}, caption) : null,
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        columns.map((c) => h("th", { scope: "col" }, c)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h(
          "tr",
          row.attrs ?? {},
          row.cells.map((cell, i) => h("td", { "data-label": columns[i] }, cell)),
        ),
      ),
    ),
  );
}

function section(id, title, ...content) {
  return h(
    "section",
    { id, "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, title),
    ...content,
  );
}

// ─── the API ────────────────────────────────────────────────────────────────────────────────

class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = error?.code ?? `HTTP_${status}`;
    this.hint = error?.hint;
  }
}

/**
 * A GET, or a POST of a JSON body (a JSON body is what the control plane's cross-site check asks
 * of a browser). The browser adds the user's credentials: the page is served under the same auth.
 */
async function api(path, body) {
  const init =
    body === undefined
      ? { headers: { accept: "application/json" } }
      : {
          method: "POST",
          headers: { accept: "application/json", "content-type": "application/json" },
          body: JSON.stringify(body),
        };
  const response = await fetch(path, { ...init, credentials: "same-origin", cache: "no-store" });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data?.error);
  return { status: response.status, data };
}

function errorText(error) {
  if (error instanceof ApiError) {
    return `${error.code}: ${error.message}${error.hint ? ` (${error.hint})` : ""}`;
  }
  return String(error?.message ?? error);
}

// ─── the page ───────────────────────────────────────────────────────────────────────────────

const state = { role: null, name: null };

async function boot() {
  try {
    const { data } = await api("/api/whoami");
    state.role = data?.role ?? null;
    state.name = data?.name ?? null;
    byId("whoami").textContent = state.name ? `${state.name} · ${state.role}` : "";
  } catch (error) {
    showFatal(error);
    return;
  }
  const match = /^\/services\/([^/]+)\/([^/]+)\/?$/.exec(location.pathname);
  if (match) {
    const service = `${decodeURIComponent(match[1])}/${decodeURIComponent(match[2])}`;
    servicePage(service);
  } else overviewPage();
}

function showFatal(error) {
  byId("main").replaceChildren(
    h("h1", {}, "switchyard"),
    h("p", { class: "error", role: "alert" }, errorText(error)),
  );
}

function crumbs(...items) {
  byId("crumbs").replaceChildren(
    h(
      "ol",
      {},
      items.map((item, i) =>
        h(
          "li",
          {},
          i === items.length - 1
            ? h("span", { "aria-current": "page" }, item.text)
            : h("a", { href: item.href }, item.text),
        ),
      ),
    ),
  );
}

const isOperator = () => state.role === "operator";
const servicePath = (service) =>
  `/services/${service.split("/").map(encodeURIComponent).join("/")}`;
const apiPath = (service) => `/api${servicePath(service)}`;

// ─── the services ───────────────────────────────────────────────────────────────────────────

function overviewPage() {
  document.title = "Services · switchyard";
  crumbs({ text: "Services" });
  const body = h("div", { id: "services", "aria-live": "polite" }, h("p", {}, "Loading…"));
  const updated = h("p", { class: "muted", id: "updated" });
  byId("main").replaceChildren(h("h1", {}, "Services"), updated, body);
  let timer;
  const refresh = async () => {
    clearTimeout(timer);
    try {
      const { data } = await api("/api/services");
      body.replaceChildren(servicesTable(data ?? []));
      updated.textContent = `Updated ${clock(Date.now())}; refreshed every ${OVERVIEW_REFRESH_MS / 1000} s.`;
    } catch (error) {
      updated.replaceChildren(h("span", { class: "error" }, errorText(error)));
    }
    if (!document.hidden) timer = setTimeout(refresh, OVERVIEW_REFRESH_MS);
  };
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
  refresh();
}

function groupLine(g) {
  if (!g) return h("span", { class: "muted" }, "none");
  return h(
    "span",
    { class: "group" },
    h("strong", {}, releaseOf(g)),
    " ",
    h("span", { class: "name" }, g.name),
    g.weight === null ? "" : ` · weight ${g.weight}`,
  );
}

function healthLine(g) {
  const ok = g.instances.healthy >= g.capacity.desired && g.capacity.desired > 0;
  return h(
    "span",
    { class: ok ? "ok" : "warn" },
    `${g.name}: ${g.instances.healthy}/${g.capacity.desired} healthy`,
  );
}

function swapLine(swap) {
  if (!swap) return h("span", { class: "muted" }, "none");
  const parts = [`${swap.kind} ${version(swap.release)}`, swap.phase];
  if (swap.phase === "shifting" || swap.phase === "launching") {
    parts.push(`step ${swap.step}/${swap.of}`);
  }
  if (swap.weight !== null) parts.push(`${swap.weight} %`);
  if (swap.paused) parts.push("paused");
  return h("span", { class: "swap-line" }, parts.join(" · "));
}

function servicesTable(services) {
  if (services.length === 0) return h("p", {}, "No services are configured.");
  return table(
    null,
    ["Service", "Live", "Standby", "Swap", "Health", "Warnings"],
    services.map((s) => {
      const live = s.groups.find((g) => g.role === "live");
      const standby = s.groups.filter((g) => g.role === "standby");
      return {
        attrs: { "data-service": s.service },
        cells: [
          h("a", { href: servicePath(s.service) }, s.service),
          groupLine(live),
          standby.length === 0
            ? groupLine(undefined)
            : h(
                "ul",
                { class: "plain" },
                standby.map((g) => h("li", {}, groupLine(g))),
              ),
          swapLine(s.swap),
          h(
            "ul",
            { class: "plain" },
            s.groups.filter((g) => !g.deleting).map((g) => h("li", {}, healthLine(g))),
          ),
          s.warnings.length === 0
            ? h("span", { class: "muted" }, "none")
            : h("span", { class: "warn" }, `${s.warnings.length}`),
        ],
      };
    }),
    { "aria-label": "Services" },
  );
}

// ─── one service ────────────────────────────────────────────────────────────────────────────

function servicePage(service) {
  document.title = `${service} · switchyard`;
  crumbs({ text: "Services", href: "/" }, { text: service });
  const view = {
    service,
    status: null,
    releases: [],
    releasesKey: "",
    lastWaiting: null,
    timeline: h("ol", { class: "timeline", id: "timeline-list" }),
    seen: new Set(),
  };
  const connection = h("span", { id: "connection", class: "muted", role: "status" }, "connecting…");
  const outcome = h("div", { id: "outcome", role: "status", tabindex: "-1" });
  byId("main").replaceChildren(
    h("div", { class: "title" }, h("h1", {}, service), connection),
    section("swap", "Swap", h("div", { id: "swap-body" }, h("p", {}, "Loading…"))),
    section("traffic", "Traffic", h("div", { id: "traffic-body" })),
    section("groups", "Server groups", h("div", { id: "groups-body" })),
    isOperator() ? actionsSection(view, outcome) : null,
    h("div", { id: "warnings" }),
    section(
      "timeline",
      "Timeline",
      h(
        "p",
        { class: "muted" },
        "Events of the operations this server drives; a swap driven elsewhere shows in Swap above.",
      ),
      view.timeline,
    ),
  );
  if (isOperator()) loadReleases(view);
  setInterval(() => renderBake(view), 1_000);

  const source = new EventSource(`${apiPath(service)}/events`);
  source.addEventListener("open", () => {
    connection.textContent = "live";
    connection.className = "live";
  });
  source.addEventListener("status", (e) => {
    view.status = JSON.parse(e.data);
    renderStatus(view);
  });
  source.addEventListener("event", (e) => {
    if (e.lastEventId && view.seen.has(e.lastEventId)) return;
    if (e.lastEventId) view.seen.add(e.lastEventId);
    addEvent(view, JSON.parse(e.data));
  });
  source.addEventListener("result", (e) => {
    if (e.lastEventId && view.seen.has(e.lastEventId)) return;
    if (e.lastEventId) view.seen.add(e.lastEventId);
    addResult(view, JSON.parse(e.data));
    if (isOperator()) loadReleases(view);
  });
  source.addEventListener("error", (e) => {
    // the server's own `error` message (the status could not be read) carries data;
    // a dropped connection does not, and EventSource reconnects by itself
    if (e instanceof MessageEvent && typeof e.data === "string") {
      let body = null;
      try {
        body = JSON.parse(e.data);
      } catch {
        body = null;
      }
      connection.textContent = `error: ${errorText(new ApiError(0, body?.error))}`;
    } else {
      connection.textContent =
        source.readyState === EventSource.CLOSED ? "closed" : "reconnecting…";
    }
    connection.className = "warn";
    if (source.readyState === EventSource.CLOSED) {
      // a refusal (401, 404) closes it for good: say why
      api(apiPath(service)).catch((error) => {
        connection.textContent = errorText(error);
      });
    }
  });
}

function groupsByArn(status) {
  return new Map(status.groups.filter((g) => g.targetGroupArn).map((g) => [g.targetGroupArn, g]));
}

function renderStatus(view) {
  const s = view.status;
  if (!s) return;
  byId("swap-body").replaceChildren(swapPanel(view));
  byId("traffic-body").replaceChildren(trafficPanel(s));
  byId("groups-body").replaceChildren(groupsTable(s));
  byId("warnings").replaceChildren(
    s.warnings.length === 0
      ? ""
      : section(
          "warnings-list",
          "Warnings",
          h(
            "ul",
            {},
            s.warnings.map((w) => h("li", {}, w)),
          ),
        ),
  );
  renderBake(view);
  updateActions(view);
  // the live and standby releases changed (a swap ended): the release list marks them anew
  const key = s.groups.map((g) => `${g.name}:${g.role}`).join(",");
  if (isOperator() && view.releasesKey && key !== view.releasesKey) loadReleases(view);
  view.releasesKey = key;
}

function swapPanel(view) {
  const swap = view.status.swap;
  if (!swap) return h("p", { id: "swap-state" }, "No swap in flight.");
  const facts = [
    ["Kind", swap.kind],
    ["Release", version(swap.release) || swap.release],
    ["Phase", swap.phase],
    [
      "Step",
      swap.step > 0 ? `${swap.step} of ${swap.of}` : `launching (of ${swap.of} steps)`,
      "swap-step",
    ],
    ["Weight on green", swap.weight === null ? "—" : `${swap.weight} %`, "swap-weight"],
    ["Bake", "", "swap-bake"],
    ["Green", swap.green],
    ["Blue", swap.blue ?? "none"],
    ["Driven by", `${swap.owner.user}@${swap.owner.host} (pid ${swap.owner.pid})`],
    ["Started", clock(swap.startedAt)],
  ];
  const gates = view.lastWaiting?.progress?.gates;
  if (gates) facts.push(["Gates", `${gates.passed}/${gates.total} passed at the last check`]);
  const requests = Object.entries(swap.control ?? {}).map(
    ([kind, r]) => `${kind} requested by ${r.by}${r.full ? " (to 100 %)" : ""}`,
  );
  if (requests.length > 0) facts.push(["Requests", requests.join("; ")]);
  if (swap.detachedAt) facts.push(["Detached", `since ${clock(swap.detachedAt)}`]);
  return h(
    "div",
    {},
    swap.paused ? h("p", { class: "badge warn", id: "paused" }, "Paused: promote to go on") : null,
    swap.failure
      ? h("p", { class: "error" }, `${swap.failure.code}: ${swap.failure.message}`)
      : null,
    swap.halted
      ? h("p", { class: "error" }, `Halted: ${swap.halted.reason ?? JSON.stringify(swap.halted)}`)
      : null,
    h(
      "dl",
      { class: "facts", id: "swap-state" },
      facts.map(([term, value, id]) => [h("dt", {}, term), h("dd", id ? { id } : {}, value)]),
    ),
  );
}

function renderBake(view) {
  const cell = byId("swap-bake");
  const swap = view.status?.swap;
  if (!cell || !swap) return;
  if (swap.paused) {
    cell.textContent = "paused";
  } else if (swap.bake) {
    const left = Math.max(0, swap.bake.startedAt + swap.bake.ms - Date.now());
    cell.textContent = `${duration(left)} left of ${duration(swap.bake.ms)}`;
  } else cell.textContent = "—";
}

function trafficPanel(s) {
  const byArn = groupsByArn(s);
  const set = new Map((s.swap?.traffic ?? []).map((t) => [t.targetGroupArn, t.weight]));
  const rows = s.groups
    .filter((g) => g.weight !== null || set.has(g.targetGroupArn))
    .map((g) => ({ group: g, readBack: g.weight, set: set.get(g.targetGroupArn) }));
  for (const [arn, weight] of set) {
    if (!byArn.has(arn)) rows.push({ group: { name: arn, role: "unmanaged" }, set: weight });
  }
  if (rows.length === 0) return h("p", {}, "The listener forwards to no server group.");
  const total = rows.reduce((sum, r) => sum + (r.readBack ?? 0), 0);
  const bar = h("div", { class: "split", "aria-hidden": "true" });
  for (const r of rows) {
    if (!r.readBack || total === 0) continue;
    const part = h("span", { class: `part role-${r.group.role}` }, `${r.group.name}`);
    part.style.flexGrow = String(r.readBack);
    bar.append(part);
  }
  const split = rows
    .filter((r) => (r.readBack ?? 0) > 0)
    .map((r) => `${r.group.name} ${Math.round(((r.readBack ?? 0) * 100) / (total || 1))} %`)
    .join(", ");
  return h(
    "div",
    {},
    h("p", { id: "split-text" }, total === 0 ? "No traffic is forwarded." : `Split: ${split}`),
    bar,
    table(
      "Listener weights: set by the swap, and read back from the listener",
      ["Target group of", "Role", "Set", "Read back"],
      rows.map((r) => ({
        attrs: { "data-group": r.group.name },
        cells: [
          r.group.name,
          r.group.role,
          h("span", { class: "set" }, r.set === undefined ? "—" : String(r.set)),
          h(
            "span",
            {
              class: `readback${r.set !== undefined && r.readBack !== r.set ? " warn" : ""}`,
            },
            r.readBack === null || r.readBack === undefined ? "not in the action" : r.readBack,
          ),
        ],
      })),
      { id: "weights" },
    ),
  );
}

function groupsTable(s) {
  if (s.groups.length === 0) return h("p", {}, "No server groups yet.");
  return table(
    null,
    ["Group", "Role", "Release", "Capacity (min/desired/max)", "In service", "Healthy", "Created"],
    s.groups.map((g) => ({
      attrs: { "data-group": g.name },
      cells: [
        h(
          "span",
          {},
          g.name,
          g.deleting ? h("span", { class: "badge" }, " deleting") : null,
          g.suspendedProcesses.length > 0
            ? h("span", { class: "muted small" }, ` suspended: ${g.suspendedProcesses.join(", ")}`)
            : null,
        ),
        h("span", { class: `role role-${g.role}` }, g.role),
        releaseOf(g),
        `${g.capacity.min} / ${g.capacity.desired} / ${g.capacity.max}`,
        String(g.instances.inService),
        h(
          "span",
          { class: g.instances.healthy >= g.capacity.desired ? "ok" : "warn" },
          `${g.instances.healthy}/${g.capacity.desired}`,
        ),
        g.createdAt ? clock(g.createdAt) : "",
      ],
    })),
    { id: "groups-table", "aria-label": "Server groups" },
  );
}

// ─── the timeline ───────────────────────────────────────────────────────────────────────────

/** A gate's verdict with its figures, when the event carries them. */
function verdict(v) {
  const figures =
    v.figures && typeof v.figures === "object"
      ? h(
          "dl",
          { class: "figures" },
          Object.entries(v.figures).map(([k, value]) => [
            h("dt", {}, k),
            h("dd", {}, typeof value === "object" ? JSON.stringify(value) : String(value)),
          ]),
        )
      : null;
  return h(
    "div",
    { class: `verdict verdict-${v.result === "pass" ? "pass" : "fail"}` },
    h("strong", {}, `${v.gate}: ${v.result}`),
    v.sentence ? ` — ${v.sentence}` : "",
    figures,
  );
}

function weightsText(weights, status) {
  const byArn = status ? groupsByArn(status) : new Map();
  return (weights ?? [])
    .map(
      (w) =>
        `${byArn.get(w.targetGroupArn)?.name ?? w.targetGroupArn.split("/")[1] ?? "?"} ${w.weight}`,
    )
    .join(", ");
}

/** One event as a line (and details); an event type this page does not know shows its fields. */
function describe(e, status) {
  switch (e.type) {
    case "swap.started":
      return [
        `${e.resumed ? "Resumed" : "Started"} swap ${e.swapId}: ${version(e.release)} on ${e.green}${
          e.blue
            ? `, replacing ${e.blue}${e.blueRelease ? ` (${version(e.blueRelease)})` : ""}`
            : ""
        }; steps ${(e.steps ?? []).join(", ")} %, bake ${duration(e.bakeMs)}`,
      ];
    case "action":
      return [e.description];
    case "waiting": {
      const p = e.progress ?? {};
      const extra = [];
      if (p.step) extra.push(`step ${p.step}/${p.of}`);
      if (p.gates) extra.push(`gates ${p.gates.passed}/${p.gates.total}`);
      for (const g of p.groups ?? []) extra.push(`${g.name} ${g.healthy}/${g.desired} healthy`);
      return [`${e.reason}${extra.length ? ` (${extra.join(", ")})` : ""}`];
    }
    case "green.healthy":
      return [`${e.group}: ${e.healthy} healthy after ${duration(e.elapsedMs)}`];
    case "step.shifted":
      return [
        `Step ${e.step}/${e.of}: ${e.weight} % on green (weights ${weightsText(e.weights, status)})`,
      ];
    case "step.baked":
      return [
        `Step ${e.step} baked at ${e.weight} %${e.bakedMs ? ` for ${duration(e.bakedMs)}` : ""}${
          e.gates === undefined ? "" : `; ${e.gates} gates passed`
        }`,
        (e.verdicts ?? []).map(verdict),
      ];
    case "gate.verdict":
      return [`Gate verdict at step ${e.step} (${e.weight} %)`, verdict(e)];
    case "gate.failed":
      return [
        `Gate ${e.gate} failed: ${e.message}`,
        e.output ? h("pre", { class: "output" }, e.output) : null,
      ];
    case "rollback.started":
      return [`Rolling back (${e.code}): ${e.reason}`];
    case "swap.completed":
      return [
        `Swap completed in ${duration(e.durationMs)}: ${e.live} live${e.standby ? `, ${e.standby} standby` : ""}`,
      ];
    case "swap.rolled-back":
      return [`Swap rolled back (${e.code}): ${e.reason}${e.live ? `; ${e.live} live` : ""}`];
    case "rollback.completed":
      return [
        `Rollback completed in ${duration(e.durationMs)}: ${e.live} live${e.standby ? `, ${e.standby} standby` : ""}`,
      ];
    case "lock.acquired":
      return [`Took the service's lock (${e.swapId})`];
    case "lock.released":
      return [`Released the service's lock (${e.swapId})`];
    case "control":
      return [`${e.request} requested by ${e.by}${controlDetail(e.detail)}`];
    case "drift":
      return [`Drift: ${e.what}`];
    case "warning":
      return [e.message];
    case "retire.deleted":
      return [`${e.dryRun ? "Would delete" : "Deleted"} ${e.group}`];
    case "retire.skipped":
      return [`Kept ${e.group}: ${e.reason}`];
    case "cycle.completed":
      return [`Cycled ${e.group}: replaced ${(e.replaced ?? []).join(", ")}`];
    default:
      return [fieldsText(e)];
  }
}

/** A control request's detail: the request as written (JSON) in words, else as it is. */
function controlDetail(detail) {
  if (!detail) return "";
  let request = null;
  try {
    request = JSON.parse(detail);
  } catch {
    return `: ${detail}`;
  }
  if (typeof request !== "object" || request === null) return `: ${detail}`;
  const parts = [];
  if (typeof request.step === "number") parts.push(`at step ${request.step}`);
  if (request.full === true) parts.push("to 100 %");
  if (typeof request.until === "number") parts.push(`until ${clock(request.until)}`);
  if (typeof request.reason === "string") parts.push(request.reason);
  return parts.length > 0 ? ` (${parts.join(", ")})` : "";
}

function fieldsText(e) {
  return Object.entries(e)
    .filter(([k]) => !["type", "service", "at"].includes(k))
    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(", ");
}

function addEvent(view, e) {
  const type = typeof e?.type === "string" ? e.type : "event";
  const [text, ...details] = describe(e, view.status);
  const item = h(
    "li",
    { class: `ev ev-${type.replace(/[^a-z0-9-]/gi, "-")}`, "data-type": type },
    time(e.at),
    " ",
    h("span", { class: "type" }, type),
    " ",
    h("span", { class: "text" }, text),
    details,
  );
  const last = view.timeline.lastElementChild;
  // a wait reports each change of its progress: keep only its latest line
  if (type === "waiting" && last?.dataset.type === "waiting") last.replaceWith(item);
  else view.timeline.append(item);
  if (type === "waiting") {
    view.lastWaiting = e;
  } else if (type === "swap.started") view.lastWaiting = null;
}

function addResult(view, body) {
  const ok = body?.ok !== false;
  const text = ok
    ? `${body?.operation ?? "operation"} ended: ok`
    : `${body?.operation ?? "operation"} ended: ${
        body?.error
          ? `${body.error.code}: ${body.error.message}`
          : body?.result?.error
            ? `${body.result.error.code ?? ""} ${body.result.error.message ?? ""}`
            : "failed"
      }`;
  view.timeline.append(
    h(
      "li",
      { class: `ev ev-result ${ok ? "ok" : "error"}`, "data-type": "result" },
      time(Date.now()),
      " ",
      h("span", { class: "type" }, "result"),
      " ",
      h("span", { class: "text" }, text),
    ),
  );
}

// ─── actions (operators only) ───────────────────────────────────────────────────────────────

function actionsSection(view, outcome) {
  const select = h("select", { id: "release", name: "release", required: true });
  const bake = h("input", {
    id: "bake",
    name: "bake",
    type: "text",
    inputmode: "text",
    placeholder: "config's bake",
    autocomplete: "off",
    "aria-describedby": "bake-help",
  });
  const deploy = h("button", { type: "submit", id: "deploy", class: "primary" }, "Deploy");
  const form = h(
    "form",
    { id: "deploy-form", class: "deploy" },
    h("div", { class: "field" }, h("label", { for: "release" }, "Release"), select),
    h(
      "div",
      { class: "field" },
      h("label", { for: "bake" }, "Bake per step (optional)"),
      bake,
      h("small", { id: "bake-help", class: "muted" }, "e.g. 30s or 5m"),
    ),
    deploy,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const release = view.releases.find((r) => r.version === select.value);
    if (!release) return;
    const live = view.status?.groups.find((g) => g.role === "live");
    const ok = await confirmAction({
      title: `Deploy ${release.version} to ${view.service}?`,
      body: [
        `A new server group is launched with ${release.version} and traffic shifts to it step by step.`,
        live ? ` ${live.name} (${releaseOf(live)}) stays up as the standby.` : "",
      ].join(""),
      ok: `Deploy ${release.version}`,
    });
    if (!ok) return;
    const body = { release: release.version };
    if (bake.value.trim()) body.bake = bake.value.trim();
    await run(view, outcome, deploy, "deploy", body);
  });

  const button = (id, label, onclick) => h("button", { type: "button", id, onclick }, label);
  const promote = button("promote", "Promote", () =>
    run(view, outcome, promote, "promote", { full: false }),
  );
  const promoteFull = button("promote-full", "Promote to 100 %", () =>
    run(view, outcome, promoteFull, "promote", { full: true }),
  );
  const pause = button("pause", "Pause", () => run(view, outcome, pause, "pause", {}));
  const abort = button("abort", "Abort", async () => {
    const swap = view.status?.swap;
    const blue = view.status?.groups.find((g) => g.name === swap?.blue);
    const ok = await confirmAction({
      title: `Abort the swap to ${version(swap?.release)}?`,
      body: blue
        ? `Traffic goes back to ${blue.name} (${releaseOf(blue)}) and ${swap?.green} is taken down.`
        : `The swap is rolled back and ${swap?.green ?? "the new group"} taken down.`,
      ok: "Abort the swap",
      danger: true,
    });
    if (ok) await run(view, outcome, abort, "abort", {});
  });
  const rollback = button("rollback", "Roll back", async () => {
    const target = rollbackTarget(view.status);
    if (!target) return;
    const live = view.status?.groups.find((g) => g.role === "live");
    const ok = await confirmAction({
      title: `Roll back ${view.service} to ${releaseOf(target)}?`,
      body: `All traffic moves at once to ${target.name}, which runs ${releaseOf(target)}${
        live ? `, from ${live.name} (${releaseOf(live)})` : ""
      }.`,
      ok: `Roll back to ${releaseOf(target)}`,
      danger: true,
    });
    if (ok) await run(view, outcome, rollback, "rollback", { to: target.name });
  });
  const retire = button("retire", "Retire dry run", async () => {
    await run(view, outcome, retire, null, { services: [view.service], dryRun: true });
  });
  view.buttons = { deploy, promote, promoteFull, pause, abort, rollback, retire, select };
  return section(
    "actions",
    "Actions",
    form,
    h(
      "div",
      { class: "buttons", role: "group", "aria-label": "Steer the swap" },
      promote,
      promoteFull,
      pause,
      abort,
    ),
    h(
      "div",
      { class: "buttons", role: "group", "aria-label": "After a swap" },
      rollback,
      h("span", { id: "rollback-help", class: "muted small" }),
      retire,
    ),
    outcome,
  );
}

/** The group a rollback restores: the newest standby (the page names it in the request). */
function rollbackTarget(status) {
  return (status?.groups ?? [])
    .filter((g) => g.role === "standby" && !g.deleting && g.targetGroupArn)
    .sort((a, b) => b.sequence - a.sequence)[0];
}

function updateActions(view) {
  const b = view.buttons;
  const s = view.status;
  if (!b || !s) return;
  const swap = s.swap;
  const steerable =
    swap !== null && swap.kind === "deploy" && !["rolling-back", "restoring"].includes(swap.phase);
  const busy = (el) => el.getAttribute("aria-busy") === "true";
  const set = (el, enabled) => {
    const disabled = !enabled || busy(el);
    // a button that goes away under the keyboard leaves the focus on the actions, not the page
    if (disabled && document.activeElement === el) byId("outcome").focus();
    el.disabled = disabled;
  };
  set(b.deploy, swap === null && b.select.options.length > 0);
  set(b.promote, steerable);
  set(b.promoteFull, steerable);
  set(b.pause, steerable && !swap.paused && swap.phase !== "finalizing");
  set(b.abort, steerable);
  const target = rollbackTarget(s);
  set(b.rollback, swap === null && target !== undefined);
  byId("rollback-help").textContent =
    swap === null && target ? `restores ${releaseOf(target)} (${target.name})` : "";
  set(b.retire, true);
}

async function loadReleases(view) {
  try {
    const { data } = await api(`${apiPath(view.service)}/releases`);
    view.releases = data ?? [];
  } catch (error) {
    byId("outcome").textContent = `Releases: ${errorText(error)}`;
    return;
  }
  const select = view.buttons?.select;
  if (!select) return;
  const previous = select.value;
  select.replaceChildren(
    ...view.releases.map((r) =>
      h(
        "option",
        { value: r.version },
        `${r.version}${r.live ? " (live)" : r.standby ? " (standby)" : ""}`,
      ),
    ),
  );
  const keep = view.releases.some((r) => r.version === previous);
  const fresh = view.releases.find((r) => !r.live);
  select.value = keep ? previous : ((fresh ?? view.releases[0])?.version ?? "");
  updateActions(view);
}

/** Sends an action; the outcome region says what happened (and keeps the focus if it had it). */
async function run(view, outcome, button, action, body) {
  button.setAttribute("aria-busy", "true");
  // the button is off while its request runs: the keyboard's focus waits on the outcome
  if (document.activeElement === button) outcome.focus();
  button.disabled = true;
  outcome.className = "";
  outcome.textContent = `${button.textContent}…`;
  try {
    const path = action === null ? "/api/retire" : `${apiPath(view.service)}/${action}`;
    const { status, data } = await api(path, body);
    if (action === null) outcome.replaceChildren(retireReport(data));
    else if (status === 202) {
      outcome.textContent = `${action}: accepted${data?.swapId ? ` (swap ${data.swapId})` : ""}; progress shows below.`;
    } else {
      outcome.textContent = `${action}: ${
        data?.appliedBy === "driver"
          ? "requested; the process driving the swap applies it at its next poll"
          : "done"
      }.`;
    }
    outcome.className = "ok";
  } catch (error) {
    outcome.textContent = `${action ?? "retire"} failed: ${errorText(error)}`;
    outcome.className = "error";
  } finally {
    button.removeAttribute("aria-busy");
    button.disabled = false;
    updateActions(view);
  }
}

function retireReport(r) {
  const list = (title, items) =>
    h(
      "div",
      {},
      h("strong", {}, title),
      items.length === 0 ? h("span", { class: "muted" }, " none") : h("ul", {}, items),
    );
  return h(
    "div",
    { id: "retire-report" },
    h("p", {}, r.dryRun ? "Retire dry run (nothing was deleted):" : "Retire:"),
    list(
      r.dryRun ? "Would delete" : "Deleted",
      r.deleted.map((n) => h("li", {}, n)),
    ),
    list(
      "Kept",
      r.kept.map((n) => h("li", {}, n)),
    ),
    list(
      "Left alone",
      r.skipped.map((s) => h("li", {}, `${s.name}: ${s.reason}`)),
    ),
  );
}

// ─── the confirmation dialog ────────────────────────────────────────────────────────────────

/**
 * Asks before a change: a modal <dialog> (the page behind it is inert), focus on Cancel, Tab and
 * Shift+Tab kept inside, Escape cancels, and the focus goes back to the button that opened it.
 */
function confirmAction({ title, body, ok, danger = false }) {
  const dialog = byId("confirm");
  const okButton = byId("confirm-ok");
  const cancel = byId("confirm-cancel");
  byId("confirm-title").textContent = title;
  byId("confirm-body").replaceChildren(h("p", {}, body));
  okButton.textContent = ok;
  okButton.className = danger ? "danger" : "primary";
  const opener = document.activeElement;
  dialog.returnValue = "";
  dialog.showModal();
  cancel.focus();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        resolve(dialog.returnValue === "ok");
        if (opener instanceof HTMLElement && opener.isConnected && !opener.disabled) opener.focus();
      },
      { once: true },
    );
  });
}

function trapFocus(dialog) {
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const focusable = [
      ...dialog.querySelectorAll("button, [href], input, select, textarea"),
    ].filter((el) => !el.disabled);
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
}

trapFocus(byId("confirm"));
boot();
