/**
 * A small stateful model of the AWS APIs the product calls, behind aws-sdk-client-mock, for tests that run
 * the REAL handler and the REAL adapters (lambdas/aws/*) with faults injected at the SDK's `send`:
 *
 * - Auto Scaling: DescribeAutoScalingGroups, CompleteLifecycleAction, RecordLifecycleActionHeartbeat
 *   (lifecycle actions pending until answered or until their heartbeat timeout applies the default result);
 * - EC2: DescribeInstances (filters instance-id, tag:K, tag-key, instance-state-name), CreateTags, DeleteTags;
 * - ELBv2: DescribeTargetHealth, RegisterTargets, DeregisterTargets, DescribeTargetGroupAttributes,
 *   DescribeTargetGroups, DescribeLoadBalancers, with target states on the test's clock (`initial` until
 *   `healthyAfterSeconds`, `draining` for the group's deregistration delay; a target whose instance is gone
 *   turns `unhealthy`), and `InvalidTarget` for an IP outside the VPC or an instance that is not running;
 * - SQS: SendMessage (the wait queue with DelaySeconds, the FIFO lane with 5-minute deduplication), whose
 *   messages the test delivers to the handler when due ({@link InMemoryAws.takeDueMessages}).
 *
 * Not modelled (the suites that use it keep `securityGroups` and `dns` out of their config): security-group
 * reads and writes, Route 53, VPC CIDRs. A command the model does not know fails with
 * `UnmodelledCommandError` and is counted in {@link InMemoryAws.unmodelled}, so a test notices.
 *
 * Mocking is per client class (`mockClient(XClient)`), so every client the product creates, including the
 * process-wide ones of lambdas/aws/clients.ts, reaches the model; the SDK's middleware stack (retries,
 * timeouts, rate limits) is bypassed: an injected fault is what the adapter sees after the SDK gave up,
 * and nothing sleeps. Call {@link InMemoryAws.restore} in `afterAll`.
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { ManualClock, QueuedMessage } from './fake-queues';

/** Faults that fail a call as a whole (what the adapter sees once the SDK's retries gave up). */
export const CALL_FAULTS = ['throttle', 'server-error', 'timeout', 'timeout-after-write'] as const;
/** Faults that fail a call as a whole. `timeout-after-write`: a write is applied, then its answer is lost. */
export type CallFault = (typeof CALL_FAULTS)[number];
/**
 * Faults that leave a field or an instance out of a describe answer (the one instance `victim` picks):
 * no PrivateIpAddress, an instance missing from DescribeInstances, no LifecycleState, an instance missing
 * from its group's list in DescribeAutoScalingGroups (a stale list).
 */
export const ANSWER_FAULTS = [
  'no-private-ip',
  'missing-instance',
  'no-lifecycle-state',
  'missing-member',
] as const;
/** Faults that leave a field or an instance out of a describe answer. */
export type AnswerFault = (typeof ANSWER_FAULTS)[number];

/** A fault for one call; `victim` picks the instance of an answer fault (index modulo the answer's size). */
export type Fault = { readonly kind: CallFault } | { readonly kind: AnswerFault; readonly victim: number };

/** One call that reached the model. */
export interface CallRecord {
  readonly seq: number;
  readonly service: 'autoscaling' | 'ec2' | 'elbv2' | 'sqs';
  readonly command: string;
  readonly input: Readonly<Record<string, unknown>>;
  readonly write: boolean;
  /** The fault injected, if any. */
  readonly fault?: Fault['kind'];
  /** Whether the model's state changed (a write that took effect, even if its answer was lost). */
  applied: boolean;
  /** The error the caller got (injected or modelled, e.g. ValidationError, InvalidTargetException). */
  error?: string;
  readonly at: number;
}

/** An EC2 instance. */
export interface InstanceRecord {
  readonly id: string;
  readonly privateIp: string;
  readonly availabilityZone: string;
  readonly subnetId: string;
  readonly vpcId: string;
  state: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
  readonly tags: Map<string, string>;
  readonly securityGroupIds: readonly string[];
  /** When it reaches `terminated` (after shutting-down). */
  terminateAt?: number;
}

/** An instance in an Auto Scaling group. */
export interface AsgMember {
  readonly instanceId: string;
  lifecycleState: string;
  healthStatus: 'Healthy' | 'Unhealthy';
  readonly availabilityZone: string;
}

/** An Auto Scaling group with its lifecycle hooks (name -> transition). */
export interface AsgRecord {
  readonly name: string;
  desiredCapacity: number;
  readonly members: AsgMember[];
  readonly hooks: ReadonlyMap<string, 'launch' | 'terminate'>;
  /** Hooks of another tool: their actions wait for that tool, never move the instance here. */
  readonly foreignHooks: ReadonlySet<string>;
}

/** A lifecycle action Auto Scaling waits for (or waited for). */
export interface LifecycleActionRecord {
  readonly token: string;
  readonly autoScalingGroupName: string;
  readonly hookName: string;
  readonly instanceId: string;
  readonly transition: 'launch' | 'terminate';
  readonly startedAt: number;
  lastHeartbeatAt: number;
  readonly heartbeatTimeoutSeconds: number;
  status: 'pending' | 'answered' | 'expired';
  result?: string;
  /** Whether the instance's member state follows this action (false for another tool's hook). */
  readonly drivesInstance: boolean;
}

/** A registered (or draining) target. */
export interface TargetRecord {
  readonly id: string;
  readonly port: number;
  state: 'initial' | 'healthy' | 'draining';
  since: number;
}

/** A target group. */
export interface TargetGroupRecord {
  readonly arn: string;
  readonly name: string;
  readonly targetType: 'ip' | 'instance';
  readonly port: number;
  readonly loadBalancerArn: string;
  readonly deregistrationDelaySeconds: number;
  readonly targets: Map<string, TargetRecord>;
}

/** What the model tells its observer just before a write changes its state. */
export interface WriteEvent {
  readonly call: CallRecord;
  readonly model: InMemoryAws;
}

/** An EventBridge event the model emits (an instance launching, terminating, its state changing). */
export type EmittedEvent = Record<string, unknown>;

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
/** The VPC the model's target groups live in; an IP target outside it is `InvalidTarget`, as on AWS. */
const VPC_PREFIX = '10.0.';
/** How long an instance stays `shutting-down` before it is `terminated`. */
const SHUTDOWN_SECONDS = 20;

/** Options of the model. */
export interface InMemoryAwsOptions {
  /** Seconds a new target stays `initial` (AWS: interval x healthy threshold). */
  readonly healthyAfterSeconds: number;
  /** The wait queue's and the lane's URLs (what the QueueAdapter is configured with). */
  readonly waitQueueUrl: string;
  readonly laneQueueUrl: string;
}

/** A tiny deterministic PRNG (mulberry32) for the latency jitter. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An error shaped as the SDK throws it (name, fault, HTTP status). */
function awsError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

function injectedError(kind: CallFault, service: CallRecord['service'], command: string): Error {
  switch (kind) {
    case 'throttle':
      // Each service names its throttling error differently; every name is one the SDK treats as throttling.
      return service === 'ec2'
        ? awsError('RequestLimitExceeded', 'Request limit exceeded.', 503)
        : service === 'sqs'
          ? awsError('ThrottlingException', 'Rate exceeded', 400)
          : awsError('Throttling', 'Rate exceeded', 400);
    case 'server-error':
      return awsError('InternalFailure', `${command}: We encountered an internal error.`, 500);
    default:
      // What the Node HTTP handler throws when an attempt outlives its requestTimeout.
      return Object.assign(new Error(`${command}: Request timed out`), { name: 'TimeoutError' });
  }
}

/** The lane's FIFO deduplication window. */
const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;

/** The model. Create one per scenario (`reset()` clears the mocks' call history between scenarios). */
export class InMemoryAws {
  public readonly instances = new Map<string, InstanceRecord>();
  public readonly groups = new Map<string, AsgRecord>();
  public readonly actions = new Map<string, LifecycleActionRecord>();
  public readonly targetGroups = new Map<string, TargetGroupRecord>();
  public readonly loadBalancers = new Map<string, { readonly name: string; readonly vpcId: string }>();
  /** Every call, in order. */
  public readonly calls: CallRecord[] = [];
  /** Messages sent to the queues and not yet taken. */
  public readonly queued: QueuedMessage[] = [];
  /** Every message ever sent (for the lane's deduplication). */
  public readonly sent: QueuedMessage[] = [];
  /** Events emitted since the test last took them ({@link takeEmitted}). */
  private emitted: EmittedEvent[] = [];
  /** Commands the model does not know that the product sent. */
  public unmodelled: string[] = [];
  /** Decides the fault of each call (by sequence number); none by default. */
  public faultFor: (call: Pick<CallRecord, 'seq' | 'service' | 'command' | 'write'>) => Fault | undefined =
    () => undefined;
  /** Sees every write just before it changes the model (the suite checks its invariants there). */
  public onWrite: (event: WriteEvent) => void = () => undefined;
  private seq = 0;
  private nextIp = 20;
  private nextId = 0x100;
  private jitter: () => number = () => 0;

  public constructor(
    public readonly clock: ManualClock,
    public readonly options: InMemoryAwsOptions,
  ) {}

  /** Makes every answer wait 0-3 microtask turns (deterministic per seed), so concurrent passes interleave. */
  public setJitterSeed(seed: number): void {
    this.jitter = prng(seed);
  }

  // ---------------------------------------------------------------- world building

  /** Creates an instance (running unless said otherwise) with a fresh id and IP (IPs are never reused). */
  public addInstance(
    options: {
      readonly tags?: Record<string, string>;
      readonly state?: InstanceRecord['state'];
      /** An IP outside the VPC: any target of it is `InvalidTarget`. */
      readonly outsideVpc?: boolean;
      readonly id?: string;
    } = {},
  ): InstanceRecord {
    const id = options.id ?? `i-${(this.nextId++).toString(16).padStart(17, '0')}`;
    const n = this.nextIp++;
    const instance: InstanceRecord = {
      id,
      privateIp: options.outsideVpc
        ? `100.64.${Math.floor(n / 250)}.${(n % 250) + 1}`
        : `10.0.${Math.floor(n / 250) + 1}.${(n % 250) + 1}`,
      availabilityZone: n % 2 === 0 ? 'us-east-1a' : 'us-east-1b',
      subnetId: n % 2 === 0 ? 'subnet-0aaaaaaaaaaaaaaa1' : 'subnet-0bbbbbbbbbbbbbbb2',
      vpcId: 'vpc-0123456789abcdef0',
      state: options.state ?? 'running',
      tags: new Map(Object.entries(options.tags ?? {})),
      securityGroupIds: ['sg-0123456789abcdef0'],
    };
    this.instances.set(id, instance);
    return instance;
  }

  /**
   * Creates an Auto Scaling group with hooks (name -> transition). A foreign hook's actions are pending for
   * another tool: they never hold or release the instance here (its own hooks do).
   */
  public addGroup(
    name: string,
    hooks: Record<string, 'launch' | 'terminate'>,
    foreignHooks: readonly string[] = [],
  ): AsgRecord {
    const group: AsgRecord = {
      name,
      desiredCapacity: 0,
      members: [],
      hooks: new Map(Object.entries(hooks)),
      foreignHooks: new Set(foreignHooks),
    };
    this.groups.set(name, group);
    return group;
  }

  /** Puts a running instance into a group as InService (as if launched long ago). */
  public addMember(group: AsgRecord, options: { readonly outsideVpc?: boolean } = {}): InstanceRecord {
    const instance = this.addInstance({
      tags: { 'aws:autoscaling:groupName': group.name },
      ...(options.outsideVpc !== undefined && { outsideVpc: options.outsideVpc }),
    });
    group.members.push({
      instanceId: instance.id,
      lifecycleState: 'InService',
      healthStatus: 'Healthy',
      availabilityZone: instance.availabilityZone,
    });
    group.desiredCapacity += 1;
    return instance;
  }

  /** Creates a target group of a load balancer. */
  public addTargetGroup(
    arn: string,
    targetType: 'ip' | 'instance',
    port: number,
    deregistrationDelaySeconds: number,
  ): TargetGroupRecord {
    const loadBalancerArn = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/net/nlb/0123456789abcdef`;
    this.loadBalancers.set(loadBalancerArn, { name: 'nlb', vpcId: 'vpc-0123456789abcdef0' });
    const group: TargetGroupRecord = {
      arn,
      name: arn.split('/')[1] ?? 'tg',
      targetType,
      port,
      loadBalancerArn,
      deregistrationDelaySeconds,
      targets: new Map(),
    };
    this.targetGroups.set(arn, group);
    return group;
  }

  /** Puts a target into a group directly (world building; no call is recorded). */
  public placeTarget(arn: string, id: string, port: number, state: TargetRecord['state'] = 'healthy'): void {
    this.targetGroups.get(arn)?.targets.set(`${id}:${port}`, { id, port, state, since: this.clock.now() });
  }

  // ---------------------------------------------------------------- what Auto Scaling and EC2 do by themselves

  /**
   * Scale-out: a new instance, `Pending:Wait` while a launch hook of the group waits (an action per hook,
   * each with its event), else InService at once.
   */
  public launch(
    groupName: string,
    options: { readonly outsideVpc?: boolean; readonly replacement?: boolean } = {},
  ): InstanceRecord {
    const group = this.requireGroup(groupName);
    const instance = this.addInstance({
      tags: { 'aws:autoscaling:groupName': group.name },
      state: 'pending',
      ...(options.outsideVpc !== undefined && { outsideVpc: options.outsideVpc }),
    });
    // A replacement keeps the group at its desired capacity; a scale-out raises it.
    if (options.replacement !== true) group.desiredCapacity += 1;
    const hooks = [...group.hooks].filter(([, t]) => t === 'launch');
    const held = hooks.some(([name]) => !group.foreignHooks.has(name));
    group.members.push({
      instanceId: instance.id,
      lifecycleState: held ? 'Pending:Wait' : 'InService',
      healthStatus: 'Healthy',
      availabilityZone: instance.availabilityZone,
    });
    // EC2 has it running a moment later; the describe answers show it so from now on.
    instance.state = 'running';
    for (const [hook] of hooks) this.startAction(group, hook, instance.id, 'launch');
    return instance;
  }

  /**
   * Scale-in: the member goes `Terminating:Wait` while a terminate hook waits. `replace` (a spot
   * interruption): the desired capacity stays, and Auto Scaling launches a replacement at once.
   */
  public terminate(
    groupName: string,
    instanceId: string,
    options: { readonly replace?: boolean } = {},
  ): boolean {
    const group = this.requireGroup(groupName);
    const member = group.members.find((m) => m.instanceId === instanceId);
    if (member === undefined || /^Terminating/.test(member.lifecycleState)) return false;
    if (options.replace === true) this.launch(groupName, { replacement: true });
    else group.desiredCapacity = Math.max(0, group.desiredCapacity - 1);
    const hooks = [...group.hooks].filter(([, t]) => t === 'terminate');
    if (!hooks.some(([name]) => !group.foreignHooks.has(name))) {
      for (const [hook] of hooks) this.startAction(group, hook, instanceId, 'terminate');
      this.finishTermination(group, instanceId);
      return true;
    }
    member.lifecycleState = 'Terminating:Wait';
    for (const [hook] of hooks) this.startAction(group, hook, instanceId, 'terminate');
    return true;
  }

  /** An EC2 event as AWS sends it, stamped with the model's clock (or `at`). */
  public ec2Event(detailType: string, detail: Record<string, unknown>, at = this.clock.now()): EmittedEvent {
    return this.event('aws.ec2', detailType, detail, at, [
      `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${String(detail['instance-id'])}`,
    ]);
  }

  /** Takes the events emitted since the last call. */
  public takeEmitted(): EmittedEvent[] {
    const events = this.emitted;
    this.emitted = [];
    return events;
  }

  /**
   * Applies what happens with time: hook timeouts (default result CONTINUE), shutting-down -> terminated.
   * Target states follow the clock lazily (DescribeTargetHealth).
   */
  public tick(): void {
    const now = this.clock.now();
    for (const action of this.actions.values()) {
      if (action.status !== 'pending') continue;
      if (now >= action.lastHeartbeatAt + action.heartbeatTimeoutSeconds * 1000) {
        action.status = 'expired';
        action.result = 'CONTINUE';
        if (action.drivesInstance) this.proceed(action, 'CONTINUE');
      }
    }
    for (const instance of this.instances.values()) {
      if (
        instance.state === 'shutting-down' &&
        instance.terminateAt !== undefined &&
        now >= instance.terminateAt
      ) {
        instance.state = 'terminated';
        this.emitted.push(
          this.ec2Event('EC2 Instance State-change Notification', {
            'instance-id': instance.id,
            state: 'terminated',
          }),
        );
      }
    }
  }

  /** Messages due now (lane first), removed from the queues. */
  public takeDueMessages(): QueuedMessage[] {
    const now = this.clock.now();
    const due = this.queued
      .filter((m) => m.dueAt <= now)
      .sort((a, b) => (a.queue === b.queue ? a.dueAt - b.dueAt : a.queue === 'lane' ? -1 : 1));
    for (const message of due) this.queued.splice(this.queued.indexOf(message), 1);
    return due;
  }

  /** Puts an EventBridge event on the lane, as the deployment's rules do (message group = the cluster). */
  public enqueueOnLane(event: EmittedEvent | string, cluster: string): void {
    const body = typeof event === 'string' ? event : JSON.stringify(event);
    this.queued.push({
      queue: 'lane',
      body,
      dueAt: this.clock.now(),
      groupId: cluster,
      deduplicationId: `e-${this.seq}-${this.queued.length}`,
    });
  }

  /** A message back on its queue after `seconds` (SQS's visibility timeout after a failed invocation). */
  public redeliverLater(message: QueuedMessage, seconds: number): void {
    this.queued.push({ ...message, dueAt: this.clock.now() + seconds * 1000 });
  }

  /** The target state as DescribeTargetHealth shows it now, or undefined when the target is gone. */
  public targetState(
    group: TargetGroupRecord,
    target: TargetRecord,
  ): 'initial' | 'healthy' | 'unhealthy' | 'draining' | undefined {
    const now = this.clock.now();
    if (target.state === 'draining') {
      return now - target.since >= group.deregistrationDelaySeconds * 1000 ? undefined : 'draining';
    }
    const instance = this.instanceOfTarget(group, target.id);
    // Health checks fail on an instance that is not running (or an IP no instance holds).
    if (instance === undefined || instance.state !== 'running') return 'unhealthy';
    if (target.state === 'initial' && now - target.since < this.options.healthyAfterSeconds * 1000)
      return 'initial';
    return 'healthy';
  }

  /** The instance a target stands for: by id in an instance group, by IP in an ip group. */
  public instanceOfTarget(
    group: Pick<TargetGroupRecord, 'targetType'>,
    id: string,
  ): InstanceRecord | undefined {
    if (group.targetType === 'instance') return this.instances.get(id);
    for (const instance of this.instances.values()) if (instance.privateIp === id) return instance;
    return undefined;
  }

  /** The member record of an instance in any group. */
  public memberOf(instanceId: string): (AsgMember & { readonly group: string }) | undefined {
    for (const group of this.groups.values()) {
      const member = group.members.find((m) => m.instanceId === instanceId);
      if (member !== undefined) return { ...member, group: group.name };
    }
    return undefined;
  }

  // ---------------------------------------------------------------- the mocks

  private mocks: { restore(): void }[] = [];

  /**
   * Mocks the four client classes; every client instance (the product's too) now reaches this model.
   *
   * One fake per client class dispatches on the command's class, instead of one `.on(Command)` fake per
   * command: sinon then matches every call against each fake's argument matchers with a deep comparison of
   * the whole command, which took over a third of the fault suite's CPU time.
   */
  public install(): void {
    type Route = readonly [CallRecord['service'], string, boolean, Handler];
    type Handler = (input: Record<string, unknown>, fault: Fault | undefined, call: CallRecord) => unknown;
    const routes = new Map<unknown, Route>([
      [
        DescribeAutoScalingGroupsCommand,
        ['autoscaling', 'DescribeAutoScalingGroups', false, (i, f) => this.describeGroups(i, f)],
      ],
      [
        CompleteLifecycleActionCommand,
        ['autoscaling', 'CompleteLifecycleAction', true, (i, _f, c) => this.completeAction(i, c)],
      ],
      [
        RecordLifecycleActionHeartbeatCommand,
        ['autoscaling', 'RecordLifecycleActionHeartbeat', true, (i, _f, c) => this.heartbeat(i, c)],
      ],
      [DescribeInstancesCommand, ['ec2', 'DescribeInstances', false, (i, f) => this.describeInstances(i, f)]],
      [CreateTagsCommand, ['ec2', 'CreateTags', true, (i, _f, c) => this.tags(i, c, 'create')]],
      [DeleteTagsCommand, ['ec2', 'DeleteTags', true, (i, _f, c) => this.tags(i, c, 'delete')]],
      [
        DescribeTargetHealthCommand,
        ['elbv2', 'DescribeTargetHealth', false, (i) => this.describeTargetHealth(i)],
      ],
      [
        RegisterTargetsCommand,
        ['elbv2', 'RegisterTargets', true, (i, _f, c) => this.changeTargets(i, c, 'register')],
      ],
      [
        DeregisterTargetsCommand,
        ['elbv2', 'DeregisterTargets', true, (i, _f, c) => this.changeTargets(i, c, 'deregister')],
      ],
      [
        DescribeTargetGroupAttributesCommand,
        ['elbv2', 'DescribeTargetGroupAttributes', false, (i) => this.describeAttributes(i)],
      ],
      [
        DescribeTargetGroupsCommand,
        ['elbv2', 'DescribeTargetGroups', false, (i) => this.describeTargetGroups(i)],
      ],
      [
        DescribeLoadBalancersCommand,
        ['elbv2', 'DescribeLoadBalancers', false, (i) => this.describeLoadBalancers(i)],
      ],
      [SendMessageCommand, ['sqs', 'SendMessage', true, (i, _f, c) => this.sendMessage(i, c)]],
    ]);
    const dispatch = (service: CallRecord['service']) => (command: { readonly input: object }) => {
      const route = routes.get(command.constructor);
      if (route === undefined || route[0] !== service)
        return this.unmodelledCall(service, command.constructor.name);
      const [, name, write, handler] = route;
      return this.handle(service, name, write, command.input as Record<string, unknown>, handler);
    };
    const autoScaling = mockClient(AutoScalingClient);
    const ec2 = mockClient(EC2Client);
    const elbv2 = mockClient(ElasticLoadBalancingV2Client);
    const sqs = mockClient(SQSClient);
    this.mocks = [autoScaling, ec2, elbv2, sqs];
    autoScaling.send.callsFake(dispatch('autoscaling') as never);
    ec2.send.callsFake(dispatch('ec2') as never);
    elbv2.send.callsFake(dispatch('elbv2') as never);
    sqs.send.callsFake(dispatch('sqs') as never);
  }

  private unmodelledCall(service: CallRecord['service'], command: string): Promise<never> {
    this.unmodelled.push(`${service} ${command}`);
    return Promise.reject(
      awsError('UnmodelledCommandError', `in-memory AWS: ${service} ${command} is not modelled`, 400),
    );
  }

  /** Undoes {@link install}. */
  public restore(): void {
    for (const mock of this.mocks) mock.restore();
    this.mocks = [];
  }

  private async handle<I extends Record<string, unknown>>(
    service: CallRecord['service'],
    command: string,
    write: boolean,
    input: I,
    handler: (input: I, fault: Fault | undefined, call: CallRecord) => unknown,
  ): Promise<unknown> {
    const seq = this.seq++;
    const fault = this.faultFor({ seq, service, command, write });
    const call: CallRecord = {
      seq,
      service,
      command,
      input,
      write,
      applied: false,
      at: this.clock.now(),
      ...(fault !== undefined && { fault: fault.kind }),
    };
    this.calls.push(call);
    // Latency: a few microtask turns, so that two passes started together interleave their calls.
    const turns = Math.floor(this.jitter() * 4);
    for (let i = 0; i < turns; i += 1) await Promise.resolve();
    const callFault =
      fault !== undefined && (CALL_FAULTS as readonly string[]).includes(fault.kind)
        ? (fault.kind as CallFault)
        : undefined;
    if (callFault !== undefined && !(callFault === 'timeout-after-write' && write)) {
      const error = injectedError(callFault, service, command);
      call.error = error.name;
      throw error;
    }
    try {
      const output = handler(input, fault, call);
      if (callFault === 'timeout-after-write') {
        const error = injectedError('timeout', service, command);
        call.error = error.name;
        throw error;
      }
      return { $metadata: { httpStatusCode: 200 }, ...(output as object) };
    } catch (error) {
      call.error ??= (error as Error).name;
      throw error;
    }
  }

  private requireGroup(name: string): AsgRecord {
    const group = this.groups.get(name);
    if (group === undefined) throw new Error(`in-memory AWS: no group ${name}`);
    return group;
  }

  private startAction(
    group: AsgRecord,
    hookName: string,
    instanceId: string,
    transition: 'launch' | 'terminate',
  ): void {
    const token = `${transition}-${instanceId}-${hookName}`;
    const ours = !group.foreignHooks.has(hookName);
    const action: LifecycleActionRecord = {
      token,
      autoScalingGroupName: group.name,
      hookName,
      instanceId,
      transition,
      startedAt: this.clock.now(),
      lastHeartbeatAt: this.clock.now(),
      heartbeatTimeoutSeconds: transition === 'launch' ? 300 : 360,
      status: 'pending',
      drivesInstance: ours,
    };
    this.actions.set(token, action);
    this.emitted.push(
      this.event(
        'aws.autoscaling',
        transition === 'launch'
          ? 'EC2 Instance-launch Lifecycle Action'
          : 'EC2 Instance-terminate Lifecycle Action',
        {
          LifecycleActionToken: token,
          AutoScalingGroupName: group.name,
          LifecycleHookName: hookName,
          EC2InstanceId: instanceId,
          LifecycleTransition:
            transition === 'launch'
              ? 'autoscaling:EC2_INSTANCE_LAUNCHING'
              : 'autoscaling:EC2_INSTANCE_TERMINATING',
          Origin: transition === 'launch' ? 'EC2' : 'AutoScalingGroup',
          Destination: transition === 'launch' ? 'AutoScalingGroup' : 'EC2',
        },
        this.clock.now(),
        [`arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:x:autoScalingGroupName/${group.name}`],
      ),
    );
  }

  /** What an answered (or expired) action of our hooks does to its instance. */
  private proceed(action: LifecycleActionRecord, result: string): void {
    const group = this.requireGroup(action.autoScalingGroupName);
    const member = group.members.find((m) => m.instanceId === action.instanceId);
    if (member === undefined) return;
    if (action.transition === 'launch' && result === 'CONTINUE') {
      member.lifecycleState = 'InService';
      this.emitted.push(
        this.event(
          'aws.autoscaling',
          'EC2 Instance Launch Successful',
          { AutoScalingGroupName: group.name, EC2InstanceId: action.instanceId, StatusCode: 'InProgress' },
          this.clock.now(),
          [],
        ),
      );
      return;
    }
    if (action.transition === 'launch') group.desiredCapacity = Math.max(0, group.desiredCapacity - 1);
    this.finishTermination(group, action.instanceId);
  }

  private finishTermination(group: AsgRecord, instanceId: string): void {
    const index = group.members.findIndex((m) => m.instanceId === instanceId);
    if (index >= 0) group.members.splice(index, 1);
    const instance = this.instances.get(instanceId);
    if (instance !== undefined && instance.state !== 'terminated') {
      instance.state = 'shutting-down';
      instance.terminateAt = this.clock.now() + SHUTDOWN_SECONDS * 1000;
      this.emitted.push(
        this.ec2Event('EC2 Instance State-change Notification', {
          'instance-id': instanceId,
          state: 'shutting-down',
        }),
      );
    }
    this.emitted.push(
      this.event(
        'aws.autoscaling',
        'EC2 Instance Terminate Successful',
        { AutoScalingGroupName: group.name, EC2InstanceId: instanceId, StatusCode: 'InProgress' },
        this.clock.now(),
        [],
      ),
    );
  }

  private event(
    source: string,
    detailType: string,
    detail: Record<string, unknown>,
    at: number,
    resources: string[],
  ): EmittedEvent {
    return {
      version: '0',
      id: `ev-${this.seq}-${this.emitted.length}-${Math.round(at / 1000)}`,
      'detail-type': detailType,
      source,
      account: ACCOUNT,
      time: new Date(at).toISOString(),
      region: REGION,
      resources,
      detail,
    };
  }

  // ---------------------------------------------------------------- Auto Scaling

  private describeGroups(input: Record<string, unknown>, fault: Fault | undefined): unknown {
    const names = (input.AutoScalingGroupNames as string[] | undefined) ?? [...this.groups.keys()];
    const groups = names.flatMap((name) => this.groups.get(name) ?? []);
    const all = groups.flatMap((g) => g.members.map((m) => m.instanceId));
    const victim =
      (fault?.kind === 'no-lifecycle-state' || fault?.kind === 'missing-member') && all.length > 0
        ? all[fault.victim % all.length]
        : undefined;
    return {
      AutoScalingGroups: groups.map((g) => ({
        AutoScalingGroupName: g.name,
        MinSize: 0,
        MaxSize: 20,
        DesiredCapacity: g.desiredCapacity,
        DefaultCooldown: 300,
        AvailabilityZones: ['us-east-1a', 'us-east-1b'],
        HealthCheckType: 'EC2',
        CreatedTime: new Date(0),
        Instances: g.members
          .filter((m) => !(fault?.kind === 'missing-member' && m.instanceId === victim))
          .map((m) => ({
            InstanceId: m.instanceId,
            AvailabilityZone: m.availabilityZone,
            ...(!(fault?.kind === 'no-lifecycle-state' && m.instanceId === victim) && {
              LifecycleState: m.lifecycleState,
            }),
            HealthStatus: m.healthStatus,
            ProtectedFromScaleIn: false,
          })),
      })),
    };
  }

  private findAction(input: Record<string, unknown>): LifecycleActionRecord | undefined {
    const token = input.LifecycleActionToken as string | undefined;
    if (token !== undefined) {
      const action = this.actions.get(token);
      if (action === undefined) return undefined;
      const same =
        action.autoScalingGroupName === input.AutoScalingGroupName &&
        action.hookName === input.LifecycleHookName;
      return same ? action : undefined;
    }
    return [...this.actions.values()].find(
      (a) =>
        a.status === 'pending' &&
        a.instanceId === input.InstanceId &&
        a.hookName === input.LifecycleHookName &&
        a.autoScalingGroupName === input.AutoScalingGroupName,
    );
  }

  /** The pending action a Complete or Heartbeat names, or Auto Scaling's error for one that is not. */
  private pendingAction(input: Record<string, unknown>) {
    const action = this.findAction(input);
    if (action === undefined || action.status !== 'pending') {
      throw awsError(
        'ValidationError',
        `No active Lifecycle Action found with token ${String(input.LifecycleActionToken ?? input.InstanceId)}`,
        400,
      );
    }
    return action;
  }

  private completeAction(input: Record<string, unknown>, call: CallRecord): unknown {
    const action = this.pendingAction(input);
    this.onWrite({ call, model: this });
    action.status = 'answered';
    action.result = String(input.LifecycleActionResult);
    call.applied = true;
    if (action.drivesInstance) this.proceed(action, action.result);
    return {};
  }

  private heartbeat(input: Record<string, unknown>, call: CallRecord): unknown {
    const action = this.pendingAction(input);
    this.onWrite({ call, model: this });
    action.lastHeartbeatAt = this.clock.now();
    call.applied = true;
    return {};
  }

  // ---------------------------------------------------------------- EC2

  private describeInstances(input: Record<string, unknown>, fault: Fault | undefined): unknown {
    const filters = (input.Filters as { Name: string; Values: string[] }[] | undefined) ?? [];
    const ids = input.InstanceIds as string[] | undefined;
    const matches = [...this.instances.values()].filter(
      (instance) =>
        (ids === undefined || ids.includes(instance.id)) &&
        filters.every((f) => {
          if (f.Name === 'instance-id') return f.Values.includes(instance.id);
          if (f.Name === 'instance-state-name') return f.Values.includes(instance.state);
          if (f.Name === 'tag-key') return f.Values.some((k) => instance.tags.has(k));
          if (f.Name.startsWith('tag:'))
            return f.Values.includes(instance.tags.get(f.Name.slice(4)) ?? '\u0000');
          throw awsError('InvalidParameterValue', `in-memory AWS: filter ${f.Name} is not modelled`, 400);
        }),
    );
    const victim =
      fault !== undefined &&
      (fault.kind === 'no-private-ip' || fault.kind === 'missing-instance') &&
      matches.length > 0
        ? matches[fault.victim % matches.length]?.id
        : undefined;
    const shown = matches.filter((i) => !(fault?.kind === 'missing-instance' && i.id === victim));
    return {
      Reservations: shown.map((instance) => ({
        ReservationId: `r-${instance.id.slice(2)}`,
        Instances: [
          {
            InstanceId: instance.id,
            // A terminated instance has no interface any more, so no private IP.
            ...(instance.state !== 'terminated' &&
              !(fault?.kind === 'no-private-ip' && instance.id === victim) && {
                PrivateIpAddress: instance.privateIp,
              }),
            Placement: { AvailabilityZone: instance.availabilityZone },
            SubnetId: instance.subnetId,
            VpcId: instance.vpcId,
            State: { Name: instance.state, Code: 16 },
            SecurityGroups: instance.securityGroupIds.map((GroupId) => ({ GroupId, GroupName: GroupId })),
            Tags: [...instance.tags].map(([Key, Value]) => ({ Key, Value })),
          },
        ],
      })),
    };
  }

  private tags(input: Record<string, unknown>, call: CallRecord, action: 'create' | 'delete'): unknown {
    const resources = (input.Resources as string[] | undefined) ?? [];
    const tags = (input.Tags as { Key: string; Value?: string }[] | undefined) ?? [];
    const missing = resources.filter((id) => !this.instances.has(id));
    if (missing.length > 0)
      throw awsError(
        'InvalidInstanceID.NotFound',
        `The instance ID '${missing.join(',')}' does not exist`,
        400,
      );
    this.onWrite({ call, model: this });
    for (const id of resources) {
      const instance = this.instances.get(id);
      for (const tag of tags) {
        if (action === 'create') instance?.tags.set(tag.Key, tag.Value ?? '');
        else instance?.tags.delete(tag.Key);
      }
    }
    call.applied = true;
    return {};
  }

  // ---------------------------------------------------------------- ELBv2

  private requireTargetGroup(arn: unknown): TargetGroupRecord {
    const group = this.targetGroups.get(String(arn));
    if (group === undefined)
      throw awsError('TargetGroupNotFoundException', `Target groups '${String(arn)}' not found`, 400);
    return group;
  }

  private describeTargetHealth(input: Record<string, unknown>): unknown {
    const group = this.requireTargetGroup(input.TargetGroupArn);
    const descriptions: Record<string, unknown>[] = [];
    for (const [key, target] of [...group.targets]) {
      const state = this.targetState(group, target);
      if (state === undefined) {
        group.targets.delete(key);
        continue;
      }
      descriptions.push({
        Target: { Id: target.id, Port: target.port },
        HealthCheckPort: String(target.port),
        TargetHealth: {
          State: state,
          ...(state === 'draining' && { Reason: 'Target.DeregistrationInProgress' }),
          ...(state === 'initial' && { Reason: 'Elb.InitialHealthChecking' }),
          ...(state === 'unhealthy' && { Reason: 'Target.FailedHealthChecks' }),
        },
      });
    }
    return { TargetHealthDescriptions: descriptions };
  }

  private changeTargets(
    input: Record<string, unknown>,
    call: CallRecord,
    action: 'register' | 'deregister',
  ): unknown {
    const group = this.requireTargetGroup(input.TargetGroupArn);
    const targets = ((input.Targets as { Id: string; Port?: number }[] | undefined) ?? []).map((t) => ({
      id: t.Id,
      port: t.Port ?? group.port,
    }));
    if (action === 'register') {
      // AWS fails the whole call when one target is invalid: an IP outside the VPC, an instance not running.
      const invalid = targets.filter((t) => {
        if (group.targetType === 'ip') return !t.id.startsWith(VPC_PREFIX);
        return this.instances.get(t.id)?.state !== 'running';
      });
      if (invalid.length > 0) {
        const error = awsError(
          'InvalidTargetException',
          `The following targets are not valid: ${invalid.map((t) => t.id).join(', ')}`,
          400,
        );
        throw Object.assign(error, { Code: 'InvalidTarget' });
      }
    }
    this.onWrite({ call, model: this });
    const now = this.clock.now();
    for (const t of targets) {
      const key = `${t.id}:${t.port}`;
      const existing = group.targets.get(key);
      const current = existing === undefined ? undefined : this.targetState(group, existing);
      if (action === 'register') {
        if (current === undefined || current === 'draining')
          group.targets.set(key, { ...t, state: 'initial', since: now });
      } else if (existing !== undefined && current !== undefined && current !== 'draining') {
        existing.state = 'draining';
        existing.since = now;
      }
    }
    call.applied = true;
    return {};
  }

  private describeAttributes(input: Record<string, unknown>): unknown {
    const group = this.requireTargetGroup(input.TargetGroupArn);
    return {
      Attributes: [
        { Key: 'deregistration_delay.timeout_seconds', Value: String(group.deregistrationDelaySeconds) },
        { Key: 'deregistration_delay.connection_termination.enabled', Value: 'false' },
      ],
    };
  }

  private describeTargetGroups(input: Record<string, unknown>): unknown {
    const arns = (input.TargetGroupArns as string[] | undefined) ?? [...this.targetGroups.keys()];
    return {
      TargetGroups: arns.map((arn) => {
        const g = this.requireTargetGroup(arn);
        return {
          TargetGroupArn: g.arn,
          TargetGroupName: g.name,
          Protocol: 'TCP',
          Port: g.port,
          TargetType: g.targetType,
          VpcId: 'vpc-0123456789abcdef0',
          LoadBalancerArns: [g.loadBalancerArn],
        };
      }),
    };
  }

  private describeLoadBalancers(input: Record<string, unknown>): unknown {
    const arns = (input.LoadBalancerArns as string[] | undefined) ?? [...this.loadBalancers.keys()];
    return {
      LoadBalancers: arns.map((arn) => {
        const lb = this.loadBalancers.get(arn);
        if (lb === undefined)
          throw awsError('LoadBalancerNotFoundException', `Load balancers '${arn}' not found`, 400);
        return {
          LoadBalancerArn: arn,
          LoadBalancerName: lb.name,
          Type: 'network',
          Scheme: 'internal',
          VpcId: lb.vpcId,
          DNSName: `${lb.name}.elb.${REGION}.amazonaws.com`,
          CanonicalHostedZoneId: 'Z26RNL4JYFTOTI',
          IpAddressType: 'ipv4',
        };
      }),
    };
  }

  // ---------------------------------------------------------------- SQS

  private sendMessage(input: Record<string, unknown>, call: CallRecord): unknown {
    const url = String(input.QueueUrl);
    const queue =
      url === this.options.waitQueueUrl ? 'wait' : url === this.options.laneQueueUrl ? 'lane' : undefined;
    if (queue === undefined)
      throw awsError(
        'AWS.SimpleQueueService.NonExistentQueue',
        `The specified queue does not exist: ${url}`,
        400,
      );
    this.onWrite({ call, model: this });
    call.applied = true;
    const now = this.clock.now();
    const deduplicationId = input.MessageDeduplicationId as string | undefined;
    if (queue === 'lane' && deduplicationId !== undefined) {
      // FIFO deduplication: the same id within 5 minutes is accepted and dropped.
      if (
        this.sent.some(
          (m) => m.deduplicationId === deduplicationId && m.dueAt >= now - DEDUPLICATION_WINDOW_MS,
        )
      ) {
        return { MessageId: `dup-${call.seq}` };
      }
    }
    const message: QueuedMessage = {
      queue,
      body: String(input.MessageBody),
      dueAt: now + Number(input.DelaySeconds ?? 0) * 1000,
      ...(input.MessageGroupId !== undefined && { groupId: String(input.MessageGroupId) }),
      ...(deduplicationId !== undefined && { deduplicationId }),
    };
    this.queued.push(message);
    this.sent.push(message);
    return { MessageId: `m-${call.seq}` };
  }
}
