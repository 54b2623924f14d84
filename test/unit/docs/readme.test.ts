import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * The README's promises that code can check: the two commands first and real, the flow picture naming every
 * folder of the code, the supported Node versions stated once and matching package.json and the stack, and
 * one wording of ownership in every doc that states it.
 */

const ROOT = join(__dirname, '..', '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const README = read('README.md');
const OWNERSHIP =
  'It owns every target of a configured target group except `preservedTargets`, the security-group rules whose description starts with `nlb-nodeport-sync:<ownerId>/<cluster>:`, and the Route 53 names whose TXT record holds its marker; other targets, rules and records it never changes.';

function block(text: string, language: string, after = 0): string {
  const start = text.indexOf(`\`\`\`${language}\n`, after);
  if (start < 0) return '';
  const body = start + language.length + 4;
  return text.slice(body, text.indexOf('```', body));
}

describe('README.md', () => {
  it('starts with the two commands, and both are scripts of package.json', () => {
    // Prepare
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    // Act
    const firstSection = README.split('\n## ')[1] ?? '';
    const commands = block(firstSection, 'sh')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.split('#')[0]?.trim());
    // Assess
    expect(firstSection.startsWith('The two commands')).toBe(true);
    expect(commands).toEqual(['npm run demo', 'npm test']);
    expect(scripts.demo).toBeDefined();
    expect(scripts.test).toBeDefined();
  });

  it('draws the flow with every folder of lambdas/, infra/ and bin/, and names no folder that does not exist', () => {
    // Prepare
    const folders = readdirSync(join(ROOT, 'lambdas'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `lambdas/${entry.name}/`);
    // Act
    const picture = block(README, 'mermaid');
    const named = [...picture.matchAll(/lambdas\/([a-z]+)\//g)].map((m) => `lambdas/${m[1]}/`);
    const layout = block(README, '', README.indexOf('## Layout'));
    // Assess
    expect(folders.length).toBeGreaterThan(6);
    for (const folder of [...folders, 'infra/', 'bin/'])
      expect({ folder, drawn: picture.includes(folder) }).toEqual({ folder, drawn: true });
    expect([...new Set(named)].filter((folder) => !folders.includes(folder))).toEqual([]);
    for (const folder of folders)
      expect({ folder, listed: layout.includes(folder) }).toEqual({ folder, listed: true });
  });

  it('states the supported Node versions once, as package.json and the stack have them', () => {
    // Prepare
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines;
    const fn = read('infra/constructs/sync-function.ts');
    // Act
    const statements = README.match(/Node\.js 20 or newer/g) ?? [];
    // Assess
    expect(statements).toHaveLength(1);
    expect(README).toContain('the Lambdas run on\nnodejs22.x');
    expect(engines.node).toBe('>=20');
    expect(fn).toContain('Runtime.NODEJS_22_X');
    for (const doc of readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md'))) {
      expect({ doc, statesVersion: /Node\.js 2\d (and|or newer)/.test(read(`docs/${doc}`)) }).toEqual({
        doc,
        statesVersion: false,
      });
    }
  });

  it('words ownership one way in every doc that states it, and no doc says it touches only what it created', () => {
    // Act
    const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((name) => `docs/${name}`)].filter((p) =>
      p.endsWith('.md'),
    );
    // Assess
    for (const path of ['README.md', 'docs/architecture.md', 'docs/runbook.md', 'docs/limits.md']) {
      expect({
        path,
        states: read(path)
          .replace(/\s*\n\s*/g, ' ')
          .includes(OWNERSHIP),
      }).toEqual({ path, states: true });
    }
    for (const path of docs) {
      expect({ path, contradicts: /(\bit did not create|never touches a target)/.test(read(path)) }).toEqual({
        path,
        contradicts: false,
      });
    }
  });
});
