import * as fs from 'node:fs';
import * as path from 'node:path';
import { Aws, Token } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';
import type { LakeColumn } from './lake-tables';

/** jobs/serving: the SQL of the serving views and their semantics (README.md). */
export const SERVING_SQL_DIR = path.join(__dirname, '..', '..', '..', 'jobs', 'serving');

/** Athena's data catalog name for the Glue Data Catalog of the account. */
export const ATHENA_CATALOG = 'awsdatacatalog';

/**
 * The current UTC date in Athena. Athena's session zone is UTC, but the explicit zone keeps the day
 * boundary right whatever the session says.
 */
export const ATHENA_TODAY = "CAST(current_timestamp AT TIME ZONE 'UTC' AS date)";

/** A view column: Hive type for the Glue table, Presto type for the view definition Athena checks. */
export interface ViewColumn extends LakeColumn {
  readonly prestoType: string;
}

/** One serving view: its Glue name, SQL file and columns, in the order the SQL selects them. */
export interface ServingViewSpec {
  readonly name: string;
  readonly description: string;
  readonly sqlFile: string;
  readonly columns: ViewColumn[];
  /** Other serving views the SQL reads (created first). */
  readonly dependsOn: string[];
}

const column = (name: string, hive: 'string' | 'bigint' | 'timestamp', comment: string): ViewColumn => ({
  name,
  type: hive,
  prestoType: hive === 'string' ? 'varchar' : hive,
  comment,
});
const LOGIN_DATE = column('login_date', 'string', 'UTC day of the logins, yyyy-MM-dd');
const USER_ID = column('user_id', 'string', 'the login contract user_id');
const USER_REF = column('user_ref', 'string', 'keyed pseudonym of user_id (HMAC-SHA256 under a key only Spark can read, 32 hex characters)');

/**
 * What per-user rows of the views identify users by: `plain` shows the login contract's user_id;
 * `pseudonymous` shows user_ref, the keyed hash the Spark jobs write next to it
 * (jobs/spark/lakestream_spark/user_ref.py), and the views do not select user_id at all.
 */
export const USER_IDENTITIES = ['pseudonymous', 'plain'] as const;
export type UserIdentity = (typeof USER_IDENTITIES)[number];

/** The per-user column of the views and dashboards for a user identity. */
export function userColumnOf(identity: UserIdentity): 'user_id' | 'user_ref' {
  return identity === 'pseudonymous' ? 'user_ref' : 'user_id';
}

/** The three views, dependencies first, with the per-user column of `identity`. */
export function servingViewSpecs(identity: UserIdentity): ServingViewSpec[] {
  const user = identity === 'pseudonymous' ? USER_REF : USER_ID;
  return SERVING_VIEWS.map((spec) => ({ ...spec, columns: spec.columns.map((c) => (c === USER_ID ? user : c)) }));
}

/** The three views, dependencies first, as the `plain` identity declares them (see servingViewSpecs). */
export const SERVING_VIEWS: ServingViewSpec[] = [
  {
    name: 'speed_login_counts',
    description: 'Speed view: per-user login counts per Flink window (latest version of each window) for yesterday and today, UTC',
    sqlFile: 'speed_login_counts.sql',
    columns: [
      LOGIN_DATE,
      column('window_start', 'timestamp', 'window start, UTC'),
      column('window_end', 'timestamp', 'window end (exclusive), UTC'),
      USER_ID,
      column('logins', 'bigint', "the user's accepted logins in the window"),
      column('emitted_at', 'timestamp', 'when Flink emitted this count, UTC'),
    ],
    dependsOn: [],
  },
  {
    name: 'batch_logins_per_user_per_day',
    description: 'Batch view: logins per user per closed UTC day, from the gold daily report',
    sqlFile: 'batch_logins_per_user_per_day.sql',
    columns: [LOGIN_DATE, USER_ID, column('logins', 'bigint', 'distinct login events of the user that day')],
    dependsOn: [],
  },
  {
    name: 'serving_logins_per_user_per_day',
    description: 'Serving view: logins per user per UTC day, batch for closed days and speed for today (and yesterday until it is closed)',
    sqlFile: 'serving_logins_per_user_per_day.sql',
    columns: [
      LOGIN_DATE,
      USER_ID,
      column('logins', 'bigint', 'logins of the user that day'),
      column('layer', 'string', 'batch or speed: which view the row comes from'),
    ],
    dependsOn: ['speed_login_counts', 'batch_logins_per_user_per_day'],
  },
];

/** Values of the `${name}` placeholders in the serving SQL. */
export interface ServingSqlParameters {
  /** Glue database of the silver tier (the streamed login counts). */
  readonly silverDatabase: string;
  readonly goldDatabase: string;
  /** SQL expression of the current UTC date (a DATE): ATHENA_TODAY in Athena, a literal in tests. */
  readonly today: string;
  readonly batchDays: number;
  /** Per-user column the views select. @default 'plain' */
  readonly userIdentity?: UserIdentity;
}

const IDENTIFIER = /^[a-z0-9_]{1,255}$/;

/**
 * Fills the placeholders of one serving SQL file and drops its leading comment block (the view
 * text stays the query alone). Unknown placeholders and unsafe database names fail, so a typo can
 * never reach a deployed view.
 */
export function renderServingSql(template: string, parameters: ServingSqlParameters): string {
  for (const [field, value] of [
    ['silverDatabase', parameters.silverDatabase],
    ['goldDatabase', parameters.goldDatabase],
  ] as const) {
    // Glue stores database names in lower case; anything else would need quoting rules of its own.
    if (!IDENTIFIER.test(value))
      throw new Error(`renderServingSql: ${field} must be lower-case letters, digits and '_' (a Glue database name), got ${JSON.stringify(value)}`);
  }
  if (!Number.isInteger(parameters.batchDays) || parameters.batchDays < 1) {
    throw new Error(`renderServingSql: batchDays must be a positive whole number, got ${parameters.batchDays}`);
  }
  const values: Record<string, string> = {
    silver_database: parameters.silverDatabase,
    gold_database: parameters.goldDatabase,
    today: `(${parameters.today})`,
    batch_days: String(parameters.batchDays),
    user_column: userColumnOf(parameters.userIdentity ?? 'plain'),
    // Silver count records: the id inside the JSON value, or the pseudonym column the streaming job adds.
    speed_user: (parameters.userIdentity ?? 'plain') === 'pseudonymous' ? 'user_ref' : "json_extract_scalar(value, '$.user_id')",
  };
  const body = template.replace(/^(?:\s*--[^\n]*\n)+/, '');
  return body
    .replace(/\$\{(\w*)\}/g, (match, name: string) => {
      const value = values[name];
      if (value === undefined)
        throw new Error(
          `renderServingSql: unknown placeholder ${match} (known: ${Object.keys(values)
            .map((k) => `\${${k}}`)
            .join(', ')})`,
        );
      return value;
    })
    .trim();
}

/** The SQL file of a view, as committed. */
export function servingSqlTemplate(spec: ServingViewSpec, dir: string = SERVING_SQL_DIR): string {
  return fs.readFileSync(path.join(dir, spec.sqlFile), 'utf8');
}

/** The JSON Athena (Trino's Hive connector) decodes from `/* Presto View: <base64> *\/`. */
export interface PrestoViewDefinition {
  readonly originalSql: string;
  readonly catalog: string;
  readonly schema: string;
  readonly columns: Array<{ readonly name: string; readonly type: string }>;
}

export function prestoViewText(definition: PrestoViewDefinition): string {
  return `/* Presto View: ${Buffer.from(JSON.stringify(definition), 'utf8').toString('base64')} */`;
}

export interface ServingViewsProps {
  /** Glue database of the silver tier (holds kafka_logins_counts). */
  readonly silverDatabaseName: string;
  /** Glue database of the gold tier: holds the gold reports, and the views are created in it. */
  readonly goldDatabaseName: string;
  /** Closed days the batch and serving views reach back. @default 90 */
  readonly batchDays?: number;
  /**
   * Glue tables the views read (LakeTables' kafka_logins_counts, logins_per_user_per_day and
   * daily_active_users): the views are created after them and removed before them.
   * @default none
   */
  readonly sourceTables?: glue.CfnTable[];
  /** Folder of the SQL files. @default SERVING_SQL_DIR */
  readonly sqlDir?: string;
  /** Per-user column of the views: user_id, or the keyed pseudonym user_ref. @default 'plain' */
  readonly userIdentity?: UserIdentity;
}

/**
 * The serving layer of the lambda architecture as Athena views in the Glue Data Catalog: a speed
 * view over the Flink window counts that the streaming job lands in silver, a batch view over the
 * gold daily report, and the serving view that merges them (batch for closed days, speed for the
 * rest). Athena, Grafana and any BI tool query the same definitions.
 *
 * Each view is an AWS::Glue::Table of type VIRTUAL_VIEW in the Presto view encoding Athena itself
 * writes for CREATE VIEW: `presto_view = true`, the original text `/* Presto View: <base64 JSON> *\/`
 * with the SQL, catalog, schema and Presto column types, and Hive column types in the storage
 * descriptor. Glue does not check the SQL: the tests run it on DuckDB and parse it with a Trino
 * grammar. Views run with the caller's permissions, so a reader needs the source tables too.
 */
export class ServingViews extends Construct {
  /** View name -> Glue table resource. */
  public readonly views: Record<string, glue.CfnTable>;
  /** Database the views live in. */
  public readonly databaseName: string;

  constructor(scope: Construct, id: string, props: ServingViewsProps) {
    super(scope, id);
    for (const [field, value] of [
      ['silverDatabaseName', props.silverDatabaseName],
      ['goldDatabaseName', props.goldDatabaseName],
    ] as const) {
      // The names are encoded into the base64 view text at synth; a token would be encoded unresolved.
      if (Token.isUnresolved(value)) throw new Error(`ServingViews: ${field} must be a plain string known at synth, not a token`);
    }
    const batchDays = props.batchDays ?? 90;
    this.databaseName = props.goldDatabaseName;
    const userIdentity = props.userIdentity ?? 'plain';
    const parameters: ServingSqlParameters = {
      silverDatabase: props.silverDatabaseName,
      goldDatabase: props.goldDatabaseName,
      today: ATHENA_TODAY,
      batchDays,
      userIdentity,
    };
    this.views = {};
    for (const spec of servingViewSpecs(userIdentity)) {
      const originalSql = renderServingSql(servingSqlTemplate(spec, props.sqlDir), parameters);
      const view = new glue.CfnTable(this, pascal(spec.name), {
        catalogId: Aws.ACCOUNT_ID,
        databaseName: props.goldDatabaseName,
        tableInput: {
          name: spec.name,
          description: spec.description,
          tableType: 'VIRTUAL_VIEW',
          parameters: { presto_view: 'true', comment: 'Presto View' },
          viewOriginalText: prestoViewText({
            originalSql,
            catalog: ATHENA_CATALOG,
            schema: props.goldDatabaseName,
            columns: spec.columns.map((c) => ({ name: c.name, type: c.prestoType })),
          }),
          viewExpandedText: '/* Presto View */',
          partitionKeys: [],
          storageDescriptor: {
            columns: spec.columns.map(({ name, type, comment }) => ({ name, type, comment })),
            location: '',
            serdeInfo: {},
            compressed: false,
            numberOfBuckets: 0,
            storedAsSubDirectories: false,
          },
        },
      });
      for (const table of props.sourceTables ?? []) view.addResourceDependency(table);
      for (const name of spec.dependsOn) view.addResourceDependency(this.views[name]!);
      this.views[spec.name] = view;
    }
  }

  /** Names of the views, for grants and dashboards. */
  public get viewNames(): string[] {
    return Object.keys(this.views);
  }
}

function pascal(name: string): string {
  return name
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
