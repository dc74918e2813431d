/**
 * switchyard: blue/green swaps of EC2 Auto Scaling groups behind an Application Load Balancer.
 * Only what is exported here is the library's contract.
 */
export { type ClientOptions, type Clients, createClients } from "./aws/clients.js";
export {
  defineConfig,
  type GithubNotifierConfig,
  loadConfig,
  loadConfigFromEnvironment,
  NOTIFICATION_TYPES,
  type NotifierConfig,
  type ResolvedConfig,
  type ServiceConfig,
  type SlackNotifierConfig,
  type SwitchyardConfig,
  type WebhookNotifierConfig,
} from "./core/config.js";
export type { Action, Decision } from "./core/decide.js";
export { nextAction } from "./core/decide.js";
export { formatDuration, parseDuration } from "./core/duration.js";
export {
  ERROR_CODES,
  type ErrorCode,
  ExitCode,
  exitCodeOf,
  isSwitchyardError,
  SwitchyardError,
} from "./core/errors.js";
export type { EventSink, EventType, SwitchyardEvent } from "./core/events.js";
export {
  type IamActionInfo,
  type IamPolicyDocument,
  type IamStatement,
  iamPolicy,
  iamPolicyActions,
  instanceRolePolicy,
} from "./core/iam-policy.js";
export type {
  ControlRequests,
  Drift,
  RollbackPlan,
  Snapshot,
  SwapCursor,
  SwapPlan,
  Weighted,
} from "./core/swap-model.js";
export {
  DEFAULT_DELIVERY_POLICY,
  DeliveryError,
  type DeliveryPolicy,
  deliver,
} from "./notify/delivery.js";
export { githubNotifier } from "./notify/github.js";
export type {
  Notification,
  NotificationType,
  OperationFailed,
  OperationKind,
  SwapFacts,
} from "./notify/notification.js";
export type { Notifier, NotifierContext } from "./notify/notifier.js";
export { type SlackMessage, slackMessage, slackNotifier } from "./notify/slack.js";
export { signWebhook, webhookBody, webhookNotifier } from "./notify/webhook.js";
export {
  type ListReleasesOptions,
  listReleases,
  MANIFEST_NAME,
  type PackedRelease,
  type PackOptions,
  type PayloadFile,
  type PushOptions,
  type PushResult,
  packRelease,
  pushRelease,
  type ReleaseInfo,
  type ReleaseManifest,
} from "./release/index.js";
export {
  decideRetire,
  type FleetGroup,
  type RetireAction,
  type RetireDecision,
  type RetireOptions,
  type RetirePolicy,
  type RetireReport,
  type ServiceFleet,
} from "./retire/index.js";
export {
  type Access,
  type AccessLogEntry,
  type ControlPlane,
  type ControlPlaneOptions,
  type Credentials,
  createControlPlane,
  type DashboardOptions,
  type DrivenOperation,
  dashboardRoutes,
  hashPassword,
  hashToken,
  loadCredentials,
  loadSlackSettings,
  newToken,
  type Principal,
  type Reply,
  type RequestContext,
  type Role,
  type Route,
  type RouteHost,
  type SlackOptions,
  type SlackSettings,
  slackRoutes,
  verifyPassword,
  verifySlackSignature,
} from "./serve/index.js";
export type { AdoptOptions, AdoptResult } from "./swap/adopt.js";
export type {
  ControlOptions,
  ControlOutcome,
  PassResult,
  ResumeOptions,
  UnlockResult,
} from "./swap/control.js";
export type { CycleOptions, CycleResult } from "./swap/cycle.js";
export type { DeployOptions } from "./swap/deploy.js";
export type { RollbackOptions, RollbackPreview, RollbackResult } from "./swap/rollback.js";
export type { GroupStatus, ServiceStatus, SwapStatus } from "./swap/status.js";
export type { Gate, GateContext, SwapResult } from "./swap/swap.js";
export type {
  SwapEnding,
  SwapEndOutcome,
  WaitForSwapOptions,
  WatchOptions,
} from "./swap/watch.js";
export {
  type CallOptions,
  createSwitchyard,
  type Operation,
  type ReconcileOptions,
  type ReconcileReport,
  type Switchyard,
  type SwitchyardOptions,
} from "./switchyard.js";
