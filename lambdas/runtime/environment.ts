import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, parseSyncConfig, parseSyncConfigText, type SyncConfig } from '../domain/config';
import { EnvironmentError } from '../domain/errors';

/** Where the sync configuration comes from. */
export const CONFIG_ENV = {
  /** The configuration as JSON text (local runs, the bench); wins over everything else. */
  inline: 'NLB_SYNC_CONFIG',
  /**
   * The name of the validated configuration file bundled with the function's code, beside index.js
   * (set by the CDK stack; how the deployed Lambdas receive it, see docs/deploy.md "Config delivery").
   */
  bundled: 'NLB_SYNC_CONFIG_BUNDLED',
  /**
   * The values CloudFormation fills in at deploy time (ARNs of created load balancers and target
   * groups) as compact JSON, {@link DeployTimeValues}; merged into the bundled file at init.
   */
  deployTime: 'NLB_SYNC_CONFIG_REFS',
  /** A path to the configuration file; how the CLI and local runs receive it. */
  file: 'NLB_SYNC_CONFIG_FILE',
} as const;

/** The file name of the configuration bundled with the function's code. */
export const BUNDLED_CONFIG_FILE_NAME = 'sync.config.json';

/** The deployment's queues (set by the CDK stack; see docs/lifecycle.md). */
export const QUEUE_ENV = {
  /** The wait queue: delayed re-checks of held lifecycle actions and delayed retries. */
  waitQueueUrl: 'NLB_SYNC_WAIT_QUEUE_URL',
  /** The FIFO lane: where a re-check puts an action whose pass must run again. */
  laneQueueUrl: 'NLB_SYNC_LANE_QUEUE_URL',
} as const;

/** The deploy-time values of one cluster whose load balancer the stack creates. */
export interface ClusterDeployTimeValues {
  /** The created NLB's ARN (`loadBalancer.arn`). */
  readonly lb: string;
  /** The created target groups' ARNs, in port-mapping order (`portMappings[i].targetGroupArn`). */
  readonly tg: readonly string[];
}

/**
 * What `NLB_SYNC_CONFIG_REFS` holds: the digest of the bundled file it belongs to, and per cluster
 * name the ARNs CloudFormation filled in. Compact on purpose: it counts against Lambda's 4 KB.
 */
export interface DeployTimeValues {
  /** {@link configDigest} of the bundled file these values were made for. */
  readonly v: string;
  /** Per cluster name. */
  readonly c: Readonly<Record<string, ClusterDeployTimeValues>>;
}

/**
 * The bundled configuration is missing, unreadable, or does not belong with the deploy-time values
 * in the environment (a code and configuration update seen half-way). The function's init fails.
 */
export class BundledConfigError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'BundledConfigError';
  }
}

/**
 * A short digest of the bundled file's text; ties `NLB_SYNC_CONFIG_REFS` to the file it was made for.
 * @example configDigest('{}') // '44136fa355b3678a'
 */
export function configDigest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses and checks the shape of `NLB_SYNC_CONFIG_REFS`. */
function parseDeployTimeValues(text: string): DeployTimeValues {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new BundledConfigError(`${CONFIG_ENV.deployTime} is not valid JSON: ${(error as Error).message}`);
  }
  const clusters = isRecord(raw) ? raw.c : undefined;
  if (!isRecord(raw) || typeof raw.v !== 'string' || !isRecord(clusters)) {
    throw new BundledConfigError(`${CONFIG_ENV.deployTime} must be {"v": digest, "c": {cluster: {...}}}`);
  }
  for (const [name, values] of Object.entries(clusters)) {
    const ok =
      isRecord(values) &&
      typeof values.lb === 'string' &&
      Array.isArray(values.tg) &&
      values.tg.every((arn) => typeof arn === 'string');
    if (!ok) {
      throw new BundledConfigError(
        `${CONFIG_ENV.deployTime}.c.${name} must be {"lb": arn, "tg": [arn, ...]}`,
      );
    }
  }
  return raw as unknown as DeployTimeValues;
}

/**
 * Writes deploy-time ARNs into a parsed (not yet validated) configuration: per named cluster
 * `loadBalancer.arn` and each `portMappings[i].targetGroupArn`.
 * @throws BundledConfigError when a cluster is unknown or its mapping count differs
 */
export function mergeDeployTimeValues(raw: unknown, values: DeployTimeValues): unknown {
  if (!isRecord(raw) || !Array.isArray(raw.clusters)) return raw;
  const clusters = raw.clusters as unknown[];
  const names = new Set(clusters.map((cluster) => (isRecord(cluster) ? cluster.name : undefined)));
  const unknown = Object.keys(values.c).filter((name) => !names.has(name));
  if (unknown.length > 0) {
    throw new BundledConfigError(
      `${CONFIG_ENV.deployTime} names clusters the bundled configuration does not have: ${unknown.join(', ')}`,
    );
  }
  return {
    ...raw,
    clusters: clusters.map((cluster) => {
      if (!isRecord(cluster) || typeof cluster.name !== 'string') return cluster;
      const own = values.c[cluster.name];
      if (own === undefined) return cluster;
      const mappings = Array.isArray(cluster.portMappings) ? (cluster.portMappings as unknown[]) : [];
      if (mappings.length !== own.tg.length) {
        throw new BundledConfigError(
          `${CONFIG_ENV.deployTime}.c.${cluster.name} has ${own.tg.length} target group ARNs for ` +
            `${mappings.length} port mappings`,
        );
      }
      return {
        ...cluster,
        loadBalancer: { ...(isRecord(cluster.loadBalancer) ? cluster.loadBalancer : {}), arn: own.lb },
        portMappings: mappings.map((mapping, index) =>
          isRecord(mapping) ? { ...mapping, targetGroupArn: own.tg[index] } : mapping,
        ),
      };
    }),
  };
}

/**
 * Reads the configuration bundled with the function's code, merges the deploy-time values (when
 * given) and validates the result.
 * @param fileName - the file, relative to `baseDir` (or absolute)
 * @param deployTimeText - the text of `NLB_SYNC_CONFIG_REFS`, if set
 * @param baseDir - where the bundle lives; the bundled index.js's own directory by default
 * @throws BundledConfigError when the file is missing or does not match the deploy-time values,
 *   ConfigError naming the failing field when the configuration is invalid
 */
export function loadBundledConfig(
  fileName: string,
  deployTimeText: string | undefined,
  baseDir: string = __dirname,
): SyncConfig {
  const path = resolve(baseDir, fileName);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BundledConfigError(
      `Cannot read the bundled sync configuration ${path} (${CONFIG_ENV.bundled}=${fileName}): ` +
        `${(error as Error).message}. It is written into the function's code by the CDK stack; deploy again.`,
    );
  }
  if (deployTimeText === undefined || deployTimeText.trim() === '') {
    return parseSyncConfigText(text, path);
  }
  const values = parseDeployTimeValues(deployTimeText);
  const digest = configDigest(text);
  if (values.v !== digest) {
    throw new BundledConfigError(
      `${CONFIG_ENV.deployTime} was made for bundled configuration ${values.v}, but ${path} is ${digest}: ` +
        'the code and the environment come from different deployments (an update seen half-way); the next init retries',
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(path, [`(root): not valid JSON: ${(error as Error).message}`]);
  }
  // Validated once, with the deploy-time values in place.
  return parseSyncConfig(mergeDeployTimeValues(raw, values), `${path} with ${CONFIG_ENV.deployTime}`);
}

/**
 * Loads and validates the sync configuration from the environment, once, at start.
 * `NLB_SYNC_CONFIG` (inline JSON) wins over `NLB_SYNC_CONFIG_BUNDLED` (the file bundled with the
 * code, with `NLB_SYNC_CONFIG_REFS` merged in), which wins over `NLB_SYNC_CONFIG_FILE` (a path).
 * @throws ConfigError naming the failing field, BundledConfigError when the bundled file is missing
 *   or does not match, EnvironmentError when no variable is set.
 */
export function loadConfigFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  bundleDir: string = __dirname,
): SyncConfig {
  const inline = env[CONFIG_ENV.inline];
  if (inline !== undefined && inline.trim() !== '') {
    return parseSyncConfigText(inline, `environment variable ${CONFIG_ENV.inline}`);
  }
  const bundled = env[CONFIG_ENV.bundled];
  if (bundled !== undefined && bundled.trim() !== '') {
    return loadBundledConfig(bundled, env[CONFIG_ENV.deployTime], bundleDir);
  }
  const file = env[CONFIG_ENV.file];
  if (file !== undefined && file.trim() !== '') return loadConfigFile(file);
  throw new EnvironmentError(
    `No sync configuration: set ${CONFIG_ENV.inline} (JSON), ${CONFIG_ENV.bundled} (a file bundled with ` +
      `the code) or ${CONFIG_ENV.file} (a path to a JSON file)`,
  );
}

/**
 * Reads and validates a configuration file.
 * @throws EnvironmentError when the file cannot be read, ConfigError when it is invalid.
 */
export function loadConfigFile(path: string): SyncConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new EnvironmentError(
      `Cannot read the sync configuration file ${path}: ${(error as Error).message}`,
    );
  }
  return parseSyncConfigText(text, path);
}
