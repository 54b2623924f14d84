import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { createSyncApp } from '../../infra/app';
import type { NlbNodeportSyncStack } from '../../infra/sync-stack';

/** Fixture configs of the infra tests. */
export const FIXTURES = {
  import: join(__dirname, 'fixtures', 'import.config.json'),
  create: join(__dirname, 'fixtures', 'create.config.json'),
  bad: join(__dirname, 'fixtures', 'bad.config.json'),
  noArn: join(__dirname, 'fixtures', 'no-arn.config.json'),
} as const;

/** A synthesized stack and its template. */
export interface Synthesized {
  readonly stack: NlbNodeportSyncStack;
  readonly template: Template;
}

/**
 * Synthesizes the app as `cdk synth -c config=PATH` would, bundling skipped (fast). The cdk-nag
 * plugin is registered, so an unanswered finding fails here too.
 */
export function synthesize(configPath: string): Synthesized {
  const { stack } = createSyncApp({
    appProps: { context: { config: configPath, 'aws:cdk:bundling-stacks': [] } },
  });
  return { stack, template: Template.fromStack(stack) };
}

/** One IAM statement as it appears in a template. */
export interface TemplateStatement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, unknown>;
  readonly Sid?: string;
}

/** Every statement of every identity and resource policy in the template (KMS key policies aside). */
export function policyStatements(template: Template): { owner: string; statement: TemplateStatement }[] {
  const found: { owner: string; statement: TemplateStatement }[] = [];
  const collect = (owner: string, document: unknown) => {
    const statements = (document as { Statement?: TemplateStatement[] } | undefined)?.Statement ?? [];
    for (const statement of statements) found.push({ owner, statement });
  };
  for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    collect(id, policy.Properties.PolicyDocument);
  }
  for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    for (const inline of (role.Properties.Policies ?? []) as { PolicyDocument: unknown }[]) {
      collect(id, inline.PolicyDocument);
    }
  }
  for (const type of ['AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy']) {
    for (const [id, policy] of Object.entries(template.findResources(type))) {
      collect(id, policy.Properties.PolicyDocument);
    }
  }
  return found;
}

/** Always an array. */
export function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
