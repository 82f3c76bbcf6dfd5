import { Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as emrserverless from 'aws-cdk-lib/aws-emrserverless';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { KEY_ADMIN_ACTIONS } from '../security/platform-keys';
import { grantRunSubmission } from './spark-job';
import { SparkJobLogging, SparkJobRole, normalizePrefix } from './spark-job-role';

/**
 * Newest EMR 7 release listed in every region's EMR Serverless release notes when this was written
 * (7.13 and 7.14 exist but are not yet in all regions). Spark 3.5.
 */
export const DEFAULT_EMR_RELEASE_LABEL = 'emr-7.12.0';

/** Worker sizes EMR Serverless accepts, in vCPU. */
const WORKER_VCPU_OPTIONS = [1, 2, 4, 8, 16];

/** CPU, memory and disk of a pool of workers. */
export interface SparkCapacity {
  /** vCPUs. */
  readonly cpuVcpu: number;
  /** Memory in GB. */
  readonly memoryGb: number;
  /** Disk in GB. @default EMR Serverless' default (20 GB per worker) */
  readonly diskGb?: number;
}

/** Workers kept initialized (a warm pool) so jobs start in seconds instead of minutes. */
export interface SparkPreInitializedCapacity {
  /** Initialized driver workers. */
  readonly driverCount: number;
  /** Initialized executor workers. */
  readonly executorCount: number;
  /** Size of each driver worker. @default 4 vCPU, 16 GB, 20 GB disk */
  readonly driverSize?: SparkCapacity;
  /** Size of each executor worker. @default 4 vCPU, 16 GB, 20 GB disk */
  readonly executorSize?: SparkCapacity;
}

export interface SparkApplicationProps {
  /** Application name shown in EMR Studio and the console. @default a unique name from the construct path */
  readonly applicationName?: string;
  /** EMR release (EMR 7 only). @default DEFAULT_EMR_RELEASE_LABEL */
  readonly releaseLabel?: string;
  /** VPC the workers run in. */
  readonly vpc: ec2.IVpc;
  /** Subnets for the workers (private; they reach S3, Glue and MSK through the VPC). @default private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups added to the one this construct creates, which allows no traffic: these give the
   * workers their egress (S3, Glue, STS, CloudWatch endpoints, MSK), e.g. the Kafka client group that
   * the brokers admit. @default only the application's own group: workers reach nothing
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** Upper bound on everything the application's running jobs may use together. */
  readonly maximumCapacity: SparkCapacity;
  /** Pre-initialized (always-warm, always-billed) workers. @default none: jobs start cold */
  readonly preInitializedCapacity?: SparkPreInitializedCapacity;
  /** Idle time after which the application stops (and stops billing pre-initialized workers). @default Duration.minutes(15) */
  readonly idleTimeout?: Duration;
  /** Bucket receiving the Spark driver and executor logs. */
  readonly logsBucket: s3.IBucket;
  /** Key prefix in `logsBucket`. @default 'emr-serverless/' */
  readonly logsPrefix?: string;
  /** Key encrypting the CloudWatch log group (used by CloudWatch Logs itself). */
  readonly logsKey: kms.IKey;
  /**
   * Also have EMR encrypt the S3 logs and its managed log persistence with `logsKey`, calling KMS
   * with the job role. Leave off when the key admits principals only through named services
   * (Lakestream's platform keys do): the logs bucket's default SSE-KMS and the encrypted log group
   * already encrypt everything at rest.
   * @default false
   */
  readonly encryptLogsWithJobRole?: boolean;
  /** Retention of the CloudWatch log group. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the log group (and of the managed-logs key this construct creates). @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Customer-managed key of the logs EMR Serverless keeps in its managed storage (the Spark UI and
   * event logs behind GetDashboardForJobRun). Every job run names it (StartJobRun
   * `monitoringConfiguration`), not the application: a STARTED application refuses updates. Its
   * policy must admit `emr-serverless.amazonaws.com` for this application, and the account's
   * principals through IAM: the job roles, whoever submits a run (EMR Serverless rejects a
   * submission whose caller cannot use the key) and whoever opens the Spark UI.
   * @default a key created here, rotated yearly, with that policy
   */
  readonly managedLogsKey?: kms.IKey;
}

/**
 * An EMR Serverless Spark application (ARM64, in private subnets, auto-start and auto-stop) with
 * encrypted S3 and CloudWatch logs. Each job runs as a role of its own (`addJobRole`), which starts
 * with only what logging needs; grant it the job's data with SparkJobRole's helpers.
 */
export class SparkApplication extends Construct {
  public readonly application: emrserverless.CfnApplication;
  public readonly applicationId: string;
  /** `arn:...:/applications/<id>`. */
  public readonly applicationArn: string;
  /** ARN pattern of this application's job runs (`<applicationArn>/jobruns/*`). */
  public readonly jobRunsArn: string;
  public readonly releaseLabel: string;
  /** Key of the managed-storage logs, named by every job run (grant submitters with `grantSubmitRuns`). */
  public readonly managedLogsKey: kms.IKey;
  /** The job roles made by `addJobRole`, one per job. */
  public readonly jobRoles: SparkJobRole[] = [];
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly logGroup: logs.LogGroup;
  /** s3:// URI of the S3 log location. */
  public readonly logUri: string;
  private readonly jobLogging: SparkJobLogging;

  constructor(scope: Construct, id: string, props: SparkApplicationProps) {
    super(scope, id);
    this.releaseLabel = props.releaseLabel ?? DEFAULT_EMR_RELEASE_LABEL;
    validateProps(props, this.releaseLabel);
    const logsPrefix = normalizePrefix(props.logsPrefix ?? 'emr-serverless/');

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'EMR Serverless Spark workers: no inbound, no outbound of its own (egress comes from the groups passed in securityGroups)',
      allowAllOutbound: false,
    });

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      encryptionKey: props.logsKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.logUri = props.logsBucket.s3UrlForObject(logsPrefix);

    const jobRoleLogKeyArn = props.encryptLogsWithJobRole ? props.logsKey.keyArn : undefined;
    this.application = new emrserverless.CfnApplication(this, 'Application', {
      name: props.applicationName ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }),
      releaseLabel: this.releaseLabel,
      type: 'SPARK',
      architecture: 'ARM64',
      networkConfiguration: {
        subnetIds: props.vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
        securityGroupIds: [this.securityGroup, ...(props.securityGroups ?? [])].map((sg) => sg.securityGroupId),
      },
      autoStartConfiguration: { enabled: true },
      autoStopConfiguration: { enabled: true, idleTimeoutMinutes: (props.idleTimeout ?? Duration.minutes(15)).toMinutes() },
      maximumCapacity: capacity(props.maximumCapacity),
      initialCapacity: props.preInitializedCapacity ? initialCapacity(props.preInitializedCapacity) : undefined,
      monitoringConfiguration: {
        s3MonitoringConfiguration: { logUri: this.logUri, encryptionKeyArn: jobRoleLogKeyArn },
        cloudWatchLoggingConfiguration: {
          enabled: true,
          logGroupName: this.logGroup.logGroupName,
          logStreamNamePrefix: 'spark',
          encryptionKeyArn: jobRoleLogKeyArn,
        },
        managedPersistenceMonitoringConfiguration: { enabled: true, encryptionKeyArn: jobRoleLogKeyArn },
      },
    });
    this.applicationId = this.application.attrApplicationId;
    this.applicationArn = this.application.attrArn;
    this.jobRunsArn = `${this.applicationArn}/jobruns/*`;

    this.managedLogsKey = props.managedLogsKey ?? this.createManagedLogsKey(props.logRemovalPolicy ?? RemovalPolicy.DESTROY);
    this.jobLogging = {
      bucket: props.logsBucket,
      prefix: logsPrefix,
      logGroup: this.logGroup,
      encryptionKey: props.encryptLogsWithJobRole ? props.logsKey : undefined,
      managedLogsKey: this.managedLogsKey,
    };
  }

  /**
   * A role for one job's runs (pass it as the job's `executionRole`): it may assume only for this
   * application and write only the application's logs until the job's data is granted to it.
   */
  public addJobRole(id: string, jobName: string): SparkJobRole {
    const jobRole = new SparkJobRole(this, id, { applicationArn: this.applicationArn, jobRunsArn: this.jobRunsArn, jobName, logging: this.jobLogging });
    this.jobRoles.push(jobRole);
    return jobRole;
  }

  /**
   * What a principal that starts job runs needs beyond `emr-serverless:StartJobRun`: the runs name
   * `managedLogsKey`, and EMR Serverless rejects a submission whose caller cannot use it. Operators
   * who open the Spark UI (GetDashboardForJobRun) need the same.
   */
  public grantSubmitRuns(grantee: iam.IGrantable): void {
    grantRunSubmission(grantee, this);
  }

  /**
   * The default managed-logs key. EMR Serverless is admitted for this application only; the
   * account's principals through IAM (job roles, submitters, operators), for use only: the Spark
   * workers and the service call KMS directly, not through a service endpoint, so `kms:ViaService`
   * cannot narrow it. No key administration beyond the listed actions.
   */
  private createManagedLogsKey(removalPolicy: RemovalPolicy): kms.Key {
    const account = Stack.of(this).account;
    const accountRoot = new iam.AccountRootPrincipal();
    return new kms.Key(this, 'ManagedLogsKey', {
      description: `EMR Serverless managed-storage logs of ${this.node.path}`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      removalPolicy,
      pendingWindow: Duration.days(removalPolicy === RemovalPolicy.RETAIN ? 30 : 7),
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({ sid: 'KeyAdministration', principals: [accountRoot], actions: KEY_ADMIN_ACTIONS, resources: ['*'] }),
          new iam.PolicyStatement({
            sid: 'UseByGrantedPrincipals',
            principals: [accountRoot],
            actions: ['kms:DescribeKey', 'kms:GenerateDataKey', 'kms:Decrypt'],
            resources: ['*'],
            conditions: { StringEquals: { 'kms:CallerAccount': account } },
          }),
          new iam.PolicyStatement({
            sid: 'EmrServerlessManagedLogs',
            principals: [new iam.ServicePrincipal('emr-serverless.amazonaws.com')],
            actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
            resources: ['*'],
            conditions: { StringEquals: { 'aws:SourceAccount': account }, ArnLike: { 'aws:SourceArn': [this.applicationArn, this.jobRunsArn] } },
          }),
        ],
      }),
    });
  }
}

function capacity(size: SparkCapacity): emrserverless.CfnApplication.MaximumAllowedResourcesProperty {
  return {
    cpu: `${size.cpuVcpu} vCPU`,
    memory: `${size.memoryGb} GB`,
    disk: size.diskGb === undefined ? undefined : `${size.diskGb} GB`,
  };
}

const DEFAULT_WORKER: SparkCapacity = { cpuVcpu: 4, memoryGb: 16, diskGb: 20 };

function initialCapacity(pool: SparkPreInitializedCapacity): emrserverless.CfnApplication.InitialCapacityConfigKeyValuePairProperty[] {
  return [
    { key: 'Driver', value: { workerCount: pool.driverCount, workerConfiguration: capacity(pool.driverSize ?? DEFAULT_WORKER) } },
    { key: 'Executor', value: { workerCount: pool.executorCount, workerConfiguration: capacity(pool.executorSize ?? DEFAULT_WORKER) } },
  ];
}

function validateProps(props: SparkApplicationProps, releaseLabel: string): void {
  const problems: string[] = [];
  if (!Token.isUnresolved(releaseLabel) && !/^emr-7\.\d+\.\d+$/.test(releaseLabel)) {
    problems.push(`releaseLabel '${releaseLabel}' is not an EMR 7 release label (e.g. ${DEFAULT_EMR_RELEASE_LABEL})`);
  }
  const positiveInt = (name: string, value: number | undefined, min = 1) => {
    if (value !== undefined && !Token.isUnresolved(value) && (!Number.isInteger(value) || value < min)) {
      problems.push(`${name} must be an integer of at least ${min}, got ${value}`);
    }
  };
  positiveInt('maximumCapacity.cpuVcpu', props.maximumCapacity.cpuVcpu);
  positiveInt('maximumCapacity.memoryGb', props.maximumCapacity.memoryGb);
  positiveInt('maximumCapacity.diskGb', props.maximumCapacity.diskGb, 20);
  const pool = props.preInitializedCapacity;
  if (pool) {
    positiveInt('preInitializedCapacity.driverCount', pool.driverCount);
    positiveInt('preInitializedCapacity.executorCount', pool.executorCount);
    for (const [name, size] of [
      ['driverSize', pool.driverSize],
      ['executorSize', pool.executorSize],
    ] as const) {
      if (!size) continue;
      if (!WORKER_VCPU_OPTIONS.includes(size.cpuVcpu)) {
        problems.push(`preInitializedCapacity.${name}.cpuVcpu must be one of ${WORKER_VCPU_OPTIONS.join(', ')}, got ${size.cpuVcpu}`);
      }
      positiveInt(`preInitializedCapacity.${name}.memoryGb`, size.memoryGb, 2);
      positiveInt(`preInitializedCapacity.${name}.diskGb`, size.diskGb, 20);
    }
  }
  const idleMinutes = props.idleTimeout?.toMinutes();
  if (idleMinutes !== undefined && (idleMinutes < 1 || idleMinutes > 10080)) {
    problems.push(`idleTimeout must be between 1 minute and 7 days, got ${idleMinutes} minutes`);
  }
  if (problems.length > 0) throw new Error(`SparkApplication: ${problems.join('; ')}`);
}
