import { runSynthCheck } from '../../scripts/synth-check';

/** The one real synth of the suite: esbuild bundles every handler, as `cdk deploy` would. */
describe('Function: runSynthCheck', () => {
  it('bundles every function into a loadable, minified arm64 asset', () => {
    // Prepare & Act
    const result = runSynthCheck('examples/sync.config.json');

    // Assess
    expect(result.bundles).toHaveLength(1);
    for (const bundle of result.bundles) {
      expect(bundle.loadError).toBeUndefined();
      expect(bundle.exportsHandler).toBe(true);
      expect(bundle.codeBytes).toBeGreaterThan(10_000);
      // Lambda's limit for a zipped upload is 50 MB; a bundle this product ships stays far below.
      expect(bundle.codeBytes).toBeLessThan(5 * 1024 * 1024);
      expect(bundle.sourceMapBytes).toBeGreaterThan(0);
    }
  }, 120_000);
});
