import { Aws, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
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
  /**
   * Attached to every Kafka client; the MSK cluster admits it on the IAM listener. Egress: HTTPS to
   * the interface endpoints and to S3 (its gateway prefix list); the data stack adds the brokers.
   */
  public readonly kafkaClientSecurityGroup: ec2.SecurityGroup;
  /**
   * HTTPS to the internet (through NAT), for the functions that call services outside AWS (GA4).
   * Only where compute subnets have internet egress.
   */
  public readonly internetEgressSecurityGroup?: ec2.SecurityGroup;
  /** Whether compute subnets can reach the internet (NAT). */
  public readonly hasInternetEgress: boolean;
  public readonly flowLogGroup?: logs.LogGroup;

  private readonly logsKey: kms.IKey;
  private readonly flowLogRetention: logs.RetentionDays;

  constructor(scope: Construct, id: string, props: PlatformNetworkProps) {
    super(scope, id);
    this.logsKey = props.logsKey;
    this.flowLogRetention = props.flowLogRetention;
    const options = props.vpc;
    let createEndpoints = true;
    let createFlowLogs = true;

    if (options.mode === 'create') {
      const subnetConfiguration: ec2.SubnetConfiguration[] = [{ name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }];
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

    this.kafkaClientSecurityGroup = new ec2.SecurityGroup(this, 'KafkaClientSecurityGroup', {
      vpc: this.vpc,
      description: 'Kafka clients (Lambdas, Flink, Spark, MSK Connect): admitted by the MSK cluster on its IAM listener',
      allowAllOutbound: false,
    });

    if (createEndpoints) {
      // One shared endpoint group admitting HTTPS from the VPC's own (literal) CIDR only.
      const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'Interface VPC endpoints: HTTPS from inside the VPC',
        allowAllOutbound: false,
      });
      endpointSecurityGroup.addIngressRule(
        ec2.Peer.ipv4(options.mode === 'create' ? options.cidr : options.vpcCidrBlock),
        ec2.Port.tcp(443),
        'HTTPS from the VPC',
      );
      const allSubnets =
        options.mode === 'create'
          ? [{ subnets: this.vpc.isolatedSubnets }, ...(this.hasInternetEgress ? [{ subnets: this.vpc.privateSubnets }] : [])]
          : [this.computeSubnets];
      const s3Endpoint = this.vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: allSubnets });
      // Only this account's buckets through the gateway: a stolen credential cannot copy data out to another account's bucket.
      s3Endpoint.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ThisAccountsBuckets',
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:ResourceAccount': Aws.ACCOUNT_ID } },
        }),
      );
      for (const [name, service] of Object.entries(props.interfaceEndpoints ?? DEFAULT_INTERFACE_ENDPOINTS)) {
        const endpoint = this.vpc.addInterfaceEndpoint(`${name}Endpoint`, {
          service,
          subnets: this.computeSubnets,
          privateDnsEnabled: true,
          open: false,
          securityGroups: [endpointSecurityGroup],
        });
        // Only this account's principals may call AWS through the endpoint (aws:PrincipalAccount is a global key every service evaluates).
        endpoint.addToPolicy(
          new iam.PolicyStatement({
            sid: 'ThisAccountsPrincipals',
            principals: [new iam.AnyPrincipal()],
            actions: ['*'],
            resources: ['*'],
            conditions: { StringEquals: { 'aws:PrincipalAccount': Aws.ACCOUNT_ID } },
          }),
        );
      }
      this.kafkaClientSecurityGroup.addEgressRule(endpointSecurityGroup, ec2.Port.tcp(443), 'HTTPS to the interface endpoints');
      this.kafkaClientSecurityGroup.addEgressRule(ec2.Peer.prefixList(this.s3PrefixListId()), ec2.Port.tcp(443), 'HTTPS to S3 through the gateway endpoint');
    } else {
      // The owners of an imported VPC route AWS API traffic; Lakestream cannot name the destinations.
      this.kafkaClientSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs through the routing of the imported VPC');
    }

    if (this.hasInternetEgress) {
      this.internetEgressSecurityGroup = new ec2.SecurityGroup(this, 'InternetEgressSecurityGroup', {
        vpc: this.vpc,
        description: 'HTTPS to the internet through NAT, for functions that call services outside AWS (GA4)',
        allowAllOutbound: false,
      });
      this.internetEgressSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to services outside AWS');
    }
  }

  /**
   * The id of the region's S3 prefix list (com.amazonaws.<region>.s3), which security groups need
   * to name the gateway endpoint's destinations. CloudFormation exposes it on no resource, so a
   * deploy-time lookup reads it (DescribeManagedPrefixLists answers only on Resource *).
   */
  private s3PrefixListId(): string {
    const lookup = new cr.AwsCustomResource(this, 'S3PrefixList', {
      onUpdate: {
        service: 'EC2',
        action: 'describeManagedPrefixLists',
        parameters: { Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${Aws.REGION}.s3`] }] },
        physicalResourceId: cr.PhysicalResourceId.of(`com.amazonaws.${Aws.REGION}.s3`),
        outputPaths: ['PrefixLists.0.PrefixListId'],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({ actions: ['ec2:DescribeManagedPrefixLists'], resources: ['*'] })]),
      installLatestAwsSdk: false,
      logGroup: new logs.LogGroup(this, 'S3PrefixListLogs', {
        encryptionKey: this.logsKey,
        retention: this.flowLogRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    Validations.of(lookup).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ec2:DescribeManagedPrefixLists supports only Resource * (no resource-level permissions).',
    });
    return lookup.getResponseField('PrefixLists.0.PrefixListId');
  }
}
