import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { removalPolicyOf } from '../config/cdk-values';
import type { ResolvedEnvironment } from '../config/load-config';
import { LakeCatalog } from '../constructs/lake/lake-catalog';
import { LakeStorage } from '../constructs/lake/lake-storage';
import type { PlatformKeys } from '../constructs/security/platform-keys';
import type { PlatformNetwork } from '../constructs/network/platform-network';

export interface DataStackProps extends StackProps {
  readonly config: ResolvedEnvironment;
  readonly keys: PlatformKeys;
  readonly network: PlatformNetwork;
}

/**
 * Stateful data: lake buckets, Glue databases, the Athena workgroup (and, with the Kafka backbone,
 * the MSK cluster). Termination protection and RETAIN in prod; construct ids here are part of the
 * logical ids of stateful resources, so renaming one replaces data: don't.
 */
export class DataStack extends Stack {
  public readonly lake: LakeStorage;
  public readonly catalog: LakeCatalog;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = removalPolicyOf(config);
    this.lake = new LakeStorage(this, 'Lake', {
      encryptionKey: props.keys.lake,
      lifecycle: config.lake,
      noncurrentVersionExpirationDays: config.lake.noncurrentVersionExpirationDays,
      abortIncompleteMultipartUploadDays: config.lake.abortIncompleteMultipartUploadDays,
      removalPolicy,
      autoDeleteObjects: config.autoDeleteObjects,
    });
    this.catalog = new LakeCatalog(this, 'Catalog', {
      qualifier: config.qualifier,
      tierBuckets: { landing: this.lake.landing, bronze: this.lake.bronze, silver: this.lake.silver, gold: this.lake.gold },
      queryResultsBucket: this.lake.queryResults,
      encryptionKey: props.keys.lake,
      removalPolicy,
    });
  }
}
