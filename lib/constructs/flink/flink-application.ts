import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { ArnFormat, CustomResource, Duration, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kda from 'aws-cdk-lib/aws-kinesisanalyticsv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { grantFlinkStateKeyOperator } from './flink-state-key';
import { WildcardAcknowledgements } from '../../compliance/wildcard-acknowledgements';
import { LakestreamFunction } from '../core/lakestream-function';
import { LakestreamProvider } from '../core/lakestream-provider';

/** Folder of the shipped PyFlink jobs, one sub-folder per job (e.g. `login_counts`). */
export const FLINK_JOBS_DIR = path.join(__dirname, '..', '..', '..', 'jobs', 'flink');
/** Files of a job folder that are never part of its code asset. */
export const CODE_ASSET_EXCLUDES = ['__pycache__', '*.pyc', 'tests'];

/** Property group through which Managed Flink finds a Python application's entry point and jar. */
export const RUN_OPTIONS_GROUP = 'kinesis.analytics.flink.run.options';
/** Where the merged connector jar sits inside the application zip. */
export const CONNECTOR_JAR_PATH = 'lib/lakestream-connectors.jar';
export const FLINK_RUNTIME = 'FLINK-1_20';
/** MSK's IAM-authenticated TLS listener. */
const MSK_IAM_PORT = 9098;

export interface FlinkConnectorJars {
  /** Bucket holding the jars (the artifacts bucket the artifact mirror writes to). */
  readonly bucket: s3.IBucket;
  /**
   * Object keys of the jars, in priority order (the first jar wins a path conflict). Use the
   * mirror's `objectKey(name)` so the packaging waits for the mirror. For a Python Table API job
   * on MSK IAM: the unshaded `flink-connector-kafka` jar, `kafka-clients` and
   * `aws-msk-iam-auth-*-all`. Not `flink-sql-connector-kafka`: it relocates the Kafka classes, and
   * the IAM callback handler then fails with a ClassCastException (aws/aws-msk-iam-auth#190).
   * Keys must be immutable (versioned names); the package is rebuilt when a key changes.
   */
  readonly keys: string[];
  /** KMS key of `bucket`'s objects. @default bucket.encryptionKey */
  readonly encryptionKey?: kms.IKey;
}

export interface FlinkPackageLocation {
  /** Bucket the application zip is written to. */
  readonly bucket: s3.IBucket;
  /** Key prefix, ending with '/'. @default `flink-applications/<applicationName>/` */
  readonly prefix?: string;
  /** KMS key of `bucket`'s default encryption. @default bucket.encryptionKey */
  readonly encryptionKey?: kms.IKey;
}

export type FlinkLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export type FlinkMetricsLevel = 'APPLICATION' | 'OPERATOR' | 'PARALLELISM' | 'TASK';

export interface FlinkApplicationProps {
  /** Application name (letters, digits, '_', '.', '-'; at most 128), e.g. `lakestream-dev-login-counts`. */
  readonly applicationName: string;
  /** The job folder as a CDK asset (a zip of Python files, entry point at its root). */
  readonly codeAsset: s3assets.Asset;
  /** Entry script inside the code asset. @default 'main.py' */
  readonly entryPoint?: string;
  /** Folder the code is placed in inside the application zip (also the `pyFiles` folder). @default 'job' */
  readonly codeFolder?: string;
  /** Connector jars to merge into the application's single jar. */
  readonly connectorJars: FlinkConnectorJars;
  /** Where the application zip is written. @default the connector jars' bucket, prefix `flink-applications/<applicationName>/` */
  readonly packageLocation?: FlinkPackageLocation;
  /** VPC of the Kafka cluster. */
  readonly vpc: ec2.IVpc;
  /** Subnets for the application's network interfaces. @default private subnets with egress */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * Security group of the application's network interfaces. Allow it in the brokers' group on 9098.
   * @default a new group with no ingress and egress only to TCP 9098 inside the VPC
   */
  readonly securityGroup?: ec2.ISecurityGroup;
  /** Initial parallelism (and the floor when auto scaling). @default 1 */
  readonly parallelism?: number;
  /** Parallel tasks per KPU (1 vCPU, 4 GiB). @default 1 */
  readonly parallelismPerKpu?: number;
  /** Let the service scale parallelism with CPU. @default false */
  readonly autoScaling?: boolean;
  /** Checkpoint interval. @default Duration.minutes(1) */
  readonly checkpointInterval?: Duration;
  /** Least pause between the end of a checkpoint and the start of the next. @default Duration.seconds(5) */
  readonly minPauseBetweenCheckpoints?: Duration;
  /**
   * Runtime properties, by property group (the job reads them from
   * /etc/flink/application_properties.json). Values may be tokens, e.g. brokers from SSM.
   * @default none
   */
  readonly applicationProperties?: Record<string, Record<string, string>>;
  /** Key for the application's log group and the custom resources' functions (the environment's logs key). */
  readonly logsKey: kms.IKey;
  /** Retention of the application's and the functions' logs. */
  readonly logRetention: logs.RetentionDays;
  /** Removal policy of the application's log group. @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /** Flink log level in CloudWatch. @default 'INFO' */
  readonly logLevel?: FlinkLogLevel;
  /** Granularity of the CloudWatch metrics the service publishes. @default 'APPLICATION' */
  readonly metricsLevel?: FlinkMetricsLevel;
  /**
   * Customer-managed key for the application's durable and running state (snapshots, checkpoints,
   * RocksDB volumes). Its key policy must hold `flinkStateKeyPolicyStatements(applicationArn)`
   * (both Managed Flink service principals, bound to this application) and admit the account's
   * principals through Managed Flink; this construct does not edit key policies (the key usually
   * lives in another stack). The starter functions, which start and stop the application, get the
   * operator's permissions on it. CloudFormation's role creates and updates the application, so it
   * needs them too (the CDK bootstrap's execution role has them).
   * @default an AWS-owned key
   */
  readonly stateEncryptionKey?: kms.IKey;
  /** Let the service roll back an update that fails to start. @default true */
  readonly systemRollback?: boolean;
  /** Upper bound on starting the application (and on stopping it at delete). @default Duration.minutes(20) */
  readonly startTimeout?: Duration;
  /** How long a delete waits for a stop with snapshot before forcing the stop. @default Duration.minutes(5) */
  readonly gracefulStopTimeout?: Duration;
}

/**
 * A Managed Service for Apache Flink application (runtime FLINK-1_20, Python) that is started after
 * every deploy and stopped cleanly before deletion.
 *
 * Packaging. A Python application runs from ONE zip, and its `kinesis.analytics.flink.run.options`
 * property group names the entry script (`python`), the Python folder shipped to UDF workers
 * (`pyFiles`) and ONE jar (`jarfile`), all as paths inside that zip; the service installs nothing
 * and cannot take a jar by S3 URL. The code is a CDK asset, but the connector jars are mirrored
 * into the artifacts bucket only at deploy time, and nothing may be downloaded at synth. So a
 * packager custom resource runs first, at deploy time: it reads the asset zip and the jars, merges
 * the jars into one (service-loader files concatenated, signatures dropped), writes
 * `<codeFolder>/...` + `lib/lakestream-connectors.jar` to a key derived from its inputs and hands
 * that key to the application. A new code asset or jar version gives a new key, so CloudFormation
 * updates the application's code (the service snapshots and restarts it) and then deletes the old
 * package.
 *
 * Starting. CloudFormation never starts an application. A starter custom resource starts it after
 * creation or an update when it is not running: from its latest snapshot when it has one, else
 * fresh (a new or re-created application has no snapshots; the job then reads from the earliest
 * retained offset). It waits for RUNNING and fails the deployment with the service's error otherwise.
 * On delete it stops the application with a snapshot, forcing the stop after `gracefulStopTimeout`.
 *
 * Kafka access is not granted here: grant `role` the topic permissions with the Kafka access
 * helpers, and allow `connections` on the brokers' security group (TCP 9098).
 */
export class FlinkApplication extends Construct implements ec2.IConnectable {
  public readonly application: kda.CfnApplication;
  public readonly applicationName: string;
  public readonly applicationArn: string;
  /** The application's execution role: grant it Kafka topic access. */
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly securityGroup: ec2.ISecurityGroup;
  public readonly connections: ec2.Connections;
  /** Bucket and key of the application zip (the key is a deploy-time value). */
  public readonly codeBucket: s3.IBucket;
  public readonly codeKey: string;
  /** The starter custom resource: depend on it for "the application is running". */
  public readonly starter: CustomResource;

  /**
   * A job folder as a code asset. Interpreter caches are left out: a local test run would
   * otherwise change the asset hash and redeploy (and restart) an unchanged job.
   */
  public static codeAsset(scope: Construct, id: string, directory: string): s3assets.Asset {
    return new s3assets.Asset(scope, id, { path: directory, exclude: CODE_ASSET_EXCLUDES });
  }

  constructor(scope: Construct, id: string, props: FlinkApplicationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    validateProps(props);

    const entryPoint = props.entryPoint ?? 'main.py';
    const codeFolder = props.codeFolder ?? 'job';
    this.applicationName = props.applicationName;
    this.applicationArn = stack.formatArn({ service: 'kinesisanalytics', resource: 'application', resourceName: props.applicationName });
    const packageBucket = props.packageLocation?.bucket ?? props.connectorJars.bucket;
    const packagePrefix = props.packageLocation?.prefix ?? `flink-applications/${props.applicationName}/`;
    const jarKey = props.connectorJars.encryptionKey ?? props.connectorJars.bucket.encryptionKey;
    const packageEncryptionKey = props.packageLocation ? (props.packageLocation.encryptionKey ?? packageBucket.encryptionKey) : jarKey;

    // ---- deploy-time packaging --------------------------------------------------------------
    const packager = new LakestreamFunction(this, 'Packager', {
      handlerDir: 'flink-packager',
      description: `Builds the Managed Flink code package of ${props.applicationName} (code + merged connector jars)`,
      encryptionKey: props.logsKey,
      logRetention: props.logRetention,
      timeout: Duration.minutes(5),
      // Jars, merged jar and package are held in memory (tens of MiB); memory also buys CPU for the CRCs.
      memorySize: 1024,
    });
    packager.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadCodeAndConnectorJars',
        actions: ['s3:GetObject'],
        resources: [
          props.codeAsset.bucket.arnForObjects(props.codeAsset.s3ObjectKey),
          ...props.connectorJars.keys.map((key) => props.connectorJars.bucket.arnForObjects(key)),
        ],
      }),
    );
    packager.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteApplicationPackages',
        actions: ['s3:PutObject', 's3:DeleteObject'],
        resources: [packageBucket.arnForObjects(`${packagePrefix}*`)],
      }),
    );
    jarKey?.grant(packager.role, 'kms:Decrypt');
    packageEncryptionKey?.grant(packager.role, 'kms:GenerateDataKey');
    acknowledgeWildcardAtSynth(
      packager.role,
      packageBucket.arnForObjects(`${packagePrefix}*`),
      `The packager writes and removes only its own packages under ${packagePrefix}, named by a hash of inputs known only at deploy time.`,
    );

    const packagerProvider = new LakestreamProvider(this, 'PackagerProvider', {
      onEvent: packager,
      encryptionKey: props.logsKey,
      logRetention: props.logRetention,
    });
    const codePackage = new CustomResource(this, 'CodePackage', {
      serviceToken: packagerProvider.serviceToken,
      resourceType: 'Custom::FlinkApplicationPackage',
      properties: {
        CodeBucket: props.codeAsset.s3BucketName,
        CodeKey: props.codeAsset.s3ObjectKey,
        CodeFolder: codeFolder,
        EntryPoint: entryPoint,
        JarBucket: props.connectorJars.bucket.bucketName,
        JarKeys: props.connectorJars.keys,
        JarPath: CONNECTOR_JAR_PATH,
        TargetBucket: packageBucket.bucketName,
        TargetPrefix: packagePrefix,
      },
    });
    this.codeBucket = packageBucket;
    this.codeKey = codePackage.getAttString('Key');

    // ---- execution role ---------------------------------------------------------------------
    this.role = new iam.Role(this, 'Role', {
      description: `Execution role of the Managed Flink application ${props.applicationName}`,
      // Only this application, in this account, may use the role (confused-deputy protection).
      assumedBy: new iam.ServicePrincipal('kinesisanalytics.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': this.applicationArn },
      }),
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadApplicationCode',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [packageBucket.arnForObjects(this.codeKey)],
      }),
    );
    packageEncryptionKey?.grant(this.role, 'kms:Decrypt');

    // ---- logging ----------------------------------------------------------------------------
    const logGroupName = `/aws/kinesis-analytics/${props.applicationName}`;
    const logStreamName = 'application';
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName,
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    const logStream = new logs.LogStream(this, 'LogStream', {
      logGroup: this.logGroup,
      logStreamName,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    const logStreamArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${logGroupName}:log-stream:${logStreamName}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const logStreamsArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${logGroupName}:log-stream:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const allLogGroupsArn = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.role.addToPolicy(new iam.PolicyStatement({ sid: 'WriteApplicationLogs', actions: ['logs:PutLogEvents'], resources: [logStreamArn] }));
    this.role.addToPolicy(new iam.PolicyStatement({ sid: 'FindApplicationLogStream', actions: ['logs:DescribeLogStreams'], resources: [logStreamsArn] }));
    this.role.addToPolicy(new iam.PolicyStatement({ sid: 'FindApplicationLogGroup', actions: ['logs:DescribeLogGroups'], resources: [allLogGroupsArn] }));

    // ---- network ----------------------------------------------------------------------------
    const subnets = props.vpc.selectSubnets(props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    this.securityGroup = props.securityGroup ?? this.defaultSecurityGroup(props.vpc);
    this.connections = new ec2.Connections({ securityGroups: [this.securityGroup] });
    const ec2Arn = (resource: string, resourceName: string) => stack.formatArn({ service: 'ec2', resource, resourceName });
    const networkInterfaces = ec2Arn('network-interface', '*');
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeVpcForNetworkInterfaces',
        actions: ['ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeDhcpOptions', 'ec2:DescribeNetworkInterfaces'],
        resources: ['*'],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'CreateNetworkInterfacesInApplicationSubnets',
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          networkInterfaces,
          ...subnets.subnetIds.map((subnetId) => ec2Arn('subnet', subnetId)),
          ec2Arn('security-group', this.securityGroup.securityGroupId),
        ],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ManageNetworkInterfacesInVpc',
        actions: ['ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface'],
        resources: [networkInterfaces],
        conditions: { ArnEquals: { 'ec2:Vpc': props.vpc.vpcArn } },
      }),
    );

    // ---- application ------------------------------------------------------------------------
    const propertyGroups: kda.CfnApplication.PropertyGroupProperty[] = [
      {
        propertyGroupId: RUN_OPTIONS_GROUP,
        propertyMap: { python: `${codeFolder}/${entryPoint}`, jarfile: CONNECTOR_JAR_PATH, pyFiles: codeFolder },
      },
      ...Object.entries(props.applicationProperties ?? {}).map(([propertyGroupId, propertyMap]) => ({ propertyGroupId, propertyMap })),
    ];
    const applicationConfiguration: kda.CfnApplication.ApplicationConfigurationProperty = {
      applicationCodeConfiguration: {
        codeContentType: 'ZIPFILE',
        codeContent: { s3ContentLocation: { bucketArn: packageBucket.bucketArn, fileKey: this.codeKey } },
      },
      environmentProperties: { propertyGroups },
      flinkApplicationConfiguration: {
        checkpointConfiguration: {
          configurationType: 'CUSTOM',
          checkpointingEnabled: true,
          checkpointInterval: (props.checkpointInterval ?? Duration.minutes(1)).toMilliseconds(),
          minPauseBetweenCheckpoints: (props.minPauseBetweenCheckpoints ?? Duration.seconds(5)).toMilliseconds(),
        },
        monitoringConfiguration: {
          configurationType: 'CUSTOM',
          logLevel: props.logLevel ?? 'INFO',
          metricsLevel: props.metricsLevel ?? 'APPLICATION',
        },
        parallelismConfiguration: {
          configurationType: 'CUSTOM',
          parallelism: props.parallelism ?? 1,
          parallelismPerKpu: props.parallelismPerKpu ?? 1,
          autoScalingEnabled: props.autoScaling ?? false,
        },
      },
      applicationSnapshotConfiguration: { snapshotsEnabled: true },
      applicationSystemRollbackConfiguration: { rollbackEnabled: props.systemRollback ?? true },
      ...(props.stateEncryptionKey ? { applicationEncryptionConfiguration: { keyType: 'CUSTOMER_MANAGED_KEY', keyId: props.stateEncryptionKey.keyArn } } : {}),
      vpcConfigurations: [{ subnetIds: subnets.subnetIds, securityGroupIds: [this.securityGroup.securityGroupId] }],
    };
    this.application = new kda.CfnApplication(this, 'Application', {
      applicationName: props.applicationName,
      applicationDescription: `Lakestream Managed Flink application ${props.applicationName}`,
      runtimeEnvironment: FLINK_RUNTIME,
      applicationMode: 'STREAMING',
      serviceExecutionRole: this.role.roleArn,
      applicationConfiguration,
    });
    // The service checks the role's VPC, S3 and logs permissions when the application is created.
    this.application.node.addDependency(this.role);
    const logging = new kda.CfnApplicationCloudWatchLoggingOption(this, 'Logging', {
      applicationName: this.application.ref,
      cloudWatchLoggingOption: { logStreamArn },
    });
    logging.node.addDependency(logStream);

    // ---- starter ----------------------------------------------------------------------------
    const applicationActions = (...actions: string[]) =>
      new iam.PolicyStatement({ actions: actions.map((action) => `kinesisanalytics:${action}`), resources: [this.applicationArn] });
    const starter = new LakestreamFunction(this, 'Starter', {
      handlerDir: 'flink-starter',
      description: `Starts ${props.applicationName} after deploy and stops it before deletion`,
      encryptionKey: props.logsKey,
      logRetention: props.logRetention,
    });
    starter.role.addToPolicy(
      applicationActions(
        'DescribeApplication',
        'StartApplication',
        'StopApplication',
        'ListApplicationSnapshots',
        'ListApplicationOperations',
        'DescribeApplicationOperation',
      ),
    );
    const starterWaiter = new LakestreamFunction(this, 'StarterWaiter', {
      handlerDir: 'flink-starter',
      handlerName: 'isCompleteHandler',
      description: `Waits for ${props.applicationName} to reach RUNNING (or READY when deleting)`,
      encryptionKey: props.logsKey,
      logRetention: props.logRetention,
    });
    starterWaiter.role.addToPolicy(applicationActions('DescribeApplication', 'StopApplication', 'ListApplicationOperations', 'DescribeApplicationOperation'));
    // Starting from a snapshot and stopping with one use the state key on the caller's behalf.
    if (props.stateEncryptionKey) {
      for (const fn of [starter, starterWaiter]) grantFlinkStateKeyOperator(fn.role, props.stateEncryptionKey, this.applicationArn);
    }
    const starterProvider = new LakestreamProvider(this, 'StarterProvider', {
      onEvent: starter,
      isComplete: starterWaiter,
      totalTimeout: props.startTimeout ?? Duration.minutes(20),
      queryInterval: Duration.seconds(30),
      encryptionKey: props.logsKey,
      logRetention: props.logRetention,
    });
    this.starter = new CustomResource(this, 'Start', {
      serviceToken: starterProvider.serviceToken,
      resourceType: 'Custom::FlinkApplicationStarter',
      properties: {
        ApplicationName: this.application.ref,
        GracefulStopSeconds: String((props.gracefulStopTimeout ?? Duration.minutes(5)).toSeconds()),
        // Triggers: a new package or configuration sends an Update, which restarts a stopped application.
        CodeKey: this.codeKey,
        ConfigurationHash: Lazy.string({
          produce: () =>
            createHash('sha256')
              .update(JSON.stringify(stack.resolve(applicationConfiguration)))
              .digest('hex')
              .slice(0, 16),
        }),
      },
    });
    this.starter.node.addDependency(logging);

    this.acknowledgeRoleFindings({ networkInterfaces, logStreamsArn, allLogGroupsArn });
  }

  private defaultSecurityGroup(vpc: ec2.IVpc): ec2.SecurityGroup {
    const group = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: `Managed Flink application ${this.applicationName}: egress to MSK (IAM, TLS) only`,
      allowAllOutbound: false,
    });
    group.addEgressRule(ec2.Peer.ipv4(vpc.vpcCidrBlock), ec2.Port.tcp(MSK_IAM_PORT), 'MSK brokers, IAM auth over TLS');
    return group;
  }

  private acknowledgeRoleFindings(arns: { networkInterfaces: string; logStreamsArn: string; allLogGroupsArn: string }): void {
    acknowledgeWildcardAtSynth(
      this.role,
      '*',
      'ec2:DescribeVpcs, DescribeSubnets, DescribeSecurityGroups, DescribeDhcpOptions and DescribeNetworkInterfaces support no resource-level permissions; Managed Flink needs them to place its network interfaces.',
    );
    acknowledgeWildcardAtSynth(
      this.role,
      arns.networkInterfaces,
      'Network interface ids are chosen by Managed Flink at start; creation is bound to the application subnets and security group, permission and deletion to the application VPC (ec2:Vpc condition).',
    );
    acknowledgeWildcardAtSynth(
      this.role,
      arns.allLogGroupsArn,
      'logs:DescribeLogGroups lists log groups and cannot be scoped to one; Managed Flink calls it to validate the logging option.',
    );
    acknowledgeWildcardAtSynth(this.role, arns.logStreamsArn, "logs:DescribeLogStreams is granted on the application's own log group only.");
  }
}

/** Acknowledges cdk-nag's AwsSolutions-IAM5 finding for one wildcard resource, once references are rendered. */
function acknowledgeWildcardAtSynth(scope: Construct, resource: string, reason: string): void {
  new WildcardAcknowledgements(scope).add(resource, reason);
}

function validateProps(props: FlinkApplicationProps): void {
  if (!Token.isUnresolved(props.applicationName) && !/^[a-zA-Z0-9_.-]{1,128}$/.test(props.applicationName)) {
    throw new Error(`FlinkApplication applicationName must be 1-128 letters, digits, '_', '.' or '-', got '${props.applicationName}'`);
  }
  if (props.connectorJars.keys.length === 0) {
    throw new Error('FlinkApplication needs at least one connector jar (connectorJars.keys): a Python Kafka job needs the Kafka connector');
  }
  if (props.codeFolder !== undefined && !/^[A-Za-z0-9_.-]+$/.test(props.codeFolder)) {
    throw new Error(`FlinkApplication codeFolder must be a single folder name, got '${props.codeFolder}'`);
  }
  if (props.entryPoint !== undefined && !/^[A-Za-z0-9_./-]+\.py$/.test(props.entryPoint)) {
    throw new Error(`FlinkApplication entryPoint must be a .py file inside the code asset, got '${props.entryPoint}'`);
  }
  if (props.packageLocation?.prefix !== undefined && !/^(?:[A-Za-z0-9_.=-]+\/)*$/.test(props.packageLocation.prefix)) {
    throw new Error(`FlinkApplication packageLocation.prefix must be empty or end with '/', got '${props.packageLocation.prefix}'`);
  }
  for (const [name, value] of [
    ['parallelism', props.parallelism],
    ['parallelismPerKpu', props.parallelismPerKpu],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new Error(`FlinkApplication ${name} must be a whole number of at least 1, got ${value}`);
    }
  }
  if (props.parallelismPerKpu !== undefined && props.parallelismPerKpu > 8) {
    throw new Error(`FlinkApplication parallelismPerKpu must be at most 8, got ${props.parallelismPerKpu}`);
  }
  const checkpointMillis = props.checkpointInterval?.toMilliseconds();
  if (checkpointMillis !== undefined && checkpointMillis < 1000) {
    throw new Error(`FlinkApplication checkpointInterval must be at least 1 second, got ${checkpointMillis} ms`);
  }
  if (props.applicationProperties && RUN_OPTIONS_GROUP in props.applicationProperties) {
    throw new Error(`FlinkApplication applicationProperties must not set ${RUN_OPTIONS_GROUP}; the construct writes it from the package layout`);
  }
}
