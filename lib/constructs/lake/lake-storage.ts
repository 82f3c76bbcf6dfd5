import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** The lake's tiers, in the order data flows through them. */
export const LAKE_TIERS = ['landing', 'bronze', 'silver', 'gold'] as const;
export type LakeTier = (typeof LAKE_TIERS)[number];

/** Bronze prefix of the erasure workflow's requests, staging files and Spark reports (not a table). */
export const ERASURE_WORK_PREFIX = '_erasure/';

/** Lifecycle of one bucket. */
export interface BucketLifecycle {
  /** Days until current objects move to Intelligent-Tiering. @default never */
  readonly transitionToIntelligentTieringDays?: number;
  /** Days until current objects move to Glacier Instant Retrieval. @default never */
  readonly transitionToGlacierDays?: number;
  /** Days until current objects expire. @default never */
  readonly expirationDays?: number;
}

export interface LakeStorageProps {
  /** Key encrypting every data bucket (SSE-KMS with S3 Bucket Keys). */
  readonly encryptionKey: kms.IKey;
  /** Lifecycle per tier, plus `artifacts`, `queryResults` and `accessLogs`. */
  readonly lifecycle: Record<LakeTier, BucketLifecycle> & { readonly logs: BucketLifecycle };
  /** Days to keep noncurrent versions. */
  readonly noncurrentVersionExpirationDays: number;
  /**
   * Days to keep Athena query results (they can hold any row a query returned).
   * @default `lifecycle.logs.expirationDays`
   */
  readonly queryResultsExpirationDays?: number;
  /**
   * Days after which objects under `ERASURE_WORK_PREFIX` in bronze expire: the erasure workflow's
   * requests (which name the people to erase) and staging files, deleted by the workflow itself
   * when it ends; this is the backstop for a workflow that never ended.
   * @default no extra rule
   */
  readonly erasureWorkExpirationDays?: number;
  /** Days before incomplete multipart uploads are aborted. */
  readonly abortIncompleteMultipartUploadDays: number;
  /** RETAIN in prod. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Empty buckets when the stack is deleted (only with DESTROY). @default false */
  readonly autoDeleteObjects?: boolean;
}

/**
 * The lake's buckets: landing, bronze, silver, gold, artifacts (code and pinned third-party jars),
 * query results (Athena), and the server-access-log bucket they all log to. Every data bucket is
 * SSE-KMS with bucket keys, versioned, private, TLS 1.2+ only, owner-enforced, with lifecycle rules.
 */
export class LakeStorage extends Construct {
  public readonly accessLogs: s3.Bucket;
  public readonly landing: s3.Bucket;
  public readonly bronze: s3.Bucket;
  public readonly silver: s3.Bucket;
  public readonly gold: s3.Bucket;
  public readonly artifacts: s3.Bucket;
  public readonly queryResults: s3.Bucket;
  public readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: LakeStorageProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const autoDeleteObjects = removalPolicy === RemovalPolicy.DESTROY && (props.autoDeleteObjects ?? false);

    // S3 server access logging can deliver only to SSE-S3 buckets, so this one bucket cannot use KMS.
    this.accessLogs = new s3.Bucket(this, 'AccessLogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: this.lifecycleRules(props.lifecycle.logs, props),
      removalPolicy,
      autoDeleteObjects,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'NIST.800.53.R5-S3DefaultEncryptionKMS',
      reason: 'S3 server access logs can only be delivered to SSE-S3 encrypted buckets.',
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server-access-log destination; logging it into itself would loop.',
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'NIST.800.53.R5-S3BucketLoggingEnabled',
      reason: 'This is the server-access-log destination; logging it into itself would loop.',
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
      reason: 'Access logs are operational records kept for their lifecycle period; cross-region replication is not required for them.',
    });

    const dataBucket = (bucketId: string, lifecycle: BucketLifecycle, logPrefix: string): s3.Bucket => {
      const bucket = new s3.Bucket(this, bucketId, {
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: props.encryptionKey,
        bucketKeyEnabled: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        versioned: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        serverAccessLogsBucket: this.accessLogs,
        serverAccessLogsPrefix: `${logPrefix}/`,
        lifecycleRules: this.lifecycleRules(lifecycle, props),
        removalPolicy,
        autoDeleteObjects,
      });
      Validations.of(bucket).acknowledge({
        id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
        reason: 'Durability comes from S3 (11 nines) plus versioning; cross-region replication is a per-organisation DR decision left to the operator.',
      });
      return bucket;
    };

    this.landing = dataBucket('LandingBucket', props.lifecycle.landing, 'landing');
    // File replay is triggered by "Object Created" events on EventBridge; enabled here, where the bucket lives.
    this.landing.enableEventBridgeNotification();
    this.bronze = dataBucket('BronzeBucket', props.lifecycle.bronze, 'bronze');
    this.silver = dataBucket('SilverBucket', props.lifecycle.silver, 'silver');
    this.gold = dataBucket('GoldBucket', props.lifecycle.gold, 'gold');
    // Artifacts are code and pinned jars: kept until replaced, old versions expire with the lake's rule.
    this.artifacts = dataBucket('ArtifactsBucket', {}, 'artifacts');
    this.queryResults = dataBucket(
      'QueryResultsBucket',
      props.queryResultsExpirationDays === undefined ? props.lifecycle.logs : { expirationDays: props.queryResultsExpirationDays },
      'query-results',
    );
    if (props.erasureWorkExpirationDays !== undefined) {
      // Overlapping expiration rules: S3 applies the shorter one, so this bounds the prefix below bronze's own rule.
      this.bronze.addLifecycleRule({
        id: 'erasure-work',
        enabled: true,
        prefix: ERASURE_WORK_PREFIX,
        expiration: Duration.days(props.erasureWorkExpirationDays),
        noncurrentVersionExpiration: Duration.days(1),
      });
    }
  }

  /** The bucket of a lake tier. */
  public tier(tier: LakeTier): s3.Bucket {
    return { landing: this.landing, bronze: this.bronze, silver: this.silver, gold: this.gold }[tier];
  }

  private lifecycleRules(lifecycle: BucketLifecycle, props: LakeStorageProps): s3.LifecycleRule[] {
    const transitions: s3.Transition[] = [];
    if (lifecycle.transitionToIntelligentTieringDays !== undefined) {
      transitions.push({ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(lifecycle.transitionToIntelligentTieringDays) });
    }
    if (lifecycle.transitionToGlacierDays !== undefined) {
      transitions.push({ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(lifecycle.transitionToGlacierDays) });
    }
    return [
      {
        id: 'tier-retention',
        enabled: true,
        transitions: transitions.length > 0 ? transitions : undefined,
        expiration: lifecycle.expirationDays !== undefined ? Duration.days(lifecycle.expirationDays) : undefined,
        noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpirationDays),
        abortIncompleteMultipartUploadAfter: Duration.days(props.abortIncompleteMultipartUploadDays),
        expiredObjectDeleteMarker: lifecycle.expirationDays === undefined ? true : undefined,
      },
    ];
  }
}
