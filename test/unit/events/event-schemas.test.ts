import { parseSyncConfig } from '../../../lambdas/domain/config';
import {
  describeIssues,
  lifecycleActionEventSchema,
  reconcileEventSchema,
} from '../../../lambdas/events/event-schemas';
import { triggerForEvent } from '../../../lambdas/events/event-triggers';
import { eventFixture } from '../../support/event-fixtures';

/** What validating an event as the pass handler does says: `ok`, or the failing fields. */
function verdict(body: unknown): string {
  const parsed = reconcileEventSchema.safeParse(body);
  return parsed.success ? 'ok' : describeIssues(parsed.error);
}

const config = parseSyncConfig({
  clusters: [
    {
      name: 'prod',
      nodeSource: { autoScalingGroups: ['my-asg'] },
      portMappings: [
        {
          name: 'app',
          targetGroupArn:
            'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/0123456789abcdef',
          nodePort: 30000,
        },
      ],
    },
  ],
});

describe('Event validation: AWS documented samples', () => {
  it.each([
    ['EC2 state change without `version` (EC2 user guide)', 'ec2-state-change-docs-sample'],
    ['spot warning with placeholder `time` and `instance-action`', 'spot-interruption-docs-sample'],
    ['rebalance recommendation with placeholder `time`', 'rebalance-recommendation-docs-sample'],
    ['ASG launch successful (Auto Scaling user guide)', 'asg-launch-successful-docs-sample'],
    ['ASG terminate successful', 'asg-terminate-successful'],
    ['scheduled event', 'scheduled'],
  ])('accepts the %s', (_label, name) => {
    // Act & Assess
    expect(verdict(eventFixture(name))).toBe('ok');
  });

  it('accepts a lifecycle action without `version`, `id`, `account`, `region`, `resources` and with a placeholder `time`', () => {
    // Prepare: the product reads none of those envelope fields
    const event: Record<string, unknown> = {
      ...eventFixture('lifecycle-launch'),
      time: 'yyyy-mm-ddThh:mm:ssZ',
    };
    for (const unread of ['version', 'id', 'account', 'region', 'resources']) delete event[unread];
    // Act
    const parsed = lifecycleActionEventSchema.safeParse(event);
    // Assess
    expect(parsed.success).toBe(true);
    expect(parsed.data?.detail.EC2InstanceId).toBe('i-1234567890abcdef0');
  });

  it('takes a placeholder `time` as no event time, and a real one as the event time', () => {
    // Prepare
    const placeholder = reconcileEventSchema.parse(eventFixture('spot-interruption-docs-sample'));
    const real = reconcileEventSchema.parse({
      ...eventFixture('spot-interruption-docs-sample'),
      time: '2026-01-01T00:00:00Z',
    });
    // Act
    const withoutTime = triggerForEvent(config, placeholder);
    const withTime = triggerForEvent(config, real);
    // Assess: still a leaving node with a mark; only the event time differs
    expect(withoutTime).toMatchObject({
      kind: 'passes',
      hints: { leaving: ['i-1234567890abcdef0'] },
      marks: [{ instanceId: 'i-1234567890abcdef0', reason: 'spot-interruption' }],
    });
    expect(withoutTime.kind === 'passes' && withoutTime.hints.eventTime).toBeUndefined();
    expect(withTime.kind === 'passes' && withTime.hints.eventTime).toBe(Date.parse('2026-01-01T00:00:00Z'));
  });
});

describe('Event validation: a malformed event names the field of the shape it claims to be', () => {
  it('names detail.instance-id of a spot warning without it', () => {
    // Act & Assess
    expect(verdict(eventFixture('spot-interruption-malformed'))).toBe('detail.instance-id: Required');
  });

  it.each([
    [
      'an EC2 state change with an unknown state',
      {
        ...eventFixture('ec2-state-change-docs-sample'),
        detail: { 'instance-id': 'i-abcd1111', state: 'melting' },
      },
      /^detail\.state: /,
    ],
    [
      'an EC2 state change whose instance id is no instance id',
      {
        ...eventFixture('ec2-state-change-docs-sample'),
        detail: { 'instance-id': 'vol-1', state: 'running' },
      },
      /^detail\.instance-id: must be an EC2 instance id$/,
    ],
    [
      'an ASG result without its group',
      {
        ...eventFixture('asg-launch-successful-docs-sample'),
        detail: { EC2InstanceId: 'i-1234567890abcdef0' },
      },
      /^detail\.AutoScalingGroupName: Required$/,
    ],
    [
      'a spot warning without detail',
      { ...eventFixture('spot-interruption-docs-sample'), detail: undefined },
      /^detail: Required$/,
    ],
    [
      'a known detail-type from another source',
      { ...eventFixture('spot-interruption-docs-sample'), source: 'aws.autoscaling' },
      /^source: /,
    ],
    [
      'a detail-type the product does not consume',
      { ...eventFixture('spot-interruption-docs-sample'), 'detail-type': 'EC2 Instance Something Else' },
      /^detail-type: /,
    ],
    ['something that is not an event', 'hello', /^\(root\): /],
  ])('names the field of %s', (_label, body, expected) => {
    // Act & Assess
    expect(verdict(body)).toMatch(expected);
  });

  it('names the unknown detail-type and source in the message', () => {
    // Act
    const text = verdict({ source: 'aws.ec2', 'detail-type': 'Something Else', detail: {} });
    // Assess
    expect(text).toContain('"Something Else"');
    expect(text).toContain('aws.ec2');
  });

  it('names detail.LifecycleActionToken of a lifecycle action without it', () => {
    // Act
    const parsed = lifecycleActionEventSchema.safeParse(eventFixture('lifecycle-malformed'));
    // Assess
    expect(parsed.success).toBe(false);
    expect(parsed.error && describeIssues(parsed.error)).toContain('detail.LifecycleActionToken: Required');
    expect(parsed.error && describeIssues(parsed.error)).toContain(
      'detail.EC2InstanceId: must be an EC2 instance id',
    );
  });
});
