import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** A VPC created by Lakestream. */
export interface CreateVpcOptions {
  readonly mode: 'create';
  /** IPv4 CIDR of the VPC. */
  readonly cidr: string;
  /** Availability zones, named explicitly so synth needs no lookup. */
  readonly availabilityZones: string[];
  /** NAT gateways; 0 means no internet egress and isolated subnets only. */
  readonly natGateways: number;
}

/** An existing VPC, described by explicit ids (no lookups at synth). */
export interface ImportVpcOptions {
  readonly mode: 'import';
  readonly vpcId: string;
  readonly vpcCidrBlock: string;
  readonly availabilityZones: string[];
  readonly privateSubnetIds: string[];
  readonly privateSubnetRouteTableIds: string[];
  /** Create the endpoints in the imported VPC. */
  readonly createEndpoints: boolean;
  /** Create flow logs for the imported VPC. */
  readonly createFlowLogs: boolean;
}

export interface PlatformNetworkProps {
  /** Create a VPC or import one. */
  readonly vpc: CreateVpcOptions | ImportVpcOptions;
  /** Key encrypting the flow-log group. */
  readonly logsKey: kms.IKey;
  /** Flow-log retention. */
  readonly flowLogRetention: logs.RetentionDays;
  /** Removal policy of the flow-log group. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Interface endpoints to create, so private subnets reach AWS APIs without the internet.
   * @default KMS, STS, Secrets Manager, CloudWatch Logs, CloudWatch Monitoring, Glue, SSM, SQS
   */
  readonly interfaceEndpoints?: Record<string, ec2.InterfaceVpcEndpointAwsService>;
}

/** The services every environment reaches privately. */
export const DEFAULT_INTERFACE_ENDPOINTS: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
  Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  Monitoring: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
  Glue: ec2.InterfaceVpcEndpointAwsService.GLUE,
  Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
  Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
};

/**
 * The platform's network: a VPC (new, or imported from ids), subnets for compute (private, with
 * egress when NAT exists) and for data (isolated), an S3 gateway endpoint, interface endpoints for
 * the AWS APIs the platform calls, KMS-encrypted flow logs, and the security group Kafka clients use.
 */
export class PlatformNetwork extends Construct {
  public readonly vpc: ec2.IVpc;
  /** Where Lambdas, Flink and Spark run. */
  public readonly computeSubnets: ec2.SubnetSelection;
  /** Where the MSK brokers live: no route to the internet needed. */
  public readonly dataSubnets: ec2.SubnetSelection;
  /** Attached to every Kafka client; the MSK cluster admits it on the IAM listener. */
  public readonly kafkaClientSecurityGroup: ec2.SecurityGroup;
  /** Whether compute subnets can reach the internet (NAT). */
  public readonly hasInternetEgress: boolean;
  public readonly flowLogGroup?: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PlatformNetworkProps) {
    super(scope, id);
    const options = props.vpc;
    let createEndpoints = true;
    let createFlowLogs = true;

    if (options.mode === 'create') {
      const subnetConfiguration: ec2.SubnetConfiguration[] = [
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ];
      if (options.natGateways > 0) {
        subnetConfiguration.unshift(
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
          { name: 'compute', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        );
      }
      const vpc = new ec2.Vpc(this, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr(options.cidr),
        availabilityZones: options.availabilityZones,
        natGateways: options.natGateways,
        subnetConfiguration,
        restrictDefaultSecurityGroup: true,
      });
      this.vpc = vpc;
      this.hasInternetEgress = options.natGateways > 0;
      this.computeSubnets = { subnetType: this.hasInternetEgress ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED };
      this.dataSubnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
      for (const subnet of vpc.publicSubnets) {
        Validations.of(subnet).acknowledge({
          id: 'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW',
          reason: 'Public subnets hold only the NAT gateways that give private subnets egress; nothing else is placed in them.',
        });
      }
    } else {
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: options.vpcId,
        vpcCidrBlock: options.vpcCidrBlock,
        availabilityZones: options.availabilityZones,
        privateSubnetIds: options.privateSubnetIds,
        privateSubnetRouteTableIds: options.privateSubnetRouteTableIds,
      });
      // Imported private subnets serve both roles: the owning team decides their routing.
      this.hasInternetEgress = true;
      this.computeSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
      this.dataSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
      createEndpoints = options.createEndpoints;
      createFlowLogs = options.createFlowLogs;
    }

    if (createFlowLogs) {
      this.flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
        encryptionKey: props.logsKey,
        retention: props.flowLogRetention,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      new ec2.FlowLog(this, 'FlowLog', {
        resourceType: ec2.FlowLogResourceType.fromVpc(this.vpc),
        destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
        trafficType: ec2.FlowLogTrafficType.ALL,
      });
    } else {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-VPC7',
        reason: 'Imported VPC: its owners run flow logs (config network.createFlowLogs=false).',
      });
    }

    if (createEndpoints) {
      // One shared endpoint group admitting HTTPS from the VPC's own (literal) CIDR only.
      const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'Interface VPC endpoints: HTTPS from inside the VPC',
        allowAllOutbound: false,
      });
      endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(options.mode === 'create' ? options.cidr : options.vpcCidrBlock), ec2.Port.tcp(443), 'HTTPS from the VPC');
      const allSubnets = options.mode === 'create' ? [{ subnets: this.vpc.isolatedSubnets }, ...(this.hasInternetEgress ? [{ subnets: this.vpc.privateSubnets }] : [])] : [this.computeSubnets];
      this.vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: allSubnets });
      for (const [name, service] of Object.entries(props.interfaceEndpoints ?? DEFAULT_INTERFACE_ENDPOINTS)) {
        this.vpc.addInterfaceEndpoint(`${name}Endpoint`, { service, subnets: this.computeSubnets, privateDnsEnabled: true, open: false, securityGroups: [endpointSecurityGroup] });
      }
    }

    this.kafkaClientSecurityGroup = new ec2.SecurityGroup(this, 'KafkaClientSecurityGroup', {
      vpc: this.vpc,
      description: 'Kafka clients (Lambdas, Flink, Spark, MSK Connect): admitted by the MSK cluster on its IAM listener',
      allowAllOutbound: true,
    });
  }

}
