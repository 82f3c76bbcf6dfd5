import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnResource, Stack, Stage, Validations } from 'aws-cdk-lib';
import { ParallelTemplateValidation } from '../../lib/compliance/parallel-template-validation';

/** Two stages of faulty stacks: a wrong property type, an unknown property, a bad enum value. */
function faultyApp(parallel: boolean): App {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-cfn-validate-')) });
  if (parallel) Validations.of(app).addPlugins(new ParallelTemplateValidation(2));
  for (const stageName of ['One', 'Two']) {
    const stage = new Stage(app, stageName, { env: { account: '111111111111', region: 'eu-west-1' } });
    for (const stackName of ['A', 'B', 'C']) {
      const stack = new Stack(stage, stackName);
      new CfnResource(stack, 'Queue', { type: 'AWS::SQS::Queue', properties: { DelaySeconds: 'soon' } });
      new CfnResource(stack, 'Bucket', { type: 'AWS::S3::Bucket', properties: { NoSuchProperty: 1 } });
      new CfnResource(stack, 'Table', {
        type: 'AWS::DynamoDB::Table',
        properties: {
          BillingMode: 'FREE',
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        },
      });
    }
  }
  return app;
}

function cfnValidateReport(app: App): unknown {
  try {
    app.synth();
  } catch {
    // A failing validation throws after writing its report.
  }
  const report = JSON.parse(fs.readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ pluginName: string }> };
  const reports = report.pluginReports.filter((r) => r.pluginName === 'CloudFormation Validate');
  expect(reports).toHaveLength(1);
  // Where each construct was created differs between the two apps (a line of this file); nothing else may.
  return JSON.parse(JSON.stringify(reports[0], (key, value) => (key === 'stackTraces' ? undefined : value)));
}

describe('template validation on worker threads', () => {
  it('reports exactly what aws-cdk-lib built-in validation reports, for every stack of every stage', () => {
    const stock = cfnValidateReport(faultyApp(false)) as { violations: Array<{ violatingConstructs: unknown[] }> };
    const parallel = cfnValidateReport(faultyApp(true));
    expect(stock.violations.length).toBe(4);
    expect(stock.violations.flatMap((v) => v.violatingConstructs).length).toBe(24);
    expect(parallel).toEqual(stock);
  });

  it('passes a clean app', () => {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-cfn-validate-')) });
    Validations.of(app).addPlugins(new ParallelTemplateValidation(1));
    new CfnResource(new Stack(app, 'S'), 'Queue', { type: 'AWS::SQS::Queue', properties: { DelaySeconds: 5 } });
    expect(() => app.synth()).not.toThrow();
  });
});
