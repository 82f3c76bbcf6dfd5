import { WORKER_MEMORY_GB, heapMb, jobSizeProblems, peakFootprint, sparkSizeConf, workerSizeProblems } from '../../../lib/constructs/spark/spark-job-size';

const SIZE = {
  driver: { cpu: 1, memoryGb: 4, diskGb: 20 },
  executor: { cpu: 2, memoryGb: 8, diskGb: 40 },
  minExecutors: 1,
  initialExecutors: 1,
  maxExecutors: 3,
};

describe('Spark job sizing', () => {
  test('heap plus overhead (10 %, at least 384 MB) fills the worker and never exceeds it', () => {
    expect(heapMb(2)).toBe(2048 - 384);
    expect(heapMb(16)).toBe(14894);
    for (const [cpu, rule] of Object.entries(WORKER_MEMORY_GB)) {
      for (let gb = rule.min; gb <= rule.max; gb += rule.step) {
        const heap = heapMb(gb);
        expect(heap + Math.max(384, Math.floor(heap * 0.1))).toBeLessThanOrEqual(gb * 1024);
        expect(workerSizeProblems({ cpu: Number(cpu), memoryGb: gb, diskGb: 20 })).toEqual([]);
      }
    }
  });

  test('the --conf flags request exactly the configured workers and bounds', () => {
    expect(sparkSizeConf(SIZE)).toBe(
      '--conf spark.driver.cores=1 --conf spark.driver.memory=3712m --conf spark.emr-serverless.driver.disk=20G ' +
        '--conf spark.executor.cores=2 --conf spark.executor.memory=7447m --conf spark.emr-serverless.executor.disk=40G ' +
        '--conf spark.dynamicAllocation.enabled=true --conf spark.dynamicAllocation.minExecutors=1 ' +
        '--conf spark.dynamicAllocation.initialExecutors=1 --conf spark.dynamicAllocation.maxExecutors=3',
    );
  });

  test('the peak is the driver plus maxExecutors executors', () => {
    expect(peakFootprint(SIZE)).toEqual({ cpuVcpu: 7, memoryGb: 28, diskGb: 140 });
  });

  test('rule violations name the field', () => {
    expect(jobSizeProblems({ ...SIZE, driver: { cpu: 16, memoryGb: 36, diskGb: 201 }, initialExecutors: 4 }).map((p) => p.path.join('.'))).toEqual([
      'driver.memoryGb',
      'driver.diskGb',
      'initialExecutors',
    ]);
  });
});
