import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { loadDashboards } from '../../../lib/constructs/monitoring/dashboard-files';
import { GrafanaWorkspace, type GrafanaWorkspaceProps } from '../../../lib/constructs/monitoring/grafana-workspace';
import { Finding, formatFindings, newCompliantTestApp, synthFindings } from '../../helpers/compliance';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** Every textbox/constant variable of the dashboards but the GA4 one. */
const VARIABLES = {
  flink_application: 'lakestream-dev-login-counts',
  flink_consumer_group: 'lakestream-flink-login-counts',
  emr_application_id: '00abc',
  file_replay_service: 'replay-svc',
  file_replay_function: 'replay-worker',
  replay_state_machine_arn: 'arn:aws:states:eu-west-1:111111111111:stateMachine:replay',
  streaming_job_name: 'streaming-bronze',
};

function build(app = newCompliantTestApp(), overrides: Partial<GrafanaWorkspaceProps> | ((stack: Stack) => Partial<GrafanaWorkspaceProps>) = {}) {
  const stack = new Stack(new Stage(app, 'Test'), 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const bucket = (id: string) => new s3.Bucket(stack, id, { encryptionKey: key, enforceSSL: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
  const results = bucket('Results');
  const gold = bucket('Gold');
  const grafana = new GrafanaWorkspace(stack, 'Grafana', {
    name: 'lakestream-dev',
    prometheus: {
      workspaceArn: 'arn:aws:aps:eu-west-1:111111111111:workspace/ws-1234',
      queryEndpoint: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1234/',
    },
    athena: {
      workgroupName: 'lakestream-dev-analytics',
      databaseNames: ['lakestream_dev_gold'],
      resultsBucket: results,
      resultsPrefix: 'athena/',
      dataLocations: [{ bucket: gold, prefixes: ['reports/'] }],
      lakeKey: key,
    },
    logsKey: key,
    logRetention: logs.RetentionDays.ONE_MONTH,
    folderTitle: 'Lakestream dev',
    dashboardVariables: VARIABLES,
    unavailableDashboardVariables: { ga4_ingest_function: 'GA4 ingest is not deployed here.' },
    ...(typeof overrides === 'function' ? overrides(stack) : overrides),
  });
  return { app, stack, grafana };
}

function statementsOf(template: Template, rolePrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(rolePrefix))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (s: Statement) => ([] as string[]).concat(s.Action);

describe('GrafanaWorkspace', () => {
  let template: Template;
  let findings: Finding[];
  let path_: string;

  beforeAll(() => {
    const { app, stack, grafana } = build();
    path_ = grafana.node.path;
    template = Template.fromStack(stack);
    findings = synthFindings(app);
  });

  it('creates a current-account workspace with a customer-managed role and three data sources', () => {
    template.hasResourceProperties('AWS::Grafana::Workspace', {
      AccountAccessType: 'CURRENT_ACCOUNT',
      PermissionType: 'CUSTOMER_MANAGED',
      AuthenticationProviders: ['AWS_SSO'],
      DataSources: ['PROMETHEUS', 'CLOUDWATCH', 'ATHENA'],
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GrafanaWorkspaceRole'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({ Principal: { Service: 'grafana.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } } }),
        ],
      },
    });
  });

  it('scopes the workspace role to the AMP workspace, the Athena workgroup and the named databases', () => {
    const statements = statementsOf(template, 'GrafanaWorkspaceRole');
    const find = (action: string) => statements.find((s) => actionsOf(s).includes(action));
    expect(find('aps:QueryMetrics')?.Resource).toBe('arn:aws:aps:eu-west-1:111111111111:workspace/ws-1234');
    expect(JSON.stringify(find('athena:StartQueryExecution')?.Resource)).toContain('workgroup/lakestream-dev-analytics');
    expect(JSON.stringify(find('glue:GetTable')?.Resource)).toContain('table/lakestream_dev_gold/*');
    expect(find('cloudwatch:GetMetricData')?.Resource).toBe('*');
    expect(JSON.stringify(find('s3:PutObject')?.Resource)).toContain('/athena/*');
    for (const s of statements) for (const a of actionsOf(s)) expect(a).not.toMatch(/\*/);
    const wildcard = statements.filter((s) => s.Resource === '*').flatMap(actionsOf);
    expect(wildcard.every((a) => a.startsWith('cloudwatch:'))).toBe(true);
  });

  it('lets the provisioner call only the token and service-account APIs of this workspace', () => {
    const statements = statementsOf(template, 'GrafanaProvisionerFunctionRole').filter((s) => actionsOf(s).some((a) => a.startsWith('grafana:')));
    expect(statements).toHaveLength(1);
    expect(actionsOf(statements[0]).sort()).toEqual([
      'grafana:CreateWorkspaceServiceAccount',
      'grafana:CreateWorkspaceServiceAccountToken',
      'grafana:DeleteWorkspaceServiceAccountToken',
      'grafana:DescribeWorkspace',
      'grafana:ListWorkspaceServiceAccounts',
    ]);
    expect(JSON.stringify(statements[0].Resource)).toMatch(/:\/workspaces\/.*GrafanaWorkspace.*Id/);
  });

  it('passes the data sources, folder and every dashboard with its hash to the provisioner', () => {
    const [resource] = Object.values(template.findResources('Custom::GrafanaProvisioner'));
    const p = resource.Properties;
    expect(p).toMatchObject({
      FolderUid: 'lakestream-dev',
      FolderTitle: 'Lakestream dev',
      DeleteOnRemove: 'false',
      ServiceAccountName: 'lakestream-dev-provisioner',
    });
    const dashboards = JSON.parse(p.Dashboards) as Array<{ uid: string; sha256: string; json: string }>;
    const env = { provided: ['database', ...Object.keys(VARIABLES)], unavailable: { ga4_ingest_function: 'GA4 ingest is not deployed here.' } };
    expect(dashboards.map((d) => [d.uid, d.sha256])).toEqual(loadDashboards(undefined, env).map((d) => [d.uid, d.sha256]));
    expect(JSON.parse(p.DashboardVariables)).toEqual({ database: 'lakestream_dev_gold', ...VARIABLES });
    // GA4 is absent: its queries are gone, its panel explains why, and its variable is not offered.
    const ingestion = JSON.parse(dashboards.find((d) => d.uid === 'lakestream-ingestion')!.json) as {
      panels: Array<{ id: number; type: string; targets?: unknown[]; options?: { content?: string } }>;
      templating: { list: Array<{ name: string }> };
    };
    expect(ingestion.panels.find((panel) => panel.id === 5)).toMatchObject({ type: 'text', options: { content: 'GA4 ingest is not deployed here.' } });
    expect(ingestion.panels.find((panel) => panel.id === 5)!.targets).toBeUndefined();
    expect(ingestion.panels.find((panel) => panel.id === 6)!.targets).toHaveLength(2);
    expect(JSON.stringify(ingestion)).not.toContain('ga4_ingest_function');
    const dataSources = JSON.stringify(p.DataSources);
    for (const expected of [
      'lakestream-prometheus',
      'sigV4AuthType',
      'ec2_iam_role',
      'lakestream-cloudwatch',
      'lakestream-athena',
      'lakestream-dev-analytics',
    ]) {
      expect(dataSources).toContain(expected);
    }
  });

  it('has no unacknowledged compliance findings', () => {
    const mine = findings.filter((f) => f.path.startsWith(path_));
    expect(formatFindings(mine)).toBe('');
  });
});

describe('GrafanaWorkspace validation', () => {
  it('fails at synth when a dashboard variable is neither given a value nor marked unavailable, naming it', () => {
    const { flink_application: _omitted, ...rest } = VARIABLES;
    expect(() => build(newCompliantTestApp(), { dashboardVariables: rest })).toThrow(
      /Dashboard lakestream-flink: panel 1 "Downtime" uses \$flink_application, which the stack neither provides nor marks unavailable/,
    );
  });

  it('fails when a variable is both given and marked unavailable', () => {
    expect(() => build(newCompliantTestApp(), { unavailableDashboardVariables: { flink_application: 'x' } })).toThrow(
      /flink_application are both given a value and marked unavailable/,
    );
  });

  it('may publish to an encrypted notification topic: sns:Publish on it and GenerateDataKey/Decrypt on its key through SNS only', () => {
    const { stack } = build(newCompliantTestApp(), (scope) => {
      const topicKey = new kms.Key(scope, 'TopicKey', { enableKeyRotation: true });
      return { notificationTopic: new sns.Topic(scope, 'Alarms', { masterKey: topicKey }) };
    });
    const statements = statementsOf(Template.fromStack(stack), 'GrafanaWorkspaceRole');
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: expect.stringMatching(/^Alarms/) } }),
        expect.objectContaining({
          Sid: 'PublishToEncryptedNotificationTopic',
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^TopicKey/), 'Arn'] },
          Condition: { StringEquals: { 'kms:ViaService': 'sns.eu-west-1.amazonaws.com' } },
        }),
      ]),
    );
  });

  it('requires a SAML configuration for SAML sign-in', () => {
    expect(() => build(newCompliantTestApp(), { authenticationProviders: ['SAML'] })).toThrow(/samlConfiguration is required/);
  });

  it('refuses a dashboards folder with an invalid dashboard', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboards-'));
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ uid: 'lakestream-bad', title: 'Bad', schemaVersion: 39, panels: [] }));
    expect(() => build(newCompliantTestApp(), { dashboardsDir: dir })).toThrow(/bad\.json does not match the dashboard schema/);
  });
});
