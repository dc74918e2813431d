/** The HTTP control plane: `createControlPlane` and the pieces of its authentication. */
export {
  allows,
  authenticate,
  CREDENTIAL_VARIABLES,
  type Credentials,
  constantTimeEqual,
  hashPassword,
  hashToken,
  LoginLimiter,
  loadCredentials,
  newToken,
  type Principal,
  parseAuthorization,
  parseCredentialLines,
  type RateLimitOptions,
  type Role,
  type TokenEntry,
  type UserEntry,
  verifyPassword,
} from "./auth.js";
export {
  type AccessLogEntry,
  type ControlPlane,
  type ControlPlaneOptions,
  createControlPlane,
  type DrivenOperation,
  isLoopback,
  type LaunchRequest,
  type OperationKind,
  type RouteHost,
} from "./control-plane.js";
export { DASHBOARD_DIR, type DashboardOptions, dashboardRoutes } from "./dashboard.js";
export {
  type Access,
  type Reply,
  type RequestContext,
  type Route,
  reply,
  statusOfError,
} from "./http.js";
export {
  loadSlackSettings,
  parseSlackCommand,
  SLACK_PATHS,
  SLACK_VARIABLES,
  type SlackCommand,
  type SlackOptions,
  type SlackSettings,
  slackRoutes,
  slackSignature,
  verifySlackSignature,
} from "./slack.js";
