import { Aws, CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as grafana from 'aws-cdk-lib/aws-grafana';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { WildcardAcknowledgements } from '../../compliance/wildcard-acknowledgements';
import { LakestreamFunction } from '../core/lakestream-function';
import { LakestreamProvider } from '../core/lakestream-provider';
import { DATASOURCE_UIDS, DEFAULT_DASHBOARDS_DIR, loadDashboards } from './dashboard-files';

/** The Amazon Managed Service for Prometheus workspace Grafana queries. */
export interface GrafanaPrometheusSource {
  /** ARN of the AMP workspace. */
  readonly workspaceArn: string;
  /** The workspace's Prometheus endpoint (`https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/`). */
  readonly queryEndpoint: string;
}

/** The Athena workgroup and Glue databases the business dashboards read. */
export interface GrafanaAthenaSource {
  /** Athena workgroup the data source runs queries in. */
  readonly workgroupName: string;
  /** Glue databases readable through Athena; the first is the data source's default database. */
  readonly databaseNames: string[];
  /** Bucket receiving the workgroup's query results. */
  readonly resultsBucket: s3.IBucket;
  /** Key prefix of the query results in `resultsBucket`, e.g. `athena/`. */
  readonly resultsPrefix: string;
  /**
   * Where the readable tables keep their objects: each bucket with the key prefixes Grafana may read
   * (read only). Only what dashboards query: aggregated gold reports and the serving views' sources,
   * never raw bronze or quarantined records (GDPR: no raw personal data in dashboards).
   */
  readonly dataLocations: Array<{ readonly bucket: s3.IBucket; readonly prefixes: string[] }>;
  /**
   * Per database, the only tables Grafana may read; a database not listed here is readable whole.
   * @default every table of every database
   */
  readonly tableNames?: Record<string, string[]>;
  /** Key encrypting the lake buckets and the query results. */
  readonly lakeKey: kms.IKey;
}

export interface GrafanaWorkspaceProps {
  /** Workspace name, also the prefix of the provisioner's service account. */
  readonly name: string;
  /** How users sign in. @default ['AWS_SSO'] */
  readonly authenticationProviders?: Array<'AWS_SSO' | 'SAML'>;
  /** SAML settings; required when `authenticationProviders` includes SAML. @default none */
  readonly samlConfiguration?: grafana.CfnWorkspace.SamlConfigurationProperty;
  /** Metrics of the Kafka cluster. */
  readonly prometheus: GrafanaPrometheusSource;
  /** Gold tables for the business dashboard. */
  readonly athena: GrafanaAthenaSource;
  /** Key for the provisioner's logs and environment (the environment's logs key). */
  readonly logsKey: kms.IKey;
  /** Retention of the provisioner's logs. */
  readonly logRetention: logs.RetentionDays;
  /** Title of the folder holding this environment's dashboards, e.g. `Lakestream dev`. */
  readonly folderTitle: string;
  /** uid of that folder. @default derived from `name` */
  readonly folderUid?: string;
  /** Folder of dashboard JSON files. @default dashboards/grafana */
  readonly dashboardsDir?: string;
  /**
   * Values of dashboard textbox/constant variables (e.g. `flink_application`), set by the provisioner
   * at push time; tokens are fine. The first Athena database is always passed as `database` unless
   * overridden here. Every such variable a query uses must be given here or in
   * `unavailableDashboardVariables`, or synth fails.
   * @default only `database`
   */
  readonly dashboardVariables?: Record<string, string>;
  /**
   * Variables of components this environment does not deploy (e.g. `ga4_ingest_function` without
   * GA4), each with the sentence shown instead: queries using them are removed, and a panel left
   * without queries shows the sentence as a text panel.
   * @default none
   */
  readonly unavailableDashboardVariables?: Record<string, string>;
  /**
   * Column per-user panels show: `user_ref` (the keyed pseudonym) or `user_id`. See
   * DashboardEnvironment.userColumn.
   * @default 'user_id'
   */
  readonly dashboardUserColumn?: 'user_id' | 'user_ref';
  /** Topic Grafana alerting may publish to. @default no notification destination */
  readonly notificationTopic?: sns.ITopic;
  /** Delete the folder and its dashboards when the stack removes this construct. @default false (kept) */
  readonly deleteDashboardsOnRemove?: boolean;
  /** Grafana version. @default '10.4' */
  readonly grafanaVersion?: string;
}

/**
 * Amazon Managed Grafana with a least-privilege, customer-managed workspace role, Prometheus /
 * CloudWatch / Athena data sources and the dashboards of dashboards/grafana provisioned into a
 * folder per environment. Dashboards travel inline in the custom resource's properties (the
 * template limit is 1 MB; the dashboards are a few kB each), each with its sha256 so that an edit
 * re-pushes only the dashboards whose hash changed.
 */
export class GrafanaWorkspace extends Construct {
  public readonly workspace: grafana.CfnWorkspace;
  public readonly workspaceRole: iam.Role;
  public readonly workspaceArn: string;
  /** Host name of the workspace (no scheme). */
  public readonly endpoint: string;
  public readonly provisioner: CustomResource;

  constructor(scope: Construct, id: string, props: GrafanaWorkspaceProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const authenticationProviders = props.authenticationProviders ?? ['AWS_SSO'];
    if (authenticationProviders.includes('SAML') && !props.samlConfiguration) {
      throw new Error('GrafanaWorkspace: samlConfiguration is required when authenticationProviders includes SAML');
    }
    if (props.athena.databaseNames.length === 0) throw new Error('GrafanaWorkspace: athena.databaseNames must name at least one database');

    this.workspaceRole = new iam.Role(this, 'WorkspaceRole', {
      assumedBy: new iam.ServicePrincipal('grafana.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: `Data source access of the ${props.name} Grafana workspace`,
    });
    this.grantDataSourceAccess(props);

    this.workspace = new grafana.CfnWorkspace(this, 'Workspace', {
      name: props.name,
      description: `Lakestream dashboards (${props.folderTitle})`,
      accountAccessType: 'CURRENT_ACCOUNT',
      authenticationProviders,
      samlConfiguration: props.samlConfiguration,
      permissionType: 'CUSTOMER_MANAGED',
      roleArn: this.workspaceRole.roleArn,
      dataSources: ['PROMETHEUS', 'CLOUDWATCH', 'ATHENA'],
      notificationDestinations: props.notificationTopic ? ['SNS'] : undefined,
      grafanaVersion: props.grafanaVersion ?? '10.4',
    });
    this.workspaceArn = stack.formatArn({ service: 'grafana', resource: '/workspaces', resourceName: this.workspace.attrId });
    this.endpoint = this.workspace.attrEndpoint;
    this.provisioner = this.createProvisioner(props);
  }

  private grantDataSourceAccess(props: GrafanaWorkspaceProps): void {
    const stack = Stack.of(this);
    const { athena } = props;
    const role = this.workspaceRole;
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['aps:QueryMetrics', 'aps:GetSeries', 'aps:GetLabels', 'aps:GetMetricMetadata'],
        resources: [props.prometheus.workspaceArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics', 'cloudwatch:GetMetricStatistics'],
        resources: ['*'],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'],
        resources: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: athena.workgroupName })],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['athena:GetDataCatalog', 'athena:ListDatabases', 'athena:GetDatabase', 'athena:ListTableMetadata', 'athena:GetTableMetadata'],
        resources: [stack.formatArn({ service: 'athena', resource: 'datacatalog', resourceName: 'AwsDataCatalog' })],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetDatabase', 'glue:GetDatabases', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          ...athena.databaseNames.map((db) => stack.formatArn({ service: 'glue', resource: 'database', resourceName: db })),
          ...athena.databaseNames.flatMap((db) => glueTableArns(stack, db, athena.tableNames?.[db])),
        ],
      }),
    );
    const resultsPrefix = athena.resultsPrefix.replace(/^\/+/, '');
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [athena.resultsBucket.arnForObjects(`${resultsPrefix}*`)],
      }),
    );
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketLocation', 's3:ListBucket'], resources: [athena.resultsBucket.bucketArn] }));
    const dataObjects = athena.dataLocations.flatMap((l) => l.prefixes.map((p) => l.bucket.arnForObjects(`${p}*`)));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: athena.dataLocations.map((l) => l.bucket.bucketArn) }));
    for (const location of athena.dataLocations) {
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [location.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': location.prefixes.map((p) => `${p}*`) } },
        }),
      );
    }
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: dataObjects }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], resources: [athena.lakeKey.keyArn] }));
    if (props.notificationTopic) {
      role.addToPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.notificationTopic.topicArn] }));
      // A publisher to an SSE-KMS topic needs kms:GenerateDataKey and kms:Decrypt on the topic's key
      // (SNS developer guide, "Configuring AWS KMS permissions"); only through SNS, as the key policy also requires.
      const topicKey = props.notificationTopic.masterKey;
      if (topicKey) {
        role.addToPolicy(
          new iam.PolicyStatement({
            sid: 'PublishToEncryptedNotificationTopic',
            actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
            resources: [topicKey.keyArn],
            conditions: { StringEquals: { 'kms:ViaService': `sns.${stack.region}.amazonaws.com` } },
          }),
        );
      }
    }

    const policy = role.node.tryFindChild('DefaultPolicy') as iam.Policy;
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:GetMetricData, ListMetrics and GetMetricStatistics support only Resource * (no resource-level permissions).',
    });
    // Resolved after cross-stack references are rendered, so buckets in the data stack match too.
    const wildcards = new WildcardAcknowledgements(policy);
    wildcards.add(
      athena.resultsBucket.arnForObjects(`${resultsPrefix}*`),
      'Athena writes query results under generated keys below the workgroup results prefix.',
    );
    for (const arn of dataObjects)
      wildcards.add(arn, "Athena reads the dashboards' tables with the caller's credentials; their objects below this dataset prefix have generated keys.");
    for (const db of athena.databaseNames) {
      if (!athena.tableNames?.[db])
        wildcards.add(glueTableArns(stack, db)[0]!, `Grafana lists and reads every table of the ${db} database (aggregated reports and serving views).`);
    }
  }

  private createProvisioner(props: GrafanaWorkspaceProps): CustomResource {
    const stack = Stack.of(this);
    const fn = new LakestreamFunction(this, 'ProvisionerFunction', {
      handlerDir: 'grafana-provisioner',
      description: `Provisions data sources and dashboards into the ${props.name} Grafana workspace`,
      encryptionKey: props.logsKey,
      logRetention: props.logRetention,
      timeout: Duration.minutes(5),
    });
    fn.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'grafana:DescribeWorkspace',
          'grafana:CreateWorkspaceServiceAccount',
          'grafana:ListWorkspaceServiceAccounts',
          'grafana:CreateWorkspaceServiceAccountToken',
          'grafana:DeleteWorkspaceServiceAccountToken',
        ],
        resources: [this.workspaceArn],
      }),
    );
    const provider = new LakestreamProvider(this, 'Provider', { onEvent: fn, encryptionKey: props.logsKey, logRetention: props.logRetention });

    const region = Aws.REGION;
    const { athena } = props;
    const dataSources = [
      {
        uid: DATASOURCE_UIDS.prometheus,
        name: 'Lakestream Prometheus',
        type: 'prometheus',
        url: props.prometheus.queryEndpoint,
        isDefault: true,
        jsonData: { httpMethod: 'POST', sigV4Auth: true, sigV4AuthType: 'ec2_iam_role', sigV4Region: region },
      },
      { uid: DATASOURCE_UIDS.cloudwatch, name: 'Lakestream CloudWatch', type: 'cloudwatch', jsonData: { authType: 'ec2_iam_role', defaultRegion: region } },
      {
        uid: DATASOURCE_UIDS.athena,
        name: 'Lakestream Athena',
        type: 'grafana-athena-datasource',
        jsonData: {
          authType: 'ec2_iam_role',
          defaultRegion: region,
          catalog: 'AwsDataCatalog',
          database: athena.databaseNames[0],
          workgroup: athena.workgroupName,
          outputLocation: athena.resultsBucket.s3UrlForObject(athena.resultsPrefix),
        },
      },
    ];
    const variables = { database: athena.databaseNames[0], ...props.dashboardVariables };
    const unavailable = props.unavailableDashboardVariables ?? {};
    const both = Object.keys(variables).filter((name) => name in unavailable);
    if (both.length > 0) throw new Error(`GrafanaWorkspace: dashboard variable(s) ${both.join(', ')} are both given a value and marked unavailable`);
    const dashboards = loadDashboards(props.dashboardsDir ?? DEFAULT_DASHBOARDS_DIR, {
      provided: Object.keys(variables),
      unavailable,
      userColumn: props.dashboardUserColumn,
    }).map(({ uid, sha256, json }) => ({
      uid,
      sha256,
      json,
    }));
    const folderUid =
      props.folderUid ??
      props.name
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, '-')
        .slice(0, 40);

    const resource = new CustomResource(this, 'Provisioner', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::GrafanaProvisioner',
      properties: {
        WorkspaceId: this.workspace.attrId,
        FolderUid: folderUid,
        FolderTitle: props.folderTitle,
        ServiceAccountName: `${props.name}-provisioner`.slice(0, 128),
        DataSources: stack.toJsonString(dataSources),
        Dashboards: JSON.stringify(dashboards),
        // toJsonString: values may be tokens (function names, ARNs of other stacks).
        DashboardVariables: stack.toJsonString(variables),
        DeleteOnRemove: String(props.deleteDashboardsOnRemove ?? false),
      },
    });
    // The data sources act through the workspace role: its policy must be in place first.
    resource.node.addDependency(this.workspaceRole);
    return resource;
  }
}

function glueTableArns(stack: Stack, database: string, tables?: string[]): string[] {
  return (tables ?? ['*']).map((table) => stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${database}/${table}` }));
}
