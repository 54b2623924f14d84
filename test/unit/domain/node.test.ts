import { judgeNode, mergeNodes, type Node } from '../../../lambdas/domain/node';

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
    expect(verdict).toEqual({ desired: false, reason: 'an event says it is leaving', leaving: true });
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

  it('does not desire a node without a private IP', () => {
    // Prepare
    const { privateIp: _ip, ...noIp } = base;
    // Act & Assess
    expect(judgeNode(noIp)).toEqual({ desired: false, reason: 'no private IP yet', leaving: false });
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
