import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AssetHashType,
  DockerImage,
  Duration,
  type ILocalBundling,
  RemovalPolicy,
  Validations,
} from 'aws-cdk-lib';
import { type IRole, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  Code,
  Function as LambdaFunction,
  LoggingFormat,
  Runtime,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLE_FILE, bundleLambdaSync, PROJECT_ROOT } from '../bundling/lambda-bundle';
import { FUNCTION_DEFAULTS, PRODUCT, SYNC_ENVIRONMENT } from '../constants';
import { assertEnvironmentFits, environmentBytes } from '../environment-size';

export { PROJECT_ROOT };

/** Properties of a {@link SyncFunction}. */
export interface SyncFunctionProps {
  /** The handler file, relative to the repository root (it must export `handler`). */
  readonly entry: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** Variables beside the Powertools ones; checked against Lambda's 4 KB limit at synth. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Files written beside index.js in the function's code, by name (no directories): how data too
   * large for the environment travels. They are part of the asset, so a change to one changes the
   * asset hash and reaches the function with the next `cdk deploy`.
   * @default none
   */
  readonly bundledFiles?: Readonly<Record<string, string>>;
  /**
   * Function timeout.
   * @default FUNCTION_DEFAULTS.timeoutSeconds
   */
  readonly timeout?: Duration;
  /**
   * Memory in MB.
   * @default FUNCTION_DEFAULTS.memorySizeMb
   */
  readonly memorySize?: number;
}

/**
 * The one opinionated way this product builds a Lambda function: Node.js 22 on arm64, minified
 * bundle with source maps, its own log group with retention, X-Ray active tracing, JSON logs, and
 * a role that starts empty (no AWS managed policy) so every permission is added on purpose.
 *
 * The code is built by infra/bundling/lambda-bundle.ts (esbuild with the product's plugin: the SDK's
 * schemas made tree-shakable, credentials from the environment only), run locally at synth, never in
 * Docker; CDK's `NodejsFunction` cannot take an esbuild plugin (docs/deploy.md "Functions").
 */
export class SyncFunction extends Construct {
  /** The function. */
  public readonly function: LambdaFunction;
  /** Its execution role; callers add least-privilege statements to it. */
  public readonly role: IRole;
  /** Its log group. */
  public readonly logGroup: LogGroup;
  /** The synth-time estimate of its environment's size, bytes (Lambda allows 4096). */
  public readonly environmentBytes: number;

  public constructor(scope: Construct, id: string, props: SyncFunctionProps) {
    super(scope, id);
    const environment: Record<string, string> = {
      [SYNC_ENVIRONMENT.serviceName]: PRODUCT.serviceName,
      [SYNC_ENVIRONMENT.metricsNamespace]: PRODUCT.metricsNamespace,
      // Stack traces point at the TypeScript sources instead of the minified bundle.
      NODE_OPTIONS: '--enable-source-maps',
      ...props.environment,
    };
    assertEnvironmentFits(this.node.path, environment);
    this.environmentBytes = environmentBytes(environment);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: FUNCTION_DEFAULTS.logRetentionDays as RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id} (${PRODUCT.serviceName})`,
    });
    this.logGroup.grantWrite(role);
    this.role = role;

    this.function = new LambdaFunction(this, 'Function', {
      code: bundledCode(props.entry, props.bundledFiles ?? {}),
      handler: `${BUNDLE_FILE.replace(/\.js$/, '')}.handler`,
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? FUNCTION_DEFAULTS.memorySizeMb,
      timeout: props.timeout ?? Duration.seconds(FUNCTION_DEFAULTS.timeoutSeconds),
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      logGroup: this.logGroup,
      role,
      environment,
    });

    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime this product is built and tested for (issue 3); 24.x is adopted on purpose, not by default.',
    });
    // Lambda puts the tracing permissions on the default policy; X-Ray has no resource-level permissions.
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only read actions (Describe*, List*) and X-Ray PutTraceSegments/PutTelemetryRecords, which support no resource-level permissions, use "*"; every write is scoped (see docs/iam.md).',
    });
  }
}

/** A file name that stays beside index.js: no directories, no dot files. */
const BUNDLED_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * CDK's local bundling of one function: `entry` built by {@link bundleLambdaSync} into CDK's bundling
 * directory, with each bundled file written beside index.js. Its public fields are part of the key by
 * which CDK reuses a bundle within one synth, so functions with other entries or files never share one.
 */
class LocalLambdaBundling implements ILocalBundling {
  /** sha256 of the bundled files (names and contents), for the reuse key. */
  public readonly filesDigest: string;

  public constructor(
    public readonly entry: string,
    private readonly files: Readonly<Record<string, string>>,
  ) {
    for (const name of Object.keys(files)) {
      if (!BUNDLED_FILE_NAME.test(name) || name === BUNDLE_FILE || name === `${BUNDLE_FILE}.map`) {
        throw new Error(`A bundled file needs a plain name beside index.js, not "${name}"`);
      }
    }
    this.filesDigest = createHash('sha256').update(JSON.stringify(files), 'utf8').digest('hex');
  }

  /** Builds into `outputDir`; never declines (which would fall back to Docker): a failed build throws. */
  public tryBundle(outputDir: string): boolean {
    bundleLambdaSync(this.entry, outputDir);
    for (const [name, text] of Object.entries(this.files)) writeFileSync(join(outputDir, name), text, 'utf8');
    return true;
  }
}

/**
 * The function's code, always bundled locally (the image is never pulled: {@link LocalLambdaBundling}
 * never declines). The asset hash is taken over the output, so a change of the code or of a bundled file
 * is a new asset and reaches the function with the next `cdk deploy`.
 */
function bundledCode(entry: string, files: Readonly<Record<string, string>>): Code {
  return Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('local-bundling-only'),
      local: new LocalLambdaBundling(entry, files),
    },
  });
}
