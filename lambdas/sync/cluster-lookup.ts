import type { ClusterConfig, SyncConfig } from '../domain/config';

/** The cluster whose node source lists this ASG, if any (the schema lets an ASG belong to one cluster only). */
export function clusterForAutoScalingGroup(config: SyncConfig, asgName: string): ClusterConfig | undefined {
  return config.clusters.find((c) => c.nodeSource.autoScalingGroups.includes(asgName));
}
