import { Token, Tokenization } from 'aws-cdk-lib';
import { DEPLOY_TIME_VALUE_BUDGET_BYTES, LAMBDA_ENVIRONMENT_LIMIT_BYTES } from './constants';

/** The environment of a function would exceed what Lambda accepts; synth stops before deploy would. */
export class EnvironmentTooLargeError extends Error {
  /** The estimated size in bytes. */
  public readonly sizeBytes: number;
  public constructor(functionId: string, sizeBytes: number, largest: string) {
    super(
      `The environment of function "${functionId}" is about ${sizeBytes} bytes, over Lambda's limit of ` +
        `${LAMBDA_ENVIRONMENT_LIMIT_BYTES} bytes (4 KB) for all environment variables of a function together. ` +
        `The largest variable is ${largest}. The sync configuration itself travels as a file in the ` +
        "function's code and has no such limit; what counts here are the deploy-time ARNs of the load balancers " +
        'and target groups the stack creates (loadBalancer.create, about 160 bytes each in NLB_SYNC_CONFIG_REFS): ' +
        'create fewer per deployment, import existing ones by ARN instead, or split the configuration into ' +
        'several deployments with distinct ownerId values.',
    );
    this.name = 'EnvironmentTooLargeError';
    this.sizeBytes = sizeBytes;
  }
}

/** Byte length of one value; each deploy-time token counts as the longest ARN or URL it can become. */
function valueBytes(value: string): number {
  if (!Token.isUnresolved(value)) return Buffer.byteLength(value, 'utf8');
  const tokens = Tokenization.reverseString(value).tokens.length;
  // String tokens are encoded as `${Token[...]}` markers: count what is around them, then the budget.
  const literals = value.replace(/\$\{Token\[[^\]]*\]\}/g, '');
  return Buffer.byteLength(literals, 'utf8') + tokens * DEPLOY_TIME_VALUE_BUDGET_BYTES;
}

/**
 * Estimates how many bytes Lambda counts for an environment (keys plus values).
 * @example environmentBytes({ A: 'b' }) // 2
 */
export function environmentBytes(environment: Readonly<Record<string, string>>): number {
  return Object.entries(environment).reduce(
    (sum, [key, value]) => sum + Buffer.byteLength(key, 'utf8') + valueBytes(value),
    0,
  );
}

/**
 * Fails synth when an environment cannot fit Lambda's 4 KB limit.
 * @throws EnvironmentTooLargeError naming the limit and the largest variable
 */
export function assertEnvironmentFits(
  functionId: string,
  environment: Readonly<Record<string, string>>,
): void {
  const size = environmentBytes(environment);
  if (size <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) return;
  const [largest] = Object.entries(environment)
    .map(([key, value]) => ({ key, bytes: valueBytes(value) }))
    .sort((a, b) => b.bytes - a.bytes);
  throw new EnvironmentTooLargeError(functionId, size, `${largest?.key} (${largest?.bytes} bytes)`);
}
