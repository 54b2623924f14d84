import { AutoScalingClient, type AutoScalingClientConfig } from '@aws-sdk/client-auto-scaling';
import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import {
  ElasticLoadBalancingV2Client,
  type ElasticLoadBalancingV2ClientConfig,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { Route53Client, type Route53ClientConfig } from '@aws-sdk/client-route-53';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';

/**
 * SDK clients, each created once per Lambda execution environment.
 *
 * Region, endpoint (AWS_ENDPOINT_URL, which is how moto is reached) and credentials are left to the
 * SDK's own provider chains on purpose: this module reads no environment variable itself.
 */

/**
 * Retry settings every client shares.
 *
 * Adaptive mode adds a client-side token bucket on top of standard retries, so a burst of reconciles
 * slows itself down instead of burning the account's ELBv2 and Route 53 rate limits (Route 53 allows 5
 * requests per second per account). Eight attempts ride out a throttling spike of several seconds.
 */
export const SDK_CLIENT_CONFIG = { retryMode: 'adaptive', maxAttempts: 8 } as const;

/** Creates an Auto Scaling client with the shared retry settings; `overrides` win (tests inject handlers). */
export function createAutoScalingClient(overrides: AutoScalingClientConfig = {}): AutoScalingClient {
  return new AutoScalingClient({ ...SDK_CLIENT_CONFIG, ...overrides });
}

/** Creates an EC2 client with the shared retry settings; `overrides` win (tests inject handlers). */
export function createEc2Client(overrides: EC2ClientConfig = {}): EC2Client {
  return new EC2Client({ ...SDK_CLIENT_CONFIG, ...overrides });
}

/** Creates an ELBv2 client with the shared retry settings; `overrides` win (tests inject handlers). */
export function createElbv2Client(
  overrides: ElasticLoadBalancingV2ClientConfig = {},
): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client({ ...SDK_CLIENT_CONFIG, ...overrides });
}

/** Creates a Route 53 client with the shared retry settings; `overrides` win (tests inject handlers). */
export function createRoute53Client(overrides: Route53ClientConfig = {}): Route53Client {
  return new Route53Client({ ...SDK_CLIENT_CONFIG, ...overrides });
}

/** Creates an SQS client with the shared retry settings; `overrides` win (tests inject handlers). */
export function createSqsClient(overrides: SQSClientConfig = {}): SQSClient {
  return new SQSClient({ ...SDK_CLIENT_CONFIG, ...overrides });
}

let autoScaling: AutoScalingClient | undefined;
let sqs: SQSClient | undefined;
let ec2: EC2Client | undefined;
let elbv2: ElasticLoadBalancingV2Client | undefined;
let route53: Route53Client | undefined;

/** The process-wide Auto Scaling client, created on first use so warm invocations reuse its connections. */
export function autoScalingClient(): AutoScalingClient {
  autoScaling ??= createAutoScalingClient();
  return autoScaling;
}

/** The process-wide EC2 client, created on first use so warm invocations reuse its connections. */
export function ec2Client(): EC2Client {
  ec2 ??= createEc2Client();
  return ec2;
}

/** The process-wide ELBv2 client, created on first use so warm invocations reuse its connections. */
export function elbv2Client(): ElasticLoadBalancingV2Client {
  elbv2 ??= createElbv2Client();
  return elbv2;
}

/** The process-wide Route 53 client, created on first use so warm invocations reuse its connections. */
export function route53Client(): Route53Client {
  route53 ??= createRoute53Client();
  return route53;
}

/** The process-wide SQS client, created on first use so warm invocations reuse its connections. */
export function sqsClient(): SQSClient {
  sqs ??= createSqsClient();
  return sqs;
}
