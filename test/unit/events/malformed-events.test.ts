import { METRICS } from '../../../lambdas/domain/metric-names';
import { createReconcileHandler } from '../../../lambdas/handlers/reconcile-handler';
import { APP_TARGET_GROUP, eventFixture, ONE_CLUSTER_CONFIG } from '../../support/event-fixtures';
import { asgNode, FakeAws, fakeDeps } from '../../support/fake-aws';

function world() {
  const fake = new FakeAws();
  const node = asgNode(1);
  fake.addGroup('my-asg', [node]);
  fake.targets.set(APP_TARGET_GROUP, [{ id: node.privateIp ?? '', port: 30000, state: 'healthy' }]);
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
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    const result = await handler(wrap(eventFixture('spot-interruption-malformed')));
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
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    const results = [
      await handler(eventFixture('ec2-state-change-docs-sample')),
      await handler(eventFixture('rebalance-recommendation-docs-sample')),
    ];
    // Assess
    expect(results.map((r) => r.rejected)).toEqual([[], []]);
    expect(results.map((r) => r.passes.length)).toEqual([1, 1]);
    expect(error).not.toHaveBeenCalled();
  });

  it('rejects an SQS record whose body is not a string, naming the field, logged and counted', async () => {
    // Prepare
    const { deps, addMetric } = world();
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    const result = await handler({ Records: [{ messageId: 'm-1', body: 42, eventSource: 'aws:sqs' }] });
    // Assess
    expect(result.rejected).toEqual([expect.stringContaining('Records.0.body')]);
    expect(addMetric).toHaveBeenCalledWith(METRICS.eventsRejected, 'Count', 1);
  });
});
