import { AmpClient } from '@aws-sdk/client-amp';
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EMRServerlessClient } from '@aws-sdk/client-emr-serverless';
import { GrafanaClient } from '@aws-sdk/client-grafana';
import { KafkaClient } from '@aws-sdk/client-kafka';
import { KinesisAnalyticsV2Client } from '@aws-sdk/client-kinesis-analytics-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';

/** Resolves AWS credentials (the default chain in real use, a fixed pair in tests). */
export type CredentialsProvider = () => Promise<{ readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string }>;

/** The SDK clients of the runtime commands (status, smoke, replay). Tests pass aws-sdk-client-mock mocks. */
export interface OpsClients {
  readonly region: string;
  readonly sts: STSClient;
  readonly cloudFormation: CloudFormationClient;
  readonly kafka: KafkaClient;
  readonly flink: KinesisAnalyticsV2Client;
  readonly emrServerless: EMRServerlessClient;
  readonly sfn: SFNClient;
  readonly cloudWatch: CloudWatchClient;
  readonly amp: AmpClient;
  readonly grafana: GrafanaClient;
  readonly s3: S3Client;
  readonly athena: AthenaClient;
  /** Credentials for signing Prometheus HTTP queries (SigV4, service `aps`). */
  readonly credentials: CredentialsProvider;
}

/** Real clients with the default credential chain, in the environment's region. */
export function createOpsClients(region: string): OpsClients {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { defaultProvider } = require('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node');
  const credentials = defaultProvider();
  const common = { region, maxAttempts: 3, credentials };
  return {
    region,
    sts: new STSClient(common),
    cloudFormation: new CloudFormationClient(common),
    kafka: new KafkaClient(common),
    flink: new KinesisAnalyticsV2Client(common),
    emrServerless: new EMRServerlessClient(common),
    sfn: new SFNClient(common),
    cloudWatch: new CloudWatchClient(common),
    amp: new AmpClient(common),
    grafana: new GrafanaClient(common),
    s3: new S3Client(common),
    athena: new AthenaClient(common),
    credentials,
  };
}
