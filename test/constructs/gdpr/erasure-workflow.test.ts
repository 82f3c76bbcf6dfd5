/**
 * The erasure workflow and the GDPR bounds as the dev environment synthesizes them: the state
 * machine's states, branches and failure paths; least-privilege grants of each step; the
 * write-once receipts bucket; and Grafana kept away from bronze.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { loadEnvironment } from '../../../lib/config/load-config';
import { sweepDelayHours } from '../../../lib/config/personal-data';
import { synthApp, type SynthResult } from '../../helpers/synth';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };
type StateJson = {
  Type: string;
  Next?: string;
  End?: boolean;
  Branches?: Array<{ StartAt: string; States: Record<string, StateJson> }>;
  Catch?: Array<{ Next: string }>;
  Retry?: unknown[];
  Choices?: Array<{ Condition: string; Next: string }>;
  Default?: string;
  Timestamp?: string;
  Arguments?: Record<string, unknown>;
  Resource?: string;
};

let result: SynthResult;
let processing: Template;
let data: Template;
let observability: Template;
let definition: { StartAt: string; States: Record<string, StateJson>; QueryLanguage: string; TimeoutSeconds: number };
const config = loadEnvironment('dev', { processEnv: {} });

function resolveDefinition(template: Template): typeof definition {
  const machines = template.findResources('AWS::StepFunctions::StateMachine', { Properties: { StateMachineName: 'lakestream-dev-erasure' } });
  const [machine] = Object.values(machines) as Array<{ Properties: { DefinitionString: unknown } }>;
  // Fn::Join of literal text and references: replace each reference by a placeholder string.
  const parts = (machine!.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'REF')).join(''));
}

function statementsOf(template: Template, rolePrefix: RegExp): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy') as Record<
    string,
    { Properties: { PolicyDocument: { Statement: Statement[] }; Roles: Array<{ Ref: string }> } }
  >;
  return Object.values(policies)
    .filter((p) => p.Properties.Roles.some((r) => rolePrefix.test(r.Ref)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

beforeAll(() => {
  result = synthApp({ env: 'dev' });
  processing = result.template('dev', 'Processing');
  data = result.template('dev', 'Data');
  observability = result.template('dev', 'Observability');
  definition = resolveDefinition(processing);
});

describe('erasure state machine', () => {
  test('JSONata, logs under /aws/vendedlogs/, bounded by the deadline', () => {
    expect(definition.QueryLanguage).toBe('JSONata');
    expect(definition.TimeoutSeconds).toBe((config.gdpr.erasureDeadlineDays + 2) * 86_400);
    processing.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: Match.stringLikeRegexp('^/aws/vendedlogs/states/lakestream-dev-processing/Erasure$'),
    });
    processing.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'lakestream-dev-erasure',
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
  });

  test('main path: prepare, first pass, initial receipt, wait for the sweep, sweep pass, final receipt', () => {
    const s = definition.States;
    expect(definition.StartAt).toBe('Start');
    expect(s.Start!.Next).toBe('Prepare');
    expect(s.Prepare!.Next).toBe('AlreadyErasedChoice');
    expect(s.AlreadyErasedChoice!.Choices).toEqual([{ Condition: '{% $prepared.alreadyErased %}', Next: 'AlreadyErased' }]);
    expect(s.AlreadyErased!.Type).toBe('Succeed');
    expect(s.AlreadyErasedChoice!.Default).toBe('FirstPass');
    expect(s.FirstPass!.Next).toBe('InitialReceipt');
    expect(s.InitialReceipt!.Next).toBe('WaitForSweep');
    expect(s.WaitForSweep).toMatchObject({ Type: 'Wait', Timestamp: '{% $sweepAt %}', Next: 'SweepPass' });
    expect(s.SweepPass!.Next).toBe('FinalReceipt');
    expect(s.FinalReceipt!.Next).toBe('Erased');
    expect(s.Erased!.Type).toBe('Succeed');
  });

  test('the sweep runs the configured delay after the request', () => {
    const prepare = definition.States.Prepare as unknown as { Assign: Record<string, string> };
    expect(prepare.Assign.sweepAt).toContain(`+ ${sweepDelayHours(config) * 3_600_000})`);
    expect(sweepDelayHours(config)).toBeGreaterThan(0);
  });

  test('each pass covers the lake (Spark, then old versions), Kafka and Flink in parallel', () => {
    for (const phase of ['First', 'Sweep']) {
      const branches = definition.States[`${phase}Pass`]!.Branches!;
      expect(branches.map((b) => b.StartAt)).toEqual([`${phase}RunSparkErase`, `${phase}Tombstones`, `${phase}DeleteFlinkSnapshots`]);
      const lake = branches[0]!.States;
      expect(lake[`${phase}RunSparkErase`]!.Resource).toMatch(/states:::states:startExecution\.sync:2$/);
      expect(JSON.stringify(lake[`${phase}RunSparkErase`]!.Arguments)).toContain('"extraArguments":["--request-id","{% $requestId %}"]');
      expect(lake[`${phase}RunSparkErase`]!.Next).toBe(`${phase}PurgeOldVersions`);
    }
  });

  test('every failure path ends in ErasureFailed; Lambda steps retry', () => {
    const s = definition.States;
    for (const name of ['Prepare', 'FirstPass', 'InitialReceipt', 'SweepPass', 'FinalReceipt']) {
      expect(s[name]!.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'ErasureFailed' })]);
    }
    expect(s.ErasureFailed!.Type).toBe('Fail');
    for (const name of ['Prepare', 'InitialReceipt', 'FinalReceipt']) expect(s[name]!.Retry!.length).toBeGreaterThanOrEqual(2);
  });

  test('no execution payload carries a user id: the steps get the request id only', () => {
    const text = JSON.stringify(definition);
    expect(text).not.toMatch(/userIds|user_id/);
    expect((definition.States.Prepare as unknown as { Arguments: { Payload: unknown } }).Arguments.Payload).toEqual({ requestId: '{% $requestId %}' });
  });

  test('the CLI finds the workflow through one SSM parameter', () => {
    processing.hasResourceProperties('AWS::SSM::Parameter', { Name: '/lakestream/dev/erasure' });
  });
});

describe('erasure step permissions', () => {
  test('the version purge may delete versions of the erased datasets only, never the work prefix or other tiers', () => {
    const statements = statementsOf(processing, /ErasureVersionsFunctionRole/);
    const del = statements.find((s) => actions(s).includes('s3:DeleteObjectVersion'))!;
    const resources = JSON.stringify(del.Resource);
    for (const prefix of ['/kafka/*', '/landing/*', '/quarantine/*', '/reports/*']) expect(resources).toContain(prefix);
    // The streamed counts live in silver: its kafka/ prefix is erased too.
    expect(resources).toMatch(/SilverBucket\w*"},"\/kafka\/\*"/);
    expect(resources).not.toContain('_erasure');
    expect(statements.flatMap(actions)).not.toContain('s3:DeleteObject');
  });

  test('the tombstone step writes to the counts topic only, from the VPC', () => {
    const statements = statementsOf(processing, /ErasureTombstonesFunctionRole/);
    const write = statements.find((s) => actions(s).includes('kafka-cluster:WriteData'))!;
    expect(JSON.stringify(write.Resource)).toContain('logins.counts');
    processing.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.tombstones',
      VpcConfig: Match.objectLike({ SecurityGroupIds: Match.anyValue() }),
    });
  });

  test('only the receipt step writes receipts; prepare may digest ids with the HMAC key', () => {
    const receipt = statementsOf(processing, /ErasureReceiptFunctionRole/);
    expect(receipt.some((s) => actions(s).includes('s3:PutObject'))).toBe(true);
    const others = statementsOf(processing, /Erasure(Prepare|Tombstones|Versions|Snapshots)FunctionRole/);
    expect(others.flatMap(actions)).not.toContain('s3:PutObject');
    expect(statementsOf(processing, /ErasurePrepareFunctionRole/).flatMap(actions)).toContain('kms:GenerateMac');
  });
});

describe('receipts bucket', () => {
  test('Object Lock in the environment mode, KMS, versioned, retained', () => {
    data.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: config.gdpr.receipts.lockMode, Days: config.gdpr.receipts.retentionDays } },
        },
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) })],
        },
      }),
      DeletionPolicy: 'Retain',
    });
    data.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
  });

  test('prod locks receipts in compliance mode', () => {
    expect(loadEnvironment('prod', { processEnv: {} }).gdpr.receipts.lockMode).toBe('COMPLIANCE');
  });

  test('the work prefix expires within the deadline, query results by their own bound', () => {
    data.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Id: 'erasure-work', Prefix: '_erasure/', ExpirationInDays: config.gdpr.erasureDeadlineDays })]),
      },
    });
    data.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'tier-retention', ExpirationInDays: config.lake.queryResultsExpirationDays })] },
    });
  });
});

describe('Grafana reads aggregates and serving views, never bronze', () => {
  const grafanaStatements = () => statementsOf(observability, /GrafanaWorkspaceRole/);

  test('no Grafana statement names the bronze bucket, the bronze database or a bronze table', () => {
    const text = JSON.stringify(grafanaStatements());
    expect(text).not.toMatch(/BronzeBucket/);
    expect(text).not.toContain('lakestream_dev_bronze');
    // The check can fail: the processing stack's Spark role does reach bronze in the same synth.
    expect(JSON.stringify(statementsOf(processing, /^SparkLandingToBronzeRole/))).toMatch(/BronzeBucket/);
  });

  test('objects: gold reports and the silver counts dataset behind the speed view only', () => {
    const get = grafanaStatements().filter((s) => actions(s).includes('s3:GetObject'));
    const text = JSON.stringify(get.map((s) => s.Resource));
    expect(text).toContain('/reports/*');
    expect(text).toMatch(/SilverBucket\w*"},"\/kafka\/logins_counts\/\*"/);
    for (const raw of ['/kafka/logins_raw', '/landing/', '/quarantine/']) expect(text).not.toMatch(new RegExp(raw));
    // No statement grants a whole lake bucket's objects.
    expect(text).not.toMatch(/"\/\*"/);
  });

  test('listing is limited to those prefixes', () => {
    const list = grafanaStatements().filter((s) => actions(s).includes('s3:ListBucket') && s.Condition);
    expect(JSON.stringify(list.map((s) => s.Condition))).toContain('kafka/logins_counts/*');
    expect(JSON.stringify(list.map((s) => s.Condition))).not.toContain('quarantine');
  });

  test('Glue: the silver database exposes kafka_logins_counts only', () => {
    const glue = grafanaStatements().find((s) => actions(s).includes('glue:GetTable'))!;
    const text = JSON.stringify(glue.Resource);
    expect(text).toContain('lakestream_dev_silver/kafka_logins_counts');
    expect(text).not.toContain('lakestream_dev_silver/*');
    expect(text).not.toContain('quarantine_landing_logins');
  });
});

test('the dev environment has no unacknowledged cdk-nag or template findings', () => {
  expect(result.findings).toEqual([]);
});
