/**
 * Sizing of one Spark job on EMR Serverless: worker sizes and dynamic-allocation bounds, the
 * spark-submit `--conf` flags that request them, and the peak capacity a job can hold.
 *
 * Worker rules (EMR Serverless User Guide, "Supported worker configurations"): 1, 2, 4, 8 or 16 vCPU;
 * memory 2-8 GB (1 vCPU), 4-16 GB (2), 8-30 GB (4) in 1 GB steps, 16-60 GB (8) in 4 GB steps, 32-120 GB
 * (16) in 8 GB steps; disk 20-200 GB. A worker's memory is the Spark memory plus the memory overhead
 * (default 10 %, at least 384 MB), so the heap asked for is the worker memory less that overhead.
 */

/** One driver or executor worker. */
export interface SparkWorkerSize {
  /** vCPUs: 1, 2, 4, 8 or 16. */
  readonly cpu: number;
  /** Worker memory in GB (heap plus overhead), within the range of `cpu`. */
  readonly memoryGb: number;
  /** Local disk in GB, 20-200. */
  readonly diskGb: number;
}

/** Everything one job may hold: its driver and, with dynamic allocation, up to `maxExecutors` executors. */
export interface SparkJobSize {
  readonly driver: SparkWorkerSize;
  readonly executor: SparkWorkerSize;
  /** spark.dynamicAllocation.minExecutors. */
  readonly minExecutors: number;
  /** spark.dynamicAllocation.initialExecutors (between min and max). */
  readonly initialExecutors: number;
  /** spark.dynamicAllocation.maxExecutors: the cap that keeps a job from taking the whole application. */
  readonly maxExecutors: number;
}

/** CPU, memory and disk together. */
export interface SparkFootprint {
  readonly cpuVcpu: number;
  readonly memoryGb: number;
  readonly diskGb: number;
}

/** Memory range and step (GB) per worker vCPU count. */
export const WORKER_MEMORY_GB: Readonly<Record<number, { readonly min: number; readonly max: number; readonly step: number }>> = {
  1: { min: 2, max: 8, step: 1 },
  2: { min: 4, max: 16, step: 1 },
  4: { min: 8, max: 30, step: 1 },
  8: { min: 16, max: 60, step: 4 },
  16: { min: 32, max: 120, step: 8 },
};
export const WORKER_DISK_GB = { min: 20, max: 200 } as const;
const OVERHEAD_FACTOR = 0.1;
const MIN_OVERHEAD_MB = 384;

/** A broken sizing rule: the path of the field (relative to the size checked) and what is allowed. */
export interface SizeProblem {
  readonly path: string[];
  readonly message: string;
}

/** Problems of one worker size. */
export function workerSizeProblems(size: SparkWorkerSize): SizeProblem[] {
  const rule = WORKER_MEMORY_GB[size.cpu];
  if (!rule) return [{ path: ['cpu'], message: `must be one of ${Object.keys(WORKER_MEMORY_GB).join(', ')} vCPU (EMR Serverless worker sizes)` }];
  const problems: SizeProblem[] = [];
  if (size.memoryGb < rule.min || size.memoryGb > rule.max || (size.memoryGb - rule.min) % rule.step !== 0) {
    problems.push({ path: ['memoryGb'], message: `a ${size.cpu}-vCPU worker takes ${rule.min}-${rule.max} GB in steps of ${rule.step} GB` });
  }
  if (!Number.isInteger(size.diskGb) || size.diskGb < WORKER_DISK_GB.min || size.diskGb > WORKER_DISK_GB.max) {
    problems.push({ path: ['diskGb'], message: `must be ${WORKER_DISK_GB.min}-${WORKER_DISK_GB.max} GB per worker` });
  }
  return problems;
}

/** Problems of a job size: both workers, and min <= initial <= max executors. */
export function jobSizeProblems(size: SparkJobSize): SizeProblem[] {
  const problems = [
    ...workerSizeProblems(size.driver).map((p) => ({ ...p, path: ['driver', ...p.path] })),
    ...workerSizeProblems(size.executor).map((p) => ({ ...p, path: ['executor', ...p.path] })),
  ];
  if (!(size.minExecutors <= size.initialExecutors && size.initialExecutors <= size.maxExecutors)) {
    problems.push({
      path: ['initialExecutors'],
      message: `needs minExecutors (${size.minExecutors}) <= initialExecutors <= maxExecutors (${size.maxExecutors})`,
    });
  }
  return problems;
}

/** The Spark heap (MB) that, with its overhead, fills a worker of `memoryGb`. */
export function heapMb(memoryGb: number): number {
  const workerMb = memoryGb * 1024;
  return Math.min(Math.floor(workerMb / (1 + OVERHEAD_FACTOR)), workerMb - MIN_OVERHEAD_MB);
}

/** `--conf` flags sizing the job (cores, heap, disk, dynamic-allocation bounds), for sparkSubmitParameters. */
export function sparkSizeConf(size: SparkJobSize): string {
  const conf: Array<[string, string | number]> = [
    ['spark.driver.cores', size.driver.cpu],
    ['spark.driver.memory', `${heapMb(size.driver.memoryGb)}m`],
    ['spark.emr-serverless.driver.disk', `${size.driver.diskGb}G`],
    ['spark.executor.cores', size.executor.cpu],
    ['spark.executor.memory', `${heapMb(size.executor.memoryGb)}m`],
    ['spark.emr-serverless.executor.disk', `${size.executor.diskGb}G`],
    ['spark.dynamicAllocation.enabled', 'true'],
    ['spark.dynamicAllocation.minExecutors', size.minExecutors],
    ['spark.dynamicAllocation.initialExecutors', size.initialExecutors],
    ['spark.dynamicAllocation.maxExecutors', size.maxExecutors],
  ];
  return conf.map(([key, value]) => `--conf ${key}=${value}`).join(' ');
}

/** The most a job can hold at once: its driver plus `maxExecutors` executors. */
export function peakFootprint(size: SparkJobSize): SparkFootprint {
  const { driver, executor, maxExecutors } = size;
  return {
    cpuVcpu: driver.cpu + maxExecutors * executor.cpu,
    memoryGb: driver.memoryGb + maxExecutors * executor.memoryGb,
    diskGb: driver.diskGb + maxExecutors * executor.diskGb,
  };
}

function describe(footprint: SparkFootprint): string {
  return `${footprint.cpuVcpu} vCPU, ${footprint.memoryGb} GB memory, ${footprint.diskGb} GB disk`;
}

/**
 * Why the always-on streaming job at its peak plus the largest batch job at its peak would not fit
 * under the application's maximum capacity (then batch jobs queue behind the streaming job until
 * they time out), or undefined when they fit. Field names are relative to `prefix` (e.g. `emr`).
 */
export function capacityProblem(
  prefix: string,
  maximum: SparkFootprint,
  streaming: SparkJobSize,
  batchJobs: Readonly<Record<string, SparkJobSize>>,
): string | undefined {
  const stream = peakFootprint(streaming);
  const [largestName, largest] = Object.entries(batchJobs)
    .map(([name, size]) => [name, peakFootprint(size)] as const)
    .reduce((a, b) => (b[1].cpuVcpu > a[1].cpuVcpu || (b[1].cpuVcpu === a[1].cpuVcpu && b[1].memoryGb > a[1].memoryGb) ? b : a));
  const total: SparkFootprint = {
    cpuVcpu: stream.cpuVcpu + largest.cpuVcpu,
    memoryGb: stream.memoryGb + largest.memoryGb,
    diskGb: stream.diskGb + largest.diskGb,
  };
  const limits: Array<[keyof SparkFootprint, string, string]> = [
    ['cpuVcpu', 'maxCpuVcpu', 'vCPU'],
    ['memoryGb', 'maxMemoryGb', 'GB memory'],
    ['diskGb', 'maxDiskGb', 'GB disk'],
  ];
  const over = limits.filter(([key]) => total[key] > maximum[key]).map(([key, field, unit]) => `${prefix}.${field} = ${maximum[key]} ${unit}`);
  if (over.length === 0) return undefined;
  return (
    `the streaming job at its peak (${prefix}.jobs.streaming: driver + maxExecutors ${streaming.maxExecutors} executors = ${describe(stream)}) ` +
    `plus the largest batch job (${prefix}.jobs.${largestName}: driver + maxExecutors ${batchJobs[largestName]!.maxExecutors} executors = ${describe(largest)}) ` +
    `need ${describe(total)}, more than ${over.join(', ')}: lower the jobs' maxExecutors or worker sizes, or raise the maximum`
  );
}
