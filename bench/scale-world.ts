/**
 * The bench's world at any size up to the NLB's full one: six Availability Zones, one Auto Scaling group
 * per zone (moto puts all of a group's instances in its first subnet, and an EKS node group per zone is
 * common), an internal NLB in the six zones with six target groups (4 `ip`, 2 `instance`), a node security
 * group found by its cluster tag, and a Route 53 zone. The cluster's config manages targets, node security
 * group rules (source: the VPC's CIDR; moto gives NLBs no network interfaces) and DNS (an alias, the node
 * A record, an SRV record per mapping).
 *
 * Everything the bench reads to check the product goes through its own clients (uncounted, no latency).
 */
import {
  CreateAutoScalingGroupCommand,
  PutLifecycleHookCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeSecurityGroupRulesCommand,
} from '@aws-sdk/client-ec2';
import { CreateLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { parseSyncConfig, type SyncConfig } from '../lambdas/domain/config';
import { lifecycleHookName } from '../lambdas/domain/lifecycle-hooks';
import {
  asgInstances,
  createTcpListener,
  describeGroupTargets,
  required,
  type WorldInstance,
  worldClients,
} from '../test/support/moto-world';

/** The six zones of us-east-1, as moto knows them. */
export const ZONES = [
  'us-east-1a',
  'us-east-1b',
  'us-east-1c',
  'us-east-1d',
  'us-east-1e',
  'us-east-1f',
] as const;

const OWNER_ID = 'nlb-nodeport-sync';
const CLUSTER = 'bench';
const ZONE_NAME = 'bench.example.com';
const ALIAS_NAME = `ingress.${ZONE_NAME}`;
const NODE_RECORD_NAME = `nodes.${ZONE_NAME}`;
const SRV_DOMAIN = `svc.${ZONE_NAME}`;
/** Route 53 takes at most 400 values in a record set: the product publishes the first 400 IPs. */
const MAX_RECORD_VALUES = 400;

/** The six port mappings: 4 `ip` groups, 2 `instance` groups. */
export const PORTS = [
  { name: 'web', listenerPort: 443, nodePort: 30443, targetType: 'ip' },
  { name: 'api', listenerPort: 8443, nodePort: 30444, targetType: 'ip' },
  { name: 'grpc', listenerPort: 9443, nodePort: 30445, targetType: 'ip' },
  { name: 'mqtt', listenerPort: 8883, nodePort: 30446, targetType: 'ip' },
  { name: 'ssh', listenerPort: 2222, nodePort: 30447, targetType: 'instance' },
  { name: 'sip', listenerPort: 5061, nodePort: 30448, targetType: 'instance' },
] as const;

/** A target group of the world. */
export interface ScaleTargetGroup {
  readonly arn: string;
  readonly nodePort: number;
  readonly targetType: 'ip' | 'instance';
}

/** What {@link buildScaleWorld} created. */
export interface ScaleWorld {
  /** One Auto Scaling group per zone, in zone order. */
  readonly asgNames: readonly string[];
  readonly loadBalancerArn: string;
  readonly targetGroups: readonly ScaleTargetGroup[];
  readonly securityGroupId: string;
  readonly hostedZoneId: string;
  readonly config: SyncConfig;
  /** Hook names of the product's lifecycle hooks (the same on every group). */
  readonly launchHookName: string;
  readonly terminateHookName: string;
}

/** How `nodes` spread over the zones: as evenly as possible, the first zones taking the remainder. */
export function perZone(nodes: number): number[] {
  return ZONES.map((_, i) => Math.floor(nodes / ZONES.length) + (i < nodes % ZONES.length ? 1 : 0));
}

/**
 * Builds the world with `nodes` instances spread over the six zones' groups, every target group empty.
 * @param endpoint - where the bench's own clients go (the shim in front of moto, no latency)
 */
export async function buildScaleWorld(endpoint: string, nodes: number): Promise<ScaleWorld> {
  const { ec2, autoScaling, elbv2 } = worldClients(endpoint);
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const vpcId = required(vpc.Vpc?.VpcId, 'VpcId');
  const subnetIds = await Promise.all(
    ZONES.map(async (zone, i) => {
      const subnet = await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.0.${i * 16}.0/20`, AvailabilityZone: zone }),
      );
      return required(subnet.Subnet?.SubnetId, 'SubnetId');
    }),
  );
  const securityGroup = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: 'bench-nodes',
      Description: 'Worker nodes',
      VpcId: vpcId,
      TagSpecifications: [
        { ResourceType: 'security-group', Tags: [{ Key: 'nlb-nodeport-sync/cluster', Value: CLUSTER }] },
      ],
    }),
  );
  const securityGroupId = required(securityGroup.GroupId, 'GroupId');
  const images = await ec2.send(
    new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['amzn2-ami-*'] }] }),
  );
  const launchTemplate = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: 'bench-nodes',
      LaunchTemplateData: {
        ImageId: required(images.Images?.[0]?.ImageId, 'ImageId'),
        InstanceType: 'm6i.large',
        SecurityGroupIds: [securityGroupId],
      },
    }),
  );
  const launchTemplateId = required(launchTemplate.LaunchTemplate?.LaunchTemplateId, 'LaunchTemplateId');
  const launchHookName = lifecycleHookName(OWNER_ID, CLUSTER, 'launch');
  const terminateHookName = lifecycleHookName(OWNER_ID, CLUSTER, 'terminate');
  const counts = perZone(nodes);
  const asgNames = ZONES.map((zone) => `bench-${zone}`);
  // One group after the other: moto launches each group's instances while it answers.
  for (const [i, name] of asgNames.entries()) {
    await autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
        MinSize: 0,
        MaxSize: 1000,
        DesiredCapacity: counts[i] ?? 0,
        VPCZoneIdentifier: subnetIds[i],
      }),
    );
    for (const [hook, transition] of [
      [launchHookName, 'autoscaling:EC2_INSTANCE_LAUNCHING'],
      [terminateHookName, 'autoscaling:EC2_INSTANCE_TERMINATING'],
    ] as const) {
      await autoScaling.send(
        new PutLifecycleHookCommand({
          AutoScalingGroupName: name,
          LifecycleHookName: hook,
          LifecycleTransition: transition,
          HeartbeatTimeout: 300,
          DefaultResult: 'ABANDON',
        }),
      );
    }
  }
  const loadBalancer = await elbv2.send(
    new CreateLoadBalancerCommand({
      Name: 'bench-nlb',
      Type: 'network',
      Scheme: 'internal',
      Subnets: subnetIds,
    }),
  );
  const loadBalancerArn = required(loadBalancer.LoadBalancers?.[0]?.LoadBalancerArn, 'LoadBalancerArn');
  const targetGroups: ScaleTargetGroup[] = [];
  for (const port of PORTS) {
    const arn = await createTcpListener(elbv2, {
      loadBalancerArn,
      vpcId,
      name: `bench-${port.name}`,
      listenerPort: port.listenerPort,
      nodePort: port.nodePort,
      targetType: port.targetType,
    });
    targetGroups.push({ arn, nodePort: port.nodePort, targetType: port.targetType });
  }
  const zone = await route53(endpoint).send(
    new CreateHostedZoneCommand({ Name: ZONE_NAME, CallerReference: `bench-${Date.now()}` }),
  );
  const hostedZoneId = required(zone.HostedZone?.Id, 'HostedZone.Id').replace('/hostedzone/', '');
  const config = parseSyncConfig(
    {
      ownerId: OWNER_ID,
      clusters: [
        {
          name: CLUSTER,
          nodeSource: { autoScalingGroups: asgNames },
          loadBalancer: { arn: loadBalancerArn },
          portMappings: PORTS.map((port, i) => ({
            name: port.name,
            targetGroupArn: targetGroups[i]?.arn,
            targetType: port.targetType,
            listenerPort: port.listenerPort,
            nodePort: port.nodePort,
          })),
          securityGroups: { source: 'vpc-cidr' },
          dns: {
            // No zoneName: the zone's name comes from GetHostedZone, which the minimum then counts.
            hostedZoneId,
            aliasNames: [ALIAS_NAME],
            nodeRecordName: NODE_RECORD_NAME,
            srvDomain: SRV_DOMAIN,
            ttl: 60,
          },
        },
      ],
    },
    'bench scale world',
  );
  return {
    asgNames,
    loadBalancerArn,
    targetGroups,
    securityGroupId,
    hostedZoneId,
    config,
    launchHookName,
    terminateHookName,
  };
}

/** Sets each zone group's desired capacity (moto starts or terminates instances at once). */
export async function setCapacities(
  endpoint: string,
  world: ScaleWorld,
  counts: readonly number[],
): Promise<void> {
  const { autoScaling } = worldClients(endpoint);
  for (const [i, name] of world.asgNames.entries()) {
    await autoScaling.send(
      new SetDesiredCapacityCommand({
        AutoScalingGroupName: name,
        DesiredCapacity: counts[i] ?? 0,
        HonorCooldown: false,
      }),
    );
  }
}

/** Every instance of the world's groups. */
export async function members(endpoint: string, world: ScaleWorld): Promise<WorldInstance[]> {
  const lists = await Promise.all(world.asgNames.map((name) => asgInstances(endpoint, name)));
  return lists.flat();
}

/** `id:port` keys each group must hold: every member, by IP or instance id, on the group's NodePort. */
export function expectedTargets(world: ScaleWorld, nodes: readonly WorldInstance[]): Set<string>[] {
  return world.targetGroups.map(
    (group) =>
      new Set(
        nodes.map((n) => `${group.targetType === 'ip' ? n.privateIp : n.instanceId}:${group.nodePort}`),
      ),
  );
}

/** `id:port` keys each group holds. */
export async function heldTargets(endpoint: string, world: ScaleWorld): Promise<Set<string>[]> {
  return Promise.all(
    world.targetGroups.map(
      async (group) =>
        new Set((await describeGroupTargets(endpoint, group.arn)).map((t) => `${t.id}:${t.port}`)),
    ),
  );
}

/** The inbound rules of the node group, and how many of them this deployment owns. */
export async function nodeGroupRules(
  endpoint: string,
  world: ScaleWorld,
): Promise<{ readonly rules: number; readonly owned: number }> {
  const { ec2 } = worldClients(endpoint);
  const answer = await ec2.send(
    new DescribeSecurityGroupRulesCommand({
      Filters: [{ Name: 'group-id', Values: [world.securityGroupId] }],
    }),
  );
  const inbound = (answer.SecurityGroupRules ?? []).filter((r) => r.IsEgress !== true);
  const prefix = `nlb-nodeport-sync:${OWNER_ID}/${CLUSTER}:`;
  return { rules: inbound.length, owned: inbound.filter((r) => r.Description?.startsWith(prefix)).length };
}

/**
 * The zone's record sets, and whether the product must change any: the node A record must hold the first
 * 400 member IPs in address order, and the alias and every SRV name must exist.
 */
export async function dnsState(
  endpoint: string,
  world: ScaleWorld,
  nodes: readonly WorldInstance[],
): Promise<{ readonly recordSets: number; readonly changes: boolean }> {
  const sets: ResourceRecordSet[] = [];
  let start: { name?: string; type?: string } = {};
  for (;;) {
    const page = await route53(endpoint).send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: world.hostedZoneId,
        ...(start.name !== undefined && { StartRecordName: start.name }),
        ...(start.type !== undefined && { StartRecordType: start.type as 'A' }),
      }),
    );
    sets.push(...(page.ResourceRecordSets ?? []));
    if (page.IsTruncated !== true) break;
    start = { name: page.NextRecordName, type: page.NextRecordType };
  }
  const find = (name: string, type: string) =>
    sets.find((s) => s.Type === type && s.Name?.replace(/\.$/, '') === name);
  const want = nodes
    .map((n) => n.privateIp)
    .sort(compareIpv4)
    .slice(0, MAX_RECORD_VALUES);
  const have = (find(NODE_RECORD_NAME, 'A')?.ResourceRecords ?? [])
    .map((r) => r.Value ?? '')
    .sort(compareIpv4);
  const nodeRecordDiffers = want.length !== have.length || want.some((ip, i) => have[i] !== ip);
  const missing =
    find(ALIAS_NAME, 'A') === undefined ||
    PORTS.some((p) => find(`_${p.name}._tcp.${SRV_DOMAIN}`, 'SRV') === undefined);
  return { recordSets: sets.length, changes: nodeRecordDiffers || missing };
}

function compareIpv4(a: string, b: string): number {
  const value = (ip: string) => ip.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  return value(a) - value(b);
}

function route53(endpoint: string): Route53Client {
  return new Route53Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}
