import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createSyncApp } from '../../infra/app';
import { BUNDLED_CONFIG_FILE, LAMBDA_ENVIRONMENT_LIMIT_BYTES, SYNC_ENVIRONMENT } from '../../infra/constants';
import { EnvironmentTooLargeError } from '../../infra/environment-size';
import type { NlbNodeportSyncStack } from '../../infra/sync-stack';
import { parseSyncConfigText } from '../../lambdas/domain/config';
import {
  BUNDLED_CONFIG_FILE_NAME,
  CONFIG_ENV,
  configDigest,
  loadBundledConfig,
} from '../../lambdas/runtime/environment';
import { largeConfig } from './large-config';
import { FIXTURES, synthesize } from './synth-helpers';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

/** The function's environment variables as they appear in the template. */
function variablesOf(template: Template): Record<string, unknown> {
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
  return (fn?.Properties.Environment.Variables ?? {}) as Record<string, unknown>;
}

/**
 * Bytes Lambda will count once CloudFormation filled in the references: literal text as is, each
 * `Ref` / `Fn::GetAtt` as the 160 bytes the synth-time check assumes.
 */
function templateBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  const object = value as Record<string, unknown>;
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return (
      parts.reduce<number>((sum, part) => sum + templateBytes(part), 0) +
      separator.length * (parts.length - 1)
    );
  }
  return 160;
}

describe('Config delivery', () => {
  it('names the same variables and file in the stack and in the Lambda code', () => {
    // Act & Assess
    expect(SYNC_ENVIRONMENT.bundledConfig).toBe(CONFIG_ENV.bundled);
    expect(SYNC_ENVIRONMENT.deployTimeValues).toBe(CONFIG_ENV.deployTime);
    expect(BUNDLED_CONFIG_FILE).toBe(BUNDLED_CONFIG_FILE_NAME);
  });

  describe('4 clusters x 50 port mappings, imported (generated)', () => {
    const config = largeConfig({ clusters: 4, mappingsPerCluster: 50 });
    let stack: NlbNodeportSyncStack;
    let template: Template;
    beforeAll(() => {
      ({ stack } = createSyncApp({ config, appProps: { context: NO_BUNDLING } }));
      template = Template.fromStack(stack);
    }, 120_000);

    it('synthesizes, with the whole config in the bundled file and none of it in the environment', () => {
      // Prepare
      const { fileText, deployTimeValues } = stack.configDelivery;

      // Act
      const variables = variablesOf(template);

      // Assess: the config alone is over 10 times what Lambda's environment holds.
      expect(Buffer.byteLength(fileText)).toBeGreaterThan(10 * LAMBDA_ENVIRONMENT_LIMIT_BYTES);
      expect(parseSyncConfigText(fileText, 'bundled')).toEqual(config);
      expect(deployTimeValues).toBeUndefined();
      expect(variables[SYNC_ENVIRONMENT.bundledConfig]).toBe(BUNDLED_CONFIG_FILE);
      expect(Object.keys(variables)).not.toContain(CONFIG_ENV.inline);
      expect(Object.keys(variables)).not.toContain(SYNC_ENVIRONMENT.deployTimeValues);
    });

    it('keeps the environment under 4 KB, deploy-time references counted at 160 bytes', () => {
      // Act
      const bytes = Object.entries(variablesOf(template)).reduce(
        (sum, [key, value]) => sum + Buffer.byteLength(key) + templateBytes(value),
        0,
      );

      // Assess: the same as the synth-time estimate, a fraction of the limit.
      expect(bytes).toBe(stack.passFunction.environmentBytes);
      expect(bytes).toBeLessThan(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
      expect(bytes).toBeLessThan(1024);
    });

    it('gives a function the config the runtime loads from that file', () => {
      // Prepare
      const dir = mkdtempSync(join(tmpdir(), 'nlb-sync-delivery-'));
      writeFileSync(join(dir, BUNDLED_CONFIG_FILE), stack.configDelivery.fileText);

      // Act
      const loaded = loadBundledConfig(BUNDLED_CONFIG_FILE, undefined, dir);
      rmSync(dir, { recursive: true, force: true });

      // Assess
      expect(loaded).toEqual(config);
      expect(loaded.clusters.map((cluster) => cluster.portMappings.length)).toEqual([50, 50, 50, 50]);
    });
  });

  describe('created load balancers', () => {
    it('passes only the created ARNs, as references with the file digest, in port-mapping order', () => {
      // Prepare
      const { stack, template } = synthesize(FIXTURES.create);
      const balancer = stack.node.findChild('LoadBalancer-edge');
      const ref = (id: string) => ({ Ref: stack.getLogicalId(balancer.node.findChild(id) as CfnElement) });

      // Act
      const value = variablesOf(template)[SYNC_ENVIRONMENT.deployTimeValues];
      const text = JSON.stringify(value);

      // Assess
      expect(text).toContain(configDigest(stack.configDelivery.fileText));
      const order = ['app0', 'app1', 'dns'].map((name) =>
        text.indexOf(JSON.stringify(ref(`TargetGroup-${name}`))),
      );
      expect(order.every((at) => at > 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(text).toContain(JSON.stringify(ref('LoadBalancer')));
      expect(stack.configDelivery.fileText).not.toContain('targetGroupArn');
    });

    it('merges at init into the config that synth validated', () => {
      // Prepare
      const { stack } = synthesize(FIXTURES.create);
      const lb = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/edge/0000000000000001';
      const tg = (i: number) =>
        `arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/edge-${i}/000000000000000${i}`;
      const values = JSON.stringify({
        v: configDigest(stack.configDelivery.fileText),
        c: { edge: { lb, tg: [tg(1), tg(2), tg(3)] } },
      });
      const dir = mkdtempSync(join(tmpdir(), 'nlb-sync-delivery-'));
      writeFileSync(join(dir, BUNDLED_CONFIG_FILE), stack.configDelivery.fileText);

      // Act
      const config = loadBundledConfig(BUNDLED_CONFIG_FILE, values, dir);
      rmSync(dir, { recursive: true, force: true });

      // Assess
      const expected = parseSyncConfigText(readFileSync(FIXTURES.create, 'utf8'), 'fixture');
      expect(config.clusters[0]?.loadBalancer.arn).toBe(lb);
      expect(config.clusters[0]?.portMappings.map((m) => m.targetGroupArn)).toEqual([tg(1), tg(2), tg(3)]);
      expect(config.clusters[0]?.portMappings.map((m) => m.name)).toEqual(
        expected.clusters[0]?.portMappings.map((m) => m.name),
      );
    });

    it('stops synth when the created ARNs cannot fit Lambda environment variables, naming the 4 KB limit', () => {
      // Prepare: 2 x 15 created target groups, 32 references.
      const config = largeConfig({ clusters: 2, mappingsPerCluster: 15, mode: 'create' });

      // Act
      const build = () => createSyncApp({ config, appProps: { context: NO_BUNDLING } });

      // Assess
      expect(build).toThrow(EnvironmentTooLargeError);
      expect(build).toThrow(/over Lambda's limit of 4096 bytes \(4 KB\).*NLB_SYNC_CONFIG_REFS/s);
    });
  });
});
