/**
 * Runs the serving views (jobs/serving/*.sql) on DuckDB over Parquet files laid out like the lake
 * (silver kafka/logins_counts/dt=/hr=, gold reports/<report>/report_date=), and parses the Athena
 * rendering of the same text with a Trino grammar (dt-sql-parser).
 *
 * The text DuckDB runs is the text Athena runs except for `${today}` (a fixed date here, the current
 * UTC date in Athena). DuckDB lacks Trino's json_extract_scalar, so the test defines it as a macro
 * with Trino's behaviour: the scalar at the path as text, NULL for invalid JSON.
 */
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { TrinoSQL } from 'dt-sql-parser/dist/parser/trino';
import { GOLD_REPORT_COLUMNS } from '../../lib/constructs/lake/lake-tables';
import {
  ATHENA_TODAY,
  SERVING_VIEWS,
  type UserIdentity,
  renderServingSql,
  servingSqlTemplate,
  servingViewSpecs,
} from '../../lib/constructs/lake/serving-views';

/** The key the fixtures hash with; jobs/spark/lakestream_spark/user_ref.py computes the same function. */
const USER_REF_TEST_KEY = 'k'.repeat(64);
/** user_ref as the Spark jobs write it: HMAC-SHA256 of user_id, first 32 hex characters. */
const userRef = (userId: string) => createHmac('sha256', USER_REF_TEST_KEY).update(userId, 'utf8').digest('hex').slice(0, 32);

const SILVER = 'silver_db';
const GOLD = 'gold_db';
const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT']);
type Row = Record<string, string | number | boolean | null>;

/** One record of topic logins.counts as the streaming job lands it. */
interface CountRecord {
  readonly partition?: number;
  readonly offset: number;
  /** Kafka timestamp, UTC 'YYYY-MM-DD HH:MM:SS': event time (a window's end); gives dt/hr. */
  readonly at: string;
  readonly value: string;
}

const utc = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

/** A window record as Flink writes it (contract login-count-event v2): Kafka timestamp = window_end. */
function windowRecord(offset: number, emittedAt: string, user: string, windowStart: string, count: number, extra: Partial<CountRecord> = {}): CountRecord {
  const start = new Date(`${windowStart}Z`);
  const end = new Date(start.getTime() + 60_000);
  const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');
  const value = {
    user_id: user,
    login_count: count,
    kind: 'window',
    window_start: iso(start),
    window_end: iso(end),
    emitted_at: `${emittedAt.replace(' ', 'T')}.000Z`,
    schema_version: 2,
  };
  return { offset, at: utc(end), value: JSON.stringify(value), ...extra };
}

/** A running record: Kafka timestamp = the newest counted event time. */
function runningRecord(offset: number, at: string, user: string, count: number): CountRecord {
  return {
    offset,
    at,
    value: JSON.stringify({ user_id: user, login_count: count, kind: 'running', emitted_at: `${at.replace(' ', 'T')}.000Z`, schema_version: 2 }),
  };
}

interface GoldDay {
  readonly date: string;
  /** user -> logins; absent users had none. */
  readonly users: Record<string, number>;
  /** false: the report wrote logins_per_user_per_day but not (yet) daily_active_users. */
  readonly closed?: boolean;
}

const sqlString = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** A DuckDB database with the silver and gold relations over Parquet files and the serving views, for one "today". */
class Lake {
  private constructor(
    readonly root: string,
    private readonly instance: DuckDBInstance,
    readonly db: DuckDBConnection,
  ) {}

  static async create(records: CountRecord[], gold: GoldDay[], today: string, batchDays = 3, userIdentity: UserIdentity = 'plain'): Promise<Lake> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-serving-'));
    const instance = await DuckDBInstance.create(':memory:');
    const lake = new Lake(root, instance, await instance.connect());
    await lake.load(records, gold);
    for (const spec of servingViewSpecs(userIdentity)) {
      const sql = renderServingSql(servingSqlTemplate(spec), { silverDatabase: SILVER, goldDatabase: GOLD, today: `DATE '${today}'`, batchDays, userIdentity });
      await lake.db.run(`CREATE VIEW ${GOLD}.${spec.name} AS ${sql}`);
    }
    return lake;
  }

  private async load(records: CountRecord[], gold: GoldDay[]): Promise<void> {
    const db = this.db;
    await db.run(`CREATE SCHEMA ${SILVER}`);
    await db.run(`CREATE SCHEMA ${GOLD}`);
    // Trino's json_extract_scalar returns NULL for text that is not JSON; DuckDB's json_extract_string raises.
    await db.run('CREATE MACRO json_extract_scalar(j, p) AS CASE WHEN json_valid(j) THEN json_extract_string(j, p) END');

    const countsColumns =
      'topic VARCHAR, kafka_partition INTEGER, kafka_offset BIGINT, kafka_timestamp TIMESTAMP, key VARCHAR, value VARCHAR, event_time TIMESTAMP, ingested_at TIMESTAMP, user_ref VARCHAR, dt VARCHAR, hr VARCHAR';
    // user_ref as the streaming job adds it: the keyed hash of the value's user_id, NULL without one.
    const refOf = (value: string) => {
      try {
        const id = (JSON.parse(value) as { user_id?: unknown }).user_id;
        return typeof id === 'string' ? sqlString(userRef(id)) : 'NULL';
      } catch {
        return 'NULL';
      }
    };
    const countRows = records.map(
      (r) =>
        `('logins.counts', ${r.partition ?? 0}, ${r.offset}, TIMESTAMP ${sqlString(r.at)}, NULL, ${sqlString(r.value)}, TIMESTAMP ${sqlString(r.at)}, TIMESTAMP ${sqlString(r.at)}, ${refOf(r.value)}, ${sqlString(r.at.slice(0, 10))}, ${sqlString(r.at.slice(11, 13))})`,
    );
    await this.dataset(`${SILVER}.kafka_logins_counts`, 'kafka/logins_counts', countsColumns, countRows, ['dt', 'hr']);

    const perUser = gold.flatMap((day) =>
      Object.entries(day.users).map(
        ([user, logins]) =>
          `(${sqlString(user)}, ${logins}, 1, TIMESTAMP '${day.date} 00:00:00', TIMESTAMP '${day.date} 23:00:00', ${sqlString(userRef(user))}, '${day.date}')`,
      ),
    );
    await this.dataset(
      `${GOLD}.logins_per_user_per_day`,
      'reports/logins_per_user_per_day',
      `${goldColumns('logins_per_user_per_day')}, report_date VARCHAR`,
      perUser,
      ['report_date'],
    );
    const dau = gold
      .filter((day) => day.closed ?? true)
      .map((day) => {
        const logins = Object.values(day.users).reduce((a, b) => a + b, 0);
        const users = Object.keys(day.users).length;
        return `(${users}, ${logins}, ${users === 0 ? 'NULL' : logins / users}, '${day.date}')`;
      });
    await this.dataset(`${GOLD}.daily_active_users`, 'reports/daily_active_users', `${goldColumns('daily_active_users')}, report_date VARCHAR`, dau, [
      'report_date',
    ]);
  }

  /**
   * Writes the rows as Hive-partitioned Parquet and defines the relation over the files only, the
   * way Athena reads the folder (partition values stay strings). No rows: an empty relation, like
   * Athena on a prefix without files.
   */
  private async dataset(relation: string, folder: string, columns: string, rows: string[], partitions: string[]): Promise<void> {
    if (rows.length === 0) {
      await this.db.run(`CREATE TABLE ${relation} (${columns})`);
      return;
    }
    const staging = relation.replace('.', '_staging_');
    await this.db.run(`CREATE TABLE ${staging} (${columns})`);
    await this.db.run(`INSERT INTO ${staging} VALUES ${rows.join(', ')}`);
    const target = path.join(this.root, folder);
    fs.mkdirSync(target, { recursive: true });
    await this.db.run(`COPY ${staging} TO '${target}' (FORMAT PARQUET, PARTITION_BY (${partitions.join(', ')}), OVERWRITE_OR_IGNORE)`);
    await this.db.run(`DROP TABLE ${staging}`);
    await this.db.run(`CREATE VIEW ${relation} AS SELECT * FROM read_parquet('${target}/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)`);
  }

  async query(sql: string): Promise<Row[]> {
    const reader = await this.db.runAndReadAll(sql);
    const types = reader.columnTypes().map((t) => t.toString());
    const names = reader.columnNames();
    return reader.getRowObjectsJson().map((row) => {
      const plain: Row = {};
      for (const [key, value] of Object.entries(row)) {
        plain[key] = INTEGER_TYPES.has(types[names.indexOf(key)]) && value !== null ? Number(value) : (value as Row[string]);
      }
      return plain;
    });
  }

  async columnTypes(relation: string): Promise<Array<[string, string]>> {
    return (await this.query(`DESCRIBE ${relation}`)).map((r) => [String(r.column_name), String(r.column_type)]);
  }

  close(): void {
    this.db.closeSync();
    this.instance.closeSync();
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

function goldColumns(report: string): string {
  const duck: Record<string, string> = { string: 'VARCHAR', bigint: 'BIGINT', int: 'INTEGER', double: 'DOUBLE', timestamp: 'TIMESTAMP' };
  return GOLD_REPORT_COLUMNS[report]!.map((c) => `${c.name} ${duck[c.type]}`).join(', ');
}

/**
 * Today is 2025-03-02 (UTC), ten minutes after midnight; the daily report has not run for 03-01 yet.
 *   alice  window 03-01 23:59 (ends 03-02 00:00, so in silver's dt=2025-03-02): counts for 03-01, not 03-02
 *          window 03-02 00:00 emitted with 1, then re-emitted with 2 by a late event
 *          a running record (all-time count 17): not a window, ignored
 *   bob    window 03-02 00:03 with 3: the same record twice in the files (a retried Spark batch) and
 *          once more at a later offset (a Flink at-least-once redelivery): counted once
 *   dave   window 03-01 12:00 with 4, emitted again after a Flink replay: counted once
 *   erin   window 03-01 00:00, the first of yesterday (dt=2025-03-01)
 *   frank  window 02-28 23:59, ending in dt=2025-03-01, a partition the speed view reads: its day is
 *          closed and owned by the batch view, so not in the speed view
 *   old    window 02-26 in dt=2025-02-26: outside the partitions the speed view reads
 *   plus a record whose value is not JSON, in today's partition
 */
const RECORDS: CountRecord[] = [
  windowRecord(10, '2025-03-02 00:00:10', 'alice', '2025-03-01 23:59:00', 2),
  windowRecord(11, '2025-03-02 00:01:10', 'alice', '2025-03-02 00:00:00', 1),
  windowRecord(12, '2025-03-02 00:01:40', 'alice', '2025-03-02 00:00:00', 2),
  runningRecord(13, '2025-03-02 00:01:30', 'alice', 17),
  windowRecord(14, '2025-03-02 00:04:10', 'bob', '2025-03-02 00:03:00', 3),
  windowRecord(14, '2025-03-02 00:04:10', 'bob', '2025-03-02 00:03:00', 3),
  windowRecord(15, '2025-03-02 00:04:10', 'bob', '2025-03-02 00:03:00', 3),
  windowRecord(3, '2025-03-01 12:01:10', 'dave', '2025-03-01 12:00:00', 4, { partition: 1 }),
  windowRecord(9, '2025-03-02 00:05:00', 'dave', '2025-03-01 12:00:00', 4, { partition: 1 }),
  windowRecord(1, '2025-03-01 00:01:10', 'erin', '2025-03-01 00:00:00', 1, { partition: 2 }),
  windowRecord(2, '2025-03-01 00:00:10', 'frank', '2025-02-28 23:59:00', 7, { partition: 2 }),
  windowRecord(0, '2025-02-26 10:01:10', 'old', '2025-02-26 10:00:00', 9, { partition: 2 }),
  { offset: 16, at: '2025-03-02 00:06:00', value: 'not json' },
];

/** Gold: 02-28 closed; 02-20 is older than batchDays (3); 03-02 was reported by hand mid-day (must be ignored). */
const GOLD_DAYS: GoldDay[] = [
  { date: '2025-02-20', users: { ancient: 1 } },
  { date: '2025-02-28', users: { alice: 5, frank: 7 } },
  { date: '2025-03-02', users: { alice: 1 } },
];

const TODAY = '2025-03-02';
const bySortKey = 'ORDER BY login_date, user_id';

describe('serving views on DuckDB', () => {
  describe('ten minutes after midnight, before the daily report closes yesterday', () => {
    let lake: Lake;
    beforeAll(async () => {
      lake = await Lake.create(RECORDS, GOLD_DAYS, TODAY);
    });
    afterAll(() => lake?.close());

    it('wrote the lake as Hive-partitioned Parquet files', () => {
      expect(fs.existsSync(path.join(lake.root, 'kafka/logins_counts/dt=2025-03-02/hr=00'))).toBe(true);
      expect(fs.existsSync(path.join(lake.root, 'kafka/logins_counts/dt=2025-03-01/hr=00'))).toBe(true);
      expect(fs.existsSync(path.join(lake.root, 'reports/daily_active_users/report_date=2025-02-28'))).toBe(true);
    });

    it('speed view: the latest count of each window, by event day, yesterday and today only', async () => {
      expect(
        await lake.query(
          `SELECT login_date, CAST(window_start AS VARCHAR) AS window_start, user_id, logins FROM ${GOLD}.speed_login_counts ORDER BY window_start, user_id`,
        ),
      ).toEqual([
        { login_date: '2025-03-01', window_start: '2025-03-01 00:00:00', user_id: 'erin', logins: 1 },
        { login_date: '2025-03-01', window_start: '2025-03-01 12:00:00', user_id: 'dave', logins: 4 },
        { login_date: '2025-03-01', window_start: '2025-03-01 23:59:00', user_id: 'alice', logins: 2 },
        { login_date: '2025-03-02', window_start: '2025-03-02 00:00:00', user_id: 'alice', logins: 2 },
        { login_date: '2025-03-02', window_start: '2025-03-02 00:03:00', user_id: 'bob', logins: 3 },
      ]);
    });

    it('speed view: a late event replaces the window count instead of adding to it', async () => {
      const [row] = await lake.query(
        `SELECT logins, CAST(emitted_at AS VARCHAR) AS emitted_at, CAST(window_end AS VARCHAR) AS window_end FROM ${GOLD}.speed_login_counts WHERE user_id = 'alice' AND login_date = '2025-03-02'`,
      );
      expect(row).toEqual({ logins: 2, emitted_at: '2025-03-02 00:01:40', window_end: '2025-03-02 00:01:00' });
    });

    it('batch view: closed days inside batchDays only (not the partial report of today, not 02-20)', async () => {
      expect(await lake.query(`SELECT * FROM ${GOLD}.batch_logins_per_user_per_day ${bySortKey}`)).toEqual([
        { login_date: '2025-02-28', user_id: 'alice', logins: 5 },
        { login_date: '2025-02-28', user_id: 'frank', logins: 7 },
      ]);
    });

    it('serving view: batch for the closed day, speed for yesterday (not closed yet) and today', async () => {
      expect(await lake.query(`SELECT * FROM ${GOLD}.serving_logins_per_user_per_day ${bySortKey}`)).toEqual([
        { login_date: '2025-02-28', user_id: 'alice', logins: 5, layer: 'batch' },
        { login_date: '2025-02-28', user_id: 'frank', logins: 7, layer: 'batch' },
        { login_date: '2025-03-01', user_id: 'alice', logins: 2, layer: 'speed' },
        { login_date: '2025-03-01', user_id: 'dave', logins: 4, layer: 'speed' },
        { login_date: '2025-03-01', user_id: 'erin', logins: 1, layer: 'speed' },
        { login_date: '2025-03-02', user_id: 'alice', logins: 2, layer: 'speed' },
        { login_date: '2025-03-02', user_id: 'bob', logins: 3, layer: 'speed' },
      ]);
    });

    it('each view returns exactly the columns and types its Glue definition declares', async () => {
      const duckType: Record<string, string> = { varchar: 'VARCHAR', bigint: 'BIGINT', timestamp: 'TIMESTAMP' };
      for (const spec of SERVING_VIEWS) {
        expect(await lake.columnTypes(`${GOLD}.${spec.name}`)).toEqual(spec.columns.map((c) => [c.name, duckType[c.prestoType]]));
      }
    });
  });

  describe('after the daily report closed 2025-03-01', () => {
    let lake: Lake;
    beforeAll(async () => {
      // The batch layer counted alice's event that arrived after Flink's lateness bound (3, not 2).
      lake = await Lake.create(RECORDS, [...GOLD_DAYS, { date: '2025-03-01', users: { alice: 3, dave: 4, erin: 1 } }], TODAY);
    });
    afterAll(() => lake?.close());

    it('serving view takes 2025-03-01 from the batch view, corrected for the event too late for Flink', async () => {
      expect(
        await lake.query(
          `SELECT login_date, layer, SUM(logins) AS logins FROM ${GOLD}.serving_logins_per_user_per_day GROUP BY login_date, layer ORDER BY login_date`,
        ),
      ).toEqual([
        { login_date: '2025-02-28', layer: 'batch', logins: 12 },
        { login_date: '2025-03-01', layer: 'batch', logins: 8 },
        { login_date: '2025-03-02', layer: 'speed', logins: 5 },
      ]);
    });
  });

  describe('while the daily report is writing 2025-03-01 (per-user rows there, daily_active_users not yet)', () => {
    let lake: Lake;
    beforeAll(async () => {
      lake = await Lake.create(RECORDS, [...GOLD_DAYS, { date: '2025-03-01', users: { alice: 3 }, closed: false }], TODAY);
    });
    afterAll(() => lake?.close());

    it('keeps 2025-03-01 on the speed view, so no day is counted twice or half', async () => {
      const rows = await lake.query(
        `SELECT layer, SUM(logins) AS logins FROM ${GOLD}.serving_logins_per_user_per_day WHERE login_date = '2025-03-01' GROUP BY layer`,
      );
      expect(rows).toEqual([{ layer: 'speed', logins: 7 }]);
    });
  });

  describe('at 23:59:59 and at midnight', () => {
    it('the day boundary is UTC midnight of the event time: the 23:59 window stays on its day after midnight', async () => {
      const records = [
        windowRecord(1, '2025-03-01 23:59:30', 'alice', '2025-03-01 23:58:00', 1),
        windowRecord(2, '2025-03-02 00:00:10', 'alice', '2025-03-01 23:59:00', 1),
      ];
      const before = await Lake.create(records, [], '2025-03-01');
      const after = await Lake.create(records, [], '2025-03-02');
      try {
        const today = (lake: Lake, day: string) =>
          lake.query(`SELECT CAST(SUM(logins) AS BIGINT) AS logins FROM ${GOLD}.serving_logins_per_user_per_day WHERE login_date = '${day}'`);
        // The 23:59 window ends at midnight, so it sits in silver's 03-02 partition: still counted for 03-01, on 03-01 and after.
        expect(await today(before, '2025-03-01')).toEqual([{ logins: 2 }]);
        expect(await today(after, '2025-03-01')).toEqual([{ logins: 2 }]);
        expect(await today(after, '2025-03-02')).toEqual([{ logins: null }]);
      } finally {
        before.close();
        after.close();
      }
    });
  });

  describe('pseudonymous dashboards (gdpr.dashboardUserIdentity: pseudonymous)', () => {
    let plain: Lake;
    let pseudonymous: Lake;
    beforeAll(async () => {
      plain = await Lake.create(RECORDS, GOLD_DAYS, TODAY);
      pseudonymous = await Lake.create(RECORDS, GOLD_DAYS, TODAY, 3, 'pseudonymous');
    });
    afterAll(() => {
      plain?.close();
      pseudonymous?.close();
    });

    it('every view shows user_ref where the plain views show user_id, with the same counts', async () => {
      for (const spec of SERVING_VIEWS) {
        const expected = (await plain.query(`SELECT * FROM ${GOLD}.${spec.name}`)).map(({ user_id, ...rest }) => ({
          ...rest,
          user_ref: userRef(String(user_id)),
        }));
        const actual = await pseudonymous.query(`SELECT * FROM ${GOLD}.${spec.name}`);
        const key = (row: Row) => JSON.stringify(Object.entries(row).sort());
        expect(actual.map(key).sort()).toEqual(expected.map(key).sort());
        expect(actual.length).toBeGreaterThan(0);
      }
    });

    it('no view selects user_id, and each returns exactly its declared columns', async () => {
      const duckType: Record<string, string> = { varchar: 'VARCHAR', bigint: 'BIGINT', timestamp: 'TIMESTAMP' };
      for (const spec of servingViewSpecs('pseudonymous')) {
        const columns = await pseudonymous.columnTypes(`${GOLD}.${spec.name}`);
        expect(columns.map(([name]) => name)).not.toContain('user_id');
        expect(columns).toEqual(spec.columns.map((c) => [c.name, duckType[c.prestoType]]));
      }
    });

    it('the speed view does not read the user id from the record value', () => {
      const sql = renderServingSql(servingSqlTemplate(SERVING_VIEWS[0]!), {
        silverDatabase: SILVER,
        goldDatabase: GOLD,
        today: ATHENA_TODAY,
        batchDays: 3,
        userIdentity: 'pseudonymous',
      });
      expect(sql).not.toMatch(/user_id/);
    });

    it('the Spark jobs compute the same user_ref as these fixtures (jobs/spark/lakestream_spark/user_ref.py)', () => {
      const script = 'import sys; from lakestream_spark.user_ref import user_ref; print(user_ref(sys.argv[1].encode(), sys.argv[2]))';
      const fromPython = execFileSync('python3', ['-c', script, USER_REF_TEST_KEY, 'alice'], {
        cwd: path.join(__dirname, '..', '..', 'jobs', 'spark'),
        encoding: 'utf8',
      }).trim();
      expect(fromPython).toBe(userRef('alice'));
      expect(fromPython).toMatch(/^[0-9a-f]{32}$/);
    });
  });

  describe('first run', () => {
    it('every view is empty, not an error, before the first record and the first report', async () => {
      const lake = await Lake.create([], [], TODAY);
      try {
        for (const spec of SERVING_VIEWS) expect(await lake.query(`SELECT * FROM ${GOLD}.${spec.name}`)).toEqual([]);
      } finally {
        lake.close();
      }
    });
  });
});

describe('serving SQL rendering and grammar', () => {
  const parser = new TrinoSQL();
  const athena = SERVING_VIEWS.map((spec) => ({
    spec,
    sql: renderServingSql(servingSqlTemplate(spec), {
      silverDatabase: 'lakestream_dev_silver',
      goldDatabase: 'lakestream_dev_gold',
      today: ATHENA_TODAY,
      batchDays: 3650,
    }),
  }));

  it.each(athena.map((a) => [a.spec.name, a.sql] as const))('%s parses as Trino SQL at the largest batchDays the schema allows', (_name, sql) => {
    expect(parser.validate(sql)).toEqual([]);
  });

  it('the grammar check is not vacuous: a broken view text is reported', () => {
    expect(parser.validate(athena[0]!.sql.replace('FROM versions', 'FROM'))).not.toEqual([]);
  });

  it('Athena and DuckDB run the same text except for the current date', () => {
    for (const spec of SERVING_VIEWS) {
      const params = { silverDatabase: 's', goldDatabase: 'g', batchDays: 5 };
      const inAthena = renderServingSql(servingSqlTemplate(spec), { ...params, today: ATHENA_TODAY });
      const inTest = renderServingSql(servingSqlTemplate(spec), { ...params, today: "DATE '2025-03-02'" });
      expect(inAthena.split(`(${ATHENA_TODAY})`).join("(DATE '2025-03-02')")).toBe(inTest);
      expect(inAthena).not.toMatch(/\$\{|^--/);
    }
  });

  it('reads partition columns only through filters: every source relation is filtered on dt or report_date', () => {
    const byRelation: Record<string, RegExp> = {
      kafka_logins_counts: /WHERE dt BETWEEN/,
      logins_per_user_per_day: /WHERE l\.report_date BETWEEN/,
      daily_active_users: /WHERE d\.report_date BETWEEN/,
    };
    for (const { sql } of athena) {
      for (const [relation, filter] of Object.entries(byRelation)) {
        const reads = sql.split(`."${relation}"`).length - 1;
        if (reads === 0) continue;
        // Each read is followed by its partition filter before the next FROM.
        const after = sql
          .split(`."${relation}"`)
          .slice(1)
          .map((rest) => rest.split(/\bFROM\b/)[0]!);
        for (const segment of after) expect(segment).toMatch(filter);
      }
    }
  });

  it('reads only fields the login-count contract defines, and its window kind', () => {
    const contract = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'jobs', 'contracts', 'login-count-event.schema.json'), 'utf8')) as {
      properties: Record<string, { enum?: string[] }>;
      required: string[];
    };
    const speed = athena.find((a) => a.spec.name === 'speed_login_counts')!.sql;
    const fields = [...speed.matchAll(/json_extract_scalar\(value, '\$\.(\w+)'\)/g)].map((m) => m[1]!);
    expect(new Set(fields)).toEqual(new Set(['user_id', 'window_start', 'window_end', 'login_count', 'emitted_at', 'kind']));
    expect(fields.filter((f) => !(f in contract.properties))).toEqual([]);
    expect(contract.properties.kind!.enum).toContain('window');
    expect(speed).toContain("= 'window'");
  });

  it('rejects unknown placeholders, unsafe database names and a bad batchDays', () => {
    const params = { silverDatabase: 's', goldDatabase: 'g', today: ATHENA_TODAY, batchDays: 1 };
    expect(() => renderServingSql('SELECT ${todya}', params)).toThrow(/unknown placeholder \$\{todya\}/);
    expect(() => renderServingSql('SELECT 1', { ...params, goldDatabase: 'gold"; DROP' })).toThrow(/goldDatabase must be lower-case/);
    expect(() => renderServingSql('SELECT 1', { ...params, batchDays: 0 })).toThrow(/batchDays must be a positive whole number/);
  });
});
