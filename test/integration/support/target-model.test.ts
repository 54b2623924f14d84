import { CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  type DescribeTargetHealthCommandInput,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  advanceClock,
  enableTargetModel,
  isolated,
  motoEndpoint,
  rawMotoEndpoint,
  readClock,
  recordedLifecycleActions,
  resetMoto,
  setClock,
  setTargetHealth,
  targetModelStatus,
} from '../../support/moto-test-env';

/*
 * The target-state model in the lifecycle shim, driven through the real SDK ELBv2 client as the product
 * drives it. The world is only what the model needs (a VPC and IP target groups), so each test stays fast.
 */

const TIMEOUT_MS = 60_000;
const NODE_PORT = 30080;
const A = '10.0.0.4';
const B = '10.0.0.5';

function clientConfig(endpoint: string) {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

function elbv2(endpoint = motoEndpoint()): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client(clientConfig(endpoint));
}

/** A VPC and one IP target group on NODE_PORT; health check settings as given (moto's defaults otherwise). */
async function targetGroup(
  name: string,
  healthCheck: { intervalSeconds?: number; healthyThreshold?: number } = {},
): Promise<string> {
  const vpc = await new EC2Client(clientConfig(motoEndpoint())).send(
    new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }),
  );
  const created = await elbv2().send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'TCP',
      Port: NODE_PORT,
      VpcId: vpc.Vpc?.VpcId,
      TargetType: 'ip',
      HealthCheckProtocol: 'TCP',
      ...(healthCheck.intervalSeconds === undefined
        ? {}
        : { HealthCheckIntervalSeconds: healthCheck.intervalSeconds }),
      ...(healthCheck.healthyThreshold === undefined
        ? {}
        : { HealthyThresholdCount: healthCheck.healthyThreshold }),
    }),
  );
  const arn = created.TargetGroups?.[0]?.TargetGroupArn;
  if (arn === undefined) throw new Error('moto created no target group');
  return arn;
}

async function register(arn: string, ...targets: { id: string; port?: number }[]): Promise<void> {
  await elbv2().send(
    new RegisterTargetsCommand({
      TargetGroupArn: arn,
      Targets: targets.map((t) => ({ Id: t.id, Port: t.port ?? NODE_PORT })),
    }),
  );
}

async function deregister(arn: string, ...ids: string[]): Promise<void> {
  await elbv2().send(
    new DeregisterTargetsCommand({
      TargetGroupArn: arn,
      Targets: ids.map((id) => ({ Id: id, Port: NODE_PORT })),
    }),
  );
}

async function setDeregistrationDelay(arn: string, seconds: number): Promise<void> {
  await elbv2().send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: arn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(seconds) }],
    }),
  );
}

/** `id:port state [reason]` per target, as the SDK parsed the answer. */
async function health(
  arn: string,
  targets?: DescribeTargetHealthCommandInput['Targets'],
  endpoint = motoEndpoint(),
): Promise<string[]> {
  const answer = await elbv2(endpoint).send(
    new DescribeTargetHealthCommand({
      TargetGroupArn: arn,
      ...(targets === undefined ? {} : { Targets: targets }),
    }),
  );
  return (answer.TargetHealthDescriptions ?? []).map((d) =>
    [`${d.Target?.Id}:${d.Target?.Port}`, d.TargetHealth?.State, d.TargetHealth?.Reason]
      .filter((part) => part !== undefined)
      .join(' '),
  );
}

describe('Module: target-state model in the lifecycle shim', () => {
  describe('Function: RegisterTargets', () => {
    it(
      'keeps a new target initial until the configured time has passed, then healthy',
      isolated(async () => {
        // Prepare
        const arn = await targetGroup('tm-initial');
        await enableTargetModel({ healthyAfterSeconds: 30 });

        // Act
        await register(arn, { id: A }, { id: B });
        const atOnce = await health(arn);
        await advanceClock(20);
        const later = await health(arn);
        await advanceClock(10);
        const after = await health(arn);

        // Assess
        expect(atOnce).toEqual([
          `${A}:${NODE_PORT} initial Elb.RegistrationInProgress`,
          `${B}:${NODE_PORT} initial Elb.RegistrationInProgress`,
        ]);
        expect(later).toEqual([
          `${A}:${NODE_PORT} initial Elb.InitialHealthChecking`,
          `${B}:${NODE_PORT} initial Elb.InitialHealthChecking`,
        ]);
        expect(after).toEqual([`${A}:${NODE_PORT} healthy`, `${B}:${NODE_PORT} healthy`]);
      }),
      TIMEOUT_MS,
    );

    it(
      "derives the time to healthy from the group's interval x healthy threshold when none is configured",
      isolated(async () => {
        // Prepare
        const arn = await targetGroup('tm-derived', { intervalSeconds: 10, healthyThreshold: 3 });
        await enableTargetModel();
        await register(arn, { id: A });

        // Act
        await advanceClock(29);
        const before = await health(arn);
        await advanceClock(1);
        const after = await health(arn);

        // Assess
        expect(before).toEqual([`${A}:${NODE_PORT} initial Elb.InitialHealthChecking`]);
        expect(after).toEqual([`${A}:${NODE_PORT} healthy`]);
      }),
      TIMEOUT_MS,
    );

    it(
      'answers in the awsQuery shape moto uses, with a description for each reason, to any client',
      isolated(async () => {
        // Prepare
        const arn = await targetGroup('tm-shape');
        await enableTargetModel({ healthyAfterSeconds: 30 });
        await register(arn, { id: A });

        // Act: a client configured only by the environment, as the product's adapters are
        const answer = await new ElasticLoadBalancingV2Client({}).send(
          new DescribeTargetHealthCommand({ TargetGroupArn: arn }),
        );

        // Assess
        expect(answer.TargetHealthDescriptions).toEqual([
          {
            Target: { Id: A, Port: NODE_PORT },
            HealthCheckPort: 'traffic-port',
            TargetHealth: {
              State: 'initial',
              Reason: 'Elb.RegistrationInProgress',
              Description: 'Target registration is in progress',
            },
          },
        ]);
        expect(answer.$metadata.requestId).toEqual(expect.any(String));
      }),
      TIMEOUT_MS,
    );

    it(
      'keeps both ports of one id, which moto collapses into one, and deregisters only the port named',
      isolated(async () => {
        // Prepare
        const arn = await targetGroup('tm-two-ports');
        await enableTargetModel({ healthyAfterSeconds: 0 });

        // Act
        await register(arn, { id: A, port: NODE_PORT });
        await register(arn, { id: A, port: 30081 });
        const both = await health(arn);
        const inMoto = await health(arn, undefined, rawMotoEndpoint());
        await elbv2().send(
          new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: A, Port: 30081 }] }),
        );
        const afterDeregister = await health(arn);

        // Assess
        expect(inMoto).toEqual([`${A}:30081 healthy`]);
        expect(both.sort()).toEqual([`${A}:${NODE_PORT} healthy`, `${A}:30081 healthy`]);
        expect(afterDeregister.sort()).toEqual([
          `${A}:${NODE_PORT} healthy`,
          `${A}:30081 draining Target.DeregistrationInProgress`,
        ]);
      }),
      TIMEOUT_MS,
    );

    it(
      'leaves targets registered before the model was on as moto reports them',
      isolated(async () => {
        // Prepare
        const arn = await targetGroup('tm-before');
        await register(arn, { id: A });
        await enableTargetModel({ healthyAfterSeconds: 30 });

        // Act
        await register(arn, { id: A }, { id: B });

        // Assess
        expect(await health(arn)).toEqual([
          `${A}:${NODE_PORT} healthy`,
          `${B}:${NODE_PORT} initial Elb.RegistrationInProgress`,
        ]);
      }),
      TIMEOUT_MS,
    );
  });

  describe('Function: DeregisterTargets', () => {
    it(
      "reports a deregistered target draining for the group's deregistration delay, then forgets it",
      isolated(async () => {
        // Prepare
        const arn = await targetGroup('tm-drain');
        await enableTargetModel({ healthyAfterSeconds: 0 });
        await register(arn, { id: A }, { id: B });
        await setDeregistrationDelay(arn, 20);

        // Act
        await deregister(arn, A);
        const atOnce = await health(arn);
        const inMoto = await health(arn, undefined, rawMotoEndpoint());
        await advanceClock(19);
        const almost = await health(arn);
        await advanceClock(1);
        const after = await health(arn);

        // Assess
        expect(inMoto).toEqual([`${B}:${NODE_PORT} healthy`]);
        expect(atOnce).toEqual([
          `${B}:${NODE_PORT} healthy`,
          `${A}:${NODE_PORT} draining Target.DeregistrationInProgress`,
        ]);
        expect(almost).toEqual(atOnce);
        expect(after).toEqual([`${B}:${NODE_PORT} healthy`]);
      }),
      TIMEOUT_MS,
    );

    it(
      "drains for moto's default 300 s when the group sets no delay, also a target registered before the model",
      isolated(async () => {
        // Prepare
        const arn = await targetGroup('tm-drain-default');
        await register(arn, { id: A });
        await enableTargetModel();

        // Act
        await deregister(arn, A);
        await advanceClock(299);
        const almost = await health(arn);
        await advanceClock(1);
        const after = await health(arn);

        // Assess
        expect(almost).toEqual([`${A}:${NODE_PORT} draining Target.DeregistrationInProgress`]);
        expect(after).toEqual([]);
      }),
      TIMEOUT_MS,
    );

    it(
      'makes a draining target initial again when it is registered again, then healthy',
      isolated(async () => {
        // Prepare
        const arn = await targetGroup('tm-reregister');
        await enableTargetModel({ healthyAfterSeconds: 30 });
        await register(arn, { id: A });
        await advanceClock(30);
        await deregister(arn, A);
        await advanceClock(100);

        // Act
        await register(arn, { id: A });
        const atOnce = await health(arn);
        await advanceClock(30);
        const after = await health(arn);
        await advanceClock(300);
        const muchLater = await health(arn);

        // Assess
        expect(atOnce).toEqual([`${A}:${NODE_PORT} initial Elb.RegistrationInProgress`]);
        expect(after).toEqual([`${A}:${NODE_PORT} healthy`]);
        expect(muchLater).toEqual(after);
      }),
      TIMEOUT_MS,
    );
  });

  describe('Function: setTargetHealth', () => {
    it(
      'makes a target unhealthy until it is set healthy again',
      isolated(async () => {
        // Prepare
        const arn = await targetGroup('tm-unhealthy');
        await enableTargetModel({ healthyAfterSeconds: 0 });
        await register(arn, { id: A }, { id: B });

        // Act
        await setTargetHealth({ targetGroupArn: arn, id: A, port: NODE_PORT, state: 'unhealthy' });
        await advanceClock(3600);
        const failing = await health(arn);
        await setTargetHealth({ targetGroupArn: arn, id: A, port: NODE_PORT, state: 'healthy' });
        const recovered = await health(arn);

        // Assess
        expect(failing).toEqual([
          `${A}:${NODE_PORT} unhealthy Target.FailedHealthChecks`,
          `${B}:${NODE_PORT} healthy`,
        ]);
        expect(recovered).toEqual([`${A}:${NODE_PORT} healthy`, `${B}:${NODE_PORT} healthy`]);
      }),
      TIMEOUT_MS,
    );

    it(
      'refuses a target the model does not know as registered',
      isolated(async () => {
        // Prepare
        const arn = await targetGroup('tm-unknown');
        await enableTargetModel();

        // Act
        const call = setTargetHealth({ targetGroupArn: arn, id: A, port: NODE_PORT, state: 'unhealthy' });

        // Assess
        await expect(call).rejects.toThrow(/HTTP 404.*not registered/);
      }),
      TIMEOUT_MS,
    );
  });

  describe('Function: DescribeTargetHealth with Targets', () => {
    it(
      'answers exactly the named targets, a target not registered as unused',
      isolated(async () => {
        // Prepare
        const arn = await targetGroup('tm-named');
        await enableTargetModel({ healthyAfterSeconds: 30 });
        await register(arn, { id: A });

        // Act
        const named = await health(arn, [
          { Id: '10.0.0.9', Port: NODE_PORT },
          { Id: A, Port: NODE_PORT },
          { Id: A, Port: 30099 },
        ]);

        // Assess
        expect(named).toEqual([
          `10.0.0.9:${NODE_PORT} unused Target.NotRegistered`,
          `${A}:${NODE_PORT} initial Elb.RegistrationInProgress`,
          `${A}:30099 unused Target.NotRegistered`,
        ]);
      }),
      TIMEOUT_MS,
    );
  });

  describe('Function: control endpoints', () => {
    it(
      "keeps the model's clock equal to an injected epoch clock",
      isolated(async () => {
        // Prepare
        const start = Date.parse('2025-06-01T12:00:00Z');
        await enableTargetModel({ healthyAfterSeconds: 30, nowMs: start });
        const arn = await targetGroup('tm-epoch');
        await register(arn, { id: A });

        // Act
        await setClock(start + 30_000);
        const clock = await readClock();
        const after = await health(arn);
        const backwards = setClock(start);

        // Assess
        expect(clock).toEqual({ nowMs: start + 30_000, nowSeconds: start / 1000 + 30 });
        expect(after).toEqual([`${A}:${NODE_PORT} healthy`]);
        await expect(backwards).rejects.toThrow(/HTTP 400/);
      }),
      TIMEOUT_MS,
    );

    it(
      'lists what the model tracks, records no lifecycle call, and is off and empty after a reset',
      isolated(async () => {
        // Prepare
        const arn = await targetGroup('tm-status');
        await enableTargetModel({ healthyAfterSeconds: 30 });
        await register(arn, { id: A });

        // Act
        const on = await targetModelStatus();
        await resetMoto();
        const afterReset = await targetModelStatus();

        // Assess
        expect(on).toEqual({
          enabled: true,
          healthyAfterSeconds: 30,
          nowMs: 0,
          targets: [
            {
              targetGroupArn: arn,
              id: A,
              port: NODE_PORT,
              state: 'initial',
              reason: 'Elb.RegistrationInProgress',
            },
          ],
        });
        expect(afterReset).toEqual({ enabled: false, healthyAfterSeconds: null, nowMs: 0, targets: [] });
        expect(await recordedLifecycleActions()).toEqual([]);
      }),
      TIMEOUT_MS,
    );
  });

  describe('Function: model off', () => {
    it(
      "leaves moto's behaviour unchanged: healthy at once, gone at once, unregistered as moto says",
      isolated(async () => {
        // Prepare: a reset switches the model off
        await enableTargetModel({ healthyAfterSeconds: 30 });
        await resetMoto();
        const offArn = await targetGroup('tm-off');

        // Act
        await register(offArn, { id: A }, { id: B });
        const registered = await health(offArn);
        await deregister(offArn, A);
        const deregistered = await health(offArn);
        const named = await health(offArn, [{ Id: '10.0.0.9', Port: NODE_PORT }]);
        const direct = await health(offArn, [{ Id: '10.0.0.9', Port: NODE_PORT }], rawMotoEndpoint());

        // Assess
        expect(registered).toEqual([`${A}:${NODE_PORT} healthy`, `${B}:${NODE_PORT} healthy`]);
        expect(deregistered).toEqual([`${B}:${NODE_PORT} healthy`]);
        expect(named).toEqual([`10.0.0.9:${NODE_PORT} unavailable Target.NotRegistered`]);
        expect(named).toEqual(direct);
      }),
      TIMEOUT_MS,
    );
  });
});
