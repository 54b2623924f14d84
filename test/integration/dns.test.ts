import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { AutoScalingAdapter } from '../../lambdas/aws/auto-scaling-adapter';
import { Ec2InstanceAdapter } from '../../lambdas/aws/ec2-instance-adapter';
import { LoadBalancerAdapter } from '../../lambdas/aws/load-balancer-adapter';
import { Route53Adapter } from '../../lambdas/aws/route53-adapter';
import { type ClusterConfig, parseSyncConfig, type SyncConfig } from '../../lambdas/domain/config';
import { compareIps } from '../../lambdas/domain/ip-addresses';
import { judgeNode, type Node } from '../../lambdas/domain/node';
import { discoverNodes } from '../../lambdas/sync/discover-nodes';
import { type DnsSyncResult, syncDns } from '../../lambdas/sync/dns-sync';
import { silentTelemetry } from '../support/fake-aws';
import { isolated, motoEndpoint } from '../support/moto-test-env';
import {
  asgInstances,
  buildWorld,
  setDesiredCapacity,
  type World,
  WorldTargetType,
} from '../support/moto-world';

/*
 * Route 53 scenarios against moto, through the real use case and adapters.
 *
 * Behaviour these tests rely on (moto 5.2.1):
 * - moto's hosted zone ids do not start with `Z` (e.g. `L0Q2GC48VVNYDEAGR7TVBW`), so the config schema's
 *   `^Z[A-Z0-9]+$` refuses them: the config is parsed with a placeholder id that the test then swaps for
 *   moto's. Real zone ids match the pattern.
 * - moto applies a change batch at once and reports it INSYNC; CREATE of an existing record set fails the
 *   batch with InvalidChangeBatch as on AWS.
 * - The NLB's CanonicalHostedZoneId is moto's placeholder `Z2P70J7EXAMPLE`; moto accepts it in alias targets
 *   without checking it.
 */

const OWNER = 'nlb-nodeport-sync';
const MARKER = '"heritage=nlb-nodeport-sync,owner=nlb-nodeport-sync,cluster=it"';
const { logger, metrics } = silentTelemetry();

function route53(): Route53Client {
  return new Route53Client({
    endpoint: motoEndpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

interface Scene {
  readonly world: World;
  readonly zoneId: string;
  readonly config: SyncConfig;
  readonly cluster: ClusterConfig;
}

async function scene(dns: Record<string, unknown> = {}): Promise<Scene> {
  const world = await buildWorld(motoEndpoint(), {
    nodes: 3,
    ports: [{ name: 'http', listenerPort: 80, nodePort: 30080, targetType: WorldTargetType.ip }],
  });
  const zone = await route53().send(
    new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `it-${Date.now()}` }),
  );
  const zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  const parsed = parseSyncConfig({
    ownerId: OWNER,
    clusters: [
      {
        name: 'it',
        nodeSource: { autoScalingGroups: [world.asgName] },
        loadBalancer: { arn: world.loadBalancerArn },
        portMappings: [{ name: 'http', targetGroupArn: world.targetGroups[0]?.arn, nodePort: 30080 }],
        dns: {
          hostedZoneId: 'ZPLACEHOLDER',
          aliasNames: ['web.example.com'],
          nodeRecordName: 'nodes.example.com',
          srvDomain: 'svc.example.com',
          ttl: 30,
          ...dns,
        },
      },
    ],
  });
  const cluster = parsed.clusters[0] as ClusterConfig;
  // moto's zone ids do not match the schema's pattern (see the header); swap in the real one after parsing.
  const withZone: ClusterConfig = {
    ...cluster,
    dns: { ...(cluster.dns as NonNullable<ClusterConfig['dns']>), hostedZoneId: zoneId },
  };
  return { world, zoneId, config: { ...parsed, clusters: [withZone] }, cluster: withZone };
}

async function desiredNodes(cluster: ClusterConfig): Promise<Node[]> {
  const discovery = await discoverNodes(cluster, {
    autoScaling: new AutoScalingAdapter(),
    ec2: new Ec2InstanceAdapter(),
  });
  return discovery.nodes.filter((node) => judgeNode(node).desired);
}

async function sync({ config, cluster }: Scene, dryRun = false): Promise<DnsSyncResult> {
  return syncDns(
    { config, cluster, nodes: await desiredNodes(cluster), dryRun },
    { dns: new Route53Adapter(), loadBalancers: new LoadBalancerAdapter(), logger, metrics },
  );
}

/** The zone as `name type value,value` lines, SOA and NS left out. */
async function zoneLines(zoneId: string): Promise<string[]> {
  const output = await route53().send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  return (output.ResourceRecordSets ?? [])
    .filter((set) => set.Type !== 'SOA' && set.Type !== 'NS')
    .map((set) => {
      const values =
        set.AliasTarget !== undefined
          ? `alias ${set.AliasTarget.DNSName}`
          : (set.ResourceRecords ?? [])
              .map((r) => r.Value ?? '')
              .sort(compareIps)
              .join(',');
      return `${set.Name} ${set.Type} ${values}`;
    })
    .sort();
}

async function nodeIps(world: World): Promise<string> {
  return (await asgInstances(motoEndpoint(), world.asgName))
    .map((i) => i.privateIp)
    .sort(compareIps)
    .join(',');
}

describe('Use case: syncDns against moto', () => {
  it(
    'publishes alias, node and SRV records with their TXT markers, and the node records follow 3 -> 5 -> 2',
    isolated(async () => {
      // Prepare
      const s = await scene();
      const lines = async (ips: string) => [
        `_http._tcp.svc.example.com. SRV 0 50 30080 nodes.example.com.`,
        `_http._tcp.svc.example.com. TXT ${MARKER}`,
        `nodes.example.com. A ${ips}`,
        `nodes.example.com. TXT ${MARKER}`,
        `web.example.com. A alias ${(await new LoadBalancerAdapter().describeLoadBalancer(s.world.loadBalancerArn)).dnsName}.`,
        `web.example.com. TXT ${MARKER}`,
      ];

      // Act
      const first = await sync(s);
      const atThree = await zoneLines(s.zoneId);
      const ipsAtThree = await nodeIps(s.world);
      await setDesiredCapacity(motoEndpoint(), s.world.asgName, 5);
      const grow = await sync(s);
      const atFive = await zoneLines(s.zoneId);
      const ipsAtFive = await nodeIps(s.world);
      await setDesiredCapacity(motoEndpoint(), s.world.asgName, 2);
      const shrink = await sync(s);
      const steady = await sync(s);

      // Assess
      expect(first.batches).toHaveLength(1);
      expect(first.applied).toHaveLength(6);
      expect(atThree).toEqual(await lines(ipsAtThree));
      expect(ipsAtThree.split(',')).toHaveLength(3);
      expect(grow.plan.map((c) => `${c.action} ${c.recordSet.name} ${c.recordSet.type}`)).toEqual([
        'UPSERT nodes.example.com. A',
      ]);
      expect(atFive).toEqual(await lines(ipsAtFive));
      expect(ipsAtFive.split(',')).toHaveLength(5);
      expect(shrink.batches).toHaveLength(1);
      expect(await zoneLines(s.zoneId)).toEqual(await lines(await nodeIps(s.world)));
      expect((await nodeIps(s.world)).split(',')).toHaveLength(2);
      expect(steady.plan).toEqual([]);
      expect(steady.batches).toEqual([]);
    }),
  );

  it(
    'leaves a hand-made record of a managed name untouched and reports it, while managing the other names',
    isolated(async () => {
      // Prepare
      const s = await scene();
      await route53().send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: s.zoneId,
          ChangeBatch: {
            Changes: [
              {
                Action: 'CREATE',
                ResourceRecordSet: {
                  Name: 'web.example.com',
                  Type: 'A',
                  TTL: 300,
                  ResourceRecords: [{ Value: '203.0.113.10' }],
                },
              },
            ],
          },
        }),
      );

      // Act
      const result = await sync(s);
      const again = await sync(s);

      // Assess
      expect(result.conflicts).toEqual([
        {
          name: 'web.example.com.',
          types: ['A'],
          reason: expect.stringContaining('without our ownership marker'),
        },
      ]);
      expect(result.warnings).toEqual(expect.arrayContaining([expect.stringContaining('web.example.com.')]));
      const zone = await zoneLines(s.zoneId);
      expect(zone).toContain('web.example.com. A 203.0.113.10');
      expect(zone.filter((line) => line.startsWith('web.example.com.'))).toEqual([
        'web.example.com. A 203.0.113.10',
      ]);
      expect(zone).toEqual(expect.arrayContaining([`nodes.example.com. TXT ${MARKER}`]));
      expect(again.plan).toEqual([]);
    }),
  );

  it(
    'removes its records of a name no longer configured but listed as retired, and keeps everything it does not own',
    isolated(async () => {
      // Prepare
      const s = await scene();
      await sync(s);
      const narrowed: Scene = {
        ...s,
        cluster: {
          ...s.cluster,
          dns: {
            ...(s.cluster.dns as NonNullable<ClusterConfig['dns']>),
            aliasNames: [],
            retiredNames: ['web.example.com'],
          },
        },
      };

      // Act
      const result = await sync(narrowed);

      // Assess
      expect(result.plan.map((c) => `${c.action} ${c.recordSet.name} ${c.recordSet.type}`)).toEqual([
        'DELETE web.example.com. A',
        'DELETE web.example.com. TXT',
      ]);
      expect((await zoneLines(s.zoneId)).some((line) => line.startsWith('web.example.com.'))).toBe(false);
    }),
  );

  it(
    'plans without writing in a dry run',
    isolated(async () => {
      // Prepare
      const s = await scene();

      // Act
      const result = await sync(s, true);

      // Assess
      expect(result.plan).toHaveLength(6);
      expect(result.batches).toEqual([]);
      expect(await zoneLines(s.zoneId)).toEqual([]);
    }),
  );
});
