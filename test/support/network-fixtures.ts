/**
 * What the security-group and DNS use-case tests share: one cluster `prod` behind one NLB, with one mapping
 * `app` (NodePort 30000), and the sections each test adds (`securityGroups`, `dns`).
 */
import { type ClusterConfig, parseSyncConfig, type SyncConfig } from '../../lambdas/domain/config';

/** The cluster's NLB. */
export const NLB_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/ingress/50dc6c495c0c9188';

/** The config of one NLB cluster with the given sections, validated, and its one cluster. */
export function nlbClusterConfig(sections: Record<string, unknown>): {
  config: SyncConfig;
  cluster: ClusterConfig;
} {
  const config = parseSyncConfig({
    clusters: [
      {
        name: 'prod',
        nodeSource: { autoScalingGroups: ['my-asg'] },
        loadBalancer: { arn: NLB_ARN },
        portMappings: [
          {
            name: 'app',
            targetGroupArn:
              'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/0123456789abcdef',
            nodePort: 30000,
          },
        ],
        ...sections,
      },
    ],
  });
  const [cluster] = config.clusters;
  if (cluster === undefined) throw new Error('the config has no cluster');
  return { config, cluster };
}
