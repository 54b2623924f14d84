/** Three jest projects: pure/unit (no network), integration (moto), infra (CDK templates). */
// The AWS SDK's NodeVersionSupportWarning (Node < 22) is printed once per process, so once per jest test
// file and child process: a dozen times per run. README.md states the supported versions once; test runs
// (`npx jest` alone too) switch the notice off with the SDK's own switch; workers and children inherit it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }];
const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
module.exports = {
  // In the tree (ignored with node_modules), not in the temporary directory, which `npm test` points at a
  // scratch directory it removes when it ends (scripts/test.sh).
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      // Every test file gets its own lifecycle shim in front of its worker's moto, a reset and a fence before
      // each test, and a 120 s timeout for each test and hook (a loaded CI machine is slow): see
      // setup-moto.ts, and test/support/README.md for why. globalSetup/globalTeardown keep the motos' PIDs
      // and stop them by PID at the end.
      setupFilesAfterEnv: ['<rootDir>/test/integration/setup-moto.ts'],
      globalSetup: '<rootDir>/test/support/jest-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/jest-global-teardown.ts',
    },
    { ...base, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
  ],
};
