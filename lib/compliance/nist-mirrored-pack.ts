import { IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport, PolicyViolation, Validations } from 'aws-cdk-lib';
import type { NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** The rule-id prefix of cdk-nag's NIST 800-53 rev 5 pack. */
export const NIST_PREFIX = 'NIST.800.53.R5';

/**
 * Runs a cdk-nag pack whose rules are NIST 800-53 rev 5 rules under another name (HIPAA Security,
 * PCI DSS 3.2.1), and carries each NIST acknowledgement over to the same rule of this pack.
 *
 * cdk-nag's packs share their rule functions: `HIPAA.Security-LambdaDLQ`, `PCI.DSS.321-LambdaDLQ`
 * and `NIST.800.53.R5-LambdaDLQ` are one check (`rules/lambda/LambdaDLQ`) on one resource, so the
 * reason written for NIST holds for the other two. Writing each reason three times would let the
 * copies drift; a finding of this pack is therefore accepted exactly when the NIST rule of the same
 * name is acknowledged on the same resource (or a construct above it). The acknowledgement is then
 * recorded where the NIST one was made, with the NIST reason, so the audit's acknowledgement list
 * shows every pack. A finding without a NIST acknowledgement stays a finding: a rule only this pack
 * has needs a reason of its own, made with `Validations.of(scope).acknowledge` as usual.
 */
export class NistMirroredPack implements IPolicyValidationPlugin {
  public readonly name: string;
  private readonly prefix: string;

  /** @param pack the cdk-nag pack, e.g. `new HIPAASecurityChecks()`; its rule ids start with its pack name. */
  constructor(private readonly pack: NagPack) {
    this.prefix = pack.readPackName;
    this.name = pack.name;
  }

  public validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const root = (context as IPolicyValidationContext & { readonly appConstruct?: IConstruct }).appConstruct;
    if (!root) throw new Error(`${this.name}: the validation context carries no construct tree (aws-cdk-lib too old for cdk-nag 3)`);
    const report = this.pack.validateScope(root);
    const byPath = new Map(root.node.findAll().map((node) => [node.node.path, node]));
    const violations: PolicyViolation[] = [];
    for (const violation of report.violations) {
      const nistRule = this.nistRuleOf(violation.ruleName);
      const open = violation.violatingResources.filter((resource) => {
        const node = byPath.get(resource.constructPath ?? '');
        return !(nistRule && node && this.carryOver(node, violation.ruleName, nistRule));
      });
      if (open.length > 0) violations.push({ ...violation, violatingResources: open });
    }
    return { success: violations.length === 0, violations };
  }

  /** `HIPAA.Security-LambdaDLQ` → `NIST.800.53.R5-LambdaDLQ`; undefined for a rule id of another shape. */
  private nistRuleOf(ruleName: string): string | undefined {
    return ruleName.startsWith(`${this.prefix}-`) ? `${NIST_PREFIX}-${ruleName.slice(this.prefix.length + 1)}` : undefined;
  }

  /** Records `rule` where `nistRule` is acknowledged for `node` (itself or an ancestor), with its reason; false when it is not. */
  private carryOver(node: IConstruct, rule: string, nistRule: string): boolean {
    for (let current: IConstruct | undefined = node; current; current = current.node.scope) {
      for (const entry of current.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
        const reasons = entry.data as Record<string, string>;
        const match = Object.keys(reasons).find((id) => id.replace(/^annotation::/i, '') === nistRule);
        if (match === undefined) continue;
        Validations.of(current).acknowledge({ id: rule, reason: `As ${nistRule} (the same cdk-nag rule): ${reasons[match]}` });
        return true;
      }
    }
    return false;
  }
}
