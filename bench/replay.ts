import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { RecordBatch } from '../lib/functions/file-replay/batcher';
import { FileByteSource } from '../lib/functions/file-replay/byte-source';
import type { CheckpointStore, RangeCheckpoint } from '../lib/functions/file-replay/checkpoint';
import { REPLAY_DEFAULTS } from '../lib/functions/file-replay/config';
import { planRanges } from '../lib/functions/file-replay/plan';
import type { RecordSink } from '../lib/functions/file-replay/record-sink';
import { replayRange } from '../lib/functions/file-replay/replay-range';
import { planStaged, stageGzip, type StagingTarget } from '../lib/functions/file-replay/stage';
import type { Compression, ReplayObject } from '../lib/functions/file-replay/types';
import { loginLine } from './lib/login-lines';

/**
 * File replay benchmark: `npx tsx bench/replay.ts`.
 *
 * Generates JSON-lines files of login events (about 200 bytes a line) of 100 MB and 1 GB, plain
 * and gzip, then for each file measures, each in a fresh child process so that peak RSS belongs to
 * one case only:
 * - baseline: read, (gunzip,) split lines, JSON.parse each — the least any replay must do;
 * - replay: the worker's real path (ranges as the planner cuts them, line splitter, parse, contract
 *   validation, envelope encoding, batching, checkpoint bookkeeping) into a sink that discards.
 * The Kafka producer (and its GZIP compression) is outside: it sits behind the RecordSink interface.
 *
 * Targets (exit code 1 when missed): replay >= 70% of the baseline's records/s for every file;
 * replay's peak RSS on 1 GB <= 110% of its peak RSS on 100 MB.
 *
 * Records/s is printed by wall clock and by CPU time (user + system, all threads). The ratio is
 * judged on CPU time: both paths are single-threaded apart from gunzip, and on a shared 2-core
 * machine wall time mostly measures the neighbours. Each case runs REPLAY_BENCH_REPEAT times
 * (default 5), alternating baseline and replay; each replay run is divided by the baseline run just
 * before it (both then saw the same neighbours), and the target is judged on the median of those
 * paired ratios, printed with their range: a range that straddles the target says "noise", a
 * median well below it with a tight range says "real work". Rates and RSS shown are the best run.
 *
 * Environment: REPLAY_BENCH_SIZES_MB (default "100,1000"), REPLAY_BENCH_REPEAT, REPLAY_BENCH_DIR
 * (reuse generated files there instead of a fresh temp dir that is removed afterwards).
 *
 * Gzip resume cost (REPLAY_BENCH_GZIP_RESUME=1): for each gzip file, the total CPU of replaying it
 * through invocations that each stop after REPLAY_BENCH_INVOCATION_MB of content (default 50, a
 * stand-in for a Lambda's time budget), two ways: unstaged (each invocation decompresses from the
 * top and skips what is committed: quadratic) and staged (decompress once into a plain copy, then
 * plain ranges that resume by ranged reads: linear). Sizes then default to "100,400".
 */
const MB = 1_000_000;
const RATIO_TARGET = 0.7;
const RSS_GROWTH_LIMIT = 1.1;

type Mode = 'baseline' | 'replay' | 'gzip-unstaged' | 'gzip-staged';

interface ChildRequest {
  readonly mode: Mode;
  readonly file: string;
  readonly compression: Compression;
}

interface Measurement {
  readonly records: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly maxRssMb: number;
}

interface BenchFile {
  readonly file: string;
  readonly sizeMb: number;
  readonly compression: Compression;
  readonly records: number;
}

async function main(): Promise<void> {
  if (process.env.REPLAY_BENCH_GZIP_RESUME === '1') return gzipResume();
  const sizes = (process.env.REPLAY_BENCH_SIZES_MB ?? '100,1000').split(',').map((size) => Number(size.trim()));
  const repeat = Math.max(1, Number(process.env.REPLAY_BENCH_REPEAT ?? 5));
  const keep = process.env.REPLAY_BENCH_DIR !== undefined;
  const dir = process.env.REPLAY_BENCH_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-replay-bench-'));
  fs.mkdirSync(dir, { recursive: true });
  try {
    const files: BenchFile[] = [];
    for (const sizeMb of sizes) files.push(...(await generate(dir, sizeMb)));
    console.log(`file replay benchmark: node ${process.version}, ${os.cpus().length} cpu(s), files in ${dir}`);
    console.log(
      pad(['file', 'records', 'baseline rec/s', 'replay rec/s', 'baseline cpu', 'replay cpu', 'cpu ratio med', 'ratio range', 'baseline RSS', 'replay RSS']),
    );
    const results: BenchResult[] = [];
    for (const file of files) {
      let baseline: Measurement | undefined;
      let replay: Measurement | undefined;
      const ratios: number[] = [];
      for (let run = 0; run < repeat; run++) {
        const pairedBaseline = await measure({ mode: 'baseline', file: file.file, compression: file.compression });
        const pairedReplay = await measure({ mode: 'replay', file: file.file, compression: file.compression });
        ratios.push(perCpuSecond(pairedReplay) / perCpuSecond(pairedBaseline));
        baseline = best(baseline, pairedBaseline);
        replay = best(replay, pairedReplay);
      }
      ratios.sort((a, b) => a - b);
      const ratio = ratios[Math.floor(ratios.length / 2)];
      if (!baseline || !replay) throw new Error('nothing measured');
      for (const [mode, m] of [
        ['baseline', baseline],
        ['replay', replay],
      ] as const) {
        if (m.records !== file.records) throw new Error(`${mode} on ${path.basename(file.file)} saw ${m.records} records, generated ${file.records}`);
      }
      results.push({ ...file, baseline, replay, ratio });
      console.log(
        pad([
          `${file.sizeMb} MB ${file.compression === 'gzip' ? 'gzip' : 'plain'}`,
          String(file.records),
          rate(baseline.records / baseline.seconds),
          rate(replay.records / replay.seconds),
          rate(perCpuSecond(baseline)),
          rate(perCpuSecond(replay)),
          ratio.toFixed(2),
          `${ratios[0].toFixed(2)}-${ratios[ratios.length - 1].toFixed(2)}`,
          `${baseline.maxRssMb.toFixed(0)} MB`,
          `${replay.maxRssMb.toFixed(0)} MB`,
        ]),
      );
    }
    const failures = checkTargets(results);
    if (failures.length > 0) {
      console.log(`\nTARGETS MISSED:\n  ${failures.join('\n  ')}`);
      process.exitCode = 1;
    } else {
      console.log(`\nAll targets met (ratio >= ${RATIO_TARGET}, 1 GB RSS <= ${RSS_GROWTH_LIMIT} x 100 MB RSS).`);
    }
  } finally {
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Total CPU of replaying gzip files with resumes, unstaged versus staged (see the header). */
async function gzipResume(): Promise<void> {
  const sizes = (process.env.REPLAY_BENCH_SIZES_MB ?? '100,400').split(',').map((size) => Number(size.trim()));
  const keep = process.env.REPLAY_BENCH_DIR !== undefined;
  const dir = process.env.REPLAY_BENCH_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-replay-bench-'));
  fs.mkdirSync(dir, { recursive: true });
  try {
    console.log(`gzip resume benchmark: node ${process.version}, ${INVOCATION_MB} MB of content per invocation`);
    console.log(pad(['file', 'records', 'gzip MB', 'unstaged cpu', 'staged cpu', 'unstaged/MB', 'staged/MB']));
    for (const sizeMb of sizes) {
      const file = (await generate(dir, sizeMb)).find((f) => f.compression === 'gzip')!;
      const unstaged = await measure({ mode: 'gzip-unstaged', file: file.file, compression: 'gzip' });
      const staged = await measure({ mode: 'gzip-staged', file: file.file, compression: 'gzip' });
      for (const m of [unstaged, staged]) if (m.records !== file.records) throw new Error(`saw ${m.records} records, generated ${file.records}`);
      const gzipMb = fs.statSync(file.file).size / MB;
      console.log(
        pad([
          `${sizeMb} MB gzip`,
          String(file.records),
          gzipMb.toFixed(1),
          `${unstaged.cpuSeconds.toFixed(1)} s`,
          `${staged.cpuSeconds.toFixed(1)} s`,
          `${((unstaged.cpuSeconds / sizeMb) * 1000).toFixed(0)} ms`,
          `${((staged.cpuSeconds / sizeMb) * 1000).toFixed(0)} ms`,
        ]),
      );
    }
  } finally {
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

const INVOCATION_MB = Number(process.env.REPLAY_BENCH_INVOCATION_MB ?? 50);

/** Replays every range through invocations of at most INVOCATION_MB of content each; returns records sent. */
async function replayInInvocations(source: FileByteSource, object: ReplayObject, ranges: ReturnType<typeof planRanges>): Promise<number> {
  const sink = new CountingSink();
  const checkpoints = new MemoryCheckpoints();
  for (const range of ranges) {
    for (;;) {
      const startBytes = sink.bytes;
      const outcome = await replayRange(
        { object, range },
        {
          source,
          sink,
          checkpoints,
          quarantine: { write: async () => undefined },
          settings: REPLAY_DEFAULTS,
          shouldStop: () => sink.bytes - startBytes >= INVOCATION_MB * MB,
        },
      );
      if (outcome.done) break;
    }
  }
  return sink.records;
}

async function gzipResumeChild(request: ChildRequest): Promise<number> {
  const size = fs.statSync(request.file).size;
  const object: ReplayObject = { bucket: 'bench-landing', key: path.basename(request.file), etag: 'bench', size, format: 'jsonl', compression: 'gzip' };
  const gzipRanges = planRanges({
    compression: 'gzip',
    size,
    contentStart: 0,
    firstLineNumber: 1,
    rangeSizeBytes: REPLAY_DEFAULTS.rangeSizeBytes,
    maxRanges: REPLAY_DEFAULTS.maxRanges,
  });
  if (request.mode === 'gzip-unstaged') return replayInInvocations(new FileByteSource(request.file), object, gzipRanges);
  const stagedFile = `${request.file}.staged-${process.pid}`;
  try {
    const target = new LocalStagingTarget(stagedFile);
    const staged = await stageGzip(new FileByteSource(request.file), object, target, { partBytes: 64 * 1024 * 1024, shouldStop: () => false });
    const plan = planStaged({ object, ranges: gzipRanges, skippedReason: null, needsStaging: true }, staged, 'staged', {
      rangeSizeBytes: REPLAY_DEFAULTS.rangeSizeBytes,
      maxRanges: REPLAY_DEFAULTS.maxRanges,
    });
    return await replayInInvocations(new FileByteSource(stagedFile), plan.object!, plan.ranges);
  } finally {
    fs.rmSync(stagedFile, { force: true });
  }
}

/** Appends parts to a local file, as the multipart upload assembles them in S3. */
class LocalStagingTarget implements StagingTarget {
  private fd = -1;
  constructor(private readonly file: string) {}
  async begin(): Promise<void> {
    this.fd = fs.openSync(this.file, 'w');
  }
  async uploadPart(_partNumber: number, body: Buffer): Promise<void> {
    fs.writeSync(this.fd, body);
  }
  async complete(): Promise<string> {
    fs.closeSync(this.fd);
    return 'staged';
  }
  async abort(): Promise<void> {
    if (this.fd >= 0) fs.closeSync(this.fd);
  }
}

type BenchResult = BenchFile & { baseline: Measurement; replay: Measurement /** Median of the paired CPU ratios. */; ratio: number };

function checkTargets(results: BenchResult[]): string[] {
  const failures: string[] = [];
  for (const result of results) {
    const ratio = result.ratio;
    if (ratio < RATIO_TARGET)
      failures.push(`${result.sizeMb} MB ${result.compression}: replay at ${(ratio * 100).toFixed(0)}% of baseline (target ${RATIO_TARGET * 100}%)`);
  }
  for (const compression of ['none', 'gzip'] as const) {
    const bySize = results.filter((r) => r.compression === compression).sort((a, b) => a.sizeMb - b.sizeMb);
    if (bySize.length < 2) continue;
    const small = bySize[0];
    const large = bySize[bySize.length - 1];
    const growth = large.replay.maxRssMb / small.replay.maxRssMb;
    // The baseline's own growth is context: it shows what the runtime (GC timing, zlib) adds by itself.
    const baselineGrowth = large.baseline.maxRssMb / small.baseline.maxRssMb;
    console.log(
      `peak RSS ${compression === 'gzip' ? 'gzip' : 'plain'}: ${large.sizeMb} MB / ${small.sizeMb} MB = ${growth.toFixed(3)} (baseline ${baselineGrowth.toFixed(3)})`,
    );
    if (growth > RSS_GROWTH_LIMIT)
      failures.push(
        `${compression}: peak RSS grew ${((growth - 1) * 100).toFixed(1)}% from ${small.sizeMb} MB to ${large.sizeMb} MB (limit ${((RSS_GROWTH_LIMIT - 1) * 100).toFixed(0)}%)`,
      );
  }
  return failures;
}

/** Writes `<size>mb.jsonl` and its gzip copy once; a sidecar remembers the record count. */
async function generate(dir: string, sizeMb: number): Promise<BenchFile[]> {
  const plain = path.join(dir, `logins-${sizeMb}mb.jsonl`);
  const gzip = `${plain}.gz`;
  const meta = `${plain}.meta.json`;
  if (!(fs.existsSync(meta) && fs.existsSync(gzip))) {
    const started = Date.now();
    const target = sizeMb * MB;
    const fd = fs.openSync(plain, 'w');
    let written = 0;
    let records = 0;
    while (written < target) {
      const lines: string[] = [];
      for (let i = 0; i < 10_000 && written < target; i++) {
        const line = `${loginLine(records++)}\n`;
        lines.push(line);
        written += line.length;
      }
      fs.writeSync(fd, lines.join(''));
    }
    fs.closeSync(fd);
    await pipeline(fs.createReadStream(plain), createGzip({ level: 1 }), fs.createWriteStream(gzip));
    fs.writeFileSync(meta, JSON.stringify({ records }));
    console.log(`generated ${sizeMb} MB (${records} records) in ${((Date.now() - started) / 1000).toFixed(1)} s (not measured)`);
  }
  const { records } = JSON.parse(fs.readFileSync(meta, 'utf8')) as { records: number };
  return [
    { file: plain, sizeMb, compression: 'none', records },
    { file: gzip, sizeMb, compression: 'gzip', records },
  ];
}

function measure(request: ChildRequest): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--child', JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    child.on('message', (message) => resolve(message as Measurement));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${request.mode} child for ${request.file} exited with ${code}`));
    });
  });
}

/** Lower CPU time wins; peak RSS is kept from the same run. */
function best(current: Measurement | undefined, candidate: Measurement): Measurement {
  return !current || candidate.cpuSeconds < current.cpuSeconds ? candidate : current;
}

/**
 * Throughput is a steady-state number (a warm Lambda works through range after range), so each
 * child first runs its path over the file's first ~100k records to let V8 optimise it; cold start
 * is measured separately (bundle load time).
 */
const WARMUP_RECORDS = 100_000;

async function runChild(request: ChildRequest): Promise<void> {
  if (request.mode === 'gzip-unstaged' || request.mode === 'gzip-staged') {
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const records = await gzipResumeChild(request);
    const cpu = process.cpuUsage(cpuBefore);
    process.send?.({
      records,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    } satisfies Measurement);
    return;
  }
  if (request.mode === 'baseline') await baseline(request, WARMUP_RECORDS);
  else await replay(request, WARMUP_RECORDS);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const records = request.mode === 'baseline' ? await baseline(request) : await replay(request);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.send?.({ records, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMb } satisfies Measurement);
}

/** Read, split on newlines, JSON.parse: nothing else. */
async function baseline(request: ChildRequest, limit = Number.POSITIVE_INFINITY): Promise<number> {
  const raw = fs.createReadStream(request.file, { highWaterMark: 1024 * 1024 });
  const stream = request.compression === 'gzip' ? raw.pipe(createGunzip({ chunkSize: 256 * 1024 })) : raw;
  let records = 0;
  let carry: Buffer | undefined;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let position = 0;
    if (carry) {
      const newline = chunk.indexOf(0x0a);
      if (newline === -1) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      JSON.parse(Buffer.concat([carry, chunk.subarray(0, newline)]).toString('utf8'));
      records++;
      position = newline + 1;
      carry = undefined;
    }
    for (let newline = chunk.indexOf(0x0a, position); newline !== -1; newline = chunk.indexOf(0x0a, position)) {
      JSON.parse(chunk.toString('utf8', position, newline));
      records++;
      position = newline + 1;
    }
    if (position < chunk.length) carry = chunk.subarray(position);
    if (records >= limit) {
      raw.destroy();
      return records;
    }
  }
  if (carry && carry.length > 0) {
    JSON.parse(carry.toString('utf8'));
    records++;
  }
  return records;
}

/** The worker's path over every range the planner would cut, with a sink that only counts. */
async function replay(request: ChildRequest, limit = Number.POSITIVE_INFINITY): Promise<number> {
  const size = fs.statSync(request.file).size;
  const object: ReplayObject = {
    bucket: 'bench-landing',
    key: path.basename(request.file),
    etag: 'bench',
    size,
    format: 'jsonl',
    compression: request.compression,
  };
  const ranges = planRanges({
    compression: request.compression,
    size,
    contentStart: 0,
    firstLineNumber: 1,
    rangeSizeBytes: REPLAY_DEFAULTS.rangeSizeBytes,
    maxRanges: REPLAY_DEFAULTS.maxRanges,
  });
  const sink = new CountingSink();
  const checkpoints = new MemoryCheckpoints();
  let rejected = 0;
  for (const range of ranges) {
    const outcome = await replayRange(
      { object, range },
      {
        source: new FileByteSource(request.file),
        sink,
        checkpoints,
        quarantine: { write: async (_key, entries) => void (rejected += entries.length) },
        settings: REPLAY_DEFAULTS,
        shouldStop: () => sink.records >= limit,
      },
    );
    if (sink.records >= limit) return sink.records;
    if (!outcome.done) throw new Error(`range ${range.index} did not finish`);
  }
  if (rejected > 0) throw new Error(`${rejected} generated records were rejected`);
  return sink.records;
}

class CountingSink implements RecordSink {
  records = 0;
  bytes = 0;
  async send(batch: RecordBatch): Promise<void> {
    this.records += batch.records.length;
    this.bytes += batch.bytes;
  }
  async flush(): Promise<void> {}
}

class MemoryCheckpoints implements CheckpointStore {
  private readonly saved = new Map<string, RangeCheckpoint>();
  async load(key: string): Promise<RangeCheckpoint | undefined> {
    return this.saved.get(key);
  }
  async save(key: string, checkpoint: RangeCheckpoint): Promise<void> {
    this.saved.set(key, checkpoint);
  }
}

function perCpuSecond(m: Measurement): number {
  return m.records / m.cpuSeconds;
}

function rate(recordsPerSecond: number): string {
  return `${(recordsPerSecond / 1000).toFixed(0)}k`;
}

function pad(cells: string[]): string {
  return cells.map((cell, index) => (index === 0 ? cell.padEnd(14) : cell.padStart(index === 1 ? 9 : 15))).join('');
}

if (process.argv[2] === '--child') {
  runChild(JSON.parse(process.argv[3]) as ChildRequest).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
