/**
 * One fixture set, every layer that validates login events: the TypeScript glue (file replay and GA4
 * ingest parse with JSON.parse and check with isLoginEvent/explainLoginEvent), and the per-record
 * functions the jobs run, given the fixture's bytes (jobs/contracts/cross_layer_verdicts.py, run here
 * with the system python3): the Flink job's UDF, the Spark streaming job's UDF and the Spark landing
 * job's JSON-line parse, all three through the Python validator generated from the same JSON Schema.
 * Every fixture must get the contract's verdict in every layer.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { explainLoginEvent, isLoginEvent } from '../../lib/contracts/login-event-validator';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURES = path.join(__dirname, 'fixtures', 'login-event-verdicts.json');

interface Fixture {
  readonly name: string;
  readonly text: string;
  readonly valid: boolean;
}

const fixtures = (JSON.parse(fs.readFileSync(FIXTURES, 'utf8')) as { fixtures: Fixture[] }).fixtures;

/** What the glue does with one line: JSON.parse, then the compiled contract check. */
function glueVerdict(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  const accepted = isLoginEvent(value);
  // The explainer is generated from the same schema; it must agree with the check.
  expect(explainLoginEvent(value) === undefined).toBe(accepted);
  return accepted;
}

const PYTHON_LAYERS = ['flink', 'spark_streaming', 'spark_landing'] as const;
type PythonLayer = (typeof PYTHON_LAYERS)[number];

describe('login-event verdicts across layers', () => {
  const python = JSON.parse(execFileSync('python3', ['-m', 'jobs.contracts.cross_layer_verdicts', FIXTURES], { cwd: ROOT, encoding: 'utf8' })) as Record<
    string,
    Record<PythonLayer, boolean>
  >;

  it('covers valid and invalid events of every kind', () => {
    expect(fixtures.filter((fixture) => fixture.valid).length).toBeGreaterThan(10);
    expect(fixtures.filter((fixture) => !fixture.valid).length).toBeGreaterThan(30);
    expect(new Set(fixtures.map((fixture) => fixture.name)).size).toBe(fixtures.length);
  });

  it.each(fixtures.map((fixture) => [fixture.name, fixture] as const))('%s', (_name, fixture) => {
    const verdicts = { glue: glueVerdict(fixture.text), ...python[fixture.name] };
    const expected = Object.fromEntries(['glue', ...PYTHON_LAYERS].map((layer) => [layer, fixture.valid]));
    expect(verdicts).toEqual(expected);
  });
});
