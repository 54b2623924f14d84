import type { ClusterConfig, SyncConfig } from '../domain/config';
import { drainMarkOf, drainMarkTagKey, formatDrainMark } from '../domain/drain-mark';
import { MissingResourceError } from '../domain/errors';
import type { Clock } from '../domain/ports';
import { type DiscoveryPorts, discoverNodes } from './discover-nodes';

/** What an operator's drain or undrain did. */
export interface DrainOutcome {
  readonly instanceId: string;
  readonly cluster: string;
  /** `marked` / `unmarked`, or `unchanged` when the instance already was as asked. */
  readonly change: 'marked' | 'unmarked' | 'unchanged';
  /** The mark as it was before. */
  readonly previous?: string;
}

/**
 * An operator's `drain`: puts this deployment's drain mark (reason `operator`) on one instance of a
 * configured cluster, so every later pass keeps it out of every group until `undrain`. Only instances
 * that discovery finds in a cluster are marked: the role may tag nothing else (docs/iam.md).
 * @throws MissingResourceError when no cluster's node source holds the instance.
 */
export async function drainInstance(
  config: SyncConfig,
  instanceId: string,
  deps: DiscoveryPorts & { readonly clock: Clock },
): Promise<DrainOutcome> {
  const { cluster, node } = await findNode(config, instanceId, deps);
  const previous = drainMarkOf(node.tags, config.ownerId);
  if (previous !== undefined)
    return { instanceId, cluster: cluster.name, change: 'unchanged', previous: previous.reason };
  const value = formatDrainMark('operator', new Date(deps.clock.now()));
  await deps.ec2.tagInstance(instanceId, drainMarkTagKey(config.ownerId), value);
  return { instanceId, cluster: cluster.name, change: 'marked' };
}

/**
 * An operator's `undrain`: removes this deployment's drain mark, whoever set it; the next pass registers
 * the instance again if it is otherwise desired.
 * @throws MissingResourceError when no cluster's node source holds the instance.
 */
export async function undrainInstance(
  config: SyncConfig,
  instanceId: string,
  deps: DiscoveryPorts,
): Promise<DrainOutcome> {
  const { cluster, node } = await findNode(config, instanceId, deps);
  const previous = drainMarkOf(node.tags, config.ownerId);
  if (previous === undefined) return { instanceId, cluster: cluster.name, change: 'unchanged' };
  await deps.ec2.untagInstance(instanceId, drainMarkTagKey(config.ownerId));
  return { instanceId, cluster: cluster.name, change: 'unmarked', previous: previous.reason };
}

async function findNode(
  config: SyncConfig,
  instanceId: string,
  deps: DiscoveryPorts,
): Promise<{ cluster: ClusterConfig; node: Awaited<ReturnType<typeof discoverNodes>>['nodes'][number] }> {
  for (const cluster of config.clusters) {
    const discovery = await discoverNodes(cluster, deps, {}, config.ownerId);
    const node = discovery.nodes.find((n) => n.instanceId === instanceId);
    if (node !== undefined) return { cluster, node };
  }
  throw new MissingResourceError(
    `Instance ${instanceId} is not a node of any configured cluster (checked ${config.clusters.map((c) => c.name).join(', ')})`,
  );
}
