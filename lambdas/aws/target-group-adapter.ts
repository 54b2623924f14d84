import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  type TargetDescription,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { MissingResourceError } from '../domain/errors';
import type { DrainSettings, TargetBatchResult, TargetGroupPort } from '../domain/ports';
import {
  type ObservedTarget,
  TARGET_STATES,
  type TargetRef,
  type TargetState,
  targetKey,
} from '../domain/target';
import { chunksOf } from './chunks';
import { elbv2Client } from './clients';

/**
 * Targets per RegisterTargets / DeregisterTargets call. AWS documents no maximum; 200 is what
 * aws-load-balancer-controller sends, and it keeps one InvalidTarget bisection to 8 levels.
 */
export const TARGETS_PER_CALL = 200;

/**
 * Error names that blame one target, not the call: the call fails as a whole, so the chunk is split
 * until the culprit stands alone. The SDK names modelled errors after their class; the wire code
 * (`InvalidTarget`) is accepted too for errors the SDK could not map.
 */
const PER_TARGET_ERRORS = new Set([
  'InvalidTargetException',
  'InvalidTarget',
  'TooManyRegistrationsForTargetIdException',
  'TooManyRegistrationsForTargetId',
]);

const TARGET_GROUP_NOT_FOUND = new Set(['TargetGroupNotFoundException', 'TargetGroupNotFound']);

/** AWS's default `deregistration_delay.timeout_seconds`. */
export const DEFAULT_DEREGISTRATION_DELAY_SECONDS = 300;

const KNOWN_STATES: ReadonlySet<string> = new Set(TARGET_STATES);

type TargetCall = (targetGroupArn: string, targets: TargetDescription[]) => Promise<unknown>;

/**
 * ELBv2 adapter: observes and changes the targets of a target group.
 *
 * @example
 * const result = await new TargetGroupAdapter().registerTargets(arn, [{ id: '10.0.1.7', port: 30080 }]);
 */
export class TargetGroupAdapter implements TargetGroupPort {
  /** @param client defaults to the process-wide client; tests inject their own. */
  public constructor(private readonly client: ElasticLoadBalancingV2Client = elbv2Client()) {}

  /**
   * The group's draining settings. AWS's defaults (300 s, connections kept) apply when an attribute is
   * absent from the answer, as AWS documents them.
   */
  public async describeDrainSettings(targetGroupArn: string): Promise<DrainSettings> {
    const output = await this.guard(targetGroupArn, () =>
      this.client.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn })),
    );
    const value = (key: string) => output.Attributes?.find((a) => a.Key === key)?.Value;
    const delay = Number(
      value('deregistration_delay.timeout_seconds') ?? DEFAULT_DEREGISTRATION_DELAY_SECONDS,
    );
    return {
      deregistrationDelaySeconds: Number.isFinite(delay) ? delay : DEFAULT_DEREGISTRATION_DELAY_SECONDS,
      connectionTermination: value('deregistration_delay.connection_termination.enabled') === 'true',
    };
  }

  /** Every target of the group with its health; DescribeTargetHealth has no pagination, one call suffices. */
  public async describeTargets(targetGroupArn: string): Promise<ObservedTarget[]> {
    const output = await this.guard(targetGroupArn, () =>
      this.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })),
    );
    return (output.TargetHealthDescriptions ?? []).flatMap(toObservedTarget);
  }

  /** Registers in chunks of 200; targets AWS refuses are isolated and reported, the rest applied. */
  public async registerTargets(
    targetGroupArn: string,
    targets: readonly TargetRef[],
  ): Promise<TargetBatchResult> {
    return this.applyInChunks(targetGroupArn, targets, (arn, chunk) =>
      this.client.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: chunk })),
    );
  }

  /** Deregisters in chunks of 200; targets AWS refuses are isolated and reported, the rest applied. */
  public async deregisterTargets(
    targetGroupArn: string,
    targets: readonly TargetRef[],
  ): Promise<TargetBatchResult> {
    return this.applyInChunks(targetGroupArn, targets, (arn, chunk) =>
      this.client.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: chunk })),
    );
  }

  /**
   * The chunks of one call go out together (one round trip for up to 200 x the limiter's burst targets):
   * the client's rate limiter (lambdas/aws/rate-limit.ts, burst 20 then 4/s) spaces them when there
   * are more than ELBv2's write budget allows. Results are reported in chunk order.
   */
  private async applyInChunks(
    targetGroupArn: string,
    targets: readonly TargetRef[],
    call: TargetCall,
  ): Promise<TargetBatchResult> {
    const unique = [...new Map(targets.map((target) => [targetKey(target), target])).values()];
    const outcomes = await settledInOrder(
      chunksOf(unique, TARGETS_PER_CALL).map((chunk) => this.applyIsolating(targetGroupArn, chunk, call)),
    );
    return {
      applied: outcomes.flatMap((o) => o.applied),
      rejected: outcomes.flatMap((o) => o.rejected),
    };
  }

  /**
   * One bad target fails the whole call, and AWS's message is not a reliable way to tell which one,
   * so the chunk is bisected: halves that succeed are applied, a failing single target is rejected.
   * k bad targets among n cost about 2k·log2(n) extra calls; only per-target errors trigger it.
   */
  private async applyIsolating(
    targetGroupArn: string,
    targets: readonly TargetRef[],
    call: TargetCall,
  ): Promise<TargetBatchResult> {
    try {
      await this.guard(targetGroupArn, () =>
        call(
          targetGroupArn,
          targets.map((target) => ({ Id: target.id, Port: target.port })),
        ),
      );
      return { applied: [...targets], rejected: [] };
    } catch (error) {
      if (!(error instanceof Error) || !PER_TARGET_ERRORS.has(error.name)) {
        throw error;
      }
      const [single] = targets;
      if (targets.length === 1 && single !== undefined) {
        return {
          applied: [],
          rejected: [{ target: single, code: errorCode(error), message: error.message }],
        };
      }
      const middle = Math.ceil(targets.length / 2);
      const first = await this.applyIsolating(targetGroupArn, targets.slice(0, middle), call);
      const second = await this.applyIsolating(targetGroupArn, targets.slice(middle), call);
      return {
        applied: [...first.applied, ...second.applied],
        rejected: [...first.rejected, ...second.rejected],
      };
    }
  }

  /** Turns "no such target group" into the domain's MissingResourceError; every other error passes through. */
  private async guard<T>(targetGroupArn: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof Error && TARGET_GROUP_NOT_FOUND.has(error.name)) {
        throw new MissingResourceError(`Target group ${targetGroupArn} does not exist: ${error.message}`);
      }
      throw error;
    }
  }
}

/**
 * Waits for every call, then returns their results in order, or throws the first error in order: no
 * call is still running when this returns, so a failure never leaves a write behind in flight.
 */
async function settledInOrder<T>(calls: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(calls);
  return settled.map((outcome) => {
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  });
}

/** The wire code (`InvalidTarget`) as AWS documents it; the SDK keeps it in `Code` for query protocols. */
function errorCode(error: Error): string {
  if ('Code' in error && typeof error.Code === 'string' && error.Code !== '') {
    return error.Code;
  }
  return error.name.replace(/Exception$/, '');
}

function toObservedTarget(description: TargetHealthDescription): ObservedTarget[] {
  const { Target: target, TargetHealth: health } = description;
  if (target?.Id === undefined || target.Port === undefined) {
    return [];
  }
  return [
    {
      id: target.Id,
      port: target.Port,
      state: toTargetState(health?.State),
      ...(health?.Reason !== undefined && { reason: health.Reason }),
      ...(target.AvailabilityZone !== undefined && { availabilityZone: target.AvailabilityZone }),
    },
  ];
}

/** A state this code does not know yet is treated as `unavailable`: neither healthy nor leaving. */
function toTargetState(state: string | undefined): TargetState {
  return isTargetState(state) ? state : 'unavailable';
}

function isTargetState(state: string | undefined): state is TargetState {
  return state !== undefined && KNOWN_STATES.has(state);
}
