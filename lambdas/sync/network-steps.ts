import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { PlannedRecordChange } from '../domain/dns-records';
import { describeRule, type IngressChange } from '../domain/ingress-rules';
import type {
  DnsPort,
  LoadBalancerInfo,
  LoadBalancerPort,
  SecurityGroupSearchPort,
} from '../domain/network-ports';
import { type DnsSyncResult, startDnsReads, syncDns } from './dns-sync';
import type { ReconcileStep, ReconcileStepInput } from './reconcile-pass';
import {
  type SecurityGroupSyncResult,
  startSecurityGroupReads,
  syncSecurityGroups,
} from './security-group-sync';

/** The adapters the security-group and DNS steps need. */
export interface NetworkStepDeps {
  readonly securityGroups: SecurityGroupSearchPort;
  readonly loadBalancers: LoadBalancerPort;
  readonly dns: DnsPort;
  readonly logger: Logger;
  /** The pass's metrics object (quota refusals are counted under its cluster dimension). */
  readonly metrics: Metrics;
}

function desiredNodes(input: ReconcileStepInput) {
  return input.judged.filter((j) => j.verdict.desired).map((j) => j.node);
}

/** The load balancer port with DescribeLoadBalancers asked once per ARN. */
function describingOnce(port: LoadBalancerPort): LoadBalancerPort {
  const described = new Map<string, Promise<LoadBalancerInfo>>();
  return {
    describeLoadBalancer(arn) {
      const known = described.get(arn) ?? port.describeLoadBalancer(arn);
      described.set(arn, known);
      return known;
    },
    describePrivateIps: (loadBalancer) => port.describePrivateIps(loadBalancer),
    describeVpcCidrs: (vpcId) => port.describeVpcCidrs(vpcId),
  };
}

function ingressLine(c: IngressChange): string {
  return c.kind === 'authorize'
    ? `+ ${c.groupId} ${describeRule(c.rule)}  ${c.reason}`
    : c.kind === 'revoke'
      ? `- ${c.groupId} ${describeRule(c.rule)}  ${c.reason}`
      : `~ ${c.groupId} ${describeRule(c.rule)} description -> ${c.description}  ${c.reason}`;
}

/**
 * One line per planned security-group change, as the pass reports it; changes a quota holds back follow,
 * marked `refused`, with the quota: `plan` shows them as it shows refused target changes.
 */
function ingressLines(result: SecurityGroupSyncResult): string[] {
  return [
    ...result.plan.map(ingressLine),
    ...result.refused.map((r) => `refused ${ingressLine(r.change)}  (${r.refusedBecause})`),
  ];
}

function recordLine(c: PlannedRecordChange): string {
  const set = c.recordSet;
  const value = set.alias !== undefined ? `ALIAS ${set.alias.dnsName}` : set.values.join(' ');
  return `${c.action} ${set.name} ${set.type} ${value}  ${c.reason}`;
}

/** One line per planned record change, as the pass reports it; changes a quota holds back follow, marked. */
function recordLines(result: DnsSyncResult): string[] {
  return [
    ...result.plan.map(recordLine),
    ...result.refused.map((r) => `refused ${recordLine(r.change)}  (${r.refusedBecause})`),
  ];
}

/**
 * The steps beside the target step of every pass: node security-group ingress and Route 53. Each is a
 * no-op for a cluster without its config section. Their reads that need only the config (the NLB, its
 * interfaces when the source mode needs them, configured groups' rules or the groups tagged for the cluster
 * and their rules, the zone and its record sets) go out as the pass starts (`begin`), their plans and writes once the nodes are judged, beside the target
 * writes. Both read the cluster's NLB; the pass hands its steps one object per pass, so the NLB is
 * described once per pass, not once per step.
 */
export function networkSteps(deps: NetworkStepDeps): ReconcileStep[] {
  const perPass = new WeakMap<object, NetworkStepDeps>();
  const depsFor = (pass: object): NetworkStepDeps => {
    const known = perPass.get(pass) ?? { ...deps, loadBalancers: describingOnce(deps.loadBalancers) };
    perPass.set(pass, known);
    return known;
  };
  const nodesOf = (input: ReconcileStepInput) => ({
    config: input.config,
    cluster: input.cluster,
    nodes: desiredNodes(input),
    dryRun: input.dryRun,
  });
  return [
    {
      name: 'security-groups',
      async run(input) {
        const result = await syncSecurityGroups(nodesOf(input), depsFor(input));
        return { planned: ingressLines(result), applied: result.applied.length };
      },
      begin(start) {
        const passDeps = depsFor(start);
        const reads = startSecurityGroupReads(start, passDeps);
        return async (input) => {
          const result = await syncSecurityGroups(nodesOf(input), passDeps, reads);
          return { planned: ingressLines(result), applied: result.applied.length };
        };
      },
    },
    {
      name: 'dns',
      async run(input) {
        const result = await syncDns(nodesOf(input), depsFor(input));
        return { planned: recordLines(result), applied: result.applied.length };
      },
      begin(start) {
        const passDeps = depsFor(start);
        const reads = startDnsReads(start, passDeps);
        return async (input) => {
          const result = await syncDns(nodesOf(input), passDeps, reads);
          return { planned: recordLines(result), applied: result.applied.length };
        };
      },
    },
  ];
}
