import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  type DescribeAutoScalingGroupsCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  type DeregisterTargetsCommandInput,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  type DescribeTargetHealthCommandInput,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  type RegisterTargetsCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { AutoScalingAdapter } from '../../../lambdas/aws/auto-scaling-adapter';
import { Ec2InstanceAdapter } from '../../../lambdas/aws/ec2-instance-adapter';
import { TargetGroupAdapter } from '../../../lambdas/aws/target-group-adapter';
import { parseSyncConfig, type SyncConfig } from '../../../lambdas/domain/config';
import type {
  DnsPort,
  IngressRuleSpec,
  LoadBalancerInfo,
  LoadBalancerPort,
  ObservedIngressRule,
  RecordSet,
  SecurityGroupInfo,
  SecurityGroupSearchPort,
} from '../../../lambdas/domain/network-ports';
import { handleLifecycleAction } from '../../../lambdas/sync/lifecycle-action';
import { networkSteps } from '../../../lambdas/sync/network-steps';
import { reconcileCluster } from '../../../lambdas/sync/reconcile-pass';
import { silentTelemetry } from '../../support/fake-aws';
import { FakeQueues, ManualClock } from '../../support/fake-queues';

/*
 * Sequential AWS round trips of one pass (issue 9 item 2, "read once, plan, write once").
 *
 * Every AWS call takes exactly one round trip: a call waits until nothing else can still be sent in
 * the same moment (every microtask has run), then every call waiting is answered together. A call
 * sent in reaction to an answer belongs to the next round trip. So the number of rounds is the
 * longest chain of calls that wait for one another, what a latency-adding proxy measures in time.
 * The real ASG, EC2 and ELBv2 adapters run (their chunking and pagination count) against an in-memory
 * model behind aws-sdk-client-mock; the security-group, NLB and Route 53 ports are modelled one call
 * per port method.
 */

const NODES = 250;
const GROUPS = 6;
const ASG = 'workers';
const NLB_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/ingress/50dc6c495c0c9188';
const NODE_GROUP = 'sg-0123456789abcdef0';
/** The account's groups carrying a cluster tag key: the node group (tagged for prod) and another cluster's. */
const TAGGED_GROUPS: readonly SecurityGroupInfo[] = [
  { groupId: NODE_GROUP, vpcId: 'vpc-1', tags: { 'nlb-nodeport-sync/cluster': 'prod' } },
  { groupId: 'sg-0bbbbbbbbbbbbbbb0', vpcId: 'vpc-1', tags: { 'nlb-nodeport-sync/cluster': 'blue' } },
];
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d'];

function groupArn(i: number): string {
  return `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg${i}/0123456789abcde${i}`;
}

/**
 * @param nodeGroupFrom - `config`: `securityGroups.groupIds` names the node group; `nodes`: none does, the
 *   pass finds it among the nodes' groups by its cluster tag (the default config)
 */
function configWith(
  launchGate: 'healthy' | 'registered' = 'healthy',
  nodeGroupFrom: 'config' | 'nodes' = 'config',
): SyncConfig {
  return parseSyncConfig({
    clusters: [
      {
        name: 'prod',
        nodeSource: { autoScalingGroups: [ASG] },
        loadBalancer: { arn: NLB_ARN },
        portMappings: Array.from({ length: GROUPS }, (_, i) => ({
          name: `svc${i}`,
          targetGroupArn: groupArn(i),
          nodePort: 30000 + i,
          targetType: i % 2 === 0 ? 'ip' : 'instance',
        })),
        securityGroups: nodeGroupFrom === 'config' ? { groupIds: [NODE_GROUP] } : {},
        dns: { hostedZoneId: 'Z1', aliasNames: ['proxy.example.com'], nodeRecordName: 'nodes.example.com' },
        lifecycle: { launchGate },
      },
    ],
  });
}

/** Answers every call of one moment together, one round trip later; counts the rounds. */
class RoundTrips {
  public rounds = 0;
  /** Every call, with the round trip it was answered in (1 = the first). */
  public readonly calls: { readonly op: string; readonly round: number; readonly detail: string }[] = [];
  private waiting: (() => void)[] = [];
  private scheduled = false;

  /** One AWS call: its answer is read now (as AWS reads on arrival) and delivered at the round's end. */
  public call<T>(op: string, answer: () => T, detail = ''): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let result: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        result = { ok: true, value: answer() };
      } catch (error) {
        result = { ok: false, error };
      }
      this.waiting.push(() => {
        this.calls.push({ op, round: this.rounds, detail });
        if (result.ok) resolve(result.value);
        else reject(result.error);
      });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate runs once every microtask has: every call this moment can send is waiting.
        setImmediate(() => this.flush());
      }
    });
  }

  /** The rounds at which calls of `op` (whose detail matches) were answered. */
  public roundsOf(op: string, detail?: RegExp): number[] {
    return this.calls
      .filter((c) => c.op === op && (detail === undefined || detail.test(c.detail)))
      .map((c) => c.round);
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.waiting;
    this.waiting = [];
    this.rounds += 1;
    for (const deliver of batch) deliver();
  }
}

interface ModelInstance {
  readonly id: string;
  readonly ip: string;
  readonly zone: string;
  lifecycleState: string;
}

/** An AWS account in memory: one ASG, its instances, the target groups, the NLB, its security group and zone. */
class World {
  public readonly rt = new RoundTrips();
  public readonly instances: ModelInstance[] = [];
  /** Instances the ASG lists (a launching one is in EC2 before its ASG lists it). */
  public readonly listed = new Set<string>();
  public readonly targets = new Map<string, Map<string, { id: string; port: number }>>();
  public readonly rules: ObservedIngressRule[] = [];
  public readonly records = new Map<string, RecordSet>();
  /** Write calls, in order. */
  public readonly writes: string[] = [];
  private nextRule = 1;
  private readonly clients = {
    autoScaling: new AutoScalingClient({ region: 'us-east-1' }),
    ec2: new EC2Client({ region: 'us-east-1' }),
    elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
  };

  /** @param nlbGroups - the NLB's security groups; none: the node group admits the NLB's private IPs. */
  public constructor(
    nodes: number,
    private readonly nlbGroups: readonly string[] = ['sg-0aaaaaaaaaaaaaaaa'],
  ) {
    for (let i = 0; i < GROUPS; i += 1) this.targets.set(groupArn(i), new Map());
    for (let n = 0; n < nodes; n += 1) this.launch(n, 'InService');
    this.mockSdk();
  }

  /** Adds an instance to EC2 and its ASG. */
  public launch(n: number, lifecycleState: string): ModelInstance {
    const instance = {
      id: `i-${(0x1000 + n).toString(16).padStart(17, '0')}`,
      ip: `10.1.${Math.floor(n / 250)}.${(n % 250) + 4}`,
      zone: ZONES[n % ZONES.length] ?? 'us-east-1a',
      lifecycleState,
    };
    this.instances.push(instance);
    this.listed.add(instance.id);
    return instance;
  }

  public deps() {
    const queues = new FakeQueues(new ManualClock());
    const telemetry = silentTelemetry();
    return {
      autoScaling: new AutoScalingAdapter(this.clients.autoScaling),
      ec2: new Ec2InstanceAdapter(this.clients.ec2),
      targetGroups: new TargetGroupAdapter(this.clients.elbv2),
      holds: queues,
      lane: queues,
      clock: queues.clock,
      ...telemetry,
      extraSteps: networkSteps({
        securityGroups: this.securityGroupPort(),
        loadBalancers: this.loadBalancerPort(),
        dns: this.dnsPort(),
        ...telemetry,
      }),
    };
  }

  /** Starts counting afresh (after a pass that set the scene). */
  public resetCounts(): void {
    this.rt.rounds = 0;
    this.rt.calls.length = 0;
    this.writes.length = 0;
  }

  private ec2Instance(instance: ModelInstance): Instance {
    return {
      InstanceId: instance.id,
      PrivateIpAddress: instance.ip,
      Placement: { AvailabilityZone: instance.zone },
      SubnetId: 'subnet-1',
      VpcId: 'vpc-1',
      State: { Name: 'running', Code: 16 },
      Tags: [{ Key: 'aws:autoscaling:groupName', Value: ASG }],
      NetworkInterfaces: [
        { Attachment: { DeviceIndex: 0, NetworkCardIndex: 0 }, Groups: [{ GroupId: NODE_GROUP }] },
      ],
    };
  }

  private describeInstances(input: DescribeInstancesCommandInput) {
    const matches = this.instances.filter((instance) =>
      (input.Filters ?? []).every((filter) => {
        const values = filter.Values ?? [];
        if (filter.Name === 'instance-id') return values.includes(instance.id);
        if (filter.Name === 'instance-state-name') return values.includes('running');
        if (filter.Name === 'tag:aws:autoscaling:groupName') return values.includes(ASG);
        if (filter.Name === 'tag-key') return values.includes('aws:autoscaling:groupName');
        if (filter.Name?.startsWith('tag:') === true) return false;
        throw new Error(`filter ${filter.Name} not modelled`);
      }),
    );
    const ids = new Set(input.InstanceIds ?? []);
    const found = ids.size === 0 ? matches : matches.filter((i) => ids.has(i.id));
    const start = input.NextToken === undefined ? 0 : Number(input.NextToken);
    const size = input.MaxResults ?? 1000;
    const page = found.slice(start, start + size);
    return {
      Reservations: page.map((instance) => ({ Instances: [this.ec2Instance(instance)] })),
      ...(start + size < found.length && { NextToken: String(start + size) }),
    };
  }

  private mockSdk(): void {
    const rt = this.rt;
    mockClient(this.clients.autoScaling)
      .on(DescribeAutoScalingGroupsCommand)
      .callsFake((input: DescribeAutoScalingGroupsCommandInput) =>
        rt.call('DescribeAutoScalingGroups', () => ({
          AutoScalingGroups: (input.AutoScalingGroupNames ?? []).includes(ASG)
            ? [
                {
                  AutoScalingGroupName: ASG,
                  DesiredCapacity: this.listed.size,
                  MinSize: 0,
                  MaxSize: 1000,
                  DefaultCooldown: 300,
                  AvailabilityZones: ZONES,
                  HealthCheckType: 'EC2',
                  CreatedTime: new Date(0),
                  Instances: this.instances
                    .filter((i) => this.listed.has(i.id))
                    .map((i) => ({
                      InstanceId: i.id,
                      AvailabilityZone: i.zone,
                      LifecycleState: i.lifecycleState,
                      HealthStatus: 'Healthy',
                      ProtectedFromScaleIn: false,
                    })),
                },
              ]
            : [],
        })),
      )
      .on(CompleteLifecycleActionCommand)
      .callsFake(() =>
        rt.call('CompleteLifecycleAction', () => {
          this.writes.push('CompleteLifecycleAction');
          return {};
        }),
      );
    mockClient(this.clients.ec2)
      .on(DescribeInstancesCommand)
      .callsFake((input: DescribeInstancesCommandInput) =>
        rt.call('DescribeInstances', () => this.describeInstances(input)),
      );
    const group = (arn: string | undefined) => {
      const targets = this.targets.get(arn ?? '');
      if (targets === undefined)
        throw Object.assign(new Error(`${arn}`), { name: 'TargetGroupNotFoundException' });
      return targets;
    };
    mockClient(this.clients.elbv2)
      .on(DescribeTargetHealthCommand)
      .callsFake((input: DescribeTargetHealthCommandInput) =>
        rt.call('DescribeTargetHealth', () => ({
          TargetHealthDescriptions: [...group(input.TargetGroupArn).values()].map((t) => ({
            Target: { Id: t.id, Port: t.port },
            TargetHealth: { State: 'healthy' },
          })),
        })),
      )
      .on(DescribeTargetGroupAttributesCommand)
      .callsFake(() => rt.call('DescribeTargetGroupAttributes', () => ({ Attributes: [] })))
      .on(RegisterTargetsCommand)
      .callsFake((input: RegisterTargetsCommandInput) =>
        rt.call(
          'RegisterTargets',
          () => {
            this.writes.push('RegisterTargets');
            const targets = group(input.TargetGroupArn);
            for (const t of input.Targets ?? [])
              targets.set(`${t.Id}:${t.Port}`, { id: t.Id ?? '', port: t.Port ?? 0 });
            return {};
          },
          (input.Targets ?? []).map((t) => t.Id).join(' '),
        ),
      )
      .on(DeregisterTargetsCommand)
      .callsFake((input: DeregisterTargetsCommandInput) =>
        rt.call('DeregisterTargets', () => {
          this.writes.push('DeregisterTargets');
          const targets = group(input.TargetGroupArn);
          for (const t of input.Targets ?? []) targets.delete(`${t.Id}:${t.Port}`);
          return {};
        }),
      );
  }

  private loadBalancerPort(): LoadBalancerPort {
    const nlb: LoadBalancerInfo = {
      arn: NLB_ARN,
      name: 'ingress',
      dnsName: 'ingress-1.elb.us-east-1.amazonaws.com',
      canonicalHostedZoneId: 'Z26RNL4JYFTOTI',
      vpcId: 'vpc-1',
      // With a security group the node group admits it (mode auto), else the NLB's interfaces are read.
      securityGroupIds: [...this.nlbGroups],
      dualstack: false,
    };
    return {
      describeLoadBalancer: () => this.rt.call('DescribeLoadBalancers', () => nlb),
      describePrivateIps: () =>
        this.rt.call('DescribeNetworkInterfaces', () => ['10.1.200.10', '10.1.201.10']),
      describeVpcCidrs: () => this.rt.call('DescribeVpcs', () => ['10.1.0.0/16']),
    };
  }

  private securityGroupPort(): SecurityGroupSearchPort {
    const write = (op: string, apply: () => void) =>
      this.rt.call(op, () => {
        this.writes.push(op);
        apply();
      });
    return {
      describeGroups: (ids) =>
        this.rt.call('DescribeSecurityGroups', () =>
          ids.map(
            (groupId) =>
              TAGGED_GROUPS.find((g) => g.groupId === groupId) ?? { groupId, vpcId: 'vpc-1', tags: {} },
          ),
        ),
      describeGroupsWithTagKeys: (keys) =>
        this.rt.call('DescribeSecurityGroups', () =>
          TAGGED_GROUPS.filter((g) => keys.some((key) => key in g.tags)),
        ),
      describeIngressRules: (groupId) =>
        this.rt.call('DescribeSecurityGroupRules', () => this.rules.filter((r) => r.groupId === groupId)),
      describeIngressRulesOf: (ids) =>
        this.rt.call(
          'DescribeSecurityGroupRules',
          () => Object.fromEntries(ids.map((id) => [id, this.rules.filter((r) => r.groupId === id)])),
          ids.join(' '),
        ),
      authorizeIngress: async (groupId, specs: readonly IngressRuleSpec[]) => {
        await write('AuthorizeSecurityGroupIngress', () => {
          for (const spec of specs) this.rules.push({ ...spec, groupId, ruleId: `sgr-${this.nextRule++}` });
        });
        return { done: specs.length, alreadyDone: 0 };
      },
      revokeIngress: async (groupId, revoked) => {
        await write('RevokeSecurityGroupIngress', () => {
          const ids = new Set(revoked.map((r) => r.ruleId));
          const kept = this.rules.filter((r) => r.groupId !== groupId || !ids.has(r.ruleId));
          this.rules.splice(0, this.rules.length, ...kept);
        });
        return { done: revoked.length, alreadyDone: 0 };
      },
      updateIngressDescription: async (_groupId, rule, description) => {
        await write('ModifySecurityGroupRules', () => {
          const index = this.rules.findIndex((r) => r.ruleId === rule.ruleId);
          const found = this.rules[index];
          if (found !== undefined) this.rules[index] = { ...found, description };
        });
      },
    };
  }

  private dnsPort(): DnsPort {
    return {
      describeZone: () => this.rt.call('GetHostedZone', () => ({ id: 'Z1', name: 'example.com.' })),
      listRecordSets: () => this.rt.call('ListResourceRecordSets', () => [...this.records.values()]),
      changeRecordSets: (_zone, changes) =>
        this.rt.call('ChangeResourceRecordSets', () => {
          this.writes.push('ChangeResourceRecordSets');
          for (const change of changes) {
            const key = `${change.recordSet.name} ${change.recordSet.type}`;
            if (change.action === 'DELETE') this.records.delete(key);
            else this.records.set(key, change.recordSet);
          }
          return { changeId: 'C1', status: 'PENDING' };
        }),
    };
  }
}

const TARGET_WRITES = ['RegisterTargets', 'DeregisterTargets'];

/** The last round trip of the target step: its last target write, else its last target read. */
function targetStepRounds(world: World): number {
  const writes = world.rt.calls.filter((c) => TARGET_WRITES.includes(c.op)).map((c) => c.round);
  return Math.max(...writes);
}

/** A world in step: a converge pass has run, then the counts start afresh. */
async function inStep(world: World, config: SyncConfig): Promise<void> {
  const cluster = config.clusters[0];
  if (cluster === undefined) throw new Error('no cluster');
  await reconcileCluster(config, cluster, world.deps(), { trigger: 'setup' });
  world.resetCounts();
}

describe('Reconcile pass in waves: sequential round trips at 250 nodes x 6 groups', () => {
  it('converges empty groups, rules and records: every write in the 2nd round trip, after one of reads', async () => {
    // Prepare
    const config = configWith();
    const world = new World(NODES);
    const cluster = config.clusters[0];
    if (cluster === undefined) throw new Error('no cluster');
    // Act
    const report = await reconcileCluster(config, cluster, world.deps(), { trigger: 'test' });
    // Assess
    expect(report.registered).toBe(NODES * GROUPS);
    expect(world.rt.roundsOf('RegisterTargets').length).toBe(GROUPS * Math.ceil(NODES / 200));
    // The ASG's instances in one DescribeInstances (their aws:autoscaling:groupName tag), not by id.
    expect(world.rt.roundsOf('DescribeInstances')).toEqual([1]);
    expect(world.writes).toEqual(
      expect.arrayContaining(['AuthorizeSecurityGroupIngress', 'ChangeResourceRecordSets']),
    );
    expect({ targetStep: targetStepRounds(world), pass: world.rt.rounds }).toEqual({
      targetStep: 2,
      pass: 2,
    });
  });

  it('reads only on a no-op pass, in 1 round trip', async () => {
    // Prepare
    const config = configWith();
    const world = new World(NODES);
    const cluster = config.clusters[0];
    if (cluster === undefined) throw new Error('no cluster');
    await inStep(world, config);
    // Act
    const report = await reconcileCluster(config, cluster, world.deps(), { trigger: 'test' });
    // Assess
    expect(report.changes).toEqual([]);
    expect(world.writes).toEqual([]);
    expect(world.rt.calls.map((c) => c.op).sort()).toEqual(
      [
        'DescribeAutoScalingGroups',
        'DescribeInstances',
        'DescribeLoadBalancers',
        'DescribeSecurityGroupRules',
        'GetHostedZone',
        'ListResourceRecordSets',
        ...Array<string>(GROUPS).fill('DescribeTargetHealth'),
      ].sort(),
    );
    expect(world.rt.rounds).toBe(1);
  });

  it('finds the node group from the nodes by its tag and reads its rules beside discovery: a no-op in 2 round trips', async () => {
    // Prepare: no securityGroups.groupIds (the default config)
    const config = configWith('healthy', 'nodes');
    const world = new World(NODES);
    const cluster = config.clusters[0];
    if (cluster === undefined) throw new Error('no cluster');
    await reconcileCluster(config, cluster, world.deps(), { trigger: 'converge' });
    const converge = { targetStep: targetStepRounds(world), pass: world.rt.rounds };
    const authorized = world.rt.roundsOf('AuthorizeSecurityGroupIngress');
    world.resetCounts();
    // Act
    const report = await reconcileCluster(config, cluster, world.deps(), { trigger: 'no-op' });
    // Assess: one tag search beside discovery, then one rule read of the group tagged for prod
    expect(report.changes).toEqual([]);
    expect(world.writes).toEqual([]);
    expect(world.rt.roundsOf('DescribeSecurityGroups')).toEqual([1]);
    expect(world.rt.roundsOf('DescribeSecurityGroupRules')).toEqual([2]);
    expect(world.rt.calls.find((c) => c.op === 'DescribeSecurityGroupRules')?.detail).toBe(NODE_GROUP);
    expect(world.rt.roundsOf('DescribeInstances')).toEqual([1]);
    expect({ converge, authorized, noOp: world.rt.rounds }).toEqual({
      converge: { targetStep: 2, pass: 3 },
      authorized: [3],
      noOp: 2,
    });
  });

  it('registers a launching node in every group by the 2nd round trip and answers (gate registered) in the 3rd', async () => {
    // Prepare
    const config = configWith('registered');
    const world = new World(NODES - 1);
    await inStep(world, config);
    const node = world.launch(NODES - 1, 'Pending:Wait');
    const deps = world.deps();
    // Act
    const outcome = await handleLifecycleAction(
      config,
      {
        autoScalingGroupName: ASG,
        lifecycleHookName: 'nlb-nodeport-sync-prod-launch',
        instanceId: node.id,
        lifecycleActionToken: 'token-1',
        transition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      },
      deps,
    );
    // Assess
    expect(outcome.status).toBe('answered');
    const registered = [
      ...world.rt.roundsOf('RegisterTargets', new RegExp(`${node.id}|${node.ip.replaceAll('.', '\\.')}`)),
    ];
    expect(registered.length).toBe(GROUPS);
    expect({
      registered: Math.max(...registered),
      answered: Math.max(...world.rt.roundsOf('CompleteLifecycleAction')),
    }).toEqual({ registered: 2, answered: 3 });
  });

  it("reads the NLB's interfaces after the NLB when it has no security group: one round trip more for the rules", async () => {
    // Prepare
    const config = configWith();
    const world = new World(NODES, []);
    const cluster = config.clusters[0];
    if (cluster === undefined) throw new Error('no cluster');
    // Act
    await reconcileCluster(config, cluster, world.deps(), { trigger: 'converge' });
    const converge = { targetStep: targetStepRounds(world), pass: world.rt.rounds };
    world.resetCounts();
    await reconcileCluster(config, cluster, world.deps(), { trigger: 'no-op' });
    // Assess
    expect(world.writes).toEqual([]);
    expect(world.rt.roundsOf('DescribeNetworkInterfaces')).toEqual([2]);
    expect({ converge, noOp: world.rt.rounds }).toEqual({ converge: { targetStep: 2, pass: 3 }, noOp: 2 });
  });
});
