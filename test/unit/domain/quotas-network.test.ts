import type { IngressChange } from '../../../lambdas/domain/ingress-rules';
import type {
  IngressRuleSpec,
  ObservedIngressRule,
  RecordChange,
} from '../../../lambdas/domain/network-ports';
import {
  checkIngressQuotas,
  checkRecordBatchQuotas,
  RECORD_BATCH_QUOTAS,
  SECURITY_GROUP_QUOTAS,
} from '../../../lambdas/domain/quotas';

const GROUP = 'sg-0123456789abcdef0';
const OTHER = 'sg-0fedcba9876543210';

function observed(n: number, source: ObservedIngressRule['source'], groupId = GROUP): ObservedIngressRule[] {
  return Array.from({ length: n }, (_, i) => ({
    ruleId: `sgr-${groupId}-${source.kind}-${i}`,
    groupId,
    protocol: 'tcp',
    fromPort: 1000 + i,
    toPort: 1000 + i,
    source,
  }));
}

function authorize(n: number, source: IngressRuleSpec['source'], groupId = GROUP): IngressChange[] {
  return Array.from({ length: n }, (_, i) => ({
    kind: 'authorize' as const,
    groupId,
    rule: { protocol: 'tcp' as const, fromPort: 30000 + i, toPort: 30000 + i, source, description: 'x' },
    reason: 'needed',
  }));
}

function revoke(rules: readonly ObservedIngressRule[]): IngressChange[] {
  return rules.map((rule) => ({ kind: 'revoke' as const, groupId: rule.groupId, rule, reason: 'stale' }));
}

const v4 = { kind: 'cidr', cidr: '10.0.0.0/16' } as const;
const v6 = { kind: 'other', id: '2001:db8::/32' } as const;
const group = { kind: 'group', groupId: 'sg-0aaaaaaaaaaaaaaaa' } as const;

describe('Function: checkIngressQuotas', () => {
  it('states the documented default quota', () => {
    expect(SECURITY_GROUP_QUOTAS.inboundRulesPerGroup).toBe(60);
  });

  it('accepts a plan that ends at the quota exactly', () => {
    // Prepare: 58 rules + 2 planned = 60
    const input = { groupIds: [GROUP], observed: { [GROUP]: observed(58, v4) }, changes: authorize(2, v4) };

    // Act & Assess
    expect(checkIngressQuotas(input)).toEqual([]);
  });

  it('refuses a group whose plan would pass 60 inbound rules, naming the quota and the counts', () => {
    // Prepare: 59 rules + 2 planned = 61
    const input = { groupIds: [GROUP], observed: { [GROUP]: observed(59, v4) }, changes: authorize(2, v4) };

    // Act
    const refusals = checkIngressQuotas(input);

    // Assess
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.groupId).toBe(GROUP);
    expect(refusals[0]?.message).toContain('61 IPv4 inbound rules (59 now, +2 -0)');
    expect(refusals[0]?.message).toContain('quota of 60 inbound rules per security group');
  });

  it('counts planned revocations: existing + additions - removals', () => {
    // Prepare: 59 + 3 - 2 = 60
    const existing = observed(59, v4);
    const input = {
      groupIds: [GROUP],
      observed: { [GROUP]: existing },
      changes: [...authorize(3, v4), ...revoke(existing.slice(0, 2))],
    };

    // Act & Assess
    expect(checkIngressQuotas(input)).toEqual([]);
  });

  it('counts IPv4 and IPv6 apart: 60 IPv6 rules leave room for IPv4 ones', () => {
    // Prepare
    const input = {
      groupIds: [GROUP],
      observed: { [GROUP]: [...observed(60, v6), ...observed(50, v4)] },
      changes: authorize(10, v4),
    };

    // Act & Assess
    expect(checkIngressQuotas(input)).toEqual([]);
  });

  it('counts a group-referencing rule in both families', () => {
    // Prepare: 60 IPv6 rules already; a new group reference would make 61 IPv6
    const input = {
      groupIds: [GROUP],
      observed: { [GROUP]: observed(60, v6) },
      changes: authorize(1, group),
    };

    // Act
    const refusals = checkIngressQuotas(input);

    // Assess
    expect(refusals.map((r) => r.message)).toEqual([expect.stringContaining('61 IPv6 inbound rules')]);
  });

  it('refuses only the group over the quota', () => {
    // Prepare
    const input = {
      groupIds: [GROUP, OTHER],
      observed: { [GROUP]: observed(60, v4), [OTHER]: observed(10, v4, OTHER) },
      changes: [...authorize(1, v4), ...authorize(1, v4, OTHER)],
    };

    // Act & Assess
    expect(checkIngressQuotas(input).map((r) => r.groupId)).toEqual([GROUP]);
  });

  it('never blocks a plan that does not raise a count already above the quota (a raised quota)', () => {
    // Prepare: 70 rules (quota raised by the account), the plan swaps one
    const existing = observed(70, v4);
    const input = {
      groupIds: [GROUP],
      observed: { [GROUP]: existing },
      changes: [...authorize(1, v4), ...revoke(existing.slice(0, 1))],
    };

    // Act & Assess
    expect(checkIngressQuotas(input)).toEqual([]);
  });

  it('takes a smaller quota', () => {
    // Act & Assess
    expect(
      checkIngressQuotas(
        { groupIds: [GROUP], observed: {}, changes: authorize(3, v4) },
        { inboundRulesPerGroup: 2 },
      ),
    ).toHaveLength(1);
  });
});

function change(
  name: string,
  values: number,
  action: RecordChange['action'] = 'CREATE',
  width = 10,
): RecordChange {
  return {
    action,
    recordSet: {
      name,
      type: 'A',
      ttl: 60,
      values: Array.from({ length: values }, (_, i) => `${i}`.padStart(width, '1')),
    },
  };
}

describe('Function: checkRecordBatchQuotas', () => {
  it("states Route 53's documented batch limits", () => {
    expect(RECORD_BATCH_QUOTAS).toEqual({ maxRecords: 1000, maxChars: 32000 });
  });

  it('accepts names that fit, even when together they need several calls', () => {
    // Prepare: 600 + 600 records: two calls, each name within one
    const changes = [change('a.example.com.', 600), change('b.example.com.', 600)];

    // Act & Assess
    expect(checkRecordBatchQuotas(changes)).toEqual([]);
  });

  it('refuses a name whose changes alone pass 1,000 ResourceRecord elements (UPSERT counts twice)', () => {
    // Prepare: 400 values upserted (800) + a 201-value set created at the same name (201) = 1,001
    const changes = [
      change('a.example.com.', 400, 'UPSERT'),
      {
        ...change('a.example.com.', 201),
        recordSet: { ...change('a.example.com.', 201).recordSet, type: 'TXT' },
      },
      change('b.example.com.', 3),
    ];

    // Act
    const refusals = checkRecordBatchQuotas(changes);

    // Assess
    expect(refusals.map((r) => r.name)).toEqual(['a.example.com.']);
    expect(refusals[0]?.message).toContain(
      '1001 ResourceRecord elements, over the quota of 1000 per ChangeResourceRecordSets call',
    );
  });

  it('refuses a name whose values pass 32,000 characters (UPSERT counts twice)', () => {
    // Prepare: 400 values x 41 characters x 2 = 32,800
    const refusals = checkRecordBatchQuotas([change('srv.example.com.', 400, 'UPSERT', 41)]);

    // Assess
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.message).toContain('32800 characters of values, over the quota of 32000');
    expect(refusals[0]?.message).not.toContain('ResourceRecord elements');
  });

  it('takes smaller limits', () => {
    // Act & Assess
    expect(checkRecordBatchQuotas([change('a.', 6)], { maxRecords: 5, maxChars: 32000 })).toHaveLength(1);
  });
});
