import { FUNCTION_DEFAULTS } from '../../infra/constants';
import { FIXTURES, synthesize } from './synth-helpers';

describe('Class: NlbNodeportSyncStack, the function size', () => {
  it('gives the pass function 1,769 MB, one full vCPU (docs/benchmarks.md, "Memory size")', () => {
    // Prepare
    const { template } = synthesize(FIXTURES.import);

    // Act
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));

    // Assess
    expect(FUNCTION_DEFAULTS.memorySizeMb).toBe(1769);
    expect(
      functions.map((f) => (f as { Properties: { MemorySize?: number } }).Properties.MemorySize),
    ).toEqual([1769]);
  });
});
