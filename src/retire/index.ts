/** Retiring standby groups: the pure policy and its executor. */
export {
  decideRetire,
  type FleetGroup,
  groupWeight,
  liveGroup,
  type RetireAction,
  type RetireDecision,
  type RetirePolicy,
  type ServiceFleet,
} from "./policy.js";
export {
  applyRetirePlans,
  awsRetireEffects,
  type RetireDeps,
  type RetireEffects,
  type RetireOptions,
  type RetireReport,
  type RetireTarget,
  resolveRetireTargets,
  retire,
  type ServiceRetirePlan,
} from "./retire.js";
