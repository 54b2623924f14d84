import { QuotaExceededError } from '../../../lambdas/domain/errors';
import type {
  DnsPort,
  LoadBalancerPort,
  RecordChange,
  RecordSet,
} from '../../../lambdas/domain/network-ports';
import { syncDns } from '../../../lambdas/sync/dns-sync';
import { asgNode, silentTelemetry } from '../../support/fake-aws';
import { NLB_ARN, nlbClusterConfig } from '../../support/network-fixtures';

const { config, cluster } = nlbClusterConfig({
  dns: {
    hostedZoneId: 'Z1',
    aliasNames: ['proxy.example.com'],
    nodeRecordName: 'nodes.example.com',
  },
});

/** An in-memory zone that records every change batch. */
class FakeZone implements DnsPort {
  public readonly batches: RecordChange[][] = [];
  public async describeZone() {
    return { id: 'Z1', name: 'example.com.' };
  }
  public async listRecordSets(): Promise<RecordSet[]> {
    return [];
  }
  public async changeRecordSets(_zone: string, changes: readonly RecordChange[]) {
    this.batches.push([...changes]);
    return { changeId: `c${this.batches.length}`, status: 'PENDING' };
  }
}

const loadBalancers: LoadBalancerPort = {
  describeLoadBalancer: async () => ({
    arn: NLB_ARN,
    name: 'ingress',
    dnsName: 'ingress-1.elb.us-east-1.amazonaws.com',
    canonicalHostedZoneId: 'Z26RNL4JYFTOTI',
    vpcId: 'vpc-1',
    securityGroupIds: [],
    dualstack: false,
  }),
  describePrivateIps: async () => [],
  describeVpcCidrs: async () => ['10.0.0.0/16'],
};

// The node name's changes weigh 4 records (3 IPs + its TXT marker); the alias name's 2 (alias + marker).
const limits = { maxRecords: 3, maxChars: 32000 };
const nodes = [asgNode(1), asgNode(2), asgNode(3)];

describe("Function: syncDns and Route 53's batch limits", () => {
  it('writes nothing for a name whose changes alone pass a limit, writes the other names, then fails naming the quota', async () => {
    // Prepare
    const zone = new FakeZone();
    const telemetry = silentTelemetry();
    const addMetric = jest.spyOn(telemetry.metrics, 'addMetric');

    // Act
    const result = syncDns(
      { config, cluster, nodes },
      { dns: zone, loadBalancers, ...telemetry, batchLimits: limits },
    );

    // Assess
    await expect(result).rejects.toThrow(QuotaExceededError);
    await expect(result).rejects.toThrow(
      'Route 53: the changes of nodes.example.com. weigh 4 ResourceRecord elements, over the quota of 3 per ChangeResourceRecordSets call',
    );
    expect(zone.batches.flat().map((c) => c.recordSet.name)).toEqual([
      'proxy.example.com.',
      'proxy.example.com.',
    ]);
    expect(addMetric).toHaveBeenCalledWith('QuotaRefusals', 'Count', 1);
  });

  it('reports the refusal in a dry run, with the changes it holds back', async () => {
    // Prepare
    const zone = new FakeZone();

    // Act
    const result = await syncDns(
      { config, cluster, nodes, dryRun: true },
      { dns: zone, loadBalancers, ...silentTelemetry(), batchLimits: limits },
    );

    // Assess
    expect(result.quotaRefusals).toEqual([expect.stringContaining('nodes.example.com.')]);
    expect(result.refused.map((r) => `${r.change.recordSet.name} ${r.change.recordSet.type}`)).toEqual([
      'nodes.example.com. A',
      'nodes.example.com. TXT',
    ]);
    expect(result.plan.every((c) => c.recordSet.name === 'proxy.example.com.')).toBe(true);
    expect(zone.batches).toEqual([]);
  });

  it("writes everything in one call within Route 53's own limits", async () => {
    // Prepare
    const zone = new FakeZone();

    // Act
    const result = await syncDns(
      { config, cluster, nodes },
      { dns: zone, loadBalancers, ...silentTelemetry() },
    );

    // Assess
    expect(result.quotaRefusals).toEqual([]);
    expect(zone.batches).toHaveLength(1);
    expect(zone.batches[0]).toHaveLength(4);
  });
});
