/** CreateLoadBalancer, DescribeLoadBalancers, DeleteLoadBalancer. */
import { randomInt } from "node:crypto";
import type { QueryHandlers } from "../../context.js";
import { AwsError, validationError } from "../../protocol/errors.js";
import { list, str } from "../../protocol/query.js";
import { hex, type LoadBalancer } from "../../state.js";
import { hasDeletionProtection } from "./attributes.js";
import {
  actionsOfListener,
  dropTags,
  getLoadBalancer,
  listenersOf,
  loadBalancerNotFound,
  loadBalancerShape,
  rulesOf,
  setTags,
  syncTargetGroupUsage,
  targetGroupArnsOf,
} from "./model.js";
import { MAX_TAGS, paginate, parseTags, rec, validateLoadBalancerName } from "./validate.js";

export const loadBalancerHandlers: QueryHandlers = {
  CreateLoadBalancer(params, ctx) {
    const { state } = ctx;
    const name = validateLoadBalancerName(str(params.Name));
    const type = str(params.Type) ?? "application";
    if (type !== "application") {
      throw validationError(
        `The sandbox models Application Load Balancers only; load balancer type '${type}' is not supported`,
      );
    }
    const scheme = str(params.Scheme) ?? "internet-facing";
    if (scheme !== "internet-facing" && scheme !== "internal") {
      throw new AwsError("InvalidScheme", `Scheme '${scheme}' is not valid`);
    }
    const ipAddressType = str(params.IpAddressType) ?? "ipv4";
    if (ipAddressType !== "ipv4") {
      throw validationError(`The sandbox supports the 'ipv4' IP address type only`);
    }
    const subnetIds = [
      ...list<string>(params.Subnets),
      ...list(params.SubnetMappings)
        .map((m) => str(rec(m).SubnetId))
        .filter((s): s is string => s !== undefined),
    ];
    const subnets = [...new Set(subnetIds)].map((id) => {
      const subnet = state.subnets.get(id);
      if (!subnet) throw new AwsError("SubnetNotFound", `The subnet ID '${id}' does not exist`);
      return subnet;
    });
    const vpcIds = new Set(subnets.map((s) => s.vpcId));
    if (vpcIds.size > 1) {
      throw new AwsError("InvalidSubnet", "The subnets must all belong to the same VPC");
    }
    const zones = new Set(subnets.map((s) => s.availabilityZone));
    if (zones.size !== subnets.length) {
      throw new AwsError(
        "InvalidConfigurationRequest",
        "A load balancer cannot be attached to multiple subnets in the same Availability Zone",
      );
    }
    if (zones.size < 2) {
      throw validationError(
        "At least two subnets in two different Availability Zones must be specified",
      );
    }
    const vpcId = subnets[0]!.vpcId;
    let securityGroups = list<string>(params.SecurityGroups);
    for (const id of securityGroups) {
      const sg = state.securityGroups.get(id);
      if (!sg || sg.vpcId !== vpcId) {
        throw new AwsError("InvalidSecurityGroup", `Security group '${id}' does not exist`);
      }
    }
    if (securityGroups.length === 0) {
      const fallback = [...state.securityGroups.values()].find(
        (sg) => sg.vpcId === vpcId && sg.groupName === "default",
      );
      securityGroups = fallback ? [fallback.groupId] : [];
    }
    const tags = parseTags(params.Tags);
    if (tags.length > MAX_TAGS) throw tooManyTags();

    const subnetList = subnets.map((s) => s.subnetId);
    const existing = [...state.loadBalancers.values()].find((lb) => lb.name === name);
    if (existing) {
      const same =
        existing.scheme === scheme &&
        sameSet(existing.subnets, subnetList) &&
        sameSet(existing.securityGroups, securityGroups);
      if (!same) {
        throw new AwsError(
          "DuplicateLoadBalancerName",
          `A load balancer with the same name '${name}' exists, but with different settings`,
        );
      }
      return { LoadBalancers: [loadBalancerShape(state, existing)] };
    }
    const prefix = scheme === "internal" ? "internal-" : "";
    const lb: LoadBalancer = {
      arn: state.arn("elasticloadbalancing", `loadbalancer/app/${name}/${hex(8)}`),
      name,
      dnsName: `${prefix}${name}-${randomInt(100_000_000, 2_000_000_000)}.${state.region}.elb.amazonaws.com`,
      scheme,
      vpcId,
      subnets: subnetList,
      securityGroups,
      createdAt: new Date(ctx.clock.now()),
    };
    state.loadBalancers.set(lb.arn, lb);
    setTags(state, lb.arn, tags);
    return { LoadBalancers: [loadBalancerShape(state, lb)] };
  },

  DescribeLoadBalancers(params, ctx) {
    const { state } = ctx;
    const arns = list<string>(params.LoadBalancerArns);
    const names = list<string>(params.Names);
    let lbs = [...state.loadBalancers.values()];
    if (arns.length > 0 && names.length > 0) {
      throw validationError(
        "Load balancer names and load balancer ARNs cannot be specified at the same time",
      );
    }
    if (arns.length > 0) {
      lbs = arns.map((arn) => getLoadBalancer(state, arn));
    } else if (names.length > 0) {
      const missing = names.filter((n) => !lbs.some((lb) => lb.name === n));
      if (missing.length > 0) {
        throw new AwsError(
          "LoadBalancerNotFound",
          `Load balancers '[${missing.join(", ")}]' not found`,
        );
      }
      lbs = names.map((n) => lbs.find((lb) => lb.name === n)!);
    }
    const { page, nextMarker } = paginate(lbs, params.Marker, params.PageSize);
    return {
      LoadBalancers: page.map((lb) => loadBalancerShape(state, lb)),
      NextMarker: nextMarker,
    };
  },

  DeleteLoadBalancer(params, ctx) {
    const { state } = ctx;
    const arn = str(params.LoadBalancerArn);
    if (!arn) throw loadBalancerNotFound();
    const lb = state.loadBalancers.get(arn);
    // Deleting a load balancer that is already gone succeeds, as in AWS.
    if (!lb) return {};
    if (hasDeletionProtection(lb)) {
      throw new AwsError(
        "OperationNotPermitted",
        `Load balancer '${lb.arn}' cannot be deleted because deletion protection is enabled`,
      );
    }
    const affected: string[] = [];
    for (const listener of listenersOf(state, lb.arn)) {
      affected.push(...targetGroupArnsOf(actionsOfListener(state, listener)));
      for (const rule of rulesOf(state, listener.arn)) {
        state.rules.delete(rule.arn);
        dropTags(state, rule.arn);
      }
      state.listeners.delete(listener.arn);
      dropTags(state, listener.arn);
      ctx.runtime.listenerDeleted(listener.arn);
    }
    state.loadBalancers.delete(lb.arn);
    dropTags(state, lb.arn);
    syncTargetGroupUsage(ctx, affected);
    return {};
  },
};

export function tooManyTags(): AwsError {
  return new AwsError(
    "TooManyTags",
    `You've reached the limit of ${MAX_TAGS} tags for this resource`,
  );
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
