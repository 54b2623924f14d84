import fc from 'fast-check';
import { ConfigError, parseSyncConfig } from '../../../lambdas/domain/config';
import { formatIpv4, ipv4CoverageShare, parseIpv4Cidr } from '../../../lambdas/domain/ip-addresses';

/**
 * The strict config (issue 8, item 3): unknown keys and every harmful-but-well-typed case are refused at
 * load, each naming its field.
 */

const TG_A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a/0123456789abcdef';
const TG_B = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/b/0123456789abcdef';
const LB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/lb/0123456789abcdef';

type Raw = Record<string, unknown>;

function cluster(extra: Raw = {}): Raw {
  return {
    name: 'one',
    nodeSource: { autoScalingGroups: ['one-nodes'] },
    loadBalancer: { arn: LB },
    portMappings: [{ name: 'app', targetGroupArn: TG_A, nodePort: 30000 }],
    ...extra,
  };
}

function config(clusterExtra: Raw = {}, rootExtra: Raw = {}): Raw {
  return { clusters: [cluster(clusterExtra)], ...rootExtra };
}

function issuesOf(raw: unknown): string[] {
  try {
    parseSyncConfig(raw, 'test');
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError, the config was accepted');
}

describe('Function: parseSyncConfig (strict)', () => {
  describe('unknown keys', () => {
    it.each<[string, Raw, string]>([
      [
        'a misspelled health-check NodePort',
        config({
          portMappings: [{ name: 'app', targetGroupArn: TG_A, nodePort: 30000, healthcheckNodePort: 32000 }],
        }),
        'clusters.0.portMappings.0.healthcheckNodePort: unknown key; did you mean "healthCheckNodePort"?',
      ],
      [
        'the root',
        config({}, { schedul: 'rate(5 minutes)' }),
        'schedul: unknown key; did you mean "schedule"?',
      ],
      [
        'a cluster',
        config({ preservedTarget: [] }),
        'clusters.0.preservedTarget: unknown key; did you mean "preservedTargets"?',
      ],
      [
        'the node source',
        config({ nodeSource: { autoscalingGroup: ['one-nodes'], tagFilters: { a: ['b'] } } }),
        'clusters.0.nodeSource.autoscalingGroup: unknown key; did you mean "autoScalingGroups"?',
      ],
      [
        'the load balancer',
        config({ loadBalancer: { arn: LB, crate: {} } }),
        'clusters.0.loadBalancer.crate: unknown key; did you mean "create"?',
      ],
      [
        'loadBalancer.create',
        config({
          loadBalancer: { create: { vpcId: 'vpc-0a', subnetIds: ['subnet-0a'], internetFacng: true } },
          portMappings: [{ name: 'app', nodePort: 30000, listenerPort: 80 }],
        }),
        'clusters.0.loadBalancer.create.internetFacng: unknown key; did you mean "internetFacing"?',
      ],
      [
        'the cluster safety',
        config({ safety: { maxDeregisterShares: 0.2 } }),
        'clusters.0.safety.maxDeregisterShares: unknown key; did you mean "maxDeregisterShare"?',
      ],
      [
        'the root safety',
        config({}, { safety: { maxDeregistrationShare: 0.2 } }),
        'safety.maxDeregistrationShare: unknown key; did you mean "maxDeregisterShare"?',
      ],
      [
        'securityGroups',
        config({ securityGroups: { allowAnyWhere: true } }),
        'clusters.0.securityGroups.allowAnyWhere: unknown key; did you mean "allowAnywhere"?',
      ],
      [
        'dns',
        config({ dns: { hostedZoneId: 'Z1', aliasName: ['a.example.com'] } }),
        'clusters.0.dns.aliasName: unknown key; did you mean "aliasNames"?',
      ],
      [
        'lifecycle',
        config({ lifecycle: { launchgate: 'none' } }),
        'clusters.0.lifecycle.launchgate: unknown key; did you mean "launchGate"?',
      ],
    ])('refuses an unknown key in %s, naming it and the nearest known name', (_where, raw, expected) => {
      // Act & Assess
      expect(issuesOf(raw)).toContain(expected);
    });

    it('lists the known keys when no known name is near', () => {
      // Act
      const issues = issuesOf(config({ safety: { color: 'blue' } }));

      // Assess
      expect(issues).toEqual(['clusters.0.safety.color: unknown key; known keys: maxDeregisterShare']);
    });

    it('names every unknown key of one object', () => {
      // Act
      const issues = issuesOf(config({ lifecycle: { launchGat: 'none', recheckSecond: 20 } }));

      // Assess
      expect(issues).toEqual([
        'clusters.0.lifecycle.launchGat: unknown key; did you mean "launchGate"?',
        'clusters.0.lifecycle.recheckSecond: unknown key; did you mean "recheckSeconds"?',
      ]);
    });
  });

  describe('port mappings', () => {
    it('refuses the same target group in two mappings of one cluster', () => {
      // Prepare
      const raw = config({
        portMappings: [
          { name: 'app', targetGroupArn: TG_A, nodePort: 30000 },
          { name: 'web', targetGroupArn: TG_A, nodePort: 30001 },
        ],
      });

      // Act & Assess
      expect(issuesOf(raw)).toEqual([
        'clusters.0.portMappings.1.targetGroupArn: target group is already used by port mapping "app" of this cluster; a target group serves one NodePort, one mapping',
      ]);
    });

    it('accepts distinct target groups in one cluster', () => {
      // Prepare
      const raw = config({
        portMappings: [
          { name: 'app', targetGroupArn: TG_A, nodePort: 30000 },
          { name: 'web', targetGroupArn: TG_B, nodePort: 30001 },
        ],
      });

      // Act & Assess
      expect(parseSyncConfig(raw).clusters[0]?.portMappings).toHaveLength(2);
    });
  });

  describe('securityGroups.clientCidrs', () => {
    it.each<[string, Raw, string]>([
      [
        'two halves',
        { clientCidrs: ['0.0.0.0/1', '128.0.0.0/1'] },
        'clusters.0.securityGroups.clientCidrs: 0.0.0.0/1 + 128.0.0.0/1 need allowAnywhere: true: together they cover 100% of the IPv4 space, more than securityGroups.maxClientShare (6.25%)',
      ],
      [
        'one wide range',
        { clientCidrs: ['0.0.0.0/3'] },
        'clusters.0.securityGroups.clientCidrs: 0.0.0.0/3 needs allowAnywhere: true: it covers 12.5% of the IPv4 space, more than securityGroups.maxClientShare (6.25%)',
      ],
      [
        'several ranges over a configured share',
        { clientCidrs: ['0.0.0.0/2', '64.0.0.0/3', '10.0.0.0/8'], maxClientShare: 0.25 },
        'clusters.0.securityGroups.clientCidrs: 0.0.0.0/2 + 64.0.0.0/3 + 10.0.0.0/8 need allowAnywhere: true: together they cover 37.5% of the IPv4 space, more than securityGroups.maxClientShare (25%)',
      ],
      [
        'a CIDR with host bits set',
        { clientCidrs: ['1.2.3.4/0'] },
        'clusters.0.securityGroups.clientCidrs.0: 1.2.3.4/0 is not canonical: its address has host bits set (the range is 0.0.0.0/0)',
      ],
    ])('refuses %s without allowAnywhere', (_what, securityGroups, expected) => {
      // Act & Assess
      expect(issuesOf(config({ securityGroups }))).toContain(expected);
    });

    it.each<[string, Raw]>([
      ['the private ranges', { clientCidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] }],
      ['overlapping ranges counted once', { clientCidrs: ['10.0.0.0/8', '10.1.0.0/16', '10.0.0.0/8'] }],
      ['two halves with allowAnywhere', { clientCidrs: ['0.0.0.0/1', '128.0.0.0/1'], allowAnywhere: true }],
      ['0.0.0.0/0 with allowAnywhere', { clientCidrs: ['0.0.0.0/0'], allowAnywhere: true }],
      ['a range within a raised share', { clientCidrs: ['0.0.0.0/2'], maxClientShare: 0.25 }],
    ])('accepts %s', (_what, securityGroups) => {
      // Act & Assess
      expect(parseSyncConfig(config({ securityGroups })).clusters).toHaveLength(1);
    });

    it('refuses a non-canonical CIDR even with allowAnywhere', () => {
      // Act & Assess
      expect(
        issuesOf(config({ securityGroups: { clientCidrs: ['10.0.0.1/8'], allowAnywhere: true } })),
      ).toEqual([
        'clusters.0.securityGroups.clientCidrs.0: 10.0.0.1/8 is not canonical: its address has host bits set (the range is 10.0.0.0/8)',
      ]);
    });
  });

  describe('preservedTargets', () => {
    it.each<[string, Raw, string]>([
      [
        'everything',
        config({ preservedTargets: ['0.0.0.0/0'] }),
        'clusters.0.preservedTargets.0: 0.0.0.0/0 covers more than a /8; preserve narrower ranges',
      ],
      [
        'a range wider than a /8',
        config({}, { preservedTargets: ['10.0.0.0/7'] }),
        'preservedTargets.0: 10.0.0.0/7 covers more than a /8; preserve narrower ranges',
      ],
      [
        'a wildcard',
        config({ preservedTargets: ['i-*'] }),
        'clusters.0.preservedTargets.0: "i-*" is not an instance id (i- and 8 to 17 hex digits), an IPv4 address or an IPv4 CIDR; wildcards are not supported',
      ],
      [
        'a glob on IPs',
        config({ preservedTargets: ['10.0.*'] }),
        'clusters.0.preservedTargets.0: "10.0.*" is not an instance id (i- and 8 to 17 hex digits), an IPv4 address or an IPv4 CIDR; wildcards are not supported',
      ],
      [
        'a CIDR with host bits set',
        config({ preservedTargets: ['10.0.0.5/24'] }),
        'clusters.0.preservedTargets.0: 10.0.0.5/24 is not canonical: its address has host bits set (the range is 10.0.0.0/24)',
      ],
    ])('refuses %s', (_what, raw, expected) => {
      // Act & Assess
      expect(issuesOf(raw)).toContain(expected);
    });

    it('accepts instance ids, addresses and CIDRs up to a /8', () => {
      // Prepare
      const preservedTargets = [
        'i-0123456789abcdef0',
        'i-01234567',
        '10.0.0.5',
        '10.0.250.0/24',
        '10.0.0.0/8',
      ];

      // Act
      const parsed = parseSyncConfig(config({ preservedTargets }, { preservedTargets: ['192.168.1.1/32'] }));

      // Assess
      expect(parsed.clusters[0]?.preservedTargets).toEqual(preservedTargets);
    });
  });

  describe('schedule', () => {
    it.each([
      'rate(1 second)',
      'rate(30 seconds)',
      'rate(0 minutes)',
      'rate(-5 minutes)',
      'rate(1.5 hours)',
      'rate(5 minute)',
      'rate(1 minutes)',
      'rate(5 weeks)',
      'rate(5minutes)',
      'cron(0 12 * * ?)',
      'cron(0 12 * * * *)',
      'cron(0 12 ? * ? *)',
      'cron(60 * * * ? *)',
      'cron(0 24 * * ? *)',
      'cron(0 0 32 * ? *)',
      'cron(0 0 ? 13 * *)',
      'cron(0 0 ? * 8 *)',
      'cron(0 0 ? * FOO *)',
      'cron(0 0 * * ? 1969)',
      'cron(0/0 * * * ? *)',
      'cron(0 0 ? * 2#6 *)',
      'cron(5-1x * * * ? *)',
      'at(2030-01-01T00:00:00)',
    ])('refuses %s, as EventBridge does', (schedule) => {
      // Act
      const issues = issuesOf(config({}, { schedule }));

      // Assess
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatch(new RegExp(`^schedule: ${schedule.replace(/[()*?.+/]/g, '\\$&')} is not`));
    });

    it('explains a rate below one minute', () => {
      // Act & Assess
      expect(issuesOf(config({}, { schedule: 'rate(1 second)' }))).toEqual([
        'schedule: rate(1 second) is not an EventBridge rate: the unit must be minute, hour or day (plural when the value is above 1); EventBridge runs a rule at most once a minute',
      ]);
    });

    it.each([
      'rate(1 minute)',
      'rate(5 minutes)',
      'rate(1 hour)',
      'rate(12 hours)',
      'rate(1 day)',
      'rate(7 days)',
      'cron(0 12 * * ? *)',
      'cron(0/15 * * * ? *)',
      'cron(5,35 14 * * ? *)',
      'cron(0 18 ? * MON-FRI *)',
      'cron(0 8 1 * ? *)',
      'cron(0 9 15W * ? *)',
      'cron(0 0 L * ? *)',
      'cron(15 10 ? * 6L 2022-2030)',
      'cron(0 0 ? * 3#2 *)',
      'cron(0 0 ? JAN-MAR SUN,SAT *)',
      'cron(*/10 8-17 ? * 2-6 *)',
    ])('accepts %s', (schedule) => {
      // Act & Assess
      expect(parseSyncConfig(config({}, { schedule })).schedule).toBe(schedule);
    });
  });

  describe('dns', () => {
    it('refuses a duplicate alias name, whatever its case or final dot', () => {
      // Prepare
      const dns = { hostedZoneId: 'Z1', aliasNames: ['proxy.example.com', 'Proxy.Example.com.'] };

      // Act & Assess
      expect(issuesOf(config({ dns }))).toEqual([
        'clusters.0.dns.aliasNames.1: duplicate alias name "Proxy.Example.com." (same as aliasNames.0)',
      ]);
    });

    it('refuses a node record name that is also an alias name', () => {
      // Prepare
      const dns = { hostedZoneId: 'Z1', aliasNames: ['x.example.com'], nodeRecordName: 'x.example.com.' };

      // Act & Assess
      expect(issuesOf(config({ dns }))).toEqual([
        'clusters.0.dns.nodeRecordName: "x.example.com." is also an alias name; a name holds either the alias or the node IPs',
      ]);
    });

    it.each<[string, Raw, string]>([
      [
        'nodeRecordName',
        { nodeRecordName: 'nodes.example.org' },
        'clusters.0.dns.nodeRecordName: "nodes.example.org" is not inside the hosted zone example.com (dns.zoneName)',
      ],
      [
        'an alias name that only ends like the zone',
        { aliasNames: ['proxy.example.com', 'web.notexample.com'] },
        'clusters.0.dns.aliasNames.1: "web.notexample.com" is not inside the hosted zone example.com (dns.zoneName)',
      ],
      [
        'srvDomain',
        { nodeRecordName: 'nodes.example.com', srvDomain: 'srv.example.net' },
        'clusters.0.dns.srvDomain: "srv.example.net" is not inside the hosted zone example.com (dns.zoneName)',
      ],
    ])('refuses %s outside the named zone', (_what, fields, expected) => {
      // Prepare
      const dns = { hostedZoneId: 'Z1', zoneName: 'example.com', ...fields };

      // Act & Assess
      expect(issuesOf(config({ dns }))).toEqual([expected]);
    });

    it('accepts names inside the zone, the apex included, in any case', () => {
      // Prepare
      const dns = {
        hostedZoneId: 'Z1',
        zoneName: 'Example.com.',
        aliasNames: ['example.com', 'PROXY.example.com'],
        nodeRecordName: 'nodes.prod.example.com.',
        srvDomain: 'example.com',
      };

      // Act & Assess
      expect(parseSyncConfig(config({ dns })).clusters[0]?.dns?.zoneName).toBe('Example.com.');
    });

    it('checks nothing against the zone when zoneName is absent', () => {
      // Prepare
      const dns = { hostedZoneId: 'Z1', nodeRecordName: 'nodes.example.org' };

      // Act & Assess
      expect(parseSyncConfig(config({ dns })).clusters[0]?.dns?.nodeRecordName).toBe('nodes.example.org');
    });

    it('refuses a zone name that is not a DNS name', () => {
      // Act & Assess
      expect(issuesOf(config({ dns: { hostedZoneId: 'Z1', zoneName: 'exa mple..com' } }))).toEqual([
        'clusters.0.dns.zoneName: must be a DNS name, like example.com',
      ]);
    });
  });

  describe('ownerId', () => {
    it('refuses an owner id longer than the 20-character rule-name prefix, saying why', () => {
      // Act & Assess
      expect(issuesOf(config({}, { ownerId: 'nlb-nodeport-sync-team-a' }))).toEqual([
        'ownerId: is 24 characters, at most 20: EventBridge rule names and the queue policy use only its first 20 (infra/naming.ts ruleNamePrefix), so two deployments whose owner ids share them would share a lane',
      ]);
    });

    it('accepts an owner id of 20 characters', () => {
      // Act & Assess
      expect(parseSyncConfig(config({}, { ownerId: 'nlb-nodeport-sync-ab' })).ownerId).toBe(
        'nlb-nodeport-sync-ab',
      );
    });
  });

  describe('prefix arithmetic', () => {
    it('counts the addresses a set of CIDRs covers, overlaps once, as enumerating them does', () => {
      // Prepare: CIDRs of /24-/32 inside 10.0.0.0/23, small enough to enumerate.
      const base = 10 * 2 ** 24;
      const cidrArb = fc
        .record({ prefix: fc.integer({ min: 24, max: 32 }), offset: fc.integer({ min: 0, max: 511 }) })
        .map(({ prefix, offset }) => {
          const size = 2 ** (32 - prefix);
          return `${formatIpv4(base + Math.floor(offset / size) * size)}/${prefix}`;
        });

      fc.assert(
        fc.property(fc.array(cidrArb, { maxLength: 8 }), (texts) => {
          // Act
          const cidrs = texts.map((text) => parseIpv4Cidr(text)).filter((c) => c !== undefined);
          const share = ipv4CoverageShare(cidrs);

          // Assess
          const addresses = new Set<number>();
          for (const { address, prefix } of cidrs) {
            for (let i = 0; i < 2 ** (32 - prefix); i += 1) addresses.add(address + i);
          }
          expect(share * 2 ** 32).toBe(addresses.size);
        }),
        { seed: 8, numRuns: 200 },
      );
    });
  });
});
