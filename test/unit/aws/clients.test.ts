import { Readable } from 'node:stream';
import type { ElasticLoadBalancingV2ClientConfig } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AutoScalingAdapter } from '../../../lambdas/aws/auto-scaling-adapter';
import {
  autoScalingClient,
  CALL_BUDGET_MIDDLEWARE,
  CALL_BUDGET_MS,
  createAutoScalingClient,
  createEc2Client,
  createElbv2Client,
  createRoute53Client,
  createSqsClient,
  ec2Client,
  elbv2Client,
  route53Client,
  SDK_CLIENT_CONFIG,
} from '../../../lambdas/aws/clients';
import { Ec2InstanceAdapter } from '../../../lambdas/aws/ec2-instance-adapter';
import { RATE_LIMIT_MIDDLEWARE } from '../../../lambdas/aws/rate-limit';
import { TargetGroupAdapter } from '../../../lambdas/aws/target-group-adapter';

/*
 * aws-sdk-client-mock replaces `client.send`, which skips the SDK's middleware stack and so its retry
 * logic. These tests keep the real stack and fake only the HTTP layer, to prove that the clients the
 * adapters get retry throttling on their own.
 */

const TEST_CONFIG = {
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
};

interface ScriptedReply {
  readonly status: number;
  readonly body: string;
}

/** An HTTP handler that answers each request with the next scripted reply and counts requests. */
function scriptedHttp(...replies: ScriptedReply[]): {
  requestHandler: NonNullable<ElasticLoadBalancingV2ClientConfig['requestHandler']>;
  requests: () => number;
} {
  let served = 0;
  const requestHandler = {
    handle: async () => {
      const reply = replies[served];
      served += 1;
      if (reply === undefined) {
        throw new Error(`unexpected request #${served}`);
      }
      return {
        response: {
          statusCode: reply.status,
          headers: { 'content-type': 'text/xml' },
          body: Readable.from([Buffer.from(reply.body)]),
        },
      };
    },
  };
  return { requestHandler, requests: () => served };
}

/** The error document of the awsQuery protocol (ELBv2, Auto Scaling). */
function queryError(code: string, message: string): ScriptedReply {
  return {
    status: 400,
    body: `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`,
  };
}

/** The retry mode a resolved strategy runs in; both strategy shapes of the SDK may carry it. */
function modeOf(strategy: object): unknown {
  return 'mode' in strategy ? strategy.mode : undefined;
}

describe('Module: clients', () => {
  describe('Function: elbv2Client and its siblings', () => {
    it('create each client once and hand out the same instance afterwards', () => {
      // Prepare
      const factories = [autoScalingClient, ec2Client, elbv2Client, route53Client];

      // Act
      const first = factories.map((factory) => factory());
      const second = factories.map((factory) => factory());

      // Assess
      first.forEach((client, i) => {
        expect(second[i]).toBe(client);
      });
    });

    it('configure every client with adaptive retries and eight attempts', async () => {
      // Prepare
      const clients = [autoScalingClient(), ec2Client(), elbv2Client(), route53Client()];

      // Act
      const settings = await Promise.all(
        clients.map(async (client) => [
          modeOf(await client.config.retryStrategy()),
          await client.config.maxAttempts(),
        ]),
      );

      // Assess
      expect(SDK_CLIENT_CONFIG).toEqual({ retryMode: 'adaptive', maxAttempts: 8 });
      expect(settings).toEqual(Array.from({ length: 4 }, () => ['adaptive', 8]));
    });
  });

  describe('Function: createElbv2Client and its siblings', () => {
    const savedRegion = process.env.AWS_REGION;

    afterEach(() => {
      if (savedRegion === undefined) {
        delete process.env.AWS_REGION;
      } else {
        process.env.AWS_REGION = savedRegion;
      }
    });

    it('leave the region to the SDK, which reads AWS_REGION', async () => {
      // Prepare
      process.env.AWS_REGION = 'ap-southeast-2';

      // Act
      const regions = await Promise.all(
        [createAutoScalingClient(), createEc2Client(), createElbv2Client(), createRoute53Client()].map(
          (client) => client.config.region(),
        ),
      );

      // Assess
      expect(regions).toEqual(Array.from({ length: 4 }, () => 'ap-southeast-2'));
    });

    it('bound every call of every client, and rate-limit only the ELBv2 and Route 53 clients', () => {
      // Prepare
      const clients = {
        autoScaling: createAutoScalingClient(),
        ec2: createEc2Client(),
        elbv2: createElbv2Client(),
        route53: createRoute53Client(),
        sqs: createSqsClient(),
      };

      // Act
      const middleware = Object.entries(clients).map(([name, client]) => {
        const names = client.middlewareStack.identify().map((entry) => entry.split(' ')[0]);
        return [name, names.includes(CALL_BUDGET_MIDDLEWARE), names.includes(RATE_LIMIT_MIDDLEWARE)];
      });

      // Assess
      expect(CALL_BUDGET_MS).toBe(15_000);
      expect(middleware).toEqual([
        ['autoScaling', true, false],
        ['ec2', true, false],
        ['elbv2', true, true],
        ['route53', true, true],
        ['sqs', true, false],
      ]);
    });

    it('let overrides win over the shared settings', async () => {
      // Prepare
      const client = createElbv2Client({ maxAttempts: 2 });

      // Act
      const maxAttempts = await client.config.maxAttempts();

      // Assess
      expect(maxAttempts).toBe(2);
    });
  });

  describe('Retries through the real middleware stack', () => {
    it('retries ELBv2 Throttling with the production settings and returns the targets', async () => {
      // Prepare
      const http = scriptedHttp(queryError('Throttling', 'Rate exceeded'), {
        status: 200,
        body: `<DescribeTargetHealthResponse><DescribeTargetHealthResult><TargetHealthDescriptions><member><Target><Id>10.0.1.7</Id><Port>30080</Port></Target><TargetHealth><State>healthy</State></TargetHealth></member></TargetHealthDescriptions></DescribeTargetHealthResult></DescribeTargetHealthResponse>`,
      });
      const adapter = new TargetGroupAdapter(
        createElbv2Client({ ...TEST_CONFIG, requestHandler: http.requestHandler }),
      );

      // Act
      const targets = await adapter.describeTargets(
        'arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/t/1',
      );

      // Assess
      expect(targets).toEqual([{ id: '10.0.1.7', port: 30080, state: 'healthy' }]);
      expect(http.requests()).toBe(2);
    });

    it('retries Auto Scaling Throttling', async () => {
      // Prepare
      const http = scriptedHttp(queryError('Throttling', 'Rate exceeded'), {
        status: 200,
        body: `<DescribeAutoScalingGroupsResponse><DescribeAutoScalingGroupsResult><AutoScalingGroups><member><AutoScalingGroupName>workers-a</AutoScalingGroupName><DesiredCapacity>1</DesiredCapacity><Instances/></member></AutoScalingGroups></DescribeAutoScalingGroupsResult></DescribeAutoScalingGroupsResponse>`,
      });
      // Standard mode: the same retry decision without adaptive mode's client-side rate limiting delay.
      const client = createAutoScalingClient({
        ...TEST_CONFIG,
        retryMode: 'standard',
        requestHandler: http.requestHandler,
      });
      const adapter = new AutoScalingAdapter(client);

      // Act
      const groups = await adapter.describeGroups(['workers-a']);

      // Assess
      expect(groups).toEqual([{ name: 'workers-a', desiredCapacity: 1, instances: [] }]);
      expect(http.requests()).toBe(2);
    });

    it('retries EC2 RequestLimitExceeded', async () => {
      // Prepare
      const http = scriptedHttp(
        {
          status: 503,
          body: '<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>req-1</RequestID></Response>',
        },
        {
          status: 200,
          body: '<DescribeInstancesResponse><reservationSet><item><instancesSet><item><instanceId>i-1</instanceId><privateIpAddress>10.0.1.7</privateIpAddress><instanceState><code>16</code><name>running</name></instanceState></item></instancesSet></item></reservationSet></DescribeInstancesResponse>',
        },
      );
      const client = createEc2Client({
        ...TEST_CONFIG,
        retryMode: 'standard',
        requestHandler: http.requestHandler,
      });
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      const nodes = await adapter.describeInstancesById(['i-1']);

      // Assess
      expect(nodes).toEqual([
        { instanceId: 'i-1', privateIp: '10.0.1.7', ec2State: 'running', securityGroupIds: [], origins: [] },
      ]);
      expect(http.requests()).toBe(2);
    });

    it('gives up after maxAttempts and surfaces the throttling error', async () => {
      // Prepare
      const throttled = queryError('Throttling', 'Rate exceeded');
      const http = scriptedHttp(throttled, throttled);
      const client = createElbv2Client({
        ...TEST_CONFIG,
        retryMode: 'standard',
        maxAttempts: 2,
        requestHandler: http.requestHandler,
      });
      const adapter = new TargetGroupAdapter(client);

      // Act
      const registering = adapter.registerTargets(
        'arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/t/1',
        [{ id: '10.0.1.7', port: 30080 }],
      );

      // Assess
      await expect(registering).rejects.toMatchObject({ name: 'Throttling', $metadata: { attempts: 2 } });
      expect(http.requests()).toBe(2);
    });
  });
});
