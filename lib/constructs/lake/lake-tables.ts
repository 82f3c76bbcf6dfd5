import { Aws } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** A Glue column: name and Hive type as Athena reads it from the Parquet files the Spark jobs write. */
export interface LakeColumn {
  readonly name: string;
  readonly type: string;
  readonly comment?: string;
}

/** How Athena derives one partition column's values without a crawler. */
export type PartitionProjection =
  /** A day, `yyyy-MM-dd`, from `range` (Athena date range syntax, e.g. `NOW-30DAYS,NOW+1DAYS`). */
  | { readonly kind: 'date'; readonly range: string }
  /** A zero-padded hour, `00` to `23`. */
  | { readonly kind: 'hour' };

export interface LakePartitionKey extends LakeColumn {
  readonly projection: PartitionProjection;
}

/** One Parquet dataset the jobs write, as a table definition. */
export interface LakeTableSpec {
  /** Glue table name. */
  readonly name: string;
  readonly description: string;
  /** Key prefix of the dataset in its bucket, ending with '/'. */
  readonly prefix: string;
  readonly columns: LakeColumn[];
  /** Hive-style partition folders (`key=value/`), outermost first. */
  readonly partitionKeys: LakePartitionKey[];
}

export interface LakeTablesProps {
  /** Bronze bucket (kafka/, landing/ and quarantine/ datasets). */
  readonly bronzeBucket: s3.IBucket;
  /** Silver bucket (kafka/ datasets of aggregates: the streamed login counts). */
  readonly silverBucket: s3.IBucket;
  /** Gold bucket (reports/). */
  readonly goldBucket: s3.IBucket;
  /** Glue database of the bronze tier (must exist; the data stack owns it). */
  readonly bronzeDatabaseName: string;
  /** Glue database of the silver tier (must exist; the data stack owns it). */
  readonly silverDatabaseName: string;
  /** Glue database of the gold tier. */
  readonly goldDatabaseName: string;
  /**
   * Oldest day the bronze date partitions project, in Athena's range syntax. Bounding it by the
   * tier's retention keeps unfiltered queries from listing folders that cannot exist.
   * @default 'NOW-3YEARS'
   */
  readonly bronzeRangeStart?: string;
  /** Oldest day the silver date partitions project. @default 'NOW-3YEARS' */
  readonly silverRangeStart?: string;
  /** Oldest day the gold `report_date` partitions project. @default 'NOW-3YEARS' */
  readonly goldRangeStart?: string;
}

/** Columns of a Kafka topic's bronze dataset (lakestream_spark.kafka_source: KAFKA_METADATA_COLUMNS + finishing_columns). */
const KAFKA_RECORD_COLUMNS: LakeColumn[] = [
  { name: 'topic', type: 'string' },
  { name: 'kafka_partition', type: 'int' },
  { name: 'kafka_offset', type: 'bigint' },
  { name: 'kafka_timestamp', type: 'timestamp' },
  { name: 'key', type: 'string' },
  { name: 'value', type: 'string', comment: 'the record value as received (JSON)' },
];
const INGESTED_AT: LakeColumn = { name: 'ingested_at', type: 'timestamp', comment: 'when Spark wrote the row' };
/** Keyed pseudonym of user_id (lakestream_spark.user_ref): what pseudonymous dashboards show. */
const USER_REF: LakeColumn = { name: 'user_ref', type: 'string', comment: 'HMAC-SHA256 of user_id under the Spark-only key, 32 hex characters' };

/** The reports of jobs/spark/sql, by name (lakestream_spark.report_sql.REPORTS); report_date is the partition. */
export const GOLD_REPORT_COLUMNS: Record<string, LakeColumn[]> = {
  logins_per_user_per_day: [
    { name: 'user_id', type: 'string' },
    { name: 'logins', type: 'bigint' },
    { name: 'sources', type: 'bigint' },
    { name: 'first_login_at', type: 'timestamp' },
    { name: 'last_login_at', type: 'timestamp' },
    USER_REF,
  ],
  daily_active_users: [
    { name: 'active_users', type: 'bigint' },
    { name: 'logins', type: 'bigint' },
    { name: 'logins_per_active_user', type: 'double' },
  ],
  top_users: [
    { name: 'login_rank', type: 'int' },
    { name: 'user_id', type: 'string' },
    { name: 'logins', type: 'bigint' },
    { name: 'last_login_at', type: 'timestamp' },
    USER_REF,
  ],
  login_trends: [
    { name: 'logins', type: 'bigint' },
    { name: 'active_users', type: 'bigint' },
    { name: 'logins_moving_avg', type: 'double' },
    { name: 'previous_logins_moving_avg', type: 'double' },
    { name: 'days_with_logins', type: 'bigint' },
  ],
};

const dayKey = (rangeStart: string, name: string, comment: string): LakePartitionKey => ({
  name,
  type: 'string',
  comment,
  projection: { kind: 'date', range: `${rangeStart},NOW+1DAYS` },
});
const HOUR_KEY: LakePartitionKey = { name: 'hr', type: 'string', comment: 'UTC hour of event_time, 00-23', projection: { kind: 'hour' } };

/** The bronze datasets jobs/spark writes (lakestream_spark.layout), with their partitions: raw events, landed and rejected rows. */
export function bronzeTableSpecs(rangeStart: string): LakeTableSpec[] {
  const day = (name: string, comment: string) => dayKey(rangeStart, name, comment);
  const dt = day('dt', 'UTC day of event_time, yyyy-MM-dd');
  const hr = HOUR_KEY;
  const landedOn = day('landed_on', 'UTC day the landing files were last modified, yyyy-MM-dd');
  return [
    {
      name: 'kafka_logins_raw',
      description: 'Raw login events streamed from Kafka topic logins.raw; is_valid marks rows that satisfy the login contract',
      prefix: 'kafka/logins_raw/',
      columns: [
        ...KAFKA_RECORD_COLUMNS,
        { name: 'event_id', type: 'string' },
        { name: 'user_id', type: 'string' },
        { name: 'source', type: 'string' },
        { name: 'schema_version', type: 'int' },
        { name: 'event_time', type: 'timestamp', comment: 'event time of a valid record, else the Kafka timestamp' },
        INGESTED_AT,
        { name: 'is_valid', type: 'boolean' },
        { name: 'reject_code', type: 'string', comment: 'why the record failed the login contract; NULL when valid' },
        { name: 'reject_detail', type: 'string' },
      ],
      partitionKeys: [dt, hr],
    },
    {
      name: 'landing_logins',
      description: 'Valid login events loaded from landing files by the landing-to-bronze job, de-duplicated by event_id',
      prefix: 'landing/logins/',
      columns: [
        { name: 'event_id', type: 'string' },
        { name: 'user_id', type: 'string' },
        { name: 'event_time', type: 'timestamp' },
        { name: 'source', type: 'string' },
        { name: 'schema_version', type: 'int' },
        { name: 'source_file', type: 'string' },
        INGESTED_AT,
      ],
      partitionKeys: [landedOn, dt, hr],
    },
    {
      name: 'quarantine_landing_logins',
      description: 'Landing rows rejected by the login contract, with the reason and the raw record',
      prefix: 'quarantine/landing/logins/',
      columns: [
        { name: 'reject_code', type: 'string' },
        { name: 'reject_detail', type: 'string' },
        { name: 'raw_record', type: 'string', comment: 'the record as it arrived, JSON' },
        { name: 'source_file', type: 'string' },
        INGESTED_AT,
      ],
      partitionKeys: [landedOn],
    },
  ];
}

/**
 * The silver datasets: aggregates, not raw events. The streaming job lands the Flink counts topic
 * here (lakestream_spark.layout) so that dashboards read silver and gold only, never bronze.
 */
export function silverTableSpecs(rangeStart: string): LakeTableSpec[] {
  return [
    {
      name: 'kafka_logins_counts',
      description: 'Per-user running and windowed login counts from Flink, streamed from Kafka topic logins.counts (value is the JSON event)',
      prefix: 'kafka/logins_counts/',
      columns: [...KAFKA_RECORD_COLUMNS, { name: 'event_time', type: 'timestamp', comment: 'the Kafka timestamp' }, INGESTED_AT, USER_REF],
      partitionKeys: [dayKey(rangeStart, 'dt', 'UTC day of event_time, yyyy-MM-dd'), HOUR_KEY],
    },
  ];
}

/** The gold reports of the daily-report job: `reports/<report>/report_date=yyyy-MM-dd/`. */
export function goldTableSpecs(rangeStart: string): LakeTableSpec[] {
  return Object.entries(GOLD_REPORT_COLUMNS).map(([report, columns]) => ({
    name: report,
    description: `Daily report ${report} (jobs/spark/sql/${report}.sql), one partition per report_date`,
    prefix: `reports/${report}/`,
    columns,
    partitionKeys: [{ name: 'report_date', type: 'string', comment: 'reported UTC day, yyyy-MM-dd', projection: { kind: 'date', range: `${rangeStart},NOW` } }],
  }));
}

/**
 * Glue Data Catalog tables over the Parquet datasets of the Spark jobs: the bronze datasets
 * (streamed raw logins, landed files, quarantine), the silver aggregates (streamed login counts)
 * and the gold daily reports.
 *
 * Every table uses Athena partition projection (`projection.enabled` and one `projection.<key>.*`
 * set per partition key, with `storage.location.template` spelling out the Hive-style folders), so
 * Athena computes partitions from the query's filters: no Glue crawler, no `MSCK REPAIR TABLE`, no
 * partition registration by the jobs, and a new hour is queryable the moment its files land.
 * Partition values are strings (`dt = '2025-01-31'`, `hr = '07'`), exactly as the jobs write them.
 * Filter on the partition columns: unfiltered queries project every day of the range.
 * The streamed datasets hold one `batch_id=<n>/` folder per Spark micro-batch below `hr=`; Athena reads
 * every file under a partition's location, and a re-run micro-batch replaces its own folder, so a
 * failed batch leaves no duplicate rows (jobs/spark/streaming_bronze.py).
 *
 * Tables are schema derived from code and are recreated freely; the databases they live in (and
 * the data) belong to the data stack.
 */
export class LakeTables extends Construct {
  public readonly bronzeTables: Record<string, glue.CfnTable>;
  public readonly silverTables: Record<string, glue.CfnTable>;
  public readonly goldTables: Record<string, glue.CfnTable>;
  public readonly bronzeDatabaseName: string;
  public readonly silverDatabaseName: string;
  public readonly goldDatabaseName: string;

  constructor(scope: Construct, id: string, props: LakeTablesProps) {
    super(scope, id);
    this.bronzeDatabaseName = props.bronzeDatabaseName;
    this.silverDatabaseName = props.silverDatabaseName;
    this.goldDatabaseName = props.goldDatabaseName;
    this.bronzeTables = this.createTables('Bronze', props.bronzeDatabaseName, props.bronzeBucket, bronzeTableSpecs(props.bronzeRangeStart ?? 'NOW-3YEARS'));
    this.silverTables = this.createTables('Silver', props.silverDatabaseName, props.silverBucket, silverTableSpecs(props.silverRangeStart ?? 'NOW-3YEARS'));
    this.goldTables = this.createTables('Gold', props.goldDatabaseName, props.goldBucket, goldTableSpecs(props.goldRangeStart ?? 'NOW-3YEARS'));
  }

  /** Names of the bronze tables, for grants. */
  public get bronzeTableNames(): string[] {
    return Object.keys(this.bronzeTables);
  }

  /** Names of the silver tables, for grants. */
  public get silverTableNames(): string[] {
    return Object.keys(this.silverTables);
  }

  /** Names of the gold tables, for grants. */
  public get goldTableNames(): string[] {
    return Object.keys(this.goldTables);
  }

  private createTables(idPrefix: string, databaseName: string, bucket: s3.IBucket, specs: LakeTableSpec[]): Record<string, glue.CfnTable> {
    const tables: Record<string, glue.CfnTable> = {};
    for (const spec of specs) {
      tables[spec.name] = new glue.CfnTable(this, `${idPrefix}${pascal(spec.name)}`, {
        catalogId: Aws.ACCOUNT_ID,
        databaseName,
        tableInput: tableInput(spec, bucket.s3UrlForObject(spec.prefix)),
      });
    }
    return tables;
  }
}

function tableInput(spec: LakeTableSpec, location: string): glue.CfnTable.TableInputProperty {
  const template = `${location.replace(/\/?$/, '/')}${spec.partitionKeys.map((key) => `${key.name}=\${${key.name}}`).join('/')}/`;
  return {
    name: spec.name,
    description: spec.description,
    tableType: 'EXTERNAL_TABLE',
    parameters: {
      classification: 'parquet',
      EXTERNAL: 'TRUE',
      'parquet.compression': 'SNAPPY',
      ...projectionParameters(spec.partitionKeys),
      'storage.location.template': template,
    },
    partitionKeys: spec.partitionKeys.map(({ name, type, comment }) => ({ name, type, comment })),
    storageDescriptor: {
      location,
      columns: spec.columns.map(({ name, type, comment }) => ({ name, type, comment })),
      inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe', parameters: { 'serialization.format': '1' } },
    },
  };
}

/** Athena partition projection parameters for the keys (https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html). */
export function projectionParameters(keys: LakePartitionKey[]): Record<string, string> {
  const parameters: Record<string, string> = { 'projection.enabled': 'true' };
  for (const key of keys) {
    const p = `projection.${key.name}`;
    if (key.projection.kind === 'date') {
      Object.assign(parameters, {
        [`${p}.type`]: 'date',
        [`${p}.format`]: 'yyyy-MM-dd',
        [`${p}.range`]: key.projection.range,
        [`${p}.interval`]: '1',
        [`${p}.interval.unit`]: 'DAYS',
      });
    } else {
      Object.assign(parameters, { [`${p}.type`]: 'integer', [`${p}.range`]: '0,23', [`${p}.digits`]: '2' });
    }
  }
  return parameters;
}

function pascal(name: string): string {
  return name
    .split(/[_-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
