import { readFileSync } from 'node:fs';
import { parseSyncConfigText, type SyncConfig } from '../domain/config';
import { EnvironmentError } from '../domain/errors';

/** Where the sync configuration comes from. */
export const CONFIG_ENV = {
  /** The configuration as JSON text; how the deployed Lambdas receive it (set by the CDK stack). */
  inline: 'NLB_SYNC_CONFIG',
  /** A path to the configuration file; how the CLI and local runs receive it. */
  file: 'NLB_SYNC_CONFIG_FILE',
} as const;

/** The deployment's queues (set by the CDK stack; see docs/lifecycle.md). */
export const QUEUE_ENV = {
  /** The wait queue: delayed re-checks of held lifecycle actions and delayed retries. */
  waitQueueUrl: 'NLB_SYNC_WAIT_QUEUE_URL',
  /** The FIFO lane: where a re-check puts an action whose pass must run again. */
  laneQueueUrl: 'NLB_SYNC_LANE_QUEUE_URL',
} as const;

/**
 * Loads and validates the sync configuration from the environment, once, at start.
 * `NLB_SYNC_CONFIG` (inline JSON) wins over `NLB_SYNC_CONFIG_FILE` (a path).
 * @throws ConfigError naming the failing field, EnvironmentError when neither variable is set.
 */
export function loadConfigFromEnvironment(env: NodeJS.ProcessEnv = process.env): SyncConfig {
  const inline = env[CONFIG_ENV.inline];
  if (inline !== undefined && inline.trim() !== '') {
    return parseSyncConfigText(inline, `environment variable ${CONFIG_ENV.inline}`);
  }
  const file = env[CONFIG_ENV.file];
  if (file !== undefined && file.trim() !== '') return loadConfigFile(file);
  throw new EnvironmentError(
    `No sync configuration: set ${CONFIG_ENV.inline} (JSON) or ${CONFIG_ENV.file} (a path to a JSON file)`,
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
