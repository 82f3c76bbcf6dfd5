import { Arn, ArnFormat, Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { WildcardAcknowledgements } from '../../compliance/wildcard-acknowledgements';
import { BOOTSTRAP_BROKERS_VARIABLE } from '../../functions/shared/kafka';
import { LakestreamFunction } from '../core/lakestream-function';
import { encryptStateMachine, grantReadExecutions } from '../core/state-machine-encryption';
import { vendedLogGroupNameFor } from '../core/vended-logs';
import type { KafkaTopic } from '../kafka/kafka-access';
import { ERASURE_WORK_PREFIX } from '../lake/lake-storage';
import type { SparkApplication } from '../spark/spark-application';
import { SparkBatchJob } from '../spark/spark-job';
import type { SparkJobRole } from '../spark/spark-job-role';
import type { ErasureReceipts } from './erasure-receipts';

/** Prefixes of the lake datasets the Spark job rewrites (jobs/spark/lakestream_spark/erasure.py TARGETS). */
export const ERASED_BRONZE_PREFIXES = ['kafka/', 'landing/', 'quarantine/'] as const;
export const ERASED_SILVER_PREFIXES = ['kafka/'] as const;
export const ERASED_GOLD_PREFIXES = ['reports/'] as const;

/** A store erased by age, not by the workflow: listed in every receipt with its synth-checked bound. */
export interface BoundedStore {
  readonly store: string;
  readonly maxAgeDays: number;
}

export interface ErasureWorkflowProps {
  /** Name of the state machine (`<qualifier>-erasure`): the CLI starts executions named after the request id. */
  readonly stateMachineName: string;
  /** Environment name written into receipts. */
  readonly environmentName: string;
  /** SSM parameter where the CLI finds the state machine and buckets. */
  readonly parameterName: string;
  /** The EMR Serverless application that runs the erasure job. */
  readonly spark: SparkApplication;
  /** The erase-subjects job's own role (SparkApplication.addJobRole): granted here the datasets it rewrites. */
  readonly jobRole: SparkJobRole;
  /** s3:// URI of jobs/spark/erase_subjects.py. */
  readonly entryPoint: string;
  /** spark-submit parameters (`--py-files` of the job package, sizing). */
  readonly sparkSubmitParameters: string;
  /** Bronze bucket: erased datasets, and the work prefix (requests, staging, reports). */
  readonly bronze: s3.IBucket;
  /** Silver bucket: the streamed per-user counts. */
  readonly silver: s3.IBucket;
  /** Gold bucket: the per-user reports. */
  readonly gold: s3.IBucket;
  /** Key of the lake buckets. */
  readonly lakeKey: kms.IKey;
  /** Receipts bucket and digest key. */
  readonly receipts: ErasureReceipts;
  /** The compacted counts topic, tombstoned per person. */
  readonly countsTopic: KafkaTopic;
  /** IAM bootstrap brokers (host:port,...). */
  readonly bootstrapBrokers: string;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  /** Security group allowed to reach the brokers. */
  readonly kafkaClientSecurityGroup: ec2.ISecurityGroup;
  /** Flink's window, minutes: window keys of the counts topic are `user_id|window_start`. */
  readonly windowMinutes: number;
  /** How far back window keys can exist on the counts topic, hours. */
  readonly keyHorizonHours: number;
  /** The Managed Flink application whose snapshots are deleted. @default no Flink step */
  readonly flinkApplication?: { readonly name: string; readonly arn: string };
  /** Hours after the request at which the second pass runs (lib/config/personal-data.ts sweepDelayHours). */
  readonly sweepDelayHours: number;
  /** gdpr.erasureDeadlineDays. */
  readonly deadlineDays: number;
  /** Stores bounded by retention, for the receipt. */
  readonly boundedStores: BoundedStore[];
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * Erases people from every store that holds personal data and leaves a receipt:
 *
 *   Prepare ─ already erased? ─ yes ─> AlreadyErased
 *      │ no
 *   FirstPass (parallel): Spark rewrite of bronze, silver and gold → delete old versions │ Kafka tombstones │ Flink snapshots
 *   InitialReceipt → WaitForSweep (until requestedAt + sweep delay)
 *   SweepPass (the same branches): erases what landing files, raw topics or Flink state re-derived meanwhile
 *   FinalReceipt (and the request's work documents are deleted) → Erased
 *
 * Any branch failing after its retries ends in ErasureFailed (alarmed by the executions-failed metric);
 * re-running the same request id is safe: every step is idempotent and a final receipt short-circuits.
 */
export class ErasureWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly eraseJob: SparkBatchJob;
  /** The role erase-subjects runs as (props.jobRole). */
  public readonly jobRole: SparkJobRole;
  public readonly functions: Record<'prepare' | 'tombstones' | 'snapshots' | 'versions' | 'receipt', LakestreamFunction>;
  public readonly parameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: ErasureWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { bronze, silver, gold, spark, receipts } = props;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.DESTROY;
    const workObjects = bronze.arnForObjects(`${ERASURE_WORK_PREFIX}*`);

    // ---- the Spark job: same application as the other jobs, its own role and state machine ----
    // Only this job may delete in every tier: it rewrites exactly the datasets that hold people.
    this.jobRole = props.jobRole;
    this.jobRole.grantReadWrite(bronze, ERASURE_WORK_PREFIX);
    for (const prefix of ERASED_BRONZE_PREFIXES) this.jobRole.grantReadWrite(bronze, prefix);
    for (const prefix of ERASED_SILVER_PREFIXES) this.jobRole.grantReadWrite(silver, prefix);
    for (const prefix of ERASED_GOLD_PREFIXES) this.jobRole.grantReadWrite(gold, prefix);
    this.eraseJob = new SparkBatchJob(this, 'EraseSubjects', {
      application: spark,
      executionRole: this.jobRole.role,
      jobName: 'erase-subjects',
      entryPoint: props.entryPoint,
      entryPointArguments: ['--bronze-uri', bronze.s3UrlForObject('/'), '--silver-uri', silver.s3UrlForObject('/'), '--gold-uri', gold.s3UrlForObject('/')],
      sparkSubmitParameters: props.sparkSubmitParameters,
      executionTimeout: Duration.hours(6),
      retry: { maxRetries: 2, interval: Duration.minutes(5) },
      logsKey: props.logsKey,
      logRetention: props.logRetention,
      logRemovalPolicy,
    });

    // ---- Lambda steps ----
    const fn = (
      name: keyof ErasureWorkflow['functions'],
      description: string,
      environment: Record<string, string>,
      extra: Partial<ConstructorParameters<typeof LakestreamFunction>[2]> = {},
    ) =>
      new LakestreamFunction(this, `${name.charAt(0).toUpperCase()}${name.slice(1)}Function`, {
        handlerDir: 'erasure',
        handlerName: name,
        description,
        encryptionKey: props.logsKey,
        logRetention: props.logRetention,
        logRemovalPolicy,
        environment: { WORK_BUCKET: bronze.bucketName, ...environment },
        ...extra,
      });
    this.functions = {
      prepare: fn('prepare', 'Erasure: validates a request and digests its ids for the receipt', {
        RECEIPTS_BUCKET: receipts.bucket.bucketName,
        HMAC_KEY_ID: receipts.digestKey.keyArn,
      }),
      tombstones: fn(
        'tombstones',
        'Erasure: tombstones the people on the compacted counts topic',
        {
          COUNTS_TOPIC: props.countsTopic.topicName,
          WINDOW_MINUTES: String(props.windowMinutes),
          KEY_HORIZON_HOURS: String(props.keyHorizonHours),
          [BOOTSTRAP_BROKERS_VARIABLE]: props.bootstrapBrokers,
        },
        { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: [props.kafkaClientSecurityGroup], timeout: Duration.minutes(10), memorySize: 512 },
      ),
      snapshots: fn('snapshots', 'Erasure: deletes Flink snapshots taken before the pass', { FLINK_APPLICATION: props.flinkApplication?.name ?? '' }),
      versions: fn(
        'versions',
        'Erasure: deletes the old versions of the Parquet objects the Spark job rewrote',
        { LAKE_BUCKETS: `${bronze.bucketName},${silver.bucketName},${gold.bucketName}` },
        { timeout: Duration.minutes(10) },
      ),
      receipt: fn('receipt', 'Erasure: writes the write-once receipt', {
        RECEIPTS_BUCKET: receipts.bucket.bucketName,
        ENVIRONMENT_NAME: props.environmentName,
        DEADLINE_DAYS: String(props.deadlineDays),
        HMAC_KEY_ARN: receipts.digestKey.keyArn,
        BOUNDED_STORES: JSON.stringify(props.boundedStores),
      }),
    };
    this.grantSteps(props, workObjects);

    // ---- state machine ----
    const failed = sfn.Fail.jsonata(this, 'ErasureFailed', {
      error: 'ErasureFailed',
      cause:
        "{% 'Erasure did not complete: ' & ($exists($states.input.Cause) ? $states.input.Cause : 'no cause reported') & '. Re-run the same request id after fixing the cause.' %}",
    });
    const invoke = (id: string, lambda: LakestreamFunction, payload: Record<string, unknown>, assign?: Record<string, string>) => {
      const task = tasks.LambdaInvoke.jsonata(this, id, {
        lambdaFunction: lambda.function,
        payload: sfn.TaskInput.fromObject(payload),
        outputs: '{% $states.result.Payload %}',
        assign,
        retryOnServiceExceptions: true,
      });
      task.addRetry({ errors: ['States.TaskFailed'], maxAttempts: 2, interval: Duration.seconds(30), backoffRate: 2, jitterStrategy: sfn.JitterType.FULL });
      return task;
    };
    const request = { requestId: '{% $requestId %}' };
    const pass = (phase: 'First' | 'Sweep') => {
      const parallel = sfn.Parallel.jsonata(this, `${phase}Pass`, {
        comment: phase === 'First' ? 'Erase from every store' : 'Erase what was re-derived while landing files, raw topics and Flink state aged out',
        outputs:
          '{% { "lake": $states.result[0], "kafka": $states.result[1], "flink": $count($states.result) > 2 ? $states.result[2] : { "application": null, "snapshotsDeleted": [] } } %}',
      });
      const runSpark = new sfn.CustomState(this, `${phase}RunSparkErase`, {
        stateJson: {
          Type: 'Task',
          Resource: `arn:${Aws.PARTITION}:states:::states:startExecution.sync:2`,
          Arguments: {
            StateMachineArn: this.eraseJob.stateMachine.stateMachineArn,
            Input: { extraArguments: ['--request-id', '{% $requestId %}'], AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: '{% $states.context.Execution.Id %}' },
          },
          Output: '{% $states.input %}',
        },
      });
      parallel.branch(runSpark.next(invoke(`${phase}PurgeOldVersions`, this.functions.versions, request)));
      parallel.branch(invoke(`${phase}Tombstones`, this.functions.tombstones, request));
      if (props.flinkApplication) parallel.branch(invoke(`${phase}DeleteFlinkSnapshots`, this.functions.snapshots, request));
      parallel.addCatch(failed, { errors: [sfn.Errors.ALL] });
      return parallel;
    };
    const receiptStep = (id: string, phase: 'initial' | 'final') =>
      invoke(id, this.functions.receipt, {
        requestId: '{% $requestId %}',
        phase,
        requestedAt: '{% $prepared.requestedAt %}',
        subjectDigests: '{% $prepared.subjectDigests %}',
        lake: '{% $states.input.lake %}',
        kafka: '{% $states.input.kafka %}',
        flink: '{% $states.input.flink %}',
        ...(phase === 'initial' ? { sweepAt: '{% $sweepAt %}' } : {}),
      }).addCatch(failed, { errors: [sfn.Errors.ALL] });

    const prepare = invoke('Prepare', this.functions.prepare, request, {
      prepared: '{% $states.result.Payload %}',
      sweepAt: `{% $states.result.Payload.alreadyErased ? '' : $fromMillis($toMillis($states.result.Payload.requestedAt) + ${props.sweepDelayHours * 3_600_000}) %}`,
    }).addCatch(failed, { errors: [sfn.Errors.ALL] });
    const start = sfn.Pass.jsonata(this, 'Start', { assign: { requestId: '{% $states.input.requestId %}' } });
    const definition = start.next(prepare).next(
      sfn.Choice.jsonata(this, 'AlreadyErasedChoice')
        .when(
          sfn.Condition.jsonata('{% $prepared.alreadyErased %}'),
          sfn.Succeed.jsonata(this, 'AlreadyErased', { comment: 'A final receipt exists for this request id' }),
        )
        .otherwise(
          pass('First')
            .next(receiptStep('InitialReceipt', 'initial'))
            .next(sfn.Wait.jsonata(this, 'WaitForSweep', { time: sfn.WaitTime.timestamp('{% $sweepAt %}') }))
            .next(pass('Sweep'))
            .next(receiptStep('FinalReceipt', 'final'))
            .next(sfn.Succeed.jsonata(this, 'Erased')),
        ),
    );

    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: vendedLogGroupNameFor(this, 'states'),
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy: logRemovalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      queryLanguage: sfn.QueryLanguage.JSONATA,
      comment: 'GDPR erasure of data subjects from every store, with a write-once receipt',
      // Longest path: the wait for the sweep (bounded by the deadline) plus both passes.
      timeout: Duration.days(props.deadlineDays + 2),
      // Execution data holds request ids, counts and digests only: the ids stay in the work prefix.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: false,
    });
    this.grantStateMachine(props.logsKey);

    this.parameter = new ssm.StringParameter(this, 'Parameter', {
      parameterName: props.parameterName,
      description: 'Where lakestream erase finds the erasure workflow',
      stringValue: stack.toJsonString({
        stateMachineArn: this.stateMachine.stateMachineArn,
        workBucket: bronze.bucketName,
        workPrefix: ERASURE_WORK_PREFIX,
        receiptsBucket: receipts.bucket.bucketName,
        deadlineDays: props.deadlineDays,
        sweepDelayHours: props.sweepDelayHours,
      }),
    });
  }

  private grantSteps(props: ErasureWorkflowProps, workObjects: string): void {
    const { bronze, silver, gold, receipts, lakeKey } = props;
    const { prepare, tombstones, snapshots, versions, receipt } = this.functions;
    const add = (f: LakestreamFunction, statement: iam.PolicyStatementProps) => f.role.addToPrincipalPolicy(new iam.PolicyStatement(statement));
    for (const f of [prepare, tombstones, versions]) {
      add(f, { sid: 'ReadWorkDocuments', actions: ['s3:GetObject'], resources: [workObjects] });
      add(f, { sid: 'DecryptLake', actions: ['kms:Decrypt'], resources: [lakeKey.keyArn] });
    }
    add(prepare, { sid: 'ReadReceipts', actions: ['s3:GetObject'], resources: [receipts.bucket.arnForObjects('receipts/*')] });
    add(prepare, { sid: 'ListReceipts', actions: ['s3:ListBucket'], resources: [receipts.bucket.bucketArn] });
    add(prepare, { sid: 'DecryptReceipts', actions: ['kms:Decrypt'], resources: [receipts.encryptionKey.keyArn] });
    add(prepare, { sid: 'DigestIds', actions: ['kms:GenerateMac'], resources: [receipts.digestKey.keyArn] });
    props.countsTopic.grantWrite(tombstones.role);
    if (props.flinkApplication) {
      add(snapshots, {
        sid: 'FlinkSnapshots',
        actions: ['kinesisanalytics:ListApplicationSnapshots', 'kinesisanalytics:DeleteApplicationSnapshot'],
        resources: [props.flinkApplication.arn],
      });
    }
    const erasedObjects = [
      ...ERASED_BRONZE_PREFIXES.map((p) => bronze.arnForObjects(`${p}*`)),
      ...ERASED_SILVER_PREFIXES.map((p) => silver.arnForObjects(`${p}*`)),
      ...ERASED_GOLD_PREFIXES.map((p) => gold.arnForObjects(`${p}*`)),
    ];
    add(versions, { sid: 'ListVersions', actions: ['s3:ListBucketVersions'], resources: [bronze.bucketArn, silver.bucketArn, gold.bucketArn] });
    add(versions, { sid: 'DeleteOldVersions', actions: ['s3:DeleteObjectVersion'], resources: erasedObjects });
    add(receipt, { sid: 'WriteReceipts', actions: ['s3:PutObject', 's3:GetObject'], resources: [receipts.bucket.arnForObjects('receipts/*')] });
    add(receipt, { sid: 'ReceiptsKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [receipts.encryptionKey.keyArn] });
    add(receipt, { sid: 'ListWork', actions: ['s3:ListBucketVersions'], resources: [bronze.bucketArn] });
    add(receipt, { sid: 'DeleteWork', actions: ['s3:DeleteObjectVersion'], resources: [workObjects] });

    const reasons: Array<[LakestreamFunction, string, string]> = [
      [prepare, workObjects, 'Request documents are written per request id under the erasure work prefix.'],
      [tombstones, workObjects, 'Request documents are written per request id under the erasure work prefix.'],
      [versions, workObjects, 'Spark reports are written per request id under the erasure work prefix.'],
      [prepare, receipts.bucket.arnForObjects('receipts/*'), 'Receipts are keyed by request id, which is chosen per request.'],
      [receipt, receipts.bucket.arnForObjects('receipts/*'), 'Receipts are keyed by request id, which is chosen per request.'],
      [receipt, workObjects, 'The request documents of the finished request id are deleted with all their versions.'],
    ];
    for (const arn of erasedObjects)
      reasons.push([versions, arn, 'The Spark job reports which objects of the erased datasets it rewrote; their keys are generated (Parquet part files).']);
    for (const [f, arn, reason] of reasons) new WildcardAcknowledgements(f.role).add(arn, reason);
  }

  private grantStateMachine(logsKey: kms.IKey): void {
    const stack = Stack.of(this);
    const role = this.stateMachine.role;
    // Request ids, counts and digests under the logs key; .sync reads the erase job's result through Step Functions.
    encryptStateMachine(this.stateMachine.node.defaultChild as sfn.CfnStateMachine, role, logsKey, { logging: true });
    grantReadExecutions(role, logsKey, [this.eraseJob.stateMachine.node.defaultChild as sfn.CfnStateMachine]);
    const job = this.eraseJob.stateMachine.stateMachineArn;
    const executions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${Arn.split(job, ArnFormat.COLON_RESOURCE_NAME).resourceName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'StartEraseJob', actions: ['states:StartExecution'], resources: [job] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'FollowEraseJob', actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [executions] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SyncEventsRule',
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [stack.formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule' })],
      }),
    );
    const wildcards = new WildcardAcknowledgements(role);
    wildcards.add(
      executions,
      'Execution names of the erase job are generated at start; the workflow follows and stops executions of that one state machine only.',
    );
    for (const f of Object.values(this.functions))
      wildcards.add(`${f.function.functionArn}:*`, 'Lambda invoke permissions cover the function versions and aliases of this step only.');
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) supports only Resource *.',
    });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF2',
      reason:
        'X-Ray write actions accept only Resource *, which the project forbids; each execution is traced by its ALL-level logs and the receipts it writes.',
    });
  }
}
