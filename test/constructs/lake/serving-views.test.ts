import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Aws, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { LakeTables } from '../../../lib/constructs/lake/lake-tables';
import {
  ATHENA_TODAY,
  SERVING_VIEWS,
  ServingViews,
  renderServingSql,
  servingSqlTemplate,
  type PrestoViewDefinition,
} from '../../../lib/constructs/lake/serving-views';
import { formatFindings, newCompliantTestApp, synthFindings } from '../../helpers/compliance';

interface ViewResource {
  Properties: {
    CatalogId: unknown;
    DatabaseName: string;
    TableInput: {
      Name: string;
      TableType: string;
      Parameters: Record<string, string>;
      ViewOriginalText: string;
      ViewExpandedText: string;
      PartitionKeys: unknown[];
      StorageDescriptor: { Columns: Array<{ Name: string; Type: string }>; Location: string; SerdeInfo: Record<string, unknown> };
    };
  };
  DependsOn?: string[];
}

function build(batchDays?: number) {
  const app = newCompliantTestApp();
  const stack = new Stack(new Stage(app, 'Test'), 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
  // The data stack owns the buckets; imported here so the compliance check sees only the views.
  const bucket = (id: string) => s3.Bucket.fromBucketName(stack, id, `lakestream-dev-${id.toLowerCase()}`);
  const tables = new LakeTables(stack, 'Tables', {
    bronzeBucket: bucket('Bronze'),
    silverBucket: bucket('Silver'),
    goldBucket: bucket('Gold'),
    bronzeDatabaseName: 'lakestream_dev_bronze',
    silverDatabaseName: 'lakestream_dev_silver',
    goldDatabaseName: 'lakestream_dev_gold',
  });
  const views = new ServingViews(stack, 'Views', {
    silverDatabaseName: 'lakestream_dev_silver',
    goldDatabaseName: 'lakestream_dev_gold',
    batchDays,
    sourceTables: [tables.silverTables.kafka_logins_counts!, tables.goldTables.logins_per_user_per_day!, tables.goldTables.daily_active_users!],
  });
  const template = Template.fromStack(stack);
  const resources = template.findResources('AWS::Glue::Table', { Properties: { TableInput: { TableType: 'VIRTUAL_VIEW' } } }) as Record<string, ViewResource>;
  const byName = Object.fromEntries(Object.entries(resources).map(([logicalId, r]) => [r.Properties.TableInput.Name, { logicalId, ...r }]));
  return { app, stack, tables, views, template, byName };
}

/** Decodes `/* Presto View: <base64> *\/` the way Athena does. */
function decode(text: string): PrestoViewDefinition {
  const match = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(text);
  expect(match).not.toBeNull();
  return JSON.parse(Buffer.from(match![1]!, 'base64').toString('utf8')) as PrestoViewDefinition;
}

describe('ServingViews', () => {
  const built = build();

  it('creates the three views in the gold database, and nothing else', () => {
    expect(Object.keys(built.byName).sort()).toEqual(['batch_logins_per_user_per_day', 'serving_logins_per_user_per_day', 'speed_login_counts']);
    for (const view of Object.values(built.byName)) expect(view.Properties.DatabaseName).toBe('lakestream_dev_gold');
    expect(built.views.viewNames).toEqual(SERVING_VIEWS.map((s) => s.name));
  });

  it.each(SERVING_VIEWS.map((s) => [s.name, s] as const))('%s is a Presto view as Athena stores one', (name, spec) => {
    const input = built.byName[name]!.Properties.TableInput;
    expect(input.TableType).toBe('VIRTUAL_VIEW');
    expect(input.Parameters).toEqual({ presto_view: 'true', comment: 'Presto View' });
    expect(input.ViewExpandedText).toBe('/* Presto View */');
    expect(input.PartitionKeys).toEqual([]);
    // Hive types in the storage descriptor, Presto types in the encoded definition; same names, same order.
    expect(input.StorageDescriptor.Columns.map((c) => [c.Name, c.Type])).toEqual(spec.columns.map((c) => [c.name, c.type]));
    expect(input.StorageDescriptor.Location).toBe('');

    const definition = decode(input.ViewOriginalText);
    expect(Object.keys(definition).sort()).toEqual(['catalog', 'columns', 'originalSql', 'schema']);
    expect(definition.catalog).toBe('awsdatacatalog');
    expect(definition.schema).toBe('lakestream_dev_gold');
    expect(definition.columns).toEqual(spec.columns.map((c) => ({ name: c.name, type: c.prestoType })));
    expect(definition.columns.map((c) => c.type).every((t) => ['varchar', 'bigint', 'timestamp'].includes(t))).toBe(true);
    expect(definition.originalSql).toBe(
      renderServingSql(servingSqlTemplate(spec), {
        silverDatabase: 'lakestream_dev_silver',
        goldDatabase: 'lakestream_dev_gold',
        today: ATHENA_TODAY,
        batchDays: 90,
      }),
    );
    // Glue's limit on ViewOriginalText.
    expect(Buffer.byteLength(input.ViewOriginalText)).toBeLessThan(409_600);
  });

  it('the view SQL reads the tables LakeTables defines, by database, and the views it depends on', () => {
    const sql = (name: string) => decode(built.byName[name]!.Properties.TableInput.ViewOriginalText).originalSql;
    expect(sql('speed_login_counts')).toContain('FROM "lakestream_dev_silver"."kafka_logins_counts"');
    expect(sql('batch_logins_per_user_per_day')).toContain('FROM "lakestream_dev_gold"."logins_per_user_per_day"');
    expect(sql('serving_logins_per_user_per_day')).toContain('FROM "lakestream_dev_gold"."speed_login_counts"');
    expect(sql('serving_logins_per_user_per_day')).toContain('FROM "lakestream_dev_gold"."batch_logins_per_user_per_day"');
    const defined = new Set([
      ...built.tables.bronzeTableNames.map((t) => `lakestream_dev_bronze.${t}`),
      ...built.tables.silverTableNames.map((t) => `lakestream_dev_silver.${t}`),
      ...built.tables.goldTableNames.map((t) => `lakestream_dev_gold.${t}`),
      ...SERVING_VIEWS.map((s) => `lakestream_dev_gold.${s.name}`),
    ]);
    for (const spec of SERVING_VIEWS) {
      const relations = [...sql(spec.name).matchAll(/"(\w+)"\."(\w+)"/g)].map((m) => `${m[1]}.${m[2]}`);
      expect(relations.length).toBeGreaterThan(0);
      expect(relations.filter((r) => !defined.has(r))).toEqual([]);
    }
    expect(sql('speed_login_counts')).toContain(ATHENA_TODAY);
  });

  it('is created after the tables it reads, and the merged view after the two it merges', () => {
    const tableIds = Object.keys(built.template.findResources('AWS::Glue::Table', { Properties: { TableInput: { TableType: 'EXTERNAL_TABLE' } } }));
    const idOf = (name: string) => tableIds.find((id) => id.includes(name))!;
    const serving = built.byName.serving_logins_per_user_per_day!;
    expect(serving.DependsOn).toEqual(
      expect.arrayContaining([
        built.byName.speed_login_counts!.logicalId,
        built.byName.batch_logins_per_user_per_day!.logicalId,
        idOf('KafkaLoginsCounts'),
        idOf('DailyActiveUsers'),
      ]),
    );
  });

  it('batchDays reaches the SQL', () => {
    const { byName } = build(7);
    expect(decode(byName.batch_logins_per_user_per_day!.Properties.TableInput.ViewOriginalText).originalSql).toContain("INTERVAL '7' DAY");
  });

  it('refuses database names that are tokens (they would be base64-encoded unresolved)', () => {
    const stack = new Stack();
    expect(() => new ServingViews(stack, 'V', { silverDatabaseName: `db_${Aws.ACCOUNT_ID}`, goldDatabaseName: 'g' })).toThrow(
      /silverDatabaseName must be a plain string known at synth/,
    );
  });

  it('reads its SQL from the folder it is given, so a broken file fails the synth', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serving-sql-'));
    try {
      for (const spec of SERVING_VIEWS) fs.writeFileSync(path.join(dir, spec.sqlFile), 'SELECT ${nope}');
      expect(() => new ServingViews(new Stack(), 'V', { silverDatabaseName: 's', goldDatabaseName: 'g', sqlDir: dir })).toThrow(
        /unknown placeholder \$\{nope\}/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes the compliance packs', () => {
    const findings = synthFindings(built.app);
    expect(formatFindings(findings)).toBe('');
  });
});
