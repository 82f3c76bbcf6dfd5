import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Aws } from 'aws-cdk-lib';

/** The two service principals Managed Flink uses a customer-managed state key with. */
export const FLINK_SERVICE_PRINCIPAL = 'kinesisanalytics.amazonaws.com';
export const FLINK_INFRASTRUCTURE_PRINCIPAL = 'infrastructure.kinesisanalytics.amazonaws.com';

/** Managed Flink's encryption context: every use of the key names the application. */
const CONTEXT_KEY = 'kms:EncryptionContext:aws:kinesisanalytics:arn';

/**
 * Key policy statements that let Managed Flink encrypt one application's durable state (snapshots,
 * checkpoints) and running state with a customer-managed key, as the Managed Flink guide ("Managing
 * CMK using APIs") lays them out: without both service principals the service rejects
 * CreateApplication. Each statement is bound to the application by the encryption context, and
 * those the service makes on its own account by `aws:SourceArn` and `aws:SourceAccount`. The
 * service's grant may only decrypt, within that context.
 *
 * The ARN is a plain string (built from the application's name), so the key's stack needs no
 * reference to the stack that creates the application.
 */
export function flinkStateKeyPolicyStatements(applicationArn: string): iam.PolicyStatement[] {
  const service = new iam.ServicePrincipal(FLINK_SERVICE_PRINCIPAL);
  const infrastructure = new iam.ServicePrincipal(FLINK_INFRASTRUCTURE_PRINCIPAL);
  const fromApplication = { 'aws:SourceArn': applicationArn, 'aws:SourceAccount': Aws.ACCOUNT_ID };
  const forApplication = { [CONTEXT_KEY]: applicationArn };
  return [
    new iam.PolicyStatement({
      sid: 'FlinkDescribeKey',
      principals: [service, infrastructure],
      actions: ['kms:DescribeKey'],
      resources: ['*'],
      conditions: { StringEquals: fromApplication },
    }),
    new iam.PolicyStatement({
      sid: 'FlinkDurableStateGenerateDataKey',
      principals: [service],
      actions: ['kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { ...fromApplication, ...forApplication } },
    }),
    new iam.PolicyStatement({
      sid: 'FlinkDurableStateDecrypt',
      principals: [service],
      actions: ['kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: forApplication },
    }),
    new iam.PolicyStatement({
      sid: 'FlinkRunningStateUse',
      principals: [infrastructure],
      actions: ['kms:Decrypt', 'kms:GenerateDataKeyWithoutPlaintext'],
      resources: ['*'],
      conditions: { StringEquals: forApplication },
    }),
    new iam.PolicyStatement({
      sid: 'FlinkRunningStateGrant',
      principals: [infrastructure],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: {
        StringEquals: { ...forApplication, 'kms:GrantConstraintType': 'EncryptionContextSubset' },
        'ForAllValues:StringEquals': { 'kms:GrantOperations': 'Decrypt' },
      },
    }),
  ];
}

/**
 * What the application's lifecycle operator (whoever calls Create, Update, Start or
 * StopApplication) needs on the state key, through Managed Flink and for this one application:
 * describe it, encrypt and decrypt state, and let the service take a decrypt-only grant.
 * The key policy must also admit the operator (Lakestream's keys admit the account's principals
 * through `kinesisanalytics` via `kms:ViaService`).
 */
export function grantFlinkStateKeyOperator(grantee: iam.IGrantable, key: kms.IKey, applicationArn: string): void {
  const viaFlink = { 'kms:ViaService': `kinesisanalytics.${Aws.REGION}.amazonaws.com` };
  const forApplication = { ...viaFlink, [CONTEXT_KEY]: applicationArn };
  const statements = [
    new iam.PolicyStatement({ sid: 'FlinkStateKeyDescribe', actions: ['kms:DescribeKey'], resources: [key.keyArn], conditions: { StringEquals: viaFlink } }),
    new iam.PolicyStatement({
      sid: 'FlinkStateKeyUse',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext'],
      resources: [key.keyArn],
      conditions: { StringEquals: forApplication },
    }),
    new iam.PolicyStatement({
      sid: 'FlinkStateKeyGrant',
      actions: ['kms:CreateGrant'],
      resources: [key.keyArn],
      conditions: {
        StringEquals: { ...forApplication, 'kms:GrantConstraintType': 'EncryptionContextSubset' },
        'ForAllValues:StringEquals': { 'kms:GrantOperations': 'Decrypt' },
        Bool: { 'kms:GrantIsForAWSResource': 'true' },
      },
    }),
  ];
  for (const statement of statements) grantee.grantPrincipal.addToPrincipalPolicy(statement);
}
