/**
 * The world of the randomized fault suite: one cluster on the in-memory AWS (test/support/in-memory-aws.ts),
 * the REAL reconcile handler (lambdas/handlers/reconcile-handler.ts) wired by the REAL container
 * (lambdas/runtime/container.ts, real adapters), a driver that delivers events and due queue messages the
 * way the deployment does (SQS events, batch size 1, the lane's message group = the cluster), and the
 * invariant checks with their counters.
 *
 * The cluster `prod` has an ASG with the product's launch and terminate hooks plus another tool's terminate
 * hook, an `ip` group (web, 30080) and an `instance` group (api, 30443), each with a preserved target; a third
 * group and a second ASG belong to nobody in the config (a stranger target, a stranger node). Security groups
 * and DNS are left out of the config on purpose: the suite is about targets and lifecycle actions, and the
 * model does not implement those APIs (their steps make no call without their config section).
 */
import { parseSyncConfig, type SyncConfig } from '../../../lambdas/domain/config';
import { drainMarkTagKey } from '../../../lambdas/domain/drain-mark';
import { lifecycleHookName } from '../../../lambdas/domain/lifecycle-hooks';
import {
  createReconcileHandler,
  type ReconcileHandlerResult,
} from '../../../lambdas/handlers/reconcile-handler';
import { createContainer } from '../../../lambdas/runtime/container';
import { QUEUE_ENV } from '../../../lambdas/runtime/environment';
import { silentTelemetry } from '../../support/fake-aws';
import { ManualClock, type QueuedMessage, sqsEventOf } from '../../support/fake-queues';
import { type EmittedEvent, InMemoryAws, type WriteEvent } from '../../support/in-memory-aws';

export const OWNER = 'nlb-nodeport-sync';
export const CLUSTER = 'prod';
export const ASG = 'prod-asg';
export const OTHER_ASG = 'other-asg';
export const LAUNCH_HOOK = lifecycleHookName(OWNER, CLUSTER, 'launch');
export const TERMINATE_HOOK = lifecycleHookName(OWNER, CLUSTER, 'terminate');
/** Another tool's terminate hook on the cluster's ASG: its actions are never the product's to answer. */
export const FOREIGN_HOOK = 'other-tool-drain';
const ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup';
export const TG_WEB = `${ARN}/web/00000000000000a1`;
export const TG_API = `${ARN}/api/00000000000000a2`;
/** Not in the config: nobody's group, for the product. */
export const TG_OTHER = `${ARN}/other/00000000000000a3`;
export const WEB_PORT = 30080;
export const API_PORT = 30443;
export const PRESERVED_IP = '10.0.200.5';
export const PRESERVED_INSTANCE = 'i-00000000000000bee';
export const STRANGER_IP = '10.0.77.7';
/** Seconds a new target stays `initial`, and the groups' deregistration delay. */
export const HEALTHY_AFTER_SECONDS = 20;
export const DEREGISTRATION_DELAY_SECONDS = 30;
const DRAIN_MARGIN_SECONDS = 30;
/** Short, so that a launch that can never be healthy (an IP outside the VPC) does not keep every scenario long. */
const LAUNCH_TIMEOUT_SECONDS = 120;
/** Seconds the spot service gives an instance between its warning and its interruption. */
export const SPOT_NOTICE_SECONDS = 120;
/** SQS's visibility timeout: a failed invocation's message comes back after it. */
const VISIBILITY_TIMEOUT_SECONDS = 360;
const WAIT_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/nlb-sync-wait';
const LANE_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/nlb-sync-lane.fifo';

/**
 * Stranger events include a spot interruption warning for an instance of no configured cluster (this suite
 * found that it once got a drain mark: the pass marked every node discovery held, including nodes known only
 * because the event named them). Kept as a switch to replay the old restriction by hand.
 */
export const STRANGER_SPOT_WARNINGS = true;

/** The suite's config: validated like every config. */
export const CONFIG: SyncConfig = parseSyncConfig({
  ownerId: OWNER,
  clusters: [
    {
      name: CLUSTER,
      nodeSource: { autoScalingGroups: [ASG] },
      portMappings: [
        { name: 'web', targetGroupArn: TG_WEB, nodePort: WEB_PORT, targetType: 'ip' },
        { name: 'api', targetGroupArn: TG_API, nodePort: API_PORT, targetType: 'instance' },
      ],
      preservedTargets: ['10.0.200.0/24', PRESERVED_INSTANCE],
      lifecycle: {
        recheckSeconds: 30,
        drainMarginSeconds: DRAIN_MARGIN_SECONDS,
        launchTimeoutSeconds: LAUNCH_TIMEOUT_SECONDS,
      },
    },
  ],
});

/** One invariant: how often it was checked and every violation (with what was seen). */
export interface InvariantCount {
  checks: number;
  readonly violations: string[];
}

/** The invariants, by name (the names the summary prints). */
export const INVARIANTS = [
  'every desired target present',
  'nothing owned-but-undesired left',
  'no InService or launching node deregistered on weak evidence',
  'lifecycle action answered at most once',
  'lifecycle action answered only when due',
  'nothing unowned or preserved touched',
  'malformed input made zero calls',
  'every command modelled',
] as const;
/** An invariant's name. */
export type InvariantName = (typeof INVARIANTS)[number];

/** Counters across scenarios. */
export type Counts = Record<InvariantName, InvariantCount>;

/** Fresh counters. */
export function newCounts(): Counts {
  return Object.fromEntries(
    INVARIANTS.map((name) => [name, { checks: 0, violations: [] }]),
  ) as unknown as Counts;
}

/** The world of one scenario. */
export class FaultWorld {
  public readonly clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  public readonly aws = new InMemoryAws(this.clock, {
    healthyAfterSeconds: HEALTHY_AFTER_SECONDS,
    waitQueueUrl: WAIT_QUEUE_URL,
    laneQueueUrl: LANE_QUEUE_URL,
  });
  public readonly handler: (event: unknown) => Promise<ReconcileHandlerResult>;
  /** EventBridge events emitted and not yet delivered to the lane (delivered in any order). */
  public readonly inFlight: EmittedEvent[] = [];
  /** Events delivered once (a duplicate or late copy may come again). */
  public readonly delivered: EmittedEvent[] = [];
  /** Spot interruptions due: instance -> when. */
  private readonly interruptions = new Map<string, number>();
  /** Invocations that threw (their message comes back after the visibility timeout). */
  public failedInvocations = 0;
  public invocations = 0;
  /** Invocations (not racing) in which some writes took effect and a later one failed: a partial write. */
  public partialWrites = 0;
  /** Instances that can never be an ip target (their IP is outside the VPC). */
  public readonly outsideVpc = new Set<string>();
  private scenarioLabel = '';

  public constructor(private readonly counts: Counts) {
    const { logger, metrics } = silentTelemetry();
    const deps = createContainer(
      { logger, metrics, clock: this.clock },
      { [QUEUE_ENV.waitQueueUrl]: WAIT_QUEUE_URL, [QUEUE_ENV.laneQueueUrl]: LANE_QUEUE_URL },
    );
    this.handler = createReconcileHandler(CONFIG, deps);
    this.aws.onWrite = (event) => this.checkWrite(event);
    const asg = this.aws.addGroup(
      ASG,
      { [LAUNCH_HOOK]: 'launch', [TERMINATE_HOOK]: 'terminate', [FOREIGN_HOOK]: 'terminate' },
      [FOREIGN_HOOK],
    );
    const otherHook = lifecycleHookName(OWNER, 'other', 'launch');
    const other = this.aws.addGroup(OTHER_ASG, { [otherHook]: 'launch' }, [otherHook]);
    this.aws.addTargetGroup(TG_WEB, 'ip', WEB_PORT, DEREGISTRATION_DELAY_SECONDS);
    this.aws.addTargetGroup(TG_API, 'instance', API_PORT, DEREGISTRATION_DELAY_SECONDS);
    this.aws.addTargetGroup(TG_OTHER, 'ip', 8080, DEREGISTRATION_DELAY_SECONDS);
    for (let i = 0; i < 3; i += 1) {
      const node = this.aws.addMember(asg);
      this.aws.placeTarget(TG_WEB, node.privateIp, WEB_PORT);
      this.aws.placeTarget(TG_API, node.id, API_PORT);
    }
    // A leftover owned target no node explains (from a hand-made setup): the product removes it.
    this.aws.placeTarget(TG_WEB, '10.0.5.5', WEB_PORT);
    this.aws.placeTarget(TG_WEB, PRESERVED_IP, WEB_PORT);
    this.aws.addInstance({ id: PRESERVED_INSTANCE });
    this.aws.placeTarget(TG_API, PRESERVED_INSTANCE, API_PORT);
    const stranger = this.aws.addMember(other);
    this.aws.placeTarget(TG_OTHER, STRANGER_IP, 8080);
    this.aws.placeTarget(TG_OTHER, stranger.privateIp, 8080);
  }

  /** Names the scenario in violation messages. */
  public label(text: string): void {
    this.scenarioLabel = text;
  }

  private violation(name: InvariantName, text: string): void {
    this.counts[name].violations.push(`${this.scenarioLabel}: ${text}`);
  }

  // ---------------------------------------------------------------- the world acting on its own

  /** Scale-out of the cluster's ASG (a node whose IP AWS refuses as a target when `outsideVpc`). */
  public scaleOut(outsideVpc: boolean): void {
    const node = this.aws.launch(ASG, { outsideVpc });
    this.note(`scale-out: ${node.id} ${node.privateIp}${outsideVpc ? ' (outside the VPC)' : ''}`);
    if (outsideVpc) this.outsideVpc.add(node.id);
    this.collect();
  }

  /** InService members of the cluster's ASG. */
  public inService(): string[] {
    return (this.aws.groups.get(ASG)?.members ?? [])
      .filter((m) => m.lifecycleState === 'InService')
      .map((m) => m.instanceId);
  }

  /** Scale-in of the `pick`-th InService member. */
  public scaleIn(pick: number): void {
    const members = this.undoomed();
    const id = members[pick % Math.max(1, members.length)];
    // Keep at least one node that stays: a cluster losing every node is not the subject here (the guard
    // never empties a group while the ASG wants capacity; docs/safety.md).
    if (id !== undefined && members.length > 1 && this.aws.terminate(ASG, id)) this.note(`scale-in: ${id}`);
    this.collect();
  }

  /**
   * InService members of the cluster's ASG that nothing dooms yet: no spot interruption coming, no drain
   * mark (a scale-in or a spot warning picks among these).
   */
  private undoomed(): string[] {
    const mark = drainMarkTagKey(OWNER);
    return this.inService().filter(
      (id) => !this.interruptions.has(id) && this.aws.instances.get(id)?.tags.has(mark) !== true,
    );
  }

  /**
   * A spot interruption warning for the `pick`-th undoomed member; two minutes later the instance is
   * interrupted: Auto Scaling terminates it through its hooks and launches a replacement.
   */
  public spotWarning(pick: number): void {
    const members = this.undoomed();
    const id = members[pick % Math.max(1, members.length)];
    if (id === undefined || members.length <= 1) return;
    this.inFlight.push(
      this.aws.ec2Event('EC2 Spot Instance Interruption Warning', {
        'instance-id': id,
        'instance-action': 'terminate',
      }),
    );
    this.interruptions.set(id, this.clock.now() + SPOT_NOTICE_SECONDS * 1000);
    this.note(`spot warning: ${id}`);
  }

  /** A late EC2 `stopping` event for a running member (a stop and start long ago; it runs again). */
  public staleStopping(pick: number, ageSeconds: number): void {
    const members = this.inService();
    const id = members[pick % Math.max(1, members.length)];
    if (id === undefined) return;
    this.inFlight.push(
      this.aws.ec2Event(
        'EC2 Instance State-change Notification',
        { 'instance-id': id, state: 'stopping' },
        this.clock.now() - ageSeconds * 1000,
      ),
    );
  }

  /**
   * Events about things that are not the product's: a launch action of the stranger ASG's hook, and an EC2
   * event for its new node (a spot warning once {@link STRANGER_SPOT_WARNINGS} is on, else a `stopping`).
   */
  public strangerEvents(): void {
    const node = this.aws.launch(OTHER_ASG);
    this.inFlight.push(
      STRANGER_SPOT_WARNINGS
        ? this.aws.ec2Event('EC2 Spot Instance Interruption Warning', {
            'instance-id': node.id,
            'instance-action': 'terminate',
          })
        : this.aws.ec2Event('EC2 Instance State-change Notification', {
            'instance-id': node.id,
            state: 'stopping',
          }),
    );
    this.collect();
  }

  /** Moves emitted events into the in-flight pool. */
  private collect(): void {
    this.inFlight.push(...this.aws.takeEmitted());
  }

  /** Time passes: `seconds` in steps of 5, delivering every due queue message (and, `eager`, every event). */
  public async advance(seconds: number, eager = false): Promise<void> {
    for (let moved = 0; moved < seconds; moved += 5) {
      this.clock.advance(5);
      this.aws.tick();
      for (const [id, at] of [...this.interruptions]) {
        if (this.clock.now() < at) continue;
        this.interruptions.delete(id);
        this.note(`spot interruption: ${id} (and its replacement launches)`);
        this.aws.terminate(ASG, id, { replace: true });
      }
      this.collect();
      await this.deliverDue();
      if (eager) await this.deliverAllInFlight();
    }
  }

  // ---------------------------------------------------------------- delivery

  private async invoke(message: QueuedMessage): Promise<void> {
    this.invocations += 1;
    const from = this.aws.calls.length;
    let outcome: string;
    try {
      outcome = summarize(await this.handler(sqsEventOf(message)));
    } catch (error) {
      // The product could not schedule its own retry: SQS delivers the message again later.
      this.failedInvocations += 1;
      this.aws.redeliverLater(message, VISIBILITY_TIMEOUT_SECONDS);
      outcome = `threw ${(error as Error).name} (redelivered later)`;
    }
    const made = this.aws.calls.slice(from);
    const firstApplied = made.findIndex((c) => c.applied && c.command !== 'SendMessage');
    if (firstApplied >= 0 && made.slice(firstApplied + 1).some((c) => c.write && !c.applied))
      this.partialWrites += 1;
    const calls = made
      .filter((c) => c.write || c.fault !== undefined || c.error !== undefined)
      .map(
        (c) =>
          `${c.command}${describeInput(c.input)}${c.fault ? ` [${c.fault}]` : ''}${c.error ? ` -> ${c.error}` : ''}`,
      );
    this.note(
      `${message.queue} ${describeBody(message.body)} => ${outcome}${calls.length > 0 ? `\n      ${calls.join('\n      ')}` : ''}`,
    );
    this.collect();
  }

  /** What happened, for the counterexample's report. */
  public readonly trace: string[] = [];
  private readonly startedAt = this.clock.now();

  /** Adds a line to the trace, stamped with the scenario's time. */
  public note(text: string): void {
    this.trace.push(`[+${(this.clock.now() - this.startedAt) / 1000}s] ${text}`);
  }

  private laneMessage(event: EmittedEvent | string): QueuedMessage {
    return {
      queue: 'lane',
      body: typeof event === 'string' ? event : JSON.stringify(event),
      dueAt: this.clock.now(),
      groupId: CLUSTER,
      deduplicationId: `d-${this.invocations}`,
    };
  }

  /** Delivers every due message of the wait queue and the lane (a cap stops a loop that never ends). */
  public async deliverDue(): Promise<void> {
    for (let round = 0; round < 50; round += 1) {
      const due = this.aws.takeDueMessages();
      if (due.length === 0) return;
      for (const message of due) await this.invoke(message);
    }
    throw new Error('in-memory queues: messages keep coming due without time passing (a loop)');
  }

  /** Delivers the `pick`-th in-flight event (events arrive in any order), a second later than now. */
  public async deliver(pick: number): Promise<void> {
    if (this.inFlight.length === 0) return;
    const [event] = this.inFlight.splice(pick % this.inFlight.length, 1);
    if (event === undefined) return;
    this.clock.advance(1);
    this.delivered.push(event);
    await this.invoke(this.laneMessage(event));
  }

  /** Delivers an event that was delivered before again (a duplicate, possibly much later). */
  public async duplicate(pick: number): Promise<void> {
    const event = this.delivered[pick % Math.max(1, this.delivered.length)];
    if (event === undefined) return;
    this.clock.advance(1);
    await this.invoke(this.laneMessage(event));
  }

  /**
   * Two invocations at once (two Lambda instances: e.g. a lane event beside a wait-queue re-check, or the same
   * event delivered twice): in-flight events `a` and `b` (the same one twice when they pick the same), plus
   * whatever queue message is due.
   */
  public async race(a: number, b: number): Promise<void> {
    this.clock.advance(1);
    const first = this.inFlight[a % Math.max(1, this.inFlight.length)];
    const second = this.inFlight[b % Math.max(1, this.inFlight.length)];
    const messages: QueuedMessage[] = [];
    for (const event of new Set([first, second])) {
      if (event === undefined) continue;
      this.inFlight.splice(this.inFlight.indexOf(event), 1);
      this.delivered.push(event);
      messages.push(this.laneMessage(event));
    }
    if (first !== undefined && first === second) messages.push(this.laneMessage(first));
    messages.push(...this.aws.takeDueMessages());
    if (messages.length < 2) messages.push(this.laneMessage(scheduledEvent(this.clock.now())));
    await Promise.all(messages.map((m) => this.invoke(m)));
  }

  /** The schedule's event. */
  public async schedule(): Promise<void> {
    this.clock.advance(1);
    await this.invoke(this.laneMessage(scheduledEvent(this.clock.now())));
  }

  /** Delivers a malformed message alone and checks that it made no AWS call at all. */
  public async malformed(variant: number): Promise<void> {
    const bodies = malformedBodies(this.inService()[0] ?? 'i-0000000000000dead', this.clock.now());
    const body = bodies[variant % bodies.length] ?? 'not json';
    const before = this.aws.calls.length;
    const queued = this.aws.queued.length;
    this.clock.advance(1);
    // Half through the lane (as an EventBridge rule delivers), half through the wait queue (no message group).
    const lane = this.laneMessage(body);
    await this.invoke(variant % 2 === 0 ? lane : { queue: 'wait', body, dueAt: lane.dueAt });
    const counter = this.counts['malformed input made zero calls'];
    counter.checks += 1;
    const made = this.aws.calls.slice(before);
    if (made.length > 0 || this.aws.queued.length !== queued) {
      this.violation(
        'malformed input made zero calls',
        `body ${body.slice(0, 120)} made ${made.map((c) => c.command).join(', ')}`,
      );
    }
  }

  /** Delivers every in-flight event in the order it was emitted. */
  public async deliverAllInFlight(): Promise<void> {
    while (this.inFlight.length > 0) await this.deliver(0);
  }

  /**
   * The end of the faults: every late event arrives, time runs until nothing is held or queued (launch holds
   * may wait out their timeout), then one clean scheduled pass.
   */
  public async settle(): Promise<void> {
    this.aws.faultFor = () => undefined;
    this.note('faults stop; every late event arrives, then time runs until nothing is held');
    await this.deliverAllInFlight();
    for (let waited = 0; waited < 1200; waited += 30) {
      await this.advance(30, true);
      const pending = [...this.aws.actions.values()].some((a) => a.status === 'pending' && a.drivesInstance);
      if (
        !pending &&
        this.aws.queued.length === 0 &&
        this.inFlight.length === 0 &&
        this.interruptions.size === 0
      )
        break;
    }
    this.note('the clean pass');
    await this.schedule();
  }

  // ---------------------------------------------------------------- invariants

  /** Checked at every write, against the model as it is just before the write changes it. */
  private checkWrite({ call }: WriteEvent): void {
    const input = call.input;
    const untouched = this.counts['nothing unowned or preserved touched'];
    untouched.checks += 1;
    const bad = (text: string) =>
      this.violation('nothing unowned or preserved touched', `${call.command} #${call.seq}: ${text}`);
    if (call.command === 'RegisterTargets' || call.command === 'DeregisterTargets') {
      const arn = String(input.TargetGroupArn);
      if (arn !== TG_WEB && arn !== TG_API) bad(`wrote to ${arn}, a group the config does not map`);
      const targets = (input.Targets as { Id: string; Port?: number }[]) ?? [];
      for (const t of targets) {
        if (t.Id.startsWith('10.0.200.') || t.Id === PRESERVED_INSTANCE)
          bad(`touched preserved target ${t.Id}`);
      }
      if (call.command === 'DeregisterTargets') this.checkDeregistration(arn, targets);
    }
    if (call.command === 'CreateTags' || call.command === 'DeleteTags') {
      for (const id of (input.Resources as string[]) ?? []) {
        // Auto Scaling tags its instances with the group's name: only the cluster's ASG's may be marked.
        const group = this.aws.instances.get(id)?.tags.get('aws:autoscaling:groupName');
        if (group !== ASG) bad(`tagged ${id}, not an instance of the cluster`);
      }
      for (const tag of (input.Tags as { Key: string }[]) ?? []) {
        if (tag.Key !== drainMarkTagKey(OWNER)) bad(`wrote tag ${tag.Key}`);
      }
    }
    if (call.command === 'CompleteLifecycleAction' || call.command === 'RecordLifecycleActionHeartbeat') {
      if (
        input.AutoScalingGroupName !== ASG ||
        (input.LifecycleHookName !== LAUNCH_HOOK && input.LifecycleHookName !== TERMINATE_HOOK)
      ) {
        bad(`answered ${String(input.AutoScalingGroupName)} / ${String(input.LifecycleHookName)}`);
      }
      if (call.command === 'CompleteLifecycleAction') this.checkAnswer(input);
    }
  }

  /** No target of a node that is InService (or launching), running and not drain-marked is deregistered. */
  private checkDeregistration(arn: string, targets: readonly { Id: string }[]): void {
    const group = this.aws.targetGroups.get(arn);
    if (group === undefined) return;
    const counter = this.counts['no InService or launching node deregistered on weak evidence'];
    for (const target of targets) {
      counter.checks += 1;
      const instance = this.aws.instanceOfTarget(group, target.Id);
      if (instance === undefined) continue;
      const member = this.aws.memberOf(instance.id);
      const marked = instance.tags.has(drainMarkTagKey(OWNER));
      // A launching node (held in Pending:Wait) serves as soon as its target is healthy: it counts too.
      const serving = member?.lifecycleState === 'InService' || member?.lifecycleState === 'Pending:Wait';
      if (serving && instance.state === 'running' && !marked) {
        this.violation(
          'no InService or launching node deregistered on weak evidence',
          `deregistered ${target.Id} of ${group.name}: node ${instance.id} is ${member?.lifecycleState}, running, not marked`,
        );
      }
    }
  }

  /** A lifecycle answer goes out only once its wait is over (drained / healthy), or its bound has passed. */
  private checkAnswer(input: Readonly<Record<string, unknown>>): void {
    const action = this.aws.actions.get(String(input.LifecycleActionToken));
    const counter = this.counts['lifecycle action answered only when due'];
    counter.checks += 1;
    if (action === undefined || action.status !== 'pending') return;
    const elapsed = (this.clock.now() - action.startedAt) / 1000;
    const instance = this.aws.instances.get(action.instanceId);
    const serving: string[] = [];
    const notHealthy: string[] = [];
    for (const group of [this.aws.targetGroups.get(TG_WEB), this.aws.targetGroups.get(TG_API)]) {
      if (group === undefined || instance === undefined) continue;
      const id = group.targetType === 'ip' ? instance.privateIp : instance.id;
      const states = [...group.targets.values()]
        .filter((t) => t.id === id)
        .map((t) => this.aws.targetState(group, t));
      if (states.some((s) => s === 'initial' || s === 'healthy' || s === 'unhealthy'))
        serving.push(group.name);
      if (!states.includes('healthy')) notHealthy.push(group.name);
    }
    if (action.transition === 'terminate') {
      // Its bound: the groups' deregistration delay plus the margin, from when the product first saw it.
      if (elapsed < DEREGISTRATION_DELAY_SECONDS + DRAIN_MARGIN_SECONDS && serving.length > 0) {
        this.violation(
          'lifecycle action answered only when due',
          `terminate of ${action.instanceId} answered after ${elapsed} s while still serving in ${serving.join(', ')}`,
        );
      }
      return;
    }
    const leaving =
      instance === undefined || instance.state !== 'running' || instance.tags.has(drainMarkTagKey(OWNER));
    if (!leaving && elapsed < LAUNCH_TIMEOUT_SECONDS && notHealthy.length > 0) {
      this.violation(
        'lifecycle action answered only when due',
        `launch of ${action.instanceId} answered after ${elapsed} s, not healthy in ${notHealthy.join(', ')}`,
      );
    }
  }

  /** After the clean pass: the groups hold exactly the desired nodes; answers and strangers as they must be. */
  public checkFinal(): void {
    const present = this.counts['every desired target present'];
    const undesired = this.counts['nothing owned-but-undesired left'];
    const web = this.aws.targetGroups.get(TG_WEB);
    const api = this.aws.targetGroups.get(TG_API);
    if (web === undefined || api === undefined) throw new Error('world without its groups');
    const desiredWeb = new Set<string>();
    const desiredApi = new Set<string>();
    for (const member of this.aws.groups.get(ASG)?.members ?? []) {
      const instance = this.aws.instances.get(member.instanceId);
      if (instance === undefined) continue;
      const desired =
        member.lifecycleState === 'InService' &&
        instance.state === 'running' &&
        !instance.tags.has(drainMarkTagKey(OWNER));
      if (!desired) continue;
      if (!this.outsideVpc.has(instance.id)) desiredWeb.add(`${instance.privateIp}:${WEB_PORT}`);
      desiredApi.add(`${instance.id}:${API_PORT}`);
    }
    for (const [group, desired] of [
      [web, desiredWeb],
      [api, desiredApi],
    ] as const) {
      const current = new Map<string, string>();
      for (const [key, target] of group.targets) {
        const state = this.aws.targetState(group, target);
        if (state !== undefined && state !== 'draining') current.set(key, state);
      }
      for (const key of desired) {
        present.checks += 1;
        if (!current.has(key)) this.violation('every desired target present', `${group.name} lacks ${key}`);
      }
      for (const key of current.keys()) {
        if (key.startsWith('10.0.200.') || key.startsWith(PRESERVED_INSTANCE)) continue;
        undesired.checks += 1;
        if (!desired.has(key))
          this.violation(
            'nothing owned-but-undesired left',
            `${group.name} still holds ${key} (${current.get(key)})`,
          );
      }
    }
    // An outside-VPC node is never an ip target (AWS refuses it); the product keeps trying, harmlessly.
    const untouched = this.counts['nothing unowned or preserved touched'];
    untouched.checks += 3;
    if (
      !web.targets.has(`${PRESERVED_IP}:${WEB_PORT}`) ||
      web.targets.get(`${PRESERVED_IP}:${WEB_PORT}`)?.state === 'draining'
    ) {
      this.violation('nothing unowned or preserved touched', 'the preserved IP target is gone');
    }
    if (
      !api.targets.has(`${PRESERVED_INSTANCE}:${API_PORT}`) ||
      api.targets.get(`${PRESERVED_INSTANCE}:${API_PORT}`)?.state === 'draining'
    ) {
      this.violation('nothing unowned or preserved touched', 'the preserved instance target is gone');
    }
    if (this.aws.targetGroups.get(TG_OTHER)?.targets.size !== 2) {
      this.violation('nothing unowned or preserved touched', 'the stranger group changed');
    }
    const once = this.counts['lifecycle action answered at most once'];
    const accepted = new Map<string, number>();
    for (const call of this.aws.calls) {
      if (call.command !== 'CompleteLifecycleAction') continue;
      const token = String(call.input.LifecycleActionToken ?? call.input.InstanceId);
      accepted.set(token, (accepted.get(token) ?? 0) + (call.applied ? 1 : 0));
    }
    for (const [token, n] of accepted) {
      once.checks += 1;
      if (n > 1) this.violation('lifecycle action answered at most once', `${token} answered ${n} times`);
    }
    const modelled = this.counts['every command modelled'];
    modelled.checks += 1;
    if (this.aws.unmodelled.length > 0) {
      this.violation(
        'every command modelled',
        `the product sent commands the model does not know: ${this.aws.unmodelled.join(', ')}`,
      );
    }
  }
}

function describeBody(body: string): string {
  try {
    const parsed = JSON.parse(body) as { 'detail-type'?: string; detail?: Record<string, unknown> };
    const d = parsed.detail ?? {};
    const subject =
      d.EC2InstanceId ??
      d['instance-id'] ??
      (d.action as { instanceId?: string } | undefined)?.instanceId ??
      d.cluster ??
      '';
    const extra = d.state ?? d.LifecycleHookName ?? d.kind ?? '';
    return `${parsed['detail-type'] ?? '?'} ${String(subject)} ${String(extra)}`.trim();
  } catch {
    return body.slice(0, 40);
  }
}

function describeInput(input: Readonly<Record<string, unknown>>): string {
  const targets = input.Targets as { Id: string; Port?: number }[] | undefined;
  const group = typeof input.TargetGroupArn === 'string' ? ` ${input.TargetGroupArn.split('/')[1]}` : '';
  if (targets !== undefined) return `${group} ${targets.map((t) => `${t.Id}:${t.Port}`).join(',')}`;
  if (input.LifecycleActionToken !== undefined)
    return ` ${String(input.LifecycleActionToken)} ${String(input.LifecycleActionResult ?? '')}`;
  if (input.Resources !== undefined) return ` ${(input.Resources as string[]).join(',')}`;
  if (input.DelaySeconds !== undefined) return ` delay ${String(input.DelaySeconds)}`;
  return group;
}

function summarize(result: ReconcileHandlerResult): string {
  const parts = [
    ...result.passes.map(
      (p) =>
        `pass ${p.changes.map((c) => `${c.action === 'register' ? '+' : '-'}${c.target.id}`).join(' ') || '(no change)'}`,
    ),
    ...result.failures.map((f) => `FAILED ${f.slice(0, 160)}`),
    ...result.lifecycle.map(
      (l) => `lifecycle ${l.status}${l.status === 'skipped' ? ` (${l.reason.slice(0, 60)})` : ''}`,
    ),
    ...result.holdChecks.map((h) => `check ${h.status}${'reason' in h ? ` (${h.reason.slice(0, 80)})` : ''}`),
    ...(result.forwarded > 0 ? [`forwarded ${result.forwarded}`] : []),
    ...result.skipped.map((s) => `skipped (${s.slice(0, 60)})`),
    ...result.rejected.map((r) => `rejected (${r.slice(0, 60)})`),
  ];
  return parts.join('; ') || '(nothing)';
}

/** The schedule's `Scheduled Event`, at `at`. */
export function scheduledEvent(at: number): EmittedEvent {
  return {
    version: '0',
    id: `schedule-${at}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date(at).toISOString(),
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:123456789012:rule/nlb-nodeport-sync-reconcile'],
    detail: {},
  };
}

/** Bodies no retry can fix: each must be rejected before any AWS call. */
export function malformedBodies(instanceId: string, at: number): string[] {
  const envelope = {
    version: '0',
    account: '123456789012',
    time: new Date(at).toISOString(),
    region: 'us-east-1',
    resources: [],
  };
  return [
    'not json {',
    JSON.stringify(42),
    JSON.stringify(null),
    JSON.stringify({
      ...envelope,
      id: 'm1',
      source: 'aws.autoscaling',
      'detail-type': 'EC2 Instance-terminate Lifecycle Action',
      detail: {
        AutoScalingGroupName: ASG,
        LifecycleHookName: TERMINATE_HOOK,
        EC2InstanceId: instanceId,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      },
    }),
    JSON.stringify({
      ...envelope,
      id: 'm2',
      source: 'aws.ec2',
      'detail-type': 'EC2 Spot Instance Interruption Warning',
      detail: { 'instance-id': 'i-NOTHEX', 'instance-action': 'terminate' },
    }),
    JSON.stringify({
      ...envelope,
      id: 'm3',
      source: 'aws.ec2',
      'detail-type': 'EC2 Instance State-change Notification',
      detail: { 'instance-id': instanceId, state: 'exploding' },
    }),
    JSON.stringify({
      source: 'nlb-nodeport-sync',
      'detail-type': 'Lifecycle Hold Check',
      detail: { cluster: CLUSTER },
    }),
    JSON.stringify({
      source: 'nlb-nodeport-sync',
      'detail-type': 'Event Retry',
      detail: { cluster: CLUSTER, attempt: 1 },
    }),
    JSON.stringify({
      ...envelope,
      id: 'm4',
      source: 'aws.ec2',
      'detail-type': 'EC2 Spot Instance Interruption Warning',
    }),
  ];
}
