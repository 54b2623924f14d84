import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeLifecycleHooksCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateVpcCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  isolated,
  motoEndpoint,
  rawMotoEndpoint,
  recordedLifecycleActions,
  resetMoto,
} from '../../support/moto-test-env';
import { asgInstances, buildWorld, setDesiredCapacity } from '../../support/moto-world';

const clientConfig = () => ({
  endpoint: motoEndpoint(),
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});

describe('Module: moto harness', () => {
  describe('Function: motoEndpoint', () => {
    it(
      "names this file's lifecycle shim and the moto behind it, both on 127.0.0.1",
      isolated(async () => {
        // Act
        const shim = new URL(motoEndpoint());
        const moto = new URL(rawMotoEndpoint());

        // Assess
        expect([shim.hostname, moto.hostname]).toEqual(['127.0.0.1', '127.0.0.1']);
        expect(shim.port).not.toBe(moto.port);
      }),
    );

    it(
      'points at a moto that answers its API page directly and through the shim',
      isolated(async () => {
        // Act
        const direct = await fetch(`${rawMotoEndpoint()}/moto-api/`);
        const proxied = await fetch(`${motoEndpoint()}/moto-api/`);

        // Assess
        expect(direct.status).toBe(200);
        expect(proxied.status).toBe(200);
        expect(await proxied.text()).toBe(await direct.text());
      }),
    );

    it(
      'is what AWS_ENDPOINT_URL names, so SDK clients built without an endpoint reach moto too',
      isolated(async () => {
        // Prepare
        const ec2 = new EC2Client({});
        await new EC2Client(clientConfig()).send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }));

        // Act
        const vpcs = await ec2.send(
          new DescribeVpcsCommand({ Filters: [{ Name: 'cidr', Values: ['10.9.0.0/16'] }] }),
        );

        // Assess
        expect(process.env.AWS_ENDPOINT_URL).toBe(motoEndpoint());
        expect(vpcs.Vpcs).toHaveLength(1);
      }),
    );
  });

  describe('Function: resetMoto', () => {
    it(
      'removes what earlier tests created',
      isolated(async () => {
        // Prepare
        const ec2 = new EC2Client(clientConfig());
        await ec2.send(new CreateVpcCommand({ CidrBlock: '10.8.0.0/16' }));

        // Act
        await resetMoto();

        // Assess
        const vpcs = await ec2.send(
          new DescribeVpcsCommand({ Filters: [{ Name: 'cidr', Values: ['10.8.0.0/16'] }] }),
        );
        expect(vpcs.Vpcs).toEqual([]);
      }),
    );

    it(
      'forgets the lifecycle calls the shim recorded',
      isolated(async () => {
        // Prepare
        await new AutoScalingClient(clientConfig()).send(
          new CompleteLifecycleActionCommand({
            AutoScalingGroupName: 'nodes',
            LifecycleHookName: 'launch',
            InstanceId: 'i-0123456789abcdef0',
            LifecycleActionResult: 'CONTINUE',
          }),
        );

        // Act
        await resetMoto();

        // Assess
        expect(await recordedLifecycleActions()).toEqual([]);
      }),
    );
  });

  describe('Function: startLifecycleShim', () => {
    it(
      'answers CompleteLifecycleAction with a success the SDK parses, and records the call',
      isolated(async () => {
        // Prepare
        const autoScaling = new AutoScalingClient(clientConfig());

        // Act
        const output = await autoScaling.send(
          new CompleteLifecycleActionCommand({
            AutoScalingGroupName: 'nodes',
            LifecycleHookName: 'launch',
            LifecycleActionToken: '87654321-4321-4321-4321-21098EXAMPLE',
            InstanceId: 'i-0123456789abcdef0',
            LifecycleActionResult: 'ABANDON',
          }),
        );

        // Assess
        expect(output.$metadata.httpStatusCode).toBe(200);
        expect(output.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
        expect(await recordedLifecycleActions()).toEqual([
          {
            action: 'CompleteLifecycleAction',
            autoScalingGroupName: 'nodes',
            lifecycleHookName: 'launch',
            instanceId: 'i-0123456789abcdef0',
            lifecycleActionToken: '87654321-4321-4321-4321-21098EXAMPLE',
            lifecycleActionResult: 'ABANDON',
            at: expect.any(String),
          },
        ]);
      }),
    );

    it(
      'answers RecordLifecycleActionHeartbeat and records it without a result',
      isolated(async () => {
        // Prepare
        const autoScaling = new AutoScalingClient(clientConfig());

        // Act
        const output = await autoScaling.send(
          new RecordLifecycleActionHeartbeatCommand({
            AutoScalingGroupName: 'nodes',
            LifecycleHookName: 'terminate',
            InstanceId: 'i-0123456789abcdef0',
          }),
        );

        // Assess
        expect(output.$metadata.httpStatusCode).toBe(200);
        const [record] = await recordedLifecycleActions();
        expect(record).toEqual({
          action: 'RecordLifecycleActionHeartbeat',
          autoScalingGroupName: 'nodes',
          lifecycleHookName: 'terminate',
          instanceId: 'i-0123456789abcdef0',
          at: expect.any(String),
        });
      }),
    );

    it(
      'rejects a call that names neither an instance nor a token, as AWS does',
      isolated(async () => {
        // Prepare
        const autoScaling = new AutoScalingClient(clientConfig());

        // Act
        const call = autoScaling.send(
          new CompleteLifecycleActionCommand({
            AutoScalingGroupName: 'nodes',
            LifecycleHookName: 'launch',
            LifecycleActionResult: 'CONTINUE',
          }),
        );

        // Assess
        await expect(call).rejects.toMatchObject({
          name: 'ValidationError',
          $metadata: { httpStatusCode: 400 },
        });
        expect(await recordedLifecycleActions()).toEqual([]);
      }),
    );

    it(
      'passes other Auto Scaling calls through to moto',
      isolated(async () => {
        // Prepare
        const world = await buildWorld(motoEndpoint(), { nodes: 0, ports: [] });

        // Act
        const hooks = await new AutoScalingClient(clientConfig()).send(
          new DescribeLifecycleHooksCommand({ AutoScalingGroupName: world.asgName }),
        );

        // Assess
        expect(
          hooks.LifecycleHooks?.map((hook) => [hook.LifecycleHookName, hook.LifecycleTransition]).sort(),
        ).toEqual([
          [world.launchHookName, 'autoscaling:EC2_INSTANCE_LAUNCHING'],
          [world.terminateHookName, 'autoscaling:EC2_INSTANCE_TERMINATING'],
        ]);
      }),
    );
  });

  describe('Function: buildWorld', () => {
    it(
      'creates N InService instances with private IPs inside the VPC',
      isolated(async () => {
        // Act
        const world = await buildWorld(motoEndpoint(), { nodes: 3, ports: [] });

        // Assess
        const instances = await asgInstances(motoEndpoint(), world.asgName);
        expect(instances).toHaveLength(3);
        for (const instance of instances) {
          expect(instance.lifecycleState).toBe('InService');
          expect(instance.privateIp).toMatch(/^10\.0\.\d+\.\d+$/);
          expect(world.subnetIds).toContain(instance.subnetId);
        }
        expect(new Set(instances.map((i) => i.privateIp)).size).toBe(3);
      }),
    );

    it(
      'creates one target group of the requested type and one TCP listener per port on a network LB',
      isolated(async () => {
        // Prepare
        const elbv2 = new ElasticLoadBalancingV2Client(clientConfig());

        // Act
        const world = await buildWorld(motoEndpoint(), {
          nodes: 1,
          ports: [
            { name: 'http', listenerPort: 80, nodePort: 30080, targetType: 'ip' },
            {
              name: 'tls',
              listenerPort: 443,
              nodePort: 30443,
              targetType: 'instance',
              healthCheckNodePort: 31000,
            },
          ],
        });

        // Assess
        const groups = await elbv2.send(
          new DescribeTargetGroupsCommand({ TargetGroupArns: world.targetGroups.map((group) => group.arn) }),
        );
        const byName = new Map(groups.TargetGroups?.map((group) => [group.TargetGroupName, group]));
        expect(byName.get('eks-workers-http')).toMatchObject({
          TargetType: 'ip',
          Protocol: 'TCP',
          Port: 30080,
          VpcId: world.vpcId,
          HealthCheckPort: 'traffic-port',
        });
        expect(byName.get('eks-workers-tls')).toMatchObject({
          TargetType: 'instance',
          Protocol: 'TCP',
          Port: 30443,
          VpcId: world.vpcId,
          HealthCheckProtocol: 'HTTP',
          HealthCheckPort: '31000',
        });
        const listeners = await elbv2.send(
          new DescribeListenersCommand({ LoadBalancerArn: world.loadBalancerArn }),
        );
        expect(
          listeners.Listeners?.map((listener) => [
            listener.Port,
            listener.Protocol,
            listener.DefaultActions?.[0]?.TargetGroupArn,
          ]).sort(),
        ).toEqual([
          [443, 'TCP', world.targetGroups[1]?.arn],
          [80, 'TCP', world.targetGroups[0]?.arn],
        ]);
      }),
    );
  });

  describe('Function: setDesiredCapacity', () => {
    it(
      'reports the instances a scale-out launched and a scale-in removed',
      isolated(async () => {
        // Prepare
        const world = await buildWorld(motoEndpoint(), { nodes: 2, ports: [] });
        const initial = (await asgInstances(motoEndpoint(), world.asgName)).map((i) => i.instanceId);

        // Act
        const scaleOut = await setDesiredCapacity(motoEndpoint(), world.asgName, 4);
        const scaleIn = await setDesiredCapacity(motoEndpoint(), world.asgName, 1);

        // Assess
        expect(scaleOut.appeared).toHaveLength(2);
        expect(scaleOut.disappeared).toEqual([]);
        expect(scaleIn.appeared).toEqual([]);
        expect(scaleIn.disappeared).toHaveLength(3);
        const remaining = (await asgInstances(motoEndpoint(), world.asgName)).map((i) => i.instanceId);
        expect(remaining).toHaveLength(1);
        expect([...initial, ...scaleOut.appeared].sort()).toEqual(
          [...remaining, ...scaleIn.disappeared].sort(),
        );
      }),
    );
  });

  describe('Function: isolated', () => {
    // These two tests run in this order: the first leaves work behind, as a test that times out does, and the
    // second checks that none of it reached moto after the reset that started the second test.
    let onTheWire: Promise<unknown> | undefined;
    let leftoverSdkCall: Promise<unknown> | undefined;
    let leftoverFetch: Promise<unknown> | undefined;
    let secondTestRuns: () => void = () => undefined;

    it(
      'lets a test finish with a request on the wire and more work pending',
      isolated(async () => {
        // Prepare
        const ec2 = new EC2Client(clientConfig());
        const nextTest = new Promise<void>((resolve) => {
          secondTestRuns = resolve;
        });
        const requestStarted = new Promise<void>((resolve) => {
          const onStart = (): void => {
            unsubscribe('http.client.request.start', onStart);
            resolve();
          };
          subscribe('http.client.request.start', onStart);
        });

        // Act: one call sent now and not awaited; two more only once the next test runs
        onTheWire = ec2.send(new CreateVpcCommand({ CidrBlock: '10.6.0.0/16' }));
        await requestStarted;
        leftoverSdkCall = nextTest
          .then(() => ec2.send(new CreateVpcCommand({ CidrBlock: '10.7.0.0/16' })))
          .catch((error: unknown) => error);
        leftoverFetch = nextTest.then(() => recordedLifecycleActions()).catch((error: unknown) => error);

        // Assess
        expect(onTheWire).toBeDefined();
      }),
    );

    it(
      'refuses what the finished test sends later, and its request on the wire landed before the reset',
      isolated(async () => {
        // Act
        secondTestRuns();
        const sdkOutcome = await leftoverSdkCall;
        const fetchOutcome = await leftoverFetch;

        // Assess
        expect(sdkOutcome).toMatchObject({ name: 'StaleTestCallError' });
        expect(fetchOutcome).toMatchObject({ name: 'StaleTestCallError' });
        expect(String(sdkOutcome)).toContain('lets a test finish with a request on the wire');
        await expect(onTheWire).resolves.toBeDefined();
        const vpcs = await new EC2Client(clientConfig()).send(
          new DescribeVpcsCommand({ Filters: [{ Name: 'cidr', Values: ['10.6.0.0/16', '10.7.0.0/16'] }] }),
        );
        expect(vpcs.Vpcs).toEqual([]);
      }),
    );
  });
});
