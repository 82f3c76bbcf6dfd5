import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { IConstruct } from 'constructs';

/**
 * cdk-nag reports each wildcard resource of a policy as `AwsSolutions-IAM5[Resource::<flattened ARN>]`,
 * and the flattened form of a bucket in another stack is only known once CDK has turned the
 * reference into an import. This registers a validation hook, which runs after references are
 * resolved and before the rule packs, and acknowledges exactly the wildcards the construct granted.
 */
export class WildcardAcknowledgements {
  private readonly entries: Array<{ resource: string; reason: string }> = [];

  constructor(scope: IConstruct) {
    scope.node.addValidation({
      validate: () => {
        const stack = Stack.of(scope);
        for (const { resource, reason } of this.entries) {
          const flattened = flattenCfnReference(stack.resolve(resource));
          Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flattened}]`, reason });
        }
        return [];
      },
    });
  }

  /** Acknowledges the wildcard in `resource` (a possibly-tokenized ARN) for policies under the scope. */
  public add(resource: string, reason: string): void {
    this.entries.push({ resource, reason });
  }
}

/** The string form cdk-nag gives a CloudFormation value in finding ids (its own implementation). */
export { flattenCfnReference };
