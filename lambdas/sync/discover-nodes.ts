import type { ClusterConfig } from '../domain/config';
import { drainMarkOf } from '../domain/drain-mark';
import { mergeNodes, type Node, type NodeHints } from '../domain/node';
import { ASG_NAME_TAG, type AutoScalingGroupInfo, type AutoScalingPort, type Ec2Port } from '../domain/ports';

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
  /**
   * Every EC2 record discovery read, by instance id, as DescribeInstances gave it (no ASG facts, no
   * origin): the instances tagged as members of the configured ASGs (listed or not, in every state EC2
   * still shows), those matching the tag filters, and those looked up by id. Later questions of the
   * same pass about these instances ({@link findUnlistedMembers}) are answered from it, without a call.
   */
  readonly described: ReadonlyMap<string, Node>;
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
 *
 * One round trip in the common case: the ASG describe, the search for the instances tagged with the
 * ASGs' names (`aws:autoscaling:groupName`) and the tag-filter search go out together. Only instances
 * none of these answers showed are then looked up by id (one more round trip, chunks in parallel): an
 * ASG member EC2 did not return with its tag (an attached instance without it, a read that lags), or an
 * instance an event names. An ASG member that no DescribeInstances answer shows stays without EC2 facts,
 * so it is judged unknown, never leaving (docs/safety.md, "Evidence").
 */
export async function discoverNodes(
  cluster: ClusterConfig,
  ports: DiscoveryPorts,
  hints: NodeHints = {},
  ownerId?: string,
): Promise<Discovery> {
  const asgNames = cluster.nodeSource.autoScalingGroups;
  const hasTags = Object.keys(cluster.nodeSource.tagFilters).length > 0;
  const [groups, members, tagged] = await Promise.all([
    asgNames.length > 0 ? ports.autoScaling.describeGroups(asgNames) : Promise.resolve([]),
    asgNames.length > 0 ? ports.ec2.describeInstancesOfGroups(asgNames) : Promise.resolve([]),
    hasTags ? ports.ec2.describeInstancesByTags(cluster.nodeSource.tagFilters) : Promise.resolve([]),
  ]);
  const described = new Map<string, Node>();
  for (const node of [...members, ...tagged]) described.set(node.instanceId, { ...node, origins: [] });
  const missing = asgNames.filter((name) => !groups.some((g) => g.name === name));
  const asgInstances = groups.flatMap((g) => g.instances.map((i) => ({ ...i, groupName: g.name })));
  const known = new Set([...asgInstances.map((i) => i.instanceId), ...tagged.map((n) => n.instanceId)]);
  // Instances an event names but discovery does not list: a launching one the ASG does not show yet,
  // or a leaving one already gone from the ASG (its EC2 record still gives the IP its target has).
  const extra = [...new Set([...(hints.launching ?? []), ...(hints.leaving ?? [])])].filter(
    (id) => !known.has(id),
  );
  const lookupIds = [...new Set([...asgInstances.map((i) => i.instanceId), ...extra])].filter(
    (id) => !described.has(id),
  );
  if (lookupIds.length > 0) {
    for (const node of await ports.ec2.describeInstancesById(lookupIds)) {
      described.set(node.instanceId, { ...node, origins: [] });
    }
  }
  const asgNodes: Node[] = asgInstances.map((instance) => {
    const ec2 = described.get(instance.instanceId);
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
    const node = described.get(id);
    return node === undefined ? [] : [node];
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
    described,
  };
}

/**
 * Picks, among instances that hold a target but that discovery's lists did not return (instance ids of
 * `instance` groups), the running or pending ones whose EC2 tags make them members of the cluster: a
 * configured ASG's name tag, or every tag filter. Such a node is unknown, not vanished: a stale ASG read
 * right after a launch must not deregister it (docs/safety.md, "Evidence").
 *
 * No call: the discovery of the same pass already searched EC2 for both kinds of membership (every
 * instance tagged with a configured ASG's name, every live instance matching the tag filters), so an
 * instance its answers do not show is not a member by EC2's tags, or EC2 no longer knows it; it is not
 * returned.
 */
export function findUnlistedMembers(
  cluster: ClusterConfig,
  discovery: Pick<Discovery, 'described'>,
  instanceIds: readonly string[],
  ownerId?: string,
): Node[] {
  return [...new Set(instanceIds)].flatMap((id) => {
    const node = discovery.described.get(id);
    if (node === undefined) return [];
    // Only a running member is rescued; one on its way out stays what it was (vanished, guarded).
    if (node.ec2State !== 'running' && node.ec2State !== 'pending') return [];
    const memberOf = membershipByTags(node, cluster);
    if (memberOf === undefined) return [];
    const drainMark = ownerId === undefined ? undefined : drainMarkOf(node.tags, ownerId);
    return [
      { ...node, origins: [], unlistedMemberOf: memberOf, ...(drainMark !== undefined && { drainMark }) },
    ];
  });
}

/**
 * Says how an instance's EC2 tags make it a member of the cluster: `Auto Scaling group <name>` when its
 * `aws:autoscaling:groupName` is a configured ASG, `the tag filters` when it matches every tag filter;
 * undefined when they do not (an instance that only an event named is then not the cluster's).
 */
export function membershipByTags(
  node: Pick<Node, 'tags'>,
  cluster: Pick<ClusterConfig, 'nodeSource'>,
): string | undefined {
  const asg = node.tags?.[ASG_NAME_TAG];
  if (asg !== undefined && cluster.nodeSource.autoScalingGroups.includes(asg))
    return `Auto Scaling group ${asg}`;
  const filters = Object.entries(cluster.nodeSource.tagFilters);
  const byTags =
    filters.length > 0 &&
    filters.every(([key, values]) => {
      const value = node.tags?.[key];
      return value !== undefined && values.includes(value);
    });
  return byTags ? 'the tag filters' : undefined;
}
