import { Stack, Validations } from 'aws-cdk-lib';

/**
 * Singleton custom-resource providers that aws-cdk-lib itself adds to a stack (emptying buckets on
 * delete in dev, closing the VPC's default security group). Their code, runtime and role shape are
 * CDK's, so the findings they raise are acknowledged here, on exactly those providers.
 */
const CDK_OWNED_PROVIDERS: Record<string, string> = {
  'Custom::S3AutoDeleteObjectsCustomResourceProvider': 'empties dev buckets before CloudFormation deletes them',
  'Custom::VpcRestrictDefaultSGCustomResourceProvider': 'removes all rules from the VPC default security group',
  BucketNotificationsHandler050a0587b7544547bf325f094a3db834: 'turns on EventBridge notifications of the landing bucket',
  AWS679f53fac002430cb0da5b7982bd2287: 'reads the id of the S3 prefix list for the Kafka-client security group',
};

export function acknowledgeCdkOwnedProviders(stack: Stack): void {
  for (const [id, purpose] of Object.entries(CDK_OWNED_PROVIDERS)) {
    const provider = stack.node.tryFindChild(id);
    if (!provider) continue;
    const acks: Array<[string, string]> = [
      [
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        `CDK's ${id} (${purpose}) is created with this AWS managed policy, which lets it create and write any log group of the account; aws-cdk-lib exposes no role to replace it, and the function runs only during deployments.`,
      ],
      ['AwsSolutions-L1', `CDK's ${id} pins its runtime; it moves with aws-cdk-lib upgrades.`],
      ['NIST.800.53.R5-LambdaConcurrency', `CDK's ${id} runs only during deployments.`],
      ['NIST.800.53.R5-LambdaDLQ', `CDK's ${id} is invoked synchronously by CloudFormation.`],
      [
        'NIST.800.53.R5-LambdaInsideVPC',
        `CDK's ${id} calls S3 or EC2 APIs on their public endpoints and reaches no VPC-only resource; it runs only during deployments.`,
      ],
    ];
    for (const [ruleId, reason] of acks) Validations.of(provider).acknowledge({ id: ruleId, reason });
  }
}
