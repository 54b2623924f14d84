/**
 * What the handler unit tests share: AWS's sample events in test/events/ and the one-cluster config the
 * samples' ASG (`my-asg`) belongs to.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSyncConfig } from '../../lambdas/domain/config';

/** The target group of the one-cluster config's only mapping (`app`, NodePort 30000). */
export const APP_TARGET_GROUP =
  'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/app/0123456789abcdef';

/** One cluster `prod`: the ASG `my-asg`, one mapping `app` -> NodePort 30000. */
export const ONE_CLUSTER_CONFIG = parseSyncConfig({
  clusters: [
    {
      name: 'prod',
      nodeSource: { autoScalingGroups: ['my-asg'] },
      portMappings: [{ name: 'app', targetGroupArn: APP_TARGET_GROUP, nodePort: 30000 }],
    },
  ],
});

/** A sample event of test/events/ by its file name without `.json`, as a fresh object. */
export function eventFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(__dirname, '..', 'events', `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
}
