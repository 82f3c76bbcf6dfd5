import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { WildcardAcknowledgements } from '../../compliance/wildcard-acknowledgements';
import { FUNCTIONS_ROOT, lambdaBundleDir } from './lambda-bundles';

export { FUNCTIONS_ROOT } from './lambda-bundles';

export interface LakestreamFunctionProps {
  /** Folder name under lib/functions/ whose index.ts is the entry point, e.g. `topic-manager`. */
  readonly handlerDir: string;
  /** Exported handler name in index.ts. @default 'handler' */
  readonly handlerName?: string;
  /** One-line purpose, becomes the Lambda description. */
  readonly description: string;
  /** KMS key for the function's log group and environment variables (the environment's logs key). */
  readonly encryptionKey: kms.IKey;
  /** How long the function's logs are kept. */
  readonly logRetention: logs.RetentionDays;
  /** Removal policy of the log group. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Environment variables (never secrets: pass a Secrets Manager ARN instead). @default none */
  readonly environment?: Record<string, string>;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** VPC to run in. @default not in a VPC */
  readonly vpc?: ec2.IVpc;
  /** Subnets in `vpc`. @default private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Security groups in `vpc`. @default one created by Lambda with no ingress */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Reserved concurrency. Left unset for functions invoked only by CloudFormation or a schedule,
   * because reserving capacity in accounts with the default low limits fails the deploy.
   * @default no reservation
   */
  readonly reservedConcurrentExecutions?: number;
  /** Dead-letter queue for asynchronous invocations. @default none */
  readonly deadLetterQueue?: import('aws-cdk-lib/aws-sqs').IQueue;
  /**
   * Why the function runs outside the VPC (when `vpc` is unset), recorded as the reason of the
   * LambdaInsideVPC acknowledgement. @default reaches only public AWS service endpoints
   */
  readonly outsideVpcReason?: string;
  /** Ephemeral /tmp storage. @default 512 MiB */
  readonly ephemeralStorageSize?: import('aws-cdk-lib').Size;
}

/**
 * A Node.js Lambda function with Lakestream's defaults: latest Node runtime on ARM64, bundled
 * locally by esbuild (no Docker) with the AWS SDK pinned inside the bundle, KMS-encrypted log group
 * and environment, JSON structured logs.
 *
 * Bundles come from lambda-bundles.ts: all handlers in one in-process esbuild call, cached by
 * content hash, instead of NodejsFunction's one esbuild process per function and stage (about 4 s
 * of every synth). They are handed to CDK as local bundling output, so `aws:cdk:bundling-stacks`
 * still skips them and the asset hash is still the hash of the bundle.
 */
export class LakestreamFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly logGroup: logs.LogGroup;
  /** The execution role: starts with write access to the function's own log group only. */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: LakestreamFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      encryptionKey: props.encryptionKey,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    // An explicit role instead of AWSLambdaBasicExecutionRole, whose log permissions span every log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.handlerDir}`,
    });
    this.logGroup.grantWrite(this.role);
    const handlerDir = props.handlerDir;
    this.function = new lambda.Function(this, 'Function', {
      role: this.role,
      code: lambda.Code.fromAsset(path.join(FUNCTIONS_ROOT, handlerDir), {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never pulled: local bundling always succeeds or throws, so Docker is never needed.
          image: DockerImage.fromRegistry('lakestream/local-bundling-only'),
          local: {
            tryBundle(outputDir: string): boolean {
              fs.cpSync(lambdaBundleDir(handlerDir), outputDir, { recursive: true });
              return true;
            },
          },
        },
      }),
      handler: `index.${props.handlerName ?? 'handler'}`,
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.minutes(1),
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      environmentEncryption: props.encryptionKey,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // No active X-Ray: its write actions accept only Resource '*', which the project's IAM rules forbid.
      tracing: lambda.Tracing.DISABLED,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? (props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }) : undefined,
      securityGroups: props.securityGroups,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      deadLetterQueue: props.deadLetterQueue,
      ephemeralStorageSize: props.ephemeralStorageSize,
    });

    if (props.vpc) {
      this.grantNetworkInterfaces(props.vpc, props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    } else {
      Validations.of(this.function).acknowledge({
        id: 'NIST.800.53.R5-LambdaInsideVPC',
        reason: props.outsideVpcReason ?? `${props.handlerDir} reaches only public AWS service endpoints and no VPC-only resource, so it runs outside the VPC.`,
      });
    }
    if (props.reservedConcurrentExecutions === undefined) {
      Validations.of(this.function).acknowledge({
        id: 'NIST.800.53.R5-LambdaConcurrency',
        reason: `${props.handlerDir} is invoked only by CloudFormation, a schedule or a state machine of this stack; reserving concurrency fails deploys in accounts with default limits.`,
      });
    }
    if (!props.deadLetterQueue) {
      Validations.of(this.function).acknowledge({
        id: 'NIST.800.53.R5-LambdaDLQ',
        reason: `${props.handlerDir} failures surface to its caller (CloudFormation, Step Functions) or, for scheduled runs, in its error alarm, and the next scheduled run retries.`,
      });
    }
  }

  /**
   * What Lambda needs to attach the function to the VPC, instead of AWSLambdaVPCAccessExecutionRole
   * (which also grants log writes to every log group and ENI changes account-wide): creating
   * interfaces only in the function's subnets with its security groups, and deleting or re-addressing
   * interfaces of this account and region. The Lambda developer guide documents that
   * DescribeNetworkInterfaces works only on Resource *; DescribeSubnets is wildcard-only in the IAM
   * Service Authorization Reference.
   */
  private grantNetworkInterfaces(vpc: ec2.IVpc, subnets: ec2.SubnetSelection): void {
    const stack = Stack.of(this);
    const ec2Arn = (resource: string, resourceName: string) => stack.formatArn({ service: 'ec2', resource, resourceName });
    const interfaces = ec2Arn('network-interface', '*');
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CreateFunctionInterfaces',
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          interfaces,
          ...vpc.selectSubnets(subnets).subnetIds.map((id) => ec2Arn('subnet', id)),
          ...this.function.connections.securityGroups.map((sg) => ec2Arn('security-group', sg.securityGroupId)),
        ],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ManageFunctionInterfaces',
        actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        resources: [interfaces],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'DescribeNetwork', actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], resources: ['*'] }),
    );
    const wildcards = new WildcardAcknowledgements(this.role);
    wildcards.add(
      interfaces,
      "Lambda names the interfaces it creates; creation is limited to the function's subnets and security groups by the same statement.",
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets support only Resource * (no resource-level permissions); Lambda calls them to manage the function's interfaces.",
    });
  }
}
