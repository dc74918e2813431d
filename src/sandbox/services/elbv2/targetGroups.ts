/**
 * Target groups, their attributes and targets. Health states move with health checks in the
 * runtime; here targets are registered (through world.ts) and reported as they stand.
 */
import type { QueryHandlers } from "../../context.js";
import { AwsError, validationError } from "../../protocol/errors.js";
import { list, str } from "../../protocol/query.js";
import { hex, type Target, type TargetGroup } from "../../state.js";
import { deregisterTargets, isTargetGroupInUse, registerTargets } from "../../world.js";
import { tooManyTags } from "./loadBalancers.js";
import {
  dropTags,
  getLoadBalancer,
  getTargetGroup,
  loadBalancersOfTargetGroup,
  setTags,
  targetGroupShape,
} from "./model.js";
import {
  applyTargetGroupAttributes,
  DEFAULT_HEALTH_CHECK,
  DEFAULT_TARGET_GROUP_ATTRIBUTES,
  intInRange,
  MAX_TAGS,
  paginate,
  parseHealthCheck,
  parseTags,
  rec,
  requireValue,
  validateTargetGroupName,
} from "./validate.js";

function targetGroupsNotFound(): AwsError {
  return new AwsError("TargetGroupNotFound", "One or more target groups not found");
}

function sameSettings(
  a: TargetGroup,
  b: Omit<TargetGroup, "arn" | "createdAt" | "targets" | "attributes">,
): boolean {
  return (
    a.protocol === b.protocol &&
    a.port === b.port &&
    a.vpcId === b.vpcId &&
    a.targetType === b.targetType &&
    JSON.stringify(a.healthCheck) === JSON.stringify(b.healthCheck)
  );
}

/** Targets named in a request: `Targets.member.N.Id` / `.Port`. */
function parseTargets(raw: unknown, required: boolean): Array<{ Id: string; Port?: number }> {
  const items = list(raw).map(rec);
  if (required && items.length === 0) {
    throw new AwsError(
      "ValidationError",
      "1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null",
    );
  }
  return items.map((item, i) => {
    const id = requireValue(str(item.Id), `targets.${i + 1}.member.id`);
    const port = intInRange(item.Port, `targets.${i + 1}.member.port`, 1, 65535);
    return port === undefined ? { Id: id } : { Id: id, Port: port };
  });
}

function healthDescription(tg: TargetGroup, target: Target) {
  const healthy = target.state === "healthy";
  return {
    Target: { Id: target.id, Port: target.port },
    HealthCheckPort:
      tg.healthCheck.port === "traffic-port" ? String(target.port) : tg.healthCheck.port,
    TargetHealth: {
      State: target.state,
      Reason: healthy ? undefined : target.reason,
      Description: healthy ? undefined : target.description,
    },
  };
}

export const targetGroupHandlers: QueryHandlers = {
  CreateTargetGroup(params, ctx) {
    const { state } = ctx;
    const name = validateTargetGroupName(str(params.Name));
    const targetType = str(params.TargetType) ?? "instance";
    if (targetType !== "instance") {
      throw validationError(
        `The sandbox models target groups of target type 'instance' only; got '${targetType}'`,
      );
    }
    const protocol = requireValue(str(params.Protocol), "protocol");
    if (protocol !== "HTTP") {
      throw validationError(
        `The sandbox models HTTP target groups only; protocol '${protocol}' is not supported`,
      );
    }
    const protocolVersion = str(params.ProtocolVersion) ?? "HTTP1";
    if (protocolVersion !== "HTTP1") {
      throw validationError(
        `The sandbox supports protocol version 'HTTP1' only; got '${protocolVersion}'`,
      );
    }
    const port = requireValue(intInRange(params.Port, "port", 1, 65535), "port");
    const vpcId = requireValue(str(params.VpcId), "vpcId");
    if (!state.vpcs.has(vpcId)) throw validationError(`The VPC ID '${vpcId}' is not found`);
    const healthCheck = parseHealthCheck(params, DEFAULT_HEALTH_CHECK);
    const tags = parseTags(params.Tags);
    if (tags.length > MAX_TAGS) throw tooManyTags();
    const settings = { name, protocol, port, vpcId, targetType, healthCheck } as const;
    const existing = [...state.targetGroups.values()].find((tg) => tg.name === name);
    if (existing) {
      if (!sameSettings(existing, settings)) {
        throw new AwsError(
          "DuplicateTargetGroupName",
          `A target group with the same name '${name}' exists, but with different settings`,
        );
      }
      return { TargetGroups: [targetGroupShape(state, existing)] };
    }
    const tg: TargetGroup = {
      ...settings,
      arn: state.arn("elasticloadbalancing", `targetgroup/${name}/${hex(8)}`),
      attributes: { ...DEFAULT_TARGET_GROUP_ATTRIBUTES },
      createdAt: new Date(ctx.clock.now()),
      targets: new Map(),
    };
    state.targetGroups.set(tg.arn, tg);
    setTags(state, tg.arn, tags);
    return { TargetGroups: [targetGroupShape(state, tg)] };
  },

  DescribeTargetGroups(params, ctx) {
    const { state } = ctx;
    const arns = list<string>(params.TargetGroupArns);
    const names = list<string>(params.Names);
    const lbArn = str(params.LoadBalancerArn);
    if ([arns.length > 0, names.length > 0, lbArn !== undefined].filter(Boolean).length > 1) {
      throw validationError(
        "Only one of load balancer ARN, target group ARNs or target group names can be specified",
      );
    }
    let groups = [...state.targetGroups.values()];
    if (arns.length > 0) {
      groups = arns.map((arn) => {
        const tg = state.targetGroups.get(arn);
        if (!tg) throw targetGroupsNotFound();
        return tg;
      });
    } else if (names.length > 0) {
      groups = names.map((n) => {
        const tg = groups.find((g) => g.name === n);
        if (!tg) throw targetGroupsNotFound();
        return tg;
      });
    } else if (lbArn !== undefined) {
      const lb = getLoadBalancer(state, lbArn);
      groups = groups.filter((tg) => loadBalancersOfTargetGroup(state, tg.arn).includes(lb.arn));
    }
    const { page, nextMarker } = paginate(groups, params.Marker, params.PageSize);
    return { TargetGroups: page.map((tg) => targetGroupShape(state, tg)), NextMarker: nextMarker };
  },

  ModifyTargetGroup(params, ctx) {
    const tg = getTargetGroup(ctx.state, str(params.TargetGroupArn));
    tg.healthCheck = parseHealthCheck(params, tg.healthCheck);
    return { TargetGroups: [targetGroupShape(ctx.state, tg)] };
  },

  DescribeTargetGroupAttributes(params, ctx) {
    const tg = getTargetGroup(ctx.state, str(params.TargetGroupArn));
    return { Attributes: attributeList(tg) };
  },

  ModifyTargetGroupAttributes(params, ctx) {
    const tg = getTargetGroup(ctx.state, str(params.TargetGroupArn));
    tg.attributes = applyTargetGroupAttributes(tg.attributes, params.Attributes);
    return { Attributes: attributeList(tg) };
  },

  DeleteTargetGroup(params, ctx) {
    const { state } = ctx;
    const arn = requireValue(str(params.TargetGroupArn), "targetGroupArn");
    const tg = state.targetGroups.get(arn);
    // Deleting a target group that is already gone succeeds, as in AWS.
    if (!tg) return {};
    if (isTargetGroupInUse(state, arn)) {
      throw new AwsError(
        "ResourceInUse",
        `Target group '${arn}' is currently in use by a listener or a rule`,
      );
    }
    state.targetGroups.delete(arn);
    dropTags(state, arn);
    return {};
  },

  RegisterTargets(params, ctx) {
    const { state } = ctx;
    const tg = getTargetGroup(state, str(params.TargetGroupArn));
    const targets = parseTargets(params.Targets, true);
    const outsideVpc = targets.filter((t) => {
      const instance = state.instances.get(t.Id);
      return instance !== undefined && instance.vpcId !== tg.vpcId;
    });
    if (outsideVpc.length > 0) {
      throw new AwsError(
        "InvalidTarget",
        `The following targets are not in the target group's VPC '${tg.vpcId}': ${outsideVpc.map((t) => `'${t.Id}'`).join(", ")}`,
      );
    }
    registerTargets(ctx, tg.arn, targets);
    return {};
  },

  DeregisterTargets(params, ctx) {
    const { state } = ctx;
    const tg = getTargetGroup(state, str(params.TargetGroupArn));
    const targets = parseTargets(params.Targets, true);
    const unknown = targets.filter((t) => !state.instances.has(t.Id));
    if (unknown.length > 0) {
      throw new AwsError(
        "InvalidTarget",
        `The following targets are not valid instances: ${unknown.map((t) => `'${t.Id}'`).join(", ")}`,
      );
    }
    deregisterTargets(ctx, tg.arn, targets);
    return {};
  },

  DescribeTargetHealth(params, ctx) {
    const { state } = ctx;
    const tg = getTargetGroup(state, str(params.TargetGroupArn));
    const wanted = parseTargets(params.Targets, false);
    if (wanted.length === 0) {
      return {
        TargetHealthDescriptions: [...tg.targets.values()].map((t) => healthDescription(tg, t)),
      };
    }
    const invalid = wanted.filter((t) => !state.instances.has(t.Id));
    if (invalid.length > 0) {
      throw new AwsError(
        "InvalidTarget",
        `The following targets are invalid: ${invalid.map((t) => `'${t.Id}'`).join(", ")}`,
      );
    }
    return {
      TargetHealthDescriptions: wanted.map((w) => {
        const target = tg.targets.get(w.Id);
        if (target && (w.Port === undefined || w.Port === target.port)) {
          return healthDescription(tg, target);
        }
        const port = w.Port ?? tg.port;
        return {
          Target: { Id: w.Id, Port: port },
          HealthCheckPort:
            tg.healthCheck.port === "traffic-port" ? String(port) : tg.healthCheck.port,
          TargetHealth: {
            State: "unused",
            Reason: "Target.NotRegistered",
            Description: "Target is not registered to the target group",
          },
        };
      }),
    };
  },
};

function attributeList(tg: TargetGroup): Array<{ Key: string; Value: string }> {
  return Object.entries(tg.attributes).map(([Key, Value]) => ({ Key, Value }));
}
