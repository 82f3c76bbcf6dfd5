import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';

/** dashboards/grafana/: one Grafana dashboard model per JSON file. */
export const DEFAULT_DASHBOARDS_DIR = path.join(__dirname, '..', '..', '..', 'dashboards', 'grafana');

/** Data source uids the provisioner creates; a dashboard may reference no other. */
export const DATASOURCE_UIDS = {
  prometheus: 'lakestream-prometheus',
  cloudwatch: 'lakestream-cloudwatch',
  athena: 'lakestream-athena',
} as const;
const KNOWN_DATASOURCE_UIDS: ReadonlySet<string> = new Set(Object.values(DATASOURCE_UIDS));

const datasourceRefSchema = z.object({ type: z.string().min(1), uid: z.string().min(1) });

const targetSchema = z.looseObject({
  refId: z.string().min(1),
  datasource: datasourceRefSchema,
  expr: z.string().optional(),
  namespace: z.string().optional(),
  metricName: z.string().optional(),
  rawSQL: z.string().optional(),
});

const panelSchema = z.looseObject({
  id: z.number().int().positive(),
  type: z.string().min(1),
  title: z.string().min(1),
  datasource: datasourceRefSchema,
  gridPos: z.object({ x: z.number().int().min(0).max(23), y: z.number().int().min(0), w: z.number().int().min(1).max(24), h: z.number().int().min(1) }),
  targets: z.array(targetSchema).min(1),
});

const variableSchema = z.looseObject({ name: z.string().regex(/^[a-z_][a-z0-9_]*$/), type: z.enum(['textbox', 'query', 'custom', 'constant']) });

/** The subset of Grafana's dashboard model (schemaVersion 39+) the Lakestream dashboards use. */
export const grafanaDashboardSchema = z.looseObject({
  uid: z
    .string()
    .regex(/^lakestream-[a-z0-9-]+$/)
    .max(40),
  title: z.string().min(1),
  schemaVersion: z.number().int().min(39),
  tags: z.array(z.string()),
  time: z.object({ from: z.string(), to: z.string() }),
  templating: z.object({ list: z.array(variableSchema) }),
  panels: z.array(panelSchema).min(1),
});
export type GrafanaDashboard = z.infer<typeof grafanaDashboardSchema>;

export interface DashboardFile {
  readonly file: string;
  readonly uid: string;
  readonly title: string;
  /** The dashboard model, compact JSON. */
  readonly json: string;
  /** sha256 of `json`: changes exactly when the dashboard does. */
  readonly sha256: string;
}

/**
 * What a dashboard needs from the environment it is pushed to. Textbox and constant variables get
 * their values at push time (the provisioner sets them); variables of components this environment
 * does not deploy are listed in `unavailable`, and the queries that use them are removed at synth.
 */
export interface DashboardEnvironment {
  /** Names of the textbox/constant variables the provisioner fills in (values may be tokens, so only names here). */
  readonly provided: readonly string[];
  /** Variables of components not deployed here, with the sentence shown in place of their panels. */
  readonly unavailable: Readonly<Record<string, string>>;
  /**
   * Column per-user panels identify users by. `user_ref` (pseudonymous dashboards) rewrites every
   * `user_id` of the committed dashboards to `user_ref` at synth, so the pushed dashboards hold no
   * reference to user_id: not a Grafana variable, which a viewer could change in the URL.
   * @default 'user_id'
   */
  readonly userColumn?: 'user_id' | 'user_ref';
}

/** Grafana's built-in variables and macros, which Grafana resolves itself. */
export const GRAFANA_BUILTIN_VARIABLES: ReadonlySet<string> = new Set([
  '__rate_interval',
  '__interval',
  '__interval_ms',
  '__range',
  '__range_s',
  '__range_ms',
  '__dateFilter',
  '__timeFilter',
  '__timeFrom',
  '__timeTo',
  '__unixEpochFilter',
  '__timeGroup',
  '__timeGroupAlias',
  '__rawTimeFrom',
  '__rawTimeTo',
  '__dashboard',
  '__org',
  '__user',
]);

const VARIABLE_REFERENCE = /\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g;

/** Names of the variables `value` references ($name, ${name}, ${name:format}, [[name]]), Grafana's built-ins included. */
export function referencedVariables(value: unknown): string[] {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return [...new Set([...text.matchAll(VARIABLE_REFERENCE)].map((m) => m[1] ?? m[2] ?? m[3]))];
}

type Panel = GrafanaDashboard['panels'][number];

/**
 * The dashboard as this environment gets it: targets that use an unavailable variable are removed, a
 * panel left without targets becomes a text panel saying why, and unavailable variables disappear
 * from the variable list. Fails (naming dashboard, panel and variable) when a query uses a textbox or
 * constant variable that is neither provided nor unavailable, or a variable the dashboard does not define.
 */
export function adaptDashboard(dashboard: GrafanaDashboard, env: DashboardEnvironment): GrafanaDashboard {
  const provided = new Set(env.provided);
  const byName = new Map(dashboard.templating.list.map((v) => [v.name, v]));
  const problems: string[] = [];
  const panels = dashboard.panels.map((panel): Panel => {
    for (const name of referencedVariables(panel.targets)) {
      const variable = byName.get(name);
      if (GRAFANA_BUILTIN_VARIABLES.has(name) || name in env.unavailable) continue;
      if (!variable) problems.push(`panel ${panel.id} "${panel.title}" uses $${name}, which the dashboard does not define`);
      else if ((variable.type === 'textbox' || variable.type === 'constant') && !provided.has(name)) {
        problems.push(`panel ${panel.id} "${panel.title}" uses $${name}, which the stack neither provides nor marks unavailable`);
      }
    }
    const unavailable = (target: unknown) => referencedVariables(target).filter((name) => name in env.unavailable);
    const kept = panel.targets.filter((target) => unavailable(target).length === 0);
    if (kept.length === panel.targets.length) return panel;
    if (kept.length > 0) return { ...panel, targets: kept };
    const reasons = [...new Set(panel.targets.flatMap(unavailable).map((name) => env.unavailable[name]))];
    const { targets: _targets, fieldConfig: _fieldConfig, options: _options, ...rest } = panel as Panel & { fieldConfig?: unknown; options?: unknown };
    return { ...rest, type: 'text', options: { mode: 'markdown', content: reasons.join('\n\n') } } as unknown as Panel;
  });
  if (problems.length > 0) throw new Error(`Dashboard ${dashboard.uid}: ${problems.join('; ')}`);
  const pseudonymous = env.userColumn === 'user_ref';
  return {
    ...dashboard,
    panels: pseudonymous ? panels.map((panel) => JSON.parse(JSON.stringify(panel).replace(/\buser_id\b/g, 'user_ref')) as Panel) : panels,
    templating: { ...dashboard.templating, list: dashboard.templating.list.filter((v) => !(v.name in env.unavailable)) },
  };
}

/**
 * Reads every *.json file in `dir` (sorted), validates it against the schema and returns it compacted;
 * with `env`, adapted to that environment (see adaptDashboard).
 */
export function loadDashboards(dir: string = DEFAULT_DASHBOARDS_DIR, env?: DashboardEnvironment): DashboardFile[] {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (files.length === 0) throw new Error(`No dashboard (*.json) in ${dir}`);
  const dashboards = files.map((file) => {
    const full = path.join(dir, file);
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(full, 'utf8'));
    } catch (error) {
      throw new Error(`Dashboard ${full} is not valid JSON: ${(error as Error).message}`);
    }
    const parsed = grafanaDashboardSchema.safeParse(raw);
    if (!parsed.success) {
      throw new Error(
        `Dashboard ${full} does not match the dashboard schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    const problems = structuralProblems(parsed.data);
    if (problems.length > 0) throw new Error(`Dashboard ${full}: ${problems.join('; ')}`);
    const json = JSON.stringify(env ? adaptDashboard(parsed.data, env) : raw);
    return { file, uid: parsed.data.uid, title: parsed.data.title, json, sha256: createHash('sha256').update(json).digest('hex') };
  });
  const duplicates = (key: 'uid' | 'title') => dashboards.map((d) => d[key]).filter((v, i, all) => all.indexOf(v) !== i);
  for (const key of ['uid', 'title'] as const) {
    if (duplicates(key).length > 0) throw new Error(`Dashboards in ${dir} share a ${key}: ${[...new Set(duplicates(key))].join(', ')}`);
  }
  return dashboards;
}

/** Problems the schema cannot express: unique panel ids, known data sources, non-overlapping grid. */
export function structuralProblems(dashboard: GrafanaDashboard): string[] {
  const problems: string[] = [];
  const ids = dashboard.panels.map((p) => p.id);
  if (new Set(ids).size !== ids.length) problems.push(`panel ids are not unique: ${ids.join(',')}`);
  for (const panel of dashboard.panels) {
    if (panel.gridPos.x + panel.gridPos.w > 24) problems.push(`panel ${panel.id} is wider than the 24-column grid`);
    const uids = [panel.datasource.uid, ...panel.targets.map((t) => t.datasource.uid)];
    for (const uid of uids) {
      if (!KNOWN_DATASOURCE_UIDS.has(uid)) problems.push(`panel ${panel.id} "${panel.title}" uses unknown data source uid ${uid}`);
    }
    const refIds = panel.targets.map((t) => t.refId);
    if (new Set(refIds).size !== refIds.length) problems.push(`panel ${panel.id} has duplicate target refIds`);
  }
  const cells = new Set<string>();
  for (const panel of dashboard.panels) {
    const { x, y, w, h } = panel.gridPos;
    for (let col = x; col < x + w; col++) {
      for (let row = y; row < y + h; row++) {
        const cell = `${col},${row}`;
        if (cells.has(cell)) problems.push(`panel ${panel.id} overlaps another panel at ${cell}`);
        cells.add(cell);
      }
    }
  }
  return [...new Set(problems)];
}

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/**
 * Metric names a PromQL expression selects: label matchers, strings, range selectors and grouping
 * clauses are removed first, function names are recognised by the parenthesis that follows them.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w:$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![a-zA-Z0-9_:]|\s*\()/g)) {
    const name = match[1];
    if (!PROMQL_KEYWORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}
