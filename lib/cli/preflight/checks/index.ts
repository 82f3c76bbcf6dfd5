import type { PreflightCheck } from '../types';
import { bootstrapCheck } from './bootstrap';
import { identityCenterCheck } from './identity-center';
import { internetEgressCheck } from './internet-egress';
import { QUOTA_REQUIREMENTS, quotaCheck } from './quotas';
import { regionServicesCheck } from './region-services';
import { serviceLinkedRolesCheck } from './service-linked-roles';

/** Every preflight check, in table order. */
export const PREFLIGHT_CHECKS: readonly PreflightCheck[] = [
  identityCenterCheck,
  bootstrapCheck,
  serviceLinkedRolesCheck,
  regionServicesCheck,
  internetEgressCheck,
  ...QUOTA_REQUIREMENTS.map(quotaCheck),
];
