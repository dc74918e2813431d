/**
 * Rolling back at 50 % under steady traffic at time scale 1, where the listener takes 5 real
 * seconds to apply a change, as on AWS: zero failed requests (see
 * test/helpers/abort-under-load.ts).
 */
import { abortUnderLoad } from "../helpers/abort-under-load.js";

abortUnderLoad(1);
