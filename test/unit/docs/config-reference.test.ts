import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { syncConfigSchema } from '../../../lambdas/domain/config';
import {
  CONFIG_REFERENCE_PATH,
  configFields,
  FULL_EXAMPLE,
  renderConfigReference,
} from '../../../scripts/gen-config-reference';

/*
 * docs/config-reference.md is generated from the zod schema; docs/configuration.md says what each field
 * means. Both are held to the schema here, so a field added, removed or changed fails until the docs follow.
 */

describe('docs/config-reference.md', () => {
  it('is what scripts/gen-config-reference.ts generates from the schema now (run it after a schema change)', () => {
    // Act
    const generated = renderConfigReference();
    // Assess
    expect(readFileSync(CONFIG_REFERENCE_PATH, 'utf8')).toBe(generated);
  });

  it('its example with every section is a valid config', () => {
    // Act
    const result = syncConfigSchema.safeParse(FULL_EXAMPLE);
    // Assess
    expect(result.success ? [] : result.error.issues).toEqual([]);
  });

  it('gives every field that is not an object the error its bad value gets', () => {
    // Act
    const fields = configFields();
    // Assess
    const withoutError = fields
      .filter((f) => f.type !== 'object' && f.error === undefined)
      .map((f) => f.path);
    expect(withoutError).toEqual([]);
    expect(fields.find((f) => f.path === 'clusters[].portMappings[].nodePort')).toEqual({
      path: 'clusters[].portMappings[].nodePort',
      type: 'integer (>= 1, <= 65535)',
      required: true,
      error: { tried: '0', message: 'Too small: expected number to be >=1' },
    });
  });
});

describe('docs/configuration.md', () => {
  it('says what every field of the schema means: its path, or its name in its parent row', () => {
    // Prepare
    const text = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'configuration.md'), 'utf8');
    const rows = text.split('\n').filter((line) => line.startsWith('| `'));
    // Act
    const missing = configFields()
      .map((f) => f.path)
      .filter((path) => {
        if (text.includes(`\`${path}\``) || text.includes(`\`${path}[]\``)) return false;
        const cut = path.lastIndexOf('.');
        const parent = path.slice(0, cut);
        const leaf = path.slice(cut + 1);
        return !rows.some((row) => {
          const firstCell = row.split('|')[1] ?? '';
          return firstCell.includes(`\`${parent}`) && row.includes(`\`${leaf}\``);
        });
      });
    // Assess
    expect(missing).toEqual([]);
  });
});
