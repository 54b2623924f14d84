/**
 * Builds the AWS side of a Kubernetes cluster in moto with the real SDK v3 clients: a VPC with two subnets,
 * a node security group, an Auto Scaling group of worker nodes with launch and terminate lifecycle hooks, and
 * an internal NLB with one TCP listener and one target group per exposed port. See README.md beside this file
 * for where moto's behaviour differs from AWS.
 */
import {
  AutoScalingClient,
  type Instance as AutoScalingInstance,
  CreateAutoScalingGroupCommand,
  PutLifecycleHookCommand,
  paginateDescribeAutoScalingGroups,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  EC2Client,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  type CreateTargetGroupCommandInput,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';

/** How a target group addresses its targets. */
export const WorldTargetType = { ip: 'ip', instance: 'instance' } as const;

/** One of {@link WorldTargetType}'s values. */
export type WorldTargetTypeName = (typeof WorldTargetType)[keyof typeof WorldTargetType];

/** One Service port exposed through the NLB. */
export interface WorldPort {
  /** Short name, used in the target group's name (keep it under 20 characters). */
  readonly name: string;
  /** TCP port the NLB listener answers on. */
  readonly listenerPort: number;
  /** NodePort the target group sends traffic to. */
  readonly nodePort: number;
  /** Whether targets are registered by private IP or by instance id. */
  readonly targetType: WorldTargetTypeName;
  /** Health check port (`externalTrafficPolicy: Local`); the traffic port when absent. */
  readonly healthCheckNodePort?: number;
}

/** What {@link buildWorld} creates. */
export interface WorldOptions {
  /** Desired capacity of the node group. */
  readonly nodes: number;
  /** Name of the Auto Scaling group. @default 'eks-workers' */
  readonly asgName?: string;
  /** Ports exposed through the NLB, one listener and target group each. */
  readonly ports: readonly WorldPort[];
  /** Tags the node security group `nlb-nodeport-sync/cluster=<name>`, as a deployer must for discovery. */
  readonly clusterTag?: string;
  /** Lifecycle hook names, as the CDK stack would name them. @default `<asgName>-launch|terminate` */
  readonly hookNames?: { readonly launch: string; readonly terminate: string };
}

/** A target group created by {@link buildWorld}. */
export interface WorldTargetGroup {
  /** Target group name. */
  readonly name: string;
  /** Target group ARN. */
  readonly arn: string;
  /** The NodePort it forwards to. */
  readonly nodePort: number;
  /** How it addresses targets. */
  readonly targetType: WorldTargetTypeName;
}

/** Ids and ARNs of what {@link buildWorld} created. */
export interface World {
  /** The VPC (10.0.0.0/16). */
  readonly vpcId: string;
  /** Subnets in us-east-1a and us-east-1b, in that order. */
  readonly subnetIds: readonly string[];
  /** The node security group. */
  readonly securityGroupId: string;
  /** The node Auto Scaling group. */
  readonly asgName: string;
  /** The internal network load balancer. */
  readonly loadBalancerArn: string;
  /** One target group per requested port, in the same order. */
  readonly targetGroups: readonly WorldTargetGroup[];
  /** Lifecycle hook on `autoscaling:EC2_INSTANCE_LAUNCHING`. */
  readonly launchHookName: string;
  /** Lifecycle hook on `autoscaling:EC2_INSTANCE_TERMINATING`. */
  readonly terminateHookName: string;
}

/** An instance of the node group as Auto Scaling and EC2 describe it. */
export interface WorldInstance {
  /** EC2 instance id. */
  readonly instanceId: string;
  /** Primary private IPv4 address. */
  readonly privateIp: string;
  /** Auto Scaling lifecycle state, e.g. `InService`. */
  readonly lifecycleState: string;
  /** Availability zone as Auto Scaling reports it. */
  readonly availabilityZone: string;
  /** Subnet as EC2 reports it. */
  readonly subnetId: string;
}

/** Instances that appeared and disappeared across one capacity change. */
export interface CapacityChange {
  /** Instance ids in the group after the change but not before. */
  readonly appeared: string[];
  /** Instance ids in the group before the change but not after. */
  readonly disappeared: string[];
}

/** A registered target as DescribeTargetHealth reports it. */
export interface WorldTarget {
  /** Instance id or IP address. */
  readonly id: string;
  /** Target port. */
  readonly port: number | undefined;
  /** Health state, e.g. `healthy`. */
  readonly state: string | undefined;
  /** Availability zone the target was registered with, if any. */
  readonly availabilityZone: string | undefined;
}

const REGION = 'us-east-1';
const ZONES = ['us-east-1a', 'us-east-1b'] as const;
const SUBNET_CIDRS = ['10.0.0.0/20', '10.0.16.0/20'] as const;
const MAX_NODES = 10;
const HOOK_HEARTBEAT_SECONDS = 300;

function clientConfig(endpoint: string) {
  return {
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    retryMode: 'adaptive',
  };
}

/** SDK clients pointed at moto (or the lifecycle shim in front of it). */
export function worldClients(endpoint: string): {
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  elbv2: ElasticLoadBalancingV2Client;
} {
  const config = clientConfig(endpoint);
  return {
    ec2: new EC2Client(config),
    autoScaling: new AutoScalingClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
  };
}

/**
 * Creates the network, node group and NLB in moto and returns their ids.
 * @example
 * const world = await buildWorld(motoEndpoint(), {
 *   nodes: 3,
 *   ports: [{ name: 'http', listenerPort: 80, nodePort: 30080, targetType: 'ip' }],
 * });
 */
export async function buildWorld(endpoint: string, options: WorldOptions): Promise<World> {
  const { ec2, autoScaling, elbv2 } = worldClients(endpoint);
  const asgName = options.asgName ?? 'eks-workers';

  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const vpcId = required(vpc.Vpc?.VpcId, 'VpcId');
  const subnetIds: string[] = [];
  for (const [index, zone] of ZONES.entries()) {
    const subnet = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: SUBNET_CIDRS[index], AvailabilityZone: zone }),
    );
    subnetIds.push(required(subnet.Subnet?.SubnetId, 'SubnetId'));
  }
  const securityGroup = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: `${asgName}-nodes`,
      Description: 'Worker nodes',
      VpcId: vpcId,
      ...(options.clusterTag !== undefined && {
        TagSpecifications: [
          {
            ResourceType: 'security-group',
            Tags: [{ Key: 'nlb-nodeport-sync/cluster', Value: options.clusterTag }],
          },
        ],
      }),
    }),
  );
  const securityGroupId = required(securityGroup.GroupId, 'GroupId');

  const launchTemplate = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: `${asgName}-lt`,
      LaunchTemplateData: {
        ImageId: await someAmiId(endpoint, ec2),
        InstanceType: 't3.medium',
        SecurityGroupIds: [securityGroupId],
      },
    }),
  );
  await autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: asgName,
      LaunchTemplate: {
        LaunchTemplateId: required(launchTemplate.LaunchTemplate?.LaunchTemplateId, 'LaunchTemplateId'),
        Version: '$Latest',
      },
      MinSize: 0,
      MaxSize: Math.max(MAX_NODES, options.nodes),
      DesiredCapacity: options.nodes,
      VPCZoneIdentifier: subnetIds.join(','),
    }),
  );
  const launchHookName = options.hookNames?.launch ?? `${asgName}-launch`;
  const terminateHookName = options.hookNames?.terminate ?? `${asgName}-terminate`;
  for (const [hookName, transition] of [
    [launchHookName, 'autoscaling:EC2_INSTANCE_LAUNCHING'],
    [terminateHookName, 'autoscaling:EC2_INSTANCE_TERMINATING'],
  ] as const) {
    await autoScaling.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: asgName,
        LifecycleHookName: hookName,
        LifecycleTransition: transition,
        HeartbeatTimeout: HOOK_HEARTBEAT_SECONDS,
        DefaultResult: 'ABANDON',
      }),
    );
  }

  const loadBalancer = await elbv2.send(
    new CreateLoadBalancerCommand({
      Name: `${asgName}-nlb`,
      Type: 'network',
      Scheme: 'internal',
      Subnets: subnetIds,
    }),
  );
  const loadBalancerArn = required(loadBalancer.LoadBalancers?.[0]?.LoadBalancerArn, 'LoadBalancerArn');
  const targetGroups: WorldTargetGroup[] = [];
  for (const port of options.ports) {
    const name = `${asgName}-${port.name}`.slice(0, 32);
    const healthCheck =
      port.healthCheckNodePort === undefined
        ? { HealthCheckProtocol: 'TCP' as const, HealthCheckPort: 'traffic-port' }
        : {
            HealthCheckProtocol: 'HTTP' as const,
            HealthCheckPort: String(port.healthCheckNodePort),
            HealthCheckPath: '/healthz',
          };
    const arn = await createTcpListener(elbv2, {
      loadBalancerArn,
      vpcId,
      name,
      listenerPort: port.listenerPort,
      nodePort: port.nodePort,
      targetType: port.targetType,
      healthCheck,
    });
    targetGroups.push({ name, arn, nodePort: port.nodePort, targetType: port.targetType });
  }

  return {
    vpcId,
    subnetIds,
    securityGroupId,
    asgName,
    loadBalancerArn,
    targetGroups,
    launchHookName,
    terminateHookName,
  };
}

/** Sets the group's desired capacity and reports which instances appeared and disappeared. */
export async function setDesiredCapacity(
  endpoint: string,
  asgName: string,
  desiredCapacity: number,
): Promise<CapacityChange> {
  const { autoScaling } = worldClients(endpoint);
  const before = new Set((await groupInstances(autoScaling, asgName)).map((i) => i.InstanceId));
  await autoScaling.send(
    new SetDesiredCapacityCommand({
      AutoScalingGroupName: asgName,
      DesiredCapacity: desiredCapacity,
      HonorCooldown: false,
    }),
  );
  const after = new Set((await groupInstances(autoScaling, asgName)).map((i) => i.InstanceId));
  return {
    appeared: [...after].filter((id): id is string => id !== undefined && !before.has(id)),
    disappeared: [...before].filter((id): id is string => id !== undefined && !after.has(id)),
  };
}

/** The targets registered in a target group with their health. */
export async function describeGroupTargets(endpoint: string, targetGroupArn: string): Promise<WorldTarget[]> {
  const { elbv2 } = worldClients(endpoint);
  const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return (health.TargetHealthDescriptions ?? []).map((description) => ({
    id: required(description.Target?.Id, 'Target.Id'),
    port: description.Target?.Port,
    state: description.TargetHealth?.State,
    availabilityZone: description.Target?.AvailabilityZone,
  }));
}

/** The group's instances with their private IPs and lifecycle states. */
export async function asgInstances(endpoint: string, asgName: string): Promise<WorldInstance[]> {
  const { ec2, autoScaling } = worldClients(endpoint);
  const members = await groupInstances(autoScaling, asgName);
  if (members.length === 0) return [];
  const details = new Map<string, { privateIp: string; subnetId: string }>();
  for await (const page of paginateDescribeInstances(
    { client: ec2 },
    { InstanceIds: members.map((m) => required(m.InstanceId, 'InstanceId')) },
  )) {
    for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      details.set(required(instance.InstanceId, 'InstanceId'), {
        privateIp: required(instance.PrivateIpAddress, 'PrivateIpAddress'),
        subnetId: required(instance.SubnetId, 'SubnetId'),
      });
    }
  }
  return members.map((member) => {
    const instanceId = required(member.InstanceId, 'InstanceId');
    const detail = details.get(instanceId);
    if (detail === undefined) throw new Error(`EC2 does not know ASG instance ${instanceId}`);
    return {
      instanceId,
      privateIp: detail.privateIp,
      lifecycleState: required(member.LifecycleState, 'LifecycleState'),
      availabilityZone: required(member.AvailabilityZone, 'AvailabilityZone'),
      subnetId: detail.subnetId,
    };
  });
}

async function groupInstances(
  autoScaling: AutoScalingClient,
  asgName: string,
): Promise<AutoScalingInstance[]> {
  const instances: AutoScalingInstance[] = [];
  for await (const page of paginateDescribeAutoScalingGroups(
    { client: autoScaling },
    { AutoScalingGroupNames: [asgName] },
  )) {
    for (const group of page.AutoScalingGroups ?? []) instances.push(...(group.Instances ?? []));
  }
  return instances;
}

// moto's AMI catalogue is the same fixed list after every reset, and listing it takes ~1 s, so look it up once.
const amiIdByEndpoint = new Map<string, Promise<string>>();

/** An Amazon Linux AMI from moto's built-in catalogue, so the launch template names an image that exists. */
function someAmiId(endpoint: string, ec2: EC2Client): Promise<string> {
  let amiId = amiIdByEndpoint.get(endpoint);
  if (amiId === undefined) {
    amiId = ec2
      .send(
        new DescribeImagesCommand({
          Owners: ['amazon'],
          Filters: [{ Name: 'name', Values: ['amzn2-ami-*'] }],
        }),
      )
      .then((images) => required(images.Images?.[0]?.ImageId, 'ImageId'));
    amiIdByEndpoint.set(endpoint, amiId);
    // A failed look-up must not be remembered.
    amiId.catch(() => amiIdByEndpoint.delete(endpoint));
  }
  return amiId;
}

/** A field of moto's answer that must be there; names it when it is not. */
export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`moto's answer has no ${what}`);
  return value;
}

/**
 * A TCP target group for a NodePort and the NLB listener that forwards to it (the shape of every world:
 * the tests', the demo's, the bench's). Health checks: TCP on the traffic port unless `healthCheck` says.
 * @returns the target group's ARN
 */
export async function createTcpListener(
  elbv2: ElasticLoadBalancingV2Client,
  input: {
    readonly loadBalancerArn: string;
    readonly vpcId: string;
    readonly name: string;
    readonly listenerPort: number;
    readonly nodePort: number;
    readonly targetType: 'ip' | 'instance';
    readonly healthCheck?: Partial<CreateTargetGroupCommandInput>;
  },
): Promise<string> {
  const created = await elbv2.send(
    new CreateTargetGroupCommand({
      Name: input.name,
      Protocol: 'TCP',
      Port: input.nodePort,
      VpcId: input.vpcId,
      TargetType: input.targetType,
      ...(input.healthCheck ?? { HealthCheckProtocol: 'TCP', HealthCheckPort: 'traffic-port' }),
    }),
  );
  const arn = required(created.TargetGroups?.[0]?.TargetGroupArn, 'TargetGroupArn');
  await elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: input.loadBalancerArn,
      Protocol: 'TCP',
      Port: input.listenerPort,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }],
    }),
  );
  return arn;
}
