import * as fs from 'node:fs';
import * as path from 'node:path';
import { BASELINE_JSON, BASELINE_MARKDOWN, diffBaseline, formatDiff } from '../../lib/audit/baseline';
import { reportJson, reportMarkdown, runAudit, type AuditReport } from '../../lib/audit/report';

/**
 * The security baseline works like a snapshot: the audit of the current source must equal the
 * committed audit/baseline.json byte for byte. A change that widens access or weakens encryption
 * fails here, naming what widened, until `npm run audit -- --update-baseline` is run and the new
 * baseline is committed in the same change, where a reviewer sees it.
 */
const ROOT = path.join(__dirname, '..', '..');
let report: AuditReport;
let baseline: AuditReport;
beforeAll(async () => {
  report = await runAudit();
  baseline = JSON.parse(fs.readFileSync(path.join(ROOT, BASELINE_JSON), 'utf8')) as AuditReport;
}, 120_000);

test('the audit of the current source equals the committed baseline', () => {
  expect(formatDiff(diffBaseline(baseline, report))).toBe('');
  // Byte-identical output: a separate run produced the committed files.
  expect(reportJson(report)).toBe(fs.readFileSync(path.join(ROOT, BASELINE_JSON), 'utf8'));
  expect(reportMarkdown(report)).toBe(fs.readFileSync(path.join(ROOT, BASELINE_MARKDOWN), 'utf8'));
});

test('a new grant is reported as widened access, and a weaker key as weakened encryption', () => {
  const changed = JSON.parse(JSON.stringify(baseline)) as AuditReport;
  const env = Object.keys(changed.environments)[0]!;
  const role = changed.environments[env]!.roles[0]!;
  role.statements.push({
    effect: 'Allow',
    actions: ['s3:Get*'],
    expandedActions: ['s3:GetObject'],
    resources: ['arn:aws:s3:::other/*'],
    conditions: '',
    source: 'test',
  });
  const store = changed.environments[env]!.encryption.find((s) => s.keyType === 'customer-managed')!;
  Object.assign(store, { keyType: 'aws-owned', key: 'AWS owned key' });
  const diff = diffBaseline(baseline, changed);
  expect(diff.widened).toEqual([`${env} ${role.role} may s3:GetObject on arn:aws:s3:::other/*`]);
  expect(diff.weakened).toEqual([expect.stringContaining(`${env} ${store.store} ${store.resource}: customer-managed`)]);
  // The reverse change narrows: it is not widened access, but the baseline is stale all the same.
  const reverse = diffBaseline(changed, baseline);
  expect(reverse.widened).toEqual([]);
  expect(reverse.weakened).toEqual([]);
  expect(reverse.other.length).toBeGreaterThan(0);
});

describe.each(['dev', 'staging', 'prod'])('%s: what the issue asks the report to show', (env) => {
  test('no security group has open egress outside the functions that need the internet', () => {
    const open = report.environments[env]!.securityGroups.filter((g) => g.open.length > 0).map((g) => g.group);
    expect(open).toEqual(open.filter((g) => /InternetEgress/.test(g)));
  });

  test('no data store that supports customer-managed keys uses a weaker key', () => {
    const weak = report.environments[env]!.encryption.filter(
      (s) => s.cmkSupported && (s.keyType === 'aws-owned' || s.keyType === 'aws-managed' || s.keyType === 'none'),
    );
    expect(weak.map((s) => `${s.store} ${s.resource} (${s.keyType})`)).toEqual([]);
    // The check has something to check: every kind of store is in the inventory.
    const stores = new Set(report.environments[env]!.encryption.map((s) => s.store));
    for (const store of [
      'Step Functions state machine',
      'Managed Flink application state',
      'EMR Serverless managed logs',
      'S3 bucket',
      'CloudWatch log group',
    ]) {
      expect(stores).toContain(store);
    }
  });

  test('no role holds data actions on *, every topic, or unconditioned PassRole (beyond the Grafana role)', () => {
    const flagged = report.environments[env]!.roles.flatMap((r) => r.flags.filter((f) => !f.startsWith('AWS managed policy')).map((f) => `${r.role}: ${f}`));
    // The catalogue lists a `dataset` resource type for GetMetricData (OTLP metrics). Grafana reads
    // named prefixes only since the GDPR work, so no whole-bucket read is left.
    expect(flagged).toEqual(['Observability/Grafana/WorkspaceRole: cloudwatch:GetMetricData on * (the action supports resource-level permissions)']);
  });

  test('AWS managed policies remain only on aws-cdk-lib singleton providers', () => {
    const managed = report.environments[env]!.roles.filter((r) => r.managedPolicies.length > 0).map((r) => r.role);
    expect(
      managed.filter(
        (role) =>
          !/(BucketNotificationsHandler050a|Custom::S3AutoDeleteObjectsCustomResourceProvider|AWS679f53fac002430cb0da5b7982bd2287|Custom::VpcRestrictDefaultSGCustomResourceProvider)/.test(
            role,
          ),
      ),
    ).toEqual([]);
  });
});
