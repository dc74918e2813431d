/**
 * The web dashboard: one HTML page (the services at `/`, one service at `/services/:app/:env`)
 * with a stylesheet and a vanilla ES module script that read the same JSON API and event stream
 * like every other client. The files live in `dashboard/` beside this module (the build copies them next to
 * the compiled one); they are read once, on the first request. Every route needs the viewer role,
 * so a browser asks for the user's Basic credentials on the first page and then sends them with
 * every same-origin request, the event stream included; the page shows actions to operators only.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { errorReply, type RequestContext, type Route } from "./http.js";

/** Where the dashboard's files are: `dashboard/` beside this module (in src/ or in dist/). */
export const DASHBOARD_DIR = new URL("./dashboard/", import.meta.url);

const ASSETS: Record<string, string> = {
  "dashboard.js": "text/javascript; charset=utf-8",
  "dashboard.css": "text/css; charset=utf-8",
};

/** The placeholder in index.html for the assets' version (their URLs' `?v=`). */
const VERSION_MARK = /__VERSION__/g;

/**
 * Only this origin's script and styles, no inline code, no frames, API calls to this origin only:
 * text from the API is put in the page as text, and this keeps a slip from becoming a script.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

interface Files {
  page: Buffer;
  version: string;
  assets: Map<string, Asset>;
}

export interface DashboardOptions {
  /** the directory holding index.html, dashboard.js and dashboard.css (default `DASHBOARD_DIR`) */
  dir?: URL;
}

/** The dashboard's routes, for `createControlPlane({ routes })`. */
export function dashboardRoutes(options: DashboardOptions = {}): Route[] {
  const dir = options.dir ?? DASHBOARD_DIR;
  let files: Promise<Files> | undefined;
  const load = () => {
    files ??= readFiles(dir).catch((error: unknown) => {
      files = undefined;
      throw error;
    });
    return files;
  };
  const page = async ({ res }: RequestContext) => {
    const { page: body } = await load();
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "content-length": body.length,
      // the page is a shell without data; it is always fetched again, so an upgrade shows at once
      "cache-control": "no-store",
      "content-security-policy": CONTENT_SECURITY_POLICY,
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
    });
    res.end(body);
    return undefined;
  };
  return [
    { method: "GET", path: "/", access: "viewer", handler: page },
    { method: "GET", path: "/services/:app/:env", access: "viewer", handler: page },
    {
      method: "GET",
      path: "/dashboard/:file",
      access: "viewer",
      handler: async ({ params, query, req, res }) => {
        const { assets, version } = await load();
        const asset = assets.get(params.file ?? "");
        if (!asset) return errorReply(404, "NOT_FOUND", "no such file");
        sendAsset(res, asset, {
          // the page asks for `?v=<version>`: that URL's content never changes
          immutable: query.get("v") === version,
          ifNoneMatch: req.headers["if-none-match"],
        });
        return undefined;
      },
    },
  ];
}

async function readFiles(dir: URL): Promise<Files> {
  const assets = new Map<string, Asset>();
  const digest = createHash("sha256");
  for (const [name, type] of Object.entries(ASSETS)) {
    const body = await readFile(new URL(name, dir));
    const hash = createHash("sha256").update(body).digest("hex").slice(0, 16);
    digest.update(hash);
    assets.set(name, { body, type, etag: `"${hash}"` });
  }
  const version = digest.digest("hex").slice(0, 12);
  const template = await readFile(new URL("index.html", dir), "utf8");
  return { page: Buffer.from(template.replace(VERSION_MARK, version)), version, assets };
}

function sendAsset(
  res: ServerResponse,
  asset: Asset,
  how: { immutable: boolean; ifNoneMatch: string | undefined },
): void {
  const headers = {
    etag: asset.etag,
    // behind authentication: no shared cache keeps it
    "cache-control": how.immutable ? "private, max-age=31536000, immutable" : "private, no-cache",
    "x-content-type-options": "nosniff",
  };
  const matches = how.ifNoneMatch?.split(",").some((tag) => tag.trim() === asset.etag) ?? false;
  if (matches) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, {
    ...headers,
    "content-type": asset.type,
    "content-length": asset.body.length,
  });
  res.end(asset.body);
}
