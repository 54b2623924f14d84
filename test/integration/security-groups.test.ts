import {
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DescribeSecurityGroupRulesCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { CreateLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AutoScalingAdapter } from '../../lambdas/aws/auto-scaling-adapter';
import { createEc2Client } from '../../lambdas/aws/clients';
import { Ec2InstanceAdapter } from '../../lambdas/aws/ec2-instance-adapter';
import { interfaceDescription, LoadBalancerAdapter } from '../../lambdas/aws/load-balancer-adapter';
import { SecurityGroupAdapter } from '../../lambdas/aws/security-group-adapter';
import { type ClusterConfig, parseSyncConfig, type SyncConfig } from '../../lambdas/domain/config';
import { ruleOwnerPrefix } from '../../lambdas/domain/ingress-rules';
import { AmbiguousSecurityGroupError } from '../../lambdas/domain/network-errors';
import { judgeNode, type Node } from '../../lambdas/domain/node';
import { discoverNodes } from '../../lambdas/sync/discover-nodes';
import { type SecurityGroupSyncResult, syncSecurityGroups } from '../../lambdas/sync/security-group-sync';
import { silentTelemetry } from '../support/fake-aws';
import { isolated, motoEndpoint } from '../support/moto-test-env';
import {
  buildWorld,
  setDesiredCapacity,
  type World,
  WorldTargetType,
  worldClients,
} from '../support/moto-world';
import { withGroupRuleDescriptions } from '../support/sg-rule-shim';

/*
 * Security-group scenarios against moto, through the real use case and adapters.
 *
 * Behaviour these tests rely on (checked against moto 5.2.1's ec2/models/security_groups.py):
 * - The product revokes by SecurityGroupRuleIds, which moto honours exactly as AWS does. It never
 *   revokes by re-stating permissions, where moto and AWS differ: moto treats a group-referencing
 *   rule's description as part of its identity (a revoke without the same description is NotFound),
 *   AWS ignores descriptions. The test "moto deviation" below pins that difference down, so a moto
 *   upgrade that changes it is noticed; no product path depends on it.
 * - moto's DescribeSecurityGroupRules leaves out the Description of group-referencing rules (AWS returns
 *   it). The tests give the adapter an EC2 client with test/support/sg-rule-shim.ts, which fills it in from
 *   DescribeSecurityGroups; the test "moto deviation: ... omits" shows the raw gap.
 * - moto creates no network interfaces for load balancers; the load-balancer-ips test creates the
 *   interfaces AWS would create (description `ELB <arn tail>`) by hand.
 * - moto answers duplicates of CIDR rules with InvalidPermission.Duplicate as AWS does; for
 *   group-referencing rules with a different description it accepts a second rule, where AWS would
 *   refuse. The planner never authorizes a rule an unowned one already covers, so no test meets this.
 */

const OWNER = 'nlb-nodeport-sync';

/** The product adapter, on an EC2 client carrying the test-only description shim (see sg-rule-shim.ts). */
function securityGroupAdapter(): SecurityGroupAdapter {
  return new SecurityGroupAdapter(withGroupRuleDescriptions(createEc2Client()));
}
const HEALTH_PORT = 30081;
const { logger, metrics } = silentTelemetry();

interface Scene {
  readonly world: World;
  readonly config: SyncConfig;
  readonly cluster: ClusterConfig;
}

function configFor(world: World, securityGroups: Record<string, unknown>, nodePort = 30080): SyncConfig {
  return parseSyncConfig({
    ownerId: OWNER,
    clusters: [
      {
        name: 'it',
        nodeSource: { autoScalingGroups: [world.asgName] },
        loadBalancer: { arn: world.loadBalancerArn },
        portMappings: [
          {
            name: 'http',
            targetGroupArn: world.targetGroups[0]?.arn,
            targetType: 'ip',
            nodePort,
            healthCheckNodePort: HEALTH_PORT,
          },
          { name: 'https', targetGroupArn: world.targetGroups[1]?.arn, targetType: 'ip', nodePort: 30443 },
        ],
        securityGroups,
      },
    ],
  });
}

async function scene(
  securityGroups: Record<string, unknown> = { source: 'vpc-cidr' },
  nodes = 3,
  tagged = true,
): Promise<Scene> {
  const world = await buildWorld(motoEndpoint(), {
    nodes,
    ...(tagged && { clusterTag: 'it' }),
    ports: [
      {
        name: 'http',
        listenerPort: 80,
        nodePort: 30080,
        targetType: WorldTargetType.ip,
        healthCheckNodePort: HEALTH_PORT,
      },
      { name: 'https', listenerPort: 443, nodePort: 30443, targetType: WorldTargetType.ip },
    ],
  });
  const config = configFor(world, securityGroups);
  return { world, config, cluster: config.clusters[0] as ClusterConfig };
}

async function desiredNodes(cluster: ClusterConfig): Promise<Node[]> {
  const discovery = await discoverNodes(cluster, {
    autoScaling: new AutoScalingAdapter(),
    ec2: new Ec2InstanceAdapter(),
  });
  return discovery.nodes.filter((node) => judgeNode(node).desired);
}

async function sync(
  config: SyncConfig,
  cluster: ClusterConfig,
  dryRun = false,
): Promise<SecurityGroupSyncResult> {
  return syncSecurityGroups(
    { config, cluster, nodes: await desiredNodes(cluster), dryRun },
    { securityGroups: securityGroupAdapter(), loadBalancers: new LoadBalancerAdapter(), logger, metrics },
  );
}

/** The group's inbound rules; descriptions restored by the shim unless `raw` (moto's own answer). */
async function ingress(groupId: string, raw = false): Promise<SecurityGroupRule[]> {
  const { ec2: plain } = worldClients(motoEndpoint());
  const ec2 = raw ? plain : withGroupRuleDescriptions(plain);
  const output = await ec2.send(
    new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }),
  );
  return (output.SecurityGroupRules ?? []).filter((rule) => rule.IsEgress !== true);
}

/** Rules as short strings: `tcp 30080-30081 10.0.0.0/16 <description>`, sorted. */
async function ruleLines(groupId: string): Promise<string[]> {
  return (await ingress(groupId))
    .map(
      (r) =>
        `${r.IpProtocol} ${r.FromPort === r.ToPort ? r.FromPort : `${r.FromPort}-${r.ToPort}`} ` +
        `${r.CidrIpv4 ?? r.ReferencedGroupInfo?.GroupId} ${r.Description ?? '-'}`,
    )
    .sort();
}

const OURS = `${ruleOwnerPrefix(OWNER, 'it')}`;

describe('Use case: syncSecurityGroups against moto', () => {
  it(
    'opens the NodePorts, merged into ranges, and keeps them exact as the group scales 3 -> 5 -> 2',
    isolated(async () => {
      // Prepare
      const { world, config, cluster } = await scene();
      const expected = [
        `tcp 30080-30081 10.0.0.0/16 ${OURS}health+traffic`,
        `tcp 30443 10.0.0.0/16 ${OURS}health+traffic`,
      ];

      // Act
      const first = await sync(config, cluster);
      const afterFirst = await ruleLines(world.securityGroupId);
      await setDesiredCapacity(motoEndpoint(), world.asgName, 5);
      const afterFive = await sync(config, cluster);
      await setDesiredCapacity(motoEndpoint(), world.asgName, 2);
      const afterTwo = await sync(config, cluster);

      // Assess
      expect(first.groupIds).toEqual([world.securityGroupId]);
      expect(first.source).toMatchObject({ mode: 'vpc-cidr', sources: ['10.0.0.0/16'] });
      expect(first.applied.map((c) => c.kind)).toEqual(['authorize', 'authorize']);
      expect(afterFirst).toEqual(expected);
      expect(afterFive.plan).toEqual([]);
      expect(afterTwo.plan).toEqual([]);
      expect(await ruleLines(world.securityGroupId)).toEqual(expected);
    }),
  );

  it(
    'leaves hand-made rules untouched, including one that admits the same ports from the same source',
    isolated(async () => {
      // Prepare
      const { world, config, cluster } = await scene();
      const { ec2 } = worldClients(motoEndpoint());
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: world.securityGroupId,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: 30443,
              ToPort: 30443,
              IpRanges: [{ CidrIp: '10.0.0.0/16', Description: 'ops: https' }],
            },
            { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '192.0.2.0/24' }] },
            {
              IpProtocol: 'tcp',
              FromPort: 30080,
              ToPort: 30080,
              IpRanges: [
                { CidrIp: '198.51.100.0/24', Description: 'nlb-nodeport-sync:someone-else/it:traffic' },
              ],
            },
          ],
        }),
      );
      const handMade = await ruleLines(world.securityGroupId);

      // Act
      const first = await sync(config, cluster);
      const second = await sync(config, cluster);

      // Assess
      expect(first.coveredByUnowned).toEqual([
        expect.objectContaining({ groupId: world.securityGroupId, rule: 'tcp 30443 from 10.0.0.0/16' }),
      ]);
      expect(first.plan.every((c) => c.kind === 'authorize')).toBe(true);
      expect(second.plan).toEqual([]);
      const after = await ruleLines(world.securityGroupId);
      expect(after).toEqual(expect.arrayContaining(handMade));
      expect(after).toEqual([...handMade, `tcp 30080-30081 10.0.0.0/16 ${OURS}health+traffic`].sort());
    }),
  );

  it(
    'revokes only its own stale rule when a port mapping changes, and the hand-made rule on that port survives',
    isolated(async () => {
      // Prepare
      const { world, config, cluster } = await scene();
      await sync(config, cluster);
      const { ec2 } = worldClients(motoEndpoint());
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: world.securityGroupId,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: 30080,
              ToPort: 30080,
              IpRanges: [{ CidrIp: '192.0.2.0/24', Description: 'ops' }],
            },
          ],
        }),
      );
      const moved = configFor(world, { source: 'vpc-cidr' }, 30090);

      // Act
      const result = await sync(moved, moved.clusters[0] as ClusterConfig);

      // Assess
      expect(result.plan.map((c) => [c.kind, `${c.rule.fromPort}-${c.rule.toPort}`])).toEqual([
        ['authorize', '30081-30081'],
        ['authorize', '30090-30090'],
        ['revoke', '30080-30081'],
      ]);
      expect(await ruleLines(world.securityGroupId)).toEqual(
        [
          'tcp 30080 192.0.2.0/24 ops',
          `tcp 30081 10.0.0.0/16 ${OURS}health`,
          `tcp 30090 10.0.0.0/16 ${OURS}traffic`,
          `tcp 30443 10.0.0.0/16 ${OURS}health+traffic`,
        ].sort(),
      );
    }),
  );

  it(
    'admits the NLB security group when the NLB has one, and moves to it from the VPC CIDR',
    isolated(async () => {
      // Prepare
      const { world, config, cluster } = await scene({ source: 'auto' });
      const { ec2, elbv2 } = worldClients(motoEndpoint());
      const nlbGroup = await ec2.send(
        new CreateSecurityGroupCommand({ GroupName: 'nlb', Description: 'nlb', VpcId: world.vpcId }),
      );
      const withGroup = await elbv2.send(
        new CreateLoadBalancerCommand({
          Name: 'it-nlb-sg',
          Type: 'network',
          Scheme: 'internal',
          Subnets: [...world.subnetIds],
          SecurityGroups: [nlbGroup.GroupId as string],
        }),
      );
      await sync(config, cluster);
      const before = await ruleLines(world.securityGroupId);

      // Act
      const result = await syncSecurityGroups(
        {
          config,
          cluster,
          nodes: await desiredNodes(cluster),
          loadBalancerArn: withGroup.LoadBalancers?.[0]?.LoadBalancerArn,
        },
        { securityGroups: securityGroupAdapter(), loadBalancers: new LoadBalancerAdapter(), logger, metrics },
      );

      // Assess
      expect(before).toEqual([
        `tcp 30080-30081 10.0.0.0/16 ${OURS}health+traffic`,
        `tcp 30443 10.0.0.0/16 ${OURS}health+traffic`,
      ]);
      expect(result.source?.mode).toBe('load-balancer-security-group');
      const again = await syncSecurityGroups(
        {
          config,
          cluster,
          nodes: await desiredNodes(cluster),
          loadBalancerArn: withGroup.LoadBalancers?.[0]?.LoadBalancerArn,
        },
        { securityGroups: securityGroupAdapter(), loadBalancers: new LoadBalancerAdapter(), logger, metrics },
      );
      expect(again.plan).toEqual([]);
      expect(await ruleLines(world.securityGroupId)).toEqual([
        `tcp 30080-30081 ${nlbGroup.GroupId} ${OURS}health+traffic`,
        `tcp 30443 ${nlbGroup.GroupId} ${OURS}health+traffic`,
      ]);
    }),
  );

  it(
    'admits the NLB private IPs found through its network interfaces, one rule per IP and range',
    isolated(async () => {
      // Prepare
      const { world, config, cluster } = await scene({ source: 'load-balancer-ips' });
      const { ec2 } = worldClients(motoEndpoint());
      const ips: string[] = [];
      for (const [i, subnetId] of world.subnetIds.entries()) {
        const ip = `10.0.${i * 16}.200`;
        // moto creates no interfaces for a load balancer: make the ones AWS would, one per enabled subnet.
        await ec2.send(
          new CreateNetworkInterfaceCommand({
            SubnetId: subnetId,
            PrivateIpAddress: ip,
            Description: interfaceDescription(world.loadBalancerArn),
          }),
        );
        ips.push(ip);
      }

      // Act
      const result = await sync(config, cluster);

      // Assess
      expect(result.source?.sources).toEqual(ips.map((ip) => `${ip}/32`));
      expect(await ruleLines(world.securityGroupId)).toEqual(
        ips
          .flatMap((ip) => [
            `tcp 30080-30081 ${ip}/32 ${OURS}health+traffic`,
            `tcp 30443 ${ip}/32 ${OURS}health+traffic`,
          ])
          .sort(),
      );
    }),
  );

  it(
    'plans without writing in a dry run',
    isolated(async () => {
      // Prepare
      const { world, config, cluster } = await scene();

      // Act
      const result = await sync(config, cluster, true);

      // Assess
      expect(result.plan).toHaveLength(2);
      expect(result.applied).toEqual([]);
      expect(await ingress(world.securityGroupId)).toEqual([]);
    }),
  );

  it(
    'refuses to guess between two untagged node groups, and picks the one tagged for the cluster',
    isolated(async () => {
      // Prepare: the node group starts untagged
      const { world, config, cluster } = await scene(undefined, 3, false);
      const { ec2 } = worldClients(motoEndpoint());
      const extra = await ec2.send(
        new CreateSecurityGroupCommand({ GroupName: 'extra', Description: 'extra', VpcId: world.vpcId }),
      );
      const nodes = (await desiredNodes(cluster)).map((node) => ({
        ...node,
        securityGroupIds: [...node.securityGroupIds, extra.GroupId as string],
      }));
      const deps = {
        securityGroups: securityGroupAdapter(),
        loadBalancers: new LoadBalancerAdapter(),
        logger,
        metrics,
      };

      // Act
      const refused = syncSecurityGroups({ config, cluster, nodes }, deps);
      await expect(refused).rejects.toThrow(AmbiguousSecurityGroupError);
      await ec2.send(
        new CreateTagsCommand({
          Resources: [world.securityGroupId],
          Tags: [{ Key: 'kubernetes.io/cluster/it', Value: 'owned' }],
        }),
      );
      const chosen = await syncSecurityGroups({ config, cluster, nodes }, deps);

      // Assess
      expect(chosen.groupIds).toEqual([world.securityGroupId]);
      expect(await ingress(extra.GroupId as string)).toEqual([]);
    }),
  );

  it(
    'finds the node group by its tag among groups of other clusters and tag values, one tag-key search',
    isolated(async () => {
      // Prepare: the node group carries nlb-nodeport-sync/cluster=it; the nodes also carry another cluster's
      // group, and the VPC holds a group whose kubernetes.io/cluster/it value marks nothing, and an untagged one
      const { world, config, cluster } = await scene();
      const { ec2 } = worldClients(motoEndpoint());
      const group = async (name: string, tags: Record<string, string>) => {
        const created = await ec2.send(
          new CreateSecurityGroupCommand({
            GroupName: name,
            Description: name,
            VpcId: world.vpcId,
            TagSpecifications: [
              {
                ResourceType: 'security-group',
                Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
              },
            ],
          }),
        );
        return created.GroupId as string;
      };
      const blue = await group('blue', { 'nlb-nodeport-sync/cluster': 'blue' });
      const odd = await group('odd', { 'kubernetes.io/cluster/it': 'unknown' });
      await group('plain', { team: 'it' });
      const nodes = (await desiredNodes(cluster)).map((node) => ({
        ...node,
        securityGroupIds: [...node.securityGroupIds, blue],
      }));
      const adapter = securityGroupAdapter();

      // Act
      const found = await adapter.describeGroupsWithTagKeys([
        'nlb-nodeport-sync/cluster',
        'kubernetes.io/cluster/it',
      ]);
      const result = await syncSecurityGroups(
        { config, cluster, nodes },
        { securityGroups: adapter, loadBalancers: new LoadBalancerAdapter(), logger, metrics },
      );
      const rules = await adapter.describeIngressRulesOf([world.securityGroupId, blue]);

      // Assess
      expect(found.map((g) => g.groupId).sort()).toEqual([world.securityGroupId, blue, odd].sort());
      expect(result.groupIds).toEqual([world.securityGroupId]);
      expect(rules[blue]).toEqual([]);
      expect(rules[world.securityGroupId]?.map((r) => `${r.fromPort}-${r.toPort}`).sort()).toEqual(
        (await ingress(world.securityGroupId)).map((r) => `${r.FromPort}-${r.ToPort}`).sort(),
      );
      expect(rules[world.securityGroupId]?.length).toBeGreaterThan(0);
    }),
  );

  it(
    'moto deviation: a group-referencing rule revoked by permissions needs its description in moto, not on AWS',
    isolated(async () => {
      // Prepare
      const { world } = await scene();
      const { ec2 } = worldClients(motoEndpoint());
      const source = await ec2.send(
        new CreateSecurityGroupCommand({ GroupName: 'src', Description: 'src', VpcId: world.vpcId }),
      );
      const permission = { IpProtocol: 'tcp', FromPort: 30080, ToPort: 30080 };
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: world.securityGroupId,
          IpPermissions: [
            { ...permission, UserIdGroupPairs: [{ GroupId: source.GroupId, Description: 'described' }] },
          ],
        }),
      );

      // Act
      const withoutDescription = ec2.send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: world.securityGroupId,
          IpPermissions: [{ ...permission, UserIdGroupPairs: [{ GroupId: source.GroupId }] }],
        }),
      );

      // Assess: AWS would revoke it; moto says NotFound. The product revokes by rule id instead (next line).
      await expect(withoutDescription).rejects.toMatchObject({ name: 'InvalidPermission.NotFound' });
      const [rule] = await ingress(world.securityGroupId);
      await securityGroupAdapter().revokeIngress(world.securityGroupId, [
        {
          ruleId: rule?.SecurityGroupRuleId as string,
          groupId: world.securityGroupId,
          protocol: 'tcp',
          fromPort: 30080,
          toPort: 30080,
          source: { kind: 'group', groupId: source.GroupId as string },
        },
      ]);
      expect(await ingress(world.securityGroupId)).toEqual([]);
    }),
  );

  it(
    'moto deviation: DescribeSecurityGroupRules omits the description of a group-referencing rule; the shim restores it',
    isolated(async () => {
      // Prepare
      const { world } = await scene();
      const { ec2 } = worldClients(motoEndpoint());
      const source = await ec2.send(
        new CreateSecurityGroupCommand({ GroupName: 'src', Description: 'src', VpcId: world.vpcId }),
      );
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: world.securityGroupId,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: 30080,
              ToPort: 30080,
              UserIdGroupPairs: [{ GroupId: source.GroupId, Description: 'mine' }],
            },
          ],
        }),
      );

      // Act
      const raw = await ingress(world.securityGroupId, true);
      const shimmed = await securityGroupAdapter().describeIngressRules(world.securityGroupId);

      // Assess
      expect(raw.map((r) => r.Description)).toEqual([undefined]);
      expect(shimmed.map((r) => r.description)).toEqual(['mine']);
    }),
  );
});
