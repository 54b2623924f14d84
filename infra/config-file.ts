import { readFileSync } from 'node:fs';
import { ConfigError, parseSyncConfigText, type SyncConfig } from '../lambdas/domain/config';

/** The file `cdk synth` reads when no `-c config=PATH` is given. */
export const DEFAULT_CONFIG_PATH = 'examples/sync.config.json';

/**
 * Reads and validates the sync configuration file for synth.
 * @param path - the file, relative to the working directory
 * @throws ConfigError naming every failing field, or the file when it cannot be read
 * @example loadSyncConfigFile('examples/sync.config.json')
 */
export function loadSyncConfigFile(path: string): SyncConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`(root): cannot read the file: ${(error as Error).message}`]);
  }
  return parseSyncConfigText(text, path);
}
