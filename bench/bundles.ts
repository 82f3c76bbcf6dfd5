import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { LAMBDA_BUNDLE_OPTIONS } from '../lib/constructs/core/lambda-bundles';

/**
 * Bundle size and cold module-load time of every Lambda handler, bundled exactly as
 * LakestreamFunction bundles it (minified CJS for Node 22, ESM builds of the SDK preferred, SDK
 * bundled). Load time is the median of several fresh `node` processes each requiring the bundle.
 */
const root = path.join(__dirname, '..');
const functionsDir = path.join(root, 'lib', 'functions');
const runs = Number(process.env.BUNDLE_BENCH_RUNS ?? 7);
const KAFKA_TARGET = { bytes: 700 * 1024, ms: 150 };
const SDK_TARGET = { bytes: 400 * 1024, ms: 100 };

/**
 * Variables that handlers validate at module load (cold start): without them the require fails and
 * no load time is measured. Placeholders only; nothing is called.
 */
const PROBE_ENVIRONMENT: Record<string, Record<string, string>> = {
  'ga4-ingest': {
    GA4_PROPERTY_ID: '123456789',
    GA4_CREDENTIALS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:ga4-AbCdEf',
    HIGH_WATER_MARK_PARAMETER: '/lakestream/bench/ga4/high-water-mark',
    BOOTSTRAP_BROKERS: 'b-1.bench.kafka.eu-west-1.amazonaws.com:9098',
    RAW_TOPIC: 'logins.raw',
    DLQ_TOPIC: 'logins.raw.dlq',
  },
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-bundles-'));
const rows: string[] = [];
for (const name of fs.readdirSync(functionsDir).sort()) {
  const entry = path.join(functionsDir, name, 'index.ts');
  if (!fs.existsSync(entry)) continue;
  const outfile = path.join(outRoot, name, 'index.js');
  const result = buildSync({
    ...LAMBDA_BUNDLE_OPTIONS,
    entryPoints: [entry],
    outfile,
    metafile: true,
  });
  const bytes = fs.statSync(outfile).size;
  const usesKafka = Object.keys(result.metafile.inputs).some((input) => input.includes('node_modules/kafkajs/'));
  const times: number[] = [];
  let failure: string | undefined;
  for (let i = 0; i < runs; i++) {
    const probe = spawnSync(
      process.execPath,
      ['-e', `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`],
      {
        encoding: 'utf8',
        env: { ...process.env, AWS_REGION: 'eu-west-1', AWS_LAMBDA_FUNCTION_NAME: name, ...PROBE_ENVIRONMENT[name] },
      },
    );
    if (probe.status === 0) times.push(Number(probe.stdout));
    else failure ??= /^\w*Error: .*$/m.exec(probe.stderr)?.[0] ?? `exit ${probe.status}`;
  }
  const target = usesKafka ? KAFKA_TARGET : SDK_TARGET;
  const ms = times.length ? median(times) : NaN;
  const verdict = bytes <= target.bytes && ms <= target.ms ? 'ok' : 'OVER';
  rows.push(
    `${name.padEnd(26)} ${(bytes / 1024).toFixed(0).padStart(6)} KB ${ms.toFixed(0).padStart(5)} ms  ${usesKafka ? 'kafkajs' : 'sdk-only'}  target ${target.bytes / 1024} KB / ${target.ms} ms  ${verdict}${failure ? `  (load failed: ${failure.slice(0, 160)})` : ''}`,
  );
}
fs.rmSync(outRoot, { recursive: true, force: true });
console.log(`Lambda bundles (minified, SDK bundled; load = median of ${runs} cold requires):`);
for (const row of rows) console.log(`  ${row}`);
