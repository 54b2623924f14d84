import {
  DescribeVpcsCommand,
  type DescribeVpcsCommandOutput,
  type EC2Client,
  paginateDescribeNetworkInterfaces,
} from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancersCommand,
  type DescribeLoadBalancersCommandOutput,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { MissingResourceError } from '../domain/errors';
import { compareIps } from '../domain/ip-addresses';
import type { LoadBalancerInfo, LoadBalancerPort } from '../domain/network-ports';
import { ec2Client, elbv2Client } from './clients';

const LB_NOT_FOUND = new Set(['LoadBalancerNotFoundException', 'LoadBalancerNotFound']);
const VPC_NOT_FOUND = new Set(['InvalidVpcID.NotFound']);

/**
 * ELBv2 + EC2 adapter for what the network side needs to know about the NLB.
 * @example
 * const nlb = await new LoadBalancerAdapter().describeLoadBalancer(arn);
 */
export class LoadBalancerAdapter implements LoadBalancerPort {
  /** @param elbv2 and @param ec2 default to the process-wide clients; tests inject their own. */
  public constructor(
    private readonly elbv2: ElasticLoadBalancingV2Client = elbv2Client(),
    private readonly ec2: EC2Client = ec2Client(),
  ) {}

  /** Describes the NLB; raises MissingResourceError when it does not exist. */
  public async describeLoadBalancer(arn: string): Promise<LoadBalancerInfo> {
    let output: DescribeLoadBalancersCommandOutput;
    try {
      output = await this.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] }));
    } catch (error) {
      if (LB_NOT_FOUND.has((error as Error).name))
        throw new MissingResourceError(`load balancer ${arn} does not exist`);
      throw error;
    }
    const lb = output.LoadBalancers?.[0];
    if (lb === undefined) throw new MissingResourceError(`load balancer ${arn} does not exist`);
    return {
      arn,
      name: lb.LoadBalancerName ?? '',
      dnsName: lb.DNSName ?? '',
      canonicalHostedZoneId: lb.CanonicalHostedZoneId ?? '',
      vpcId: lb.VpcId ?? '',
      securityGroupIds: [...(lb.SecurityGroups ?? [])].sort(),
      dualstack: (lb.IpAddressType ?? 'ipv4').startsWith('dualstack'),
    };
  }

  /**
   * Private IPv4s of the NLB's interfaces. AWS describes each `ELB net/<name>/<id>` (the ARN's tail), so
   * the filter on description finds exactly this NLB's interfaces, one per enabled subnet.
   */
  public async describePrivateIps(loadBalancer: LoadBalancerInfo): Promise<string[]> {
    const ips = new Set<string>();
    for await (const page of paginateDescribeNetworkInterfaces(
      { client: this.ec2 },
      {
        Filters: [
          { Name: 'description', Values: [interfaceDescription(loadBalancer.arn)] },
          ...(loadBalancer.vpcId === '' ? [] : [{ Name: 'vpc-id', Values: [loadBalancer.vpcId] }]),
        ],
      },
    )) {
      for (const eni of page.NetworkInterfaces ?? []) {
        if (eni.PrivateIpAddress !== undefined) ips.add(eni.PrivateIpAddress);
      }
    }
    return [...ips].sort(compareIps);
  }

  /** The VPC's associated IPv4 CIDR blocks (the primary and any added one), sorted. */
  public async describeVpcCidrs(vpcId: string): Promise<string[]> {
    let output: DescribeVpcsCommandOutput;
    try {
      output = await this.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
    } catch (error) {
      if (VPC_NOT_FOUND.has((error as Error).name))
        throw new MissingResourceError(`VPC ${vpcId} does not exist`);
      throw error;
    }
    const vpc = output.Vpcs?.[0];
    if (vpc === undefined) throw new MissingResourceError(`VPC ${vpcId} does not exist`);
    const cidrs = new Set<string>();
    for (const association of vpc.CidrBlockAssociationSet ?? []) {
      if (association.CidrBlock !== undefined && association.CidrBlockState?.State === 'associated')
        cidrs.add(association.CidrBlock);
    }
    if (cidrs.size === 0 && vpc.CidrBlock !== undefined) cidrs.add(vpc.CidrBlock);
    return [...cidrs].sort();
  }
}

/**
 * The description AWS gives an NLB's network interfaces: `ELB ` and the ARN's tail after `loadbalancer/`.
 * @example interfaceDescription('arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/web/50dc6c495c0c9188')
 * // 'ELB net/web/50dc6c495c0c9188'
 */
export function interfaceDescription(loadBalancerArn: string): string {
  const tail = loadBalancerArn.split(':loadbalancer/')[1];
  if (tail === undefined) throw new MissingResourceError(`${loadBalancerArn} is not a load balancer ARN`);
  return `ELB ${tail}`;
}
