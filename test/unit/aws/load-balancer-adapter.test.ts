import { DescribeNetworkInterfacesCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
  LoadBalancerNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { interfaceDescription, LoadBalancerAdapter } from '../../../lambdas/aws/load-balancer-adapter';
import { MissingResourceError } from '../../../lambdas/domain/errors';
import type { LoadBalancerInfo } from '../../../lambdas/domain/network-ports';

const elbv2Client = new ElasticLoadBalancingV2Client({ region: 'eu-west-1' });
const ec2Client = new EC2Client({ region: 'eu-west-1' });
const elbv2 = mockClient(elbv2Client);
const ec2 = mockClient(ec2Client);

const ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/web/50dc6c495c0c9188';
const NLB: LoadBalancerInfo = {
  arn: ARN,
  name: 'web',
  dnsName: 'web-50dc6c495c0c9188.elb.eu-west-1.amazonaws.com',
  canonicalHostedZoneId: 'Z2IFOLAFXWLO4F',
  vpcId: 'vpc-1',
  securityGroupIds: ['sg-1', 'sg-2'],
  dualstack: true,
};

describe('Class: LoadBalancerAdapter', () => {
  beforeEach(() => {
    elbv2.reset();
    ec2.reset();
  });

  describe('Method: describeLoadBalancer', () => {
    it('returns the DNS name, canonical zone, VPC, sorted security groups and whether it is dualstack', async () => {
      // Prepare
      elbv2.on(DescribeLoadBalancersCommand).resolves({
        LoadBalancers: [
          {
            LoadBalancerArn: ARN,
            LoadBalancerName: 'web',
            DNSName: NLB.dnsName,
            CanonicalHostedZoneId: 'Z2IFOLAFXWLO4F',
            VpcId: 'vpc-1',
            SecurityGroups: ['sg-2', 'sg-1'],
            IpAddressType: 'dualstack',
          },
        ],
      });
      const adapter = new LoadBalancerAdapter(elbv2Client, ec2Client);

      // Act
      const info = await adapter.describeLoadBalancer(ARN);

      // Assess
      expect(info).toEqual(NLB);
      expect(elbv2).toHaveReceivedCommandWith(DescribeLoadBalancersCommand, { LoadBalancerArns: [ARN] });
    });

    it('turns LoadBalancerNotFound into a MissingResourceError', async () => {
      // Prepare
      elbv2.on(DescribeLoadBalancersCommand).rejects(
        new LoadBalancerNotFoundException({
          $metadata: {},
          message: 'One or more load balancers not found',
        }),
      );
      const adapter = new LoadBalancerAdapter(elbv2Client, ec2Client);

      // Act & Assess
      await expect(adapter.describeLoadBalancer(ARN)).rejects.toThrow(MissingResourceError);
    });
  });

  describe('Method: describePrivateIps', () => {
    it('finds the NLB interfaces by their ELB description on every page and sorts their IPs', async () => {
      // Prepare
      ec2
        .on(DescribeNetworkInterfacesCommand)
        .resolvesOnce({ NetworkInterfaces: [{ PrivateIpAddress: '10.0.16.9' }], NextToken: 'next' })
        .resolvesOnce({ NetworkInterfaces: [{ PrivateIpAddress: '10.0.2.10' }] });
      const adapter = new LoadBalancerAdapter(elbv2Client, ec2Client);

      // Act
      const ips = await adapter.describePrivateIps(NLB);

      // Assess
      expect(ips).toEqual(['10.0.2.10', '10.0.16.9']);
      expect(ec2).toHaveReceivedNthCommandWith(1, DescribeNetworkInterfacesCommand, {
        Filters: [
          { Name: 'description', Values: ['ELB net/web/50dc6c495c0c9188'] },
          { Name: 'vpc-id', Values: ['vpc-1'] },
        ],
      });
    });
  });

  describe('Method: describeVpcCidrs', () => {
    it('returns the associated IPv4 CIDR blocks only', async () => {
      // Prepare
      ec2.on(DescribeVpcsCommand).resolves({
        Vpcs: [
          {
            VpcId: 'vpc-1',
            CidrBlock: '10.0.0.0/16',
            CidrBlockAssociationSet: [
              { CidrBlock: '10.0.0.0/16', CidrBlockState: { State: 'associated' } },
              { CidrBlock: '100.64.0.0/16', CidrBlockState: { State: 'associated' } },
              { CidrBlock: '10.9.0.0/16', CidrBlockState: { State: 'disassociated' } },
            ],
          },
        ],
      });
      const adapter = new LoadBalancerAdapter(elbv2Client, ec2Client);

      // Act
      const cidrs = await adapter.describeVpcCidrs('vpc-1');

      // Assess
      expect(cidrs).toEqual(['10.0.0.0/16', '100.64.0.0/16']);
    });
  });
});

describe('Function: interfaceDescription', () => {
  it('is ELB followed by the ARN tail after loadbalancer/', () => {
    // Act & Assess
    expect(interfaceDescription(ARN)).toBe('ELB net/web/50dc6c495c0c9188');
  });

  it('refuses something that is not a load balancer ARN', () => {
    // Act & Assess
    expect(() => interfaceDescription('arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-1')).toThrow(
      MissingResourceError,
    );
  });
});
