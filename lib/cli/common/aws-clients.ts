import { IAMClient } from '@aws-sdk/client-iam';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { STSClient } from '@aws-sdk/client-sts';

/**
 * Regions that answer queries under /aws/service/global-infrastructure (Systems Manager user
 * guide, "Calling public parameters for AWS services, Regions, ..."); elsewhere the query goes to
 * us-east-1, which publishes the same data for every region.
 */
export const GLOBAL_INFRASTRUCTURE_REGIONS: readonly string[] = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ap-east-1',
  'ap-south-1',
  'ap-northeast-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
  'ca-central-1',
  'eu-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-north-1',
  'sa-east-1',
];

/** Every SDK client a command may use. Commands take this as a dependency so tests pass mocks. */
export interface AwsClients {
  readonly sts: STSClient;
  readonly ssm: SSMClient;
  /** SSM in a region that serves the /aws/service/global-infrastructure parameters. */
  readonly globalInfrastructureSsm: SSMClient;
  readonly ssoAdmin: SSOAdminClient;
  readonly iam: IAMClient;
  readonly serviceQuotas: ServiceQuotasClient;
  /** Route tables of an imported VPC (internet egress check). */
  readonly ec2: EC2Client;
}

export interface ClientRegions {
  /** The environment's region. */
  readonly region: string;
  /** Where IAM Identity Center is looked up. @default region */
  readonly identityCenterRegion?: string;
}

/** Real clients with the default credential chain (profile, SSO, environment, instance role). */
export function createAwsClients({ region, identityCenterRegion }: ClientRegions): AwsClients {
  // Bounded retries: preflight runs before a deploy, where a fast clear answer beats a long wait.
  const common = { region, maxAttempts: 3 };
  return {
    sts: new STSClient(common),
    ssm: new SSMClient(common),
    globalInfrastructureSsm: new SSMClient({ ...common, region: GLOBAL_INFRASTRUCTURE_REGIONS.includes(region) ? region : 'us-east-1' }),
    ssoAdmin: new SSOAdminClient({ ...common, region: identityCenterRegion ?? region }),
    iam: new IAMClient(common),
    serviceQuotas: new ServiceQuotasClient(common),
    ec2: new EC2Client(common),
  };
}
