import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { WAIT_QUEUE_DEFAULTS } from '../constants';

/**
 * Where held lifecycle actions wait: the pass function sends itself a message with `DelaySeconds`
 * (0-900) and consumes it again when the delay ends, so waiting costs no running Lambda. A standard
 * queue (FIFO queues have no per-message delay); re-checks that need a pass go back through the lane.
 * Only the function's own role sends here, so there is no queue policy beyond refusing non-TLS access.
 */
export class WaitQueue extends Construct {
  /** The queue of delayed re-checks. */
  public readonly queue: Queue;
  /** Re-checks that failed `maxReceiveCount` times. */
  public readonly deadLetterQueue: Queue;

  public constructor(scope: Construct, id: string) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(WAIT_QUEUE_DEFAULTS.dlqRetentionDays),
    });
    this.queue = new Queue(this, 'Queue', {
      visibilityTimeout: Duration.seconds(WAIT_QUEUE_DEFAULTS.visibilityTimeoutSeconds),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: WAIT_QUEUE_DEFAULTS.maxReceiveCount },
    });
  }
}
