/**
 * The demo's account in moto, built with the real SDK v3 clients: a VPC over three Availability Zones, a node
 * security group, two node groups (Auto Scaling groups with the hooks the CDK stack would add), an internal
 * NLB with seed 000's listeners 4000 and 4001 (ip target groups -> NodePorts) and one instance target group,
 * a hosted zone, and a few things the product does not own (a hand-made rule, record and preserved target).
 *
 * moto puts every instance of a group in the first subnet of its `VPCZoneIdentifier` and scales in oldest
 * first (test/support/README.md). AWS balances a group's instances over its zones on launch and on scale-in;
 * {@link NodeGroups.launch} and {@link NodeGroups.scaleIn} do the same here, one instance at a time, so the
 * nodes spread over the three zones as they would in AWS. The product is not involved in either.
 * Used only by bin/demo.ts.
 */
import {
  type AutoScalingClient,
  CreateAutoScalingGroupCommand,
  PutLifecycleHookCommand,
  paginateDescribeAutoScalingGroups,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { CreateLoadBalancerCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { lifecycleHookName } from '../lambdas/domain/lifecycle-hooks';
import {
  createTcpListener,
  describeGroupTargets,
  required,
  type WorldTarget,
  worldClients,
} from '../test/support/moto-world';

import { REGION } from './demo-settings';
export const CLUSTER = 'prod';
export const OWNER_ID = 'nlb-nodeport-sync';
export const VPC_CIDR = '10.0.0.0/16';
export const ZONE_NAME = 'example.com';
/** The office / VPN range admitted on the instance group's NodePort (it keeps the client's IP). */
export const CLIENT_CIDR = '192.168.0.0/16';
/** A canary VM another team registers in prod-app0 by hand; the config lists it as preserved. */
export const PRESERVED_IP = '10.0.40.10';
/** What the hand-made record points at. */
export const LEGACY_IP = '192.0.2.10';

const ZONES = [
  { zone: 'us-east-1a', cidr: '10.0.0.0/20' },
  { zone: 'us-east-1b', cidr: '10.0.16.0/20' },
  { zone: 'us-east-1c', cidr: '10.0.32.0/20' },
] as const;

/** One port of the NLB: listener -> target group -> NodePort. Seed 000's app0 and app1, plus an admin port. */
export interface DemoPort {
  readonly mapping: string;
  readonly listenerPort: number;
  readonly nodePort: number;
  readonly targetType: 'ip' | 'instance';
  readonly targetGroupName: string;
  readonly targetGroupArn: string;
}

const PORTS = [
  { mapping: 'app0', listenerPort: 4000, nodePort: 30000, targetType: 'ip' },
  { mapping: 'app1', listenerPort: 4001, nodePort: 30001, targetType: 'ip' },
  { mapping: 'admin', listenerPort: 4100, nodePort: 30100, targetType: 'instance' },
] as const;

/** A node group: an Auto Scaling group and its lifecycle hooks. */
export interface DemoNodeGroup {
  readonly asgName: string;
  readonly launchHookName: string;
  readonly terminateHookName: string;
}

/** A node as Auto Scaling and EC2 describe it. */
export interface DemoNode {
  readonly instanceId: string;
  readonly privateIp: string;
  readonly zone: string;
  readonly group: string;
}

/** Ids of what {@link buildAccount} created. */
export interface DemoAccount {
  readonly endpoint: string;
  readonly vpcId: string;
  readonly subnets: readonly { readonly zone: string; readonly cidr: string; readonly id: string }[];
  readonly securityGroupId: string;
  readonly loadBalancerArn: string;
  readonly loadBalancerName: string;
  readonly ports: readonly DemoPort[];
  readonly groups: { readonly onDemand: DemoNodeGroup; readonly spot: DemoNodeGroup };
  readonly hostedZoneId: string;
}

/** An inbound rule of the node security group. */
export interface DemoRule {
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly source: string;
  readonly description: string;
}

/** A record set of the hosted zone (SOA and NS left out). */
export interface DemoRecord {
  readonly name: string;
  readonly type: string;
  readonly values: readonly string[];
}

/** A Route 53 client on moto, configured like {@link worldClients}'s. */
function route53Client(endpoint: string): Route53Client {
  return new Route53Client({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

/** Builds the account; `nodes` is the initial size of each node group. */
export async function buildAccount(
  endpoint: string,
  nodes: { readonly onDemand: number; readonly spot: number },
): Promise<DemoAccount> {
  const { ec2, autoScaling, elbv2 } = worldClients(endpoint);
  const vpcId = required((await ec2.send(new CreateVpcCommand({ CidrBlock: VPC_CIDR }))).Vpc?.VpcId, 'VpcId');
  const subnets: { zone: string; cidr: string; id: string }[] = [];
  for (const { zone, cidr } of ZONES) {
    const subnet = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone }),
    );
    subnets.push({ zone, cidr, id: required(subnet.Subnet?.SubnetId, 'SubnetId') });
  }
  const securityGroupId = required(
    (
      await ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: `${CLUSTER}-nodes`,
          Description: 'Worker nodes',
          VpcId: vpcId,
          // Discovery manages only a node group tagged for the cluster (docs/security-groups.md).
          TagSpecifications: [
            { ResourceType: 'security-group', Tags: [{ Key: `${OWNER_ID}/cluster`, Value: CLUSTER }] },
          ],
        }),
      )
    ).GroupId,
    'GroupId',
  );
  // Not the product's: an ssh rule made by hand, which it must leave alone.
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: securityGroupId,
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 22,
          ToPort: 22,
          IpRanges: [{ CidrIp: VPC_CIDR, Description: 'ssh from the bastion (hand-made)' }],
        },
      ],
    }),
  );
  const launchTemplateId = required(
    (
      await ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: `${CLUSTER}-nodes`,
          LaunchTemplateData: {
            // moto accepts any image id (test/support/README.md); listing its catalogue would cost ~1 s.
            ImageId: 'ami-0abcdef1234567890',
            InstanceType: 'm6i.large',
            SecurityGroupIds: [securityGroupId],
          },
        }),
      )
    ).LaunchTemplate?.LaunchTemplateId,
    'LaunchTemplateId',
  );
  const group = async (asgName: string): Promise<DemoNodeGroup> => {
    await autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: asgName,
        LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
        MinSize: 0,
        MaxSize: 10,
        DesiredCapacity: 0,
        VPCZoneIdentifier: subnets.map((s) => s.id).join(','),
      }),
    );
    // The hooks the CDK stack adds to each configured group (names: docs/lifecycle.md).
    const hooks = {
      asgName,
      launchHookName: lifecycleHookName(OWNER_ID, CLUSTER, 'launch'),
      terminateHookName: lifecycleHookName(OWNER_ID, CLUSTER, 'terminate'),
    };
    for (const [name, transition] of [
      [hooks.launchHookName, 'autoscaling:EC2_INSTANCE_LAUNCHING'],
      [hooks.terminateHookName, 'autoscaling:EC2_INSTANCE_TERMINATING'],
    ] as const) {
      await autoScaling.send(
        new PutLifecycleHookCommand({
          AutoScalingGroupName: asgName,
          LifecycleHookName: name,
          LifecycleTransition: transition,
          HeartbeatTimeout: 300,
          DefaultResult: 'ABANDON',
        }),
      );
    }
    return hooks;
  };
  const groups = { onDemand: await group(`${CLUSTER}-ondemand`), spot: await group(`${CLUSTER}-spot`) };

  const loadBalancerName = `${CLUSTER}-ingress`;
  const loadBalancerArn = required(
    (
      await elbv2.send(
        new CreateLoadBalancerCommand({
          Name: loadBalancerName,
          Type: 'network',
          Scheme: 'internal',
          Subnets: subnets.map((s) => s.id),
        }),
      )
    ).LoadBalancers?.[0]?.LoadBalancerArn,
    'LoadBalancerArn',
  );
  const ports: DemoPort[] = [];
  for (const port of PORTS) {
    const targetGroupName = `${CLUSTER}-${port.mapping}`;
    const targetGroupArn = await createTcpListener(elbv2, {
      loadBalancerArn,
      vpcId,
      name: targetGroupName,
      listenerPort: port.listenerPort,
      nodePort: port.nodePort,
      targetType: port.targetType,
    });
    ports.push({ ...port, targetGroupName, targetGroupArn });
  }
  // Not the product's: a canary VM registered by another team, listed in the config as preserved.
  await elbv2.send(
    new RegisterTargetsCommand({
      TargetGroupArn: required(ports[0], 'app0').targetGroupArn,
      Targets: [{ Id: PRESERVED_IP, Port: 30000 }],
    }),
  );

  const route53 = route53Client(endpoint);
  const hostedZoneId = required(
    (
      await route53.send(
        new CreateHostedZoneCommand({ Name: ZONE_NAME, CallerReference: `demo-${Date.now()}` }),
      )
    ).HostedZone?.Id,
    'HostedZone.Id',
  ).replace('/hostedzone/', '');
  // Not the product's: a record made by hand in the same zone.
  await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: hostedZoneId,
      ChangeBatch: {
        Changes: [
          {
            Action: 'CREATE',
            ResourceRecordSet: {
              Name: `legacy.${ZONE_NAME}`,
              Type: 'A',
              TTL: 300,
              ResourceRecords: [{ Value: LEGACY_IP }],
            },
          },
        ],
      },
    }),
  );

  const account = {
    endpoint,
    vpcId,
    subnets,
    securityGroupId,
    loadBalancerArn,
    loadBalancerName,
    ports,
    groups,
    hostedZoneId,
  };
  const nodeGroups = new NodeGroups(account);
  await nodeGroups.launch(groups.onDemand, nodes.onDemand);
  await nodeGroups.launch(groups.spot, nodes.spot);
  return account;
}

/** The sync config of the demo's cluster, as a user would write it. */
export function demoConfigInput(account: DemoAccount): Record<string, unknown> {
  return {
    ownerId: OWNER_ID,
    clusters: [
      {
        name: CLUSTER,
        nodeSource: { autoScalingGroups: [account.groups.onDemand.asgName, account.groups.spot.asgName] },
        loadBalancer: { arn: account.loadBalancerArn },
        portMappings: account.ports.map((p) => ({
          name: p.mapping,
          targetGroupArn: p.targetGroupArn,
          targetType: p.targetType,
          listenerPort: p.listenerPort,
          nodePort: p.nodePort,
        })),
        preservedTargets: [PRESERVED_IP],
        securityGroups: { source: 'auto', clientCidrs: [CLIENT_CIDR] },
        dns: {
          hostedZoneId: account.hostedZoneId,
          aliasNames: [`proxy.${ZONE_NAME}`],
          nodeRecordName: `nodes.${ZONE_NAME}`,
        },
      },
    ],
  };
}

/** Launches and terminates nodes as Auto Scaling would in AWS, balancing them over the zones. */
export class NodeGroups {
  private readonly autoScaling: AutoScalingClient;
  private readonly ec2: EC2Client;

  public constructor(private readonly account: DemoAccount) {
    const clients = worldClients(account.endpoint);
    this.autoScaling = clients.autoScaling;
    this.ec2 = clients.ec2;
  }

  /** The nodes of one group, or of both. */
  public async nodes(group?: DemoNodeGroup): Promise<DemoNode[]> {
    const names =
      group === undefined ? Object.values(this.account.groups).map((g) => g.asgName) : [group.asgName];
    const members: { instanceId: string; group: string }[] = [];
    for await (const page of paginateDescribeAutoScalingGroups(
      { client: this.autoScaling },
      { AutoScalingGroupNames: names },
    )) {
      for (const g of page.AutoScalingGroups ?? []) {
        for (const i of g.Instances ?? []) {
          members.push({
            instanceId: required(i.InstanceId, 'InstanceId'),
            group: required(g.AutoScalingGroupName, 'name'),
          });
        }
      }
    }
    if (members.length === 0) return [];
    const described = await this.ec2.send(
      new DescribeInstancesCommand({ InstanceIds: members.map((m) => m.instanceId) }),
    );
    const byId = new Map(
      (described.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => [i.InstanceId, i]),
    );
    const zoneOf = new Map(this.account.subnets.map((s) => [s.id, s.zone]));
    return members
      .map((m) => {
        const instance = required(byId.get(m.instanceId), `instance ${m.instanceId}`);
        return {
          instanceId: m.instanceId,
          privateIp: required(instance.PrivateIpAddress, 'PrivateIpAddress'),
          zone: zoneOf.get(instance.SubnetId ?? '') ?? 'unknown zone',
          group: m.group,
        };
      })
      .sort((a, b) => ipOrder(a.privateIp) - ipOrder(b.privateIp));
  }

  /**
   * Launches `count` nodes into the group, each into its least-used zone (AWS's balancing), and returns them.
   * Like AWS, one launch per instance; `zone` forces the zone of every launch (a replacement).
   */
  public async launch(group: DemoNodeGroup, count: number, zone?: string): Promise<DemoNode[]> {
    const nodes = await this.nodes(group);
    const zones = new Map(nodes.map((n) => [n.instanceId, n.zone]));
    for (let i = 0; i < count; i += 1) {
      const target = zone ?? this.leastUsedZone([...zones.values()]);
      const first = required(
        this.account.subnets.find((s) => s.zone === target),
        `subnet in ${target}`,
      );
      // moto launches into the first subnet listed: put the chosen zone's subnet first.
      await this.autoScaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: group.asgName,
          VPCZoneIdentifier: [
            first.id,
            ...this.account.subnets.filter((s) => s !== first).map((s) => s.id),
          ].join(','),
          DesiredCapacity: zones.size + 1,
        }),
      );
      for (const id of await this.memberIds(group)) if (!zones.has(id)) zones.set(id, target);
    }
    const known = new Set(nodes.map((n) => n.instanceId));
    return (await this.nodes(group)).filter((n) => !known.has(n.instanceId));
  }

  /** Scales the group in by `count`, each time from its most-used zone (AWS's default termination policy). */
  public async scaleIn(group: DemoNodeGroup, count: number): Promise<DemoNode[]> {
    const removed: DemoNode[] = [];
    for (let i = 0; i < count; i += 1) {
      const nodes = await this.nodes(group);
      const zone = this.mostUsedZone(nodes.map((n) => n.zone));
      // Among the zone's nodes, the newest goes (moto has no launch times worth comparing; any rule will do).
      const victim = required(nodes.filter((n) => n.zone === zone).at(-1), `a node in ${zone}`);
      await this.terminate(victim, true);
      removed.push(victim);
    }
    return removed;
  }

  /**
   * Takes a node out of service: with `decrement` the group shrinks, without it the group launches a
   * replacement (moto: into the first subnet listed, so the caller puts the zone first with {@link launch}).
   */
  public async terminate(node: DemoNode, decrement: boolean): Promise<void> {
    await this.autoScaling.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: node.instanceId,
        ShouldDecrementDesiredCapacity: decrement,
      }),
    );
  }

  /**
   * A spot node reclaimed by EC2: it leaves the group and the group launches a replacement in the same zone,
   * as AWS does for a lost spot instance. Returns the replacement.
   */
  public async reclaim(node: DemoNode, group: DemoNodeGroup): Promise<DemoNode[]> {
    await this.terminate(node, true);
    return this.launch(group, 1, node.zone);
  }

  /** The group's instance ids, as Auto Scaling lists them. */
  private async memberIds(group: DemoNodeGroup): Promise<string[]> {
    const ids: string[] = [];
    for await (const page of paginateDescribeAutoScalingGroups(
      { client: this.autoScaling },
      { AutoScalingGroupNames: [group.asgName] },
    )) {
      for (const g of page.AutoScalingGroups ?? [])
        for (const i of g.Instances ?? []) ids.push(required(i.InstanceId, 'InstanceId'));
    }
    return ids;
  }

  private zoneCounts(zones: readonly string[]): Map<string, number> {
    const counts = new Map<string, number>(this.account.subnets.map((s) => [s.zone, 0]));
    for (const zone of zones) counts.set(zone, (counts.get(zone) ?? 0) + 1);
    return counts;
  }

  private leastUsedZone(zones: readonly string[]): string {
    const counts = [...this.zoneCounts(zones)];
    return required(
      counts.reduce((best, c) => (c[1] < best[1] ? c : best), required(counts[0], 'zone'))[0],
      'zone',
    );
  }

  private mostUsedZone(zones: readonly string[]): string {
    const counts = [...this.zoneCounts(zones)];
    return required(
      counts.reduce((best, c) => (c[1] > best[1] ? c : best), required(counts[0], 'zone'))[0],
      'zone',
    );
  }
}

function ipOrder(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** Every group's targets, by mapping name. */
export async function targetsByMapping(account: DemoAccount): Promise<Map<string, WorldTarget[]>> {
  const entries = await Promise.all(
    account.ports.map(
      async (p) => [p.mapping, await describeGroupTargets(account.endpoint, p.targetGroupArn)] as const,
    ),
  );
  return new Map(entries);
}

/** The node security group's inbound rules. */
export async function inboundRules(account: DemoAccount): Promise<DemoRule[]> {
  const { ec2 } = worldClients(account.endpoint);
  const rules = await ec2.send(
    new DescribeSecurityGroupRulesCommand({
      Filters: [{ Name: 'group-id', Values: [account.securityGroupId] }],
    }),
  );
  return (rules.SecurityGroupRules ?? [])
    .filter((r) => r.IsEgress === false)
    .map((r) => ({
      protocol: r.IpProtocol ?? '?',
      fromPort: r.FromPort ?? -1,
      toPort: r.ToPort ?? -1,
      source: r.CidrIpv4 ?? r.ReferencedGroupInfo?.GroupId ?? '?',
      description: r.Description ?? '',
    }))
    .sort((a, b) => a.fromPort - b.fromPort || a.source.localeCompare(b.source));
}

/** The zone's record sets, SOA and NS left out. */
export async function zoneRecords(account: DemoAccount): Promise<DemoRecord[]> {
  const route53 = route53Client(account.endpoint);
  const sets = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: account.hostedZoneId }));
  return (sets.ResourceRecordSets ?? [])
    .filter((r) => r.Type !== 'SOA' && r.Type !== 'NS')
    .map((r) => ({
      name: (r.Name ?? '').replace(/\.$/, ''),
      type: r.Type ?? '?',
      values: r.AliasTarget
        ? [`alias ${(r.AliasTarget.DNSName ?? '').replace(/\.$/, '')}`]
        : (r.ResourceRecords ?? []).map((v) => v.Value ?? '').sort((a, b) => ipOrder(a) - ipOrder(b)),
    }));
}
