import type { ClusterConfig, PortMapping } from '../../../lambdas/domain/config';
import {
  changeWeight,
  desireRecords,
  MAX_VALUES_PER_RECORD_SET,
  normaliseRecordName,
  ownershipMarker,
  planRecords,
  sameRecordSet,
  splitIntoBatches,
} from '../../../lambdas/domain/dns-records';
import { DnsPlanError } from '../../../lambdas/domain/network-errors';
import type { LoadBalancerInfo, RecordChange, RecordSet } from '../../../lambdas/domain/network-ports';

const OWNER = 'nlb-nodeport-sync';
const MARKER = '"heritage=nlb-nodeport-sync,owner=nlb-nodeport-sync,cluster=blue"';
const ZONE = { id: 'Z0EXAMPLE', name: 'example.com.' };
const ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef';
const NLB: LoadBalancerInfo = {
  arn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/web/50dc6c495c0c9188',
  name: 'web',
  dnsName: 'web-50dc6c495c0c9188.elb.eu-west-1.amazonaws.com',
  canonicalHostedZoneId: 'Z2IFOLAFXWLO4F',
  vpcId: 'vpc-1',
  securityGroupIds: [],
  dualstack: false,
};
const ALIAS = {
  dnsName: 'web-50dc6c495c0c9188.elb.eu-west-1.amazonaws.com.',
  hostedZoneId: 'Z2IFOLAFXWLO4F',
  evaluateTargetHealth: true,
};

function mapping(name: string, nodePort: number, protocol: PortMapping['protocol'] = 'TCP'): PortMapping {
  return { name, nodePort, protocol, targetType: 'ip', targetGroupArn: ARN };
}

function cluster(
  dns: Partial<NonNullable<ClusterConfig['dns']>>,
): Pick<ClusterConfig, 'name' | 'dns' | 'portMappings'> {
  return {
    name: 'blue',
    portMappings: [mapping('http', 30080), mapping('dns', 30053, 'TCP_UDP')],
    dns: { hostedZoneId: 'Z0EXAMPLE', aliasNames: [], retiredNames: [], ttl: 60, ...dns },
  };
}

function nodes(...ips: string[]): { privateIp?: string }[] {
  return ips.map((privateIp) => ({ privateIp }));
}

describe('Function: ownershipMarker', () => {
  it('names the heritage, the owner and the cluster in a quoted TXT value', () => {
    // Act & Assess
    expect(ownershipMarker(OWNER, 'blue')).toBe(MARKER);
  });
});

describe('Function: normaliseRecordName', () => {
  it.each([
    ['Web.Example.com', 'web.example.com.'],
    ['web.example.com.', 'web.example.com.'],
  ])('turns %s into %s', (name, expected) => {
    // Act & Assess
    expect(normaliseRecordName(name)).toBe(expected);
  });
});

describe('Function: desireRecords', () => {
  it('wants an alias A per alias name, and AAAA too when the NLB is dualstack', () => {
    // Act
    const single = desireRecords({
      cluster: cluster({ aliasNames: ['Web.example.com'] }),
      zone: ZONE,
      nodes: [],
      loadBalancer: NLB,
    });
    const dual = desireRecords({
      cluster: cluster({ aliasNames: ['web.example.com'] }),
      zone: ZONE,
      nodes: [],
      loadBalancer: { ...NLB, dualstack: true },
    });

    // Assess
    expect(single.recordSets).toEqual([{ name: 'web.example.com.', type: 'A', values: [], alias: ALIAS }]);
    expect(dual.recordSets.map((s) => s.type)).toEqual(['A', 'AAAA']);
  });

  it('wants the node IPs sorted by address in one A record set', () => {
    // Act
    const desired = desireRecords({
      cluster: cluster({ nodeRecordName: 'nodes.example.com' }),
      zone: ZONE,
      nodes: [...nodes('10.0.0.10', '10.0.0.9', '10.0.0.10'), {}],
      loadBalancer: undefined,
    });

    // Assess
    expect(desired.recordSets).toEqual([
      { name: 'nodes.example.com.', type: 'A', ttl: 60, values: ['10.0.0.9', '10.0.0.10'] },
    ]);
  });

  it('publishes the first 400 IPs in address order and warns about the rest', () => {
    // Prepare
    const many = Array.from({ length: 450 }, (_, i) => `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`);

    // Act
    const desired = desireRecords({
      cluster: cluster({ nodeRecordName: 'nodes.example.com' }),
      zone: ZONE,
      nodes: nodes(...[...many].reverse()),
    });

    // Assess
    expect(desired.recordSets[0]?.values).toHaveLength(MAX_VALUES_PER_RECORD_SET);
    expect(desired.recordSets[0]?.values.at(-1)).toBe('10.0.1.150');
    expect(desired.warnings).toEqual([expect.stringContaining('left out 50')]);
  });

  it('keeps the node name managed but without an A record when no node is desired', () => {
    // Act
    const desired = desireRecords({
      cluster: cluster({ nodeRecordName: 'nodes.example.com' }),
      zone: ZONE,
      nodes: [],
    });

    // Assess
    expect(desired).toEqual({ names: ['nodes.example.com.'], recordSets: [], warnings: [] });
  });

  it('wants an SRV record per mapping and protocol pointing at the node record name', () => {
    // Act
    const desired = desireRecords({
      cluster: cluster({ nodeRecordName: 'nodes.example.com', srvDomain: 'svc.example.com' }),
      zone: ZONE,
      nodes: nodes('10.0.0.1'),
    });

    // Assess
    expect(desired.recordSets.filter((s) => s.type === 'SRV')).toEqual([
      { name: '_dns._tcp.svc.example.com.', type: 'SRV', ttl: 60, values: ['0 50 30053 nodes.example.com.'] },
      { name: '_dns._udp.svc.example.com.', type: 'SRV', ttl: 60, values: ['0 50 30053 nodes.example.com.'] },
      {
        name: '_http._tcp.svc.example.com.',
        type: 'SRV',
        ttl: 60,
        values: ['0 50 30080 nodes.example.com.'],
      },
    ]);
  });

  it.each([
    { dns: { aliasNames: ['web.other.org'] }, lb: NLB, message: 'not inside hosted zone' },
    { dns: { aliasNames: ['web.example.com'] }, lb: undefined, message: 'need the load balancer' },
    {
      dns: { aliasNames: ['x.example.com'], nodeRecordName: 'x.example.com' },
      lb: NLB,
      message: 'two A records',
    },
    { dns: { srvDomain: 'svc.example.com' }, lb: undefined, message: 'needs dns.nodeRecordName' },
  ])('refuses $dns with "$message"', ({ dns, lb, message }) => {
    // Act & Assess
    expect(() =>
      desireRecords({ cluster: cluster(dns), zone: ZONE, nodes: nodes('10.0.0.1'), loadBalancer: lb }),
    ).toThrow(new RegExp(message));
    expect(() =>
      desireRecords({ cluster: cluster(dns), zone: ZONE, nodes: nodes('10.0.0.1'), loadBalancer: lb }),
    ).toThrow(DnsPlanError);
  });
});

describe('Function: planRecords', () => {
  const nodeSet: RecordSet = {
    name: 'nodes.example.com.',
    type: 'A',
    ttl: 60,
    values: ['10.0.0.1', '10.0.0.2'],
  };
  const marker: RecordSet = { name: 'nodes.example.com.', type: 'TXT', ttl: 60, values: [MARKER] };
  const desired = { names: ['nodes.example.com.'], recordSets: [nodeSet], warnings: [] };
  const plan = (observed: RecordSet[], want = desired, retiredNames: string[] = []) =>
    planRecords({ ownerId: OWNER, clusterName: 'blue', ttl: 60, desired: want, observed, retiredNames });

  it('creates a new name with its TXT marker', () => {
    // Act
    const result = plan([]);

    // Assess
    expect(result.changes.map((c) => [c.action, c.recordSet.type])).toEqual([
      ['CREATE', 'A'],
      ['CREATE', 'TXT'],
    ]);
    expect(result.changes[1]?.recordSet.values).toEqual([MARKER]);
  });

  it('upserts an owned record set whose values differ, and says how', () => {
    // Act
    const result = plan([marker, { ...nodeSet, values: ['10.0.0.1', '10.0.0.3'] }]);

    // Assess
    expect(result.changes).toEqual([
      {
        action: 'UPSERT',
        recordSet: nodeSet,
        reason: 'A nodes.example.com. differs: +1 (10.0.0.2), -1 (10.0.0.3)',
      },
    ]);
  });

  it('plans nothing when the owned records match', () => {
    // Act & Assess
    expect(plan([marker, nodeSet]).changes).toEqual([]);
  });

  it('leaves a name that exists without our marker alone and reports it', () => {
    // Prepare
    const handMade: RecordSet = { ...nodeSet, values: ['203.0.113.5'] };

    // Act
    const result = plan([handMade]);

    // Assess
    expect(result.changes).toEqual([]);
    expect(result.conflicts).toEqual([
      {
        name: 'nodes.example.com.',
        types: ['A'],
        reason: expect.stringContaining('without our ownership marker'),
      },
    ]);
  });

  it('leaves a name marked by another cluster alone and names the other marker', () => {
    // Prepare
    const green = { ...marker, values: [ownershipMarker(OWNER, 'green')] };

    // Act
    const result = plan([green, nodeSet]);

    // Assess
    expect(result.changes).toEqual([]);
    expect(result.conflicts[0]?.reason).toContain('cluster=green');
  });

  it('deletes the owned A record but keeps the marker when no node is desired', () => {
    // Act
    const result = plan([marker, nodeSet], { names: ['nodes.example.com.'], recordSets: [], warnings: [] });

    // Assess
    expect(result.changes).toEqual([
      { action: 'DELETE', recordSet: nodeSet, reason: 'A nodes.example.com. is no longer wanted' },
    ]);
  });

  it('deletes the records and the marker of an owned name no longer configured, once it is listed as retired', () => {
    // Prepare
    const srv: RecordSet = {
      name: '_old._tcp.svc.example.com.',
      type: 'SRV',
      ttl: 60,
      values: ['0 50 30070 n.'],
    };
    const srvMarker: RecordSet = { ...marker, name: '_old._tcp.svc.example.com.' };
    const mx: RecordSet = { name: '_old._tcp.svc.example.com.', type: 'MX', ttl: 60, values: ['10 mail.'] };

    // Act
    const retired = plan([marker, nodeSet, srv, srvMarker, mx], desired, ['_old._tcp.svc.example.com']);
    const notRetired = plan([marker, nodeSet, srv, srvMarker, mx]);

    // Assess: retired, its records go; not retired, they stay with a warning (IAM would refuse the delete)
    expect(retired.changes.map((c) => [c.action, c.recordSet.name, c.recordSet.type])).toEqual([
      ['DELETE', '_old._tcp.svc.example.com.', 'SRV'],
      ['DELETE', '_old._tcp.svc.example.com.', 'TXT'],
    ]);
    expect(notRetired.changes).toEqual([]);
    expect(notRetired.warnings).toEqual([expect.stringContaining('list it in dns.retiredNames')]);
  });

  it('treats an alias whose DNS name differs only by case, dualstack prefix or trailing dot as equal', () => {
    // Prepare
    const want: RecordSet = { name: 'web.example.com.', type: 'A', values: [], alias: ALIAS };
    const have: RecordSet = {
      ...want,
      alias: { ...ALIAS, dnsName: 'dualstack.WEB-50dc6c495c0c9188.elb.eu-west-1.amazonaws.com' },
    };

    // Act & Assess
    expect(sameRecordSet(have, want)).toBe(true);
  });
});

describe('Function: splitIntoBatches', () => {
  const change = (name: string, values: number, action: RecordChange['action'] = 'CREATE'): RecordChange => ({
    action,
    recordSet: { name, type: 'A', ttl: 60, values: Array.from({ length: values }, (_, i) => `10.0.0.${i}`) },
  });

  it('keeps everything in one batch when it fits', () => {
    // Act & Assess
    expect(splitIntoBatches([change('a.', 3), change('b.', 3)])).toHaveLength(1);
  });

  it('counts an UPSERT twice', () => {
    // Act & Assess
    expect(changeWeight(change('a.', 3, 'UPSERT')).records).toBe(6);
  });

  it('cuts between names, never inside one name', () => {
    // Prepare
    const changes = [
      change('a.', 3),
      { ...change('a.', 1), recordSet: { ...change('a.', 1).recordSet, type: 'TXT' } },
      change('b.', 3),
    ];

    // Act
    const batches = splitIntoBatches(changes, { maxRecords: 5, maxChars: 32000 });

    // Assess
    expect(batches.map((b) => b.map((c) => c.recordSet.name))).toEqual([['a.', 'a.'], ['b.']]);
  });

  it('refuses a single name that passes the limits alone', () => {
    // Act & Assess
    expect(() => splitIntoBatches([change('a.', 6)], { maxRecords: 5, maxChars: 32000 })).toThrow(
      DnsPlanError,
    );
  });
});
