/**
 * Orphaned parts: a target group or launch template of a server group whose Auto Scaling group
 * is gone (a retire or rollback that deleted the group but not all of its parts). Retire finds
 * groups by their Auto Scaling group, so without this sweep such parts would stay forever.
 *
 * A part is an orphan only when all of these hold:
 * - its name is exactly what names.ts generates for this service and some sequence
 *   (`targetGroupName`, plain or hashed; `launchTemplateName`), never a prefix match;
 * - it carries this service's `switchyard:app` and `switchyard:env` tags (a same-named
 *   resource someone else made is never touched);
 * - no Auto Scaling group of that sequence exists (tagged or not, deleting or not);
 * - for a target group: the service's listener's default action and none of its rules
 *   reference it.
 */

import type { CallOptions } from "../aws/call.js";
import {
  type Clients,
  describeGroup,
  describeResourceTags,
  describeTraffic,
  findGroupsByTags,
  type ListenerAction,
  listLaunchTemplates,
  listRules,
  listTargetGroups,
} from "../aws/index.js";
import type { ServiceConfig } from "../core/config.js";
import {
  formatSequence,
  launchTemplateName,
  parseServerGroupName,
  serverGroupName,
  serviceStem,
  targetGroupName,
} from "../core/names.js";
import { TAG } from "../core/tags.js";

export type OrphanKind = "target-group" | "launch-template";

/** An orphaned part as reported. */
export interface Orphan {
  name: string;
  kind: OrphanKind;
}

/** An orphaned part as found: `id` is the target group's ARN or the launch template's id. */
export interface OrphanPart extends Orphan {
  id: string;
  sequence: number;
}

const SEQUENCE_SUFFIX = /-v(\d{3,})$/;

/** The sequence whose `targetGroupName` is exactly `name` (plain or hashed form), if any. */
export function targetGroupSequence(service: string, name: string): number | undefined {
  const plain = parseServerGroupName(name, [service]);
  if (plain && targetGroupName(service, plain.sequence) === name) return plain.sequence;
  // the hashed form: `<prefix>--<hash>-v<NNN>`
  const digits = SEQUENCE_SUFFIX.exec(name)?.[1];
  if (digits === undefined) return undefined;
  const sequence = Number(digits);
  if (!Number.isSafeInteger(sequence) || sequence < 1) return undefined;
  if (formatSequence(sequence) !== `v${digits}`) return undefined;
  return targetGroupName(service, sequence) === name ? sequence : undefined;
}

/** The sequence whose `launchTemplateName` is exactly `name`, if any. */
export function launchTemplateSequence(service: string, name: string): number | undefined {
  const prefix = "switchyard-";
  if (!name.startsWith(prefix)) return undefined;
  const ref = parseServerGroupName(name.slice(prefix.length), [service]);
  return ref && launchTemplateName(service, ref.sequence) === name ? ref.sequence : undefined;
}

/** Every target group ARN the actions forward to. */
export function referencedTargetGroups(actions: ListenerAction[]): Set<string> {
  const arns = new Set<string>();
  for (const a of actions) {
    if (a.TargetGroupArn) arns.add(a.TargetGroupArn);
    for (const t of a.ForwardConfig?.TargetGroups ?? []) {
      if (t.TargetGroupArn) arns.add(t.TargetGroupArn);
    }
  }
  return arns;
}

function ownedBy(service: ServiceConfig, tags: Record<string, string> | undefined): boolean {
  return tags?.[TAG.app] === service.app && tags?.[TAG.env] === service.env;
}

/** The service's orphaned parts, target groups then launch templates, by sequence. Reads only. */
export async function findOrphans(
  clients: Clients,
  service: ServiceConfig,
  options: CallOptions = {},
): Promise<OrphanPart[]> {
  const name = service.name;
  const [targetGroups, templates, groups] = await Promise.all([
    listTargetGroups(clients, options),
    listLaunchTemplates(clients, `switchyard-${serviceStem(name)}-v*`, options),
    findGroupsByTags(clients, { [TAG.app]: service.app, [TAG.env]: service.env }, options),
  ]);
  const tagged = new Set(groups.map((g) => g.name));
  let tgs = targetGroups.flatMap((tg): OrphanPart[] => {
    const sequence = targetGroupSequence(name, tg.name);
    if (sequence === undefined || tagged.has(serverGroupName(name, sequence))) return [];
    return [{ name: tg.name, kind: "target-group", id: tg.arn, sequence }];
  });
  let lts = templates.flatMap((lt): OrphanPart[] => {
    const sequence = launchTemplateSequence(name, lt.name);
    if (sequence === undefined || tagged.has(serverGroupName(name, sequence))) return [];
    if (!ownedBy(service, lt.tags)) return [];
    return [{ name: lt.name, kind: "launch-template", id: lt.id, sequence }];
  });
  if (tgs.length === 0 && lts.length === 0) return [];

  // an Auto Scaling group of that sequence without the service's tags still owns its parts
  const sequences = [...new Set([...tgs, ...lts].map((p) => p.sequence))];
  const present = new Set<number>();
  for (const sequence of sequences) {
    if (await describeGroup(clients, serverGroupName(name, sequence), options)) {
      present.add(sequence);
    }
  }
  tgs = tgs.filter((p) => !present.has(p.sequence));
  lts = lts.filter((p) => !present.has(p.sequence));

  if (tgs.length > 0) {
    const traffic = await describeTraffic(clients, { listenerArn: service.listenerArn }, options);
    if (!traffic) {
      // without the listener nothing says what is in use: leave the target groups alone
      tgs = [];
    } else {
      const rules = await listRules(clients, service.listenerArn, options);
      const inUse = referencedTargetGroups([
        ...traffic.actions,
        ...rules.flatMap((r) => r.Actions ?? []),
      ]);
      tgs = tgs.filter((p) => !inUse.has(p.id));
    }
  }
  if (tgs.length > 0) {
    const tags = await describeResourceTags(
      clients,
      tgs.map((p) => p.id),
      options,
    );
    tgs = tgs.filter((p) => ownedBy(service, tags.get(p.id)));
  }
  const bySequence = (a: OrphanPart, b: OrphanPart) => a.sequence - b.sequence;
  return [...tgs.sort(bySequence), ...lts.sort(bySequence)];
}
