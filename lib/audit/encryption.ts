import type { IndexedResource, TemplateIndex } from './template-index';

/** Who holds the key a store is encrypted with. Ordered from weakest to strongest. */
/** `unmanaged`: an account-level setting this app leaves to the account (it may or may not be on). */
export const KEY_TYPES = ['none', 'unmanaged', 'aws-owned', 'aws-managed', 'customer-managed'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export interface EncryptionEntry {
  /** What is stored, e.g. `S3 bucket`, `MSK at rest`. */
  readonly store: string;
  readonly resource: string;
  readonly keyType: KeyType;
  /** Key alias or construct path (customer-managed), AWS alias (aws-managed), or what AWS uses. */
  readonly key: string;
  /** Whether the service can use a customer-managed key here at all. */
  readonly cmkSupported: boolean;
  readonly note?: string;
}

export interface KeyEntry {
  readonly key: string;
  readonly alias: string;
  readonly rotation: string;
}

/**
 * Reads the encryption of every data store in a stage from its templates. Where a property is
 * absent, the entry says what the service then uses (documented defaults): S3 SSE-S3, Secrets
 * Manager `aws/secretsmanager`, Step Functions, Managed Flink and EMR Serverless AWS-owned keys.
 */
export function collectEncryption(index: TemplateIndex): { keys: KeyEntry[]; stores: EncryptionEntry[] } {
  const aliases = new Map<string, string>();
  for (const alias of index.ofType('AWS::KMS::Alias')) {
    const target = index.target(alias.stack, alias.properties.TargetKeyId);
    if (target) aliases.set(target.label, String(alias.properties.AliasName));
  }
  const keys: KeyEntry[] = index.ofType('AWS::KMS::Key').map((k) => ({
    key: k.label,
    alias: aliases.get(k.label) ?? '(no alias)',
    rotation: k.properties.EnableKeyRotation === true ? `every ${Number(k.properties.RotationPeriodInDays ?? 365)} days` : 'off',
  }));

  const describeKey = (r: IndexedResource, value: unknown, absent: { keyType: KeyType; key: string }): { keyType: KeyType; key: string } => {
    if (value === undefined || value === null || value === '') return absent;
    const target = index.target(r.stack, value);
    if (target?.type === 'AWS::KMS::Key') return { keyType: 'customer-managed', key: aliases.get(target.label) ?? target.label };
    const text = index.render(r.stack, value);
    if (/alias\/aws\//.test(text)) return { keyType: 'aws-managed', key: text.replace(/^.*(alias\/aws\/.*)$/, '$1') };
    return { keyType: 'customer-managed', key: text };
  };
  // S3 server access logging delivers only to buckets encrypted with SSE-S3 (S3 user guide, "Enabling Amazon S3 server access logging").
  const accessLogTargets = new Set(
    index.ofType('AWS::S3::Bucket').flatMap((b) => {
      const target = index.target(b.stack, (b.properties.LoggingConfiguration as Record<string, unknown> | undefined)?.DestinationBucketName);
      return target ? [target.label] : [];
    }),
  );
  const stores: EncryptionEntry[] = [];
  const add = (r: IndexedResource, store: string, k: { keyType: KeyType; key: string }, cmkSupported = true, note?: string) =>
    stores.push({ store, resource: r.label, keyType: k.keyType, key: k.key, cmkSupported, ...(note ? { note } : {}) });
  const get = (object: unknown, ...path: Array<string | number>): unknown =>
    path.reduce<unknown>((o, p) => (o && typeof o === 'object' ? (o as Record<string | number, unknown>)[p] : undefined), object);

  for (const r of index.resources) {
    const p = r.properties;
    switch (r.type) {
      case 'AWS::S3::Bucket': {
        const sse = get(p, 'BucketEncryption', 'ServerSideEncryptionConfiguration', 0, 'ServerSideEncryptionByDefault') as Record<string, unknown> | undefined;
        const kms = sse && String(sse.SSEAlgorithm).startsWith('aws:kms');
        const logTarget = accessLogTargets.has(r.label);
        add(
          r,
          'S3 bucket',
          kms ? describeKey(r, sse.KMSMasterKeyID, { keyType: 'aws-managed', key: 'alias/aws/s3' }) : { keyType: 'aws-owned', key: 'SSE-S3' },
          !logTarget,
          logTarget ? 'server access log target: S3 delivers access logs only to SSE-S3 buckets' : undefined,
        );
        break;
      }
      case 'AWS::MSK::Cluster': {
        add(
          r,
          'MSK at rest',
          describeKey(r, get(p, 'EncryptionInfo', 'EncryptionAtRest', 'DataVolumeKMSKeyId'), { keyType: 'aws-managed', key: 'alias/aws/kafka' }),
        );
        const transit = get(p, 'EncryptionInfo', 'EncryptionInTransit') as Record<string, unknown> | undefined;
        const tls = (transit?.ClientBroker ?? 'TLS') === 'TLS' && transit?.InCluster !== false;
        stores.push({
          store: 'MSK in transit',
          resource: r.label,
          keyType: tls ? 'aws-managed' : 'none',
          key: tls ? 'TLS (client-broker and in-cluster)' : `ClientBroker=${String(transit?.ClientBroker)}, InCluster=${String(transit?.InCluster)}`,
          cmkSupported: false,
        });
        break;
      }
      case 'AWS::Logs::LogGroup':
        add(r, 'CloudWatch log group', describeKey(r, p.KmsKeyId, { keyType: 'aws-owned', key: 'CloudWatch Logs service key' }));
        break;
      case 'AWS::SQS::Queue':
        add(
          r,
          'SQS queue',
          describeKey(r, p.KmsMasterKeyId, p.SqsManagedSseEnabled === false ? { keyType: 'none', key: 'none' } : { keyType: 'aws-owned', key: 'SSE-SQS' }),
        );
        break;
      case 'AWS::SNS::Topic':
        add(r, 'SNS topic', describeKey(r, p.KmsMasterKeyId, { keyType: 'none', key: 'none' }));
        break;
      case 'AWS::SecretsManager::Secret':
        add(r, 'secret', describeKey(r, p.KmsKeyId, { keyType: 'aws-managed', key: 'alias/aws/secretsmanager' }));
        break;
      case 'AWS::KinesisAnalyticsV2::Application': {
        const config = get(p, 'ApplicationConfiguration', 'ApplicationEncryptionConfiguration') as Record<string, unknown> | undefined;
        add(
          r,
          'Managed Flink application state',
          config?.KeyType === 'CUSTOMER_MANAGED_KEY'
            ? describeKey(r, config.KeyId, { keyType: 'aws-owned', key: 'AWS owned' })
            : { keyType: 'aws-owned', key: 'AWS owned key' },
        );
        break;
      }
      case 'AWS::EMRServerless::Application': {
        const monitoring = (p.MonitoringConfiguration ?? {}) as Record<string, Record<string, unknown> | undefined>;
        const s3 = monitoring.S3MonitoringConfiguration;
        if (s3)
          add(
            r,
            'EMR Serverless S3 logs',
            describeKey(r, s3.EncryptionKeyArn, { keyType: 'customer-managed', key: 'default encryption of the logs bucket' }),
            true,
            'without EncryptionKeyArn EMR writes with the bucket default encryption',
          );
        const managed = monitoring.ManagedPersistenceMonitoringConfiguration;
        if (managed?.Enabled !== false) {
          const onApplication = describeKey(r, managed?.EncryptionKeyArn, { keyType: 'aws-owned', key: 'AWS owned key' });
          const perRun = onApplication.keyType === 'customer-managed' ? undefined : perRunManagedLogsKey(index, r, aliases);
          if (perRun) add(r, 'EMR Serverless managed logs', perRun.key, true, perRun.note);
          else add(r, 'EMR Serverless managed logs', onApplication);
        }
        const cw = monitoring.CloudWatchLoggingConfiguration;
        if (cw?.Enabled)
          add(
            r,
            'EMR Serverless CloudWatch logs',
            describeKey(r, cw.EncryptionKeyArn, { keyType: 'customer-managed', key: 'key of the log group' }),
            true,
            'without EncryptionKeyArn the log group key applies',
          );
        break;
      }
      case 'AWS::StepFunctions::StateMachine':
      case 'AWS::StepFunctions::Activity': {
        const config = p.EncryptionConfiguration as Record<string, unknown> | undefined;
        add(
          r,
          r.type.endsWith('Activity') ? 'Step Functions activity' : 'Step Functions state machine',
          config?.Type === 'CUSTOMER_MANAGED_KMS_KEY'
            ? describeKey(r, config.KmsKeyId, { keyType: 'aws-owned', key: 'AWS owned key' })
            : { keyType: 'aws-owned', key: 'AWS owned key' },
        );
        break;
      }
      case 'AWS::APS::Workspace':
        add(r, 'Managed Prometheus workspace', describeKey(r, p.KmsKeyArn, { keyType: 'aws-owned', key: 'AWS owned key' }));
        break;
      case 'AWS::Grafana::Workspace':
        add(
          r,
          'Managed Grafana workspace',
          { keyType: 'aws-owned', key: 'AWS owned key' },
          false,
          'Amazon Managed Grafana encrypts workspace data with AWS owned keys only',
        );
        break;
      case 'AWS::Glue::DataCatalogEncryptionSettings': {
        const atRest = get(p, 'DataCatalogEncryptionSettings', 'EncryptionAtRest') as Record<string, unknown> | undefined;
        add(
          r,
          'Glue Data Catalog',
          atRest?.CatalogEncryptionMode === 'SSE-KMS'
            ? describeKey(r, atRest.SseAwsKmsKeyId, { keyType: 'aws-managed', key: 'alias/aws/glue' })
            : { keyType: 'none', key: 'none' },
        );
        break;
      }
      case 'AWS::Athena::WorkGroup': {
        const config = get(p, 'WorkGroupConfiguration', 'ResultConfiguration', 'EncryptionConfiguration') as Record<string, unknown> | undefined;
        const option = String(config?.EncryptionOption ?? 'none');
        add(
          r,
          'Athena query results',
          option === 'SSE_KMS' || option === 'CSE_KMS'
            ? describeKey(r, config?.KmsKey, { keyType: 'aws-managed', key: 'alias/aws/s3' })
            : option === 'SSE_S3'
              ? { keyType: 'aws-owned', key: 'SSE-S3' }
              : { keyType: 'none', key: 'none' },
        );
        break;
      }
      case 'AWS::Lambda::Function':
        if (p.Environment) add(r, 'Lambda environment variables', describeKey(r, p.KmsKeyArn, { keyType: 'aws-managed', key: 'alias/aws/lambda' }));
        break;
      default:
        break;
    }
  }
  if (index.ofType('AWS::Glue::Database').length > 0 && index.ofType('AWS::Glue::DataCatalogEncryptionSettings').length === 0) {
    stores.push({
      store: 'Glue Data Catalog',
      resource: '(account and region setting)',
      keyType: 'unmanaged',
      key: 'not managed by this app: set glue.catalogEncryption to manage it',
      cmkSupported: true,
    });
  }
  return { keys, stores };
}

/**
 * The key of an EMR Serverless application's managed-storage logs when every job run names it
 * instead of the application (StartJobRun `monitoringConfiguration`: a STARTED application refuses
 * updates). The submitters are the state machines whose definition starts runs of this
 * application, and the functions whose environment names it (the streaming supervisor). The key
 * counts only when every submitter names the same key; one that does not leaves the runs it starts
 * on the AWS-owned key, so the entry stays AWS-owned and the note names it.
 */
function perRunManagedLogsKey(
  index: TemplateIndex,
  application: IndexedResource,
  aliases: Map<string, string>,
): { key: { keyType: KeyType; key: string }; note: string } | undefined {
  const applicationRef = `<${application.label}.ApplicationId>`;
  const submitters: Array<{ label: string; key?: string }> = [];
  for (const machine of index.ofType('AWS::StepFunctions::StateMachine').filter((m) => m.stack === application.stack)) {
    const text = index.render(machine.stack, machine.properties.DefinitionString);
    if (!text.includes('emr-serverless:startJobRun') || !text.includes(applicationRef)) continue;
    const named = /"ManagedPersistenceMonitoringConfiguration":\{[^}]*"EncryptionKeyArn":"<([^>]+)\.Arn>"/.exec(text);
    submitters.push({ label: machine.label, key: named?.[1] });
  }
  for (const fn of index.ofType('AWS::Lambda::Function').filter((f) => f.stack === application.stack)) {
    const variables = ((fn.properties.Environment as Record<string, unknown> | undefined)?.Variables ?? {}) as Record<string, unknown>;
    if (index.render(fn.stack, variables.APPLICATION_ID) !== applicationRef) continue;
    const named = /^<(.+)\.Arn>$/.exec(index.render(fn.stack, variables.MANAGED_LOGS_KEY_ARN));
    submitters.push({ label: fn.label, key: named?.[1] });
  }
  if (submitters.length === 0) return undefined;
  const keys = new Set(submitters.map((s) => s.key));
  const [only] = [...keys];
  if (keys.size === 1 && only !== undefined) {
    return {
      key: { keyType: 'customer-managed', key: aliases.get(only) ?? only },
      note: `named by every job run (StartJobRun), not the application: ${submitters.map((s) => s.label).join(', ')}`,
    };
  }
  const without = submitters.filter((s) => s.key === undefined).map((s) => s.label);
  return {
    key: { keyType: 'aws-owned', key: 'AWS owned key' },
    note: without.length > 0 ? `runs started by ${without.join(', ')} name no key` : 'job runs name different keys',
  };
}
