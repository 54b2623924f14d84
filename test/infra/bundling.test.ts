import { rmSync } from 'node:fs';
import { basename } from 'node:path';
import { runSynthCheck, type SynthCheckResult } from '../../scripts/synth-check';
import { FIXTURES } from './synth-helpers';

/** The real synths of the suite: esbuild bundles every handler, as `cdk deploy` would. */
describe('Function: runSynthCheck', () => {
  let example: SynthCheckResult;
  const outdirs: string[] = [];
  beforeAll(() => {
    example = runSynthCheck('examples/sync.config.json');
    outdirs.push(example.outdir);
  }, 120_000);
  afterAll(() => {
    for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
  });

  it('bundles every function into a loadable, minified arm64 asset', () => {
    // Assess
    expect(example.bundles).toHaveLength(1);
    for (const bundle of example.bundles) {
      expect(bundle.loadError).toBeUndefined();
      expect(bundle.exportsHandler).toBe(true);
      expect(bundle.codeBytes).toBeGreaterThan(10_000);
      // Lambda's limit for a zipped upload is 50 MB; a bundle this product ships stays far below.
      expect(bundle.codeBytes).toBeLessThan(5 * 1024 * 1024);
      expect(bundle.sourceMapBytes).toBeGreaterThan(0);
    }
  });

  it('bundles the config beside index.js, and the handler reads it from there', () => {
    // Assess: loaded with the function's own environment (no NLB_SYNC_CONFIG); without the file, init fails.
    for (const bundle of example.bundles) {
      expect(bundle.configFileBytes).toBeGreaterThan(100);
      expect(bundle.withoutConfigFile).toMatch(/BundledConfigError/);
    }
  });

  it('changes the asset with the config, and merges created ARNs in the bundled handler', () => {
    // Act: the same code, another config (create mode: deploy-time ARNs in NLB_SYNC_CONFIG_REFS).
    const created = runSynthCheck(FIXTURES.create);
    outdirs.push(created.outdir);

    // Assess
    const [before] = example.bundles;
    const [after] = created.bundles;
    expect(after?.exportsHandler).toBe(true);
    expect(after?.loadError).toBeUndefined();
    expect(after?.withoutConfigFile).toMatch(/BundledConfigError/);
    expect(basename(after?.assetDir ?? '')).not.toBe(basename(before?.assetDir ?? ''));
    expect(after?.codeBytes).toBe(before?.codeBytes);
  }, 120_000);
});
