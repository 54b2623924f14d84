import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { describeRule } from '../domain/ingress-rules';
import type { DnsPort, LoadBalancerInfo, LoadBalancerPort, SecurityGroupPort } from '../domain/network-ports';
import { syncDns } from './dns-sync';
import type { ReconcileStep, ReconcileStepInput } from './reconcile-pass';
import { syncSecurityGroups } from './security-group-sync';

/** The adapters the security-group and DNS steps need. */
export interface NetworkStepDeps {
  readonly securityGroups: SecurityGroupPort;
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

/**
 * The steps that follow the target step of every pass: node security-group ingress, then Route 53.
 * Each is a no-op for a cluster without its config section. Both read the cluster's NLB; the pass hands
 * its steps one input object, so the NLB is described once per pass, not once per step.
 */
export function networkSteps(deps: NetworkStepDeps): ReconcileStep[] {
  const perPass = new WeakMap<ReconcileStepInput, NetworkStepDeps>();
  const depsFor = (input: ReconcileStepInput): NetworkStepDeps => {
    const known = perPass.get(input) ?? { ...deps, loadBalancers: describingOnce(deps.loadBalancers) };
    perPass.set(input, known);
    return known;
  };
  return [
    {
      name: 'security-groups',
      async run(input) {
        const result = await syncSecurityGroups(
          { config: input.config, cluster: input.cluster, nodes: desiredNodes(input), dryRun: input.dryRun },
          depsFor(input),
        );
        const line = (c: (typeof result.plan)[number]) =>
          c.kind === 'authorize'
            ? `+ ${c.groupId} ${describeRule(c.rule)}  ${c.reason}`
            : c.kind === 'revoke'
              ? `- ${c.groupId} ${describeRule(c.rule)}  ${c.reason}`
              : `~ ${c.groupId} ${describeRule(c.rule)} description -> ${c.description}  ${c.reason}`;
        return { planned: result.plan.map(line), applied: result.applied.length };
      },
    },
    {
      name: 'dns',
      async run(input) {
        const result = await syncDns(
          { config: input.config, cluster: input.cluster, nodes: desiredNodes(input), dryRun: input.dryRun },
          depsFor(input),
        );
        const planned = result.plan.map((c) => {
          const set = c.recordSet;
          const value = set.alias !== undefined ? `ALIAS ${set.alias.dnsName}` : set.values.join(' ');
          return `${c.action} ${set.name} ${set.type} ${value}  ${c.reason}`;
        });
        return { planned, applied: result.applied.length };
      },
    },
  ];
}
