import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { WildcardAcknowledgements } from '../../compliance/wildcard-acknowledgements';

/** Where the application's job runs write their logs: every job role may write there. */
export interface SparkJobLogging {
  /** Bucket of the Spark event and container logs. */
  readonly bucket: s3.IBucket;
  /** Key prefix of those logs in `bucket`, with its trailing slash. */
  readonly prefix: string;
  /** The application's CloudWatch log group. */
  readonly logGroup: logs.ILogGroup;
  /** Key EMR encrypts the logs with, calling KMS as the job role. @default none: the bucket's and log group's own encryption */
  readonly encryptionKey?: kms.IKey;
  /** Key of the logs in EMR Serverless managed storage, named by every job run: the job role writes with it. @default none */
  readonly managedLogsKey?: kms.IKey;
}

export interface SparkJobRoleProps {
  /** `arn:...:/applications/<id>` of the application whose runs assume the role. */
  readonly applicationArn: string;
  /** `<applicationArn>/jobruns/*`. */
  readonly jobRunsArn: string;
  /** Name of the job (or jobs) that runs as this role, e.g. `daily-report`: shown in the role's description. */
  readonly jobName: string;
  /** The application's log locations. */
  readonly logging: SparkJobLogging;
}

/**
 * The role one Spark job's runs assume. Each job gets its own, so a job reaches only the prefixes,
 * tables, keys and code objects granted for it: the daily report cannot delete in bronze, the
 * landing job cannot read Kafka. The role starts with only what logging needs; the grant helpers
 * scope every statement to named ARNs, and every prefix grant ends in `/` (`landing/*`, never
 * `landing*`, which would also match `landing-x/`).
 *
 * Only this account's EMR Serverless, acting for the one application (and its job runs), may
 * assume it.
 */
export class SparkJobRole extends Construct {
  /** The IAM role; pass its ARN as a job run's `executionRoleArn`. */
  public readonly role: iam.Role;
  /** Name of the job this role runs. */
  public readonly jobName: string;
  private readonly wildcardAcknowledgements: WildcardAcknowledgements;
  private readonly keysUsed = new Map<string, 'decrypt' | 'usage'>();

  constructor(scope: Construct, id: string, props: SparkJobRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.jobName = props.jobName;
    this.role = new iam.Role(this, 'Role', {
      description: `Runs of the ${props.jobName} Spark job on EMR Serverless application ${scope.node.path}`,
      assumedBy: new iam.ServicePrincipal('emr-serverless.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': [props.applicationArn, props.jobRunsArn] },
      }),
    });
    this.wildcardAcknowledgements = new WildcardAcknowledgements(this.role);

    // Spark writes its own logs with the job's role.
    const { logging } = props;
    this.grantPrefixActions(logging.bucket, normalizePrefix(logging.prefix), ['s3:PutObject'], 'writes the Spark event and container logs');
    if (logging.encryptionKey) this.grantKeyUsage(logging.encryptionKey);
    if (logging.managedLogsKey) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'WriteManagedLogs', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [logging.managedLogsKey.keyArn] }),
      );
    }
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteCloudWatchLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [logging.logGroup.logGroupArn],
      }),
    );
    const logGroupsArn = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'FindLogGroup', actions: ['logs:DescribeLogGroups'], resources: [logGroupsArn] }));
    this.wildcardAcknowledgements.add(
      logGroupsArn,
      'logs:DescribeLogGroups has no resource-level scoping below the account; EMR calls it to find the job log group.',
    );
  }

  /** `arn:aws:iam::<account>:role/<name>`. */
  public get roleArn(): string {
    return this.role.roleArn;
  }

  /** Read access (list, get) to the objects under `prefix` of `bucket`, and decrypt with its key. */
  public grantRead(bucket: s3.IBucket, prefix: string): void {
    this.grantPrefixActions(bucket, normalizePrefix(prefix), ['s3:GetObject'], 'reads this dataset prefix');
    if (bucket.encryptionKey) this.grantKeyDecrypt(bucket.encryptionKey);
  }

  /** Read, write and delete (Spark replaces partitions and cleans temporary files) under `prefix` of `bucket`. */
  public grantReadWrite(bucket: s3.IBucket, prefix: string): void {
    this.grantPrefixActions(
      bucket,
      normalizePrefix(prefix),
      ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      'reads and writes this dataset prefix',
    );
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucketMultipartUploads'], resources: [bucket.bucketArn] }));
    if (bucket.encryptionKey) this.grantKeyUsage(bucket.encryptionKey);
  }

  /** s3:GetObject on exactly these object ARNs (job code, connector jars): nothing else in their bucket. */
  public grantReadObjects(sid: string | undefined, objectArns: string[]): void {
    if (objectArns.length === 0) throw new Error(`SparkJobRole ${this.node.path}: grantReadObjects needs at least one object ARN`);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: ['s3:GetObject'], resources: objectArns }));
  }

  /**
   * Glue Data Catalog access for named tables: read their metadata and partitions and, unless
   * `readOnly`, register new partitions. Scoped to the catalog, the database and each table ARN.
   */
  public grantGlueTables(databaseName: string, tableNames: string[], options: { readonly readOnly?: boolean } = {}): void {
    if (tableNames.length === 0) throw new Error('grantGlueTables: tableNames must name at least one table');
    const stack = Stack.of(this);
    const glueArn = (resource: string, resourceName?: string) => stack.formatArn({ service: 'glue', resource, resourceName });
    const read = ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'];
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: options.readOnly ? read : [...read, 'glue:BatchCreatePartition', 'glue:CreatePartition', 'glue:UpdateTable'],
        resources: [glueArn('catalog'), glueArn('database', databaseName), ...tableNames.map((table) => glueArn('table', `${databaseName}/${table}`))],
      }),
    );
  }

  /** Encrypt and decrypt with `key` (data keys included), without key administration. */
  public grantKeyUsage(key: kms.IKey): void {
    if (this.keysUsed.get(key.keyArn) === 'usage') return;
    this.keysUsed.set(key.keyArn, 'usage');
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], resources: [key.keyArn] }),
    );
  }

  private grantKeyDecrypt(key: kms.IKey): void {
    if (this.keysUsed.has(key.keyArn)) return;
    this.keysUsed.set(key.keyArn, 'decrypt');
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:DescribeKey'], resources: [key.keyArn] }));
  }

  /**
   * `objectActions` on the keys under `prefix` (`a/b/*`, with the trailing slash, so that `a/b` never
   * matches `a/b-x/`), and listing of that prefix. Hadoop's S3 clients also HEAD the folder key itself
   * (`a/b` for `s3://bucket/a/b/`), which must answer 404 rather than 403: that one exact key gets
   * s3:GetObject (which authorizes HEAD) and may be listed.
   */
  private grantPrefixActions(bucket: s3.IBucket, prefix: string, objectActions: string[], purpose: string): void {
    const keyPattern = `${prefix}*`;
    const objectsArn = bucket.arnForObjects(keyPattern);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: objectActions, resources: [objectsArn] }));
    const folderKey = prefix.replace(/\/$/, '');
    if (folderKey !== '') {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(folderKey)] }));
    }
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: prefix === '' ? undefined : { StringLike: { 's3:prefix': [keyPattern, folderKey] } },
      }),
    );
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [bucket.bucketArn] }));
    this.wildcardAcknowledgements.add(objectsArn, `The ${this.jobName} job ${purpose} (${keyPattern}); object keys below it are data files named by Spark.`);
  }
}

/** `a/b` → `a/b/`; `/a/` → `a/`; `` stays `` (the whole bucket). */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}
