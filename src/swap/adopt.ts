/**
 * adopt: take an Auto Scaling group another tool made (Terraform's, a console-made one) under
 * management as the service's live group, so the next deploy swaps away from it and keeps it as
 * blue, the rollback target.
 *
 * Every check is read-only and runs before any change: the group exists and is not switchyard's
 * yet, it has exactly one target group, the service's listener (or rule) forwards all of its
 * traffic to that target group (other groups in the forward action only at weight 0 and only the
 * service's own managed ones), and every instance is InService and every target healthy. Then,
 * under the service's swap lock (kind `adopt`), two writes: the `switchyard:*` tags on the target
 * group (AddTags), then on the Auto Scaling group (CreateOrUpdateTags), which is what makes it
 * managed. Nothing else changes: not the listener, not the capacity, not the launch template.
 *
 * The tags: role `live`, release `adopted:<group name>` (switchyard did not ship what it runs),
 * sequence 0 (so the next deploy's green is `<app>-<env>-v001`; a group already named
 * `<app>-<env>-vNNN` keeps NNN so the next name cannot collide with it), created-at now, swap-id
 * the adopt's id.
 */
import { randomBytes } from "node:crypto";
import {
  describeGroup,
  describeResourceTags,
  describeTraffic,
  findGroupsByTags,
  type ManagedGroup,
  type ObservedTraffic,
  setGroupTags,
  setTargetGroupTags,
  targetHealth,
} from "../aws/index.js";
import type { ServiceConfig } from "../core/config.js";
import { InputError, LockError } from "../core/errors.js";
import { parseServerGroupName } from "../core/names.js";
import { noTargets, type TargetHealthCounts } from "../core/swap-model.js";
import { groupTagRecord, TAG, TAG_PREFIX } from "../core/tags.js";
import {
  currentOwner,
  describeHolder,
  readRecord,
  type StateLocation,
  SwapLock,
  type SwapRecord,
} from "./record.js";
import type { SwapDeps } from "./swap.js";
import { trafficTarget } from "./traffic.js";

export interface AdoptOptions {
  /** the Auto Scaling group to adopt, by name */
  group: string;
  /** make every check and say what would change; change nothing */
  dryRun?: boolean;
}

export interface AdoptResult {
  service: string;
  /** the adopted Auto Scaling group (it keeps its name) */
  group: string;
  /** its one target group, the one the listener forwards to */
  targetGroupArn: string;
  /** whether tags were written (false on a dry run) */
  changed: boolean;
  dryRun: boolean;
  /** the release tag written: `adopted:<group>` */
  release: string;
  /** the sequence tag written: 0, or NNN for a group already named `<app>-<env>-vNNN` */
  sequence: number;
  /** the `switchyard:*` tags written (or that would be) on the group and its target group */
  tags: Record<string, string>;
  instances: { inService: number; healthy: number };
  /** what was (or would be) changed, in words */
  changes: string[];
}

export type AdoptDeps = Pick<SwapDeps, "clients" | "state">;

/** The release tag of an adopted group: switchyard did not ship what it runs. */
export function adoptedRelease(group: string): string {
  return `adopted:${group}`;
}

export async function adopt(
  deps: AdoptDeps,
  service: ServiceConfig,
  options: AdoptOptions,
): Promise<AdoptResult> {
  const { clients } = deps;
  const name = options.group?.trim() ?? "";
  if (name === "") {
    throw new InputError("INVALID_INPUT", "adopt needs the Auto Scaling group to adopt", {
      hint: `pass --group <name>, e.g. \`switchyard adopt ${service.name} --group my-asg\``,
    });
  }
  const now = new Date();
  const swapId = `ad-${randomBytes(4).toString("hex")}`;
  // one round trip: the lock (a dry run only reads it), the group, the listener, the service's groups
  const [locked, reads] = await Promise.allSettled([
    options.dryRun
      ? refuseIfHeld(deps.state, service, deps)
      : SwapLock.acquire(clients, deps.state, adoptRecord(service, swapId, now)),
    Promise.all([
      describeGroup(clients, name),
      describeTraffic(clients, trafficTarget(service)),
      findGroupsByTags(clients, { [TAG.app]: service.app, [TAG.env]: service.env }),
    ]),
  ]);
  if (locked.status === "rejected") throw locked.reason;
  const lock = locked.value;
  try {
    if (reads.status === "rejected") throw reads.reason;
    const [group, traffic, managed] = reads.value;
    const targetGroupArn = checkGroupAndListener(service, name, group, traffic, managed);
    const [health, tgTags] = await Promise.all([
      targetHealth(clients, targetGroupArn),
      describeResourceTags(clients, [targetGroupArn]),
    ]);
    checkTargetGroupTags(service, name, targetGroupArn, tgTags.get(targetGroupArn) ?? {});
    const instances = checkHealth(service, group!, targetGroupArn, health);

    const sequence = parseServerGroupName(name, [service.name])?.sequence ?? 0;
    const release = adoptedRelease(name);
    const tags = groupTagRecord({
      app: service.app,
      env: service.env,
      release,
      sequence,
      role: "live",
      createdAt: now.toISOString(),
      swapId,
    });
    const changes = [
      `tag target group ${targetGroupArn} with ${service.name}'s switchyard:* tags`,
      `tag Auto Scaling group ${name} as ${service.name}'s live group (release ${release}, sequence ${sequence})`,
    ];
    const result: AdoptResult = {
      service: service.name,
      group: name,
      targetGroupArn,
      changed: false,
      dryRun: options.dryRun === true,
      release,
      sequence,
      tags,
      instances,
      changes,
    };
    if (!lock) return result;
    lock.assertHeld();
    // the target group first: the group's tags are what make it managed, so they come last
    await setTargetGroupTags(clients, targetGroupArn, tags);
    await setGroupTags(clients, name, tags);
    await lock.close("completed");
    return { ...result, changed: true };
  } catch (error) {
    if (lock) await lock.close("cancelled").catch(() => lock.release());
    throw error;
  }
}

function adoptRecord(service: ServiceConfig, swapId: string, now: Date): SwapRecord {
  return {
    version: 1,
    kind: "adopt",
    swapId,
    service: service.name,
    owner: currentOwner(),
    startedAt: now.toISOString(),
    heartbeatAt: now.toISOString(),
    cursor: { phase: "restoring", stepIndex: -1, launchStartedAt: now.getTime() },
  };
}

/** A dry run takes no lock, but says so when another operation holds it (as deploy's preflight does). */
async function refuseIfHeld(
  state: StateLocation,
  service: ServiceConfig,
  deps: AdoptDeps,
): Promise<undefined> {
  const held = await readRecord(deps.clients, state, service.name);
  if (held) {
    throw new LockError(
      "LOCK_HELD",
      `${service.name} is locked by ${describeHolder(held.record)}`,
      {
        hint: "wait for it to finish, then adopt",
        details: { swapId: held.record.swapId, owner: held.record.owner, kind: held.record.kind },
      },
    );
  }
  return undefined;
}

function fail(service: ServiceConfig, message: string, hint?: string): InputError {
  return new InputError("PREFLIGHT_FAILED", `${service.name}: ${message}`, hint ? { hint } : {});
}

/** The group exists, is nobody's yet, has one target group, and the listener sends it all traffic. */
function checkGroupAndListener(
  service: ServiceConfig,
  name: string,
  group: ManagedGroup | undefined,
  traffic: ObservedTraffic | undefined,
  managed: ManagedGroup[],
): string {
  if (!group) {
    throw fail(service, `there is no Auto Scaling group named ${name}`, "check --group");
  }
  const ours = Object.keys(group.tags).filter((k) => k.startsWith(TAG_PREFIX));
  if (ours.length > 0) {
    const app = group.tags[TAG.app];
    const env = group.tags[TAG.env];
    const owner = app && env ? `${app}/${env}` : undefined;
    throw fail(
      service,
      owner === service.name
        ? `${name} is already managed by switchyard (${service.name}'s ${group.tags[TAG.role] ?? "?"} group): nothing to adopt`
        : `${name} already carries switchyard tags (${owner ? `it belongs to ${owner}` : ours.join(", ")}): adopt takes only a group switchyard does not manage`,
      owner === service.name
        ? `see \`switchyard status ${service.name}\``
        : "if those tags are left over, remove them by hand first",
    );
  }
  if (group.deleting) throw fail(service, `${name} is being deleted`);
  const tgs = group.targetGroupArns;
  if (tgs.length !== 1) {
    throw fail(
      service,
      tgs.length === 0
        ? `${name} has no target group attached`
        : `${name} has ${tgs.length} target groups attached (${tgs.join(", ")}); adopt takes a group with exactly one`,
      "attach to the group exactly the one target group the service's listener forwards to",
    );
  }
  const arn = tgs[0]!;
  const where = service.ruleArn ? `rule ${service.ruleArn}` : `listener ${service.listenerArn}`;
  if (!traffic) {
    throw fail(service, `${where} does not exist`, "check listenerArn (and ruleArn) in the config");
  }
  const point = `point the ${service.ruleArn ? "rule" : "listener"} at ${arn} first, or adopt the group it forwards to`;
  if (!traffic.forwarding) {
    throw fail(
      service,
      `${where} does not forward to any target group, so not to ${name}'s`,
      point,
    );
  }
  const mine = traffic.targetGroups.find((t) => t.targetGroupArn === arn);
  if (!mine) {
    throw fail(
      service,
      `${where} forwards to ${traffic.targetGroups.map((t) => t.targetGroupArn).join(", ")}, not to ${arn} (the target group of ${name})`,
      point,
    );
  }
  const others = traffic.targetGroups.filter((t) => t.targetGroupArn !== arn);
  const managedTgs = new Set(managed.flatMap((g) => g.targetGroupArns));
  if (managedTgs.has(arn)) {
    throw fail(
      service,
      `${arn} is also the target group of a group switchyard manages for ${service.name}`,
    );
  }
  const foreign = others.filter((t) => !managedTgs.has(t.targetGroupArn));
  if (foreign.length > 0) {
    throw fail(
      service,
      `${where} also forwards to target groups switchyard does not manage: ${foreign.map((t) => t.targetGroupArn).join(", ")}`,
      `take them out of the forward action (or adopt one group at a time, the one with all the traffic), then adopt ${name}`,
    );
  }
  const carrying = others.filter((t) => t.weight > 0);
  if (mine.weight <= 0 || carrying.length > 0) {
    throw fail(
      service,
      `${name} must carry all of the traffic to be adopted as live; ${where} forwards ${traffic.targetGroups.map((t) => `${t.targetGroupArn}=${t.weight}`).join(", ")}`,
      `put ${arn} at 100% first (\`switchyard status ${service.name}\` shows the managed groups)`,
    );
  }
  return arn;
}

/** The target group is nobody else's (left from an earlier adopt of this service is fine). */
function checkTargetGroupTags(
  service: ServiceConfig,
  name: string,
  arn: string,
  tags: Record<string, string>,
): void {
  const app = tags[TAG.app];
  const env = tags[TAG.env];
  if ((app !== undefined || env !== undefined) && `${app}/${env}` !== service.name) {
    throw fail(
      service,
      `${arn} (the target group of ${name}) is tagged for ${app}/${env}: it is another service's`,
      "if those tags are left over, remove them by hand first",
    );
  }
}

/** Every instance InService and Healthy, every target healthy; else the health summary. */
function checkHealth(
  service: ServiceConfig,
  group: ManagedGroup,
  arn: string,
  health: TargetHealthCounts | undefined,
): { inService: number; healthy: number } {
  const inService = group.instances.filter(
    (i) => i.lifecycle === "InService" && i.health === "Healthy",
  ).length;
  const targets = health ?? noTargets();
  const problems: string[] = [];
  if (group.instances.length === 0) problems.push("it has no instances");
  else if (inService < group.instances.length || inService < group.capacity.desired) {
    const others = group.instances
      .filter((i) => !(i.lifecycle === "InService" && i.health === "Healthy"))
      .map((i) => `${i.id} ${i.lifecycle}/${i.health}`);
    problems.push(
      `${inService} of ${group.instances.length} instances InService and Healthy (desired ${group.capacity.desired})${others.length ? `: ${others.join(", ")}` : ""}`,
    );
  }
  if (!health) problems.push(`target group ${arn} does not exist`);
  else if (
    targets.healthy === 0 ||
    targets.healthy < targets.total ||
    targets.healthy < inService
  ) {
    const bad = targets.unhealthyTargets.map((t) => `${t.id}: ${t.reason}`);
    problems.push(
      `targets: ${targets.healthy} healthy, ${targets.unhealthy} unhealthy, ${targets.initial} initial, ${targets.draining} draining, ${targets.unused} unused of ${targets.total}${bad.length ? ` (${bad.join("; ")})` : ""}`,
    );
  }
  if (problems.length > 0) {
    throw fail(
      service,
      `${group.name} is not healthy enough to adopt as live: ${problems.join("; ")}`,
      "wait until every instance is InService and every target healthy, then adopt",
    );
  }
  return { inService, healthy: targets.healthy };
}
