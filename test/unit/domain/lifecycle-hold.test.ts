import { drainMarkOf, drainMarkTagKey, formatDrainMark } from '../../../lambdas/domain/drain-mark';
import {
  type HoldFacts,
  heartbeatDue,
  judgeHold,
  judgeOpenWait,
  type LifecycleHold,
  nextCheckDelaySeconds,
  retryDelaySeconds,
} from '../../../lambdas/domain/lifecycle-hold';
import type { ObservedTarget } from '../../../lambdas/domain/target';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const SETTINGS = {
  launchGate: 'healthy',
  launchTimeoutResult: 'ABANDON',
  terminateTimeoutResult: 'CONTINUE',
} as const;

function hold(kind: 'launch' | 'terminate', overrides: Partial<LifecycleHold> = {}): LifecycleHold {
  return {
    cluster: 'prod',
    action: {
      autoScalingGroupName: 'asg',
      lifecycleHookName: `x-prod-${kind}`,
      instanceId: 'i-0123456789abcdef0',
      lifecycleActionToken: 'tok',
      transition:
        kind === 'launch' ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
    },
    kind,
    startedAt: T0,
    deadlineAt: T0 + 600_000,
    lastHeartbeatAt: T0,
    heartbeatTimeoutSeconds: 300,
    checks: 0,
    failures: 0,
    ...overrides,
  };
}

function facts(
  ipState?: ObservedTarget['state'],
  instanceState?: ObservedTarget['state'],
  ip = '10.0.0.9',
): HoldFacts {
  const target = (id: string, port: number, state?: ObservedTarget['state']): ObservedTarget[] =>
    state === undefined ? [] : [{ id, port, state }];
  return {
    instance: { privateIp: ip, ec2State: 'running' },
    groups: [
      { mapping: 'a', targetType: 'ip', nodePort: 30000, targets: target(ip, 30000, ipState) },
      {
        mapping: 'b',
        targetType: 'instance',
        nodePort: 30001,
        targets: target('i-0123456789abcdef0', 30001, instanceState),
      },
    ],
  };
}

describe('judgeHold: launch', () => {
  it.each([
    ['healthy everywhere', facts('healthy', 'healthy'), T0, 'answer', 'CONTINUE'],
    ['initial in one group', facts('healthy', 'initial'), T0, 'wait', undefined],
    ['unhealthy, before the deadline', facts('unhealthy', 'healthy'), T0, 'wait', undefined],
    [
      'unhealthy at the deadline: the configured result',
      facts('unhealthy', 'healthy'),
      T0 + 600_000,
      'answer',
      'ABANDON',
    ],
    ['missing from a group: a pass must register it', facts(undefined, 'healthy'), T0, 'pass', undefined],
    [
      'draining in a group: a pass must register it again',
      facts('draining', 'healthy'),
      T0,
      'pass',
      undefined,
    ],
  ] as const)('%s', (_name, f, now, kind, result) => {
    const decision = judgeHold(hold('launch'), f, SETTINGS, now);
    expect(decision.kind).toBe(kind);
    if (decision.kind === 'answer') expect(decision.result).toBe(result);
  });

  it('stops holding a node that got a drain mark, answering CONTINUE (nothing terminated on our word)', () => {
    const marked = {
      ...facts('initial', 'initial'),
      instance: { privateIp: '10.0.0.9', drainMark: { reason: 'spot-interruption' as const } },
    };
    expect(judgeHold(hold('launch'), marked, SETTINGS, T0)).toMatchObject({
      kind: 'answer',
      result: 'CONTINUE',
      timedOut: false,
    });
  });

  it('waits for an IP rather than guessing', () => {
    const noIp: HoldFacts = { ...facts('healthy', 'healthy'), instance: { ec2State: 'pending' } };
    expect(judgeHold(hold('launch'), noIp, SETTINGS, T0).kind).toBe('wait');
  });

  it('answers at once with gate registered once present everywhere', () => {
    expect(
      judgeHold(hold('launch'), facts('initial', 'initial'), { ...SETTINGS, launchGate: 'registered' }, T0),
    ).toMatchObject({
      kind: 'answer',
      result: 'CONTINUE',
    });
  });
});

describe('judgeHold: terminate', () => {
  it.each([
    ['draining everywhere', facts('draining', 'draining'), T0, 'wait'],
    ['gone everywhere', facts(undefined, undefined), T0, 'answer'],
    ['still healthy in a group: a pass must deregister it', facts('healthy', 'draining'), T0, 'pass'],
    ['still draining at the bound', facts('draining', undefined), T0 + 600_000, 'answer'],
  ] as const)('%s', (_name, f, now, kind) => {
    expect(judgeHold(hold('terminate'), f, SETTINGS, now).kind).toBe(kind);
  });

  it('finds the ip target of an instance EC2 forgot by the IP the pass saw', () => {
    const forgotten: HoldFacts = { ...facts('draining', undefined), instance: undefined };
    expect(judgeHold(hold('terminate', { privateIp: '10.0.0.9' }), forgotten, SETTINGS, T0).kind).toBe(
      'wait',
    );
  });

  it('counts a target left on an old NodePort as draining too', () => {
    const old = facts(undefined, undefined);
    const groups = [
      { ...old.groups[0], targets: [{ id: '10.0.0.9', port: 31999, state: 'draining' as const }] },
      old.groups[1],
    ];
    expect(
      judgeHold(hold('terminate'), { ...old, groups: groups as HoldFacts['groups'] }, SETTINGS, T0).kind,
    ).toBe('wait');
  });
});

describe('judgeOpenWait (what the CLI shows)', () => {
  const base = { cluster: 'prod', action: hold('launch').action, settings: SETTINGS } as const;

  it('never times out: a launch still initial years later waits', () => {
    const f = facts('initial', 'healthy');
    const decision = judgeOpenWait({
      ...base,
      kind: 'launch',
      node: f.instance,
      groups: f.groups,
      now: T0 + 1e12,
    });
    expect(decision.kind).toBe('wait');
  });

  it('finds ip targets by the node it is given, and answers when none is draining', () => {
    const f = facts(undefined, undefined);
    const decision = judgeOpenWait({
      ...base,
      kind: 'terminate',
      node: f.instance,
      groups: f.groups,
      now: T0,
    });
    expect(decision).toMatchObject({ kind: 'answer', result: 'CONTINUE', timedOut: false });
  });

  it('waits while a target drains', () => {
    const f = facts('draining', undefined);
    const decision = judgeOpenWait({
      ...base,
      kind: 'terminate',
      node: f.instance,
      groups: f.groups,
      now: T0,
    });
    expect(decision.kind).toBe('wait');
  });
});

describe('heartbeats and delays', () => {
  it('wants a heartbeat at half the hook timeout', () => {
    expect(heartbeatDue(hold('launch'), T0 + 149_000)).toBe(false);
    expect(heartbeatDue(hold('launch'), T0 + 150_000)).toBe(true);
  });

  it('never schedules a re-check past the deadline or the next heartbeat', () => {
    expect(nextCheckDelaySeconds(hold('launch'), 15, T0)).toBe(15);
    expect(nextCheckDelaySeconds(hold('launch'), 15, T0 + 143_000)).toBe(7);
    expect(nextCheckDelaySeconds(hold('launch', { deadlineAt: T0 + 4_000 }), 15, T0)).toBe(4);
    expect(nextCheckDelaySeconds(hold('launch', { deadlineAt: T0 }), 15, T0 + 10_000)).toBe(1);
  });

  it('retries a failed check after 5, 10, 20 s, never more than the cadence', () => {
    expect([1, 2, 3, 4].map((n) => retryDelaySeconds(n, 15))).toEqual([5, 10, 15, 15]);
  });
});

describe('drain marks', () => {
  it('round-trips reason and time under the owner key', () => {
    const at = new Date('2026-12-01T04:00:00.000Z');
    const tags = { [drainMarkTagKey('acme')]: formatDrainMark('operator', at) };
    expect(drainMarkOf(tags, 'acme')).toEqual({ reason: 'operator', since: '2026-12-01T04:00:00.000Z' });
    expect(drainMarkOf(tags, 'other')).toBeUndefined();
  });

  it('treats any value under the key as a mark, never as no mark', () => {
    expect(drainMarkOf({ 'acme/drain': 'by hand' }, 'acme')).toEqual({ reason: 'unknown' });
    expect(drainMarkOf({ 'acme/drain': '' }, 'acme')).toEqual({ reason: 'unknown' });
  });
});
