import type { IamCatalogue } from './iam-catalogue';
import type { IndexedResource, TemplateIndex } from './template-index';

/** One policy statement of a role, as the report shows it. */
export interface AccessStatement {
  readonly effect: string;
  /** Actions as written in the policy. */
  readonly actions: string[];
  /** Every catalogue action the written actions cover (differs from `actions` where they use wildcards). */
  readonly expandedActions: string[];
  readonly resources: string[];
  /** Conditions as JSON text, '' when none. */
  readonly conditions: string;
  /** Where the statement comes from: inline policy, a policy resource, or an AWS managed policy. */
  readonly source: string;
}

export interface RoleEntry {
  readonly role: string;
  /** Principals that may assume the role, with the trust conditions. */
  readonly assumedBy: string[];
  readonly managedPolicies: string[];
  readonly statements: AccessStatement[];
  /** Review flags: data actions on `*`, every topic, every object of a bucket, unconditioned PassRole. */
  readonly flags: string[];
}

type Statement = { Effect?: string; Action?: unknown; Resource?: unknown; Condition?: unknown; Principal?: unknown };
const list = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Statements of a policy document, with intrinsic values rendered. */
export function renderStatements(
  index: TemplateIndex,
  stack: string,
  document: unknown,
): Array<Statement & { actions: string[]; resources: string[]; conditions: string; principals: string[] }> {
  const statements = list((document as { Statement?: unknown } | undefined)?.Statement) as Statement[];
  return statements.map((s) => ({
    ...s,
    actions: list(s.Action)
      .map((a) => index.render(stack, a))
      .sort(),
    resources: list(s.Resource)
      .map((r) => index.render(stack, r))
      .sort(),
    conditions: s.Condition ? stableJson(renderDeep(index, stack, s.Condition)) : '',
    principals: principalsOf(index, stack, s.Principal),
  }));
}

function principalsOf(index: TemplateIndex, stack: string, principal: unknown): string[] {
  if (principal === undefined) return [];
  if (principal === '*') return ['*'];
  return Object.entries(principal as Record<string, unknown>)
    .flatMap(([kind, values]) => list(values).map((v) => `${kind}:${index.render(stack, v)}`))
    .sort();
}

/** Renders every intrinsic inside a JSON value (for conditions). */
export function renderDeep(index: TemplateIndex, stack: string, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => renderDeep(index, stack, v));
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) return index.render(stack, value);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(index, stack, v)]));
  }
  return value;
}

/** JSON with object keys sorted, so equal values always print the same. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sort(value));
}

/** Every action string any policy in the stage names, so the catalogue can load their services first. */
export function actionsIn(index: TemplateIndex): string[] {
  const actions = new Set<string>();
  const visit = (document: unknown) => {
    for (const s of list((document as { Statement?: unknown } | undefined)?.Statement) as Statement[]) {
      for (const a of list(s.Action)) if (typeof a === 'string') actions.add(a);
    }
  };
  for (const r of index.resources) {
    if (r.type === 'AWS::IAM::Role') for (const p of list(r.properties.Policies) as Array<{ PolicyDocument: unknown }>) visit(p.PolicyDocument);
    if (r.type === 'AWS::IAM::Policy' || r.type === 'AWS::IAM::ManagedPolicy') visit(r.properties.PolicyDocument);
  }
  return [...actions].filter((a) => a !== '*').sort();
}

/**
 * The access matrix: each role of the stage with its trust, managed policies and every statement
 * attached to it (inline, `AWS::IAM::Policy` and customer-managed policies), wildcards expanded.
 */
export function collectAccess(index: TemplateIndex, catalogue: IamCatalogue): RoleEntry[] {
  const attached = new Map<string, Array<{ source: IndexedResource; document: unknown }>>();
  for (const policy of [...index.ofType('AWS::IAM::Policy'), ...index.ofType('AWS::IAM::ManagedPolicy')]) {
    for (const roleRef of list(policy.properties.Roles)) {
      const role = index.target(policy.stack, roleRef);
      if (!role) continue;
      attached.set(role.label, [...(attached.get(role.label) ?? []), { source: policy, document: policy.properties.PolicyDocument }]);
    }
  }
  return index.ofType('AWS::IAM::Role').map((role) => {
    const trust = renderStatements(index, role.stack, role.properties.AssumeRolePolicyDocument);
    const assumedBy = trust.map((t) => `${t.principals.join(' ')}${t.conditions ? ` if ${t.conditions}` : ''}`);
    const managedPolicies = list(role.properties.ManagedPolicyArns)
      .map((arn) => index.render(role.stack, arn))
      .sort();
    const documents = [
      ...(list(role.properties.Policies) as Array<{ PolicyName: unknown; PolicyDocument: unknown }>).map((p) => ({
        source: `inline ${index.render(role.stack, p.PolicyName)}`,
        stack: role.stack,
        document: p.PolicyDocument,
      })),
      ...(attached.get(role.label) ?? []).map((a) => ({ source: a.source.label, stack: a.source.stack, document: a.document })),
    ];
    const statements: AccessStatement[] = documents.flatMap(({ source, stack, document }) =>
      renderStatements(index, stack, document).map((s) => ({
        effect: s.Effect ?? 'Allow',
        actions: s.actions,
        expandedActions: [...new Set(s.actions.flatMap((a) => (a === '*' ? ['*'] : catalogue.expand(a).map((x) => x.name))))].sort(),
        resources: s.resources,
        conditions: s.conditions,
        source,
      })),
    );
    statements.sort((a, b) => stableJson(a).localeCompare(stableJson(b)));
    return { role: role.label, assumedBy: assumedBy.sort(), managedPolicies, statements, flags: flagsOf(statements, managedPolicies, catalogue) };
  });
}

function flagsOf(statements: AccessStatement[], managedPolicies: string[], catalogue: IamCatalogue): string[] {
  const flags = new Set<string>();
  for (const s of statements.filter((x) => x.effect === 'Allow')) {
    if (s.actions.includes('*')) flags.add('action * (every action)');
    if (s.resources.includes('*')) {
      const scopable = s.actions
        .filter((a) => a !== '*')
        .flatMap((a) => catalogue.expand(a))
        .filter((a) => !a.wildcardOnly && a.accessLevel !== 'List');
      for (const action of scopable) flags.add(`${action.name} on * (the action supports resource-level permissions)`);
    }
    for (const resource of s.resources) {
      if (/:topic\/[^/]+\/[^/]+\/\*$/.test(resource)) flags.add(`every topic of a cluster: ${resource}`);
      if (/(^arn:aws:s3:::[^/]+|>)\/\*$/.test(resource) && s.actions.some((a) => a.startsWith('s3:'))) flags.add(`every object of a bucket: ${resource}`);
    }
    if (s.expandedActions.includes('iam:PassRole') && !s.conditions.includes('iam:PassedToService'))
      flags.add('iam:PassRole without an iam:PassedToService condition');
  }
  for (const policy of managedPolicies) flags.add(`AWS managed policy ${policy.replace(/^.*:policy\//, '')}`);
  return [...flags].sort();
}
