import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LOG_DELIVERY_SOURCE_ARNS, STATE_MACHINE_CONTEXT } from '../core/state-machine-encryption';
import { flinkStateKeyPolicyStatements } from '../flink/flink-state-key';

/** Key administration, listed action by action so no policy carries `kms:*`. */
export const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListAliases',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RevokeGrant',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];

/** Cryptographic use of a key by a service on a caller's behalf. */
export const KEY_USE_ACTIONS = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:ListGrants',
  'kms:RetireGrant',
];

export interface PlatformKeysProps {
  /** Prefix of the key aliases: `alias/<qualifier>/lake` etc. */
  readonly qualifier: string;
  /** RETAIN in prod: data encrypted with a deleted key is lost. */
  readonly removalPolicy: RemovalPolicy;
  /** Waiting period before a destroyed key is deleted. @default Duration.days(30) with RETAIN, 7 days otherwise */
  readonly pendingWindow?: Duration;
  /**
   * Names of the Managed Flink applications whose state the streaming key encrypts: its policy then
   * admits Managed Flink's two service principals for exactly these applications.
   * @default none
   */
  readonly flinkApplicationNames?: string[];
}

/**
 * The platform's three customer-managed keys, each usable only through the services that need it:
 * `lake` (S3 lake, Glue, Athena), `streaming` (MSK, MSK Connect, queues, topics, secrets,
 * Prometheus) and `logs` (CloudWatch Logs, Lambda environments, alarm notifications). Rotation is
 * on. IAM principals of the account may use a key only via those services (`kms:ViaService`).
 */
export class PlatformKeys extends Construct {
  public readonly lake: kms.Key;
  public readonly streaming: kms.Key;
  public readonly logs: kms.Key;

  constructor(scope: Construct, id: string, props: PlatformKeysProps) {
    super(scope, id);
    const pendingWindow = props.pendingWindow ?? (props.removalPolicy === RemovalPolicy.RETAIN ? Duration.days(30) : Duration.days(7));

    this.lake = this.createKey('LakeKey', props, pendingWindow, 'lake', 'Lake data: S3 buckets, Glue Data Catalog, Athena results', ['s3', 'glue', 'athena']);
    this.streaming = this.createKey(
      'StreamingKey',
      props,
      pendingWindow,
      'streaming',
      'Streaming: MSK, MSK Connect, SQS, SNS, Secrets Manager, SSM, Managed Prometheus, Managed Flink',
      ['kafka', 'kafkaconnect', 'sqs', 'sns', 'secretsmanager', 'ssm', 'aps', 'kinesisanalytics', 'states'],
    );
    this.logs = this.createKey('LogsKey', props, pendingWindow, 'logs', 'Logs: CloudWatch Logs, Lambda environment variables, alarm notifications', [
      'logs',
      'lambda',
      'sns',
      'sqs',
      'states',
    ]);

    // CloudWatch Logs encrypts with the key itself. Its documented condition is the encryption context, the
    // log group ARN: limiting it to this account's and region's log groups is the source-ARN condition here.
    this.logs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsUse',
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` } },
      }),
    );
    // Step Functions state machines (definitions and execution history) are encrypted with the logs key.
    // Their execution roles call KMS directly, not through a service endpoint (the Step Functions guide
    // warns that kms:ViaService would stop executions), so the account's roles are admitted by the
    // encryption context instead: data of this account's state machines, and data keys for their log delivery.
    const stateMachines = `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:stateMachine:*`;
    this.logs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'StepFunctionsExecutionData',
        principals: [new iam.AccountRootPrincipal()],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'kms:CallerAccount': Aws.ACCOUNT_ID },
          StringLike: { [STATE_MACHINE_CONTEXT]: stateMachines },
        },
      }),
    );
    this.logs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'StepFunctionsLogDeliveryDataKeys',
        principals: [new iam.AccountRootPrincipal()],
        actions: ['kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'kms:CallerAccount': Aws.ACCOUNT_ID },
          StringLike: { 'kms:EncryptionContext:SourceArn': LOG_DELIVERY_SOURCE_ARNS },
        },
      }),
    );
    // CloudWatch Logs' delivery service decrypts what an encrypted state machine hands to its log group.
    this.logs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'StepFunctionsLogDelivery',
        principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    // Managed Flink application state (snapshots, checkpoints, running state), per application.
    for (const applicationName of props.flinkApplicationNames ?? []) {
      const applicationArn = Stack.of(this).formatArn({ service: 'kinesisanalytics', resource: 'application', resourceName: applicationName });
      for (const statement of flinkStateKeyPolicyStatements(applicationArn)) this.streaming.addToResourcePolicy(statement);
    }
    // Alarms and Prometheus alert manager publish to the encrypted alarm topic.
    for (const key of [this.logs, this.streaming]) {
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AlarmPublishers',
          principals: [
            new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
            new iam.ServicePrincipal('aps.amazonaws.com'),
            new iam.ServicePrincipal('events.amazonaws.com'),
          ],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
        }),
      );
    }
  }

  private createKey(id: string, props: PlatformKeysProps, pendingWindow: Duration, name: string, description: string, services: string[]): kms.Key {
    const accountRoot = new iam.AccountRootPrincipal();
    const viaServices = { 'kms:CallerAccount': Aws.ACCOUNT_ID, 'kms:ViaService': services.map((s) => `${s}.${Aws.REGION}.amazonaws.com`) };
    const policy = new iam.PolicyDocument({
      statements: [
        // Keeps the key manageable by the account (and so never orphaned), without granting data access.
        new iam.PolicyStatement({ sid: 'KeyAdministration', principals: [accountRoot], actions: KEY_ADMIN_ACTIONS, resources: ['*'] }),
        new iam.PolicyStatement({
          sid: 'UseThroughPlatformServices',
          principals: [accountRoot],
          actions: KEY_USE_ACTIONS,
          resources: ['*'],
          conditions: { StringEquals: viaServices },
        }),
        // Services create grants to use the key for a resource they manage (MSK, Secrets Manager...); never a
        // principal for itself, which would outlive every policy change.
        new iam.PolicyStatement({
          sid: 'GrantsForAwsResourcesOnly',
          principals: [accountRoot],
          actions: ['kms:CreateGrant'],
          resources: ['*'],
          conditions: { StringEquals: viaServices, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        }),
      ],
    });
    return new kms.Key(this, id, {
      alias: `alias/${props.qualifier}/${name}`,
      description: `Lakestream ${props.qualifier}: ${description}`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      pendingWindow,
      removalPolicy: props.removalPolicy,
      policy,
    });
  }
}
