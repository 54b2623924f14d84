/**
 * setupFilesAfterEnv of the integration project (jest.config.js): runs in every integration test file,
 * before the file itself.
 */
import { MOTO_TEST_TIMEOUT_MS, useMoto } from '../support/moto-test-env';

// Every test here talks to a real moto, which on a busy 2-core CI machine runs several times slower than
// alone: jest's default 5 s failed tests that were only slow, and a test that times out keeps running. This
// is the integration project's default for tests and hooks; jest-circus ignores a `testTimeout` set on one
// project in jest.config.js (it only reads the global one, which would also apply to the unit tests).
jest.setTimeout(MOTO_TEST_TIMEOUT_MS);

// Each file gets its own lifecycle shim in front of its worker's moto, and a reset plus a fresh fence before
// each test.
useMoto();
