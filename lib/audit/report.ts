import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildApp, createApp } from '../app/build-app';
import { actionsIn, collectAccess, type RoleEntry } from './access';
import { collectEncryption, KEY_TYPES, type EncryptionEntry, type KeyEntry, type KeyType } from './encryption';
import {
  collectAcknowledgements,
  collectNetwork,
  collectRetention,
  type AcknowledgementEntry,
  type EndpointEntry,
  type RetentionEntry,
  type SecurityGroupEntry,
} from './exposure';
import { IamCatalogue } from './iam-catalogue';
import { TemplateIndex } from './template-index';

export interface EnvironmentReport {
  readonly keys: KeyEntry[];
  readonly encryption: EncryptionEntry[];
  readonly roles: RoleEntry[];
  readonly securityGroups: SecurityGroupEntry[];
  readonly endpoints: EndpointEntry[];
  readonly publicExposure: string[];
  readonly acknowledgements: AcknowledgementEntry[];
  readonly retention: RetentionEntry[];
}

export interface Summary {
  readonly roles: number;
  /** Allow statements whose Resource includes `*`. */
  readonly statementsOnStar: number;
  readonly awsManagedPolicyAttachments: number;
  readonly flaggedRoles: number;
  readonly storesByKeyType: Record<KeyType, number>;
  readonly openEgressGroups: number;
  readonly endpointsWithoutPolicy: number;
  readonly acknowledgements: number;
}

export interface AuditReport {
  /** The IAM action catalogue wildcards were expanded with. */
  readonly catalogue: string;
  readonly summary: Record<string, Summary>;
  readonly environments: Record<string, EnvironmentReport>;
}

export interface AuditOptions {
  /** `-c env=` value. @default 'all' */
  readonly env?: string;
  /** Account the environments are synthesized for when their config names none. @default unresolved (`${AWS::AccountId}`) */
  readonly account?: string;
}

/**
 * Synthesizes the app (offline: no credentials, no lookups, no bundling; templates do not depend on
 * bundle contents) and reads the security facts of every environment from the templates and the
 * construct tree. Everything is sorted, so the same source gives byte-identical output.
 */
export async function runAudit(options: AuditOptions = {}): Promise<AuditReport> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-audit-'));
  try {
    const context: Record<string, unknown> = { env: options.env ?? 'all', 'aws:cdk:bundling-stacks': [] };
    if (options.account) context.account = options.account;
    const app = createApp({ outdir, context });
    const stages = buildApp(app, { processEnv: {} });
    app.synth({ force: true });
    const catalogue = new IamCatalogue();
    const environments: Record<string, EnvironmentReport> = {};
    for (const stage of stages) {
      const index = new TemplateIndex(stage);
      await catalogue.load(actionsIn(index));
      const { keys, stores } = collectEncryption(index);
      const network = collectNetwork(index);
      environments[stage.config.name] = {
        keys,
        encryption: stores.sort((a, b) => a.store.localeCompare(b.store) || a.resource.localeCompare(b.resource)),
        roles: collectAccess(index, catalogue),
        ...network,
        acknowledgements: collectAcknowledgements(stage, index),
        retention: collectRetention(index),
      };
    }
    const summary = Object.fromEntries(Object.entries(environments).map(([name, e]) => [name, summarize(e)]));
    return { catalogue: await IamCatalogue.version(), summary, environments };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

export function summarize(e: EnvironmentReport): Summary {
  const storesByKeyType = Object.fromEntries(KEY_TYPES.map((t) => [t, e.encryption.filter((s) => s.keyType === t).length])) as Record<KeyType, number>;
  return {
    roles: e.roles.length,
    statementsOnStar: e.roles.flatMap((r) => r.statements).filter((s) => s.effect === 'Allow' && s.resources.includes('*')).length,
    awsManagedPolicyAttachments: e.roles.reduce((n, r) => n + r.managedPolicies.filter((p) => p.includes(':iam::aws:policy/')).length, 0),
    flaggedRoles: e.roles.filter((r) => r.flags.length > 0).length,
    storesByKeyType,
    openEgressGroups: e.securityGroups.filter((g) => g.open.some((o) => o.startsWith('egress'))).length,
    endpointsWithoutPolicy: e.endpoints.filter((x) => x.policy[0]?.startsWith('(none')).length,
    acknowledgements: e.acknowledgements.length,
  };
}

/** The JSON form: stable key order, two-space indent, trailing newline. */
export function reportJson(report: AuditReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const table = (headers: string[], rows: string[][]) =>
  [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');

/** The Markdown form, for people: one section per environment, the same facts as the JSON. */
export function reportMarkdown(report: AuditReport): string {
  const out: string[] = [
    '# Lakestream security audit',
    '',
    `Generated by \`npm run audit\` from the CDK app; IAM wildcards expanded with ${report.catalogue}.`,
    '',
  ];
  out.push('## Summary', '');
  out.push(
    table(
      [
        'environment',
        'roles',
        'Allow statements on *',
        'AWS managed policy attachments',
        'flagged roles',
        ...KEY_TYPES.map((t) => `stores: ${t}`),
        'groups with open egress',
        'endpoints without policy',
        'acknowledgements',
      ],
      Object.entries(report.summary).map(([env, s]) => [
        env,
        String(s.roles),
        String(s.statementsOnStar),
        String(s.awsManagedPolicyAttachments),
        String(s.flaggedRoles),
        ...KEY_TYPES.map((t) => String(s.storesByKeyType[t])),
        String(s.openEgressGroups),
        String(s.endpointsWithoutPolicy),
        String(s.acknowledgements),
      ]),
    ),
    '',
  );
  for (const [env, e] of Object.entries(report.environments)) {
    out.push(
      `## ${env}`,
      '',
      '### Keys',
      '',
      table(
        ['key', 'alias', 'rotation'],
        e.keys.map((k) => [k.key, k.alias, k.rotation]),
      ),
      '',
    );
    out.push(
      '### Encryption inventory',
      '',
      table(
        ['store', 'resource', 'key type', 'key', 'CMK supported', 'note'],
        e.encryption.map((s) => [s.store, s.resource, s.keyType, s.key, s.cmkSupported ? 'yes' : 'no', s.note ?? '']),
      ),
      '',
    );
    out.push('### IAM access matrix', '');
    for (const role of e.roles) {
      out.push(`#### ${role.role}`, '', `Assumed by: ${role.assumedBy.join('; ') || '(nobody)'}`, '');
      if (role.managedPolicies.length > 0) out.push(`Managed policies: ${role.managedPolicies.join(', ')}`, '');
      if (role.flags.length > 0) out.push(...role.flags.map((f) => `- **flag**: ${f}`), '');
      out.push(
        table(
          ['effect', 'actions', 'covers', 'resources', 'conditions'],
          role.statements.map((s) => [
            s.effect,
            s.actions.join(' '),
            s.expandedActions.join(' ') === s.actions.join(' ') ? '' : s.expandedActions.join(' '),
            s.resources.join(' '),
            s.conditions,
          ]),
        ),
        '',
      );
    }
    out.push(
      '### Network exposure',
      '',
      table(
        ['security group', 'description', 'ingress', 'egress', 'open'],
        e.securityGroups.map((g) => [g.group, g.description, g.ingress.join('<br>'), g.egress.join('<br>') || '(none)', g.open.join('<br>')]),
      ),
      '',
    );
    out.push(
      table(
        ['endpoint', 'service', 'type', 'policy'],
        e.endpoints.map((x) => [x.endpoint, x.service, x.type, x.policy.join('<br>')]),
      ),
      '',
    );
    out.push('Public exposure:', '', ...e.publicExposure.map((p) => `- ${p}`), '');
    out.push(
      '### Acknowledged findings',
      '',
      table(
        ['rule', 'at', 'resources covered', 'reason'],
        e.acknowledgements.map((a) => [a.rule, a.at, String(a.resources), a.reason]),
      ),
      '',
    );
    out.push(
      '### Retention',
      '',
      table(
        ['store', 'resource', 'retention'],
        e.retention.map((r) => [r.store, r.resource, r.retention]),
      ),
      '',
    );
  }
  return `${out.join('\n')}\n`;
}
