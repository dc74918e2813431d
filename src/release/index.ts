/**
 * Releases: packing (a directory or a ready .tar.gz), upload to the service's releases location,
 * listing with live/standby marks. `deploy --release r42` resolves bare versions with
 * core/release-url's `resolveRelease`, re-exported here.
 */
export { resolveRelease } from "../core/release-url.js";
export { type ListReleasesOptions, listReleases, newestFirst, type ReleaseInfo } from "./list.js";
export {
  compareVersions,
  createManifest,
  MANIFEST_NAME,
  type PayloadFile,
  parseManifest,
  payloadDigest,
  procfileWebCommand,
  type ReleaseManifest,
} from "./manifest.js";
export { type PackedRelease, type PackOptions, packRelease } from "./pack.js";
export { type PushOptions, type PushResult, pushRelease, RELEASE_METADATA } from "./push.js";
