import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSyncConfig } from '../../../lambdas/domain/config';
import { METRICS } from '../../../lambdas/domain/metric-names';
import { createReconcileHandler } from '../../../lambdas/handlers/reconcile-handler';
import { asgNode, FakeAws, fakeDeps } from '../../support/fake-aws';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/0123456789abcdef';
const config = parseSyncConfig({
  clusters: [
    {
      name: 'prod',
      nodeSource: { autoScalingGroups: ['my-asg'] },
      portMappings: [{ name: 'app', targetGroupArn: TG, nodePort: 30000 }],
    },
  ],
});

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(__dirname, '../../events', `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
}

function world() {
  const fake = new FakeAws();
  const node = asgNode(1);
  fake.addGroup('my-asg', [node]);
  fake.targets.set(TG, [{ id: node.privateIp ?? '', port: 30000, state: 'healthy' }]);
  const deps = fakeDeps(fake);
  return {
    fake,
    deps,
    error: jest.spyOn(deps.logger, 'error'),
    addMetric: jest.spyOn(deps.metrics, 'addMetric'),
  };
}

/** An SQS batch of one lane message, as the deployed FIFO lane delivers it. */
function laneRecord(body: unknown) {
  return {
    Records: [
      {
        messageId: 'm-1',
        body: JSON.stringify(body),
        attributes: { MessageGroupId: 'prod' },
        eventSource: 'aws:sqs',
      },
    ],
  };
}

describe('Handler: a malformed event is rejected with its field named, logged and counted', () => {
  it.each([
    ['directly', (body: unknown) => body],
    ['through the lane', laneRecord],
  ])('rejects a spot warning without instance-id (%s), naming detail.instance-id, with no write', async (_how, wrap) => {
    // Prepare
    const { fake, deps, error, addMetric } = world();
    const handler = createReconcileHandler(config, deps);
    // Act
    const result = await handler(wrap(fixture('spot-interruption-malformed')));
    // Assess
    expect(result.rejected).toEqual([expect.stringContaining('detail.instance-id: Required')]);
    expect(error).toHaveBeenCalledWith(
      'Rejected a malformed message; it is not retried',
      expect.objectContaining({ reason: expect.stringContaining('detail.instance-id') }),
    );
    expect(addMetric).toHaveBeenCalledWith(METRICS.eventsRejected, 'Count', 1);
    expect(fake.writes).toEqual([]);
    expect(result.passes).toEqual([]);
  });

  it('runs a pass for AWS documented samples it used to reject (no version, placeholder time)', async () => {
    // Prepare
    const { deps, error } = world();
    const handler = createReconcileHandler(config, deps);
    // Act
    const results = [
      await handler(fixture('ec2-state-change-docs-sample')),
      await handler(fixture('rebalance-recommendation-docs-sample')),
    ];
    // Assess
    expect(results.map((r) => r.rejected)).toEqual([[], []]);
    expect(results.map((r) => r.passes.length)).toEqual([1, 1]);
    expect(error).not.toHaveBeenCalled();
  });

  it('rejects an SQS record whose body is not a string, naming the field, logged and counted', async () => {
    // Prepare
    const { deps, addMetric } = world();
    const handler = createReconcileHandler(config, deps);
    // Act
    const result = await handler({ Records: [{ messageId: 'm-1', body: 42, eventSource: 'aws:sqs' }] });
    // Assess
    expect(result.rejected).toEqual([expect.stringContaining('Records.0.body')]);
    expect(addMetric).toHaveBeenCalledWith(METRICS.eventsRejected, 'Count', 1);
  });
});
