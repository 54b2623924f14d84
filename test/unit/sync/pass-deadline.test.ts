import { FUNCTION_DEFAULTS } from '../../../infra/constants';
import { CALL_BUDGET_MS } from '../../../lambdas/aws/clients';
import { parseSyncConfig } from '../../../lambdas/domain/config';
import { PassDeadlineError } from '../../../lambdas/domain/errors';
import { runEventPasses } from '../../../lambdas/sync/event-passes';
import { PASS_DEADLINE_MS, reconcileCluster } from '../../../lambdas/sync/reconcile-pass';
import { asgNode, FakeAws, fakeDeps } from '../../support/fake-aws';

const TG_A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a/0123456789abcdef';
const config = parseSyncConfig({
  clusters: [
    {
      name: 'prod',
      nodeSource: { autoScalingGroups: ['my-asg'] },
      portMappings: [{ name: 'a', targetGroupArn: TG_A, nodePort: 30000 }],
    },
  ],
});
const cluster =
  config.clusters[0] ??
  (() => {
    throw new Error('no cluster');
  })();

/** Node 1 left, node 3 arrived: the plan registers one target and deregisters one. */
function swapWorld() {
  const fake = new FakeAws();
  fake.addGroup('my-asg', [asgNode(1, 'Terminating:Wait'), asgNode(2), asgNode(3)]);
  fake.targets.set(TG_A, [
    { id: '10.0.0.11', port: 30000, state: 'healthy' },
    { id: '10.0.0.12', port: 30000, state: 'healthy' },
  ]);
  return { fake, deps: fakeDeps(fake) };
}

/** Makes every DescribeTargetHealth take `ms` on the (fake) system clock, as a slow or retried read does. */
function slowDescribe(fake: FakeAws, ms: number): void {
  const describe = fake.describeTargets.bind(fake);
  fake.describeTargets = async (arn: string) => {
    jest.advanceTimersByTime(ms);
    return describe(arn);
  };
}

describe('Use case: reconcileCluster, pass deadline', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2025-01-01T00:00:00Z') });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('leaves the writes one whole call budget before the function times out', () => {
    // Assess
    expect(PASS_DEADLINE_MS).toBe(45_000);
    expect(PASS_DEADLINE_MS + CALL_BUDGET_MS).toBeLessThanOrEqual(FUNCTION_DEFAULTS.timeoutSeconds * 1000);
  });

  it('stops before the first write when the reads ran past the deadline, and counts the failure', async () => {
    // Prepare
    const { fake, deps } = swapWorld();
    slowDescribe(fake, PASS_DEADLINE_MS + 1);
    const addMetric = jest.spyOn(deps.metrics, 'addMetric');
    const logError = jest.fn();
    jest.spyOn(deps.logger, 'createChild').mockReturnValue({
      ...deps.logger,
      info: jest.fn(),
      error: logError,
    } as unknown as typeof deps.logger);

    // Act
    const pass = reconcileCluster(config, cluster, deps, { trigger: 'test' });

    // Assess
    await expect(pass).rejects.toBeInstanceOf(PassDeadlineError);
    await expect(pass).rejects.toMatchObject({
      name: 'PassDeadlineError',
      elapsedMs: PASS_DEADLINE_MS + 1,
      deadlineMs: PASS_DEADLINE_MS,
    });
    expect(fake.writes).toEqual([]);
    expect(addMetric).toHaveBeenCalledWith('PassFailures', 'Count', 1);
    expect(logError).toHaveBeenCalledWith(
      expect.stringMatching(/deadline/),
      expect.objectContaining({ elapsedMs: PASS_DEADLINE_MS + 1, deadlineMs: PASS_DEADLINE_MS, planned: 2 }),
    );
  });

  it('writes as usual when the reads finished just in time', async () => {
    // Prepare
    const { fake, deps } = swapWorld();
    slowDescribe(fake, PASS_DEADLINE_MS);

    // Act
    const report = await reconcileCluster(config, cluster, deps, { trigger: 'test' });

    // Assess
    expect(fake.writes).toEqual([`register ${TG_A} 10.0.0.13:30000`, `deregister ${TG_A} 10.0.0.11:30000`]);
    expect([report.registered, report.deregistered]).toEqual([1, 1]);
  });

  it('measures on the system clock, not on the business time of options.now', async () => {
    // Prepare: a fixed `now` years in the past (as the tests and the demo's virtual clock pass)
    const { deps } = swapWorld();

    // Act
    const report = await reconcileCluster(config, cluster, deps, { trigger: 'test', now: 0 });

    // Assess
    expect(report.registered).toBe(1);
  });

  it('lets a dry run past the deadline report its plan, since it writes nothing', async () => {
    // Prepare
    const { fake, deps } = swapWorld();
    slowDescribe(fake, PASS_DEADLINE_MS + 1);

    // Act
    const report = await reconcileCluster(config, cluster, deps, { trigger: 'cli', dryRun: true });

    // Assess
    expect(report.changes).toHaveLength(2);
    expect(fake.writes).toEqual([]);
  });

  it('is reported like any other pass failure of an event', async () => {
    // Prepare
    const { fake, deps } = swapWorld();
    slowDescribe(fake, PASS_DEADLINE_MS + 1);
    const logError = jest.spyOn(deps.logger, 'error');
    const trigger = {
      kind: 'passes',
      clusters: [cluster],
      hints: {},
      marks: [],
      trigger: 'schedule',
    } as const;

    // Act
    const result = await runEventPasses(config, trigger, deps, { event: {}, attempt: 0 });

    // Assess
    expect(result.failures).toEqual([expect.stringMatching(/^prod: PassDeadlineError: /)]);
    expect(logError).toHaveBeenCalledWith(
      'Reconcile pass failed; the next trigger repairs it',
      expect.objectContaining({ cluster: 'prod', error: expect.any(PassDeadlineError) }),
    );
    expect(fake.writes).toEqual([]);
  });
});
