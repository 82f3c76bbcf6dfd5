import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * `npm run bench`: the numbers the issues ask for, measured on this machine.
 *   - synth of every environment: wall time (process start to exit) and peak RSS
 *   - the whole jest suite: wall time
 *   - every Lambda's bundle size and cold module-load time (bench/bundles.ts)
 *   - the file-replay throughput benchmark (bench/replay.ts)
 * Pass `--skip-tests` to skip the suite, `--only=synth|tests|bundles|replay` to run one part.
 */
const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const want = (part: string) => !only || only === part;
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function timed(command: string, commandArgs: string[]): { seconds: number; stdout: string; status: number | null } {
  const started = process.hrtime.bigint();
  const run = spawnSync(command, commandArgs, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0' } });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.status !== 0) process.stderr.write(run.stderr);
  return { seconds, stdout: run.stdout, status: run.status };
}

if (want('synth')) {
  // Warm-up run fills the OS file cache and esbuild's first start; the second is reported.
  timed(tsx, [path.join(__dirname, 'synth-child.ts'), 'all']);
  const run = timed(tsx, [path.join(__dirname, 'synth-child.ts'), 'all']);
  const inner = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { seconds: number; stacks: number; maxRssMiB: number };
  console.log(`synth all environments: ${inner.stacks} stacks, wall ${run.seconds.toFixed(1)} s (in-process synth ${inner.seconds.toFixed(1)} s), peak RSS ${inner.maxRssMiB.toFixed(0)} MiB  [target < 15 s]`);
}

if (want('tests') && !args.includes('--skip-tests')) {
  const run = timed(path.join(root, 'node_modules', '.bin', 'jest'), ['--silent']);
  console.log(`jest suite: wall ${run.seconds.toFixed(1)} s, exit ${run.status}  [target < 60 s]`);
}

if (want('bundles')) {
  const run = spawnSync(tsx, [path.join(__dirname, 'bundles.ts')], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) process.exitCode = 1;
}

if (want('replay') && fs.existsSync(path.join(__dirname, 'replay.ts'))) {
  const run = spawnSync(tsx, [path.join(__dirname, 'replay.ts')], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) process.exitCode = 1;
}
