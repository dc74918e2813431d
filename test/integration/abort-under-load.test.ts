/**
 * Rolling back at 50 % under steady traffic, at the sandbox's default time scale: zero failed
 * requests (see test/helpers/abort-under-load.ts; time scale 1 is its own file).
 */
import { abortUnderLoad } from "../helpers/abort-under-load.js";

abortUnderLoad(0.05);
