import { isUnknown, judgeNode, mergeNodes, type Node } from '../../../lambdas/domain/node';

const base: Node = {
  instanceId: 'i-0000000000000000a',
  privateIp: '10.0.1.10',
  availabilityZone: 'us-east-1a',
  ec2State: 'running',
  autoScalingGroupName: 'workers',
  lifecycleState: 'InService',
  healthStatus: 'Healthy',
  securityGroupIds: ['sg-1'],
  origins: ['auto-scaling-group'],
};

describe('Function: judgeNode', () => {
  it.each([
    ['InService', 'Healthy', true],
    ['Pending', 'Healthy', true],
    ['Pending:Wait', 'Healthy', true],
    ['Pending:Proceed', 'Healthy', true],
    ['InService', 'Unhealthy', false],
    ['Terminating', 'Healthy', false],
    ['Terminating:Wait', 'Healthy', false],
    ['Terminating:Proceed', 'Healthy', false],
    ['Detaching', 'Healthy', false],
    ['EnteringStandby', 'Healthy', false],
    ['Standby', 'Healthy', false],
    ['Warmed:Pending', 'Healthy', false],
    ['Warmed:Running', 'Healthy', false],
    ['Warmed:Stopped', 'Healthy', false],
  ])('judges an ASG node in %s / %s as desired=%s', (lifecycleState, healthStatus, desired) => {
    // Act
    const verdict = judgeNode({ ...base, lifecycleState, healthStatus });
    // Assess
    expect(verdict.desired).toBe(desired);
    expect(verdict.reason).toMatch(desired ? /lifecycle state/ : /lifecycle state|Unhealthy/);
  });

  it.each([
    ['running', true],
    ['pending', false],
    ['stopping', false],
    ['stopped', false],
    ['shutting-down', false],
    ['terminated', false],
  ])('judges a tag-found node in EC2 state %s as desired=%s', (ec2State, desired) => {
    // Prepare
    const node: Node = {
      instanceId: 'i-1',
      privateIp: '10.0.0.1',
      ec2State,
      securityGroupIds: [],
      origins: ['tag-filter'],
    };
    // Act & Assess
    expect(judgeNode(node).desired).toBe(desired);
  });

  it('never desires a node an event says is leaving, even when the ASG still shows it InService', () => {
    // Act
    const verdict = judgeNode(base, { leaving: [base.instanceId] });
    // Assess
    expect(verdict).toEqual({
      desired: false,
      reason: 'an event says it is leaving',
      leaving: true,
      evidence: 'event',
    });
  });

  it('desires a node an event says is launching, even before the ASG lists it', () => {
    // Prepare
    const node: Node = {
      instanceId: 'i-2',
      privateIp: '10.0.0.2',
      ec2State: 'pending',
      securityGroupIds: [],
      origins: [],
    };
    // Act & Assess
    expect(judgeNode(node, { launching: ['i-2'] }).desired).toBe(true);
  });

  it('judges a node without a private IP unknown, never leaving (issue 8: it was deregistered)', () => {
    // Prepare
    const { privateIp: _ip, ...noIp } = base;
    // Act & Assess
    expect(judgeNode(noIp)).toEqual({
      desired: false,
      reason: 'unknown: no private IP; its targets are kept',
      leaving: false,
      unknown: true,
    });
  });
});

describe('Evidence table (docs/safety.md)', () => {
  const NOW = Date.parse('2026-12-01T00:00:00Z');
  const { privateIp: _ip, ec2State: _state, ...undescribed } = base;
  const { lifecycleState: _ls, ...noLifecycle } = base;

  it.each([
    [
      'an InService node missing from DescribeInstances',
      undescribed as Node,
      /not in the DescribeInstances answer/,
    ],
    ['an InService node without LifecycleState', noLifecycle as Node, /no lifecycle state/],
    ['an InService node without private IP', { ...base, privateIp: undefined } as Node, /no private IP/],
  ])('judges %s unknown: neither desired nor leaving', (_name, node, reason) => {
    // Act
    const verdict = judgeNode(node);
    // Assess
    expect(isUnknown(verdict)).toBe(true);
    expect(verdict.desired).toBe(false);
    expect(verdict.reason).toMatch(reason);
  });

  it('lets a stale EC2 stopping event lose to the current answer: the instance runs (it was deregistered)', () => {
    // Act
    const verdict = judgeNode(base, { leaving: [base.instanceId], eventTime: NOW - 60_000 }, NOW);
    // Assess
    expect(verdict).toEqual({ desired: true, reason: 'lifecycle state InService' });
  });

  it('lets an event win when it is not older than the describe answer, or the answer is silent', () => {
    // Act & Assess
    const hint = { leaving: [base.instanceId] };
    expect(judgeNode(base, { ...hint, eventTime: NOW }, NOW)).toMatchObject({
      leaving: true,
      evidence: 'event',
    });
    expect(judgeNode(base, hint, NOW)).toMatchObject({ leaving: true, evidence: 'event' });
    const onlyNamed: Node = {
      ...base,
      origins: [],
      autoScalingGroupName: undefined,
      lifecycleState: undefined,
    };
    expect(judgeNode(onlyNamed, { ...hint, eventTime: NOW - 60_000 }, NOW)).toMatchObject({
      leaving: true,
      evidence: 'event',
    });
  });

  it('keeps a drain mark and a held terminate (Terminating:Wait) strong, whatever an event says', () => {
    // Act & Assess
    const marked = { ...base, drainMark: { reason: 'operator' as const } };
    expect(judgeNode(marked, { launching: [base.instanceId] })).toMatchObject({
      leaving: true,
      evidence: 'mark',
    });
    expect(judgeNode({ ...base, lifecycleState: 'Terminating:Wait' })).toMatchObject({
      leaving: true,
      evidence: 'describe',
    });
    expect(judgeNode({ ...base, ec2State: 'stopping' }, {}, NOW)).toMatchObject({
      leaving: true,
      evidence: 'describe',
    });
  });

  it('never desires a running instance discovery did not list (only an event named it)', () => {
    // Prepare
    const named: Node = {
      instanceId: 'i-9',
      privateIp: '10.0.0.9',
      ec2State: 'running',
      securityGroupIds: [],
      origins: [],
    };
    // Act & Assess
    expect(judgeNode(named).desired).toBe(false);
  });
});

describe('Function: mergeNodes', () => {
  it('keeps the ASG facts and unites origins when a node is found twice', () => {
    // Prepare
    const tagged: Node = {
      instanceId: base.instanceId,
      privateIp: '10.0.1.10',
      ec2State: 'running',
      securityGroupIds: ['sg-1'],
      origins: ['tag-filter'],
    };
    // Act
    const merged = mergeNodes([tagged], [base]);
    // Assess
    expect(merged).toHaveLength(1);
    expect(merged[0]?.lifecycleState).toBe('InService');
    expect(merged[0]?.origins).toEqual(['tag-filter', 'auto-scaling-group']);
  });
});
