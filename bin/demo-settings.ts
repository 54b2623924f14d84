/**
 * Where the demo writes and what --keep reports; light on purpose (no SDK), so that bin/demo.ts can start moto
 * while the rest of the demo loads.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The region of the demo's account. */
export const REGION = 'us-east-1';

/**
 * The demo's directory under the OS temp directory (under `npm test`, its scratch directory). One fixed name,
 * so runs do not pile up: each run overwrites its log.
 */
export const DEMO_DIR = join(tmpdir(), 'nlb-nodeport-sync-demo');
/** The product's JSON log lines of the last run: named at the start and the end of the story, and kept. */
export const LOG_FILE = join(DEMO_DIR, 'demo.log');
/** With --keep: the sync config of the demo's account, for the CLI. */
export const CONFIG_FILE = join(DEMO_DIR, 'demo.config.json');
/** With --keep: moto's output (moto then runs on, detached from the demo). */
export const MOTO_LOG = join(DEMO_DIR, 'moto.log');

/** What --keep prints once the story is over, filled in as the story goes. */
export interface Kept {
  targetGroupArn?: string | undefined;
  configFile?: string;
}
