/**
 * Held lifecycle actions, per path (launch, terminate, spot, drain, a launch whose first pass was throttled):
 * how many invocations the path takes, how long the longest one runs on moto, how many AWS calls it makes
 * for the one node, how many messages it sends itself, and when (virtual seconds) the action is answered.
 * Runs on moto with the shim's target model (AWS's initial/healthy/draining states) and the product's
 * queues in memory on a virtual clock (test/support/virtual-time.ts): minutes of waiting take seconds.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { parseSyncConfig } from '../lambdas/domain/config';
import { lifecycleHookName } from '../lambdas/domain/lifecycle-hooks';
import { createReconcileHandler } from '../lambdas/handlers/reconcile-handler';
import { createContainer } from '../lambdas/runtime/container';
import { drainInstance } from '../lambdas/sync/drain-node';
import { lifecycleEvent, scheduledEvent, spotInterruptionEvent } from '../test/support/events';
import { asgInstances, buildWorld, setDesiredCapacity, WorldTargetType } from '../test/support/moto-world';
import { VirtualTime } from '../test/support/virtual-time';
import type { CallCounter } from './call-counter';

/** One path's figures. */
export interface LifecyclePathResult {
  readonly path: string;
  readonly invocations: number;
  readonly longestInvocationMs: number;
  /** AWS calls by operation over the whole path, for the one node. */
  readonly calls: ReadonlyMap<string, number>;
  /** Messages the product sent itself (re-checks, retries). */
  readonly messages: number;
  /** Virtual seconds from the event to the answer (undefined: no lifecycle action on this path). */
  readonly answeredAfterSeconds?: number;
  readonly problems: readonly string[];
}

const ASG = 'bench-lifecycle';

/**
 * Measures every path on a fresh world of 3 nodes and 3 target groups (2 ip, 1 instance; the groups'
 * default health checks, 30 s x 5 = 150 s in `initial`, and deregistration delay, 300 s).
 */
export async function measureLifecyclePaths(
  endpoint: string,
  reset: () => Promise<void>,
  counter: CallCounter,
): Promise<LifecyclePathResult[]> {
  await reset();
  const world = await buildWorld(endpoint, {
    nodes: 3,
    asgName: ASG,
    hookNames: {
      launch: lifecycleHookName('nlb-nodeport-sync', 'bench', 'launch'),
      terminate: lifecycleHookName('nlb-nodeport-sync', 'bench', 'terminate'),
    },
    ports: [
      { name: 'app0', listenerPort: 4000, nodePort: 30000, targetType: WorldTargetType.ip },
      { name: 'app1', listenerPort: 4001, nodePort: 30001, targetType: WorldTargetType.ip },
      { name: 'inst', listenerPort: 4002, nodePort: 30002, targetType: WorldTargetType.instance },
    ],
  });
  const config = parseSyncConfig({
    clusters: [
      {
        name: 'bench',
        nodeSource: { autoScalingGroups: [ASG] },
        portMappings: world.targetGroups.map((tg, i) => ({
          name: `m${i}`,
          targetGroupArn: tg.arn,
          targetType: tg.targetType,
          nodePort: tg.nodePort,
        })),
      },
    ],
  });
  const time = new VirtualTime(endpoint);
  await time.start();
  const container = createContainer({
    logger: new Logger({ serviceName: 'nlb-nodeport-sync-bench', logLevel: 'ERROR' }),
    queues: time.queues,
    clock: time.clock,
  });
  const handler = createReconcileHandler(config, container);
  let invocations = 0;
  let longest = 0;
  const timed = async (event: unknown) => {
    const started = performance.now();
    try {
      return await handler(event);
    } finally {
      invocations += 1;
      longest = Math.max(longest, performance.now() - started);
    }
  };
  await timed(scheduledEvent());
  await time.advance(200, timed, 10);

  const measure = async (
    path: string,
    act: () => Promise<void>,
    waitSeconds: number,
    answered: boolean,
  ): Promise<LifecyclePathResult> => {
    counter.reset();
    invocations = 0;
    longest = 0;
    const sentBefore = time.queues.sent.length;
    const completesBefore = countAnswers(counter);
    const start = time.elapsedSeconds();
    await act();
    let answeredAt: number | undefined;
    for (let s = 0; s < waitSeconds; s += 1) {
      await time.advance(1, timed);
      if (answeredAt === undefined && countAnswers(counter) > completesBefore) {
        answeredAt = time.elapsedSeconds() - start;
      }
    }
    const problems = answered && answeredAt === undefined ? [`not answered within ${waitSeconds} s`] : [];
    return {
      path,
      invocations,
      longestInvocationMs: longest,
      calls: counter.snapshot().calls,
      messages: time.queues.sent.length - sentBefore,
      ...(answeredAt !== undefined && { answeredAfterSeconds: answeredAt }),
      problems,
    };
  };

  const results: LifecyclePathResult[] = [];
  const out = await setDesiredCapacity(endpoint, ASG, 4);
  results.push(
    await measure(
      'launch (gate healthy)',
      async () => {
        for (const id of out.appeared) await timed(lifecycleEvent(world, id, 'launch'));
      },
      300,
      true,
    ),
  );
  const inn = await setDesiredCapacity(endpoint, ASG, 3);
  results.push(
    await measure(
      'terminate (drain 300 s)',
      async () => {
        for (const id of inn.disappeared) await timed(lifecycleEvent(world, id, 'terminate'));
      },
      400,
      true,
    ),
  );
  const [spotNode, drainNode] = await asgInstances(endpoint, ASG);
  results.push(
    await measure(
      'spot warning',
      async () => {
        await timed(spotInterruptionEvent(spotNode?.instanceId ?? ''));
      },
      0,
      false,
    ),
  );
  results.push(
    await measure(
      'operator drain + next pass',
      async () => {
        await drainInstance(config, drainNode?.instanceId ?? '', container);
        await timed(scheduledEvent());
      },
      0,
      false,
    ),
  );
  const again = await setDesiredCapacity(endpoint, ASG, 4);
  const register = container.targetGroups.registerTargets.bind(container.targetGroups);
  let failOnce = true;
  container.targetGroups.registerTargets = async (arn, targets) => {
    if (failOnce) {
      failOnce = false;
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    }
    return register(arn, targets);
  };
  results.push(
    await measure(
      'launch, first pass throttled',
      async () => {
        for (const id of again.appeared) await timed(lifecycleEvent(world, id, 'launch'));
      },
      300,
      true,
    ),
  );
  container.targetGroups.registerTargets = register;
  return results;
}

function countAnswers(counter: CallCounter): number {
  return counter.snapshot().calls.get('CompleteLifecycleAction') ?? 0;
}
