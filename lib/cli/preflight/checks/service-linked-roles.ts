import { GetRoleCommand } from '@aws-sdk/client-iam';
import { isNotFound } from '../../common/aws-errors';
import type { ReferencedServiceLinkedRole } from '../requirements';
import type { PreflightCheck } from '../types';
import { guarded, result } from './result';

const ID = { id: 'service-linked-roles', title: 'Service-linked roles' };

/**
 * The service-linked roles the services of this app act through, keyed by the resource type that
 * makes the service use it. Each service creates its role on first use (MSK on CreateCluster, MSK
 * Connect on CreateConnector, EMR Serverless on CreateApplication, the Prometheus scraper on
 * CreateScraper, Application Auto Scaling on RegisterScalableTarget), but only if the deploying
 * principal may call iam:CreateServiceLinkedRole. Managed Flink and Managed Grafana use the
 * execution roles the app creates, not service-linked roles.
 */
export const SERVICE_LINKED_ROLES: ReadonlyArray<ReferencedServiceLinkedRole & { readonly resourceType: string }> = [
  { resourceType: 'AWS::MSK::Cluster', roleName: 'AWSServiceRoleForKafka', awsServiceName: 'kafka.amazonaws.com' },
  { resourceType: 'AWS::KafkaConnect::Connector', roleName: 'AWSServiceRoleForKafkaConnect', awsServiceName: 'kafkaconnect.amazonaws.com' },
  { resourceType: 'AWS::EMRServerless::Application', roleName: 'AWSServiceRoleForAmazonEMRServerless', awsServiceName: 'ops.emr-serverless.amazonaws.com' },
  { resourceType: 'AWS::APS::Scraper', roleName: 'AWSServiceRoleForAmazonPrometheusScraper', awsServiceName: 'scraper.aps.amazonaws.com' },
];

/** The roles this stage needs: by the resource types it contains, and every one it names by ARN. */
export function neededServiceLinkedRoles(resourceTypes: readonly string[], referenced: readonly ReferencedServiceLinkedRole[]): ReferencedServiceLinkedRole[] {
  const needed = new Map<string, ReferencedServiceLinkedRole>();
  for (const role of SERVICE_LINKED_ROLES) {
    if (resourceTypes.includes(role.resourceType)) needed.set(role.roleName, { roleName: role.roleName, awsServiceName: role.awsServiceName });
  }
  for (const role of referenced) needed.set(role.roleName, role);
  return [...needed.values()].sort((a, b) => a.roleName.localeCompare(b.roleName));
}

export const serviceLinkedRolesCheck: PreflightCheck = {
  ...ID,
  run: ({ clients, requirements }) =>
    guarded(ID, 'iam:GetRole on arn:aws:iam::<account>:role/aws-service-role/*', async () => {
      const needed = neededServiceLinkedRoles(requirements.resourceTypes, requirements.referencedServiceLinkedRoles);
      const missing: ReferencedServiceLinkedRole[] = [];
      for (const role of needed) {
        try {
          await clients.iam.send(new GetRoleCommand({ RoleName: role.roleName }));
        } catch (error) {
          if (!isNotFound(error, 'NoSuchEntity', 'NoSuchEntityException')) throw error;
          missing.push(role);
        }
      }
      if (missing.length === 0) return result(ID, 'pass', `all ${needed.length} exist: ${needed.map((r) => r.roleName).join(', ')}`);
      return result(
        ID,
        'warn',
        `missing: ${missing.map((r) => r.roleName).join(', ')}. The services create them during the deploy if the CloudFormation ` +
          'execution role may call iam:CreateServiceLinkedRole (the default bootstrap execution policy may)',
        `with a restricted execution policy, create them first: ${missing.map((r) => `aws iam create-service-linked-role --aws-service-name ${r.awsServiceName}`).join('; ')}`,
      );
    }),
};
