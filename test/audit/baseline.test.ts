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
  role.statements.push({ effect: 'Allow', actions: ['s3:Get*'], expandedActions: ['s3:GetObject'], resources: ['arn:aws:s3:::other/*'], conditions: '', source: 'test' });
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

  test('no data store that supports customer-managed keys uses an AWS-owned or AWS-managed key', () => {
    const weak = report.environments[env]!.encryption.filter((s) => s.cmkSupported && (s.keyType === 'aws-owned' || s.keyType === 'aws-managed' || s.keyType === 'none'));
    expect(weak.map((s) => `${s.store} ${s.resource}: ${s.keyType}`)).toEqual([]);
  });

  test('no role holds data actions on *, every topic, or unconditioned PassRole', () => {
    const flagged = report.environments[env]!.roles.flatMap((r) => r.flags.filter((f) => !f.startsWith('AWS managed policy') && !f.startsWith('every object of a bucket')).map((f) => `${r.role}: ${f}`));
    expect(flagged).toEqual([]);
  });
});
