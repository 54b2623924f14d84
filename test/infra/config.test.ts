import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSyncApp } from '../../infra/app';
import { ConfigError, parseSyncConfig } from '../../lambdas/domain/config';
import { FIXTURES } from './synth-helpers';

const ROOT = resolve(__dirname, '..', '..');
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

describe('Function: createSyncApp', () => {
  describe('Method: config loading', () => {
    it('fails with a ConfigError naming the field when the config is wrong', () => {
      // Prepare
      const appProps = { context: { config: FIXTURES.bad, ...NO_BUNDLING } };

      // Act
      const build = () => createSyncApp({ appProps });

      // Assess
      expect(build).toThrow(ConfigError);
      expect(build).toThrow(/clusters\.0\.portMappings\.0\.nodePort/);
    });

    it('fails naming the file when the config file does not exist', () => {
      // Prepare
      const appProps = { context: { config: 'test/infra/fixtures/missing.json', ...NO_BUNDLING } };

      // Act & Assess
      expect(() => createSyncApp({ appProps })).toThrow(/missing\.json.*cannot read the file/s);
    });

    it('refuses TLS listeners in create mode, naming the port mapping', () => {
      // Prepare
      const raw = JSON.parse(readFileSync(FIXTURES.create, 'utf8'));
      raw.clusters[0].portMappings[1].protocol = 'TLS';

      // Act
      const build = () => createSyncApp({ config: parseSyncConfig(raw), appProps: { context: NO_BUNDLING } });

      // Assess
      expect(build).toThrow(/clusters\.0\.portMappings\.1\.protocol: TLS listeners need a certificate/);
    });
  });

  describe('Method: bin/app.ts as cdk runs it', () => {
    it('exits non-zero printing the config error, field included, with no stack trace', () => {
      // Prepare
      const outdir = mkdtempSync(join(tmpdir(), 'nlb-sync-bad-'));

      // Act
      const run = (() => {
        try {
          return spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
            cwd: ROOT,
            encoding: 'utf8',
            env: {
              ...process.env,
              CDK_OUTDIR: outdir,
              CDK_CONTEXT_JSON: JSON.stringify({ config: FIXTURES.bad, ...NO_BUNDLING }),
            },
            timeout: 60_000,
          });
        } finally {
          rmSync(outdir, { recursive: true, force: true });
        }
      })();

      // Assess
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('Invalid sync configuration');
      expect(run.stderr).toContain('clusters.0.portMappings.0.nodePort');
      expect(run.stderr).not.toContain('    at ');
    });
  });
});
