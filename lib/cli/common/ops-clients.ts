import { AmpClient } from '@aws-sdk/client-amp';
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EMRServerlessClient } from '@aws-sdk/client-emr-serverless';
import { GrafanaClient } from '@aws-sdk/client-grafana';
import { KafkaClient } from '@aws-sdk/client-kafka';
import { KinesisAnalyticsV2Client } from '@aws-sdk/client-kinesis-analytics-v2';
import { SSMClient } from '@aws-sdk/client-ssm';
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
  /** Reads the erasure workflow's parameter (smoke erases its synthetic user). */
  readonly ssm: SSMClient;
  /** Credentials for signing Prometheus HTTP queries (SigV4, service `aps`). */
  readonly credentials: CredentialsProvider;
}

/** Clients in `region` signing with `credentials`; tests pass fixed credentials and replace `send` with mocks. */
export function buildOpsClients(region: string, credentials: CredentialsProvider, maxAttempts = 3): OpsClients {
  const common = { region, maxAttempts, credentials };
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
    ssm: new SSMClient(common),
    credentials,
  };
}

/** Real clients with the default credential chain (profile, SSO, environment, instance role). */
export function createOpsClients(region: string): OpsClients {
  const { defaultProvider } = require('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node');
  return buildOpsClients(region, defaultProvider());
}
