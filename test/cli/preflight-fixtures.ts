import { PassThrough } from 'node:stream';
import { IAMClient } from '@aws-sdk/client-iam';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClients, ClientRegions } from '../../lib/cli/common/aws-clients';
import type { CliDependencies } from '../../lib/cli/dependencies';
import type { PreflightRequirements } from '../../lib/cli/preflight/requirements';

export const ACCOUNT = '123456789012';
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

/** Real SDK clients whose `send` is replaced by aws-sdk-client-mock. */
export function mockedClients(region = 'eu-west-1') {
  const clients: AwsClients = {
    sts: new STSClient({ region, credentials }),
    ssm: new SSMClient({ region, credentials }),
    globalInfrastructureSsm: new SSMClient({ region, credentials }),
    ssoAdmin: new SSOAdminClient({ region, credentials }),
    iam: new IAMClient({ region, credentials }),
    serviceQuotas: new ServiceQuotasClient({ region, credentials }),
    ec2: new EC2Client({ region, credentials }),
  };
  const mocks = {
    sts: mockClient(clients.sts),
    ssm: mockClient(clients.ssm),
    globalInfrastructureSsm: mockClient(clients.globalInfrastructureSsm),
    ssoAdmin: mockClient(clients.ssoAdmin),
    iam: mockClient(clients.iam),
    serviceQuotas: mockClient(clients.serviceQuotas),
    ec2: mockClient(clients.ec2),
  };
  return { clients, mocks };
}

/** What the dev stage needs, as the synthesized assembly reports it (see requirements.test.ts). */
export const DEV_REQUIREMENTS: PreflightRequirements = {
  bootstrap: [{ parameterName: '/cdk-bootstrap/hnb659fds/version', minVersion: 6, artifacts: ['devData'] }],
  resourceTypes: [
    'AWS::APS::Scraper',
    'AWS::EC2::VPC',
    'AWS::EMRServerless::Application',
    'AWS::IAM::Role',
    'AWS::KinesisAnalyticsV2::Application',
    'AWS::MSK::Cluster',
    'Custom::KafkaTopics',
  ],
  referencedServiceLinkedRoles: [
    { roleName: 'AWSServiceRoleForApplicationAutoScaling_KafkaCluster', awsServiceName: 'kafka.application-autoscaling.amazonaws.com' },
  ],
};

export interface Harness {
  readonly deps: CliDependencies;
  readonly output: () => string;
  readonly errors: () => string;
  readonly regions: ClientRegions[];
}

export function harness(clients: AwsClients, requirements: PreflightRequirements = DEV_REQUIREMENTS, processEnv: NodeJS.ProcessEnv = {}): Harness {
  let out = '';
  let err = '';
  const stderr = new PassThrough();
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const regions: ClientRegions[] = [];
  return {
    deps: {
      createAwsClients: (r) => {
        regions.push(r);
        return clients;
      },
      synthesizeRequirements: () => requirements,
      stdout: (text) => {
        out += text;
      },
      stderr: stderr as unknown as NodeJS.WriteStream,
      processEnv,
      quiet: true,
    },
    output: () => out,
    errors: () => err,
    regions,
  };
}
