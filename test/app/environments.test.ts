import { formatFindings } from '../helpers/compliance';
import { normalizeTemplate, synthApp, type SynthResult } from '../helpers/synth';

/**
 * The whole app, every environment, synthesized once the way `cdk synth -c env=all` does:
 * cdk-nag AwsSolutions + NIST 800-53 rev 5 and CDK's template validation must report nothing.
 */
let result: SynthResult;
beforeAll(() => {
  // Bundles every function for real, as `cdk synth` does: proves the handlers build with local esbuild.
  result = synthApp({ env: 'all', bundle: true });
});

const ENVIRONMENTS = ['dev', 'staging', 'prod'];

test('every environment synthesizes with zero unacknowledged findings or warnings', () => {
  expect(result.stages.map((s) => s.stageName)).toEqual(ENVIRONMENTS);
  expect(formatFindings(result.findings)).toBe('');
});

test('stacks are split by lifecycle with environment-qualified names', () => {
  for (const stage of result.stages) {
    const names = stage.node.children.filter((c) => 'stackName' in c).map((c) => (c as unknown as { stackName: string }).stackName);
    expect(names).toEqual(
      expect.arrayContaining([
        `lakestream-${stage.stageName}-security`,
        `lakestream-${stage.stageName}-network`,
        `lakestream-${stage.stageName}-data`,
        `lakestream-${stage.stageName}-streaming`,
        `lakestream-${stage.stageName}-processing`,
        `lakestream-${stage.stageName}-observability`,
      ]),
    );
  }
});

test('stateful stacks have termination protection in prod only', () => {
  const byStage = Object.fromEntries(result.stages.map((s) => [s.stageName, s]));
  expect(byStage.prod.data.terminationProtection).toBe(true);
  expect(byStage.prod.security.terminationProtection).toBe(true);
  expect(byStage.dev.data.terminationProtection).toBe(false);
  expect(byStage.staging.data.terminationProtection).toBe(false);
});

describe.each(ENVIRONMENTS)('%s snapshots', (env) => {
  test.each(['Security', 'Network', 'Data', 'Streaming', 'Processing', 'Observability'])('%s stack', (stack) => {
    expect(normalizeTemplate(result.template(env, stack).toJSON())).toMatchSnapshot();
  });
});

describe.each(ENVIRONMENTS)('%s builds the whole data path by default', (env) => {
  test('the Flink application with its packager and starter, and the Spark streaming job under its supervisor', () => {
    const processing = result.template(env, 'Processing');
    processing.resourceCountIs('AWS::KinesisAnalyticsV2::Application', 1);
    processing.resourceCountIs('Custom::FlinkApplicationPackage', 1);
    processing.resourceCountIs('Custom::FlinkApplicationStarter', 1);
    processing.resourceCountIs('Custom::StreamingJob', 1);
  });

  test('the mirror fetches exactly the Flink and Spark connector jars: nothing for Debezium, which is off', () => {
    const mirrors = Object.values(result.template(env, 'Streaming').findResources('Custom::ArtifactMirror')) as Array<{
      Properties: { Artifacts: string; Bundles: string };
    }>;
    expect(mirrors).toHaveLength(1);
    const names = (JSON.parse(mirrors[0].Properties.Artifacts) as Array<{ name: string }>).map((artifact) => artifact.name);
    expect(names).toEqual([
      'flink-connector-kafka',
      'flink-kafka-clients',
      'spark-sql-kafka',
      'spark-token-provider-kafka',
      'spark-kafka-clients',
      'commons-pool2',
      'aws-msk-iam-auth',
    ]);
    expect(JSON.parse(mirrors[0].Properties.Bundles)).toEqual([]);
  });
});
