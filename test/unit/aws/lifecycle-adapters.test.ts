import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DescribeTargetGroupAttributesCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { Ec2InstanceAdapter } from '../../../lambdas/aws/ec2-instance-adapter';
import { QueueAdapter } from '../../../lambdas/aws/queue-adapter';
import { TargetGroupAdapter } from '../../../lambdas/aws/target-group-adapter';
import type { LifecycleHold } from '../../../lambdas/domain/lifecycle-hold';

/*
 * The adapters the graceful lifecycle added: exact requests and error paths against aws-sdk-client-mock.
 */

const ec2Client = new EC2Client({ region: 'eu-west-1' });
const ec2 = mockClient(ec2Client);
const elbClient = new ElasticLoadBalancingV2Client({ region: 'eu-west-1' });
const elb = mockClient(elbClient);
const sqsClient = new SQSClient({ region: 'eu-west-1' });
const sqs = mockClient(sqsClient);
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/a/0123456789abcdef';

const HOLD: LifecycleHold = {
  cluster: 'prod',
  action: {
    autoScalingGroupName: 'asg',
    lifecycleHookName: 'nlb-nodeport-sync-prod-launch',
    instanceId: 'i-0123456789abcdef0',
    lifecycleActionToken: 'tok',
    transition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
  },
  kind: 'launch',
  startedAt: 1,
  deadlineAt: 2,
  lastHeartbeatAt: 1,
  heartbeatTimeoutSeconds: 300,
  checks: 3,
  failures: 0,
};

beforeEach(() => {
  ec2.reset();
  elb.reset();
  sqs.reset();
});

describe('Ec2InstanceAdapter: drain marks', () => {
  it('sets exactly one tag on exactly one instance', async () => {
    ec2.on(CreateTagsCommand).resolves({});
    const outcome = await new Ec2InstanceAdapter(ec2Client).tagInstance('i-1', 'o/drain', 'operator t');
    expect(outcome).toBe('done');
    expect(ec2).toHaveReceivedCommandWith(CreateTagsCommand, {
      Resources: ['i-1'],
      Tags: [{ Key: 'o/drain', Value: 'operator t' }],
    });
  });

  it('removes the tag by key only, and reports an instance EC2 forgot as not-found', async () => {
    ec2
      .on(DeleteTagsCommand)
      .rejects(Object.assign(new Error('gone'), { name: 'InvalidInstanceID.NotFound' }));
    const outcome = await new Ec2InstanceAdapter(ec2Client).untagInstance('i-1', 'o/drain');
    expect(outcome).toBe('not-found');
    expect(ec2).toHaveReceivedCommandWith(DeleteTagsCommand, {
      Resources: ['i-1'],
      Tags: [{ Key: 'o/drain' }],
    });
  });

  it('propagates any other error (AccessDenied is not "gone")', async () => {
    ec2.on(CreateTagsCommand).rejects(Object.assign(new Error('no'), { name: 'UnauthorizedOperation' }));
    await expect(new Ec2InstanceAdapter(ec2Client).tagInstance('i-1', 'k', 'v')).rejects.toMatchObject({
      name: 'UnauthorizedOperation',
    });
  });

  it('returns the instance tags with the node, so a pass reads marks without another call', async () => {
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [{ InstanceId: 'i-1', Tags: [{ Key: 'o/drain', Value: 'operator x' }] }] }],
    });
    const [node] = await new Ec2InstanceAdapter(ec2Client).describeInstancesById(['i-1']);
    expect(node?.tags).toEqual({ 'o/drain': 'operator x' });
  });
});

describe('TargetGroupAdapter: describeDrainSettings', () => {
  it('reads the delay and connection termination from the group', async () => {
    elb.on(DescribeTargetGroupAttributesCommand, { TargetGroupArn: TG }).resolves({
      Attributes: [
        { Key: 'deregistration_delay.timeout_seconds', Value: '45' },
        { Key: 'deregistration_delay.connection_termination.enabled', Value: 'true' },
      ],
    });
    await expect(new TargetGroupAdapter(elbClient).describeDrainSettings(TG)).resolves.toEqual({
      deregistrationDelaySeconds: 45,
      connectionTermination: true,
    });
  });

  it("uses AWS's documented defaults for absent attributes", async () => {
    elb.on(DescribeTargetGroupAttributesCommand).resolves({ Attributes: [] });
    await expect(new TargetGroupAdapter(elbClient).describeDrainSettings(TG)).resolves.toEqual({
      deregistrationDelaySeconds: 300,
      connectionTermination: false,
    });
  });

  it('names a missing target group', async () => {
    elb
      .on(DescribeTargetGroupAttributesCommand)
      .rejects(Object.assign(new Error('x'), { name: 'TargetGroupNotFoundException' }));
    await expect(new TargetGroupAdapter(elbClient).describeDrainSettings(TG)).rejects.toMatchObject({
      name: 'MissingResourceError',
    });
  });
});

describe('QueueAdapter', () => {
  it('sends a hold re-check to the wait queue with its delay, the hold as the body', async () => {
    sqs.on(SendMessageCommand).resolves({});
    await new QueueAdapter({ waitQueueUrl: 'https://wait' }, sqsClient).scheduleCheck(HOLD, 15);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: 'https://wait', DelaySeconds: 15 });
    const body = JSON.parse(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody ?? '{}');
    expect(body).toEqual({
      source: 'nlb-nodeport-sync',
      'detail-type': 'Lifecycle Hold Check',
      detail: HOLD,
    });
  });

  it("caps the delay at SQS's 900 s", async () => {
    sqs.on(SendMessageCommand).resolves({});
    await new QueueAdapter({ waitQueueUrl: 'https://wait' }, sqsClient).scheduleRetry(
      { cluster: 'prod', event: { id: 'e' }, attempt: 1 },
      5000,
    );
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { DelaySeconds: 900 });
  });

  it('puts a retry on the lane in the cluster group with the given deduplication id', async () => {
    sqs.on(SendMessageCommand).resolves({});
    await new QueueAdapter({ laneQueueUrl: 'https://lane.fifo' }, sqsClient).send(
      { cluster: 'prod', attempt: 3, hold: HOLD },
      'tok-3',
    );
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: 'https://lane.fifo',
      MessageGroupId: 'prod',
      MessageDeduplicationId: 'tok-3',
    });
  });

  it('fails with a named error, before any call, when the queue URL is not configured', async () => {
    await expect(new QueueAdapter({}, sqsClient).scheduleCheck(HOLD, 1)).rejects.toMatchObject({
      name: 'EnvironmentError',
      message: expect.stringContaining('NLB_SYNC_WAIT_QUEUE_URL'),
    });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });
});
