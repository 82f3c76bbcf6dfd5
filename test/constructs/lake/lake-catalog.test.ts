import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { LakeCatalog, type LakeCatalogProps } from '../../../lib/constructs/lake/lake-catalog';

function catalog(overrides: Partial<LakeCatalogProps>): { stack: Stack; template: () => Template } {
  const stack = new Stack(new App(), 'Data', { env: { account: '111111111111', region: 'eu-west-1' } });
  const bucket = (id: string) => new s3.Bucket(stack, id);
  new LakeCatalog(stack, 'Catalog', {
    qualifier: 'lakestream-dev',
    tierBuckets: { landing: bucket('Landing'), bronze: bucket('Bronze'), silver: bucket('Silver'), gold: bucket('Gold') },
    queryResultsBucket: bucket('Results'),
    encryptionKey: new kms.Key(stack, 'LakeKey', { enableKeyRotation: true }),
    ...overrides,
  });
  return { stack, template: () => Template.fromStack(stack) };
}

describe('LakeCatalog catalog encryption', () => {
  test('leaves the account setting alone by default', () => {
    catalog({}).template().resourceCountIs('AWS::Glue::DataCatalogEncryptionSettings', 0);
  });

  test('encrypts the catalog and connection passwords with the lake key when asked, before the databases', () => {
    const template = catalog({ encryptCatalog: true }).template();
    template.hasResourceProperties('AWS::Glue::DataCatalogEncryptionSettings', {
      CatalogId: { Ref: 'AWS::AccountId' },
      DataCatalogEncryptionSettings: {
        EncryptionAtRest: { CatalogEncryptionMode: 'SSE-KMS', SseAwsKmsKeyId: { 'Fn::GetAtt': ['LakeKey09476F72', 'Arn'] } },
        ConnectionPasswordEncryption: { ReturnConnectionPasswordEncrypted: true, KmsKeyId: { 'Fn::GetAtt': ['LakeKey09476F72', 'Arn'] } },
      },
    });
    const databases = Object.values(template.findResources('AWS::Glue::Database')) as Array<{ DependsOn?: string[] }>;
    expect(databases).toHaveLength(4);
    for (const db of databases) expect(db.DependsOn).toEqual([expect.stringMatching(/^CatalogCatalogEncryption/)]);
  });

  test('refuses an encrypted catalog in a stack that would destroy its key', () => {
    expect(() => catalog({ encryptCatalog: true, removalPolicy: RemovalPolicy.DESTROY })).toThrow(
      /encryptCatalog needs removalPolicy RETAIN: the setting is account-wide and a deleted key makes every table in the account unreadable/,
    );
  });
});
