import { Tags, Validations } from 'aws-cdk-lib';
import { CfnListener, CfnLoadBalancer, CfnTargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { type ClusterConfig, ConfigError, type PortMapping } from '../../lambdas/domain/config';

/** One target group of a cluster as the rest of the stack sees it, whichever mode made it. */
export interface ResolvedTargetGroup {
  /** The port mapping it serves. */
  readonly mapping: PortMapping;
  /** Its ARN: from config (import) or a reference to the created group. */
  readonly arn: string;
  /** The CloudWatch `TargetGroup` dimension, `targetgroup/<name>/<id>`. */
  readonly metricName: string;
}

/** Properties of {@link ClusterLoadBalancer}. */
export interface ClusterLoadBalancerProps {
  /** The cluster, with its `loadBalancer` settings. */
  readonly cluster: ClusterConfig;
  /** Where the cluster sits in the config, for error messages (`clusters.<index>`). */
  readonly index: number;
  /** Tag value that marks what this deployment created. */
  readonly ownerId: string;
}

/** Health check settings tuned for NodePort targets: quick to go healthy, not flappy. */
const HEALTH_CHECK = { intervalSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 } as const;

/** `targetgroup/<name>/<id>` or `net/<name>/<id>` out of an ELB ARN: CloudWatch's dimension value. */
export function metricNameOfArn(arn: string): string {
  const resource = arn.split(':').slice(5).join(':');
  return resource.startsWith('loadbalancer/') ? resource.slice('loadbalancer/'.length) : resource;
}

/**
 * The cluster's NLB and target groups, two ways. Import (the default): the ARNs come from config
 * and nothing is created. Create (`loadBalancer.create`): one NLB, and per port mapping one target
 * group on the NodePort (health check on the health-check NodePort when given, HTTP `/healthz`
 * as kube-proxy serves it) and one listener on the mapping's listener port.
 */
export class ClusterLoadBalancer extends Construct {
  /** The NLB's ARN, when known (config or created). */
  public readonly loadBalancerArn?: string;
  /** The CloudWatch `LoadBalancer` dimension, `net/<name>/<id>`, when known. */
  public readonly loadBalancerMetricName?: string;
  /** The target groups, in port-mapping order. */
  public readonly targetGroups: readonly ResolvedTargetGroup[];

  public constructor(scope: Construct, id: string, props: ClusterLoadBalancerProps) {
    super(scope, id);
    const { cluster, index } = props;
    const create = cluster.loadBalancer.create;
    if (create === undefined) {
      const arn = cluster.loadBalancer.arn;
      this.loadBalancerArn = arn;
      this.loadBalancerMetricName = arn === undefined ? undefined : metricNameOfArn(arn);
      this.targetGroups = cluster.portMappings.map((mapping, mi) => {
        // parseSyncConfig already requires the ARN in import mode; this guards direct construction.
        if (mapping.targetGroupArn === undefined) {
          throw new ConfigError(`clusters.${index}`, [
            `clusters.${index}.portMappings.${mi}.targetGroupArn: is required unless loadBalancer.create is set`,
          ]);
        }
        return { mapping, arn: mapping.targetGroupArn, metricName: metricNameOfArn(mapping.targetGroupArn) };
      });
      return;
    }

    const tls = cluster.portMappings.findIndex((m) => m.protocol === 'TLS');
    if (tls >= 0) {
      throw new ConfigError(`clusters.${index}`, [
        `clusters.${index}.portMappings.${tls}.protocol: TLS listeners need a certificate, which the configuration cannot carry; use TCP, or create the NLB yourself and import it by ARN`,
      ]);
    }

    const attributes = [
      { key: 'deletion_protection.enabled', value: String(create.deletionProtection) },
      { key: 'load_balancing.cross_zone.enabled', value: String(create.crossZone) },
      { key: 'access_logs.s3.enabled', value: String(create.accessLogsBucket !== undefined) },
      ...(create.accessLogsBucket === undefined
        ? []
        : [
            { key: 'access_logs.s3.bucket', value: create.accessLogsBucket },
            { key: 'access_logs.s3.prefix', value: `${props.ownerId}/${cluster.name}` },
          ]),
    ];
    const nlb = new CfnLoadBalancer(this, 'LoadBalancer', {
      type: 'network',
      scheme: create.internetFacing ? 'internet-facing' : 'internal',
      subnets: create.subnetIds,
      // An NLB's security groups can only be set at creation (AWS, Aug 2023); none means none forever.
      securityGroups: create.securityGroupIds.length > 0 ? create.securityGroupIds : undefined,
      loadBalancerAttributes: attributes,
    });
    if (create.accessLogsBucket === undefined) {
      Validations.of(nlb).acknowledge({
        id: 'AwsSolutions-ELB2',
        reason: `Access logs are optional in the sync configuration and cluster "${cluster.name}" sets no loadBalancer.create.accessLogsBucket; set one to enable them.`,
      });
    }
    this.loadBalancerArn = nlb.ref;
    this.loadBalancerMetricName = nlb.attrLoadBalancerFullName;

    this.targetGroups = cluster.portMappings.map((mapping) => {
      const group = new CfnTargetGroup(this, `TargetGroup-${mapping.name}`, {
        vpcId: create.vpcId,
        port: mapping.nodePort,
        protocol: mapping.protocol,
        targetType: mapping.targetType,
        healthCheckEnabled: true,
        healthCheckProtocol: mapping.healthCheckNodePort === undefined ? 'TCP' : 'HTTP',
        healthCheckPath: mapping.healthCheckNodePort === undefined ? undefined : '/healthz',
        healthCheckPort:
          mapping.healthCheckNodePort === undefined ? 'traffic-port' : String(mapping.healthCheckNodePort),
        healthCheckIntervalSeconds: HEALTH_CHECK.intervalSeconds,
        healthyThresholdCount: HEALTH_CHECK.healthyThreshold,
        unhealthyThresholdCount: HEALTH_CHECK.unhealthyThreshold,
        targetGroupAttributes: [
          { key: 'deregistration_delay.timeout_seconds', value: String(create.deregistrationDelaySeconds) },
          ...(mapping.preserveClientIp === undefined
            ? []
            : [{ key: 'preserve_client_ip.enabled', value: String(mapping.preserveClientIp) }]),
        ],
      });
      Tags.of(group).add('nlb-nodeport-sync/port-mapping', mapping.name);
      new CfnListener(this, `Listener-${mapping.name}`, {
        loadBalancerArn: nlb.ref,
        port: mapping.listenerPort as number,
        protocol: mapping.protocol,
        defaultActions: [{ type: 'forward', targetGroupArn: group.ref }],
      });
      return { mapping, arn: group.ref, metricName: group.attrTargetGroupFullName };
    });
    Tags.of(this).add('nlb-nodeport-sync/owner', props.ownerId);
    Tags.of(this).add('nlb-nodeport-sync/cluster', cluster.name);
  }
}
