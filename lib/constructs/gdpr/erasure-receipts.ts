import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ErasureReceiptsProps {
  /** Days each receipt stays locked; it expires the day after. */
  readonly retentionDays: number;
  /**
   * COMPLIANCE: no principal, root included, can delete or overwrite a receipt before its retention
   * ends, nor shorten it. GOVERNANCE: principals granted s3:BypassGovernanceRetention can.
   */
  readonly lockMode: 'COMPLIANCE' | 'GOVERNANCE';
  /** Bucket receiving the S3 server access logs. */
  readonly accessLogsBucket: s3.IBucket;
}

/**
 * Where erasures are proven: a dedicated bucket with S3 Object Lock (write once, read many), its own
 * customer-managed key (people who can read the lake cannot read or forge receipts unless granted),
 * and the KMS HMAC key that turns user ids into the digests a receipt carries instead of the ids.
 * Retained when the stack is deleted: a proof of erasure must outlive the platform that erased.
 */
export class ErasureReceipts extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly encryptionKey: kms.Key;
  /** HMAC_256 key for the receipt's subject digests (kms:GenerateMac, kms:VerifyMac). */
  public readonly digestKey: kms.Key;

  constructor(scope: Construct, id: string, props: ErasureReceiptsProps) {
    super(scope, id);
    this.encryptionKey = new kms.Key(this, 'Key', {
      description: 'Erasure receipts bucket',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.digestKey = new kms.Key(this, 'DigestKey', {
      description: 'HMAC key of the subject digests in erasure receipts',
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.digestKey).acknowledge({
      id: 'AwsSolutions-KMS5',
      reason:
        'KMS does not rotate HMAC keys (automatic rotation is for symmetric encryption keys only); the digests in locked receipts must stay verifiable with this key.',
    });
    const retention = Duration.days(props.retentionDays);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      objectLockEnabled: true,
      objectLockDefaultRetention: props.lockMode === 'COMPLIANCE' ? s3.ObjectLockRetention.compliance(retention) : s3.ObjectLockRetention.governance(retention),
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'erasure-receipts/',
      // Receipts hold digests, not ids, but are still bounded: they go once their lock ends.
      lifecycleRules: [{ id: 'receipt-retention', enabled: true, expiration: retention.plus(Duration.days(1)), noncurrentVersionExpiration: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
      reason:
        'Receipts are small audit records protected by Object Lock in this region; cross-region replication is a per-organisation DR decision left to the operator.',
    });
  }
}
