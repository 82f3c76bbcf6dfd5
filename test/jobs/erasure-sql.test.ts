import { createHmac } from 'node:crypto';
/**
 * Runs the erasure SQL (jobs/spark/sql/erase_*.sql, rendered per dataset by the Spark job's own
 * module `lakestream_spark.erasure`) on DuckDB against Parquet files this test writes, the way
 * erase_subjects.py runs it on Spark: find the rows of the people being erased, keep everyone
 * else's, write the kept rows as a new Parquet file. After erasure the people's rows are gone and
 * every other row is unchanged, value for value.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

const SPARK_JOBS_DIR = path.join(__dirname, '..', '..', 'jobs', 'spark');
type Rendered = Record<string, { tier: string; prefix: string; matching: string; kept: string }>;
const rendered = JSON.parse(execFileSync('python3', ['-m', 'lakestream_spark.erasure'], { cwd: SPARK_JOBS_DIR, encoding: 'utf8' })) as Rendered;

/** The people erased: 'ann', and an id with a quote and a JSON-escaped character. */
const SUBJECTS = ['ann', 'o"neil'];
const sql = (v: string | null) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`);
const json = (o: Record<string, unknown>) => JSON.stringify(o);

/** Rows per dataset as SQL VALUES, and which of them belong to a subject. */
/** user_ref values as the Spark jobs write them (HMAC-SHA256 of user_id under a test key, 32 hex characters). */
const REF: Record<string, string> = Object.fromEntries(
  ['ann', 'anna', 'annb', 'bob'].map((id) => [id, createHmac('sha256', 'k'.repeat(64)).update(id).digest('hex').slice(0, 32)]),
);

const DATASETS: Record<string, { columns: string; rows: Array<{ values: Array<string | number | boolean | null>; erased: boolean }> }> = {
  kafka_logins_raw: {
    columns: 'topic, kafka_partition, kafka_offset, key, value, event_id, user_id, is_valid',
    rows: [
      { values: ['logins.raw', 0, 1, 'ann', json({ user_id: 'ann', event_id: 'e1' }), 'e1', 'ann', true], erased: true },
      { values: ['logins.raw', 0, 2, 'anna', json({ user_id: 'anna', event_id: 'e2' }), 'e2', 'anna', true], erased: false },
      // Broke the contract, so no parsed user_id: the raw value still names ann.
      { values: ['logins.raw', 0, 3, null, json({ user_id: 'ann', event_time: 'yesterday' }), null, null, false], erased: true },
      { values: ['logins.raw', 1, 4, null, json({ user_id: 'o"neil' }), 'e4', 'o"neil', true], erased: true },
      { values: ['logins.raw', 1, 5, null, 'not json at all', null, null, false], erased: false },
      { values: ['logins.raw', 1, 6, 'bob', json({ user_id: 'bob', note: 'annex' }), 'e6', 'bob', true], erased: false },
    ],
  },
  // user_ref (the keyed pseudonym the jobs write for pseudonymous dashboards) goes with its row.
  kafka_logins_counts: {
    columns: 'topic, kafka_partition, kafka_offset, key, value, user_ref',
    rows: [
      { values: ['logins.counts', 0, 1, 'ann', json({ user_id: 'ann', kind: 'running', login_count: 3 }), REF.ann], erased: true },
      { values: ['logins.counts', 0, 2, 'ann|2024-01-07T08:00:00.000Z', json({ user_id: 'ann', kind: 'window', login_count: 1 }), REF.ann], erased: true },
      { values: ['logins.counts', 0, 3, 'anna|2024-01-07T08:00:00.000Z', json({ user_id: 'anna', kind: 'window', login_count: 2 }), REF.anna], erased: false },
      { values: ['logins.counts', 0, 4, 'annb', json({ user_id: 'annb', kind: 'running', login_count: 2 }), REF.annb], erased: false },
      // A tombstone of someone else: null value, kept.
      { values: ['logins.counts', 0, 5, 'carol', null, null], erased: false },
    ],
  },
  landing_logins: {
    columns: 'event_id, user_id, source, schema_version, source_file',
    rows: [
      { values: ['l1', 'ann', 'replay', 1, 'logins/a.csv'], erased: true },
      { values: ['l2', 'ANN', 'replay', 1, 'logins/a.csv'], erased: false },
      { values: ['l3', 'dave', 'cdc', 1, 'logins/b.csv'], erased: false },
      { values: ['l4', 'o"neil', 'cdc', 1, 'logins/b.csv'], erased: true },
    ],
  },
  quarantine_landing_logins: {
    columns: 'reject_code, reject_detail, raw_record, source_file',
    rows: [
      { values: ['bad_time', 'event_time unparseable', json({ user_id: 'ann', event_time: '??' }), 'logins/a.csv'], erased: true },
      { values: ['bad_time', 'event_time unparseable', json({ user_id: 'annie' }), 'logins/a.csv'], erased: false },
      { values: ['missing', 'user_id missing', json({ event_id: 'x' }), 'logins/c.csv'], erased: false },
      { values: ['bad_json', 'not JSON', '{"user_id": "ann", broken', 'logins/c.csv'], erased: true },
    ],
  },
  logins_per_user_per_day: {
    columns: 'user_id, logins, sources, user_ref',
    rows: [
      { values: ['ann', 4, 2, REF.ann], erased: true },
      { values: ['bob', 3, 1, REF.bob], erased: false },
      { values: [null, 1, 1, null], erased: false },
    ],
  },
  top_users: {
    columns: 'login_rank, user_id, logins, user_ref',
    rows: [
      { values: [1, 'ann', 4, REF.ann], erased: true },
      { values: [2, 'bob', 3, REF.bob], erased: false },
    ],
  },
};

describe('erasure SQL on DuckDB over Parquet', () => {
  let tmp: string;
  let instance: DuckDBInstance;
  let db: DuckDBConnection;

  async function rows(query: string): Promise<unknown[]> {
    return (await db.runAndReadAll(query)).getRowObjectsJson();
  }

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-erasure-'));
    instance = await DuckDBInstance.create(':memory:');
    db = await instance.connect();
    const subjects = SUBJECTS.map((id) => `(${sql(id)}, ${sql(JSON.stringify(id))})`).join(', ');
    await db.run(`CREATE TABLE erasure_subjects AS SELECT * FROM (VALUES ${subjects}) AS s(user_id, user_id_json)`);
  });

  afterAll(() => {
    db?.closeSync();
    instance?.closeSync();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('every dataset the Spark job erases is covered here', () => {
    expect(Object.keys(rendered).sort()).toEqual(Object.keys(DATASETS).sort());
  });

  test.each(Object.keys(DATASETS))('%s: the subjects rows are found, and a rewrite keeps everyone else byte for byte in value', async (name) => {
    const dataset = DATASETS[name]!;
    const original = path.join(tmp, `${name}.parquet`);
    const values = dataset.rows.map((r) => `(${r.values.map((v) => (typeof v === 'string' || v === null ? sql(v) : String(v))).join(', ')})`).join(', ');
    await db.run(`COPY (SELECT * FROM (VALUES ${values}) AS t(${dataset.columns})) TO '${original}' (FORMAT PARQUET)`);
    await db.run(`CREATE OR REPLACE VIEW erasure_target AS SELECT * FROM read_parquet('${original}')`);

    const all = await rows('SELECT * FROM erasure_target');
    const matching = await rows(rendered[name]!.matching);
    const expectedErased = all.filter((_, i) => dataset.rows[i]!.erased);
    const expectedKept = all.filter((_, i) => !dataset.rows[i]!.erased);
    expect(expectedErased.length).toBeGreaterThan(0);
    expect(matching).toEqual(expectedErased);

    // The rewrite: kept rows to a new Parquet file, read back.
    const rewritten = path.join(tmp, `${name}.rewritten.parquet`);
    await db.run(`COPY (${rendered[name]!.kept}) TO '${rewritten}' (FORMAT PARQUET)`);
    const after = await rows(`SELECT * FROM read_parquet('${rewritten}')`);
    expect(after).toEqual(expectedKept);
    const describe = async (file: string) => rows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`);
    expect(await describe(rewritten)).toEqual(await describe(original));

    // Idempotent: erasing the rewritten file again finds nothing.
    await db.run(`CREATE OR REPLACE VIEW erasure_target AS SELECT * FROM read_parquet('${rewritten}')`);
    expect(await rows(rendered[name]!.matching)).toEqual([]);
  });
});
