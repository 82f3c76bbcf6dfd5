import { ArnFormat, Aws, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/** Encryption context key Step Functions passes to KMS for a state machine's data. */
export const STATE_MACHINE_CONTEXT = 'kms:EncryptionContext:aws:states:stateMachineArn';

/** `kms:EncryptionContext:SourceArn` of the data keys a logging state machine generates for its log delivery: this account's logs. */
export const LOG_DELIVERY_SOURCE_ARNS = `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:*`;

/**
 * How long Step Functions reuses a data key: its default, and the middle of the 60-900 s range the
 * service allows (a shorter period calls KMS more often, a longer one keeps a key in use longer).
 */
const DATA_KEY_REUSE_SECONDS = 300;

/**
 * ARN (or ARN pattern) of a state machine that can appear in its own role's policy. A state machine
 * depends on its role's policy, so the policy cannot reference the machine: a named machine is named
 * exactly, an unnamed one by the name CloudFormation generates for it, `<LogicalId>-<random>`.
 */
export function stateMachineArnPattern(machine: sfn.CfnStateMachine): string {
  const stack = Stack.of(machine);
  const name = machine.stateMachineName;
  if (name !== undefined && !Token.isUnresolved(name))
    return stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  const logicalId = stack.resolve(stack.getLogicalId(machine)) as string;
  // CloudFormation appends '-' and 12 characters within the 80 a state machine name may have.
  if (logicalId.length > 80 - 13) {
    throw new Error(
      `${machine.node.path}: logical id ${logicalId} is too long to predict the generated state machine name; give the state machine a stateMachineName`,
    );
  }
  const resourceName = `${logicalId}-*`;
  return stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/**
 * Encrypts a state machine's definition and execution history (inputs, outputs, state data) with a
 * customer-managed key, as the Step Functions guide ("Data at rest encryption") lays it out:
 * - the execution role decrypts and generates data keys within this machine's encryption context
 *   (it calls KMS directly, so no `kms:ViaService`: the guide warns it would stop executions);
 * - with logging on, the role also generates data keys for the log delivery
 *   (`kms:EncryptionContext:SourceArn` over this account's logs), and the key policy must let
 *   `delivery.logs.amazonaws.com` decrypt (PlatformKeys does for the logs key);
 * - callers of DescribeExecution or GetExecutionHistory need `kms:Decrypt` through Step Functions:
 *   use `grantReadExecutions`. StartExecution needs none.
 *
 * Takes the L1 resource so it also serves state machines aws-cdk-lib creates (the Provider
 * framework's waiter). aws-cdk-lib's own `CustomerManagedEncryptionConfiguration` would add a key
 * policy statement with `kms:Decrypt*` and no condition, which the project does not allow.
 */
export function encryptStateMachine(machine: sfn.CfnStateMachine, role: iam.IRole, key: kms.IKey, options: { readonly logging: boolean }): void {
  machine.encryptionConfiguration = { type: 'CUSTOMER_MANAGED_KMS_KEY', kmsKeyId: key.keyArn, kmsDataKeyReusePeriodSeconds: DATA_KEY_REUSE_SECONDS };
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'EncryptExecutionData',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [key.keyArn],
      conditions: { StringLike: { [STATE_MACHINE_CONTEXT]: stateMachineArnPattern(machine) } },
    }),
  );
  if (options.logging) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptLogDelivery',
        actions: ['kms:GenerateDataKey'],
        resources: [key.keyArn],
        conditions: { StringLike: { 'kms:EncryptionContext:SourceArn': LOG_DELIVERY_SOURCE_ARNS } },
      }),
    );
  }
}

/**
 * Lets `grantee` read executions of the given state machines (DescribeExecution,
 * GetExecutionHistory, DescribeStateMachineForExecution): Step Functions decrypts their data with
 * `key` on the caller's behalf.
 */
export function grantReadExecutions(grantee: iam.IGrantable, key: kms.IKey, machines: sfn.CfnStateMachine[]): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadEncryptedExecutions',
      actions: ['kms:Decrypt'],
      resources: [key.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `states.${Aws.REGION}.amazonaws.com` },
        StringLike: { [STATE_MACHINE_CONTEXT]: machines.map(stateMachineArnPattern) },
      },
    }),
  );
}
