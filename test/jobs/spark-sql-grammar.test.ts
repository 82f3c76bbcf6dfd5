/**
 * Every Spark SQL text the Spark jobs execute, rendered by the jobs' own Python code at the bounds of
 * their arguments (`python3 -m lakestream_spark.sql_catalog`), parsed with dt-sql-parser's Spark SQL
 * grammar. Also checks that the bronze schemas the jobs write and read are the Glue tables' columns.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { SparkSQL } from 'dt-sql-parser';
import { bronzeTableSpecs } from '../../lib/constructs/lake/lake-tables';

const SPARK_JOBS_DIR = path.join(__dirname, '..', '..', 'jobs', 'spark');

interface Catalog {
  readonly sql: Record<string, string>;
  readonly schemas: Record<string, Array<[string, string]>>;
}

const catalog = JSON.parse(execFileSync('python3', ['-m', 'lakestream_spark.sql_catalog'], { cwd: SPARK_JOBS_DIR, encoding: 'utf8' })) as Catalog;
const parser = new SparkSQL();

describe('Spark SQL executed by the jobs', () => {
  test('the catalog covers the reports at both argument bounds, every streaming stage and the schemas', () => {
    const names = Object.keys(catalog.sql);
    for (const report of ['bronze_logins', 'logins_per_user_per_day', 'daily_active_users', 'top_users', 'login_trends']) {
      expect(names).toEqual(expect.arrayContaining([`report ${report} (min)`, `report ${report} (max)`]));
    }
    for (const query of ['bronze_logins_raw', 'silver_logins_counts']) {
      for (const stage of ['parse', 'project', 'finish', 'output', 'batch']) expect(names).toContain(`${query} ${stage}`);
    }
    expect(catalog.sql['report top_users (max)']).toContain('login_rank <= 1000');
    expect(catalog.sql['report login_trends (max)']).toContain('/ 366, 3)');
  });

  test.each(Object.entries(catalog.sql))('%s parses with the Spark SQL grammar', (_name, sql) => {
    expect(parser.validate(sql)).toEqual([]);
  });

  test('the grammar rejects what Spark rejects (the check can fail)', () => {
    expect(parser.validate(`${catalog.sql['report top_users (min)']} QUALIFY login_rank = 1 WHERE`)).not.toEqual([]);
    expect(parser.validate('SELECT CAST(x AS) FROM t')).not.toEqual([]);
  });
});

describe('bronze schemas', () => {
  const GLUE_TYPE: Record<string, string> = { STRING: 'string', INT: 'int', BIGINT: 'bigint', TIMESTAMP: 'timestamp', BOOLEAN: 'boolean' };

  test.each(bronzeTableSpecs('NOW-30DAYS').map((spec) => [spec.name, spec] as const))('Glue table %s has the columns the jobs write', (name, spec) => {
    const written = catalog.schemas[name]!.map(([column, type]) => [column, GLUE_TYPE[type]]);
    const glue = [...spec.columns, ...spec.partitionKeys].map((column) => [column.name, column.type]);
    expect(glue).toEqual(written);
  });
});
