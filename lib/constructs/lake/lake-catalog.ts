import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LAKE_TIERS, type LakeTier } from './lake-storage';

export interface LakeCatalogProps {
  /** Prefix of database and workgroup names; dashes become underscores for Glue. */
  readonly qualifier: string;
  /** Bucket per tier: each database's location. */
  readonly tierBuckets: Record<LakeTier, s3.IBucket>;
  /** Where Athena writes results (own prefix, encrypted, enforced). */
  readonly queryResultsBucket: s3.IBucket;
  /** Key encrypting query results. */
  readonly encryptionKey: kms.IKey;
  /** RETAIN in prod. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Upper bound on bytes one query may scan. @default 100 GiB */
  readonly bytesScannedCutoffPerQuery?: number;
  /**
   * Encrypt the account's Glue Data Catalog metadata and connection passwords with `encryptionKey`
   * (AWS::Glue::DataCatalogEncryptionSettings, one per account and region). Every principal that
   * reads or writes the catalog then needs that key through Glue: Athena users, Grafana, the Spark
   * job roles and CloudFormation's role. Only for a stack whose key is retained.
   * @default false
   */
  readonly encryptCatalog?: boolean;
}

/**
 * One Glue database per lake tier and an Athena workgroup whose settings clients cannot override:
 * results go encrypted with the lake key to the workgroup's own prefix.
 */
export class LakeCatalog extends Construct {
  public readonly databases: Record<LakeTier, glue.CfnDatabase>;
  public readonly databaseNames: Record<LakeTier, string>;
  public readonly workgroup: athena.CfnWorkGroup;
  public readonly workgroupName: string;
  /** S3 prefix (no scheme) where this workgroup's results land. */
  public readonly resultsPrefix = 'athena/';
  /** The account's catalog encryption setting, when `encryptCatalog` is on. */
  public readonly catalogEncryption?: glue.CfnDataCatalogEncryptionSettings;

  constructor(scope: Construct, id: string, props: LakeCatalogProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const base = props.qualifier.replace(/-/g, '_');
    const databases = {} as Record<LakeTier, glue.CfnDatabase>;
    const names = {} as Record<LakeTier, string>;
    for (const tier of LAKE_TIERS) {
      const name = `${base}_${tier}`;
      const db = new glue.CfnDatabase(this, `${tier[0].toUpperCase()}${tier.slice(1)}Database`, {
        catalogId: Aws.ACCOUNT_ID,
        databaseInput: {
          name,
          description: `Lakestream ${props.qualifier} ${tier} tier`,
          locationUri: props.tierBuckets[tier].s3UrlForObject(),
        },
      });
      db.applyRemovalPolicy(removalPolicy);
      databases[tier] = db;
      names[tier] = name;
    }
    this.databases = databases;
    this.databaseNames = names;

    this.workgroupName = `${props.qualifier}-analytics`;
    this.workgroup = new athena.CfnWorkGroup(this, 'Workgroup', {
      name: this.workgroupName,
      description: `Lakestream ${props.qualifier}: queries over the lake tiers`,
      state: 'ENABLED',
      recursiveDeleteOption: removalPolicy !== RemovalPolicy.RETAIN,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 100 * 1024 ** 3,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: props.queryResultsBucket.s3UrlForObject(this.resultsPrefix),
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.encryptionKey.keyArn },
          expectedBucketOwner: Aws.ACCOUNT_ID,
        },
      },
    });
    this.workgroup.applyRemovalPolicy(removalPolicy);

    if (props.encryptCatalog) {
      if (removalPolicy !== RemovalPolicy.RETAIN) {
        throw new Error(
          `LakeCatalog ${this.node.path}: encryptCatalog needs removalPolicy RETAIN: the setting is account-wide and a deleted key makes every table in the account unreadable`,
        );
      }
      this.catalogEncryption = new glue.CfnDataCatalogEncryptionSettings(this, 'CatalogEncryption', {
        catalogId: Aws.ACCOUNT_ID,
        dataCatalogEncryptionSettings: {
          encryptionAtRest: { catalogEncryptionMode: 'SSE-KMS', sseAwsKmsKeyId: props.encryptionKey.keyArn },
          connectionPasswordEncryption: { returnConnectionPasswordEncrypted: true, kmsKeyId: props.encryptionKey.keyArn },
        },
      });
      // Databases and tables are written after the setting, so they are encrypted from the start.
      for (const db of Object.values(databases)) db.node.addDependency(this.catalogEncryption);
    }
  }
}
