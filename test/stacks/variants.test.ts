import { Stack, Token } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { buildApp, createApp } from '../../lib/app/build-app';
import type { EnvironmentEntry } from '../../lib/config/environments';
import { formatFindings } from '../helpers/compliance';
import { synthApp, type SynthResult } from '../helpers/synth';

const BOUNDARY = 'arn:aws:iam::111111111111:policy/platform-boundary';

/** Variants that need their own environment table, synthesized together as alice's sandboxes. */
const VARIANTS: Record<string, EnvironmentEntry> = {
  // A permissions boundary and no NAT gateways (isolated subnets only), in one environment to keep synth count down.
  bounded: { tier: 'dev', overrides: { permissionsBoundaryArn: BOUNDARY, network: { mode: 'create', cidr: '10.9.0.0/16', azCount: 2, natGateways: 0 } } },
  imported: {
    tier: 'prod',
    overrides: {
      network: {
        mode: 'import',
        vpcId: 'vpc-0123456789abcdef0',
        vpcCidrBlock: '10.7.0.0/16',
        availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
        privateSubnetIds: ['subnet-0000000a', 'subnet-0000000b', 'subnet-0000000c'],
        privateSubnetRouteTableIds: ['rtb-0000000a', 'rtb-0000000b', 'rtb-0000000c'],
        createEndpoints: false,
        createFlowLogs: true,
      },
      // The account's Glue Data Catalog encrypted with this (retained) environment's lake key.
      lake: { catalogEncryption: true },
    },
  },
  connected: {
    tier: 'dev',
    overrides: {
      debezium: {
        hostname: 'sql.internal.example.com',
        port: 1433,
        databaseNames: ['app'],
        tableIncludeList: ['dbo.logins'],
        credentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:sqlserver-AbCdEf',
        minWorkers: 1,
        maxWorkers: 2,
        mcuCount: 1,
        topicRetentionDays: 5,
      },
      ga4: {
        propertyId: '123456789',
        credentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:ga4-AbCdEf',
        scheduleMinutes: 15,
        loginEventName: 'login',
        userIdDimension: 'customEvent:login_user_id',
      },
    },
  },
};

let result: SynthResult;
beforeAll(() => {
  result = synthApp({ env: 'all', owner: 'alice', environments: VARIANTS });
});

test('variants are compliant too', () => {
  expect(formatFindings(result.findings)).toBe('');
});

describe('personal sandbox', () => {
  test('stage, stack and resource names carry the owner', () => {
    const stage = result.stages.find((s) => s.stageName === 'bounded-alice')!;
    expect(stage.data.stackName).toBe('lakestream-bounded-alice-data');
    result.template('bounded-alice', 'Security').hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/lakestream-bounded-alice/lake' });
    result.template('bounded-alice', 'Data').hasResourceProperties('AWS::Athena::WorkGroup', { Name: 'lakestream-bounded-alice-analytics' });
    result
      .template('bounded-alice', 'Data')
      .hasResourceProperties('AWS::Glue::Database', { DatabaseInput: Match.objectLike({ Name: 'lakestream_bounded_alice_bronze' }) });
    result.template('bounded-alice', 'Data').hasResourceProperties('AWS::S3::Bucket', { Tags: Match.arrayWith([{ Key: 'owner', Value: 'alice' }]) });
  });
});

describe('permissions boundary', () => {
  test('is set on every role of every stack when configured', () => {
    const stage = result.stages.find((s) => s.stageName === 'bounded-alice')!;
    let roles = 0;
    for (const stack of stage.node.children.filter((c): c is Stack => Stack.isStack(c))) {
      for (const role of Object.values(result.template('bounded-alice', stack.node.id).findResources('AWS::IAM::Role'))) {
        roles += 1;
        expect(role.Properties.PermissionsBoundary).toBe(BOUNDARY);
      }
    }
    expect(roles).toBeGreaterThan(0);
  });

  test('is absent when not configured', () => {
    for (const role of Object.values(result.template('connected-alice', 'Network').findResources('AWS::IAM::Role'))) {
      expect(role.Properties.PermissionsBoundary).toBeUndefined();
    }
  });
});

describe('imported VPC', () => {
  test('creates no VPC, subnets or endpoints, but flow logs when asked', () => {
    const t = result.template('imported-alice', 'Network');
    t.resourceCountIs('AWS::EC2::VPC', 0);
    t.resourceCountIs('AWS::EC2::Subnet', 0);
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    t.hasResourceProperties('AWS::EC2::FlowLog', { ResourceId: 'vpc-0123456789abcdef0', ResourceType: 'VPC' });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0123456789abcdef0' });
  });
});

describe('Glue Data Catalog encryption (lake.catalogEncryption)', () => {
  const statementsOf = (stage: string, stack: string) =>
    Object.entries(result.template(stage, stack).findResources('AWS::IAM::Policy')).flatMap(([id, p]) =>
      (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }).Properties.PolicyDocument.Statement.map(
        (st) => ({ policy: id, ...st }),
      ),
    );

  test('the opted-in environment sets the account catalog to SSE-KMS with its lake key, before any database is written', () => {
    const data = result.template('imported-alice', 'Data');
    const settings = data.findResources('AWS::Glue::DataCatalogEncryptionSettings');
    expect(Object.keys(settings)).toHaveLength(1);
    const [id, resource] = Object.entries(settings)[0] as [string, { Properties: Record<string, any> }];
    expect(resource.Properties.CatalogId).toEqual({ Ref: 'AWS::AccountId' });
    const lakeKey = { 'Fn::ImportValue': Match.stringLikeRegexp('KeysLakeKey') };
    data.hasResourceProperties('AWS::Glue::DataCatalogEncryptionSettings', {
      DataCatalogEncryptionSettings: {
        EncryptionAtRest: { CatalogEncryptionMode: 'SSE-KMS', SseAwsKmsKeyId: lakeKey },
        ConnectionPasswordEncryption: { ReturnConnectionPasswordEncrypted: true, KmsKeyId: lakeKey },
      },
    });
    for (const db of Object.values(data.findResources('AWS::Glue::Database'))) expect((db as { DependsOn?: string[] }).DependsOn).toContain(id);
    // Everyone else leaves the account's setting alone.
    for (const stage of ['bounded-alice', 'connected-alice']) result.template(stage, 'Data').resourceCountIs('AWS::Glue::DataCatalogEncryptionSettings', 0);
  });

  test('every role that may read the catalog may also decrypt with the lake key, or its reads would fail once the catalog is encrypted', () => {
    let readers = 0;
    for (const stack of ['Streaming', 'Processing', 'Observability']) {
      const statements = statementsOf('imported-alice', stack);
      const policies = new Set(statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('glue:Get'))).map((st) => st.policy));
      for (const policy of policies) {
        readers++;
        const decrypts = statements.filter(
          (st) => st.policy === policy && [st.Action].flat().includes('kms:Decrypt') && JSON.stringify(st.Resource).includes('KeysLakeKey'),
        );
        expect([policy, decrypts.length > 0]).toEqual([policy, true]);
      }
    }
    expect(readers).toBeGreaterThanOrEqual(4);
  });
});

describe('no NAT gateways', () => {
  test('only isolated subnets, no internet gateway', () => {
    const t = result.template('bounded-alice', 'Network');
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourceCountIs('AWS::EC2::InternetGateway', 0);
    t.resourceCountIs('AWS::EC2::Subnet', 2);
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 9);
  });
});

describe('optional sources', () => {
  test('Debezium and GA4 exist only where configured', () => {
    const ga4Schedule = { ScheduleExpression: 'rate(15 minutes)' };
    const on = result.template('connected-alice', 'Streaming');
    on.resourceCountIs('AWS::KafkaConnect::Connector', 1);
    on.hasResourceProperties('AWS::Events::Rule', ga4Schedule);
    const off = result.template('bounded-alice', 'Streaming');
    off.resourceCountIs('AWS::KafkaConnect::Connector', 0);
    expect(off.findResources('AWS::Events::Rule', { Properties: ga4Schedule })).toEqual({});
    // File replay is always on: its EventBridge trigger exists in both.
    off.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ source: ['aws.s3'] }) });
  });

  test('where Debezium is configured, the mirror assembles its plugin ZIP and the custom plugin reads that object', () => {
    const on = result.template('connected-alice', 'Streaming');
    const mirror = Object.values(on.findResources('Custom::ArtifactMirror'))[0] as { Properties: { Artifacts: string; Bundles: string } };
    const names = (JSON.parse(mirror.Properties.Artifacts) as Array<{ name: string }>).map((artifact) => artifact.name);
    expect(names).toEqual(expect.arrayContaining(['debezium-connector-sqlserver', 'msk-config-providers']));
    const [bundle] = JSON.parse(mirror.Properties.Bundles) as Array<{ name: string; key: string }>;
    expect(bundle).toMatchObject({
      name: 'debezium-sqlserver-plugin',
      key: expect.stringMatching(/^artifacts\/debezium-sqlserver-plugin\/2\.7\.3\.Final\+0\.4\.0\/.*\.zip$/),
    });
    const plugin = Object.values(on.findResources('AWS::KafkaConnect::CustomPlugin'))[0] as {
      Properties: { ContentType: string; Location: { S3Location: { FileKey: unknown } } };
    };
    expect(plugin.Properties.ContentType).toBe('ZIP');
    expect(plugin.Properties.Location.S3Location.FileKey).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Artifacts/), 'debezium-sqlserver-plugin.Key'] });
    // Change topics carry captured rows: created with the configured retention (5 days) and daily segments.
    on.hasResourceProperties('AWS::KafkaConnect::Connector', {
      ConnectorConfiguration: Match.objectLike({
        'topic.creation.default.retention.ms': String(5 * 86_400_000),
        'topic.creation.default.segment.ms': '86400000',
        'topic.creation.default.cleanup.policy': 'delete',
      }),
    });

    const off = result.template('bounded-alice', 'Streaming');
    const offMirror = Object.values(off.findResources('Custom::ArtifactMirror'))[0] as { Properties: { Artifacts: string; Bundles: string } };
    expect(offMirror.Properties.Artifacts).not.toContain('debezium');
    expect(offMirror.Properties.Artifacts).not.toContain('msk-config-providers');
    expect(JSON.parse(offMirror.Properties.Bundles)).toEqual([]);
  });

  test('GA4 alarms reach the alarm topic through a composite alarm', () => {
    const withGa4 = result.template('connected-alice', 'Observability');
    withGa4.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmDescription: Match.stringLikeRegexp('GA4 ingest'),
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('AlarmsTopic') })],
    });
    // Without GA4 the batch-job and file-replay composites remain.
    withGa4.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 3);
    result.template('bounded-alice', 'Observability').resourceCountIs('AWS::CloudWatch::CompositeAlarm', 2);
  });

  test('no secret value reaches the template', () => {
    const text = JSON.stringify(result.template('connected-alice', 'Streaming').toJSON());
    expect(text).toContain('${secretsmanager:');
    expect(text).not.toMatch(/"password"\s*:\s*"[^$]/i);
  });
});

describe('app entry', () => {
  test('an unknown -c env fails synth listing the known environments', () => {
    const app = createApp({ context: { env: 'qa' } });
    expect(() => buildApp(app, { processEnv: {} })).toThrow('Unknown environment "qa" (from -c env=qa). Known environments: dev, staging, prod, or "all".');
  });

  test('an invalid sandbox owner fails synth naming the field', () => {
    const app = createApp({ context: { env: 'dev', owner: 'Bob!' } });
    expect(() => buildApp(app, { processEnv: {} })).toThrow(/owner = "Bob!"/);
  });

  test('without an account the stacks are environment-agnostic but region-bound', () => {
    const app = createApp({ context: { env: 'dev' } });
    const [stage] = buildApp(app, { processEnv: {} });
    expect(Token.isUnresolved(stage.data.account)).toBe(true);
    expect(stage.data.region).toBe('eu-west-1');
  });
});
