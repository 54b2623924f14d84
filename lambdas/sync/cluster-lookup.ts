import type { ClusterConfig, SyncConfig } from '../domain/config';

/** The cluster whose node source lists this ASG, if any (an ASG belongs to at most one cluster). */
export function clusterForAutoScalingGroup(config: SyncConfig, asgName: string): ClusterConfig | undefined {
  return config.clusters.find((c) => c.nodeSource.autoScalingGroups.includes(asgName));
}

/** The clusters that discover nodes by EC2 tags; EC2 events can only concern these or ASG clusters. */
export function clustersWithTagSources(config: SyncConfig): ClusterConfig[] {
  return config.clusters.filter((c) => Object.keys(c.nodeSource.tagFilters).length > 0);
}

/** Looks a cluster up by name. */
export function clusterByName(config: SyncConfig, name: string): ClusterConfig | undefined {
  return config.clusters.find((c) => c.name === name);
}
