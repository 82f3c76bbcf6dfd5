import { KEY_TYPES } from './encryption';
import type { AuditReport } from './report';

/** Where the committed baseline lives, relative to the repository root. */
export const BASELINE_JSON = 'audit/baseline.json';
export const BASELINE_MARKDOWN = 'audit/baseline.md';

/** How the report differs from the baseline, by what a reviewer must look at first. */
export interface BaselineDiff {
  /** New grants (role, action, resource, condition), new rules, new endpoint or key policy statements, new acknowledgements. */
  readonly widened: string[];
  /** Stores whose key type dropped (e.g. customer-managed → AWS-owned) or new stores below customer-managed. */
  readonly weakened: string[];
  /** Everything else that changed (narrowed access, removed stores, retention, summary): the baseline is stale. */
  readonly other: string[];
}

/** One line per grant or rule, so set differences are the widened and narrowed access. */
function accessFacts(report: AuditReport): Set<string> {
  const facts = new Set<string>();
  for (const [env, e] of Object.entries(report.environments)) {
    for (const role of e.roles) {
      for (const trust of role.assumedBy) facts.add(`${env} ${role.role} assumable by ${trust}`);
      for (const policy of role.managedPolicies) facts.add(`${env} ${role.role} has managed policy ${policy}`);
      for (const s of role.statements.filter((x) => x.effect === 'Allow')) {
        for (const action of s.expandedActions) {
          for (const resource of s.resources) facts.add(`${env} ${role.role} may ${action} on ${resource}${s.conditions ? ` if ${s.conditions}` : ''}`);
        }
      }
    }
    for (const g of e.securityGroups) {
      for (const rule of g.ingress) facts.add(`${env} security group ${g.group} ingress ${rule}`);
      for (const rule of g.egress) facts.add(`${env} security group ${g.group} egress ${rule}`);
    }
    for (const x of e.endpoints) for (const statement of x.policy) facts.add(`${env} endpoint ${x.endpoint} admits ${statement}`);
    for (const p of e.publicExposure) facts.add(`${env} public: ${p}`);
    for (const a of e.acknowledgements) facts.add(`${env} acknowledged ${a.rule} at ${a.at}: ${a.reason}`);
  }
  return facts;
}

function storeKeys(report: AuditReport): Map<string, { rank: number; text: string }> {
  const stores = new Map<string, { rank: number; text: string }>();
  for (const [env, e] of Object.entries(report.environments)) {
    for (const s of e.encryption) stores.set(`${env} ${s.store} ${s.resource}`, { rank: KEY_TYPES.indexOf(s.keyType), text: `${s.keyType} (${s.key})` });
  }
  return stores;
}

/** Compares a fresh report with the committed baseline. */
export function diffBaseline(baseline: AuditReport, current: AuditReport): BaselineDiff {
  const before = accessFacts(baseline);
  const after = accessFacts(current);
  const widened = [...after].filter((f) => !before.has(f)).sort();
  const other = [...before].filter((f) => !after.has(f)).map((f) => `removed: ${f}`);
  const weakened: string[] = [];
  const storesBefore = storeKeys(baseline);
  const storesAfter = storeKeys(current);
  const strongest = KEY_TYPES.indexOf('customer-managed');
  for (const [store, now] of storesAfter) {
    const was = storesBefore.get(store);
    if (was === undefined) {
      if (now.rank < strongest) weakened.push(`${store}: new store with ${now.text}`);
      else other.push(`new store: ${store} ${now.text}`);
    } else if (now.rank < was.rank) weakened.push(`${store}: ${was.text} → ${now.text}`);
    else if (now.text !== was.text) other.push(`${store}: ${was.text} → ${now.text}`);
  }
  for (const store of storesBefore.keys()) if (!storesAfter.has(store)) other.push(`removed store: ${store}`);
  if (JSON.stringify(baseline) !== JSON.stringify(current) && widened.length + weakened.length + other.length === 0) {
    other.push('the report differs from the baseline in retention, keys or summary');
  }
  return { widened, weakened: weakened.sort(), other: other.sort() };
}

/** Human-readable diff; empty when the report equals the baseline. */
export function formatDiff(diff: BaselineDiff): string {
  const section = (title: string, lines: string[]) =>
    lines.length === 0
      ? []
      : [`${title} (${lines.length}):`, ...lines.slice(0, 200).map((l) => `  + ${l}`), ...(lines.length > 200 ? [`  ... ${lines.length - 200} more`] : [])];
  return [...section('ACCESS WIDENED', diff.widened), ...section('ENCRYPTION WEAKENED', diff.weakened), ...section('OTHER CHANGES', diff.other)].join('\n');
}
