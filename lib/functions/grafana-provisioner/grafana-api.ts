/**
 * The few Grafana HTTP API calls the provisioner needs, authenticated with a service-account token.
 * Every failure names the call and the HTTP status; the token is never part of a message.
 */
export class GrafanaApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'GrafanaApiError';
  }
}

export interface DataSourceDefinition {
  readonly uid: string;
  readonly name: string;
  readonly type: string;
  readonly access: 'proxy';
  readonly url?: string;
  readonly isDefault?: boolean;
  readonly jsonData: Record<string, unknown>;
}

/** Resolves the base URL of a workspace endpoint; plain http only for the local test stand-in. */
export function grafanaBaseUrl(endpoint: string, allowInsecure: boolean): string {
  const url = /^[a-z]+:\/\//.test(endpoint) ? new URL(endpoint) : new URL(`https://${endpoint}`);
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) {
    throw new Error(`Grafana endpoint ${url.origin} must use https`);
  }
  return url.origin;
}

export class GrafanaApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** Creates the folder unless a folder with this uid exists; renames it if its title changed. */
  async ensureFolder(uid: string, title: string): Promise<'created' | 'updated' | 'unchanged'> {
    const existing = await this.request<{ title: string; version: number }>('GET', `/api/folders/${encodeURIComponent(uid)}`, undefined, [404]);
    if (!existing) {
      await this.request('POST', '/api/folders', { uid, title });
      return 'created';
    }
    if (existing.title === title) return 'unchanged';
    await this.request('PUT', `/api/folders/${encodeURIComponent(uid)}`, { title, version: existing.version, overwrite: true });
    return 'updated';
  }

  /** Deletes the folder and the dashboards in it; a folder already gone is fine. */
  async deleteFolder(uid: string): Promise<void> {
    await this.request('DELETE', `/api/folders/${encodeURIComponent(uid)}?forceDeleteRules=false`, undefined, [404]);
  }

  /** Updates the data source with this uid in place, or creates it. */
  async upsertDataSource(dataSource: DataSourceDefinition): Promise<'created' | 'updated'> {
    const path = `/api/datasources/uid/${encodeURIComponent(dataSource.uid)}`;
    const existing = await this.request<{ id: number }>('GET', path, undefined, [404]);
    if (existing) {
      await this.request('PUT', path, { ...dataSource, id: existing.id });
      return 'updated';
    }
    await this.request('POST', '/api/datasources', dataSource);
    return 'created';
  }

  /** Creates or replaces the dashboard with the model's uid inside the folder. */
  async upsertDashboard(dashboard: Record<string, unknown>, folderUid: string, message: string): Promise<void> {
    // id must be absent so that Grafana matches by uid, whatever id the copy in git carries.
    const { id: _id, ...model } = dashboard;
    await this.request('POST', '/api/dashboards/db', { dashboard: model, folderUid, overwrite: true, message });
  }

  async deleteDashboard(uid: string): Promise<void> {
    await this.request('DELETE', `/api/dashboards/uid/${encodeURIComponent(uid)}`, undefined, [404]);
  }

  private async request<T>(method: string, path: string, body?: unknown, tolerated: number[] = []): Promise<T | undefined> {
    const what = `${method} ${path.split('?')[0]}`;
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${this.token}`, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new Error(`Grafana API ${what} failed: ${(error as Error).message}`);
    }
    if (tolerated.includes(response.status)) return undefined;
    const text = await response.text();
    if (!response.ok) {
      const detail = text.slice(0, 300);
      const hint =
        response.status === 401
          ? 'the service-account token was rejected'
          : response.status === 403
            ? 'the service account lacks permission (it must have the ADMIN role)'
            : response.status >= 500
              ? 'Grafana server error, retry the deployment'
              : 'request rejected';
      throw new GrafanaApiError(response.status, `Grafana API ${what} returned HTTP ${response.status} (${hint}): ${detail}`);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }
}
