import { App, IAspect, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { acknowledgeCdkOwnedProviders } from './cdk-owned-providers';
import { NistMirroredPack } from './nist-mirrored-pack';
import { ParallelTemplateValidation } from './parallel-template-validation';
import { wrapStageSynth } from './wrap-stage-synth';

/** Options of applyCompliance. */
export interface ApplyComplianceOptions {
  /**
   * Digest of the sources the app is built from (sourceFingerprint), for template validation to
   * skip its engine when these sources were validated before. Only the CDK app passes it: tests
   * build many different apps from the same sources in one process.
   * @default none: the validation engine always starts
   */
  readonly sourceFingerprint?: string;
}

/**
 * Runs the cdk-nag AwsSolutions, NIST 800-53 rev 5, HIPAA Security and PCI DSS 3.2.1 packs over
 * every stage of the app. Any unacknowledged finding fails synth; CDK writes the full list to
 * validation-report.json. HIPAA and PCI findings of a rule NIST shares are accepted by the NIST
 * acknowledgement on the same resource (NistMirroredPack).
 */
export function applyCompliance(app: App, options: ApplyComplianceOptions = {}): void {
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app),
    new NIST80053R5Checks(app),
    new NistMirroredPack(new HIPAASecurityChecks()),
    new NistMirroredPack(new PCIDSS321Checks()),
  );
  // aws-cdk-lib's template validation, built on worker threads while the stages are constructed
  // (call this before constructing them); same switches as the built-in one.
  // LAKESTREAM_VALIDATION_WORKERS=0 leaves aws-cdk-lib's own plugin in place (same checks, on the main thread).
  const builtIn = (app as unknown as { _builtinCloudFormationValidation?: boolean })._builtinCloudFormationValidation !== false;
  const workers = process.env.LAKESTREAM_VALIDATION_WORKERS === undefined ? undefined : Number(process.env.LAKESTREAM_VALIDATION_WORKERS);
  if (builtIn && process.env.CDK_VALIDATION !== 'false' && workers !== 0)
    new ParallelTemplateValidation({ workerCount: workers, sourceFingerprint: options.sourceFingerprint }).installOn(app);
  installSynthHook();
}

const ACKED = Symbol.for('lakestream.compliance.acknowledged');

/**
 * Aspects stop at Stage boundaries and run once per synthesis, so a stage synthesized early (for
 * example by `Template.fromStack` in a test) would miss them. Instead, every Stage synthesis walks
 * its own tree first and acknowledges what qualifies; the walk is idempotent.
 */
function installSynthHook(): void {
  wrapStageSynth('lakestream.compliance.synthHook', (stage, synth) => {
    const visitor = new AcknowledgeRoleScopedInlinePolicies();
    for (const node of stage.node.findAll()) {
      visitor.visit(node);
      if (Stack.isStack(node)) acknowledgeCdkOwnedProviders(node);
    }
    return synth();
  });
}

/**
 * CDK's `grant*` methods write a role's statements to that role's own DefaultPolicy. NIST's
 * IAMNoInlinePolicy wants customer-managed policies instead, which would only move the same
 * least-privilege statements into a separately versioned object shared by nobody. This visitor
 * acknowledges the rule for exactly the policies that are attached to a single role and nothing else.
 */
class AcknowledgeRoleScopedInlinePolicies implements IAspect {
  public visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy)) return;
    const marker = node as unknown as Record<symbol, boolean>;
    if (marker[ACKED]) return;
    // The L2 Policy renders its attachment lists lazily: resolve before counting.
    const stack = Stack.of(node);
    const list = (value: unknown): unknown[] => (Array.isArray(stack.resolve(value)) ? (stack.resolve(value) as unknown[]) : []);
    const roles = list(node.roles);
    if (roles.length !== 1 || list(node.users).length > 0 || list(node.groups).length > 0) return;
    const role = roles[0];
    const roleName = typeof role === 'object' && role !== null && 'Ref' in role ? String((role as { Ref: string }).Ref) : String(role);
    Validations.of(node).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason: `This policy holds the grants of role ${roleName} alone and is attached to nothing else.`,
    });
    marker[ACKED] = true;
  }
}
