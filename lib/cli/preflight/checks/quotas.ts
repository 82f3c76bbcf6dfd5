import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  paginateListAWSDefaultServiceQuotas,
  paginateListServiceQuotas,
  type ServiceQuota,
  type ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import type { ResolvedEnvironment } from '../../../config/load-config';
import { isNotFound } from '../../common/aws-errors';
import type { PreflightCheck, PreflightContext } from '../types';
import { guarded, result } from './result';

/** One quota the environment needs, and how much of it. */
export interface QuotaRequirement {
  readonly id: string;
  readonly title: string;
  /** Service Quotas service code. */
  readonly serviceCode: string;
  /** Quota code, where it is documented; otherwise the quota is found by name. */
  readonly quotaCode?: string;
  /** Matches the quota's name in Service Quotas when no code is given. */
  readonly quotaName: RegExp;
  /** The service's documented default, used when Service Quotas does not list the quota. */
  readonly documentedDefault: number;
  /** Resource type whose presence in the stage makes the quota matter. */
  readonly resourceType: string;
  /** How much the environment needs, and how that number was computed. */
  need(config: ResolvedEnvironment): { readonly amount: number; readonly because: string };
}

/**
 * Quotas a fresh account most often lacks for this platform. Codes and defaults: EMR Serverless
 * "Max concurrent vCPUs per account" is L-D05C8A75 (16 in a new account); MSK's "Number of brokers
 * per account" defaults to 90; Managed Flink allows 64 KPUs per application by default. The MSK
 * and Flink quotas are looked up by name, because their codes are not in the service guides.
 */
export const QUOTA_REQUIREMENTS: readonly QuotaRequirement[] = [
  {
    id: 'quota-msk-brokers',
    title: 'Quota: MSK brokers per account',
    serviceCode: 'kafka',
    quotaName: /^number of brokers per account$/i,
    documentedDefault: 90,
    resourceType: 'AWS::MSK::Cluster',
    need: (config) => ({ amount: config.kafka.brokerCount, because: `kafka.brokerCount = ${config.kafka.brokerCount}` }),
  },
  {
    id: 'quota-flink-kpus',
    title: 'Quota: Managed Flink KPUs per application',
    serviceCode: 'kinesisanalytics',
    quotaName: /KPU|processing units/i,
    documentedDefault: 64,
    resourceType: 'AWS::KinesisAnalyticsV2::Application',
    need: (config) => {
      // Allocated KPUs = parallelism / parallelismPerKpu, rounded up (Managed Flink scaling guide).
      const kpus = Math.ceil(config.flink.parallelism / config.flink.parallelismPerKpu);
      return { amount: kpus, because: `ceil(flink.parallelism ${config.flink.parallelism} / flink.parallelismPerKpu ${config.flink.parallelismPerKpu})` };
    },
  },
  {
    id: 'quota-emr-serverless-vcpus',
    title: 'Quota: EMR Serverless concurrent vCPUs',
    serviceCode: 'emr-serverless',
    quotaCode: 'L-D05C8A75',
    quotaName: /^max concurrent vcpus per account$/i,
    documentedDefault: 16,
    resourceType: 'AWS::EMRServerless::Application',
    // The application's maximum capacity is what the streaming job and the batch jobs may use together.
    need: (config) => ({ amount: config.emr.maxCpuVcpu, because: `emr.maxCpuVcpu = ${config.emr.maxCpuVcpu}` }),
  },
];

/** The applied value of a quota: the account's value, else the AWS default, else undefined. */
async function lookUp(client: ServiceQuotasClient, requirement: QuotaRequirement): Promise<ServiceQuota | undefined> {
  const { serviceCode, quotaCode } = requirement;
  if (quotaCode) {
    try {
      return (await client.send(new GetServiceQuotaCommand({ ServiceCode: serviceCode, QuotaCode: quotaCode }))).Quota;
    } catch (error) {
      if (!isNotFound(error, 'NoSuchResourceException')) throw error;
    }
    try {
      return (await client.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: serviceCode, QuotaCode: quotaCode }))).Quota;
    } catch (error) {
      if (!isNotFound(error, 'NoSuchResourceException')) throw error;
      return undefined;
    }
  }
  for await (const page of paginateListServiceQuotas({ client }, { ServiceCode: serviceCode })) {
    const found = page.Quotas?.find((q) => q.QuotaName !== undefined && requirement.quotaName.test(q.QuotaName));
    if (found) return found;
  }
  for await (const page of paginateListAWSDefaultServiceQuotas({ client }, { ServiceCode: serviceCode })) {
    const found = page.Quotas?.find((q) => q.QuotaName !== undefined && requirement.quotaName.test(q.QuotaName));
    if (found) return found;
  }
  return undefined;
}

/** One check per quota requirement. */
export function quotaCheck(requirement: QuotaRequirement): PreflightCheck {
  const id = { id: requirement.id, title: requirement.title };
  return {
    ...id,
    run: ({ config, clients, requirements }: PreflightContext) =>
      guarded(id, 'servicequotas:GetServiceQuota, GetAWSDefaultServiceQuota, ListServiceQuotas and ListAWSDefaultServiceQuotas', async () => {
        if (!requirements.resourceTypes.includes(requirement.resourceType)) {
          return result(id, 'pass', `not needed: this environment has no ${requirement.resourceType}`);
        }
        const { amount, because } = requirement.need(config);
        const quota = await lookUp(clients.serviceQuotas, requirement);
        const limit = quota?.Value ?? requirement.documentedDefault;
        const source = quota
          ? `${quota.QuotaName ?? requirement.serviceCode} (${quota.QuotaCode ?? 'no code'})`
          : `documented default (not listed in Service Quotas)`;
        const detail = `needs ${amount} (${because}); quota ${limit} from ${source}`;
        if (amount > limit) {
          return result(
            id,
            'fail',
            detail,
            `request an increase to at least ${amount} in Service Quotas (service ${requirement.serviceCode}${quota?.QuotaCode ? `, quota ${quota.QuotaCode}` : ''}) in ${config.region}, or lower the setting in lib/config`,
          );
        }
        return result(
          id,
          quota ? 'pass' : 'warn',
          detail + (amount === limit ? ' (no headroom: other environments or sandboxes in this account share it)' : ''),
        );
      }),
  };
}
