import { GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { PreflightCheck } from '../types';
import { guarded, result } from './result';

const ID = { id: 'region-services', title: 'Services available in the region' };

/**
 * CloudFormation namespace → the service id AWS publishes under
 * /aws/service/global-infrastructure. IAM and CloudFormation's own types are global or always
 * present; `null` marks them as not needing a check.
 */
export const SERVICE_IDS: Readonly<Record<string, string | null>> = {
  'AWS::APS': 'aps',
  'AWS::ApplicationAutoScaling': 'application-autoscaling',
  'AWS::Athena': 'athena',
  'AWS::CDK': null,
  'AWS::CloudFormation': null,
  'AWS::CloudWatch': 'cloudwatch',
  'AWS::EC2': 'ec2',
  'AWS::EMRServerless': 'emr-serverless',
  'AWS::Events': 'events',
  'AWS::Glue': 'glue',
  'AWS::Grafana': 'grafana',
  'AWS::IAM': null,
  'AWS::KafkaConnect': 'kafkaconnect',
  'AWS::KinesisAnalyticsV2': 'kinesisanalytics',
  'AWS::KMS': 'kms',
  'AWS::Lambda': 'lambda',
  'AWS::Logs': 'logs',
  'AWS::MSK': 'kafka',
  'AWS::S3': 's3',
  'AWS::Scheduler': 'scheduler',
  'AWS::SecretsManager': 'secretsmanager',
  'AWS::SNS': 'sns',
  'AWS::SQS': 'sqs',
  'AWS::SSM': 'ssm',
  'AWS::StepFunctions': 'states',
};

/** The service ids a set of resource types needs, and the namespaces this table does not know. */
export function servicesFor(resourceTypes: readonly string[]): { ids: string[]; unmapped: string[] } {
  const ids = new Set<string>();
  const unmapped = new Set<string>();
  for (const type of resourceTypes) {
    if (type.startsWith('Custom::')) continue;
    const namespace = type.split('::').slice(0, 2).join('::');
    const id = SERVICE_IDS[namespace];
    if (id === undefined) unmapped.add(namespace);
    else if (id !== null) ids.add(id);
  }
  return { ids: [...ids].sort(), unmapped: [...unmapped].sort() };
}

/** Which of `names` exist, asking GetParameters ten names at a time (its limit). */
async function existing(ssm: SSMClient, names: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < names.length; i += 10) {
    const out = await ssm.send(new GetParametersCommand({ Names: names.slice(i, i + 10) }));
    for (const parameter of out.Parameters ?? []) if (parameter.Name) found.add(parameter.Name);
  }
  return found;
}

/**
 * A service is missing from the region when /aws/service/global-infrastructure/regions/<region>/services/<id>
 * does not exist. An id that is not under .../services at all is one this table got wrong; it is
 * reported as unchecked rather than as missing, so a naming slip can never fail a deploy check.
 */
export const regionServicesCheck: PreflightCheck = {
  ...ID,
  run: ({ config, clients, requirements }) =>
    guarded(ID, 'ssm:GetParameters on the public /aws/service/global-infrastructure/* parameters', async () => {
      const { ids, unmapped } = servicesFor(requirements.resourceTypes);
      const ssm = clients.globalInfrastructureSsm;
      const known = await existing(
        ssm,
        ids.map((id) => `/aws/service/global-infrastructure/services/${id}`),
      );
      const regional = await existing(
        ssm,
        ids.map((id) => `/aws/service/global-infrastructure/regions/${config.region}/services/${id}`),
      );
      const unknown = ids.filter((id) => !known.has(`/aws/service/global-infrastructure/services/${id}`));
      const missing = ids.filter((id) => !unknown.includes(id) && !regional.has(`/aws/service/global-infrastructure/regions/${config.region}/services/${id}`));
      const notes = [
        ...(unknown.length > 0 ? [`not checked (id not published): ${unknown.join(', ')}`] : []),
        ...(unmapped.length > 0 ? [`not checked (no service id known for): ${unmapped.join(', ')}`] : []),
      ];
      if (missing.length > 0) {
        return result(
          ID,
          'fail',
          [`not available in ${config.region}: ${missing.join(', ')}`, ...notes].join('; '),
          `deploy to a region that offers ${missing.join(', ')}: set region on the environment entry in lib/config/environments.ts (or pass --region / -c region= when the entry names none)`,
        );
      }
      const checked = ids.length - unknown.length;
      return result(ID, notes.length > 0 ? 'warn' : 'pass', [`${checked} services available in ${config.region}`, ...notes].join('; '));
    }),
};
