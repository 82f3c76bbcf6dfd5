import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildApp, createApp } from '../lib/app/build-app';

/** Synthesizes every environment in this process and reports time and peak memory as JSON. */
const started = process.hrtime.bigint();
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-bench-'));
const app = createApp({ outdir, context: { env: process.argv[2] ?? 'all', account: '111111111111' } });
const stages = buildApp(app, { processEnv: {} });
const constructSeconds = Number(process.hrtime.bigint() - started) / 1e9;
app.synth();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const stacks = stages.reduce((n, s) => n + s.synth().stacks.length, 0);
fs.rmSync(outdir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ seconds, constructSeconds, stacks, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
