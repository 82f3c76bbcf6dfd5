import { CfnElement, Stack, Stage } from 'aws-cdk-lib';

/** One CloudFormation resource of a synthesized stage, with the construct path reviewers know it by. */
export interface IndexedResource {
  /** Stack id in the stage, e.g. `Data`. */
  readonly stack: string;
  readonly logicalId: string;
  /** Construct path below the stage, without the trailing `/Resource`, e.g. `Data/Lake/Bronze`. */
  readonly label: string;
  readonly type: string;
  readonly properties: Record<string, unknown>;
}

type Template = {
  Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
};

/** The report spells an unresolved pseudo parameter as Fn::Sub does: `${AWS::AccountId}`. */
const sub = (name: string): string => `\${${name}}`;

/** A CDK asset's object name in the bootstrap assets bucket: its 64-hex content hash. */
const ASSET_OBJECT = /(?<=cdk-[a-z0-9]+-assets-[^/]+\/)[0-9a-f]{64}(?=\.[a-z]+\b)/g;

const PSEUDO: Record<string, string> = {
  'AWS::AccountId': sub('AWS::AccountId'),
  'AWS::Region': sub('AWS::Region'),
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': sub('AWS::StackName'),
  'AWS::NoValue': '',
};

/**
 * The templates of one synthesized stage, indexed so that any CloudFormation value can be shown as
 * text a reviewer can read: `Ref`/`Fn::GetAtt` become `<construct path>` / `<path>.Attr`, imports
 * are followed to the exporting stack, and `Fn::Join` is joined.
 */
export class TemplateIndex {
  public readonly resources: IndexedResource[] = [];
  private readonly byStack = new Map<string, Map<string, IndexedResource>>();
  private readonly exports = new Map<string, { stack: string; value: unknown }>();

  constructor(public readonly stage: Stage) {
    const assembly = stage.synth();
    for (const stack of stage.node.children.filter(Stack.isStack)) {
      const template = assembly.getStackArtifact(stack.artifactId).template as Template;
      const paths = new Map<string, string>();
      for (const node of stack.node.findAll()) {
        if (node instanceof CfnElement && Stack.of(node) === stack) paths.set(stack.resolve(node.logicalId) as string, node.node.path);
      }
      const index = new Map<string, IndexedResource>();
      for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
        const path = paths.get(logicalId) ?? `${stack.node.id}/${logicalId}`;
        const label = path
          .split('/')
          .slice(1)
          .join('/')
          .replace(/\/(Resource|Default)$/, '');
        const entry = { stack: stack.node.id, logicalId, label, type: resource.Type, properties: resource.Properties ?? {} };
        index.set(logicalId, entry);
        this.resources.push(entry);
      }
      this.byStack.set(stack.node.id, index);
      for (const output of Object.values(template.Outputs ?? {})) {
        if (typeof output.Export?.Name === 'string') this.exports.set(output.Export.Name, { stack: stack.node.id, value: output.Value });
      }
    }
    this.resources.sort((a, b) => a.label.localeCompare(b.label) || a.logicalId.localeCompare(b.logicalId));
  }

  public ofType(type: string): IndexedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** The resource a `Ref`, `Fn::GetAtt` or import of either points at, if any. */
  public target(stack: string, value: unknown): IndexedResource | undefined {
    if (!value || typeof value !== 'object') return undefined;
    const v = value as Record<string, unknown>;
    if (typeof v.Ref === 'string') return this.byStack.get(stack)?.get(v.Ref);
    if (Array.isArray(v['Fn::GetAtt'])) return this.byStack.get(stack)?.get(String(v['Fn::GetAtt'][0]));
    if (typeof v['Fn::ImportValue'] === 'string') {
      const exported = this.exports.get(v['Fn::ImportValue']);
      return exported ? this.target(exported.stack, exported.value) : undefined;
    }
    return undefined;
  }

  /**
   * `value` as readable text (see the class doc). CDK asset object names (content hashes) are
   * replaced by `<asset-hash>`: editing job code must not read as a widened grant in the baseline.
   */
  public render(stack: string, value: unknown): string {
    return this.renderValue(stack, value).replace(ASSET_OBJECT, '<asset-hash>');
  }

  private renderValue(stack: string, value: unknown): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (!value || typeof value !== 'object') return '';
    if (Array.isArray(value)) return value.map((v) => this.render(stack, v)).join(',');
    const v = value as Record<string, unknown>;
    if (typeof v.Ref === 'string') return PSEUDO[v.Ref] ?? `<${this.byStack.get(stack)?.get(v.Ref)?.label ?? v.Ref}>`;
    if (Array.isArray(v['Fn::GetAtt'])) {
      const [id, attribute] = v['Fn::GetAtt'] as [string, string];
      return `<${this.byStack.get(stack)?.get(id)?.label ?? id}.${attribute}>`;
    }
    if (typeof v['Fn::ImportValue'] === 'string') {
      const exported = this.exports.get(v['Fn::ImportValue']);
      return exported ? this.render(exported.stack, exported.value) : `<import ${v['Fn::ImportValue']}>`;
    }
    if (Array.isArray(v['Fn::Join'])) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => this.render(stack, p)).join(separator);
    }
    if (Array.isArray(v['Fn::Select'])) {
      const [index, list] = v['Fn::Select'] as [number | string, unknown];
      const split = (list as Record<string, unknown> | undefined)?.['Fn::Split'];
      if (Array.isArray(split)) {
        const text = this.render(stack, split[1]);
        if (!text.includes('<')) return text.split(String(split[0]))[Number(index)] ?? '';
        return `select(${index}, split('${String(split[0])}', ${text}))`;
      }
    }
    if (v['Fn::Sub'] !== undefined) return String(Array.isArray(v['Fn::Sub']) ? v['Fn::Sub'][0] : v['Fn::Sub']);
    return JSON.stringify(value);
  }
}
