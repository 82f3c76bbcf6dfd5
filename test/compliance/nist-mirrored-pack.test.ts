import { App, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { HIPAASecurityChecks, PCIDSS321Checks } from 'cdk-nag';
import { Construct, IConstruct } from 'constructs';
import { NistMirroredPack } from '../../lib/compliance/nist-mirrored-pack';

/** A function breaking LambdaDLQ, LambdaInsideVPC and LambdaConcurrency (rules NIST, HIPAA and PCI share). */
function functionIn(scope: Construct): lambda.Function {
  return new lambda.Function(scope, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => undefined;'),
  });
}

function validate(pack: NistMirroredPack, root: IConstruct) {
  return pack.validate({ templatePaths: [], appConstruct: root } as unknown as Parameters<NistMirroredPack['validate']>[0]);
}

/** Rule ids of the pack's open findings at `path`. */
function openRules(pack: NistMirroredPack, root: IConstruct, path: string): string[] {
  return validate(pack, root)
    .violations.filter((v) => v.violatingResources.some((r) => r.constructPath === path))
    .map((v) => v.ruleName)
    .sort();
}

/** Acknowledgements recorded on `node`, id → reason. */
function acknowledgementsOn(node: IConstruct): Record<string, string> {
  return Object.assign(
    {},
    ...node.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data as Record<string, string>),
  );
}

describe('NistMirroredPack', () => {
  test('reports the pack findings of a resource nobody acknowledged', () => {
    const stack = new Stack(new App(), 'S');
    const fn = functionIn(stack);
    const path = (fn.node.defaultChild as IConstruct).node.path;
    expect(openRules(new NistMirroredPack(new HIPAASecurityChecks()), stack, path)).toEqual(
      expect.arrayContaining(['HIPAA.Security-LambdaConcurrency', 'HIPAA.Security-LambdaDLQ', 'HIPAA.Security-LambdaInsideVPC']),
    );
    expect(openRules(new NistMirroredPack(new PCIDSS321Checks()), stack, path)).toEqual(expect.arrayContaining(['PCI.DSS.321-LambdaInsideVPC']));
  });

  test('a NIST acknowledgement on the resource or above it accepts the same rule of the pack, and is recorded there with its reason', () => {
    const stack = new Stack(new App(), 'S');
    const fn = functionIn(stack);
    const path = (fn.node.defaultChild as IConstruct).node.path;
    Validations.of(fn).acknowledge({ id: 'NIST.800.53.R5-LambdaDLQ', reason: 'Invoked synchronously; the caller sees every failure.' });
    Validations.of(stack).acknowledge({ id: 'NIST.800.53.R5-LambdaInsideVPC', reason: 'Calls only public AWS APIs.' });
    const hipaa = new NistMirroredPack(new HIPAASecurityChecks());
    const open = openRules(hipaa, stack, path);
    expect(open).not.toContain('HIPAA.Security-LambdaDLQ');
    expect(open).not.toContain('HIPAA.Security-LambdaInsideVPC');
    // A rule acknowledged for NIST only under another name stays open.
    expect(open).toContain('HIPAA.Security-LambdaConcurrency');
    expect(acknowledgementsOn(fn)).toMatchObject({
      'Annotation::HIPAA.Security-LambdaDLQ': 'As NIST.800.53.R5-LambdaDLQ (the same cdk-nag rule): Invoked synchronously; the caller sees every failure.',
    });
    expect(acknowledgementsOn(stack)).toMatchObject({
      'Annotation::HIPAA.Security-LambdaInsideVPC': 'As NIST.800.53.R5-LambdaInsideVPC (the same cdk-nag rule): Calls only public AWS APIs.',
    });
    expect(openRules(new NistMirroredPack(new PCIDSS321Checks()), stack, path)).not.toContain('PCI.DSS.321-LambdaInsideVPC');
  });

  test('an acknowledgement of another pack, or on a sibling, carries nothing over', () => {
    const stack = new Stack(new App(), 'S');
    const fn = functionIn(new Construct(stack, 'A'));
    const sibling = new Construct(stack, 'B');
    Validations.of(fn).acknowledge({ id: 'AwsSolutions-L1', reason: 'Pinned runtime.' });
    Validations.of(sibling).acknowledge({ id: 'NIST.800.53.R5-LambdaDLQ', reason: 'Not this function.' });
    const path = (fn.node.defaultChild as IConstruct).node.path;
    expect(openRules(new NistMirroredPack(new HIPAASecurityChecks()), stack, path)).toContain('HIPAA.Security-LambdaDLQ');
  });

  test('takes its name and rule prefix from the pack', () => {
    expect(new NistMirroredPack(new HIPAASecurityChecks()).name).toBe('HIPAA.Security');
    expect(new NistMirroredPack(new PCIDSS321Checks()).name).toBe('PCI.DSS.321');
  });
});
