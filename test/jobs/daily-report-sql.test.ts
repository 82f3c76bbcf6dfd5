/**
 * Runs the daily report SQL (jobs/spark/sql) on DuckDB over Parquet files laid out like bronze, and
 * checks the numbers. The SQL is rendered by the Spark job's own Python renderer
 * (`python3 -m lakestream_spark.report_sql`), so the text executed here is the text Spark executes.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

const SPARK_JOBS_DIR = path.join(__dirname, '..', '..', 'jobs', 'spark');
const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT']);

type Path = 'kafka' | 'landing' | 'both';
interface Login {
  readonly id: string;
  readonly user: string | null;
  /** UTC, 'YYYY-MM-DD HH:MM:SS'. */
  readonly at: string;
  readonly source?: string;
  readonly path?: Path;
  /** false: a record the streaming job kept in bronze but flagged as breaking the contract. */
  readonly valid?: boolean;
}
type Row = Record<string, string | number | boolean | null>;

/**
 * The generated bronze data. 2024-01-07 (the main report date):
 *   alice 4 logins (a7-4 arrived through Kafka and a landing file), bob 3, carol 3 (c7-1 delivered
 *   twice by Kafka), plus two records that broke the contract (one of them from mallory).
 * Daily logins 2023-12-24..2024-01-08: 12-24:5, 12-25:3, 12-31:4, 01-01:2, 01-02:0, 01-03:1, 01-04:3,
 * 01-05:2, 01-06:1, 01-07:10, 01-08:2.
 */
function generatedLogins(): Login[] {
  const logins: Login[] = [
    { id: 'a7-1', user: 'alice', at: '2024-01-07 08:00:00' },
    { id: 'a7-2', user: 'alice', at: '2024-01-07 09:30:00' },
    { id: 'a7-3', user: 'alice', at: '2024-01-07 12:00:00', source: 'cdc', path: 'landing' },
    { id: 'a7-4', user: 'alice', at: '2024-01-07 23:59:59', path: 'both' },
    { id: 'b7-1', user: 'bob', at: '2024-01-07 00:00:00' },
    { id: 'b7-2', user: 'bob', at: '2024-01-07 10:00:00', source: 'replay', path: 'landing' },
    { id: 'b7-3', user: 'bob', at: '2024-01-07 11:00:00' },
    { id: 'c7-1', user: 'carol', at: '2024-01-07 07:00:00' },
    { id: 'c7-1', user: 'carol', at: '2024-01-07 07:00:00' },
    { id: 'c7-2', user: 'carol', at: '2024-01-07 07:30:00' },
    { id: 'c7-3', user: 'carol', at: '2024-01-07 08:00:00' },
    { id: 'x7-1', user: null, at: '2024-01-07 13:00:00', valid: false },
    { id: 'x7-2', user: 'mallory', at: '2024-01-07 14:00:00', valid: false },
    { id: 'a8-1', user: 'alice', at: '2024-01-08 00:00:00' },
    { id: 'd8-1', user: 'dave', at: '2024-01-08 05:00:00' },
    { id: 'a6-1', user: 'alice', at: '2024-01-06 23:30:00' },
    { id: 'a5-1', user: 'alice', at: '2024-01-05 09:00:00' },
    { id: 'a5-2', user: 'alice', at: '2024-01-05 18:00:00', path: 'landing' },
    { id: 'a4-1', user: 'alice', at: '2024-01-04 09:00:00' },
    { id: 'b4-1', user: 'bob', at: '2024-01-04 09:00:00' },
    { id: 'd4-1', user: 'dave', at: '2024-01-04 09:00:00', path: 'landing' },
    { id: 'c3-1', user: 'carol', at: '2024-01-03 15:00:00' },
    { id: 'a1-1', user: 'alice', at: '2024-01-01 10:00:00' },
    { id: 'b1-1', user: 'bob', at: '2024-01-01 11:00:00' },
    { id: 'a31-1', user: 'alice', at: '2023-12-31 10:00:00' },
    { id: 'b31-1', user: 'bob', at: '2023-12-31 10:00:00' },
    { id: 'c31-1', user: 'carol', at: '2023-12-31 10:00:00' },
    { id: 'd31-1', user: 'dave', at: '2023-12-31 10:00:00' },
    { id: 'a25-1', user: 'alice', at: '2023-12-25 10:00:00' },
    { id: 'b25-1', user: 'bob', at: '2023-12-25 10:00:00' },
    { id: 'c25-1', user: 'carol', at: '2023-12-25 10:00:00' },
  ];
  for (let i = 1; i <= 5; i++) logins.push({ id: `e24-${i}`, user: `early${i}`, at: `2023-12-24 0${i}:00:00`, path: 'landing' });
  return logins;
}

function sqlString(value: string | null): string {
  return value === null ? 'NULL' : `'${value.replace(/'/g, "''")}'`;
}

function kafkaRow(login: Login): string {
  return `(${sqlString(login.id)}, ${sqlString(login.user)}, TIMESTAMP ${sqlString(login.at)}, ${sqlString(login.source ?? 'ga4')}, 1, ${login.valid ?? true})`;
}

function landingRow(login: Login): string {
  return `(${sqlString(login.id)}, ${sqlString(login.user)}, TIMESTAMP ${sqlString(login.at)}, ${sqlString(login.source ?? 'ga4')}, 1, '2024-01-08')`;
}

/** Writes both bronze datasets as Hive-partitioned Parquet (dt/hr from the UTC event time), as the jobs do. */
async function writeBronze(connection: DuckDBConnection, root: string, logins: Login[]): Promise<void> {
  const viaKafka = logins.filter((l) => (l.path ?? 'kafka') !== 'landing');
  const viaLanding = logins.filter((l) => l.path === 'landing' || l.path === 'both');
  await connection.run(`
    CREATE TABLE kafka_rows AS
    SELECT *, strftime(event_time, '%Y-%m-%d') AS dt, strftime(event_time, '%H') AS hr, 0 AS batch_id
    FROM (VALUES ${viaKafka.map(kafkaRow).join(', ')}) AS t(event_id, user_id, event_time, source, schema_version, is_valid)`);
  await connection.run(`
    CREATE TABLE landing_rows AS
    SELECT *, strftime(event_time, '%Y-%m-%d') AS dt, strftime(event_time, '%H') AS hr
    FROM (VALUES ${viaLanding.map(landingRow).join(', ')}) AS t(event_id, user_id, event_time, source, schema_version, landed_on)`);
  // DuckDB creates the partition folders but not their parents.
  fs.mkdirSync(path.join(root, 'kafka'), { recursive: true });
  fs.mkdirSync(path.join(root, 'landing'), { recursive: true });
  // One folder per micro-batch below hr=, as streaming_bronze.py writes them.
  await connection.run(`COPY kafka_rows TO '${root}/kafka/logins_raw' (FORMAT PARQUET, PARTITION_BY (dt, hr, batch_id))`);
  await connection.run(`COPY landing_rows TO '${root}/landing/logins' (FORMAT PARQUET, PARTITION_BY (landed_on, dt, hr))`);
}

function renderReports(reportDate: string, topN: number, trendDays = 7): Record<string, string> {
  const output = execFileSync(
    'python3',
    ['-m', 'lakestream_spark.report_sql', '--report-date', reportDate, '--top-n', String(topN), '--trend-days', String(trendDays)],
    { cwd: SPARK_JOBS_DIR, encoding: 'utf8' },
  );
  return JSON.parse(output) as Record<string, string>;
}

describe('daily report SQL on DuckDB', () => {
  let tmp: string;
  let instance: DuckDBInstance;
  let db: DuckDBConnection;

  async function query(sql: string): Promise<Row[]> {
    const reader = await db.runAndReadAll(sql);
    const integerColumns = reader.columnNames().filter((_, i) => INTEGER_TYPES.has(reader.columnTypes()[i].toString()));
    return reader.getRowObjectsJson().map((row) => {
      const plain: Row = {};
      for (const [key, value] of Object.entries(row)) {
        plain[key] = integerColumns.includes(key) && value !== null ? Number(value) : (value as Row[string]);
      }
      return plain;
    });
  }

  /** Renders the reports for one date and points bronze_logins at the Parquet files. */
  async function reportsFor(reportDate: string, topN: number): Promise<Record<string, string>> {
    const rendered = renderReports(reportDate, topN);
    await db.run(`CREATE OR REPLACE VIEW bronze_logins AS ${rendered.bronze_logins}`);
    return rendered;
  }

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-report-'));
    instance = await DuckDBInstance.create(':memory:');
    db = await instance.connect();
    await writeBronze(db, tmp, generatedLogins());
    // Read back from the files only, the way Spark registers the bronze folders (dt stays a string).
    await db.run('DROP TABLE kafka_rows');
    await db.run('DROP TABLE landing_rows');
    await db.run(
      `CREATE VIEW bronze_logins_kafka AS SELECT * FROM read_parquet('${tmp}/kafka/logins_raw/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)`,
    );
    await db.run(
      `CREATE VIEW bronze_logins_landing AS SELECT * FROM read_parquet('${tmp}/landing/logins/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)`,
    );
  });

  afterAll(() => {
    db?.closeSync();
    instance?.closeSync();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('wrote Hive-partitioned Parquet files', async () => {
    expect(fs.existsSync(path.join(tmp, 'kafka', 'logins_raw', 'dt=2024-01-07', 'hr=23', 'batch_id=0'))).toBe(true);
    expect(fs.existsSync(path.join(tmp, 'landing', 'logins', 'landed_on=2024-01-08', 'dt=2024-01-07', 'hr=12'))).toBe(true);
    const [{ files }] = await query(`SELECT COUNT(*) AS files FROM glob('${tmp}/**/*.parquet')`);
    expect(files).toBeGreaterThan(20);
  });

  describe('report date 2024-01-07, top 2', () => {
    let reports: Record<string, string>;
    beforeAll(async () => {
      reports = await reportsFor('2024-01-07', 2);
    });

    it('bronze_logins keeps valid rows of both paths inside the lookback window', async () => {
      const [counts] = await query(`
        SELECT COUNT(*) AS rows_read, COUNT(DISTINCT event_id) AS events, MIN(event_date) AS first_day, MAX(event_date) AS last_day,
               COUNT(CASE WHEN user_id IS NULL OR user_id = 'mallory' THEN 1 END) AS invalid_rows
        FROM bronze_logins`);
      // 01-07: 12 rows (a7-4 and c7-1 twice each) down to 12-25: 3 rows; 12-24 and 01-08 are outside.
      expect(counts).toEqual({ rows_read: 28, events: 26, first_day: '2023-12-25', last_day: '2024-01-07', invalid_rows: 0 });
    });

    it('logins per user per day counts distinct events', async () => {
      const rows = await query(`SELECT * FROM (${reports.logins_per_user_per_day}) AS r ORDER BY user_id`);
      expect(rows).toEqual([
        { report_date: '2024-01-07', user_id: 'alice', logins: 4, sources: 2, first_login_at: '2024-01-07 08:00:00', last_login_at: '2024-01-07 23:59:59' },
        { report_date: '2024-01-07', user_id: 'bob', logins: 3, sources: 2, first_login_at: '2024-01-07 00:00:00', last_login_at: '2024-01-07 11:00:00' },
        { report_date: '2024-01-07', user_id: 'carol', logins: 3, sources: 1, first_login_at: '2024-01-07 07:00:00', last_login_at: '2024-01-07 08:00:00' },
      ]);
    });

    it('daily active users', async () => {
      expect(await query(reports.daily_active_users)).toEqual([{ report_date: '2024-01-07', active_users: 3, logins: 10, logins_per_active_user: 3.333 }]);
    });

    it('top users keep every user tied at the cut-off, ordered by rank then user', async () => {
      expect(await query(reports.top_users)).toEqual([
        { report_date: '2024-01-07', login_rank: 1, user_id: 'alice', logins: 4, last_login_at: '2024-01-07 23:59:59' },
        { report_date: '2024-01-07', login_rank: 2, user_id: 'bob', logins: 3, last_login_at: '2024-01-07 11:00:00' },
        { report_date: '2024-01-07', login_rank: 2, user_id: 'carol', logins: 3, last_login_at: '2024-01-07 08:00:00' },
      ]);
    });

    it('login trends: 7-day moving average with empty days counted as zero', async () => {
      // (2 + 0 + 1 + 3 + 2 + 1 + 10) / 7 and, the week before, (3 + 4) / 7.
      expect(await query(reports.login_trends)).toEqual([
        { report_date: '2024-01-07', logins: 10, active_users: 3, logins_moving_avg: 2.714, previous_logins_moving_avg: 1, days_with_logins: 6 },
      ]);
    });
  });

  describe('other dates', () => {
    it('top 1 on 2024-01-07 is alice alone', async () => {
      const reports = await reportsFor('2024-01-07', 1);
      expect((await query(reports.top_users)).map((r) => [r.login_rank, r.user_id])).toEqual([[1, 'alice']]);
    });

    it('a three-way tie for first place on 2024-01-04 keeps all three under top 2', async () => {
      const reports = await reportsFor('2024-01-04', 2);
      expect((await query(reports.top_users)).map((r) => [r.login_rank, r.user_id, r.logins])).toEqual([
        [1, 'alice', 1],
        [1, 'bob', 1],
        [1, 'dave', 1],
      ]);
    });

    it('trends on 2024-01-06 look back two windows', async () => {
      const reports = await reportsFor('2024-01-06', 10);
      // (4 + 2 + 0 + 1 + 3 + 2 + 1) / 7 and (5 + 3) / 7.
      expect(await query(reports.login_trends)).toEqual([
        { report_date: '2024-01-06', logins: 1, active_users: 1, logins_moving_avg: 1.857, previous_logins_moving_avg: 1.143, days_with_logins: 6 },
      ]);
    });

    it('a day without logins still yields one DAU and one trend row, and no user rows', async () => {
      const reports = await reportsFor('2024-01-02', 10);
      expect(await query(reports.daily_active_users)).toEqual([{ report_date: '2024-01-02', active_users: 0, logins: 0, logins_per_active_user: null }]);
      expect(await query(reports.logins_per_user_per_day)).toEqual([]);
      expect(await query(reports.top_users)).toEqual([]);
      // (4 + 2) / 7 over 12-27..01-02 and (5 + 3) / 7 over 12-20..12-26.
      expect(await query(reports.login_trends)).toEqual([
        { report_date: '2024-01-02', logins: 0, active_users: 0, logins_moving_avg: 0.857, previous_logins_moving_avg: 1.143, days_with_logins: 2 },
      ]);
    });
  });
});

/**
 * Late data: bronze is partitioned by event time, so an event of day D that arrives after D's report
 * ran still lands in a dt=D partition (a streamed one in a later micro-batch folder, a landed one under
 * the later landed_on day). Each nightly run re-reports the --late-days days before its report date,
 * so D's report counts the late events on the next runs.
 */
describe('late events are counted for their own day when a later run re-reports it', () => {
  const D = '2024-02-10';
  let tmp: string;
  let instance: DuckDBInstance;
  let db: DuckDBConnection;

  async function land(rows: Array<{ id: string; user: string; at: string; via: 'kafka' | 'landing'; batch?: number; landedOn?: string }>): Promise<void> {
    const kafka = rows.filter((r) => r.via === 'kafka');
    const landing = rows.filter((r) => r.via === 'landing');
    if (kafka.length > 0) {
      await db.run(`COPY (
        SELECT *, strftime(event_time, '%Y-%m-%d') AS dt, strftime(event_time, '%H') AS hr
        FROM (VALUES ${kafka.map((r) => `('${r.id}', '${r.user}', TIMESTAMP '${r.at}', 'ga4', 1, true, ${r.batch})`).join(', ')})
          AS t(event_id, user_id, event_time, source, schema_version, is_valid, batch_id)
      ) TO '${tmp}/kafka/logins_raw' (FORMAT PARQUET, PARTITION_BY (dt, hr, batch_id), OVERWRITE_OR_IGNORE true)`);
    }
    if (landing.length > 0) {
      await db.run(`COPY (
        SELECT *, strftime(event_time, '%Y-%m-%d') AS dt, strftime(event_time, '%H') AS hr
        FROM (VALUES ${landing.map((r) => `('${r.id}', '${r.user}', TIMESTAMP '${r.at}', 'replay', 1, '${r.landedOn}')`).join(', ')})
          AS t(event_id, user_id, event_time, source, schema_version, landed_on)
      ) TO '${tmp}/landing/logins' (FORMAT PARQUET, PARTITION_BY (landed_on, dt, hr), OVERWRITE_OR_IGNORE true)`);
    }
  }

  /** What one nightly run (report date, late days) writes for day `day`'s daily_active_users. */
  async function dauOf(runDate: string, lateDays: number, day: string): Promise<Row[] | undefined> {
    const output = execFileSync('python3', ['-m', 'lakestream_spark.report_sql', '--report-date', runDate, '--late-days', String(lateDays)], {
      cwd: SPARK_JOBS_DIR,
      encoding: 'utf8',
    });
    const perDay = JSON.parse(output) as Record<string, Record<string, string>>;
    if (!perDay[day]) return undefined;
    await db.run(
      `CREATE OR REPLACE VIEW bronze_logins_kafka AS SELECT * FROM read_parquet('${tmp}/kafka/logins_raw/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)`,
    );
    await db.run(
      `CREATE OR REPLACE VIEW bronze_logins_landing AS SELECT * FROM read_parquet('${tmp}/landing/logins/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)`,
    );
    await db.run(`CREATE OR REPLACE VIEW bronze_logins AS ${perDay[day]!.bronze_logins}`);
    const reader = await db.runAndReadAll(perDay[day]!.daily_active_users);
    return reader.getRowObjectsJson().map((row) => ({ ...row, active_users: Number(row.active_users), logins: Number(row.logins) }) as Row);
  }

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-late-'));
    fs.mkdirSync(path.join(tmp, 'kafka'), { recursive: true });
    fs.mkdirSync(path.join(tmp, 'landing'), { recursive: true });
    instance = await DuckDBInstance.create(':memory:');
    db = await instance.connect();
  });

  afterAll(() => {
    db?.closeSync();
    instance?.closeSync();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('counts an event streamed after midnight and a file landed the next day in the day they happened', async () => {
    // By the first run (the night after D): one streamed and one landed login of D.
    await land([
      { id: 'k1', user: 'alice', at: `${D} 09:00:00`, via: 'kafka', batch: 1 },
      { id: 'l1', user: 'bob', at: `${D} 10:00:00`, via: 'landing', landedOn: D },
    ]);
    expect(await dauOf(D, 2, D)).toEqual([{ report_date: D, active_users: 2, logins: 2, logins_per_active_user: 1 }]);

    // Then, on D+1: a login of D 23:59 streamed after midnight (a later micro-batch) and a file of D's
    // logins that landed on D+1 (loaded under landed_on=D+1 the night after).
    await land([
      { id: 'k2', user: 'carol', at: `${D} 23:59:30`, via: 'kafka', batch: 7 },
      { id: 'l2', user: 'alice', at: `${D} 20:00:00`, via: 'landing', landedOn: '2024-02-11' },
      { id: 'n1', user: 'dave', at: '2024-02-11 01:00:00', via: 'kafka', batch: 7 },
    ]);
    expect(fs.existsSync(path.join(tmp, 'kafka', 'logins_raw', `dt=${D}`, 'hr=23', 'batch_id=7'))).toBe(true);
    expect(fs.existsSync(path.join(tmp, 'landing', 'logins', 'landed_on=2024-02-11', `dt=${D}`))).toBe(true);

    // The next two nightly runs report D again and count them; a run without late days would not.
    expect(await dauOf('2024-02-11', 0, D)).toBeUndefined();
    for (const runDate of ['2024-02-11', '2024-02-12']) {
      expect(await dauOf(runDate, 2, D)).toEqual([{ report_date: D, active_users: 3, logins: 4, logins_per_active_user: 1.333 }]);
    }
    // Past the late window D is no longer re-reported.
    expect(await dauOf('2024-02-13', 2, D)).toBeUndefined();
  });
});
