import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { SyncConfig } from '../lambdas/domain/config';
import { DEFAULT_CONFIG_PATH, loadSyncConfigFile } from './config-file';
import { NlbNodeportSyncStack } from './sync-stack';

/** The stack's name in CloudFormation. */
export const STACK_NAME = 'NlbNodeportSync';

/** Options of {@link createSyncApp}. */
export interface SyncAppOptions {
  /** Props of the CDK app (context, outdir). */
  readonly appProps?: AppProps;
  /** A config to use instead of reading the file named by the `config` context. */
  readonly config?: SyncConfig;
  /** The lane handler entry, relative to the repository root (tests point it at a stub). */
  readonly passHandlerEntry?: string;
}

/** What {@link createSyncApp} built. */
export interface SyncApp {
  readonly app: App;
  readonly stack: NlbNodeportSyncStack;
}

/**
 * Builds the app as `cdk synth` runs it: reads the config named by `-c config=PATH` (default
 * examples/sync.config.json), builds one environment-agnostic stack (no credentials, no lookups)
 * and registers the cdk-nag AwsSolutions checks, so an unanswered finding fails synth.
 * @throws ConfigError naming the failing field when the config is invalid
 */
export function createSyncApp(options: SyncAppOptions = {}): SyncApp {
  const app = new App(options.appProps);
  const path = (app.node.tryGetContext('config') as string | undefined) ?? DEFAULT_CONFIG_PATH;
  const config = options.config ?? loadSyncConfigFile(path);
  const stack = new NlbNodeportSyncStack(app, STACK_NAME, {
    config,
    passHandlerEntry: options.passHandlerEntry,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
