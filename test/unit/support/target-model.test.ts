import {
  parseControlBody,
  parseDeregistrationDelayXml,
  parseTargetGroupXml,
  parseTargetHealthXml,
  replaceTargetHealthXml,
  type TargetGroupFacts,
  type TargetHealthEntry,
  TargetModel,
  TargetModelError,
  targetsFromParams,
} from '../../support/target-model';

const ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg1/7a0ac4a29d45e01d';
const OTHER_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg2/8944935e74e1f2bc';
const GROUP: TargetGroupFacts = {
  port: 30080,
  healthCheckPort: 'traffic-port',
  healthCheckIntervalSeconds: 30,
  healthyThresholdCount: 5,
};
const A = { id: '10.0.0.4', port: 30080 };
const B = { id: '10.0.0.5', port: 30080 };

// Captured from moto 5.2.1 through the shim (request ids shortened).
const MOTO_HEALTH_XML =
  '<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">' +
  '<DescribeTargetHealthResult><TargetHealthDescriptions>' +
  '<member><Target><Id>10.0.0.4</Id><Port>30080</Port></Target><HealthCheckPort>traffic-port</HealthCheckPort>' +
  '<TargetHealth><State>healthy</State></TargetHealth></member>' +
  '<member><Target><Id>10.0.0.9</Id><Port>30080</Port></Target><HealthCheckPort>traffic-port</HealthCheckPort>' +
  '<TargetHealth><State>unavailable</State><Reason>Target.NotRegistered</Reason>' +
  '<Description>Target is not registered</Description></TargetHealth></member>' +
  '</TargetHealthDescriptions></DescribeTargetHealthResult>' +
  '<ResponseMetadata><RequestId>MoTWjfMj9j2H</RequestId></ResponseMetadata></DescribeTargetHealthResponse>';
const MOTO_EMPTY_HEALTH_XML =
  '<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">' +
  '<DescribeTargetHealthResult><TargetHealthDescriptions/></DescribeTargetHealthResult>' +
  '<ResponseMetadata><RequestId>U2mSwnIQVF2T</RequestId></ResponseMetadata></DescribeTargetHealthResponse>';
const MOTO_GROUPS_XML =
  '<DescribeTargetGroupsResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">' +
  '<DescribeTargetGroupsResult><TargetGroups><member><TargetGroupArn>' +
  ARN +
  '</TargetGroupArn><TargetGroupName>tg2</TargetGroupName><Protocol>TCP</Protocol><Port>30080</Port>' +
  '<VpcId>vpc-1293bd6aab8f80848</VpcId><HealthCheckProtocol>HTTP</HealthCheckProtocol>' +
  '<HealthCheckPort>31000</HealthCheckPort><HealthCheckEnabled>true</HealthCheckEnabled>' +
  '<HealthCheckIntervalSeconds>10</HealthCheckIntervalSeconds><HealthCheckTimeoutSeconds>10</HealthCheckTimeoutSeconds>' +
  '<HealthyThresholdCount>3</HealthyThresholdCount><UnhealthyThresholdCount>2</UnhealthyThresholdCount>' +
  '<HealthCheckPath>/healthz</HealthCheckPath><Matcher><HttpCode>200</HttpCode></Matcher><LoadBalancerArns/>' +
  '<TargetType>instance</TargetType><IpAddressType>ipv4</IpAddressType></member></TargetGroups>' +
  '</DescribeTargetGroupsResult><ResponseMetadata><RequestId>H1brTSG9</RequestId></ResponseMetadata>' +
  '</DescribeTargetGroupsResponse>';
const MOTO_ATTRIBUTES_XML =
  '<DescribeTargetGroupAttributesResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">' +
  '<DescribeTargetGroupAttributesResult><Attributes>' +
  '<member><Key>deregistration_delay.timeout_seconds</Key><Value>20</Value></member>' +
  '<member><Key>stickiness.enabled</Key><Value>false</Value></member>' +
  '</Attributes></DescribeTargetGroupAttributesResult>' +
  '<ResponseMetadata><RequestId>PP8JfVtl</RequestId></ResponseMetadata></DescribeTargetGroupAttributesResponse>';

function listed(target: { id: string; port: number }, state = 'healthy'): TargetHealthEntry {
  return { ...target, healthCheckPort: 'traffic-port', state };
}

/** `id:port state [reason]` per entry, to compare answers at a glance. */
function brief(entries: readonly TargetHealthEntry[]): string[] {
  return entries.map((e) =>
    [`${e.id}:${e.port}`, e.state, e.reason].filter((p) => p !== undefined).join(' '),
  );
}

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

function enabledModel(healthyAfterSeconds?: number): TargetModel {
  const model = new TargetModel();
  model.configure({ enabled: true, ...(healthyAfterSeconds === undefined ? {} : { healthyAfterSeconds }) });
  return model;
}

describe('Class: TargetModel', () => {
  it('reports a registered target initial (registration, then initial checks) until the wait is over', () => {
    // Prepare
    const model = enabledModel(30);
    model.register(ARN, [A], GROUP, []);
    const at = (seconds: number) => {
      model.setNow(seconds * 1000);
      return brief(model.describe(ARN, [listed(A)], undefined, 'traffic-port'));
    };

    // Act
    const states = [at(0), at(14.9), at(15), at(29.9), at(30)];

    // Assess
    expect(states).toEqual([
      ['10.0.0.4:30080 initial Elb.RegistrationInProgress'],
      ['10.0.0.4:30080 initial Elb.RegistrationInProgress'],
      ['10.0.0.4:30080 initial Elb.InitialHealthChecking'],
      ['10.0.0.4:30080 initial Elb.InitialHealthChecking'],
      ['10.0.0.4:30080 healthy'],
    ]);
  });

  it("waits the group's interval x healthy threshold when no time is configured", () => {
    // Prepare
    const model = enabledModel();
    model.register(ARN, [A], { ...GROUP, healthCheckIntervalSeconds: 10, healthyThresholdCount: 3 }, []);

    // Act
    model.advance(29);
    const before = brief(model.describe(ARN, [], undefined, 'traffic-port'));
    model.advance(1);
    const after = brief(model.describe(ARN, [], undefined, 'traffic-port'));

    // Assess
    expect(before).toEqual(['10.0.0.4:30080 initial Elb.InitialHealthChecking']);
    expect(after).toEqual(['10.0.0.4:30080 healthy']);
  });

  it('ignores a repeated registration, as AWS does', () => {
    // Prepare
    const model = enabledModel(30);
    model.register(ARN, [A], GROUP, []);
    model.advance(20);

    // Act
    model.register(ARN, [A], GROUP, [A]);
    model.advance(10);

    // Assess
    expect(brief(model.describe(ARN, [listed(A)], undefined, 'traffic-port'))).toEqual([
      '10.0.0.4:30080 healthy',
    ]);
  });

  it('drains a deregistered target for the delay, adds it back to moto answers, then forgets it', () => {
    // Prepare
    const model = enabledModel(0);
    model.register(ARN, [A, B], GROUP, []);

    // Act
    model.deregister(ARN, [A], 20, [A, B]);
    const draining = brief(model.describe(ARN, [listed(B)], undefined, 'traffic-port'));
    model.advance(19.999);
    const almost = brief(model.describe(ARN, [listed(B)], undefined, 'traffic-port'));
    model.advance(0.001);
    const gone = brief(model.describe(ARN, [listed(B)], undefined, 'traffic-port'));

    // Assess
    expect(draining).toEqual([
      '10.0.0.5:30080 healthy',
      '10.0.0.4:30080 draining Target.DeregistrationInProgress',
    ]);
    expect(almost).toEqual(draining);
    expect(gone).toEqual(['10.0.0.5:30080 healthy']);
    expect(model.status().targets.map((t) => t.id)).toEqual(['10.0.0.5']);
  });

  it('drains a target moto listed before the model saw it, and forgets it at once with a zero delay', () => {
    // Prepare
    const model = enabledModel(30);

    // Act
    model.deregister(ARN, [A], 300, [A]);
    const draining = brief(model.describe(ARN, [], undefined, 'traffic-port'));
    model.deregister(ARN, [B], 0, [B]);

    // Assess
    expect(draining).toEqual(['10.0.0.4:30080 draining Target.DeregistrationInProgress']);
    expect(brief(model.describe(ARN, [], undefined, 'traffic-port'))).toEqual([
      '10.0.0.4:30080 draining Target.DeregistrationInProgress',
    ]);
  });

  it('ignores deregistering a target that is not registered', () => {
    // Prepare
    const model = enabledModel(30);

    // Act
    model.deregister(ARN, [A], 300, []);

    // Assess
    expect(model.status().targets).toEqual([]);
  });

  it('makes a draining target initial again when it is registered again', () => {
    // Prepare
    const model = enabledModel(30);
    model.register(ARN, [A], GROUP, []);
    model.advance(60);
    model.deregister(ARN, [A], 300, [A]);
    model.advance(10);

    // Act
    model.register(ARN, [A], GROUP, []);
    const again = brief(model.describe(ARN, [listed(A)], undefined, 'traffic-port'));
    model.advance(300);

    // Assess
    expect(again).toEqual(['10.0.0.4:30080 initial Elb.RegistrationInProgress']);
    expect(brief(model.describe(ARN, [listed(A)], undefined, 'traffic-port'))).toEqual([
      '10.0.0.4:30080 healthy',
    ]);
  });

  it('keeps the port moto dropped when the same id is registered on another port', () => {
    // Prepare: A was in moto before the model was on; moto replaces it when A registers on 30081
    const model = enabledModel(30);
    const a2 = { id: A.id, port: 30081 };

    // Act
    model.register(ARN, [a2], GROUP, [A]);
    const answer = brief(model.describe(ARN, [listed(a2)], undefined, 'traffic-port'));

    // Assess
    expect(answer).toEqual(['10.0.0.4:30081 initial Elb.RegistrationInProgress', '10.0.0.4:30080 healthy']);
  });

  it('keeps moto\u2019s answer for targets it never saw registered, and answers only its own group', () => {
    // Prepare
    const model = enabledModel(30);
    model.register(OTHER_ARN, [A], GROUP, []);

    // Act
    const answer = model.describe(ARN, [listed(A), listed(B)], undefined, 'traffic-port');

    // Assess
    expect(answer).toEqual([listed(A), listed(B)]);
  });

  it('forces unhealthy until set back, and healthy at once', () => {
    // Prepare
    const model = enabledModel(30);
    model.register(ARN, [A], GROUP, []);

    // Act
    const unhealthy = model.forceHealth({ targetGroupArn: ARN, ...A, state: 'unhealthy' });
    model.advance(3600);
    const stillUnhealthy = brief(model.describe(ARN, [listed(A)], undefined, 'traffic-port'));
    const healthy = model.forceHealth({ targetGroupArn: ARN, ...A, state: 'healthy' });

    // Assess
    expect(unhealthy).toMatchObject({ state: 'unhealthy', reason: 'Target.FailedHealthChecks' });
    expect(stillUnhealthy).toEqual(['10.0.0.4:30080 unhealthy Target.FailedHealthChecks']);
    expect(healthy).toEqual({ targetGroupArn: ARN, ...A, state: 'healthy' });
  });

  it('refuses to force the health of a target it does not track as registered', () => {
    // Prepare
    const model = enabledModel(30);
    model.register(ARN, [A], GROUP, []);
    model.deregister(ARN, [A], 300, [A]);

    // Act
    const draining = () => model.forceHealth({ targetGroupArn: ARN, ...A, state: 'unhealthy' });
    const unknown = () => model.forceHealth({ targetGroupArn: ARN, ...B, state: 'unhealthy' });

    // Assess
    expect(draining).toThrow(TargetModelError);
    expect(unknown).toThrow(/not registered/);
  });

  it('answers exactly the named targets, in order: tracked, listed by moto on that port, else unused', () => {
    // Prepare: B registered before the model; moto answers named targets by id, echoing its own port
    const model = enabledModel(30);
    model.register(ARN, [A], GROUP, []);
    const motoAnswer: TargetHealthEntry[] = [
      { ...listed({ id: '10.0.0.9', port: 30080 }, 'unavailable'), reason: 'Target.NotRegistered' },
      listed(B),
      listed(A),
      listed(B),
    ];

    // Act
    const answer = model.describe(
      ARN,
      motoAnswer,
      [{ id: '10.0.0.9', port: 30080 }, B, A, { id: B.id, port: 30099 }],
      'traffic-port',
    );

    // Assess
    expect(brief(answer)).toEqual([
      '10.0.0.9:30080 unused Target.NotRegistered',
      '10.0.0.5:30080 healthy',
      '10.0.0.4:30080 initial Elb.RegistrationInProgress',
      '10.0.0.5:30099 unused Target.NotRegistered',
    ]);
    expect(answer[0]).toEqual({
      id: '10.0.0.9',
      port: 30080,
      healthCheckPort: 'traffic-port',
      state: 'unused',
      reason: 'Target.NotRegistered',
      description: 'Target is not registered to the target group',
    });
  });

  it('forgets a deleted group', () => {
    // Prepare
    const model = enabledModel(30);
    model.register(ARN, [A], GROUP, []);
    model.register(OTHER_ARN, [B], GROUP, []);

    // Act
    model.forgetGroup(ARN);

    // Assess
    expect(model.status().targets.map((t) => t.targetGroupArn)).toEqual([OTHER_ARN]);
  });

  it('moves its clock only forward, and forgets everything when switched off', () => {
    // Prepare
    const model = enabledModel(30);
    model.setNow(1_750_000_000_000);
    model.register(ARN, [A], GROUP, []);

    // Act
    const backwards = catchError(() => model.setNow(1_000));
    const negative = catchError(() => model.advance(-1));
    const advanced = model.advance(1.5);
    const off = model.configure({ enabled: false });

    // Assess
    expect(backwards).toBeInstanceOf(TargetModelError);
    expect(negative).toBeInstanceOf(TargetModelError);
    expect(advanced).toEqual({ nowMs: 1_750_000_001_500, nowSeconds: 1_750_000_001.5 });
    expect(off).toEqual({ enabled: false, healthyAfterSeconds: null, nowMs: 0, targets: [] });
    expect(model.enabled).toBe(false);
  });
});

describe('Function: parseTargetHealthXml', () => {
  it("reads moto's members, reasons and descriptions", () => {
    // Act
    const entries = parseTargetHealthXml(MOTO_HEALTH_XML);

    // Assess
    expect(entries).toEqual([
      { id: '10.0.0.4', port: 30080, healthCheckPort: 'traffic-port', state: 'healthy' },
      {
        id: '10.0.0.9',
        port: 30080,
        healthCheckPort: 'traffic-port',
        state: 'unavailable',
        reason: 'Target.NotRegistered',
        description: 'Target is not registered',
      },
    ]);
  });

  it('reads an empty answer as no members, and an error answer as none at all', () => {
    // Act
    const empty = parseTargetHealthXml(MOTO_EMPTY_HEALTH_XML);
    const error = parseTargetHealthXml(
      '<ErrorResponse><Error><Code>TargetGroupNotFound</Code></Error></ErrorResponse>',
    );

    // Assess
    expect(empty).toEqual([]);
    expect(error).toBeUndefined();
  });
});

describe('Function: replaceTargetHealthXml', () => {
  it("writes members in moto's shape inside moto's envelope, so they read back the same", () => {
    // Prepare
    const entries: TargetHealthEntry[] = [
      { id: '10.0.0.4', port: 30080, healthCheckPort: 'traffic-port', state: 'healthy' },
      {
        id: 'i-0123456789abcdef0',
        port: 30080,
        healthCheckPort: '31000',
        state: 'draining',
        reason: 'Target.DeregistrationInProgress',
        description: 'Target deregistration is in progress',
      },
    ];

    // Act
    const xml = replaceTargetHealthXml(MOTO_EMPTY_HEALTH_XML, entries);
    const same = replaceTargetHealthXml(MOTO_HEALTH_XML, parseTargetHealthXml(MOTO_HEALTH_XML) ?? []);
    const emptied = replaceTargetHealthXml(MOTO_HEALTH_XML, []);

    // Assess
    expect(parseTargetHealthXml(xml)).toEqual(entries);
    expect(xml).toContain('<RequestId>U2mSwnIQVF2T</RequestId>');
    expect(same).toBe(MOTO_HEALTH_XML);
    expect(emptied).toContain(
      '<DescribeTargetHealthResult><TargetHealthDescriptions/></DescribeTargetHealthResult>',
    );
  });
});

describe('Function: parseTargetGroupXml', () => {
  it("reads the group's port and health check settings", () => {
    // Act
    const facts = parseTargetGroupXml(MOTO_GROUPS_XML);

    // Assess
    expect(facts).toEqual({
      port: 30080,
      healthCheckPort: '31000',
      healthCheckIntervalSeconds: 10,
      healthyThresholdCount: 3,
    });
  });
});

describe('Function: parseDeregistrationDelayXml', () => {
  it('reads deregistration_delay.timeout_seconds, 300 when absent', () => {
    // Act
    const set = parseDeregistrationDelayXml(MOTO_ATTRIBUTES_XML);
    const absent = parseDeregistrationDelayXml('<Attributes/>');

    // Assess
    expect(set).toBe(20);
    expect(absent).toBe(300);
  });
});

describe('Function: targetsFromParams', () => {
  it('reads Targets.member.N in numeric order, giving a target without Port the default', () => {
    // Prepare
    const params = new URLSearchParams(
      'Action=RegisterTargets&TargetGroupArn=x&Targets.member.10.Id=c&Targets.member.10.Port=3' +
        '&Targets.member.2.Id=b&Targets.member.1.Id=a&Targets.member.1.Port=1',
    );

    // Act
    const targets = targetsFromParams(params, 30080);

    // Assess
    expect(targets).toEqual([
      { id: 'a', port: 1 },
      { id: 'b', port: 30080 },
      { id: 'c', port: 3 },
    ]);
  });

  it('is undefined when the request names no targets', () => {
    // Act
    const targets = targetsFromParams(new URLSearchParams('Action=DescribeTargetHealth'), 30080);

    // Assess
    expect(targets).toBeUndefined();
  });
});

describe('Function: parseControlBody', () => {
  it('accepts the documented bodies', () => {
    // Act
    const settings = parseControlBody('/shim/target-model', '{"enabled":true,"healthyAfterSeconds":30}');
    const advance = parseControlBody('/shim/clock', '{"advanceSeconds":5}');
    const set = parseControlBody('/shim/clock', '{"nowMs":1750000000000}');
    const override = parseControlBody(
      '/shim/targets/health',
      `{"targetGroupArn":"${ARN}","id":"10.0.0.4","port":30080,"state":"unhealthy"}`,
    );

    // Assess
    expect(settings).toEqual({ enabled: true, healthyAfterSeconds: 30 });
    expect(advance).toEqual({ advanceSeconds: 5 });
    expect(set).toEqual({ nowMs: 1_750_000_000_000 });
    expect(override).toEqual({ targetGroupArn: ARN, id: '10.0.0.4', port: 30080, state: 'unhealthy' });
  });

  it.each([
    ['/shim/target-model', 'not json'],
    ['/shim/target-model', '{"healthyAfterSeconds":30}'],
    ['/shim/clock', '{"advanceSeconds":-1}'],
    ['/shim/clock', '{"advanceSeconds":1,"nowMs":2}'],
    ['/shim/targets/health', `{"targetGroupArn":"${ARN}","id":"10.0.0.4","port":30080,"state":"draining"}`],
  ] as const)('refuses %s %s with a 400', (path, body) => {
    // Act
    const parse = () => parseControlBody(path, body);

    // Assess
    expect(parse).toThrow(expect.objectContaining({ name: 'TargetModelError', status: 400 }));
  });
});
