import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * `npm run bench`: the numbers the issues ask for, measured on this machine.
 *   - `npx cdk synth` of dev and of every environment: median wall time of 5, cold, warm, edited and one stack changed, against the goals
 *     (6 s and 9 s), and the in-process split of construction and synthesis, with peak RSS
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

function timed(command: string, commandArgs: string[], env: Record<string, string> = {}): { seconds: number; stdout: string; status: number | null } {
  const started = process.hrtime.bigint();
  const run = spawnSync(command, commandArgs, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0', ...env } });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.status !== 0) process.stderr.write(run.stderr);
  return { seconds, stdout: run.stdout, status: run.status };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

if (want('synth')) {
  // What an engineer waits for: `npx cdk synth` (CLI, app start, bundling, validation, cdk-nag), median
  // of 5 after a warm-up run that fills the OS file cache and the bundle cache (.cache/lambda-bundles).
  // Three figures, every check on in each:
  //   cold    as in a clean clone and CI: template validation, the Lambda bundles and the app bundle
  //           (bin/app-bundle.js) from scratch (LAKESTREAM_VALIDATION_CACHE=0, an empty
  //           LAKESTREAM_LAMBDA_BUNDLE_CACHE_DIR and LAKESTREAM_APP_CACHE_DIR); for dev also without the
  //           app bundle (LAKESTREAM_APP_BUNDLE=0: TypeScript through tsx), to show its share;
  //   warm    unchanged sources (cdk diff or deploy after a synth): every report from ValidationCache,
  //           and no validation engine started, since these sources were validated before;
  //   edited  a source file touched before each run: the engine starts, as after any edit, while the
  //           templates (unchanged here) still find their reports;
  //   one stack changed  as edited, and one template's report dropped before each run, as when an
  //           edit changes one stack (the developer loop of `cdk watch`).
  // Exactly the command the issue timed: npx (npm's own start, ~0.45 s here) in front of the CDK CLI.
  const npx = 'npx';
  const touchSource = () => {
    const now = new Date();
    fs.utimesSync(path.join(root, 'bin', 'lakestream.ts'), now, now);
  };
  for (const [label, context, goal] of [
    ['dev', [], 6],
    ['all environments', ['-c', 'env=all'], 9],
  ] as const) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-bench-synth-'));
    const appCache = path.join(root, '.cache', 'bench-app-bundle');
    const lambdaCache = path.join(root, '.cache', 'bench-lambda-bundles');
    const cacheless = { LAKESTREAM_VALIDATION_CACHE: '0', LAKESTREAM_APP_CACHE_DIR: appCache, LAKESTREAM_LAMBDA_BUNDLE_CACHE_DIR: lambdaCache };
    const noBuildCaches = () => {
      for (const dir of [appCache, lambdaCache]) fs.rmSync(dir, { recursive: true, force: true });
    };
    const synth = (env: Record<string, string> = {}, before?: () => void) => {
      before?.();
      return timed(npx, ['--no-install', 'cdk', 'synth', '--quiet', '-o', outdir, ...context], env);
    };
    synth(cacheless);
    // A scratch cache holding exactly this synth's reports, so one of them can be dropped per run.
    const scratch = { LAKESTREAM_VALIDATION_CACHE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-bench-validation-')) };
    const dropOneReport = () => {
      touchSource();
      const reports = fs.readdirSync(scratch.LAKESTREAM_VALIDATION_CACHE_DIR).filter((f) => f.endsWith('.json'));
      fs.rmSync(path.join(scratch.LAKESTREAM_VALIDATION_CACHE_DIR, reports.sort()[0]));
    };
    for (const [kind, env, before] of [
      ['cold', cacheless, noBuildCaches],
      ...(label === 'dev' ? ([['cold, TypeScript sources', { ...cacheless, LAKESTREAM_APP_BUNDLE: '0' }, noBuildCaches]] as const) : []),
      ['warm', scratch, undefined],
      ['edited', scratch, touchSource],
      ['one stack changed', scratch, dropOneReport],
    ] as const) {
      if (kind === 'warm') synth(scratch); // fills the validation cache
      const runs = [1, 2, 3, 4, 5].map(() => synth(env, before));
      const seconds = median(runs.map((r) => r.seconds));
      const failed = runs.some((r) => r.status !== 0);
      const verdict = ` [goal < ${goal} s] ${seconds < goal ? 'ok' : 'OVER'}${kind.startsWith('cold') ? ' (no validation, Lambda or app bundle cache, as in CI)' : ''}`;
      console.log(
        `cdk synth ${label}, ${kind}: median ${seconds.toFixed(1)} s of ${runs.map((r) => r.seconds.toFixed(1)).join(', ')}${failed ? ' FAILED' : verdict}`,
      );
      if (failed) process.exitCode = 1;
    }
    fs.rmSync(outdir, { recursive: true, force: true });
    noBuildCaches();
    fs.rmSync(scratch.LAKESTREAM_VALIDATION_CACHE_DIR, { recursive: true, force: true });
  }
  // In-process breakdown of every environment: constructing the app vs synthesis (validation, cdk-nag).
  const run = timed(tsx, [path.join(__dirname, 'synth-child.ts'), 'all']);
  const inner = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { seconds: number; constructSeconds: number; stacks: number; maxRssMiB: number };
  console.log(
    `synth all environments in-process: ${inner.stacks} stacks, construct ${inner.constructSeconds.toFixed(1)} s + synthesize ${(inner.seconds - inner.constructSeconds).toFixed(1)} s, wall ${run.seconds.toFixed(1)} s, peak RSS ${inner.maxRssMiB.toFixed(0)} MiB`,
  );
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
