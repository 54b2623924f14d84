import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { LifecycleHold } from '../../../lambdas/domain/lifecycle-hold';
import { eventRetryMessage, holdCheckMessage } from '../../../lambdas/domain/product-messages';
import { lifecycleActionEventSchema } from '../../../lambdas/events/event-schemas';
import { lifecycleActionOf } from '../../../lambdas/events/event-triggers';
import { createReconcileHandler } from '../../../lambdas/handlers/reconcile-handler';
import { MAX_EVENT_ATTEMPTS } from '../../../lambdas/sync/event-passes';
import { APP_TARGET_GROUP, eventFixture, ONE_CLUSTER_CONFIG } from '../../support/event-fixtures';
import { asgNode, FakeAws, fakeDeps } from '../../support/fake-aws';
import { sqsEventOf } from '../../support/fake-queues';

/**
 * Issue 8 item 7: no message is dropped without a log line and a metric. Every way a message of the
 * deployed handler can end without doing its work, each checked for its log line (warn or error), its
 * metric, and its line in the handler's result.
 */

/** A message on the cluster lane (FIFO, group = cluster) or the wait queue (no group). */
function sqs(body: unknown, groupId?: string, raw = false): unknown {
  return sqsEventOf({
    queue: groupId === undefined ? 'wait' : 'lane',
    body: raw ? String(body) : JSON.stringify(body),
    dueAt: 0,
    ...(groupId !== undefined && { groupId }),
  });
}

function heldLaunch(cluster: string, autoScalingGroupName = 'my-asg'): LifecycleHold {
  const action = lifecycleActionOf(lifecycleActionEventSchema.parse(eventFixture('lifecycle-launch')));
  return {
    cluster,
    action: { ...action, autoScalingGroupName },
    kind: 'launch',
    startedAt: 0,
    deadlineAt: 600_000,
    lastHeartbeatAt: 0,
    heartbeatTimeoutSeconds: 300,
    checks: 1,
    failures: 0,
  };
}

/** An EMF document as Powertools prints it (the fields these tests read). */
interface EmfDocument {
  readonly _aws: { readonly CloudWatchMetrics: readonly { readonly Dimensions: readonly string[][] }[] };
  readonly [key: string]: unknown;
}

/** Records every EMF document the metrics object publishes (it still prints nothing: metrics are disabled). */
function recordPublished(metrics: Metrics): EmfDocument[] {
  const documents: EmfDocument[] = [];
  const publish = metrics.publishStoredMetrics.bind(metrics);
  jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
    documents.push(metrics.serializeMetrics() as unknown as EmfDocument);
    return publish();
  });
  return documents;
}

type Level = 'warn' | 'error';
type ResultLine = 'rejected' | 'skipped' | 'failures';

interface Ending {
  readonly name: string;
  /** The invocation's event; `broken` makes the pass fail (the target group is gone). */
  readonly event: () => unknown;
  readonly broken?: boolean;
  readonly level: Level;
  readonly message: string | RegExp;
  readonly metric: string;
  /** Where the handler's result names it; lifecycle skips are in `lifecycle` / `holdChecks` instead. */
  readonly line?: ResultLine;
}

const ENDINGS: readonly Ending[] = [
  {
    name: 'an SQS body that is not JSON',
    event: () => sqs('{not json', 'prod', true),
    level: 'error',
    message: 'Rejected a malformed message; it is not retried',
    metric: 'EventsRejected',
    line: 'rejected',
  },
  {
    name: 'an event of a kind the handler does not accept',
    event: () => sqs({ source: 'aws.ec2', 'detail-type': 'Something Else', detail: {} }, 'prod'),
    level: 'error',
    message: 'Rejected a malformed message; it is not retried',
    metric: 'EventsRejected',
    line: 'rejected',
  },
  {
    name: 'a lane message whose group names no configured cluster',
    event: () => sqs(eventFixture('scheduled'), 'nope'),
    level: 'warn',
    message: 'Skipped event',
    metric: 'EventsSkipped',
    line: 'skipped',
  },
  {
    name: 'an ASG result for an ASG no cluster knows',
    event: () => {
      const event = eventFixture('asg-terminate-successful');
      (event.detail as Record<string, unknown>).AutoScalingGroupName = 'other';
      return sqs(event, 'prod');
    },
    level: 'warn',
    message: 'Skipped event',
    metric: 'EventsSkipped',
    line: 'skipped',
  },
  {
    name: 'a lifecycle action for an ASG no cluster knows',
    event: () => sqs(eventFixture('lifecycle-unknown-asg'), 'prod'),
    level: 'warn',
    message: 'Skipped lifecycle action',
    metric: 'EventsSkipped',
  },
  {
    name: 'a malformed lifecycle action',
    event: () => sqs(eventFixture('lifecycle-malformed'), 'prod'),
    level: 'error',
    message: 'Rejected a malformed message; it is not retried',
    metric: 'EventsRejected',
    line: 'rejected',
  },
  {
    name: 'a product message of no known kind',
    event: () => sqs({ source: 'nlb-nodeport-sync', 'detail-type': 'Something Else', detail: {} }),
    level: 'error',
    message: 'Rejected a malformed message; it is not retried',
    metric: 'EventsRejected',
    line: 'rejected',
  },
  {
    name: 'a hold re-check for a cluster removed since the action was held',
    event: () => sqs(holdCheckMessage(heldLaunch('gone'))),
    level: 'warn',
    message: 'Skipped lifecycle hold check',
    metric: 'EventsSkipped',
  },
  {
    name: 'a held action put back on the lane whose ASG no cluster knows any more',
    event: () =>
      sqs(
        eventRetryMessage({ cluster: 'gone', attempt: 1, hold: heldLaunch('gone', 'removed-asg') }),
        'gone',
      ),
    level: 'warn',
    message: 'Skipped lifecycle action',
    metric: 'EventsSkipped',
  },
  {
    name: 'a retried event on the lane of a cluster removed since',
    event: () =>
      sqs(
        eventRetryMessage({ cluster: 'gone', event: eventFixture('spot-interruption'), attempt: 1 }),
        'gone',
      ),
    level: 'warn',
    message: 'Skipped event',
    metric: 'EventsSkipped',
    line: 'skipped',
  },
  {
    name: 'a retry that carries neither its event nor a hold',
    event: () => sqs(eventRetryMessage({ cluster: 'prod', attempt: 1 }), 'prod'),
    level: 'error',
    message: 'Rejected a malformed message; it is not retried',
    metric: 'EventsRejected',
    line: 'rejected',
  },
  {
    name: 'a failed pass of an event without facts (the next trigger repairs it)',
    event: () => sqs(eventFixture('scheduled'), 'prod'),
    broken: true,
    level: 'error',
    message: 'Reconcile pass failed; the next trigger repairs it',
    metric: 'PassFailures',
    line: 'failures',
  },
  {
    name: 'a failed pass of an event with facts (retried through the wait queue)',
    event: () => sqs(eventFixture('spot-interruption'), 'prod'),
    broken: true,
    level: 'error',
    message: 'Reconcile pass failed; the event is retried with its facts',
    metric: 'PassFailures',
    line: 'failures',
  },
  {
    name: 'an event with facts whose last try fails (abandoned)',
    event: () =>
      sqs(
        eventRetryMessage({
          cluster: 'prod',
          event: eventFixture('spot-interruption'),
          attempt: MAX_EVENT_ATTEMPTS - 1,
        }),
        'prod',
      ),
    broken: true,
    level: 'error',
    message: 'Event abandoned after its last try; its facts were not applied',
    metric: 'EventsAbandoned',
    line: 'failures',
  },
];

describe('Handler: reconcile, no message dropped without a log line and a metric (issue 8 item 7)', () => {
  it.each(ENDINGS.map((e) => [e.name, e] as const))('%s', async (_name, ending) => {
    // Prepare
    const fake = new FakeAws();
    fake.addGroup('my-asg', [asgNode(1)]);
    if (ending.broken !== true)
      fake.targets.set(APP_TARGET_GROUP, [{ id: '10.0.0.11', port: 30000, state: 'healthy' }]);
    const deps = fakeDeps(fake);
    const logged = jest.spyOn(deps.logger, ending.level);
    const addMetric = jest.spyOn(deps.metrics, 'addMetric');
    const published = recordPublished(deps.metrics);
    const handler = createReconcileHandler(ONE_CLUSTER_CONFIG, deps);

    // Act
    const result = await handler(ending.event());

    // Assess
    expect(logged).toHaveBeenCalledWith(
      typeof ending.message === 'string' ? ending.message : expect.stringMatching(ending.message),
      expect.anything(),
    );
    expect(addMetric).toHaveBeenCalledWith(ending.metric, 'Count', 1);
    // Published before the invocation ends (a buffered metric is lost when the environment is frozen), under
    // the service and cluster dimensions the alarms' queries match.
    expect(deps.metrics.hasStoredMetrics()).toBe(false);
    const document = published.find((d) => ending.metric in d);
    expect(document?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'cluster']]);
    expect(document?.cluster).toEqual(expect.any(String));
    if (ending.line !== undefined) expect(result[ending.line]).toHaveLength(1);
    expect(result.passes).toEqual([]);
    expect(fake.writes).toEqual([]);
  });
});
