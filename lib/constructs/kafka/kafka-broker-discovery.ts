import { CustomResource, Duration, Fn, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LakestreamFunction } from '../core/lakestream-function';
import { LakestreamProvider } from '../core/lakestream-provider';

/** CloudFormation type of the discovery resource; tests find consumers' broker values by it. */
export const BROKER_DISCOVERY_RESOURCE_TYPE = 'Custom::MskBrokerDiscovery';

export interface KafkaBrokerDiscoveryProps {
  /** ARN of the MSK cluster: the only value that crosses from the data stack. */
  readonly clusterArn: string;
  /** Cluster name, for the function's description. */
  readonly clusterName: string;
  /**
   * Number of brokers the cluster is declared with. A change re-runs discovery (the new brokers
   * reach every consumer), and discovery fails when MSK lists a different number.
   */
  readonly brokerCount: number;
  /** Key of the function's logs and environment (the environment's logs key). */
  readonly encryptionKey: kms.IKey;
  /** How long the function's and the provider's logs are kept. */
  readonly logRetention: logs.RetentionDays;
}

/**
 * The brokers of an MSK cluster, discovered at deploy time by a custom resource in the consuming
 * stack (kafka:GetBootstrapBrokers and kafka:ListNodes) and read with Fn::GetAtt.
 *
 * Why not an SSM parameter or a stack export: CloudFormation resolves `{{resolve:ssm:...}}` only
 * when a template changes and applies intrinsic functions to the unresolved reference text; and an
 * export that is in use cannot change value. The discovery resource's properties are the cluster
 * ARN and the broker count, so a replaced or resized cluster changes the template and re-runs it,
 * and every value derived from its attributes is a real string CloudFormation can split.
 */
export class KafkaBrokerDiscovery extends Construct {
  public readonly resource: CustomResource;
  /** SASL/IAM bootstrap broker string, `b-1...:9098,b-2...:9098`. */
  public readonly bootstrapBrokers: string;
  /** Broker DNS names, comma-separated, ordered by broker ID (no ports). */
  public readonly brokerHosts: string;
  /** One token per broker (Fn::Select over `brokerHosts`), `brokerCount` of them. */
  public readonly brokerHostList: string[];
  public readonly function: LakestreamFunction;

  constructor(scope: Construct, id: string, props: KafkaBrokerDiscoveryProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.brokerCount) && (!Number.isInteger(props.brokerCount) || props.brokerCount < 1)) {
      throw new Error(`KafkaBrokerDiscovery: brokerCount is ${props.brokerCount}; allowed: a positive integer (the cluster's numberOfBrokerNodes).`);
    }

    this.function = new LakestreamFunction(this, 'Handler', {
      handlerDir: 'bootstrap-brokers',
      description: `Discovers the brokers of MSK cluster ${props.clusterName} for this stack's Kafka clients and scraper`,
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      timeout: Duration.minutes(1),
    });
    this.function.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['kafka:GetBootstrapBrokers', 'kafka:ListNodes'], resources: [props.clusterArn] }),
    );
    const provider = new LakestreamProvider(this, 'Provider', {
      onEvent: this.function,
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: BROKER_DISCOVERY_RESOURCE_TYPE,
      properties: { ClusterArn: props.clusterArn, BrokerCount: String(props.brokerCount) },
    });
    this.bootstrapBrokers = this.resource.getAttString('BootstrapBrokers');
    this.brokerHosts = this.resource.getAttString('BrokerHosts');
    this.brokerHostList = Fn.split(',', this.brokerHosts, props.brokerCount);
  }
}
