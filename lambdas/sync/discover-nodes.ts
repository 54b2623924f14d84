import type { ClusterConfig } from '../domain/config';
import { drainMarkOf } from '../domain/drain-mark';
import { mergeNodes, type Node, type NodeHints } from '../domain/node';
import type { AutoScalingGroupInfo, AutoScalingPort, Ec2Port } from '../domain/ports';

/** What discovery found for one cluster. */
export interface Discovery {
  readonly nodes: readonly Node[];
  readonly groups: readonly AutoScalingGroupInfo[];
  /** Sum of the ASGs' DesiredCapacity; the empty-discovery guard compares against it. */
  readonly asgDesiredCapacity: number;
  /**
   * Configured ASGs AWS does not know (deleted, misspelled). Their nodes cannot be told apart from
   * vanished ones, so a pass with any of these deregisters nothing for lack of a node.
   */
  readonly missingAutoScalingGroups: readonly string[];
}

/** The ports discovery needs. */
export interface DiscoveryPorts {
  readonly autoScaling: AutoScalingPort;
  readonly ec2: Ec2Port;
}

/**
 * Finds a cluster's nodes: the instances of its ASGs (with their lifecycle state) and the
 * instances matching its tag filters, merged by instance id. Instances an event names are looked
 * up too: DescribeAutoScalingGroups may not list a launching one yet, or a leaving one any more.
 * A configured ASG that does not exist is reported in `missingAutoScalingGroups`, not thrown: the rest of
 * the cluster keeps syncing. Each node carries this deployment's drain mark when its instance has one.
 */
export async function discoverNodes(
  cluster: ClusterConfig,
  ports: DiscoveryPorts,
  hints: NodeHints = {},
  ownerId?: string,
): Promise<Discovery> {
  const asgNames = cluster.nodeSource.autoScalingGroups;
  const hasTags = Object.keys(cluster.nodeSource.tagFilters).length > 0;
  const [groups, tagged] = await Promise.all([
    asgNames.length > 0 ? ports.autoScaling.describeGroups(asgNames) : Promise.resolve([]),
    hasTags ? ports.ec2.describeInstancesByTags(cluster.nodeSource.tagFilters) : Promise.resolve([]),
  ]);
  const missing = asgNames.filter((name) => !groups.some((g) => g.name === name));
  const asgInstances = groups.flatMap((g) => g.instances.map((i) => ({ ...i, groupName: g.name })));
  const known = new Set([...asgInstances.map((i) => i.instanceId), ...tagged.map((n) => n.instanceId)]);
  // Instances an event names but discovery does not list: a launching one the ASG does not show yet,
  // or a leaving one already gone from the ASG (its EC2 record still gives the IP its target has).
  const extra = [...new Set([...(hints.launching ?? []), ...(hints.leaving ?? [])])].filter(
    (id) => !known.has(id),
  );
  const lookupIds = [...asgInstances.map((i) => i.instanceId), ...extra];
  const described = lookupIds.length > 0 ? await ports.ec2.describeInstancesById(lookupIds) : [];
  const describedById = new Map(described.map((n) => [n.instanceId, n] as const));
  const asgNodes: Node[] = asgInstances.map((instance) => {
    const ec2 = describedById.get(instance.instanceId);
    return {
      securityGroupIds: [],
      ...ec2,
      instanceId: instance.instanceId,
      autoScalingGroupName: instance.groupName,
      lifecycleState: instance.lifecycleState,
      healthStatus: instance.healthStatus,
      ...(instance.availabilityZone !== undefined && { availabilityZone: instance.availabilityZone }),
      origins: ['auto-scaling-group'],
    };
  });
  const hinted: Node[] = extra.flatMap((id) => {
    const node = describedById.get(id);
    return node === undefined ? [] : [{ ...node, origins: [] }];
  });
  const nodes = mergeNodes(asgNodes, tagged, hinted).map((node) => {
    const drainMark = ownerId === undefined ? undefined : drainMarkOf(node.tags, ownerId);
    return drainMark === undefined ? node : { ...node, drainMark };
  });
  return {
    nodes,
    groups,
    asgDesiredCapacity: groups.reduce((sum, g) => sum + g.desiredCapacity, 0),
    missingAutoScalingGroups: missing,
  };
}

/** The EC2 tag Auto Scaling puts on its instances. */
const ASG_NAME_TAG = 'aws:autoscaling:groupName';

/**
 * Looks up instances that hold a target but that discovery's lists did not return (instance ids of
 * `instance` groups), and returns the running or pending ones whose EC2 tags make them members of the cluster:
 * a configured ASG's name tag, or every tag filter. Such a node is unknown, not vanished: a stale ASG read right after a launch
 * must not deregister it (docs/safety.md, "Evidence"). Instances EC2 no longer knows are not returned.
 */
export async function findUnlistedMembers(
  cluster: ClusterConfig,
  ports: DiscoveryPorts,
  instanceIds: readonly string[],
  ownerId?: string,
): Promise<Node[]> {
  if (instanceIds.length === 0) return [];
  const asgNames = new Set(cluster.nodeSource.autoScalingGroups);
  const filters = Object.entries(cluster.nodeSource.tagFilters);
  const described = await ports.ec2.describeInstancesById(instanceIds);
  return described.flatMap((node) => {
    // Only a running member is rescued; one on its way out stays what it was (vanished, guarded).
    if (node.ec2State !== 'running' && node.ec2State !== 'pending') return [];
    const asg = node.tags?.[ASG_NAME_TAG];
    const byAsg = asg !== undefined && asgNames.has(asg) ? `Auto Scaling group ${asg}` : undefined;
    const byTags =
      filters.length > 0 &&
      filters.every(([key, values]) => {
        const value = node.tags?.[key];
        return value !== undefined && values.includes(value);
      })
        ? 'the tag filters'
        : undefined;
    const memberOf = byAsg ?? byTags;
    if (memberOf === undefined) return [];
    const drainMark = ownerId === undefined ? undefined : drainMarkOf(node.tags, ownerId);
    return [
      { ...node, origins: [], unlistedMemberOf: memberOf, ...(drainMark !== undefined && { drainMark }) },
    ];
  });
}
