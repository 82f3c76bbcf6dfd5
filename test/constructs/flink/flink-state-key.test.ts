import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { FLINK_INFRASTRUCTURE_PRINCIPAL, FLINK_SERVICE_PRINCIPAL, flinkStateKeyPolicyStatements } from '../../../lib/constructs/flink/flink-state-key';

const APP_ARN = 'arn:aws:kinesisanalytics:eu-west-1:111111111111:application/lakestream-dev-login-counts';

describe('flinkStateKeyPolicyStatements', () => {
  const stack = new Stack(undefined, 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
  const statements = flinkStateKeyPolicyStatements(APP_ARN).map((s) => stack.resolve(s.toStatementJson()) as Record<string, any>);
  const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));

  test('admits both Managed Flink service principals, as the service requires, and no other principal', () => {
    const principals = new Set(statements.flatMap((s) => [s.Principal.Service].flat()));
    expect([...principals].sort()).toEqual([FLINK_SERVICE_PRINCIPAL, FLINK_INFRASTRUCTURE_PRINCIPAL].sort());
    expect(statements.every((s) => s.Effect === 'Allow' && s.Resource === '*')).toBe(true);
  });

  test('every statement is bound to this one application (encryption context or source ARN)', () => {
    for (const statement of statements) {
      const condition = JSON.stringify(statement.Condition);
      expect(condition).toMatch(
        /"(kms:EncryptionContext:aws:kinesisanalytics:arn|aws:SourceArn)":"arn:aws:kinesisanalytics:eu-west-1:111111111111:application\/lakestream-dev-login-counts"/,
      );
    }
    // What the service does on its own account also names the account.
    for (const sid of ['FlinkDescribeKey', 'FlinkDurableStateGenerateDataKey']) {
      expect(bySid[sid].Condition.StringEquals).toMatchObject({ 'aws:SourceArn': APP_ARN, 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    }
  });

  test('the service grant may only decrypt, within the application context', () => {
    const grants = statements.filter((s) => [s.Action].flat().includes('kms:CreateGrant'));
    expect(grants).toHaveLength(1);
    expect(grants[0]!.Principal).toEqual({ Service: FLINK_INFRASTRUCTURE_PRINCIPAL });
    expect(grants[0]!.Condition).toEqual({
      StringEquals: { 'kms:EncryptionContext:aws:kinesisanalytics:arn': APP_ARN, 'kms:GrantConstraintType': 'EncryptionContextSubset' },
      'ForAllValues:StringEquals': { 'kms:GrantOperations': 'Decrypt' },
    });
  });

  test('durable state: the service principal encrypts and decrypts; running state: the infrastructure principal', () => {
    expect(bySid.FlinkDurableStateGenerateDataKey.Principal).toEqual({ Service: FLINK_SERVICE_PRINCIPAL });
    expect(bySid.FlinkDurableStateDecrypt.Principal).toEqual({ Service: FLINK_SERVICE_PRINCIPAL });
    expect(bySid.FlinkRunningStateUse.Principal).toEqual({ Service: FLINK_INFRASTRUCTURE_PRINCIPAL });
    expect(bySid.FlinkRunningStateUse.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKeyWithoutPlaintext']);
    // No statement administers the key or re-encrypts.
    expect(JSON.stringify(statements)).not.toMatch(/kms:(Put|Schedule|Disable|ReEncrypt|Encrypt")/);
    void iam;
  });
});
