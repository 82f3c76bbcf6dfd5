import { runCli } from '../../lib/cli/main';
import { estimateCost, DEFAULT_ASSUMPTIONS, type TemplateLike } from '../../lib/cli/cost/estimate';
import { PRICE_TABLE, PRICES_AS_OF, SOURCES } from '../../lib/cli/cost/prices';
import { loadEnvironment } from '../../lib/config/load-config';
import { mockedOpsClients, opsHarness } from './ops-fixtures';

/** A small stage: one cluster, one Flink app, an EMR app with a warm pool, 2 NAT gateways, 2 interface endpoints in 2 and 3 subnets, 2 keys. */
const FIXTURE: TemplateLike[] = [
  {
    Resources: {
      Nat1: { Type: 'AWS::EC2::NatGateway' },
      Nat2: { Type: 'AWS::EC2::NatGateway' },
      Ep1: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Interface', SubnetIds: ['a', 'b'] } },
      Ep2: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Interface', SubnetIds: ['a', 'b', 'c'] } },
      S3Gw: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Gateway' } },
      K1: { Type: 'AWS::KMS::Key' },
      K2: { Type: 'AWS::KMS::Key' },
    },
  },
  {
    Resources: {
      Msk: { Type: 'AWS::MSK::Cluster' },
      Flink: { Type: 'AWS::KinesisAnalyticsV2::Application' },
      Emr: {
        Type: 'AWS::EMRServerless::Application',
        Properties: { InitialCapacity: [{ Key: 'Driver', Value: { WorkerCount: 1, WorkerConfiguration: { Cpu: '4 vCPU', Memory: '16 GB' } } }] },
      },
      Ws: { Type: 'AWS::APS::Workspace' },
      Scraper: { Type: 'AWS::APS::Scraper' },
      Grafana: { Type: 'AWS::Grafana::Workspace' },
    },
  },
];

describe('cost arithmetic on a fixture template', () => {
  const config = loadEnvironment('dev', { processEnv: {}, region: 'us-east-1' });
  const p = PRICE_TABLE['us-east-1'];
  const estimate = estimateCost(config, FIXTURE, p, {
    ...DEFAULT_ASSUMPTIONS,
    hoursPerMonth: 100,
    batchJobMinutes: 60,
    grafanaEditors: 2,
    logsGbPerMonth: 10,
    lakeGb: 100,
  });
  const line = (id: string) => estimate.lines.find((l) => l.id === id)?.monthlyUsd;
  const r2 = (n: number) => Math.round(n * 100) / 100;

  it('prices each line from config, template counts and the table', () => {
    expect(line('msk-brokers')).toBe(r2(config.kafka.brokerCount * p.mskBrokerHour[config.kafka.instanceType] * 100));
    expect(line('msk-storage')).toBe(r2(config.kafka.brokerCount * config.kafka.ebsVolumeGiB * p.mskStorageGbMonth));
    const kpus = Math.ceil(config.flink.parallelism / config.flink.parallelismPerKpu);
    expect(line('flink')).toBe(r2((kpus + 1) * p.flinkKpuHour * 100 + kpus * 50 * p.flinkStorageGbMonth));
    expect(line('nat')).toBe(r2(2 * p.natGatewayHour * 100));
    expect(line('endpoints')).toBe(r2(5 * p.interfaceEndpointAzHour * 100));
    expect(line('emr-warm-pool')).toBe(r2(100 * (4 * p.emrVcpuHour + 16 * p.emrGbHour)));
    expect(line('kms')).toBe(2);
    expect(line('grafana')).toBe(18);
    expect(line('logs')).toBe(r2(10 * p.logsIngestGb));
    expect(line('s3')).toBe(r2(100 * p.s3StandardGbMonth));
  });

  it('prices the streaming job around the clock at its initial size and the batch jobs per day', () => {
    const s = config.emr.jobs.streaming;
    const vcpu = s.driver.cpu + s.initialExecutors * s.executor.cpu;
    const gb = s.driver.memoryGb + s.initialExecutors * s.executor.memoryGb;
    expect(line('emr-streaming')).toBe(r2(100 * (vcpu * p.emrVcpuHour + gb * p.emrGbHour)));
    expect(line('emr-batch')).toBeGreaterThan(0);
  });

  it('sorts the lines by cost, totals them and names the price date', () => {
    const costs = estimate.lines.map((l) => l.monthlyUsd);
    expect(costs).toEqual([...costs].sort((a, b) => b - a));
    expect(estimate.totalMonthlyUsd).toBe(r2(costs.reduce((a, b) => a + b, 0)));
    expect(estimate).toMatchObject({ region: 'us-east-1', pricesAsOf: PRICES_AS_OF, priceSource: 'table' });
    for (const l of estimate.lines) expect(Object.values(SOURCES)).toContain(l.source);
  });

  it('leaves out what the templates do not contain', () => {
    const bare = estimateCost(config, [{ Resources: {} }], p);
    expect(bare.lines.map((l) => l.id)).toEqual(['logs', 's3']);
  });

  it('covers every MSK instance type the schema allows in every priced region', () => {
    for (const prices of Object.values(PRICE_TABLE))
      for (const type of ['kafka.t3.small', 'kafka.m5.large', 'kafka.m7g.large']) expect(prices.mskBrokerHour[type]).toBeGreaterThan(0);
  });
});

describe('lakestream cost', () => {
  async function run(args: string[]) {
    const { clients } = mockedOpsClients();
    const h = opsHarness(clients);
    const code = await runCli(args, { ...h.deps, synthesizeTemplates: () => FIXTURE });
    return { code, out: h.output(), err: h.errors() };
  }

  it('prints the table with the top cost drivers and the assumptions, offline', async () => {
    const { code, out } = await run(['cost', '--env', 'dev']);
    expect(code).toBe(0);
    expect(out).toMatch(/^Monthly estimate for dev in eu-west-1: \$\d+\.\d\d \(list prices from the table of 2025-06-01/m);
    expect(out).toMatch(/^Top cost drivers: .+ \(\$\d+\), .+ \(\$\d+\), .+ \(\$\d+\)$/m);
    expect(out).toContain('changes with: kafka.brokerCount, kafka.instanceType');
  });

  it('prints stable JSON for every environment with --env all', async () => {
    const { code, out } = await run(['cost', '--env', 'all', '--json']);
    expect(code).toBe(0);
    const json = JSON.parse(out) as { command: string; result: { environments: Array<Record<string, unknown>> } };
    expect(json.command).toBe('cost');
    expect(json.result.environments.map((e) => e.name)).toEqual(['dev', 'staging', 'prod']);
    expect(Object.keys(json.result.environments[0])).toEqual([
      'name',
      'stage',
      'region',
      'pricesAsOf',
      'priceSource',
      'lines',
      'totalMonthlyUsd',
      'assumptions',
    ]);
  });

  it('refuses a region without prices and bad numbers with exit 2', async () => {
    expect((await run(['cost', '--env', 'dev', '--grafana-editors', 'x'])).code).toBe(2);
    const unpriced = await run(['cost', '--env', 'dev', '--region', 'ap-south-2']);
    // dev names no region in lib/config/environments.ts, so --region applies (as -c region=).
    expect(unpriced.code).toBe(2);
    expect(unpriced.err).toContain('no prices for ap-south-2');
  });
});
