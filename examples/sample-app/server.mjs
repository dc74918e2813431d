// The switchyard sample app: a dependency-free HTTP service that reports its version.
//
//   GET /          {"version":"r1","instance":"i-…","variant":"healthy","pid":123}
//   GET /health    200 {"ok":true}   (500 forever in the never-healthy variant)
//   GET /slow?ms=N answers after N ms (at most 60000)
//   GET /stream?ms=N sends headers at once and the body after N ms
//   GET /status?code=N answers with status N (200–599; default 500)
//
// Settings come from the environment first, then from files next to this script:
//   version  SAMPLE_APP_VERSION  or VERSION    or the release manifest's version (default "dev")
//   variant  SAMPLE_APP_VARIANT  or VARIANT    healthy (default) | never-healthy | flaky
//   failRate SAMPLE_APP_FAIL_RATE or FAIL_RATE share of `/` requests answered 500 when flaky (default 0.5)
//   PORT (default 8080), HOST (default 127.0.0.1), SWITCHYARD_INSTANCE_ID
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const here = new URL(".", import.meta.url);

function setting(envName, fileName, fallback) {
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv.trim();
  try {
    const text = readFileSync(new URL(fileName, here), "utf8").trim();
    return text === "" ? fallback : text;
  } catch {
    return fallback;
  }
}

/** The version a `switchyard release push` manifest records, when the release carries one. */
function manifestVersion() {
  try {
    return JSON.parse(readFileSync(new URL("switchyard-release.json", here), "utf8")).version;
  } catch {
    return undefined;
  }
}

const version = setting("SAMPLE_APP_VERSION", "VERSION", manifestVersion() ?? "dev");
const variant = setting("SAMPLE_APP_VARIANT", "VARIANT", "healthy");
const failRate = Math.min(
  1,
  Math.max(0, Number(setting("SAMPLE_APP_FAIL_RATE", "FAIL_RATE", "0.5")) || 0),
);
const instance = process.env.SWITCHYARD_INSTANCE_ID ?? "local";
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? "127.0.0.1";

let served = 0;
/** Flaky answers fail exactly `failRate` of requests, spread evenly: no luck involved. */
function flakyFails() {
  const n = served++;
  return Math.floor((n + 1) * failRate) > Math.floor(n * failRate);
}

function json(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

function waitMs(url) {
  const ms = Number(url.searchParams.get("ms") ?? 1000);
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 60_000) : 1000;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://app");
  req.resume();
  if (req.method !== "GET" && req.method !== "HEAD")
    return json(res, 405, { error: "method not allowed" });
  switch (url.pathname) {
    case "/":
      if (variant === "flaky" && flakyFails())
        return json(res, 500, { error: "flaky", version, instance });
      return json(res, 200, { version, instance, variant, pid: process.pid });
    case "/health":
      if (variant === "never-healthy") return json(res, 500, { ok: false, version });
      return json(res, 200, { ok: true, version });
    case "/slow": {
      const timer = setTimeout(
        () => json(res, 200, { version, instance, slow: true }),
        waitMs(url),
      );
      res.on("close", () => clearTimeout(timer));
      return;
    }
    case "/status": {
      const code = Number(url.searchParams.get("code") ?? 500);
      const status = Number.isInteger(code) && code >= 200 && code <= 599 ? code : 500;
      return json(res, status, { version, instance, status });
    }
    case "/stream": {
      res.writeHead(200, { "content-type": "application/json" });
      res.flushHeaders();
      const timer = setTimeout(
        () => res.end(JSON.stringify({ version, instance, streamed: true })),
        waitMs(url),
      );
      res.on("close", () => clearTimeout(timer));
      return;
    }
    default:
      return json(res, 404, { error: "not found", path: url.pathname });
  }
});

server.listen(port, host, () => {
  console.log(`sample app ${version} (${variant}) listening on ${host}:${port}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
