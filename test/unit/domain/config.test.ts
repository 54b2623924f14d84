import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseSyncConfig, parseSyncConfigText } from '../../../lambdas/domain/config';

const TG_A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a/0123456789abcdef';
const TG_B = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/b/0123456789abcdef';

function cluster(name: string, targetGroupArn: string) {
  return {
    name,
    nodeSource: { autoScalingGroups: [`${name}-nodes`] },
    portMappings: [{ name: 'app', targetGroupArn, nodePort: 30000 }],
  };
}

function errorOf(raw: unknown): ConfigError {
  try {
    parseSyncConfig(raw, 'test');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('Function: parseSyncConfig', () => {
  it('accepts the shipped example and fills the defaults', () => {
    // Prepare
    const text = readFileSync(join(__dirname, '../../../examples/sync.config.json'), 'utf8');
    // Act
    const config = parseSyncConfigText(text, 'examples/sync.config.json');
    // Assess
    expect(config.clusters.length).toBeGreaterThan(0);
    expect(config.safety.maxDeregisterShare).toBe(0.5);
    expect(config.clusters[0]?.portMappings[0]?.protocol).toBe('TCP');
  });

  it('rejects two clusters claiming the same target group, naming the field', () => {
    // Act
    const error = errorOf({ clusters: [cluster('one', TG_A), cluster('two', TG_A)] });
    // Assess
    expect(error.issues).toEqual([
      'clusters.1.portMappings.0.targetGroupArn: target group is already claimed by cluster "one"; a target group may belong to one cluster only',
    ]);
  });

  it('rejects two clusters sharing an Auto Scaling group', () => {
    // Prepare
    const two = { ...cluster('two', TG_B), nodeSource: { autoScalingGroups: ['one-nodes'] } };
    // Act
    const error = errorOf({ clusters: [cluster('one', TG_A), two] });
    // Assess
    expect(error.issues).toEqual([
      'clusters.1.nodeSource.autoScalingGroups.0: Auto Scaling group "one-nodes" is already in cluster "one"; an ASG may belong to one cluster only',
    ]);
  });

  it('accepts two clusters with distinct target groups', () => {
    // Act & Assess
    expect(parseSyncConfig({ clusters: [cluster('one', TG_A), cluster('two', TG_B)] }).clusters).toHaveLength(
      2,
    );
  });

  it.each([
    [{ clusters: [] }, 'clusters: '],
    [
      {
        clusters: [
          { ...cluster('one', TG_A), portMappings: [{ name: 'app', targetGroupArn: TG_A, nodePort: 70000 }] },
        ],
      },
      'clusters.0.portMappings.0.nodePort',
    ],
    [
      { clusters: [{ ...cluster('one', TG_A), nodeSource: {} }] },
      'clusters.0.nodeSource: needs at least one of autoScalingGroups or tagFilters',
    ],
    [
      {
        clusters: [
          {
            ...cluster('one', TG_A),
            portMappings: [{ name: 'app', targetGroupArn: 'arn:nope', nodePort: 30000 }],
          },
        ],
      },
      'clusters.0.portMappings.0.targetGroupArn: must be a target group ARN',
    ],
    [
      { clusters: [{ ...cluster('one', TG_A), portMappings: [{ name: 'app', nodePort: 30000 }] }] },
      'clusters.0.portMappings.0.targetGroupArn: is required unless loadBalancer.create is set',
    ],
    [{ clusters: [cluster('one', TG_A)], safety: { maxDeregisterShare: 2 } }, 'safety.maxDeregisterShare'],
    [
      { clusters: [{ ...cluster('one', TG_A), preservedTargets: ['10.0.0.0/99'] }] },
      'clusters.0.preservedTargets.0: is not an IPv4 CIDR',
    ],
    [
      { clusters: [{ ...cluster('one', TG_A), securityGroups: { clientCidrs: ['0.0.0.0/0'] } }] },
      'clusters.0.securityGroups.clientCidrs: 0.0.0.0/0 needs allowAnywhere: true',
    ],
    [
      { clusters: [{ ...cluster('one', TG_A), securityGroups: {} }] },
      'clusters.0.loadBalancer.arn: is required when securityGroups is set',
    ],
    [
      { clusters: [{ ...cluster('one', TG_A), dns: { hostedZoneId: 'Z1', aliasNames: ['a.example.com'] } }] },
      'clusters.0.loadBalancer.arn: is required when dns.aliasNames is set',
    ],
    [
      { clusters: [{ ...cluster('one', TG_A), dns: { hostedZoneId: 'Z1', srvDomain: 'example.com' } }] },
      'clusters.0.dns.nodeRecordName: is required when srvDomain is set',
    ],
    [
      { clusters: [cluster('one', TG_A)], preservedTargets: ['10.0.250/24'] },
      'preservedTargets.0: is not an IPv4 CIDR',
    ],
    [
      { clusters: [cluster('one', TG_A)], preservedTargets: ['10.0.300.0/24'] },
      'preservedTargets.0: is not an IPv4 CIDR',
    ],
  ])('rejects an invalid config with an error naming the field (%#)', (raw, expected) => {
    // Act
    const error = errorOf(raw);
    // Assess
    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain(expected);
  });

  it('reports JSON syntax errors as ConfigError with the source', () => {
    // Act & Assess
    expect(() => parseSyncConfigText('{ nope', 'my.json')).toThrow(/Invalid sync configuration \(my.json\)/);
  });
});
