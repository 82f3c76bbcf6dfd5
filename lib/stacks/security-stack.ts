import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { flinkApplicationNameOf, removalPolicyOf } from '../config/cdk-values';
import type { ResolvedEnvironment } from '../config/load-config';
import { PlatformKeys } from '../constructs/security/platform-keys';

export interface SecurityStackProps extends StackProps {
  readonly config: ResolvedEnvironment;
}

/**
 * The customer-managed KMS keys. Stateful and deployed first: every other stack, the network's
 * flow logs included, encrypts with these keys, and data outlives no key it was encrypted with.
 */
export class SecurityStack extends Stack {
  public readonly keys: PlatformKeys;

  constructor(scope: Construct, id: string, props: SecurityStackProps) {
    super(scope, id, props);
    this.keys = new PlatformKeys(this, 'Keys', {
      qualifier: props.config.qualifier,
      removalPolicy: removalPolicyOf(props.config),
      // The processing stack encrypts the login-counts application's state with the streaming key.
      flinkApplicationNames: props.config.flink.enabled ? [flinkApplicationNameOf(props.config)] : [],
    });
  }
}
