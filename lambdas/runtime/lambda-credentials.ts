import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialIdentityProvider, Logger } from '@smithy/types';

/**
 * The credential chain of the deployed function: the environment only.
 *
 * Lambda hands the execution role's credentials to the function in `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, which is also the first place the SDK's default chain
 * looks. The rest of that chain (profiles, SSO, web identity, process, container and instance metadata)
 * can never apply in Lambda, yet it is about 110 KB of the bundle and of its init. (Lambda SnapStart, which
 * this product does not enable, hands credentials through the container endpoint instead: enabling it
 * would need `fromContainerMetadata` here.)
 *
 * This module is not imported by the product's code: the Lambda build (infra/bundling/lambda-bundle.ts)
 * puts it in place of `@aws-sdk/credential-provider-node`, whose `defaultProvider` every SDK client's
 * runtime config imports. Everything that runs unbundled (the CLI, tests, the demo) keeps the SDK's full
 * default chain, profiles included.
 * @param init - what the SDK passes its default provider: the client's configuration (its logger is used)
 * @returns a provider that resolves the environment's credentials, or rejects naming the variables
 */
export function defaultProvider(init: { readonly logger?: Logger } = {}): AwsCredentialIdentityProvider {
  return fromEnv(init.logger === undefined ? {} : { logger: init.logger });
}
