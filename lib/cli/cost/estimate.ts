import type { ResolvedEnvironment } from '../../config/load-config';
import { PRICES_AS_OF, SOURCES, type RegionPrices } from './prices';

/** A CloudFormation template as synthesized (only what the estimate reads). */
export interface TemplateLike {
  readonly Resources?: Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>;
}

/** Usage the config does not say, stated with every estimate so a reader can disagree with it. */
export interface CostAssumptions {
  readonly hoursPerMonth: number;
  /** Minutes each daily batch job runs (landing-to-bronze, daily report). */
  readonly batchJobMinutes: number;
  /** Active Prometheus series per broker (JMX and node exporters after the scrape filters). */
  readonly seriesPerBroker: number;
  readonly scrapeIntervalSeconds: number;
  readonly grafanaEditors: number;
  /** CloudWatch Logs ingested per month (GB): Lambda, Flink, EMR, MSK broker and VPC flow logs. */
  readonly logsGbPerMonth: number;
  /** Lake data stored (GB, all tiers). */
  readonly lakeGb: number;
}

export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
  hoursPerMonth: 730,
  batchJobMinutes: 15,
  seriesPerBroker: 1500,
  scrapeIntervalSeconds: 30,
  grafanaEditors: 1,
  logsGbPerMonth: 5,
  lakeGb: 50,
};

/** One line of the estimate. */
export interface CostLine {
  readonly id: string;
  readonly component: string;
  readonly monthlyUsd: number;
  /** The arithmetic, in words and numbers. */
  readonly basis: string;
  /** The config settings that change this line. */
  readonly settings: string;
  readonly source: string;
}

export interface CostEstimate {
  readonly region: string;
  readonly pricesAsOf: string;
  readonly priceSource: 'table';
  readonly lines: CostLine[];
  readonly totalMonthlyUsd: number;
  readonly assumptions: CostAssumptions;
}

const round = (n: number) => Math.round(n * 100) / 100;

function resources(templates: readonly TemplateLike[]) {
  return templates.flatMap((t) => Object.values(t.Resources ?? {}));
}

/** vCPU and GB of one job at its initial size: the driver plus `initialExecutors` executors. */
function jobSize(job: ResolvedEnvironment['emr']['jobs']['streaming']): { vcpu: number; gb: number; extraDiskGb: number } {
  const workers = [job.driver, ...Array.from({ length: job.initialExecutors }, () => job.executor)];
  return {
    vcpu: workers.reduce((n, w) => n + w.cpu, 0),
    gb: workers.reduce((n, w) => n + w.memoryGb, 0),
    extraDiskGb: workers.reduce((n, w) => n + Math.max(0, w.diskGb - 20), 0),
  };
}

/**
 * Monthly estimate of one environment: what the config sizes (brokers, KPUs, Spark jobs) and what
 * the synthesized templates contain (NAT gateways, interface endpoints and their subnets, KMS keys,
 * scrapers, Grafana workspaces), at the region's prices.
 */
export function estimateCost(
  config: ResolvedEnvironment,
  templates: readonly TemplateLike[],
  prices: RegionPrices,
  assumptions: CostAssumptions = DEFAULT_ASSUMPTIONS,
): CostEstimate {
  const all = resources(templates);
  const count = (type: string) => all.filter((r) => r.Type === type).length;
  const h = assumptions.hoursPerMonth;
  const lines: CostLine[] = [];
  const add = (line: CostLine) => {
    if (line.monthlyUsd > 0) lines.push({ ...line, monthlyUsd: round(line.monthlyUsd) });
  };

  if (count('AWS::MSK::Cluster') > 0) {
    const { brokerCount, instanceType, ebsVolumeGiB } = config.kafka;
    const rate = prices.mskBrokerHour[instanceType];
    if (rate === undefined) throw new Error(`no MSK price for ${instanceType} in the price table (lib/cli/cost/prices.ts)`);
    add({
      id: 'msk-brokers',
      component: 'MSK brokers',
      monthlyUsd: brokerCount * rate * h,
      basis: `${brokerCount} x ${instanceType} x ${h} h x $${rate}`,
      settings: 'kafka.brokerCount, kafka.instanceType',
      source: SOURCES.msk,
    });
    add({
      id: 'msk-storage',
      component: 'MSK storage',
      monthlyUsd: brokerCount * ebsVolumeGiB * prices.mskStorageGbMonth,
      basis: `${brokerCount} x ${ebsVolumeGiB} GB x $${prices.mskStorageGbMonth}/GB-month (grows up to kafka.storageAutoScalingMaxGiB)`,
      settings: 'kafka.ebsVolumeGiB',
      source: SOURCES.msk,
    });
  }
  if (count('AWS::KinesisAnalyticsV2::Application') > 0) {
    const kpus = Math.ceil(config.flink.parallelism / config.flink.parallelismPerKpu);
    add({
      id: 'flink',
      component: 'Managed Flink',
      monthlyUsd: (kpus + 1) * prices.flinkKpuHour * h + kpus * 50 * prices.flinkStorageGbMonth,
      basis: `(${kpus} KPU + 1 orchestration KPU) x ${h} h x $${prices.flinkKpuHour} + ${kpus} x 50 GB running storage x $${prices.flinkStorageGbMonth}`,
      settings: 'flink.parallelism, flink.parallelismPerKpu (autoScaling may add KPUs under load), flink.enabled',
      source: SOURCES.flink,
    });
  }
  if (count('AWS::EMRServerless::Application') > 0) {
    const emrCost = (size: ReturnType<typeof jobSize>, hours: number) =>
      hours * (size.vcpu * prices.emrVcpuHour + size.gb * prices.emrGbHour + size.extraDiskGb * prices.emrStorageGbHour);
    if (config.emr.streamingJobEnabled) {
      const s = jobSize(config.emr.jobs.streaming);
      add({
        id: 'emr-streaming',
        component: 'EMR Serverless streaming job',
        monthlyUsd: emrCost(s, h),
        basis: `${s.vcpu} vCPU, ${s.gb} GB around the clock: ${h} h x (${s.vcpu} x $${prices.emrVcpuHour} + ${s.gb} x $${prices.emrGbHour})`,
        settings: 'emr.jobs.streaming (driver, executor, initialExecutors), emr.streamingJobEnabled',
        source: SOURCES.emrServerless,
      });
    }
    const batchHours = (assumptions.batchJobMinutes / 60) * 30;
    const b1 = jobSize(config.emr.jobs.landingToBronze);
    const b2 = jobSize(config.emr.jobs.dailyReport);
    add({
      id: 'emr-batch',
      component: 'EMR Serverless batch jobs',
      monthlyUsd: emrCost(b1, batchHours) + emrCost(b2, batchHours),
      basis: `landing-to-bronze ${b1.vcpu} vCPU/${b1.gb} GB and daily report ${b2.vcpu} vCPU/${b2.gb} GB, ${assumptions.batchJobMinutes} min a day each`,
      settings: 'emr.jobs.landingToBronze, emr.jobs.dailyReport',
      source: SOURCES.emrServerless,
    });
    const pool = warmPool(all);
    if (pool.workers > 0) {
      add({
        id: 'emr-warm-pool',
        component: 'EMR Serverless warm pool',
        monthlyUsd: idleHours(config, h) * (pool.vcpu * prices.emrVcpuHour + pool.gb * prices.emrGbHour),
        basis: `${pool.workers} pre-initialized workers, ${pool.vcpu} vCPU, ${pool.gb} GB, held while the application is started`,
        settings: 'emr.preInitialized',
        source: SOURCES.emrServerless,
      });
    }
  }
  const nat = count('AWS::EC2::NatGateway');
  add({
    id: 'nat',
    component: 'NAT gateways',
    monthlyUsd: nat * prices.natGatewayHour * h,
    basis: `${nat} x ${h} h x $${prices.natGatewayHour} (plus $/GB processed)`,
    settings: 'network.natGateways',
    source: SOURCES.vpc,
  });
  const endpoints = all.filter((r) => r.Type === 'AWS::EC2::VPCEndpoint' && r.Properties?.VpcEndpointType === 'Interface');
  const endpointAzs = endpoints.reduce((n, r) => n + (Array.isArray(r.Properties?.SubnetIds) ? (r.Properties.SubnetIds as unknown[]).length : 1), 0);
  add({
    id: 'endpoints',
    component: 'Interface endpoints',
    monthlyUsd: endpointAzs * prices.interfaceEndpointAzHour * h,
    basis: `${endpoints.length} endpoints in ${endpointAzs} endpoint-AZs x ${h} h x $${prices.interfaceEndpointAzHour}`,
    settings: 'network.azCount, network.mode (createEndpoints)',
    source: SOURCES.privateLink,
  });
  if (count('AWS::APS::Workspace') > 0) {
    const brokers = config.kafka.brokerCount;
    const samples = brokers * assumptions.seriesPerBroker * ((h * 3600) / assumptions.scrapeIntervalSeconds);
    const collectors = count('AWS::APS::Scraper');
    add({
      id: 'prometheus',
      component: 'Managed Prometheus',
      monthlyUsd: (samples / 1e7) * prices.ampIngestPer10mSamples + collectors * prices.ampCollectorHour * h,
      basis: `${brokers} brokers x ${assumptions.seriesPerBroker} series every ${assumptions.scrapeIntervalSeconds} s = ${(samples / 1e6).toFixed(0)}M samples x $${prices.ampIngestPer10mSamples}/10M + ${collectors} collector x ${h} h x $${prices.ampCollectorHour}`,
      settings: 'kafka.brokerCount (series), scrape interval',
      source: SOURCES.prometheus,
    });
  }
  const grafanaWorkspaces = count('AWS::Grafana::Workspace');
  add({
    id: 'grafana',
    component: 'Managed Grafana',
    monthlyUsd: grafanaWorkspaces * assumptions.grafanaEditors * prices.grafanaEditorMonth,
    basis: `${assumptions.grafanaEditors} active editor x $${prices.grafanaEditorMonth} (viewers cost less)`,
    settings: 'users assigned to the workspace',
    source: SOURCES.grafana,
  });
  add({
    id: 'logs',
    component: 'CloudWatch Logs ingestion',
    monthlyUsd: assumptions.logsGbPerMonth * prices.logsIngestGb,
    basis: `${assumptions.logsGbPerMonth} GB x $${prices.logsIngestGb}`,
    settings: 'flowLogRetentionDays, log levels',
    source: SOURCES.cloudWatch,
  });
  const keys = count('AWS::KMS::Key');
  add({
    id: 'kms',
    component: 'KMS keys',
    monthlyUsd: keys * prices.kmsKeyMonth,
    basis: `${keys} keys x $${prices.kmsKeyMonth}`,
    settings: 'none (one key per purpose)',
    source: SOURCES.kms,
  });
  add({
    id: 's3',
    component: 'S3 lake',
    monthlyUsd: assumptions.lakeGb * prices.s3StandardGbMonth,
    basis: `${assumptions.lakeGb} GB x $${prices.s3StandardGbMonth} (requests extra)`,
    settings: 'lake.*.expirationDays, lifecycle transitions',
    source: SOURCES.s3,
  });

  lines.sort((a, b) => b.monthlyUsd - a.monthlyUsd);
  return {
    region: config.region,
    pricesAsOf: PRICES_AS_OF,
    priceSource: 'table',
    lines,
    totalMonthlyUsd: round(lines.reduce((n, l) => n + l.monthlyUsd, 0)),
    assumptions,
  };
}

/** Hours a month the warm pool is held: the streaming job keeps the application started around the clock. */
function idleHours(config: ResolvedEnvironment, hoursPerMonth: number): number {
  return config.emr.streamingJobEnabled ? hoursPerMonth : (config.emr.idleTimeoutMinutes / 60) * 30;
}

/** Pre-initialized workers as the template declares them (InitialCapacity: "4 vCPU", "16 GB"). */
function warmPool(all: ReturnType<typeof resources>): { workers: number; vcpu: number; gb: number } {
  let workers = 0;
  let vcpu = 0;
  let gb = 0;
  for (const r of all.filter((x) => x.Type === 'AWS::EMRServerless::Application')) {
    const entries = (r.Properties?.InitialCapacity ?? []) as Array<{
      Value?: { WorkerCount?: number; WorkerConfiguration?: { Cpu?: string; Memory?: string } };
    }>;
    for (const e of entries) {
      const n = e.Value?.WorkerCount ?? 0;
      workers += n;
      vcpu += n * parseFloat(e.Value?.WorkerConfiguration?.Cpu ?? '0');
      gb += n * parseFloat(e.Value?.WorkerConfiguration?.Memory ?? '0');
    }
  }
  return { workers, vcpu, gb };
}
