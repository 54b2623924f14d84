import { Match } from 'aws-cdk-lib/assertions';
import type { CfnTargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { FIXTURES, type Synthesized, synthesize } from './synth-helpers';

describe('Class: ClusterLoadBalancer', () => {
  describe('Method: constructor (create mode)', () => {
    let synthesized: Synthesized;
    beforeAll(() => {
      synthesized = synthesize(FIXTURES.create);
    });

    it('creates one network load balancer with the configured scheme, subnets and security group', () => {
      // Prepare
      const { template } = synthesized;

      // Act & Assess
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        Type: 'network',
        Scheme: 'internet-facing',
        Subnets: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        SecurityGroups: ['sg-0aaaaaaaaaaaaaaa0'],
        LoadBalancerAttributes: Match.arrayWith([
          { Key: 'deletion_protection.enabled', Value: 'true' },
          { Key: 'load_balancing.cross_zone.enabled', Value: 'true' },
          { Key: 'access_logs.s3.enabled', Value: 'false' },
        ]),
      });
    });

    it('creates one listener per port mapping on its listener port, forwarding to its group', () => {
      // Prepare
      const { template, stack } = synthesized;
      const groupId = (name: string) =>
        stack.getLogicalId(
          stack.node.findChild('LoadBalancer-edge').node.findChild(`TargetGroup-${name}`) as CfnTargetGroup,
        );

      // Act
      const listeners = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::Listener'));

      // Assess
      expect(listeners).toHaveLength(3);
      for (const [port, protocol, name] of [
        [4000, 'TCP', 'app0'],
        [4001, 'TCP', 'app1'],
        [53, 'UDP', 'dns'],
      ] as const) {
        template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
          Port: port,
          Protocol: protocol,
          DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: groupId(name) } }],
        });
      }
    });

    it('creates one target group per port mapping on its NodePort with its health check', () => {
      // Prepare
      const { template } = synthesized;

      // Act
      const groups = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'));

      // Assess
      expect(groups).toHaveLength(3);
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Port: 30000,
        Protocol: 'TCP',
        TargetType: 'ip',
        VpcId: 'vpc-0123456789abcdef0',
        HealthCheckProtocol: 'HTTP',
        HealthCheckPort: '30200',
        HealthCheckPath: '/healthz',
        TargetGroupAttributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '120' }],
      });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Port: 30001,
        HealthCheckProtocol: 'TCP',
        HealthCheckPort: 'traffic-port',
        TargetGroupAttributes: Match.arrayWith([{ Key: 'preserve_client_ip.enabled', Value: 'true' }]),
      });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Port: 30053,
        Protocol: 'UDP',
        HealthCheckProtocol: 'TCP',
      });
    });

    it('gives the function the created group ARNs as deploy-time values and scopes its writes to them', () => {
      // Prepare
      const { template, stack } = synthesized;
      const refs = ['app0', 'app1', 'dns'].map((name) => ({
        Ref: stack.getLogicalId(
          stack.node.findChild('LoadBalancer-edge').node.findChild(`TargetGroup-${name}`) as CfnTargetGroup,
        ),
      }));

      // Act
      const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
      const config = JSON.stringify(fn?.Properties.Environment.Variables.NLB_SYNC_CONFIG_REFS);

      // Assess
      for (const ref of refs) expect(config).toContain(JSON.stringify(ref));
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'WriteConfiguredTargetGroups',
              Action: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
              Resource: refs,
            }),
          ]),
        },
      });
    });

    it('times the terminate hook to the deregistration delay plus a margin', () => {
      // Prepare
      const { template } = synthesized;

      // Act & Assess
      template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: 180,
        DefaultResult: 'CONTINUE',
      });
    });

    it('alarms on the health of every created target group', () => {
      // Prepare
      const { template } = synthesized;

      // Act
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) =>
        (alarm.Properties.AlarmDescription as string).startsWith('Target group'),
      );

      // Assess: one alarm per condition watches all three groups (up to 10 metrics an alarm)
      expect(alarms).toHaveLength(3);
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmDescription).toMatch(
          /^Target group\(s\) app0, app1, dns of cluster edge:/,
        );
      }
    });
  });
});
