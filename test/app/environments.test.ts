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
    expect(names).toEqual(expect.arrayContaining([`lakestream-${stage.stageName}-security`, `lakestream-${stage.stageName}-network`, `lakestream-${stage.stageName}-data`, `lakestream-${stage.stageName}-streaming`, `lakestream-${stage.stageName}-processing`, `lakestream-${stage.stageName}-observability`]));
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
