import {
  CreateWorkspaceServiceAccountCommand,
  CreateWorkspaceServiceAccountTokenCommand,
  DeleteWorkspaceServiceAccountTokenCommand,
  DescribeWorkspaceCommand,
  GrafanaClient,
  ListWorkspaceServiceAccountsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-grafana';
import { createLogger } from '../shared/logger';
import { type CustomResourceEvent, type CustomResourceResult, parseProperties } from '../shared/custom-resource';
import { GrafanaApi, grafanaBaseUrl } from './grafana-api';
import { applyDashboardVariables, planDashboards, propertiesSchema, type ProvisionerProperties } from './properties';

const grafana = new GrafanaClient({});
const logger = createLogger('grafana-provisioner');

/** The token lives just long enough for one provisioning run; it is also revoked explicitly. */
const TOKEN_SECONDS_TO_LIVE = 600;

interface Session {
  readonly api: GrafanaApi;
  readonly serviceAccountId: string;
  readonly tokenId: string;
}

export async function handler(event: CustomResourceEvent): Promise<CustomResourceResult> {
  const props = parseProperties(propertiesSchema, event.ResourceProperties);
  const physicalResourceId = `${props.WorkspaceId}/${props.FolderUid}`;
  logger.info('Grafana provisioning', { requestType: event.RequestType, workspaceId: props.WorkspaceId, folderUid: props.FolderUid });

  if (event.RequestType === 'Delete') {
    await remove(props);
    return { PhysicalResourceId: event.PhysicalResourceId ?? physicalResourceId };
  }
  const previous = event.RequestType === 'Update' ? parseProperties(propertiesSchema, event.OldResourceProperties, 'OldResourceProperties') : undefined;
  const plan = planDashboards(props, previous);
  const outcome = await withSession(props, async (api) => {
    await api.ensureFolder(props.FolderUid, props.FolderTitle);
    for (const dataSource of props.DataSources) {
      const result = await api.upsertDataSource({ ...dataSource, access: 'proxy' });
      logger.info('Data source provisioned', { uid: dataSource.uid, result });
    }
    for (const dashboard of plan.upsert) {
      const model = applyDashboardVariables(JSON.parse(dashboard.json) as Record<string, unknown>, props.DashboardVariables);
      await api.upsertDashboard(model, props.FolderUid, `Provisioned by CloudFormation (${dashboard.sha256.slice(0, 12)})`);
      logger.info('Dashboard provisioned', { uid: dashboard.uid, sha256: dashboard.sha256 });
    }
    for (const uid of plan.remove) {
      await api.deleteDashboard(uid);
      logger.info('Dashboard removed', { uid });
    }
  });
  if (outcome === 'workspace-gone') throw new Error(`Grafana workspace ${props.WorkspaceId} does not exist`);
  return {
    // A new workspace or folder is a replacement: the new id makes CloudFormation delete the old one.
    PhysicalResourceId: physicalResourceId,
    Data: { FolderUid: props.FolderUid, DashboardsUpdated: plan.upsert.map((d) => d.uid).join(',') },
  };
}

async function remove(props: ProvisionerProperties): Promise<void> {
  if (!props.DeleteOnRemove) {
    logger.info('Leaving the folder and its dashboards in Grafana (DeleteOnRemove is false)');
    return;
  }
  const outcome = await withSession(props, (api) => api.deleteFolder(props.FolderUid));
  if (outcome === 'workspace-gone') logger.info('Workspace already deleted; nothing to remove');
}

/**
 * Runs `work` with a fresh service-account token and revokes the token afterwards, whether or not
 * `work` succeeded. Returns 'workspace-gone' when the workspace no longer exists.
 */
async function withSession(props: ProvisionerProperties, work: (api: GrafanaApi) => Promise<void>): Promise<'done' | 'workspace-gone'> {
  let endpoint: string;
  try {
    const { workspace } = await grafana.send(new DescribeWorkspaceCommand({ workspaceId: props.WorkspaceId }));
    if (!workspace?.endpoint) throw new Error(`Grafana workspace ${props.WorkspaceId} has no endpoint (status ${workspace?.status})`);
    endpoint = workspace.endpoint;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return 'workspace-gone';
    throw error;
  }
  const baseUrl = grafanaBaseUrl(endpoint, process.env.GRAFANA_API_INSECURE_FOR_TESTS === 'true');
  const session = await openSession(props, baseUrl);
  try {
    await work(session.api);
  } finally {
    await grafana.send(
      new DeleteWorkspaceServiceAccountTokenCommand({ workspaceId: props.WorkspaceId, serviceAccountId: session.serviceAccountId, tokenId: session.tokenId }),
    );
    logger.info('Service-account token revoked', { tokenId: session.tokenId });
  }
  return 'done';
}

async function openSession(props: ProvisionerProperties, baseUrl: string): Promise<Session> {
  const serviceAccountId = await ensureServiceAccount(props.WorkspaceId, props.ServiceAccountName);
  // A unique name: a token of a crashed earlier run may still exist until it expires.
  const name = `cfn-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const created = await grafana.send(
    new CreateWorkspaceServiceAccountTokenCommand({ workspaceId: props.WorkspaceId, serviceAccountId, name, secondsToLive: TOKEN_SECONDS_TO_LIVE }),
  );
  const token = created.serviceAccountToken;
  if (!token?.id || !token.key) throw new Error(`CreateWorkspaceServiceAccountToken returned no token for service account ${serviceAccountId}`);
  return { api: new GrafanaApi(baseUrl, token.key), serviceAccountId, tokenId: token.id };
}

async function ensureServiceAccount(workspaceId: string, name: string): Promise<string> {
  let nextToken: string | undefined;
  do {
    const page = await grafana.send(new ListWorkspaceServiceAccountsCommand({ workspaceId, nextToken }));
    const existing = page.serviceAccounts?.find((account) => account.name === name);
    if (existing?.id) return existing.id;
    nextToken = page.nextToken;
  } while (nextToken);
  const created = await grafana.send(new CreateWorkspaceServiceAccountCommand({ workspaceId, name, grafanaRole: 'ADMIN' }));
  if (!created.id) throw new Error(`CreateWorkspaceServiceAccount returned no id for ${name}`);
  logger.info('Service account created', { serviceAccountId: created.id });
  return created.id;
}
