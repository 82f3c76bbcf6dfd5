import { Stage, StageProps, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ResolvedEnvironment } from '../config/load-config';
import { DataStack } from '../stacks/data-stack';
import { NetworkStack } from '../stacks/network-stack';
import { ObservabilityStack } from '../stacks/observability-stack';
import { ProcessingStack } from '../stacks/processing-stack';
import { SecurityStack } from '../stacks/security-stack';
import { StreamingStack } from '../stacks/streaming-stack';

export interface LakestreamStageProps extends StageProps {
  readonly config: ResolvedEnvironment;
}

/**
 * One complete copy of the platform for one environment. Stacks are split by lifecycle:
 * security (keys) → network → data (stateful) → streaming → processing → observability.
 * Stateful stacks never depend on stateless ones; values flow as typed props.
 */
export class LakestreamStage extends Stage {
  public readonly config: ResolvedEnvironment;
  public readonly security: SecurityStack;
  public readonly network: NetworkStack;
  public readonly data: DataStack;
  public readonly streaming: StreamingStack;
  public readonly processing: ProcessingStack;
  public readonly observability: ObservabilityStack;

  constructor(scope: Construct, id: string, props: LakestreamStageProps) {
    super(scope, id, {
      ...props,
      env: { account: props.config.account, region: props.config.region },
    });
    const { config } = props;
    this.config = config;
    const stackName = (suffix: string) => `${config.qualifier}-${suffix}`;
    const description = (what: string) => `Lakestream ${config.stageName}: ${what}`;

    this.security = new SecurityStack(this, 'Security', {
      stackName: stackName('security'),
      description: description('customer-managed KMS keys'),
      terminationProtection: config.terminationProtection,
      config,
    });
    this.network = new NetworkStack(this, 'Network', {
      stackName: stackName('network'),
      description: description('VPC, endpoints, flow logs, security groups'),
      config,
      logsKey: this.security.keys.logs,
    });
    this.data = new DataStack(this, 'Data', {
      stackName: stackName('data'),
      description: description('lake buckets, Glue databases, Athena workgroup, MSK cluster'),
      terminationProtection: config.terminationProtection,
      config,
      keys: this.security.keys,
      network: this.network.network,
    });

    this.streaming = new StreamingStack(this, 'Streaming', {
      stackName: stackName('streaming'),
      description: description('Kafka topics, artifact mirror, Debezium CDC, ingestion glue'),
      config,
      keys: this.security.keys,
      network: this.network.network,
      kafka: this.data.kafka,
      lake: this.data.lake,
    });
    this.processing = new ProcessingStack(this, 'Processing', {
      stackName: stackName('processing'),
      description: description('Managed Flink, EMR Serverless Spark, batch jobs and schedules, Glue tables'),
      config,
      keys: this.security.keys,
      network: this.network.network,
      kafka: this.data.kafka,
      lake: this.data.lake,
      catalog: this.data.catalog,
      topics: this.streaming.topics,
      artifacts: this.streaming.artifacts,
      erasureReceipts: this.data.erasureReceipts,
      userRefKey: this.data.userRefKey,
    });
    this.observability = new ObservabilityStack(this, 'Observability', {
      stackName: stackName('observability'),
      description: description('Managed Prometheus, MSK scraping, alert rules, alarms, Grafana'),
      config,
      keys: this.security.keys,
      network: this.network.network,
      kafka: this.data.kafka,
      lake: this.data.lake,
      catalog: this.data.catalog,
      streaming: this.streaming,
      processing: this.processing,
    });

    this.applyTags(config);
    if (config.permissionsBoundaryArn) {
      iam.PermissionsBoundary.of(this).apply(iam.ManagedPolicy.fromManagedPolicyArn(this, 'PermissionsBoundary', config.permissionsBoundaryArn));
    }
  }

  private applyTags(config: ResolvedEnvironment): void {
    const tags: Record<string, string> = {
      project: 'lakestream',
      environment: config.name,
      owner: config.owner ?? 'platform',
      'cost-centre': config.costCentre,
      'data-classification': config.dataClassification,
      ...config.tags,
    };
    for (const [key, value] of Object.entries(tags)) Tags.of(this).add(key, value);
  }
}
