import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { encryptStateMachine, grantReadExecutions, stateMachineArnPattern } from '../../../lib/constructs/core/state-machine-encryption';

const env = { account: '111111111111', region: 'eu-west-1' };

/** A CloudFormation value as text: joins concatenated, `{Ref:X}` for references. */
function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(flat).join(',')}]`;
  const node = value as Record<string, unknown>;
  if (node['Fn::Join']) return (node['Fn::Join'] as [string, unknown[]])[1].map(flat).join('');
  if (node.Ref !== undefined) return `{Ref:${String(node.Ref)}}`;
  return JSON.stringify(value);
}

function machine(stack: Stack, id: string, name?: string): sfn.StateMachine {
  return new sfn.StateMachine(stack, id, { stateMachineName: name, definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, `${id}Pass`)) });
}

describe('state machine encryption', () => {
  test('a named machine is matched exactly, an unnamed one by the name CloudFormation generates for it', () => {
    const stack = new Stack(new App(), 'S', { env });
    const named = machine(stack, 'Named', 'lakestream-dev-erasure');
    const generated = machine(stack, 'Generated');
    expect(flat(stack.resolve(stateMachineArnPattern(named.node.defaultChild as sfn.CfnStateMachine)))).toBe(
      'arn:{Ref:AWS::Partition}:states:eu-west-1:111111111111:stateMachine:lakestream-dev-erasure',
    );
    expect(flat(stack.resolve(stateMachineArnPattern(generated.node.defaultChild as sfn.CfnStateMachine)))).toMatch(
      /^arn:\{Ref:AWS::Partition\}:states:eu-west-1:111111111111:stateMachine:Generated[0-9A-F]{8}-\*$/,
    );
  });

  test('refuses at synth a logical id too long to predict the generated name', () => {
    const stack = new Stack(new App(), 'S', { env });
    const long = machine(stack, 'X'.repeat(70));
    expect(() => stateMachineArnPattern(long.node.defaultChild as sfn.CfnStateMachine)).toThrow(
      /is too long to predict the generated state machine name; give the state machine a stateMachineName/,
    );
  });

  test('sets the customer-managed key and lets the execution role use it for this machine only, plus its log delivery', () => {
    const stack = new Stack(new App(), 'S', { env });
    const key = new kms.Key(stack, 'Key');
    const sm = machine(stack, 'Jobs', 'jobs');
    encryptStateMachine(sm.node.defaultChild as sfn.CfnStateMachine, sm.role, key, { logging: true });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      EncryptionConfiguration: { Type: 'CUSTOMER_MANAGED_KMS_KEY', KmsKeyId: { 'Fn::GetAtt': ['Key961B73FD', 'Arn'] }, KmsDataKeyReusePeriodSeconds: 300 },
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, any>> } } }).Properties.PolicyDocument.Statement,
    );
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(bySid.EncryptExecutionData.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(flat(bySid.EncryptExecutionData.Condition.StringLike['kms:EncryptionContext:aws:states:stateMachineArn'])).toBe(
      'arn:{Ref:AWS::Partition}:states:eu-west-1:111111111111:stateMachine:jobs',
    );
    // No kms:ViaService on the execution role: the Step Functions guide warns it stops executions.
    expect(JSON.stringify(bySid.EncryptExecutionData)).not.toContain('ViaService');
    expect(bySid.EncryptLogDelivery.Action).toBe('kms:GenerateDataKey');
    expect(flat(bySid.EncryptLogDelivery.Condition.StringLike['kms:EncryptionContext:SourceArn'])).toBe(
      'arn:{Ref:AWS::Partition}:logs:{Ref:AWS::Region}:{Ref:AWS::AccountId}:*',
    );
    // The key policy is left alone (aws-cdk-lib's own option would add an unconditioned kms:Decrypt* for log delivery).
    expect(JSON.stringify(template.findResources('AWS::KMS::Key'))).not.toContain('delivery.logs');
  });

  test('without logging, no log-delivery grant', () => {
    const stack = new Stack(new App(), 'S', { env });
    const sm = machine(stack, 'Quiet', 'quiet');
    encryptStateMachine(sm.node.defaultChild as sfn.CfnStateMachine, sm.role, new kms.Key(stack, 'Key'), { logging: false });
    expect(JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'))).not.toContain('EncryptLogDelivery');
  });

  test('readers of executions may decrypt only through Step Functions and only those machines', () => {
    const stack = new Stack(new App(), 'S', { env });
    const key = new kms.Key(stack, 'Key');
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('states.amazonaws.com') });
    grantReadExecutions(reader, key, [
      machine(stack, 'A', 'a').node.defaultChild as sfn.CfnStateMachine,
      machine(stack, 'B', 'b').node.defaultChild as sfn.CfnStateMachine,
    ]);
    const statement = (
      Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))[0] as {
        Properties: { PolicyDocument: { Statement: Array<Record<string, any>> } };
      }
    ).Properties.PolicyDocument.Statement[0]!;
    expect(statement).toMatchObject({ Sid: 'ReadEncryptedExecutions', Action: 'kms:Decrypt' });
    expect(flat(statement.Condition.StringEquals['kms:ViaService'])).toBe('states.{Ref:AWS::Region}.amazonaws.com');
    expect(flat(statement.Condition.StringLike['kms:EncryptionContext:aws:states:stateMachineArn'])).toBe(
      '[arn:{Ref:AWS::Partition}:states:eu-west-1:111111111111:stateMachine:a,arn:{Ref:AWS::Partition}:states:eu-west-1:111111111111:stateMachine:b]',
    );
  });
});
