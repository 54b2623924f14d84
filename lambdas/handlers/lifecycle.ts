import { createContainer } from '../runtime/container';
import { loadConfigFromEnvironment } from '../runtime/environment';
import { createLifecycleHandler } from './lifecycle-handler';

/**
 * Lambda entry point. Config and clients are created once per execution environment, at init, so
 * an invalid config fails the init loudly and clients are reused across invocations.
 */
export const handler = createLifecycleHandler(loadConfigFromEnvironment(), createContainer());
