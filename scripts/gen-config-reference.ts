/**
 * Writes docs/config-reference.md from the zod schema (lambdas/domain/config.ts): every field with its type
 * and limits, whether it is required, its default, and the error a bad value gets. The error is not written
 * by hand: each field is given a value that breaks its limits in an otherwise valid config, and the message
 * the schema answers is the one shown. test/unit/docs/config-reference.test.ts regenerates the page in
 * memory and fails when the committed file differs, so the page cannot drift from the schema.
 *
 *   npx tsx scripts/gen-config-reference.ts          # rewrite docs/config-reference.md
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { syncConfigSchema } from '../lambdas/domain/config';

/** A JSON Schema node as zod's toJSONSchema writes it (the parts read here). */
interface JsonSchema {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly additionalProperties?: JsonSchema | boolean;
  readonly propertyNames?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly default?: unknown;
  readonly anyOf?: readonly JsonSchema[];
}

/**
 * A config with every section, valid: the base each field's bad value is tried in. Shown in the reference.
 * The unit test checks that the schema accepts it.
 */
export const FULL_EXAMPLE = {
  ownerId: 'nlb-nodeport-sync',
  schedule: 'rate(5 minutes)',
  rebalanceRecommendations: false,
  alarmEmails: ['ops@example.com'],
  safety: { maxDeregisterShare: 0.5 },
  preservedTargets: ['10.0.99.0/24'],
  clusters: [
    {
      name: 'prod',
      nodeSource: { autoScalingGroups: ['eks-prod-workers'], tagFilters: { 'eks:nodegroup-name': ['ng-1'] } },
      loadBalancer: {
        arn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/prod-ingress/50dc6c495c0c9188',
      },
      portMappings: [
        {
          name: 'app0',
          targetGroupArn:
            'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/prod-app0/73e2d6bc24d8a067',
          targetType: 'ip',
          nodePort: 30000,
          healthCheckNodePort: 32000,
          listenerPort: 4000,
          protocol: 'TCP',
          preserveClientIp: false,
        },
      ],
      preservedTargets: ['i-0123456789abcdef0'],
      safety: { maxDeregisterShare: 0.5 },
      securityGroups: {
        enabled: true,
        groupIds: ['sg-0123456789abcdef0'],
        source: 'auto',
        clientCidrs: ['10.0.0.0/8'],
        allowAnywhere: false,
        maxClientShare: 0.0625,
      },
      dns: {
        hostedZoneId: 'Z0123456789ABCDEFGHIJ',
        zoneName: 'example.com',
        aliasNames: ['proxy.example.com'],
        nodeRecordName: 'nodes.prod.example.com',
        srvDomain: 'prod.example.com',
        ttl: 60,
        retiredNames: [],
      },
      lifecycle: {
        launchGate: 'healthy',
        launchTimeoutSeconds: 600,
        launchTimeoutResult: 'CONTINUE',
        launchHeartbeatTimeoutSeconds: 300,
        terminateHeartbeatTimeoutSeconds: 360,
        terminateTimeoutResult: 'CONTINUE',
        drainMarginSeconds: 30,
        recheckSeconds: 15,
      },
    },
  ],
} as const;

/** One row of the reference. */
export interface FieldRow {
  /** `clusters[].portMappings[].nodePort`; a map's keys are `<key>`. */
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly default?: string;
  /** The message the schema gives the bad value, with the value tried. */
  readonly error?: { readonly tried: string; readonly message: string };
}

/** A probe: where to put a bad value (indices for arrays) and the value. */
type Probe = { readonly at: readonly (string | number)[]; readonly value: unknown };

function typeOf(node: JsonSchema): string {
  if (node.anyOf !== undefined) return node.anyOf.map(typeOf).join(' or ');
  if (node.enum !== undefined) return `one of ${node.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  const limits: string[] = [];
  if (node.pattern !== undefined) limits.push(`matching \`${node.pattern}\``);
  if (node.format !== undefined) limits.push(`format ${node.format}`);
  if (node.minimum !== undefined) limits.push(`>= ${node.minimum}`);
  if (node.exclusiveMinimum !== undefined) limits.push(`> ${node.exclusiveMinimum}`);
  if (node.maximum !== undefined) limits.push(`<= ${node.maximum}`);
  if (node.minLength !== undefined) limits.push(`at least ${node.minLength} character(s)`);
  if (node.maxLength !== undefined) limits.push(`at most ${node.maxLength} characters`);
  if (node.minItems !== undefined) limits.push(`at least ${node.minItems} item(s)`);
  let base = node.type ?? 'any';
  if (node.type === 'array' && node.items !== undefined) base = `array of ${typeOf(node.items)}`;
  if (node.type === 'object' && typeof node.additionalProperties === 'object') {
    base = `map of ${node.propertyNames !== undefined ? typeOf(node.propertyNames) : 'string'} to ${typeOf(node.additionalProperties)}`;
  }
  return limits.length === 0 ? base : `${base} (${limits.join(', ')})`;
}

/**
 * Values that break the node's limits, most telling first: a malformed string before an empty one before a
 * wrong type. The first the schema refuses is the one shown.
 */
function badValues(node: JsonSchema): unknown[] {
  if (node.enum !== undefined) return ['not-a-choice'];
  switch (node.type) {
    case 'string':
      return ['bad value!', ...(node.minLength !== undefined ? [''] : []), 42];
    case 'integer':
      if (node.minimum !== undefined) return [node.minimum - 1];
      if (node.maximum !== undefined) return [node.maximum + 1];
      return [1.5];
    case 'number':
      if (node.exclusiveMinimum !== undefined) return [node.exclusiveMinimum];
      if (node.minimum !== undefined) return [node.minimum - 1];
      if (node.maximum !== undefined) return [node.maximum + 1];
      return ['NaN'];
    case 'boolean':
      return ['yes'];
    case 'array': {
      const items = node.items !== undefined ? badValues(node.items).map((v) => [v]) : [];
      return node.minItems !== undefined && node.minItems > 0 ? [[], ...items] : [...items, 'not a list'];
    }
    default:
      return ['not an object'];
  }
}

function setAt(target: Record<string, unknown>, at: readonly (string | number)[], value: unknown): void {
  let node: Record<string, unknown> = target;
  for (const [i, key] of at.entries()) {
    if (i === at.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = typeof at[i + 1] === 'number' ? [{}] : {};
    node = node[key] as Record<string, unknown>;
  }
}

/** The first message the schema gives at (or under) the probe's path. */
function errorFor(probe: Probe): string | undefined {
  const config = structuredClone(FULL_EXAMPLE) as unknown as Record<string, unknown>;
  setAt(config, probe.at, probe.value);
  const result = syncConfigSchema.safeParse(config);
  if (result.success) return undefined;
  const prefix = probe.at.join('.');
  const issue = result.error.issues.find((i) => {
    const path = i.path.join('.');
    return path === prefix || path.startsWith(`${prefix}.`);
  });
  return issue?.message;
}

function walk(
  node: JsonSchema,
  path: string,
  at: readonly (string | number)[],
  required: boolean,
  rows: FieldRow[],
): void {
  const isObject = node.type === 'object' && node.properties !== undefined;
  const isListOfObjects =
    node.type === 'array' && node.items?.type === 'object' && node.items.properties !== undefined;
  if (path !== '') {
    let tried: unknown;
    let message: string | undefined;
    for (const value of isObject ? [] : badValues(node)) {
      message = errorFor({ at, value });
      tried = value;
      if (message !== undefined) break;
    }
    rows.push({
      path,
      type: isObject
        ? 'object'
        : isListOfObjects
          ? `array of objects${node.minItems ? ` (at least ${node.minItems})` : ''}`
          : typeOf(node),
      required,
      ...(node.default !== undefined && { default: JSON.stringify(node.default) }),
      ...(message !== undefined && { error: { tried: JSON.stringify(tried), message } }),
    });
  }
  if (isObject) {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      walk(
        child,
        path === '' ? key : `${path}.${key}`,
        [...at, key],
        node.required?.includes(key) ?? false,
        rows,
      );
    }
  }
  if (isListOfObjects && node.items !== undefined) {
    for (const [key, child] of Object.entries(node.items.properties ?? {})) {
      walk(child, `${path}[].${key}`, [...at, 0, key], node.items.required?.includes(key) ?? false, rows);
    }
  }
}

/** Every field of the schema, in schema order. */
export function configFields(): FieldRow[] {
  const schema = z.toJSONSchema(syncConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: FieldRow[] = [];
  walk(schema, '', [], true, rows);
  return rows;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The whole page. */
export function renderConfigReference(): string {
  const rows = configFields().map(
    (r) =>
      `| \`${r.path}\` | ${cell(r.type)} | ${r.required ? 'yes' : 'no'} | ${r.default !== undefined ? `\`${cell(r.default)}\`` : 'none'} | ${r.error !== undefined ? `\`${cell(r.error.tried)}\`: ${cell(r.error.message)}` : ''} |`,
  );
  return [
    '# Configuration reference (generated)',
    '',
    '<!-- Generated by `npx tsx scripts/gen-config-reference.ts` from the zod schema in',
    '     lambdas/domain/config.ts. Do not edit: test/unit/docs/config-reference.test.ts fails when this file',
    '     differs from what the schema gives. -->',
    '',
    'Every field of the sync config, in schema order: its type and limits, whether it is required, its default,',
    'and the error a bad value gets (the value shown was tried in an otherwise valid config, and the message is',
    "the schema's own; the CLI prefixes it with the field's path, e.g. `clusters.0.portMappings.0.nodePort: ...`).",
    'What each field means, and the rules across fields (unique names, a target group claimed once, canonical',
    'CIDRs, names inside the zone ...): [configuration.md](configuration.md). Every object is strict: an unknown',
    'key is an error naming it and the nearest known key. `nlb-nodeport-sync validate` checks a file offline.',
    '',
    '| field | type and limits | required | default | error for a bad value |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '## A config with every section',
    '',
    '```json',
    JSON.stringify(FULL_EXAMPLE, null, 2),
    '```',
    '',
  ].join('\n');
}

/** Where the page lives. */
export const CONFIG_REFERENCE_PATH = join(__dirname, '..', 'docs', 'config-reference.md');

if (require.main === module) {
  writeFileSync(CONFIG_REFERENCE_PATH, renderConfigReference());
  process.stdout.write(`wrote ${CONFIG_REFERENCE_PATH}\n`);
}
