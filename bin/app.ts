#!/usr/bin/env node
import { createSyncApp } from '../infra/app';
import { EnvironmentTooLargeError } from '../infra/environment-size';
import { ConfigError } from '../lambdas/domain/config';

// `cdk synth` runs this file; a bad config ends it with the config error's own message, no stack trace.
try {
  createSyncApp().app.synth();
} catch (error) {
  if (error instanceof ConfigError || error instanceof EnvironmentTooLargeError) {
    console.error(error.message);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
