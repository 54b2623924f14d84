import fc from 'fast-check';
import type { ClusterConfig, PortMapping } from '../../../lambdas/domain/config';
import {
  desireIngress,
  type IngressChange,
  isOwnedRule,
  planIngress,
  type ResolvedIngressSource,
  ruleKey,
  ruleOwnerPrefix,
} from '../../../lambdas/domain/ingress-rules';
import type { ObservedIngressRule } from '../../../lambdas/domain/network-ports';
import { mergePortRanges } from '../../../lambdas/domain/port-ranges';

const OWNER = 'nlb-nodeport-sync';
const CLUSTER = 'blue';
const GROUPS = ['sg-0a', 'sg-0b'];
const ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef';

/** Ports from a narrow window, so contiguous runs and overlaps are common. */
const port = fc.integer({ min: 30000, max: 30012 });

const mappingArb = fc.record({
  nodePort: port,
  healthCheckNodePort: fc.option(port, { nil: undefined }),
  protocol: fc.constantFrom('TCP', 'UDP', 'TCP_UDP', 'TLS') as fc.Arbitrary<PortMapping['protocol']>,
  targetType: fc.constantFrom('ip', 'instance') as fc.Arbitrary<PortMapping['targetType']>,
  preserveClientIp: fc.option(fc.boolean(), { nil: undefined }),
});

const clusterArb = fc
  .record({
    mappings: fc.array(mappingArb, { minLength: 1, maxLength: 5 }),
    clientCidrs: fc.subarray(['192.0.2.0/24', '198.51.100.0/24']),
  })
  .map(
    ({ mappings, clientCidrs }): Pick<ClusterConfig, 'name' | 'portMappings' | 'securityGroups'> => ({
      name: CLUSTER,
      portMappings: mappings.map((m, i) => ({ ...m, name: `m${i}`, targetGroupArn: ARN })),
      securityGroups: { enabled: true, source: 'auto', clientCidrs, allowAnywhere: false },
    }),
  );

const sourceArb: fc.Arbitrary<ResolvedIngressSource> = fc.oneof(
  fc.constant<ResolvedIngressSource>({
    mode: 'load-balancer-security-group',
    sources: [{ kind: 'group', groupId: 'sg-0nlb' }],
    reason: 'p',
  }),
  fc.subarray(['10.0.1.5/32', '10.0.2.5/32', '10.0.3.5/32'], { minLength: 1 }).map(
    (cidrs): ResolvedIngressSource => ({
      mode: 'load-balancer-ips',
      sources: cidrs.map((cidr) => ({ kind: 'cidr', cidr })),
      reason: 'p',
    }),
  ),
);

const descriptionArb = fc.constantFrom(
  `${ruleOwnerPrefix(OWNER, CLUSTER)}traffic`,
  `${ruleOwnerPrefix(OWNER, CLUSTER)}health+traffic`,
  `${ruleOwnerPrefix(OWNER, 'green')}traffic`,
  `${ruleOwnerPrefix('someone-else', CLUSTER)}traffic`,
  'hand-made',
  undefined,
);

const observedArb = fc.array(
  fc.record({
    groupId: fc.constantFrom(...GROUPS),
    protocol: fc.constantFrom('tcp', 'udp'),
    from: port,
    width: fc.integer({ min: 0, max: 3 }),
    source: fc.constantFrom<ObservedIngressRule['source']>(
      { kind: 'group', groupId: 'sg-0nlb' },
      { kind: 'cidr', cidr: '10.0.1.5/32' },
      { kind: 'cidr', cidr: '192.0.2.0/24' },
      { kind: 'cidr', cidr: '0.0.0.0/0' },
    ),
    description: descriptionArb,
  }),
  { maxLength: 12 },
);

function toObserved(
  raw: readonly {
    groupId: string;
    protocol: string;
    from: number;
    width: number;
    source: ObservedIngressRule['source'];
    description: string | undefined;
  }[],
): Record<string, ObservedIngressRule[]> {
  const observed: Record<string, ObservedIngressRule[]> = {};
  raw.forEach((r, i) => {
    const rule: ObservedIngressRule = {
      ruleId: `sgr-${i}`,
      groupId: r.groupId,
      protocol: r.protocol,
      fromPort: r.from,
      toPort: r.from + r.width,
      source: r.source,
      description: r.description,
    };
    observed[r.groupId] = [...(observed[r.groupId] ?? []), rule];
  });
  return observed;
}

/** Applies a plan the way EC2 would: authorize adds a rule, revoke removes it by id, update rewrites the description. */
function applyPlan(
  observed: Record<string, ObservedIngressRule[]>,
  changes: readonly IngressChange[],
): Record<string, ObservedIngressRule[]> {
  const next: Record<string, ObservedIngressRule[]> = Object.fromEntries(
    Object.entries(observed).map(([k, v]) => [k, [...v]]),
  );
  changes.forEach((change, i) => {
    const rules = next[change.groupId] ?? [];
    if (change.kind === 'authorize') {
      rules.push({ ...change.rule, ruleId: `sgr-new-${i}`, groupId: change.groupId });
    } else if (change.kind === 'revoke') {
      rules.splice(
        rules.findIndex((r) => r.ruleId === change.rule.ruleId),
        1,
      );
    } else {
      const at = rules.findIndex((r) => r.ruleId === change.rule.ruleId);
      rules[at] = { ...(rules[at] as ObservedIngressRule), description: change.description };
    }
    next[change.groupId] = rules;
  });
  return next;
}

describe('Function: planIngress (properties)', () => {
  it('never puts a rule it does not own in a plan', () => {
    fc.assert(
      fc.property(clusterArb, sourceArb, observedArb, (cluster, source, raw) => {
        // Prepare
        const desired = desireIngress({ ownerId: OWNER, cluster, source }).rules;

        // Act
        const plan = planIngress({
          ownerId: OWNER,
          clusterName: CLUSTER,
          groupIds: GROUPS,
          desired,
          observed: toObserved(raw),
        });

        // Assess
        for (const change of plan.changes) expect(isOwnedRule(change.rule, OWNER, CLUSTER)).toBe(true);
      }),
    );
  });

  it('plans nothing when planned again after its plan was applied', () => {
    fc.assert(
      fc.property(clusterArb, sourceArb, observedArb, (cluster, source, raw) => {
        // Prepare
        const desired = desireIngress({ ownerId: OWNER, cluster, source }).rules;
        const input = { ownerId: OWNER, clusterName: CLUSTER, groupIds: GROUPS, desired };
        const first = planIngress({ ...input, observed: toObserved(raw) });

        // Act
        const second = planIngress({ ...input, observed: applyPlan(toObserved(raw), first.changes) });

        // Assess
        expect(second.changes).toEqual([]);
      }),
    );
  });

  it('is deterministic whatever order the rules are observed in', () => {
    fc.assert(
      fc.property(clusterArb, sourceArb, observedArb, (cluster, source, raw) => {
        // Prepare
        const desired = desireIngress({ ownerId: OWNER, cluster, source }).rules;
        const input = { ownerId: OWNER, clusterName: CLUSTER, groupIds: GROUPS };

        // Act
        const forward = planIngress({ ...input, desired, observed: toObserved(raw) });
        const reversed = planIngress({
          ...input,
          groupIds: [...GROUPS].reverse(),
          desired: [...desired].reverse(),
          observed: Object.fromEntries(
            Object.entries(toObserved(raw)).map(([k, v]) => [k, [...v].reverse()]),
          ),
        });

        // Assess
        expect(reversed).toEqual(forward);
      }),
    );
  });
});

describe('Function: desireIngress (properties)', () => {
  it('admits exactly the wanted ports, in disjoint non-adjacent ranges per protocol and source', () => {
    fc.assert(
      fc.property(clusterArb, sourceArb, (cluster, source) => {
        // Act
        const { rules } = desireIngress({ ownerId: OWNER, cluster, source });

        // Assess
        const keys = new Set(rules.map(ruleKey));
        expect(keys.size).toBe(rules.length);
        const bySource = new Map<string, { from: number; to: number }[]>();
        for (const rule of rules) {
          const key = `${rule.protocol}|${JSON.stringify(rule.source)}`;
          bySource.set(key, [...(bySource.get(key) ?? []), { from: rule.fromPort, to: rule.toPort }]);
        }
        for (const ranges of bySource.values()) {
          const ports = ranges.flatMap((r) =>
            Array.from({ length: r.to - r.from + 1 }, (_, i) => r.from + i),
          );
          expect(mergePortRanges(ports)).toEqual([...ranges].sort((a, b) => a.from - b.from));
        }
        for (const mapping of cluster.portMappings) {
          const health = mapping.healthCheckNodePort ?? mapping.nodePort;
          for (const from of source.sources) {
            expect(
              rules.some(
                (r) =>
                  r.protocol === 'tcp' &&
                  JSON.stringify(r.source) === JSON.stringify(from) &&
                  r.fromPort <= health &&
                  r.toPort >= health,
              ),
            ).toBe(true);
          }
        }
        for (const rule of rules) expect(rule.description.length).toBeLessThanOrEqual(255);
      }),
    );
  });

  it('admits any range of a rule from the NLB sources or a configured client CIDR only', () => {
    fc.assert(
      fc.property(clusterArb, sourceArb, (cluster, source) => {
        // Act
        const { rules } = desireIngress({ ownerId: OWNER, cluster, source });

        // Assess
        const allowed = new Set([
          ...source.sources.map((s) => JSON.stringify(s)),
          ...(cluster.securityGroups?.clientCidrs ?? []).map((cidr) =>
            JSON.stringify({ kind: 'cidr', cidr }),
          ),
        ]);
        for (const rule of rules) expect(allowed.has(JSON.stringify(rule.source))).toBe(true);
      }),
    );
  });
});
