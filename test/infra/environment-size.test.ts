import { Stack, Token } from 'aws-cdk-lib';
import {
  assertEnvironmentFits,
  EnvironmentTooLargeError,
  environmentBytes,
} from '../../infra/environment-size';

describe('Function: environmentBytes', () => {
  it('counts keys and values in UTF-8 bytes', () => {
    // Prepare & Act
    const bytes = environmentBytes({ A: 'bc', É: 'é' });

    // Assess
    expect(bytes).toBe(1 + 2 + 2 + 2);
  });

  it('counts a deploy-time reference as the longest value it can become', () => {
    // Prepare
    const stack = new Stack();
    const arn = Token.asString({ Ref: 'Something' });

    // Act
    const bytes = environmentBytes({ K: `{"arn":"${arn}"}` });

    // Assess
    expect(stack.resolve(arn)).toEqual({ Ref: 'Something' });
    expect(bytes).toBe(1 + '{"arn":""}'.length + 160);
  });
});

describe('Function: assertEnvironmentFits', () => {
  it('accepts exactly 4096 bytes and refuses one more', () => {
    // Prepare
    const fits = { K: 'x'.repeat(4095) };
    const tooBig = { K: 'x'.repeat(4096) };

    // Act & Assess
    expect(() => assertEnvironmentFits('Fn', fits)).not.toThrow();
    expect(() => assertEnvironmentFits('Fn', tooBig)).toThrow(EnvironmentTooLargeError);
  });
});
