import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { EnvironmentConfig } from './schema';
import type { ResolvedEnvironment } from './load-config';

/** Config value → CDK value conversions shared by the stacks. */

export function removalPolicyOf(config: Pick<EnvironmentConfig, 'removalPolicy'>): RemovalPolicy {
  return config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

/** The schema admits only CloudWatch's retention periods, so the cast is checked there. */
export function retentionOf(days: number): logs.RetentionDays {
  return days as logs.RetentionDays;
}

/** Explicit AZ names: configured, else `<region>a`, `<region>b`, ... (no lookup at synth). */
export function availabilityZonesOf(config: Pick<EnvironmentConfig, 'network' | 'region'>): string[] {
  const network = config.network;
  if (network.availabilityZones) return [...network.availabilityZones];
  if (network.mode === 'import') return [];
  return ['a', 'b', 'c'].slice(0, network.azCount).map((letter) => `${config.region}${letter}`);
}

/**
 * Name of the login-counts Managed Flink application. The security stack names it in the state
 * key's policy and the processing stack creates it: one definition, no cross-stack reference.
 */
export function flinkApplicationNameOf(config: Pick<ResolvedEnvironment, 'qualifier'>): string {
  return `${config.qualifier}-login-counts`;
}
