import { lifecycleHookName, RULE_KINDS, ruleName, ruleNamePrefix } from '../../infra/naming';

describe('Function: ruleName', () => {
  it('joins owner, cluster and kind when they fit', () => {
    // Prepare & Act
    const name = ruleName('nlb-nodeport-sync', 'prod', RULE_KINDS.schedule);

    // Assess
    expect(name).toBe('nlb-nodeport-sync-prod-schedule');
  });

  it('keeps long names within 64 characters, distinct, and starting with the owner prefix', () => {
    // Prepare
    const owner = 'a'.repeat(40);
    const clusters = ['b'.repeat(40), `${'b'.repeat(39)}c`];

    // Act
    const names = clusters.flatMap((cluster) =>
      Object.values(RULE_KINDS).map((kind) => ruleName(owner, cluster, kind)),
    );

    // Assess
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(64);
      expect(name.startsWith(ruleNamePrefix(owner))).toBe(true);
    }
  });
});

describe('Function: lifecycleHookName', () => {
  it('names the hook after owner, cluster and transition', () => {
    // Prepare & Act
    const name = lifecycleHookName('nlb-nodeport-sync', 'prod', 'terminate');

    // Assess
    expect(name).toBe('nlb-nodeport-sync-prod-terminate');
  });
});
