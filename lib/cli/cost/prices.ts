/**
 * On-demand list prices (USD) per region, kept in the repository so `lakestream cost` works offline.
 * Transcribed from the AWS pricing pages in SOURCES on PRICES_AS_OF; AWS changes prices, so
 * re-check them against those pages before budgeting with the numbers. Only the regions listed
 * here are priced; `cost` refuses others rather than guess.
 */
export const PRICES_AS_OF = '2025-06-01';

export const SOURCES: Readonly<Record<string, string>> = {
  msk: 'https://aws.amazon.com/msk/pricing/',
  flink: 'https://aws.amazon.com/managed-service-apache-flink/pricing/',
  emrServerless: 'https://aws.amazon.com/emr/pricing/ (EMR Serverless)',
  vpc: 'https://aws.amazon.com/vpc/pricing/ (NAT gateway)',
  privateLink: 'https://aws.amazon.com/privatelink/pricing/ (interface endpoints)',
  prometheus: 'https://aws.amazon.com/prometheus/pricing/',
  grafana: 'https://aws.amazon.com/grafana/pricing/',
  cloudWatch: 'https://aws.amazon.com/cloudwatch/pricing/ (Logs)',
  kms: 'https://aws.amazon.com/kms/pricing/',
  s3: 'https://aws.amazon.com/s3/pricing/',
};

export interface RegionPrices {
  /** Per broker-hour, by MSK instance type. */
  readonly mskBrokerHour: Readonly<Record<string, number>>;
  /** Per GB-month of broker storage. */
  readonly mskStorageGbMonth: number;
  /** Per KPU-hour; a streaming application is billed one KPU more for orchestration. */
  readonly flinkKpuHour: number;
  /** Running application storage per GB-month (50 GB per KPU). */
  readonly flinkStorageGbMonth: number;
  readonly emrVcpuHour: number;
  readonly emrGbHour: number;
  /** Per GB-hour of worker storage above the 20 GB each worker includes. */
  readonly emrStorageGbHour: number;
  readonly natGatewayHour: number;
  /** Per endpoint and AZ per hour. */
  readonly interfaceEndpointAzHour: number;
  /** Per 10 million samples ingested (first tier). */
  readonly ampIngestPer10mSamples: number;
  readonly ampStorageGbMonth: number;
  /** Per managed collector (scraper) hour. */
  readonly ampCollectorHour: number;
  /** Per active editor or admin user per month. */
  readonly grafanaEditorMonth: number;
  readonly logsIngestGb: number;
  readonly kmsKeyMonth: number;
  readonly s3StandardGbMonth: number;
}

const MSK_US_EAST_1 = {
  'kafka.t3.small': 0.0456,
  'kafka.m5.large': 0.21,
  'kafka.m5.xlarge': 0.42,
  'kafka.m5.2xlarge': 0.84,
  'kafka.m5.4xlarge': 1.68,
  'kafka.m7g.large': 0.204,
  'kafka.m7g.xlarge': 0.408,
  'kafka.m7g.2xlarge': 0.816,
  'kafka.m7g.4xlarge': 1.632,
};

export const PRICE_TABLE: Readonly<Record<string, RegionPrices>> = {
  'us-east-1': {
    mskBrokerHour: MSK_US_EAST_1,
    mskStorageGbMonth: 0.1,
    flinkKpuHour: 0.11,
    flinkStorageGbMonth: 0.1,
    emrVcpuHour: 0.052624,
    emrGbHour: 0.0057785,
    emrStorageGbHour: 0.000111,
    natGatewayHour: 0.045,
    interfaceEndpointAzHour: 0.01,
    ampIngestPer10mSamples: 0.9,
    ampStorageGbMonth: 0.03,
    ampCollectorHour: 0.04,
    grafanaEditorMonth: 9,
    logsIngestGb: 0.5,
    kmsKeyMonth: 1,
    s3StandardGbMonth: 0.023,
  },
  'eu-west-1': {
    mskBrokerHour: {
      'kafka.t3.small': 0.0496,
      'kafka.m5.large': 0.228,
      'kafka.m5.xlarge': 0.456,
      'kafka.m5.2xlarge': 0.912,
      'kafka.m5.4xlarge': 1.824,
      'kafka.m7g.large': 0.2223,
      'kafka.m7g.xlarge': 0.4446,
      'kafka.m7g.2xlarge': 0.8892,
      'kafka.m7g.4xlarge': 1.7784,
    },
    mskStorageGbMonth: 0.11,
    flinkKpuHour: 0.11,
    flinkStorageGbMonth: 0.1,
    emrVcpuHour: 0.052624,
    emrGbHour: 0.0057785,
    emrStorageGbHour: 0.000111,
    natGatewayHour: 0.048,
    interfaceEndpointAzHour: 0.011,
    ampIngestPer10mSamples: 0.9,
    ampStorageGbMonth: 0.03,
    ampCollectorHour: 0.04,
    grafanaEditorMonth: 9,
    logsIngestGb: 0.57,
    kmsKeyMonth: 1,
    s3StandardGbMonth: 0.023,
  },
};
