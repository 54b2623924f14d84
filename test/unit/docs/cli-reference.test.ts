import { readFileSync } from 'node:fs';
import {
  CLI_REFERENCE_PATH,
  commandsOf,
  helpOf,
  renderCliReference,
} from '../../../scripts/gen-cli-reference';

/* docs/cli-reference.md is the CLI's own help; it must be what the CLI prints now. */

describe('docs/cli-reference.md', () => {
  it('is what scripts/gen-cli-reference.ts generates from the help now (run it after changing the CLI)', async () => {
    // Act
    const generated = await renderCliReference();
    // Assess
    expect(readFileSync(CLI_REFERENCE_PATH, 'utf8')).toBe(generated);
  });

  it('has a section for every command of the top help, and the top help lists all six', async () => {
    // Prepare
    const text = readFileSync(CLI_REFERENCE_PATH, 'utf8');
    // Act
    const commands = commandsOf(await helpOf(['--help']));
    // Assess
    expect(commands).toEqual(['validate', 'plan', 'apply', 'status', 'drain', 'undrain']);
    for (const name of commands) expect(text).toContain(`Usage: nlb-nodeport-sync ${name} `);
  });
});
