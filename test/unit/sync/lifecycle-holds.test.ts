import { parseSyncConfig, type SyncConfig } from '../../../lambdas/domain/config';
import { createReconcileHandler } from '../../../lambdas/handlers/reconcile-handler';
import { eventFixture } from '../../support/event-fixtures';
import { asgNode, FakeAws, fakeDeps } from '../../support/fake-aws';
import { FakeQueues, ManualClock } from '../../support/fake-queues';

/*
 * Held lifecycle actions, scripted against in-memory AWS with AWS's target states on a manual clock
 * (FakeAws with a clock: registered -> initial -> healthy; deregistered -> draining for the delay) and
 * the deployment's queues in memory (FakeQueues: the wait queue's delays, the lane). The real handler,
 * use cases and pure decisions run; only the adapters are replaced.
 */

const TG_A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a/0123456789abcdef';
const TG_B = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/b/0123456789abcdef';
const INSTANCE = 'i-1234567890abcdef0';
const IP = '10.0.0.99';

function configWith(lifecycle: Record<string, unknown> = {}): SyncConfig {
  return parseSyncConfig({
    clusters: [
      {
        name: 'prod',
        nodeSource: { autoScalingGroups: ['my-asg'] },
        portMappings: [
          { name: 'a', targetGroupArn: TG_A, nodePort: 30000 },
          { name: 'b', targetGroupArn: TG_B, targetType: 'instance', nodePort: 30001 },
        ],
        lifecycle,
      },
    ],
  });
}

function lifecycleEvent(kind: 'launch' | 'terminate', clock: ManualClock, token = 'token-1') {
  const event = eventFixture(kind === 'launch' ? 'lifecycle-launch' : 'lifecycle-terminate');
  const detail = event.detail as Record<string, unknown>;
  detail.LifecycleHookName = `nlb-nodeport-sync-prod-${kind}`;
  detail.LifecycleActionToken = token;
  event.time = new Date(clock.now()).toISOString();
  return event;
}

/** Three serving nodes and the event's instance, in the given ASG state; targets of the serving ones. */
function world(config: SyncConfig, state: 'Pending:Wait' | 'Terminating:Wait' | 'InService') {
  const clock = new ManualClock();
  const fake = new FakeAws(clock);
  fake.healthyAfterSeconds = 30;
  const queues = new FakeQueues(clock);
  const deps = fakeDeps(fake, queues);
  const serving = [asgNode(1), asgNode(2), asgNode(3)];
  const node = { ...asgNode(4), instanceId: INSTANCE, privateIp: IP, lifecycleState: state };
  fake.addGroup('my-asg', [...serving, node]);
  const withNode = state !== 'Pending:Wait';
  for (const [arn, port, type] of [
    [TG_A, 30000, 'ip'],
    [TG_B, 30001, 'instance'],
  ] as const) {
    const nodes = withNode ? [...serving, node] : serving;
    fake.targets.set(
      arn,
      nodes.map((n) => ({
        id: (type === 'ip' ? n.privateIp : n.instanceId) ?? '',
        port,
        state: 'healthy' as const,
      })),
    );
  }
  const handler = createReconcileHandler(config, deps);
  return { clock, fake, queues, deps, handler };
}

/** Moves the clock one second at a time up to `seconds`, delivering whatever comes due. */
async function runFor(w: ReturnType<typeof world>, seconds: number): Promise<void> {
  for (let s = 0; s < seconds; s += 1) {
    w.clock.advance(1);
    await w.queues.deliverDue(w.handler);
  }
}

/** When (seconds after start) each write happened, as `t=.. write`. */
function timeline(start: number, writes: string[], at: number[]): string[] {
  return writes.map((write, i) => `t=${((at[i] ?? 0) - start) / 1000} ${write}`);
}

function recordTimes(w: ReturnType<typeof world>): { writes: string[]; at: number[] } {
  const at: number[] = [];
  const push = w.fake.writes.push.bind(w.fake.writes);
  w.fake.writes.push = (...items: string[]) => {
    for (const _ of items) at.push(w.clock.now());
    return push(...items);
  };
  return { writes: w.fake.writes, at };
}

describe('Lifecycle holds: scale-out', () => {
  it('answers CONTINUE only after the new targets turned healthy in every group (gate healthy)', async () => {
    // Prepare
    const w = world(configWith(), 'Pending:Wait');
    const start = w.clock.now();
    const times = recordTimes(w);
    // Act
    await w.handler(lifecycleEvent('launch', w.clock));
    await runFor(w, 120);
    // Assess: registered at t=0, initial for 30 s, answered at the first re-check after that (15 s cadence)
    expect(timeline(start, times.writes, times.at)).toEqual([
      `t=0 register ${TG_A} ${IP}:30000`,
      `t=0 register ${TG_B} ${INSTANCE}:30001`,
      `t=30 complete ${INSTANCE} CONTINUE`,
    ]);
  });

  it('sends the configured timeout result when the node never turns healthy, with heartbeats meanwhile', async () => {
    // Prepare
    const w = world(
      configWith({
        launchTimeoutSeconds: 600,
        launchTimeoutResult: 'ABANDON',
        launchHeartbeatTimeoutSeconds: 300,
      }),
      'Pending:Wait',
    );
    w.fake.healthyAfterSeconds = 10_000;
    const addMetric = jest.spyOn(w.deps.metrics, 'addMetric');
    const start = w.clock.now();
    const times = recordTimes(w);
    // Act
    await w.handler(lifecycleEvent('launch', w.clock));
    await runFor(w, 700);
    // Assess: a heartbeat every half hook timeout (150 s), the timeout answer at 600 s, nothing after
    expect(timeline(start, times.writes, times.at).slice(2)).toEqual([
      `t=150 heartbeat ${INSTANCE}`,
      `t=300 heartbeat ${INSTANCE}`,
      `t=450 heartbeat ${INSTANCE}`,
      `t=600 complete ${INSTANCE} ABANDON`,
    ]);
    expect(addMetric).toHaveBeenCalledWith('LifecycleWaitTimeouts', 'Count', 1);
    expect(w.queues.pending).toEqual([]);
  });

  it('answers at once after the pass with gate registered, and before the pass with gate none', async () => {
    for (const [gate, expected] of [
      ['registered', ['register', 'register', 'complete']],
      ['none', ['complete', 'register', 'register']],
    ] as const) {
      // Prepare
      const w = world(configWith({ launchGate: gate }), 'Pending:Wait');
      // Act
      await w.handler(lifecycleEvent('launch', w.clock));
      // Assess
      expect(w.fake.writes.map((write) => write.split(' ')[0])).toEqual(expected);
      expect(w.queues.pending).toEqual([]);
    }
  });
});

describe('Lifecycle holds: the answer as soon as its condition holds (issue 9)', () => {
  const launchEvent = (w: ReturnType<typeof world>) => lifecycleEvent('launch', w.clock);

  it('answers a launch (gate registered) after its registrations though a later step of the pass fails', async () => {
    // Prepare
    const config = configWith({ launchGate: 'registered' });
    const w = world(config, 'Pending:Wait');
    const failing = { name: 'dns', run: () => Promise.reject(new Error('Route 53 said no')) };
    const handler = createReconcileHandler(config, { ...w.deps, extraSteps: [failing] });
    const addMetric = jest.spyOn(w.deps.metrics, 'addMetric');
    // Act
    const result = await handler(launchEvent(w));
    // Assess: answered, the failure reported with it and counted, no hold
    expect(result.lifecycle).toEqual([
      expect.objectContaining({ status: 'answered', passError: expect.any(String) }),
    ]);
    expect(w.fake.writes.map((write) => write.split(' ')[0])).toEqual(['register', 'register', 'complete']);
    expect(addMetric).toHaveBeenCalledWith('PassFailures', 'Count', 1);
    expect(w.queues.pending).toEqual([]);
  });

  it('holds a launch (gate registered) whose registration AWS rejected in one group', async () => {
    // Prepare
    const w = world(configWith({ launchGate: 'registered' }), 'Pending:Wait');
    w.fake.invalid.add(IP);
    // Act
    const result = await w.handler(launchEvent(w));
    // Assess
    expect(result.lifecycle.map((o) => o.status)).toEqual(['held']);
    expect(w.fake.writes.filter((write) => write.startsWith('complete'))).toEqual([]);
  });

  it('holds a launch (gate registered) whose registration a target quota refused', async () => {
    // Prepare: group a already holds 997 preserved targets and 3 nodes: a fourth node would make 1,001
    const config = parseSyncConfig({
      clusters: [
        {
          ...configWith({ launchGate: 'registered' }).clusters[0],
          preservedTargets: ['10.9.0.0/16'],
        },
      ],
    });
    const w = world(config, 'Pending:Wait');
    const preserved = Array.from({ length: 997 }, (_, i) => ({
      id: `10.9.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      port: 30000,
      state: 'healthy' as const,
    }));
    w.fake.targets.set(TG_A, [...(w.fake.targets.get(TG_A) ?? []), ...preserved]);
    // Act
    const result = await w.handler(launchEvent(w));
    // Assess: registered in group b only, not answered
    expect(result.lifecycle.map((o) => o.status)).toEqual(['held']);
    expect(w.fake.writes).toEqual([`register ${TG_B} ${INSTANCE}:30001`]);
  });
});

describe('Lifecycle holds: scale-in', () => {
  it('answers CONTINUE only after draining ended (the group delay read from AWS), with heartbeats', async () => {
    // Prepare: delay 300 s; the terminate hook's timeout is 360 s, so a heartbeat is due at 180 s
    const w = world(configWith(), 'Terminating:Wait');
    const start = w.clock.now();
    const times = recordTimes(w);
    // Act
    await w.handler(lifecycleEvent('terminate', w.clock));
    await runFor(w, 400);
    // Assess
    expect(timeline(start, times.writes, times.at)).toEqual([
      `t=0 tag ${INSTANCE} nlb-nodeport-sync/drain`,
      `t=0 deregister ${TG_A} ${IP}:30000`,
      `t=0 deregister ${TG_B} ${INSTANCE}:30001`,
      `t=180 heartbeat ${INSTANCE}`,
      `t=300 complete ${INSTANCE} CONTINUE`,
    ]);
  });

  it('honours a short deregistration delay: answered at the first re-check after draining ended', async () => {
    // Prepare
    const w = world(configWith(), 'Terminating:Wait');
    for (const arn of [TG_A, TG_B]) {
      w.fake.drainSettings.set(arn, { deregistrationDelaySeconds: 20, connectionTermination: true });
    }
    const start = w.clock.now();
    const times = recordTimes(w);
    // Act
    await w.handler(lifecycleEvent('terminate', w.clock));
    await runFor(w, 60);
    // Assess
    // Assess: draining ends at 20 s; the re-checks come every 15 s, so the answer goes out at 30 s
    expect(timeline(start, times.writes, times.at).at(-1)).toBe(`t=30 complete ${INSTANCE} CONTINUE`);
  });

  it('answers at once when the node has no target in any group', async () => {
    // Prepare
    const w = world(configWith(), 'Terminating:Wait');
    for (const arn of [TG_A, TG_B]) {
      w.fake.targets.set(
        arn,
        (w.fake.targets.get(arn) ?? []).filter((t) => t.id !== IP && t.id !== INSTANCE),
      );
    }
    // Act
    await w.handler(lifecycleEvent('terminate', w.clock));
    // Assess
    expect(w.fake.writes).toEqual([
      `tag ${INSTANCE} nlb-nodeport-sync/drain`,
      `complete ${INSTANCE} CONTINUE`,
    ]);
  });

  it('answers with the configured terminate timeout result when draining outlasts its bound', async () => {
    // Prepare: the groups say 300 s, but a target stays draining (the fake never lets it go)
    const w = world(
      configWith({ terminateTimeoutResult: 'ABANDON', drainMarginSeconds: 30 }),
      'Terminating:Wait',
    );
    const forever = { deregistrationDelaySeconds: 3600, connectionTermination: false };
    const describe = w.fake.describeDrainSettings.bind(w.fake);
    jest.spyOn(w.fake, 'describeDrainSettings').mockImplementation(async (arn) => ({
      ...(await describe(arn)),
      deregistrationDelaySeconds: 300,
    }));
    for (const arn of [TG_A, TG_B]) w.fake.drainSettings.set(arn, forever);
    // Act
    await w.handler(lifecycleEvent('terminate', w.clock));
    await runFor(w, 400);
    // Assess
    expect(w.fake.writes.at(-1)).toBe(`complete ${INSTANCE} ABANDON`);
  });
});

describe('Lifecycle holds: spot interruptions and marks', () => {
  it('keeps a spot-interrupted node out across a later scheduled pass', async () => {
    // Prepare
    const w = world(configWith(), 'InService');
    const spot = eventFixture('spot-interruption');
    (spot.detail as Record<string, unknown>)['instance-id'] = INSTANCE;
    // Act
    await w.handler(spot);
    const afterWarning = [...w.fake.writes];
    await w.handler(eventFixture('scheduled'));
    // Assess: marked and deregistered once; the scheduled pass registers nothing back
    expect(afterWarning).toEqual([
      `tag ${INSTANCE} nlb-nodeport-sync/drain`,
      `deregister ${TG_A} ${IP}:30000`,
      `deregister ${TG_B} ${INSTANCE}:30001`,
    ]);
    expect(w.fake.writes).toEqual(afterWarning);
  });

  it('retries a spot warning whose pass failed within seconds, with its facts, until the mark is written', async () => {
    // Prepare
    const w = world(configWith(), 'InService');
    const spot = eventFixture('spot-interruption');
    (spot.detail as Record<string, unknown>)['instance-id'] = INSTANCE;
    w.fake.failNext.set('describeTargets', 1);
    // Act
    const first = await w.handler(spot);
    await runFor(w, 10);
    // Assess
    expect(first.failures).toHaveLength(1);
    expect(w.fake.writes[0]).toBe(`tag ${INSTANCE} nlb-nodeport-sync/drain`);
    expect(w.fake.writes).toContain(`deregister ${TG_A} ${IP}:30000`);
  });
});

describe('Lifecycle holds: exactly once', () => {
  it('answers a duplicated launch event once; the duplicate finds no active action', async () => {
    // Prepare
    const w = world(configWith(), 'Pending:Wait');
    const event = lifecycleEvent('launch', w.clock);
    // Act
    await w.handler(event);
    await w.handler(event);
    await runFor(w, 60);
    // Assess
    expect(w.fake.writes.filter((write) => write.startsWith('complete'))).toEqual([
      `complete ${INSTANCE} CONTINUE`,
    ]);
    expect(w.fake.lifecycleCalls.filter((c) => c.startsWith('complete'))).toEqual([
      `complete ${INSTANCE} CONTINUE done`,
      `complete ${INSTANCE} CONTINUE not-active`,
    ]);
  });

  it('does not reopen an action that was answered: a late launch event changes nothing', async () => {
    // Prepare: answered and InService
    const w = world(configWith(), 'InService');
    w.fake.inactiveActions.add('token-1');
    // Act
    await w.handler(lifecycleEvent('launch', w.clock));
    await runFor(w, 60);
    // Assess
    expect(w.fake.writes).toEqual([]);
    expect(w.queues.pending).toEqual([]);
  });

  it('stops holding a launch once a terminate action marked the node, and never registers it again', async () => {
    // Prepare: the launch is held (initial), then a terminate arrives for the same node
    const w = world(configWith(), 'Pending:Wait');
    w.fake.healthyAfterSeconds = 10_000;
    await w.handler(lifecycleEvent('launch', w.clock, 'launch-token'));
    await runFor(w, 20);
    w.fake.addGroup('my-asg', [
      asgNode(1),
      asgNode(2),
      asgNode(3),
      { ...asgNode(4), instanceId: INSTANCE, privateIp: IP, lifecycleState: 'Terminating:Wait' },
    ]);
    // Act
    await w.handler(lifecycleEvent('terminate', w.clock, 'terminate-token'));
    await runFor(w, 400);
    // Assess: the launch ends CONTINUE (held no longer), the terminate after draining; no re-registration
    const completes = w.fake.writes.filter(
      (write) => write.startsWith('complete') || write.startsWith('register'),
    );
    expect(completes.filter((write) => write.startsWith('register'))).toHaveLength(2);
    expect(completes.filter((write) => write.startsWith('complete'))).toEqual([
      `complete ${INSTANCE} CONTINUE`,
      `complete ${INSTANCE} CONTINUE`,
    ]);
    expect(w.fake.lifecycleCalls.filter((c) => c.includes('complete')).every((c) => c.endsWith('done'))).toBe(
      true,
    );
  });
});

describe('Lifecycle holds: failures never become hook timeouts', () => {
  it('answers a launch whose first pass was throttled, through a re-check and a lane pass, within seconds', async () => {
    // Prepare
    const w = world(configWith(), 'Pending:Wait');
    w.fake.failNext.set('registerTargets', 1);
    const start = w.clock.now();
    const times = recordTimes(w);
    // Act
    const first = await w.handler(lifecycleEvent('launch', w.clock));
    await runFor(w, 120);
    // Assess: the first pass failed; the re-check at 5 s asked the lane for a pass; healthy 30 s later
    expect(first.lifecycle[0]).toMatchObject({ status: 'held', delaySeconds: 5 });
    const completed = timeline(start, times.writes, times.at).filter((l) => l.includes('complete'));
    expect(completed).toEqual([`t=35 complete ${INSTANCE} CONTINUE`]);
  });

  it('re-checks a hold whose check was throttled after 5 s, not after the queue visibility timeout', async () => {
    // Prepare
    const w = world(configWith(), 'Pending:Wait');
    await w.handler(lifecycleEvent('launch', w.clock));
    w.fake.failNext.set('describeTargets', 1);
    const addMetric = jest.spyOn(w.deps.metrics, 'addMetric');
    // Act
    await runFor(w, 15);
    // Assess
    expect(addMetric).toHaveBeenCalledWith('LifecycleCheckFailures', 'Count', 1);
    expect(w.queues.pendingHolds()).toEqual([expect.objectContaining({ failures: 1 })]);
    expect((w.queues.pending[0]?.dueAt ?? 0) - w.clock.now()).toBe(5000);
  });

  it('a poisoned message is rejected without delaying the action behind it', async () => {
    // Prepare
    const w = world(configWith(), 'Pending:Wait');
    // Act
    const poisoned = await w.handler({
      source: 'aws.autoscaling',
      'detail-type': 'EC2 Instance-launch Lifecycle Action',
    });
    await w.handler(lifecycleEvent('launch', w.clock));
    await runFor(w, 60);
    // Assess
    expect(poisoned.rejected).toHaveLength(1);
    expect(w.fake.writes).toContain(`complete ${INSTANCE} CONTINUE`);
  });

  it('logs a skip for a lane message whose group names no cluster', async () => {
    // Prepare
    const w = world(configWith(), 'InService');
    const message = {
      queue: 'lane' as const,
      body: JSON.stringify(eventFixture('scheduled')),
      dueAt: 0,
      groupId: 'nope',
    };
    const { sqsEventOf } = await import('../../support/fake-queues');
    // Act
    const result = await w.handler(sqsEventOf(message));
    // Assess
    expect(result.skipped).toEqual(['message group "nope" names no configured cluster']);
    expect(w.fake.writes).toEqual([]);
  });
});
