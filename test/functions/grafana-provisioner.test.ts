import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateWorkspaceServiceAccountCommand,
  CreateWorkspaceServiceAccountTokenCommand,
  DeleteWorkspaceServiceAccountTokenCommand,
  DescribeWorkspaceCommand,
  GrafanaClient,
  ListWorkspaceServiceAccountsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-grafana';
import { mockClient } from 'aws-sdk-client-mock';
import type { CustomResourceEvent } from '../../lib/functions/shared/custom-resource';
import { handler } from '../../lib/functions/grafana-provisioner';
import { grafanaBaseUrl } from '../../lib/functions/grafana-provisioner/grafana-api';

const grafana = mockClient(GrafanaClient);
const TOKEN = 'glsa_test_token_value';

interface Recorded {
  method: string;
  path: string;
  body: any;
  auth: string | undefined;
}

/** In-memory stand-in for the Grafana HTTP API endpoints the provisioner calls. */
class FakeGrafana {
  requests: Recorded[] = [];
  folders = new Map<string, { title: string; version: number }>();
  dataSources = new Map<string, any>();
  dashboards = new Map<string, { folderUid: string; dashboard: any }>();
  failure: { match: RegExp; status: number } | undefined;
  private server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
  calls(method: string, path: RegExp): Recorded[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0];
      const body = raw ? JSON.parse(raw) : undefined;
      this.requests.push({ method: req.method ?? '', path, body, auth: req.headers.authorization });
      const reply = (status: number, payload: unknown = {}) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply(401, { message: 'Unauthorized' });
      if (this.failure?.match.test(`${req.method} ${path}`)) return reply(this.failure.status, { message: 'injected failure' });
      let m: RegExpMatchArray | null;
      if ((m = path.match(/^\/api\/folders\/([^/]+)$/))) {
        const folder = this.folders.get(m[1]);
        if (req.method === 'GET') return folder ? reply(200, { uid: m[1], ...folder }) : reply(404, { message: 'not found' });
        if (req.method === 'PUT') {
          this.folders.set(m[1], { title: body.title, version: (folder?.version ?? 0) + 1 });
          return reply(200);
        }
        if (req.method === 'DELETE') {
          if (!folder) return reply(404);
          this.folders.delete(m[1]);
          for (const [uid, d] of this.dashboards) if (d.folderUid === m[1]) this.dashboards.delete(uid);
          return reply(200);
        }
      }
      if (path === '/api/folders' && req.method === 'POST') {
        this.folders.set(body.uid, { title: body.title, version: 1 });
        return reply(200, { uid: body.uid });
      }
      if ((m = path.match(/^\/api\/datasources\/uid\/([^/]+)$/))) {
        const ds = this.dataSources.get(m[1]);
        if (req.method === 'GET') return ds ? reply(200, ds) : reply(404, { message: 'not found' });
        if (req.method === 'PUT') {
          this.dataSources.set(m[1], body);
          return reply(200);
        }
      }
      if (path === '/api/datasources' && req.method === 'POST') {
        this.dataSources.set(body.uid, { ...body, id: this.dataSources.size + 1 });
        return reply(200);
      }
      if (path === '/api/dashboards/db' && req.method === 'POST') {
        if (this.dashboards.has(body.dashboard.uid) && !body.overwrite) return reply(412, { message: 'exists' });
        this.dashboards.set(body.dashboard.uid, { folderUid: body.folderUid, dashboard: body.dashboard });
        return reply(200, { uid: body.dashboard.uid });
      }
      if ((m = path.match(/^\/api\/dashboards\/uid\/([^/]+)$/)) && req.method === 'DELETE') {
        return this.dashboards.delete(m[1]) ? reply(200) : reply(404);
      }
      return reply(404, { message: `no route ${req.method} ${path}` });
    });
  }
}

const dashboard = (uid: string, title: string) => {
  const json = JSON.stringify({ id: 7, uid, title, schemaVersion: 39, templating: { list: [{ name: 'database', type: 'textbox', query: '' }] }, panels: [] });
  return { uid, json, sha256: createHash('sha256').update(json).digest('hex') };
};
const DATA_SOURCES = [
  {
    uid: 'lakestream-prometheus',
    name: 'Prometheus',
    type: 'prometheus',
    url: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1',
    jsonData: { httpMethod: 'POST', sigV4Auth: true, sigV4AuthType: 'ec2_iam_role', sigV4Region: 'eu-west-1' },
  },
  { uid: 'lakestream-cloudwatch', name: 'CloudWatch', type: 'cloudwatch', jsonData: { authType: 'ec2_iam_role', defaultRegion: 'eu-west-1' } },
];

function props(overrides: Record<string, unknown> = {}, dashboards = [dashboard('lakestream-a', 'A'), dashboard('lakestream-b', 'B')]) {
  return {
    ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider',
    WorkspaceId: 'g-0123456789',
    FolderUid: 'lakestream-dev',
    FolderTitle: 'Lakestream dev',
    DataSources: JSON.stringify(DATA_SOURCES),
    Dashboards: JSON.stringify(dashboards),
    DashboardVariables: JSON.stringify({ database: 'lakestream_dev_gold' }),
    ...overrides,
  };
}
const event = (RequestType: 'Create' | 'Update' | 'Delete', ResourceProperties: Record<string, unknown>, OldResourceProperties?: Record<string, unknown>) =>
  ({
    RequestType,
    ResourceProperties,
    OldResourceProperties,
    PhysicalResourceId: RequestType === 'Create' ? undefined : 'g-0123456789/lakestream-dev',
  }) as unknown as CustomResourceEvent;

let server: FakeGrafana;
let baseUrl: string;

beforeEach(async () => {
  server = new FakeGrafana();
  baseUrl = await server.start();
  process.env.GRAFANA_API_INSECURE_FOR_TESTS = 'true';
  grafana.reset();
  grafana.on(DescribeWorkspaceCommand).resolves({ workspace: { endpoint: baseUrl, status: 'ACTIVE' } as any });
  grafana.on(ListWorkspaceServiceAccountsCommand).resolves({ serviceAccounts: [] } as any);
  grafana.on(CreateWorkspaceServiceAccountCommand).resolves({ id: 'sa-1', name: 'lakestream-provisioner', grafanaRole: 'ADMIN' } as any);
  grafana.on(CreateWorkspaceServiceAccountTokenCommand).resolves({ serviceAccountToken: { id: 'tok-1', name: 'x', key: TOKEN } } as any);
  grafana.on(DeleteWorkspaceServiceAccountTokenCommand).resolves({} as any);
});
afterEach(async () => {
  await server.stop();
  delete process.env.GRAFANA_API_INSECURE_FOR_TESTS;
});

const revoked = () => grafana.commandCalls(DeleteWorkspaceServiceAccountTokenCommand).map((c) => c.args[0].input);

describe('grafana-provisioner Create', () => {
  it('creates the service account, a 10-minute token, the folder, data sources and dashboards, then revokes the token', async () => {
    const result = await handler(event('Create', props()));

    expect(result.PhysicalResourceId).toBe('g-0123456789/lakestream-dev');
    expect(grafana.commandCalls(CreateWorkspaceServiceAccountCommand)[0].args[0].input).toEqual({
      workspaceId: 'g-0123456789',
      name: 'lakestream-provisioner',
      grafanaRole: 'ADMIN',
    });
    expect(grafana.commandCalls(CreateWorkspaceServiceAccountTokenCommand)[0].args[0].input).toMatchObject({ serviceAccountId: 'sa-1', secondsToLive: 600 });
    expect(server.folders.get('lakestream-dev')).toEqual({ title: 'Lakestream dev', version: 1 });
    expect(server.calls('POST', /^\/api\/datasources$/).map((r) => r.body.uid)).toEqual(['lakestream-prometheus', 'lakestream-cloudwatch']);
    expect(server.dataSources.get('lakestream-prometheus')).toMatchObject({ access: 'proxy', jsonData: { sigV4Auth: true, sigV4AuthType: 'ec2_iam_role' } });
    const posted = server.calls('POST', /^\/api\/dashboards\/db$/);
    expect(posted.map((r) => [r.body.dashboard.uid, r.body.folderUid, r.body.overwrite])).toEqual([
      ['lakestream-a', 'lakestream-dev', true],
      ['lakestream-b', 'lakestream-dev', true],
    ]);
    expect(posted[0].body.dashboard.id).toBeUndefined();
    expect(posted[0].body.dashboard.templating.list[0]).toMatchObject({
      name: 'database',
      query: 'lakestream_dev_gold',
      current: { value: 'lakestream_dev_gold' },
    });
    expect(server.requests.every((r) => r.auth === `Bearer ${TOKEN}`)).toBe(true);
    expect(revoked()).toEqual([{ workspaceId: 'g-0123456789', serviceAccountId: 'sa-1', tokenId: 'tok-1' }]);
  });

  it('reuses an existing service account found on a later page, and updates existing items by uid', async () => {
    grafana
      .on(ListWorkspaceServiceAccountsCommand)
      .resolvesOnce({ serviceAccounts: [{ id: 'other', name: 'someone' }], nextToken: 'p2' } as any)
      .resolvesOnce({ serviceAccounts: [{ id: 'sa-9', name: 'lakestream-provisioner' }] } as any);
    server.folders.set('lakestream-dev', { title: 'Old title', version: 3 });
    server.dataSources.set('lakestream-prometheus', { id: 42, uid: 'lakestream-prometheus' });

    await handler(event('Create', props()));

    expect(grafana.commandCalls(CreateWorkspaceServiceAccountCommand)).toHaveLength(0);
    expect(grafana.commandCalls(CreateWorkspaceServiceAccountTokenCommand)[0].args[0].input.serviceAccountId).toBe('sa-9');
    expect(server.calls('PUT', /^\/api\/folders\/lakestream-dev$/)[0].body).toEqual({ title: 'Lakestream dev', version: 3, overwrite: true });
    expect(server.calls('PUT', /^\/api\/datasources\/uid\/lakestream-prometheus$/)[0].body).toMatchObject({ id: 42, url: DATA_SOURCES[0].url });
    expect(server.calls('POST', /^\/api\/datasources$/).map((r) => r.body.uid)).toEqual(['lakestream-cloudwatch']);
    expect(revoked()).toEqual([{ workspaceId: 'g-0123456789', serviceAccountId: 'sa-9', tokenId: 'tok-1' }]);
  });

  it('is idempotent: a retried Create overwrites by uid and leaves one copy of each', async () => {
    await handler(event('Create', props()));
    await handler(event('Create', props()));
    expect([...server.dashboards.keys()]).toEqual(['lakestream-a', 'lakestream-b']);
    expect(server.calls('POST', /^\/api\/folders$/)).toHaveLength(1);
    expect(revoked()).toHaveLength(2);
  });
});

describe('grafana-provisioner Update', () => {
  it('pushes only dashboards whose hash changed and removes dashboards no longer listed', async () => {
    const old = props({}, [dashboard('lakestream-a', 'A'), dashboard('lakestream-b', 'B'), dashboard('lakestream-c', 'C')]);
    await handler(event('Create', old));
    server.requests = [];

    const result = await handler(event('Update', props({}, [dashboard('lakestream-a', 'A'), dashboard('lakestream-b', 'B v2')]), old));

    expect(server.calls('POST', /^\/api\/dashboards\/db$/).map((r) => r.body.dashboard.uid)).toEqual(['lakestream-b']);
    expect(server.dashboards.get('lakestream-b')?.dashboard.title).toBe('B v2');
    expect(server.calls('DELETE', /^\/api\/dashboards\/uid\//).map((r) => r.path)).toEqual(['/api/dashboards/uid/lakestream-c']);
    expect(result).toMatchObject({ PhysicalResourceId: 'g-0123456789/lakestream-dev', Data: { DashboardsUpdated: 'lakestream-b' } });
  });

  it('moves everything to a new folder and returns a new physical id so CloudFormation removes the old one', async () => {
    const old = props();
    const result = await handler(event('Update', props({ FolderUid: 'lakestream-dev-2', FolderTitle: 'Lakestream dev 2' }), old));
    expect(result.PhysicalResourceId).toBe('g-0123456789/lakestream-dev-2');
    expect([...server.dashboards.values()].map((d) => d.folderUid)).toEqual(['lakestream-dev-2', 'lakestream-dev-2']);
  });

  it('pushes every dashboard when the dashboard variables change', async () => {
    const old = props();
    await handler(event('Update', props({ DashboardVariables: JSON.stringify({ database: 'lakestream_prod_gold' }) }), old));
    expect(server.calls('POST', /^\/api\/dashboards\/db$/)).toHaveLength(2);
  });
});

describe('grafana-provisioner failures', () => {
  it.each([
    [401, /HTTP 401 \(the service-account token was rejected\)/],
    [403, /HTTP 403 \(the service account lacks permission/],
    [502, /HTTP 502 \(Grafana server error, retry the deployment\)/],
  ])('fails clearly on HTTP %i and still revokes the token', async (status, message) => {
    server.failure = { match: /^POST \/api\/dashboards\/db$/, status };
    await expect(handler(event('Create', props()))).rejects.toThrow(message);
    await expect(handler(event('Create', props()))).rejects.toThrow(/POST \/api\/dashboards\/db/);
    expect(revoked()).toHaveLength(2);
  });

  it('never puts the token in an error message', async () => {
    server.failure = { match: /^POST \/api\/folders$/, status: 500 };
    const error = await handler(event('Create', props())).catch((e: Error) => e);
    expect(String((error as Error).message)).not.toContain(TOKEN);
    expect(revoked()).toHaveLength(1);
  });

  it('refuses a plain-http endpoint unless the test switch is on', async () => {
    delete process.env.GRAFANA_API_INSECURE_FOR_TESTS;
    await expect(handler(event('Create', props()))).rejects.toThrow(/must use https/);
    expect(grafanaBaseUrl('g-0123456789.grafana-workspace.eu-west-1.amazonaws.com', false)).toBe(
      'https://g-0123456789.grafana-workspace.eu-west-1.amazonaws.com',
    );
    expect(grafana.commandCalls(CreateWorkspaceServiceAccountTokenCommand)).toHaveLength(0);
  });

  it('rejects malformed properties naming the field', async () => {
    await expect(handler(event('Create', props({ WorkspaceId: 'nope', Dashboards: '[' })))).rejects.toThrow(
      /WorkspaceId: must be a Grafana workspace id.*Dashboards: is not valid JSON/,
    );
  });

  it('fails Create when the workspace does not exist', async () => {
    grafana.on(DescribeWorkspaceCommand).rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {}, resourceId: 'g', resourceType: 'workspace' }));
    await expect(handler(event('Create', props()))).rejects.toThrow(/workspace g-0123456789 does not exist/);
  });
});

describe('grafana-provisioner Delete', () => {
  it('leaves everything in Grafana by default and mints no token', async () => {
    await handler(event('Create', props()));
    grafana.resetHistory();
    await expect(handler(event('Delete', props()))).resolves.toEqual({ PhysicalResourceId: 'g-0123456789/lakestream-dev' });
    expect(grafana.commandCalls(CreateWorkspaceServiceAccountTokenCommand)).toHaveLength(0);
    expect(server.dashboards.size).toBe(2);
  });

  it('deletes the folder and its dashboards when DeleteOnRemove is true, and succeeds if already gone', async () => {
    await handler(event('Create', props()));
    await handler(event('Delete', props({ DeleteOnRemove: 'true' })));
    expect(server.folders.size).toBe(0);
    expect(server.dashboards.size).toBe(0);
    await expect(handler(event('Delete', props({ DeleteOnRemove: 'true' })))).resolves.toBeDefined();
    expect(revoked()).toHaveLength(3);
  });

  it('succeeds when the workspace is gone', async () => {
    grafana.on(DescribeWorkspaceCommand).rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {}, resourceId: 'g', resourceType: 'workspace' }));
    await expect(handler(event('Delete', props({ DeleteOnRemove: 'true' })))).resolves.toEqual({ PhysicalResourceId: 'g-0123456789/lakestream-dev' });
    expect(revoked()).toHaveLength(0);
  });
});
