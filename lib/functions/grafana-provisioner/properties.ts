import * as z from 'zod';
import { cfnBoolean } from '../shared/custom-resource';

const jsonString = <T extends z.ZodTypeAny>(schema: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

const dataSourceSchema = z.object({
  uid: z.string().regex(/^[a-zA-Z0-9_-]{1,40}$/),
  name: z.string().min(1),
  type: z.string().min(1),
  access: z.literal('proxy').default('proxy'),
  url: z.string().optional(),
  isDefault: z.boolean().optional(),
  jsonData: z.record(z.string(), z.unknown()),
});

/** One dashboard inline: its model as compact JSON and the sha256 the construct computed. */
const dashboardSchema = z.object({ uid: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), json: z.string().min(2) });

export const propertiesSchema = z.object({
  WorkspaceId: z.string().regex(/^g-[0-9a-f]{10}$/, 'must be a Grafana workspace id (g-xxxxxxxxxx)'),
  FolderUid: z.string().regex(/^[a-zA-Z0-9_-]{1,40}$/),
  FolderTitle: z.string().min(1),
  ServiceAccountName: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,128}$/)
    .default('lakestream-provisioner'),
  DataSources: jsonString(z.array(dataSourceSchema)),
  Dashboards: jsonString(z.array(dashboardSchema)),
  /** Values for dashboard textbox/constant variables (e.g. the gold database of this environment). */
  DashboardVariables: jsonString(z.record(z.string(), z.string())).default({}),
  DeleteOnRemove: z._default(cfnBoolean, false),
});
export type ProvisionerProperties = z.infer<typeof propertiesSchema>;
export type DashboardEntry = z.infer<typeof dashboardSchema>;

export interface DashboardPlan {
  readonly upsert: DashboardEntry[];
  readonly remove: string[];
}

/**
 * Which dashboards an event must push: all on Create, or when the folder, variables or data
 * sources changed; otherwise only those whose hash changed. Dashboards no longer listed are removed.
 */
export function planDashboards(current: ProvisionerProperties, previous: ProvisionerProperties | undefined): DashboardPlan {
  const uids = new Set(current.Dashboards.map((d) => d.uid));
  if (uids.size !== current.Dashboards.length) throw new Error('Dashboards contains duplicate uids');
  if (!previous) return { upsert: current.Dashboards, remove: [] };
  const everything =
    previous.FolderUid !== current.FolderUid ||
    previous.WorkspaceId !== current.WorkspaceId ||
    JSON.stringify(previous.DashboardVariables) !== JSON.stringify(current.DashboardVariables);
  const previousHash = new Map(previous.Dashboards.map((d) => [d.uid, d.sha256]));
  return {
    upsert: everything ? current.Dashboards : current.Dashboards.filter((d) => previousHash.get(d.uid) !== d.sha256),
    remove: previous.WorkspaceId === current.WorkspaceId ? previous.Dashboards.map((d) => d.uid).filter((uid) => !uids.has(uid)) : [],
  };
}

interface TemplateVariable {
  name: string;
  type: string;
  query?: unknown;
  current?: unknown;
  options?: unknown;
}

/** Sets the environment's value as the default of textbox/constant variables of that name. */
export function applyDashboardVariables(model: Record<string, unknown>, values: Record<string, string>): Record<string, unknown> {
  const templating = model.templating as { list?: TemplateVariable[] } | undefined;
  if (!templating?.list) return model;
  const list = templating.list.map((variable) => {
    const value = values[variable.name];
    if (value === undefined || !['textbox', 'constant'].includes(variable.type)) return variable;
    return { ...variable, query: value, current: { text: value, value }, options: [{ text: value, value, selected: true }] };
  });
  return { ...model, templating: { ...templating, list } };
}
