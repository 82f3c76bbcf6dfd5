import { Stack, StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { availabilityZonesOf, removalPolicyOf, retentionOf } from '../config/cdk-values';
import type { ResolvedEnvironment } from '../config/load-config';
import { PlatformNetwork } from '../constructs/network/platform-network';

export interface NetworkStackProps extends StackProps {
  readonly config: ResolvedEnvironment;
  /** Encrypts the flow-log group. */
  readonly logsKey: kms.IKey;
}

/** The VPC (created or imported), endpoints, flow logs and the Kafka-client security group. */
export class NetworkStack extends Stack {
  public readonly network: PlatformNetwork;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { config } = props;
    const vpc =
      config.network.mode === 'create'
        ? { mode: 'create' as const, cidr: config.network.cidr, natGateways: config.network.natGateways, availabilityZones: availabilityZonesOf(config) }
        : config.network;
    this.network = new PlatformNetwork(this, 'Network', {
      vpc,
      logsKey: props.logsKey,
      flowLogRetention: retentionOf(config.flowLogRetentionDays),
      removalPolicy: removalPolicyOf(config),
    });
  }
}
