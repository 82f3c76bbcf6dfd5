/**
 * Parses every statement the Flink job executes with a maintained Flink SQL grammar
 * (dt-sql-parser's FlinkSQL). The statements are rendered by the job's own Python
 * (login_sql.build_plan) at the smallest and largest values the configuration allows, so the text
 * parsed here is the text Managed Flink plans. Planner rules a grammar cannot see (interval
 * precision) are checked in jobs/flink/tests/test_sql_semantics.py.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { FlinkSQL } from 'dt-sql-parser';

const ROOT = path.join(__dirname, '..', '..');

/** Config values at the bounds of lib/config/schema.ts (flink.*) and job_config.py. */
const EXTREMES = {
  smallest: { window_minutes: 1, lateness_seconds: 0, watermark_seconds: 0, idle_timeout_seconds: 0, max_future_skew_seconds: 0 },
  defaults: {},
  awkward: { window_minutes: 7, lateness_seconds: 61, watermark_seconds: 101, idle_timeout_seconds: 59, max_future_skew_seconds: 301 },
  largest: { window_minutes: 1440, lateness_seconds: 86400, watermark_seconds: 3600, idle_timeout_seconds: 3600, max_future_skew_seconds: 86400 },
} as const;

function renderStatements(overrides: Record<string, number>): string[] {
  const script = [
    'import json, sys',
    'from jobs.flink.login_counts.job_config import JobConfig',
    'from jobs.flink.login_counts.login_sql import build_statements',
    'overrides = json.loads(sys.argv[1])',
    'print(json.dumps(build_statements(JobConfig(bootstrap_servers=("b-1.msk.example:9098",), **overrides))))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, JSON.stringify(overrides)], { cwd: ROOT, encoding: 'utf8' })) as string[];
}

const parser = new FlinkSQL();

describe('Flink SQL of the login-counts job parses with the Flink grammar', () => {
  it.each(Object.entries(EXTREMES))('%s configuration', (_name, overrides) => {
    const statements = renderStatements(overrides);
    expect(statements).toHaveLength(9);
    const errors = statements.flatMap((statement) => parser.validate(statement).map((error) => `${error.message} in: ${statement.slice(0, 80)}`));
    expect(errors).toEqual([]);
  });

  it('the grammar rejects what Flink would not parse (so the test can fail)', () => {
    expect(parser.validate("SELECT COUNT(*) FROM t GROUP BY TUMBLE(ts, INTERVAL '5' MINUTES").length).toBeGreaterThan(0);
    expect(parser.validate('CREATE TEMPORARY TABLE t (`a` STRING METADATA FROM) WITH ()').length).toBeGreaterThan(0);
  });
});
