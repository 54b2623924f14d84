import { createLifecycleHandler } from '../../../lambdas/handlers/lifecycle-handler';
import { createReconcileHandler } from '../../../lambdas/handlers/reconcile-handler';
import { APP_TARGET_GROUP, eventFixture, ONE_CLUSTER_CONFIG } from '../../support/event-fixtures';
import { asgNode, FakeAws, fakeDeps } from '../../support/fake-aws';

/** The instance the AWS sample events name. */
const EVENT_INSTANCE = 'i-1234567890abcdef0';

function world() {
  const fake = new FakeAws();
  const existing = asgNode(1);
  const launching = {
    ...asgNode(2),
    instanceId: EVENT_INSTANCE,
    privateIp: '10.0.0.99',
    lifecycleState: 'Pending:Wait',
  };
  fake.addGroup('my-asg', [existing, launching]);
  fake.targets.set(APP_TARGET_GROUP, [{ id: existing.privateIp ?? '', port: 30000, state: 'healthy' }]);
  return { fake, deps: fakeDeps(fake), existing, launching };
}

/** Lets the delayed re-checks come due (one cadence) and delivers them to the pass handler. */
async function settle(deps: ReturnType<typeof fakeDeps>, seconds = 15): Promise<void> {
  const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
  deps.clock.advance(seconds);
  await deps.holds.deliverDue(handler);
}

describe('Handler: lifecycle', () => {
  it('registers a launching instance, holds it, and answers CONTINUE once its target is healthy', async () => {
    // Prepare
    const { fake, deps } = world();
    const handler = createLifecycleHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    const [outcome] = await handler(eventFixture('lifecycle-launch'));
    const afterPass = [...fake.writes];
    await settle(deps);
    // Assess
    expect(outcome?.status).toBe('held');
    expect(afterPass).toEqual([`register ${APP_TARGET_GROUP} 10.0.0.99:30000`]);
    expect(fake.writes).toEqual([
      `register ${APP_TARGET_GROUP} 10.0.0.99:30000`,
      `complete ${EVENT_INSTANCE} CONTINUE`,
    ]);
  });

  it('deregisters a terminating instance before answering CONTINUE, even if the ASG still shows it InService', async () => {
    // Prepare
    const { fake, deps } = world();
    fake.addGroup('my-asg', [
      asgNode(1),
      { ...asgNode(2), instanceId: EVENT_INSTANCE, privateIp: '10.0.0.99' },
    ]);
    fake.targets.set(APP_TARGET_GROUP, [
      { id: '10.0.0.11', port: 30000, state: 'healthy' },
      { id: '10.0.0.99', port: 30000, state: 'healthy' },
    ]);
    const handler = createLifecycleHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    await handler(eventFixture('lifecycle-terminate'));
    await settle(deps);
    // Assess: marked, deregistered, and answered once the target is gone (this fake drains at once)
    expect(fake.writes).toEqual([
      `tag ${EVENT_INSTANCE} nlb-nodeport-sync/drain`,
      `deregister ${APP_TARGET_GROUP} 10.0.0.99:30000`,
      `complete ${EVENT_INSTANCE} CONTINUE`,
    ]);
  });

  it('never registers an instance headed into a warm pool, and still answers CONTINUE', async () => {
    // Prepare: as on AWS, a warm-pool instance is not in the group's instance list; EC2 knows it, running
    const { fake, deps } = world();
    fake.addGroup('my-asg', [asgNode(1)]);
    fake.instances.set(EVENT_INSTANCE, { ...asgNode(2), instanceId: EVENT_INSTANCE, privateIp: '10.0.0.99' });
    const handler = createLifecycleHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    await handler(eventFixture('lifecycle-launch-to-warm-pool'));
    // Assess
    expect(fake.writes).toEqual([`complete ${EVENT_INSTANCE} CONTINUE`]);
  });

  it('rejects a malformed event with a named error and makes no call', async () => {
    // Prepare
    const { fake, deps } = world();
    const handler = createLifecycleHandler(ONE_CLUSTER_CONFIG, deps);
    // Act & Assess
    await expect(handler(eventFixture('lifecycle-malformed'))).rejects.toMatchObject({
      name: 'MalformedEventError',
      message: expect.stringContaining('detail.LifecycleActionToken'),
    });
    expect(fake.writes).toEqual([]);
  });

  it('skips, with a logged reason, an ASG no cluster knows and makes no write call', async () => {
    // Prepare
    const { fake, deps } = world();
    const warn = jest.spyOn(deps.logger, 'warn');
    const handler = createLifecycleHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    const [outcome] = await handler(eventFixture('lifecycle-unknown-asg'));
    // Assess
    expect(outcome).toEqual({
      status: 'skipped',
      reason: 'no configured cluster has Auto Scaling group "someone-elses-asg"',
    });
    expect(warn).toHaveBeenCalledWith(
      'Skipped lifecycle action',
      expect.objectContaining({ reason: expect.stringContaining('someone-elses-asg') }),
    );
    expect(fake.writes).toEqual([]);
  });

  it('leaves the action unanswered when the pass fails, and re-checks it within seconds', async () => {
    // Prepare
    const { fake, deps } = world();
    fake.targets.delete(APP_TARGET_GROUP);
    const handler = createLifecycleHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    const [outcome] = await handler(eventFixture('lifecycle-launch'));
    // Assess
    expect(outcome).toMatchObject({ status: 'held', delaySeconds: 5, passError: expect.any(String) });
    expect(fake.writes).toEqual([]);
    expect(deps.holds.pendingHolds()).toHaveLength(1);
  });

  it('accepts the event wrapped in an SQS record, as the deployed FIFO queue delivers it', async () => {
    // Prepare
    const { fake, deps } = world();
    const handler = createLifecycleHandler(ONE_CLUSTER_CONFIG, deps);
    const sqs = {
      Records: [
        {
          messageId: '059f36b4-87a3-44ab-83d2-661975830a7d',
          receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a',
          body: JSON.stringify(eventFixture('lifecycle-launch')),
          attributes: {
            ApproximateReceiveCount: '1',
            SentTimestamp: '1545082649183',
            SenderId: 'AIDAIENQZJOLO23YVJ4VO',
            ApproximateFirstReceiveTimestamp: '1545082649185',
            MessageGroupId: 'prod',
            MessageDeduplicationId: '12345678-1234-1234-1234-123456789012',
            SequenceNumber: '18849496460467696128',
          },
          messageAttributes: {},
          md5OfBody: '098f6bcd4621d373cade4e832627b4f6',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:us-east-2:123456789012:my-queue.fifo',
          awsRegion: 'us-east-2',
        },
      ],
    };
    // Act
    await handler(sqs);
    await settle(deps);
    // Assess
    expect(fake.writes).toEqual([
      `register ${APP_TARGET_GROUP} 10.0.0.99:30000`,
      `complete ${EVENT_INSTANCE} CONTINUE`,
    ]);
  });
});

describe('Handler: reconcile', () => {
  it('runs a full pass of every cluster on the schedule', async () => {
    // Prepare
    const { fake, deps } = world();
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    const result = await handler(eventFixture('scheduled'));
    // Assess
    expect(result.passes.map((p) => p.cluster)).toEqual(['prod']);
    expect(fake.writes).toEqual([`register ${APP_TARGET_GROUP} 10.0.0.99:30000`]);
  });

  it('treats an ASG terminate-successful event as evidence the instance is leaving, once the ASG dropped it', async () => {
    // Prepare: the ASG no longer lists the instance; EC2 still describes it (its IP names the target)
    const { fake, deps, existing, launching } = world();
    fake.addGroup('my-asg', [existing]);
    fake.instances.set(launching.instanceId, launching);
    fake.targets.set(APP_TARGET_GROUP, [
      { id: '10.0.0.11', port: 30000, state: 'healthy' },
      { id: '10.0.0.99', port: 30000, state: 'healthy' },
    ]);
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    await handler(eventFixture('asg-terminate-successful'));
    // Assess
    expect(fake.writes).toEqual([`deregister ${APP_TARGET_GROUP} 10.0.0.99:30000`]);
  });

  it('lets a stale ASG terminate-successful event lose to the current describe answer (issue 8)', async () => {
    // Prepare: the event is from 2015; today the ASG and EC2 show the instance in service and running
    const { fake, deps } = world();
    fake.addGroup('my-asg', [
      asgNode(1),
      { ...asgNode(2), instanceId: EVENT_INSTANCE, privateIp: '10.0.0.99' },
    ]);
    fake.targets.set(APP_TARGET_GROUP, [
      { id: '10.0.0.11', port: 30000, state: 'healthy' },
      { id: '10.0.0.99', port: 30000, state: 'healthy' },
    ]);
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    await handler(eventFixture('asg-terminate-successful'));
    // Assess
    expect(fake.writes).toEqual([]);
  });

  it('checks a stale EC2 stopping event against the instance: a running node keeps its target (issue 8)', async () => {
    // Prepare
    const { fake, deps } = world();
    const node = { ...asgNode(2), instanceId: 'i-0abcd1111abcd1111', privateIp: '10.0.0.55' };
    fake.addGroup('my-asg', [asgNode(1), node]);
    fake.targets.set(APP_TARGET_GROUP, [
      { id: '10.0.0.11', port: 30000, state: 'healthy' },
      { id: '10.0.0.55', port: 30000, state: 'healthy' },
    ]);
    const event = eventFixture('ec2-state-change-terminated');
    event.detail = { 'instance-id': node.instanceId, state: 'stopping' };
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    await handler(event);
    // Assess
    expect(fake.writes).toEqual([]);
  });

  it('deregisters a spot instance on its interruption warning', async () => {
    // Prepare
    const { fake, deps } = world();
    const spot = { ...asgNode(3), instanceId: 'i-0b662ef9931388ba0', privateIp: '10.0.0.77' };
    fake.addGroup('my-asg', [asgNode(1), spot]);
    fake.targets.set(APP_TARGET_GROUP, [
      { id: '10.0.0.11', port: 30000, state: 'healthy' },
      { id: '10.0.0.77', port: 30000, state: 'healthy' },
    ]);
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    await handler(eventFixture('spot-interruption'));
    // Assess: a persisted mark first, so no later pass brings it back
    expect(fake.writes).toEqual([
      `tag i-0b662ef9931388ba0 nlb-nodeport-sync/drain`,
      `deregister ${APP_TARGET_GROUP} 10.0.0.77:30000`,
    ]);
  });

  it('rejects an event it does not accept, before any AWS call, logged and counted, not retried', async () => {
    // Prepare
    const { fake, deps } = world();
    const error = jest.spyOn(deps.logger, 'error');
    const addMetric = jest.spyOn(deps.metrics, 'addMetric');
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    const result = await handler({ source: 'aws.ec2', 'detail-type': 'Something Else' });
    // Assess
    expect(result.rejected).toHaveLength(1);
    expect(error).toHaveBeenCalledWith(
      'Rejected a malformed message; it is not retried',
      expect.objectContaining({ body: expect.stringContaining('Something Else') }),
    );
    expect(addMetric).toHaveBeenCalledWith('EventsRejected', 'Count', 1);
    expect(fake.writes).toEqual([]);
    expect(deps.holds.sent).toEqual([]);
  });

  it('registers despite a refusal: a stranger target waits, the new node is registered (issue 8)', async () => {
    // Prepare: a hand-made healthy target no node explains; the launching node is not registered yet
    const { fake, deps } = world();
    fake.targets.set(APP_TARGET_GROUP, [
      { id: '10.0.0.11', port: 30000, state: 'healthy' },
      { id: '10.9.9.8', port: 30000, state: 'healthy' },
      { id: '10.9.9.9', port: 30000, state: 'healthy' },
    ]);
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    const result = await handler(eventFixture('scheduled'));
    // Assess
    expect(result.failures).toEqual([expect.stringContaining('GuardRefusalError')]);
    expect(fake.writes).toEqual([`register ${APP_TARGET_GROUP} 10.0.0.99:30000`]);
  });

  it('reports a guard refusal loudly (log, metrics) without failing the invocation or holding the lane', async () => {
    // Prepare: the ASG says 3 nodes are wanted but lists only one; 3 healthy targets would go
    const { fake, deps } = world();
    fake.addGroup('my-asg', [asgNode(1)], 4);
    fake.targets.set(
      APP_TARGET_GROUP,
      ['10.0.0.11', '10.0.0.21', '10.0.0.22', '10.0.0.23'].map((id) => ({
        id,
        port: 30000,
        state: 'healthy' as const,
      })),
    );
    const addMetric = jest.spyOn(deps.metrics, 'addMetric');
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    const result = await handler(eventFixture('scheduled'));
    // Assess
    expect(result.failures).toEqual([expect.stringContaining('GuardRefusalError')]);
    expect(fake.writes).toEqual([]);
    expect(addMetric).toHaveBeenCalledWith('GuardRefusals', 'Count', 1);
    expect(addMetric).toHaveBeenCalledWith('PassFailures', 'Count', 1);
  });

  it('skips an ASG result event for an ASG no cluster knows', async () => {
    // Prepare
    const { fake, deps } = world();
    const event = eventFixture('asg-terminate-successful');
    (event.detail as Record<string, unknown>).AutoScalingGroupName = 'other';
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    const result = await handler(event);
    // Assess
    expect(result.skipped).toEqual(['no configured cluster has Auto Scaling group "other"']);
    expect(fake.writes).toEqual([]);
  });
});

describe('Handler: reconcile, as the one consumer of a cluster lane', () => {
  it('answers a lifecycle action after its pass, like the lifecycle handler', async () => {
    // Prepare
    const { fake, deps } = world();
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    const result = await handler(eventFixture('lifecycle-launch'));
    await settle(deps);
    // Assess
    expect(result.lifecycle.map((o) => o.status)).toEqual(['held']);
    expect(fake.writes).toEqual([
      `register ${APP_TARGET_GROUP} 10.0.0.99:30000`,
      `complete ${EVENT_INSTANCE} CONTINUE`,
    ]);
  });

  it('rejects a malformed lifecycle action, naming the fields, with no call and no retry', async () => {
    // Prepare
    const { fake, deps } = world();
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    const result = await handler(eventFixture('lifecycle-malformed'));
    // Assess
    expect(result.rejected).toEqual([expect.stringContaining('detail.LifecycleActionToken')]);
    expect(fake.writes).toEqual([]);
  });
});

describe('Handler: lifecycle, ownership of hooks', () => {
  it('leaves another tool’s hook on a configured ASG to its owner, with no call', async () => {
    // Prepare
    const { fake, deps } = world();
    const event = eventFixture('lifecycle-launch');
    (event.detail as Record<string, unknown>).LifecycleHookName = 'node-drainer-launch';
    const handler = createLifecycleHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    const [outcome] = await handler(event);
    // Assess
    expect(outcome?.status).toBe('skipped');
    expect(outcome).toMatchObject({
      reason: expect.stringContaining('"node-drainer-launch" is not this deployment'),
    });
    expect(fake.writes).toEqual([]);
  });

  it('answers the lifecycle action even when a later step of the pass fails: the targets decide', async () => {
    // Prepare
    const { fake, deps } = world();
    const failing = {
      ...deps,
      extraSteps: [{ name: 'dns', run: () => Promise.reject(new Error('Route 53 said no')) }],
    };
    const handler = createLifecycleHandler(ONE_CLUSTER_CONFIG, failing);
    // Act
    const [outcome] = await handler(eventFixture('lifecycle-launch'));
    await settle(failing, 5);
    // Assess
    expect(outcome).toMatchObject({ status: 'held', passError: expect.any(String) });
    expect(fake.writes).toEqual([
      `register ${APP_TARGET_GROUP} 10.0.0.99:30000`,
      `complete ${EVENT_INSTANCE} CONTINUE`,
    ]);
  });
});

describe('Handler: reconcile, ASG results', () => {
  it('does not treat a failed termination as evidence that the node is leaving', async () => {
    // Prepare
    const { fake, deps } = world();
    fake.addGroup('my-asg', [
      asgNode(1),
      { ...asgNode(2), instanceId: EVENT_INSTANCE, privateIp: '10.0.0.99' },
    ]);
    fake.targets.set(APP_TARGET_GROUP, [
      { id: '10.0.0.11', port: 30000, state: 'healthy' },
      { id: '10.0.0.99', port: 30000, state: 'healthy' },
    ]);
    const event = eventFixture('asg-terminate-successful');
    event['detail-type'] = 'EC2 Instance Terminate Unsuccessful';
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);
    // Act
    await handler(event);
    // Assess
    expect(fake.writes).toEqual([]);
  });
});
