// The dashboard's static files (HTML, CSS, a plain ES module) are not TypeScript: tsc does not
// emit them, so the build copies them beside the compiled serve/dashboard.js, which serves them
// from there. Run from the package root after tsc (`npm run build` does).
import { cpSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const from = `${root}src/serve/dashboard`;
const to = `${root}dist/serve/dashboard`;
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
