import {
  CreateTagsCommand,
  DeleteTagsCommand,
  type EC2Client,
  type Filter,
  type Instance,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';
import type { Node, NodeOrigin } from '../domain/node';
import { ASG_NAME_TAG, type Ec2Port } from '../domain/ports';
import { chunksOf } from './chunks';
import { ec2Client } from './clients';

/** Instance ids sent per DescribeInstances call; well under EC2's limit on filter values. */
export const INSTANCE_IDS_PER_CALL = 100;

/** Values one DescribeInstances filter takes (EC2 allows 200). */
const FILTER_VALUES_PER_CALL = 200;

/** Largest page DescribeInstances returns (MaxResults); fewer pages, fewer throttling tokens. */
const INSTANCES_PER_PAGE = 1000;

/** Every state but `terminated`: a stopping or shutting-down node must still be seen so it can be removed. */
export const LIVE_INSTANCE_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'] as const;

/**
 * EC2 adapter: turns DescribeInstances results into domain nodes.
 *
 * @example
 * const nodes = await new Ec2InstanceAdapter().describeInstancesByTags({ 'karpenter.sh/nodepool': ['default'] });
 */
export class Ec2InstanceAdapter implements Ec2Port {
  /** @param client defaults to the process-wide client; tests inject their own. */
  public constructor(private readonly client: EC2Client = ec2Client()) {}

  /**
   * Describes instances by id, 100 ids per call, the calls in parallel (one round trip, however many
   * ids); ids EC2 does not know are absent from the result.
   *
   * The ids go in an `instance-id` filter, not in `InstanceIds`: with `InstanceIds` one unknown id
   * (an instance terminated long ago, or one so new that EC2's eventually consistent reads do not show
   * it yet) fails the whole call with InvalidInstanceID.NotFound, and every other node of the chunk is
   * lost with it. A filter simply matches nothing for that id.
   */
  public async describeInstancesById(instanceIds: readonly string[]): Promise<Node[]> {
    const unique = [...new Set(instanceIds)];
    const chunks = await Promise.all(
      chunksOf(unique, INSTANCE_IDS_PER_CALL).map((chunk) =>
        this.describe([{ Name: 'instance-id', Values: chunk }], []),
      ),
    );
    return chunks.flat();
  }

  /**
   * Describes the instances Auto Scaling tagged as members of the named groups (`aws:autoscaling:groupName`,
   * which Auto Scaling sets at launch and on attach), in every state EC2 still shows, terminated ones
   * included, 1,000 a page. Needs no instance id, so it runs beside DescribeAutoScalingGroups instead
   * of after it. The nodes carry no ASG facts and no origin: the group's own list says who is a member.
   */
  public async describeInstancesOfGroups(groupNames: readonly string[]): Promise<Node[]> {
    const unique = [...new Set(groupNames)];
    if (unique.length === 0) return [];
    const chunks = await Promise.all(
      chunksOf(unique, FILTER_VALUES_PER_CALL).map((chunk) =>
        this.describe([{ Name: `tag:${ASG_NAME_TAG}`, Values: chunk }], [], INSTANCES_PER_PAGE),
      ),
    );
    return chunks.flat();
  }

  /**
   * Describes non-terminated instances matching every tag filter, following NextToken.
   *
   * A key with an empty value list matches any value of that tag (`tag-key` filter). No filters at
   * all yields no nodes rather than every instance of the account, which no caller can mean.
   */
  public async describeInstancesByTags(
    tagFilters: Readonly<Record<string, readonly string[]>>,
  ): Promise<Node[]> {
    const tagEntries = Object.entries(tagFilters);
    if (tagEntries.length === 0) {
      return [];
    }
    const filters: Filter[] = tagEntries.map(([key, values]) =>
      values.length === 0 ? { Name: 'tag-key', Values: [key] } : { Name: `tag:${key}`, Values: [...values] },
    );
    filters.push({ Name: 'instance-state-name', Values: [...LIVE_INSTANCE_STATES] });
    return this.describe(filters, ['tag-filter'], INSTANCES_PER_PAGE);
  }

  /** Sets one tag on an instance; an instance EC2 no longer knows is `not-found` (it is gone). */
  public async tagInstance(instanceId: string, key: string, value: string): Promise<'done' | 'not-found'> {
    return notFoundIsGone(() =>
      this.client.send(
        new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: key, Value: value }] }),
      ),
    );
  }

  /** Removes one tag from an instance (whatever its value); `not-found` when the instance is gone. */
  public async untagInstance(instanceId: string, key: string): Promise<'done' | 'not-found'> {
    return notFoundIsGone(() =>
      this.client.send(new DeleteTagsCommand({ Resources: [instanceId], Tags: [{ Key: key }] })),
    );
  }

  private async describe(
    filters: Filter[],
    origins: readonly NodeOrigin[],
    pageSize?: number,
  ): Promise<Node[]> {
    const byId = new Map<string, Node>();
    const pages = paginateDescribeInstances(
      { client: this.client, ...(pageSize !== undefined && { pageSize }) },
      { Filters: filters },
    );
    for await (const page of pages) {
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          const node = toNode(instance, origins);
          if (node !== undefined) {
            byId.set(node.instanceId, node);
          }
        }
      }
    }
    return [...byId.values()];
  }
}

const INSTANCE_NOT_FOUND = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']);

async function notFoundIsGone(call: () => Promise<unknown>): Promise<'done' | 'not-found'> {
  try {
    await call();
    return 'done';
  } catch (error) {
    if (error instanceof Error && INSTANCE_NOT_FOUND.has(error.name)) return 'not-found';
    throw error;
  }
}

function toNode(instance: Instance, origins: readonly NodeOrigin[]): Node | undefined {
  if (instance.InstanceId === undefined) {
    return undefined;
  }
  return {
    instanceId: instance.InstanceId,
    ...(instance.PrivateIpAddress !== undefined && { privateIp: instance.PrivateIpAddress }),
    ...(instance.Placement?.AvailabilityZone !== undefined && {
      availabilityZone: instance.Placement.AvailabilityZone,
    }),
    ...(instance.SubnetId !== undefined && { subnetId: instance.SubnetId }),
    ...(instance.VpcId !== undefined && { vpcId: instance.VpcId }),
    ...(instance.State?.Name !== undefined && { ec2State: instance.State.Name }),
    securityGroupIds: primarySecurityGroupIds(instance),
    origins: [...origins],
    ...(instance.Tags !== undefined &&
      instance.Tags.length > 0 && {
        tags: Object.fromEntries(
          instance.Tags.flatMap((tag) =>
            tag.Key === undefined ? [] : [[tag.Key, tag.Value ?? ''] as const],
          ),
        ),
      }),
  };
}

/**
 * The groups of the primary interface (device 0 on network card 0): the NLB sends traffic to the
 * primary private IP, so only that interface's groups must admit it. Instance-level SecurityGroups is
 * the union over every interface, used only when EC2 returned no interface details.
 */
function primarySecurityGroupIds(instance: Instance): string[] {
  const primary = instance.NetworkInterfaces?.find(
    (eni) => eni.Attachment?.DeviceIndex === 0 && (eni.Attachment.NetworkCardIndex ?? 0) === 0,
  );
  const groups = primary?.Groups ?? instance.SecurityGroups ?? [];
  return groups.flatMap((group) => (group.GroupId === undefined ? [] : [group.GroupId]));
}
