/**
 * One way to fail: every error switchyard throws is a `SwitchyardError` with a stable `code`,
 * a `source` saying whose fault it is, the original `cause`, and a `hint` saying what to do.
 * Every code is listed in docs/errors.md with its exit code.
 */

/** Exit codes of the CLI (see the contract): what a script can rely on. */
export const ExitCode = {
  /** done */
  ok: 0,
  /** failed; the world may need `resume` */
  failed: 1,
  /** invalid input or config; nothing was changed */
  invalid: 2,
  /** another swap holds the lock for this service */
  locked: 3,
  /** the swap failed a gate or health check and was rolled back; blue is live */
  rolledBack: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Whose fault an error is: the user's input, AWS (or the network), or a bug in switchyard. */
export type ErrorSource = "user" | "aws" | "internal";

interface CodeInfo {
  readonly source: ErrorSource;
  readonly exitCode: ExitCode;
  readonly summary: string;
}

/** Every stable error code with its default source, its exit code and a one-line summary. */
export const ERROR_CODES = {
  CONFIG_NOT_FOUND: {
    source: "user",
    exitCode: ExitCode.invalid,
    summary: "no config file was found, or the named one does not exist",
  },
  CONFIG_INVALID: {
    source: "user",
    exitCode: ExitCode.invalid,
    summary: "the config file could not be read or breaks the schema",
  },
  INVALID_INPUT: {
    source: "user",
    exitCode: ExitCode.invalid,
    summary: "a flag, argument or library option is malformed",
  },
  UNKNOWN_SERVICE: {
    source: "user",
    exitCode: ExitCode.invalid,
    summary: "the service is not in the config file",
  },
  RELEASE_NOT_FOUND: {
    source: "user",
    exitCode: ExitCode.invalid,
    summary: "the release URL or version does not exist in S3",
  },
  RELEASE_EXISTS: {
    source: "user",
    exitCode: ExitCode.invalid,
    summary: "a release with this version was already pushed; releases are immutable",
  },
  PREFLIGHT_FAILED: {
    source: "user",
    exitCode: ExitCode.invalid,
    summary: "a check before the first change failed (listener, subnets, image, permissions…)",
  },
  LOCK_HELD: {
    source: "user",
    exitCode: ExitCode.locked,
    summary: "another swap holds the lock for this service",
  },
  LOCK_LOST: {
    source: "user",
    exitCode: ExitCode.failed,
    summary: "the swap record changed under a running swap (someone broke the lock)",
  },
  LOCK_NOT_STALE: {
    source: "user",
    exitCode: ExitCode.locked,
    summary: "`unlock --force` refused: the lock's heartbeat is recent, its swap is alive",
  },
  NO_STANDBY: {
    source: "user",
    exitCode: ExitCode.invalid,
    summary: "rollback has nothing to go back to: no standby group is at capacity",
  },
  GREEN_UNHEALTHY: {
    source: "user",
    exitCode: ExitCode.rolledBack,
    summary: "green did not become healthy within `healthyTimeout`; the swap was rolled back",
  },
  LAUNCH_FAILED: {
    source: "aws",
    exitCode: ExitCode.rolledBack,
    summary: "green's instances could not be launched; the swap was undone",
  },
  GATE_FAILED: {
    source: "user",
    exitCode: ExitCode.rolledBack,
    summary: "a gate failed during a bake; the swap was rolled back",
  },
  ALARM_FIRED: {
    source: "user",
    exitCode: ExitCode.rolledBack,
    summary: "a CloudWatch alarm was in ALARM during a bake; the swap was rolled back",
  },
  ANALYSIS_FAILED: {
    source: "user",
    exitCode: ExitCode.rolledBack,
    summary:
      "the judge found green worse than blue (5xx rate, latency) or had too little data; the swap was rolled back",
  },
  ROLLED_BACK: {
    source: "user",
    exitCode: ExitCode.rolledBack,
    summary: "the swap was rolled back; blue is live",
  },
  ABORTED: {
    source: "user",
    exitCode: ExitCode.failed,
    summary: "the operation was cancelled (AbortSignal, Ctrl-C) before it finished",
  },
  AWS_ERROR: {
    source: "aws",
    exitCode: ExitCode.failed,
    summary: "an AWS call failed after retries",
  },
  NO_CREDENTIALS: {
    source: "user",
    exitCode: ExitCode.invalid,
    summary: "no AWS credentials could be loaded (no profile, no keys, an expired SSO session)",
  },
  BAD_CREDENTIALS: {
    source: "user",
    exitCode: ExitCode.invalid,
    summary: "AWS refused the credentials: unknown key, wrong secret, expired token",
  },
  ENDPOINT_UNREACHABLE: {
    source: "aws",
    exitCode: ExitCode.invalid,
    summary:
      "the AWS endpoint cannot be reached (connection refused, unknown host, no route): is the sandbox running?",
  },
  TIMEOUT: {
    source: "aws",
    exitCode: ExitCode.failed,
    summary: "a wait for AWS to reach a state ran past its deadline",
  },
  SWAP_INCOMPLETE: {
    source: "internal",
    exitCode: ExitCode.failed,
    summary: "the swap stopped part-way; `resume` finishes or undoes it",
  },
  DRIFT: {
    source: "user",
    exitCode: ExitCode.failed,
    summary:
      "someone else changed the listener or green mid-swap; the swap stopped and left it as found (`promote` adopts it, `abort` restores blue)",
  },
  NOTHING_TO_ROLL_BACK: {
    source: "user",
    exitCode: ExitCode.invalid,
    summary: "the rollback would not change the release that is live",
  },
  NO_SWAP: {
    source: "user",
    exitCode: ExitCode.invalid,
    summary: "promote, pause or abort found no swap in flight for the service",
  },
  PLAN_CHANGED: {
    source: "user",
    exitCode: ExitCode.invalid,
    summary:
      "a confirmed plan no longer matches the world (the live group, blue or the release changed)",
  },
  NOTHING_TO_RESUME: {
    source: "user",
    exitCode: ExitCode.invalid,
    summary: "`resume` found no swap record for the service",
  },
  INTERNAL: {
    source: "internal",
    exitCode: ExitCode.failed,
    summary: "a bug in switchyard",
  },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes in the order docs/errors.md lists them. */
export const errorCodes: readonly ErrorCode[] = Object.keys(ERROR_CODES) as ErrorCode[];

const BRAND: unique symbol = Symbol.for("switchyard.error");

export interface SwitchyardErrorOptions {
  /** Whose fault it is; defaults to the code's source in `ERROR_CODES`. */
  source?: ErrorSource;
  /** The underlying error (an AWS SDK error, a zod error, a file-system error…). */
  cause?: unknown;
  /** What to do about it, in one sentence. */
  hint?: string;
  /** Machine-readable facts (the service, the path, the size…). */
  details?: Record<string, unknown>;
}

/** The JSON form of an error, as the CLI prints it in `--json` mode. */
export interface SwitchyardErrorJson {
  code: ErrorCode;
  message: string;
  source: ErrorSource;
  hint?: string;
  details?: Record<string, unknown>;
}

/** The base class of every error switchyard throws. */
export class SwitchyardError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly source: ErrorSource;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: C, message: string, options: SwitchyardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SwitchyardError";
    this.code = code;
    this.source = options.source ?? ERROR_CODES[code].source;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  /** The exit code the CLI uses for this error. */
  get exitCode(): ExitCode {
    return ERROR_CODES[this.code].exitCode;
  }

  toJSON(): SwitchyardErrorJson {
    const json: SwitchyardErrorJson = {
      code: this.code,
      message: this.message,
      source: this.source,
    };
    if (this.hint !== undefined) json.hint = this.hint;
    if (Object.keys(this.details).length > 0) json.details = { ...this.details };
    return json;
  }
}
// The brand lives on the prototype so it survives structured logging and two package copies.
Object.defineProperty(SwitchyardError.prototype, BRAND, { value: true, enumerable: false });

/** Config file problems: CONFIG_NOT_FOUND, CONFIG_INVALID. */
export class ConfigError extends SwitchyardError<"CONFIG_NOT_FOUND" | "CONFIG_INVALID"> {
  constructor(
    code: "CONFIG_NOT_FOUND" | "CONFIG_INVALID",
    message: string,
    options?: SwitchyardErrorOptions,
  ) {
    super(code, message, options);
    this.name = "ConfigError";
  }
}

export type InputErrorCode =
  | "INVALID_INPUT"
  | "UNKNOWN_SERVICE"
  | "RELEASE_NOT_FOUND"
  | "RELEASE_EXISTS"
  | "PREFLIGHT_FAILED"
  | "PLAN_CHANGED"
  | "NOTHING_TO_ROLL_BACK";

/** Bad flags, arguments, releases or preconditions, found before anything changed. */
export class InputError extends SwitchyardError<InputErrorCode> {
  constructor(code: InputErrorCode, message: string, options?: SwitchyardErrorOptions) {
    super(code, message, options);
    this.name = "InputError";
  }
}

export type LockErrorCode = "LOCK_HELD" | "LOCK_LOST" | "LOCK_NOT_STALE";

/** The swap record (lock) in S3 is held by someone else or was taken away. */
export class LockError extends SwitchyardError<LockErrorCode> {
  constructor(code: LockErrorCode, message: string, options?: SwitchyardErrorOptions) {
    super(code, message, options);
    this.name = "LockError";
  }
}

export type SwapErrorCode =
  | "NO_STANDBY"
  | "GREEN_UNHEALTHY"
  | "LAUNCH_FAILED"
  | "GATE_FAILED"
  | "ALARM_FIRED"
  | "ANALYSIS_FAILED"
  | "ROLLED_BACK"
  | "ABORTED"
  | "SWAP_INCOMPLETE"
  | "DRIFT"
  | "NO_SWAP"
  | "NOTHING_TO_RESUME";

/** A swap, rollback or resume that did not reach its goal. */
export class SwapError extends SwitchyardError<SwapErrorCode> {
  constructor(code: SwapErrorCode, message: string, options?: SwitchyardErrorOptions) {
    super(code, message, options);
    this.name = "SwapError";
  }
}

/**
 * The code a rolled-back swap ends with: a gate, green's health or its launch keep their own;
 * any other reason (an abort, a cancel, AWS errors) is ROLLED_BACK. All exit 4: blue is live.
 */
export function rolledBackCode(
  failure: string | undefined,
):
  | "GATE_FAILED"
  | "ALARM_FIRED"
  | "ANALYSIS_FAILED"
  | "GREEN_UNHEALTHY"
  | "LAUNCH_FAILED"
  | "ROLLED_BACK" {
  return failure === "GATE_FAILED" ||
    failure === "ALARM_FIRED" ||
    failure === "ANALYSIS_FAILED" ||
    failure === "GREEN_UNHEALTHY" ||
    failure === "LAUNCH_FAILED"
    ? failure
    : "ROLLED_BACK";
}

export type AwsErrorCode =
  | "AWS_ERROR"
  | "TIMEOUT"
  | "NO_CREDENTIALS"
  | "BAD_CREDENTIALS"
  | "ENDPOINT_UNREACHABLE";

/** An AWS call or wait that failed; the AWS (or network, or credentials) error is the `cause`. */
export class AwsError extends SwitchyardError<AwsErrorCode> {
  constructor(code: AwsErrorCode, message: string, options?: SwitchyardErrorOptions) {
    super(code, message, options);
    this.name = "AwsError";
  }
}

/** A bug in switchyard. */
export class InternalError extends SwitchyardError<"INTERNAL"> {
  constructor(message: string, options?: SwitchyardErrorOptions) {
    super("INTERNAL", message, options);
    this.name = "InternalError";
  }
}

/**
 * True when `x` is a switchyard error, even one thrown by another copy of the package
 * (it checks a `Symbol.for` brand, not `instanceof`). With codes, also checks the code.
 */
export function isSwitchyardError<C extends ErrorCode = ErrorCode>(
  x: unknown,
  ...codes: C[]
): x is SwitchyardError<C> {
  if (typeof x !== "object" || x === null) return false;
  if ((x as { [BRAND]?: unknown })[BRAND] !== true) return false;
  if (codes.length === 0) return true;
  return (codes as string[]).includes((x as { code: string }).code);
}

/** The CLI exit code for any thrown value: 0 for no error, 1 for anything unknown. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error === undefined || error === null) return ExitCode.ok;
  if (isSwitchyardError(error)) {
    const info: CodeInfo | undefined = (ERROR_CODES as Record<string, CodeInfo>)[error.code];
    return info?.exitCode ?? ExitCode.failed;
  }
  return ExitCode.failed;
}

/** Wraps anything thrown that is not a switchyard error as INTERNAL, keeping it as the cause. */
export function toSwitchyardError(error: unknown): SwitchyardError {
  if (isSwitchyardError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(`unexpected error: ${message}`, {
    cause: error,
    hint: "this is a bug in switchyard; please report it with the output of --verbose",
  });
}
