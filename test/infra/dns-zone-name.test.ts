import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { createSyncApp } from '../../infra/app';
import { checkRecordNamesAgainstZones, ZONE_NAME_UNKNOWN_WARNING } from '../../infra/dns-zone-check';
import { ConfigError, parseSyncConfig } from '../../lambdas/domain/config';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const prefix = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333';

function cluster(name: string, n: number, dns: Record<string, unknown>) {
  return {
    name,
    nodeSource: { autoScalingGroups: [`eks-${name}`] },
    loadBalancer: { arn: `${prefix}:loadbalancer/net/${name}/50dc6c495c0c918${n}` },
    portMappings: [
      {
        name: 'http',
        targetGroupArn: `${prefix}:targetgroup/${name}-http/73e2d6bc24d8a06${n}`,
        nodePort: 30080,
      },
    ],
    dns,
  };
}

const configOf = (...clusters: ReturnType<typeof cluster>[]) =>
  parseSyncConfig({ ownerId: 'zone-check', alarmEmails: ['ops@example.com'], clusters }, 'test');

describe('DNS names against the hosted zone at synth', () => {
  describe('Function: checkRecordNamesAgainstZones', () => {
    it('warns, naming the records and dns.zoneName, when the zone name is unknown at synth', () => {
      // Prepare
      const config = configOf(
        cluster('prod', 1, {
          hostedZoneId: 'Z0123456789ABCDEFGHIJ',
          aliasNames: ['proxy.example.com'],
          nodeRecordName: 'nodes.example.org',
          srvDomain: 'srv.example.com',
        }),
      );

      // Act
      const check = checkRecordNamesAgainstZones(config);

      // Assess
      expect(check.errors).toEqual([]);
      expect(check.warnings).toHaveLength(1);
      expect(check.warnings[0]).toContain('hosted zone Z0123456789ABCDEFGHIJ is unknown at synth');
      expect(check.warnings[0]).toContain('proxy.example.com., nodes.example.org., srv.example.com.');
      expect(check.warnings[0]).toContain('Set clusters.0.dns.zoneName');
    });

    it('checks nothing more when the cluster names its zone (the load checks it)', () => {
      // Act & Assess
      expect(
        checkRecordNamesAgainstZones(
          configOf(
            cluster('prod', 1, {
              hostedZoneId: 'Z1',
              zoneName: 'example.com',
              aliasNames: ['a.example.com'],
            }),
          ),
        ),
      ).toEqual({ errors: [], warnings: [] });
    });

    it('says nothing for a dns block that names no record', () => {
      // Act & Assess
      expect(checkRecordNamesAgainstZones(configOf(cluster('prod', 1, { hostedZoneId: 'Z1' })))).toEqual({
        errors: [],
        warnings: [],
      });
    });

    it("checks a cluster's names against the zone name another cluster gives for the same zone", () => {
      // Prepare
      const config = configOf(
        cluster('blue', 1, { hostedZoneId: 'Z1', zoneName: 'example.com', aliasNames: ['blue.example.com'] }),
        cluster('green', 2, {
          hostedZoneId: 'Z1',
          aliasNames: ['green.example.com', 'green.notexample.com'],
          nodeRecordName: 'Nodes.Example.com.',
        }),
      );

      // Act
      const check = checkRecordNamesAgainstZones(config);

      // Assess
      expect(check).toEqual({
        errors: [
          'clusters.1.dns.aliasNames.1: "green.notexample.com" is not inside the hosted zone example.com. (the dns.zoneName another cluster gives for Z1)',
        ],
        warnings: [],
      });
    });
  });

  describe('Stack synth', () => {
    it('carries the warning, acknowledgeable by its id, when a cluster does not name its zone', () => {
      // Prepare
      const config = configOf(cluster('prod', 1, { hostedZoneId: 'Z1', aliasNames: ['proxy.example.com'] }));

      // Act
      const { stack } = createSyncApp({ config, appProps: { context: NO_BUNDLING } });

      // Assess
      Annotations.fromStack(stack).hasWarning(
        '/NlbNodeportSync',
        Match.stringLikeRegexp(
          `hosted zone Z1 is unknown at synth, so proxy\\.example\\.com\\. cannot be checked.*Set clusters\\.0\\.dns\\.zoneName.*${ZONE_NAME_UNKNOWN_WARNING}`,
        ),
      );
    }, 120_000);

    it('carries no such warning when the zone is named', () => {
      // Prepare
      const config = configOf(
        cluster('prod', 1, {
          hostedZoneId: 'Z1',
          zoneName: 'example.com',
          aliasNames: ['proxy.example.com'],
        }),
      );

      // Act
      const { stack } = createSyncApp({ config, appProps: { context: NO_BUNDLING } });

      // Assess
      Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp(ZONE_NAME_UNKNOWN_WARNING));
    }, 120_000);

    it('stops with a ConfigError naming the field when a name is outside a zone the config names elsewhere', () => {
      // Prepare
      const config = configOf(
        cluster('blue', 1, { hostedZoneId: 'Z1', zoneName: 'example.com', aliasNames: ['blue.example.com'] }),
        cluster('green', 2, { hostedZoneId: 'Z1', nodeRecordName: 'nodes.example.net' }),
      );

      // Act
      const synth = () => createSyncApp({ config, appProps: { context: NO_BUNDLING } });

      // Assess
      expect(synth).toThrow(ConfigError);
      expect(synth).toThrow(
        'clusters.1.dns.nodeRecordName: "nodes.example.net" is not inside the hosted zone',
      );
    }, 120_000);
  });
});
