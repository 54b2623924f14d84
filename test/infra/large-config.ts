import { parseSyncConfig, type SyncConfig } from '../../lambdas/domain/config';

/** Options of {@link largeConfig}. */
export interface LargeConfigOptions {
  readonly clusters: number;
  readonly mappingsPerCluster: number;
  /** Import existing target groups by ARN (the default) or let the stack create the NLBs. */
  readonly mode?: 'import' | 'create';
  /**
   * In import mode, give each cluster's `loadBalancer.arn` too (it turns on three alarms per target
   * group, and security-group management).
   * @default false
   */
  readonly loadBalancerArn?: boolean;
}

const hex = (n: number) => n.toString(16).padStart(16, '0');

/**
 * A validated config of the size a deployment can reach: `clusters` clusters of
 * `mappingsPerCluster` port mappings each (an NLB holds at most 50 listeners), names and ARNs of
 * realistic length.
 */
export function largeConfig(options: LargeConfigOptions): SyncConfig {
  const account = '111122223333';
  const prefix = `arn:aws:elasticloadbalancing:eu-west-1:${account}`;
  return parseSyncConfig(
    {
      ownerId: 'platform-ingress',
      alarmEmails: ['ops@example.com'],
      clusters: Array.from({ length: options.clusters }, (_, c) => {
        const name = `cluster-${c}`;
        const portMappings = Array.from({ length: options.mappingsPerCluster }, (_, m) => ({
          name: `service-${m}`,
          nodePort: 30000 + m,
          listenerPort: 10000 + m,
          ...(m % 5 === 0 ? { healthCheckNodePort: 32000 + m } : {}),
          ...(options.mode === 'create'
            ? {}
            : { targetGroupArn: `${prefix}:targetgroup/${name}-svc-${m}/${hex(c * 1000 + m)}` }),
        }));
        return {
          name,
          nodeSource: { autoScalingGroups: [`eks-${name}-a`, `eks-${name}-b`] },
          loadBalancer:
            options.mode === 'create'
              ? {
                  create: {
                    vpcId: 'vpc-0123456789abcdef0',
                    subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
                  },
                }
              : options.loadBalancerArn
                ? { arn: `${prefix}:loadbalancer/net/${name}-ingress/${hex(c)}` }
                : {},
          portMappings,
          // Security-group management needs the NLB's ARN (its rules admit the NLB).
          ...(options.mode === 'create' || options.loadBalancerArn
            ? { securityGroups: { groupIds: [`sg-${hex(c + 1).slice(-17)}`] } }
            : {}),
        };
      }),
    },
    'largeConfig',
  );
}
