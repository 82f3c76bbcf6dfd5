import type { Stack } from 'aws-cdk-lib';
import { BROKER_DISCOVERY_RESOURCE_TYPE } from '../../lib/constructs/kafka/kafka-broker-discovery';
import { synthApp, type SynthResult } from '../helpers/synth';

/**
 * Rules about what CloudFormation and the services do at deploy and run time, checked on every
 * stack of every environment (dev, staging, prod) as `cdk synth -c env=all` renders them.
 */
type Json = unknown;
interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
}
interface TemplateJson {
  readonly Resources: Record<string, Resource>;
}

const ENVIRONMENTS = ['dev', 'staging', 'prod'];
const STACKS = ['Security', 'Network', 'Data', 'Streaming', 'Processing', 'Observability'];
/** CloudFormation evaluates these on the unresolved `{{resolve:...}}` text of a dynamic reference. */
const STRING_FUNCTIONS = ['Fn::Split', 'Fn::Select', 'Fn::Base64', 'Fn::Cidr'];

let result: SynthResult;
const templates: Array<{ env: string; stack: string; stackName: string; qualifier: string; template: TemplateJson }> = [];

beforeAll(() => {
  result = synthApp({ env: 'all' });
  for (const stage of result.stages) {
    for (const stack of STACKS) {
      const stackName = (stage.node.findChild(stack) as Stack).stackName;
      templates.push({
        env: stage.stageName,
        stack,
        stackName,
        qualifier: stage.config.qualifier,
        template: result.template(stage.stageName, stack).toJSON() as TemplateJson,
      });
    }
  }
});

/** Every (path, value) pair of a JSON tree. */
function* walk(value: Json, path: string[] = []): Generator<[string[], Json]> {
  yield [path, value];
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* walk(item, [...path, String(index)]);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) yield* walk(item, [...path, key]);
  }
}

/** Paths inside a string function whose strings contain a dynamic reference. */
function dynamicReferencesInStringFunctions(template: Json): string[] {
  const found: string[] = [];
  for (const [path, value] of walk(template)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    for (const fn of STRING_FUNCTIONS) {
      if (!(fn in value)) continue;
      for (const [inner, text] of walk((value as Record<string, Json>)[fn], [...path, fn])) {
        if (typeof text === 'string' && text.includes('{{resolve:')) found.push(inner.join('.'));
      }
    }
  }
  return found;
}

function discoveryIds(template: TemplateJson): string[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === BROKER_DISCOVERY_RESOURCE_TYPE)
    .map(([id]) => id);
}

describe('dynamic references', () => {
  it('detects a dynamic reference inside a string function', () => {
    const bad = { Resources: { R: { Properties: { X: { 'Fn::Select': [0, { 'Fn::Split': [',', '{{resolve:ssm:/p}}'] }] } } } } };
    expect(dynamicReferencesInStringFunctions(bad)).toEqual([
      'Resources.R.Properties.X.Fn::Select.1.Fn::Split.1',
      'Resources.R.Properties.X.Fn::Select.1.Fn::Split.1',
    ]);
    expect(dynamicReferencesInStringFunctions({ A: { 'Fn::Join': ['', ['{{resolve:ssm:/p}}']] } })).toEqual([]);
  });

  it('never sit inside Fn::Split, Fn::Select, Fn::Base64 or Fn::Cidr, in any stack of any environment', () => {
    expect(templates.map((t) => `${t.env}/${t.stack}`)).toHaveLength(ENVIRONMENTS.length * STACKS.length);
    const found = templates.flatMap((t) => dynamicReferencesInStringFunctions(t.template).map((p) => `${t.env}/${t.stack}: ${p}`));
    expect(found).toEqual([]);
  });

  it('no template reads the bootstrap-brokers parameter (CloudFormation would not re-resolve a new value)', () => {
    for (const t of templates)
      expect({ where: `${t.env}/${t.stack}`, resolves: JSON.stringify(t.template).includes('{{resolve:ssm:') }).toEqual({
        where: `${t.env}/${t.stack}`,
        resolves: false,
      });
  });
});

describe('broker values', () => {
  const consumerStacks = ['Streaming', 'Processing', 'Observability'];
  const byEnvStack = (env: string, stack: string) => templates.find((t) => t.env === env && t.stack === stack)!;

  it.each(ENVIRONMENTS)('%s: each consumer stack discovers the brokers itself, from the cluster ARN and broker count only', (env) => {
    for (const stack of consumerStacks) {
      const { template } = byEnvStack(env, stack);
      const ids = discoveryIds(template);
      expect({ stack, count: ids.length }).toEqual({ stack, count: 1 });
      const { ServiceToken: _token, ...properties } = template.Resources[ids[0]].Properties!;
      expect({ stack, keys: Object.keys(properties).sort() }).toEqual({ stack, keys: ['BrokerCount', 'ClusterArn'] });
      expect(JSON.stringify(properties.ClusterArn)).toContain('Fn::ImportValue');
    }
    for (const stack of ['Security', 'Network', 'Data']) expect(discoveryIds(byEnvStack(env, stack).template)).toEqual([]);
  });

  it.each(ENVIRONMENTS)("%s: every consumer reads the brokers as GetAtt of its own stack's discovery resource", (env) => {
    const attr = (template: TemplateJson, name: string) => ({ 'Fn::GetAtt': [discoveryIds(template)[0], name] });

    const streaming = byEnvStack(env, 'Streaming').template;
    const topics = Object.values(streaming.Resources).filter((r) => r.Type === 'Custom::KafkaTopics');
    expect(topics.map((r) => r.Properties!.BootstrapBrokers)).toEqual([attr(streaming, 'BootstrapBrokers')]);
    for (const { template, stack } of ['Streaming', 'Processing'].map((s) => ({ stack: s, template: byEnvStack(env, s).template }))) {
      const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
      const withBrokers = functions
        .map((r) => (r.Properties!.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables?.BOOTSTRAP_BROKERS)
        .filter((v) => v !== undefined);
      for (const value of withBrokers) expect({ stack, value }).toEqual({ stack, value: attr(template, 'BootstrapBrokers') });
      if (stack === 'Streaming') expect(withBrokers.length).toBeGreaterThanOrEqual(1);
      // MSK Connect (Debezium) where configured.
      for (const connector of Object.values(template.Resources).filter((r) => r.Type === 'AWS::KafkaConnect::Connector')) {
        expect(JSON.stringify(connector.Properties)).toContain(JSON.stringify(attr(template, 'BootstrapBrokers')));
      }
    }

    const processing = byEnvStack(env, 'Processing').template;
    for (const app of Object.values(processing.Resources).filter((r) => r.Type === 'AWS::KinesisAnalyticsV2::Application')) {
      const groups = (
        (app.Properties!.ApplicationConfiguration as Record<string, Json>).EnvironmentProperties as {
          PropertyGroups: Array<{ PropertyMap: Record<string, Json> }>;
        }
      ).PropertyGroups;
      const servers = groups.map((g) => g.PropertyMap['bootstrap.servers']).filter((v) => v !== undefined);
      expect(servers).toEqual([attr(processing, 'BootstrapBrokers')]);
    }
    // The Spark streaming job's --bootstrap-servers argument, wherever the supervisor carries it.
    const mentions = [...walk(processing)].filter(([, v]) => typeof v === 'string' && v.includes('--bootstrap-servers'));
    for (const [path] of mentions) {
      const owner = processing.Resources[path[1]];
      expect(JSON.stringify(owner)).toContain(JSON.stringify(attr(processing, 'BootstrapBrokers')));
    }

    const observability = byEnvStack(env, 'Observability').template;
    const scraper = Object.values(observability.Resources).find((r) => r.Type === 'AWS::APS::Scraper')!;
    const blob = JSON.stringify((scraper.Properties!.ScrapeConfiguration as Record<string, Json>).ConfigurationBlob);
    expect(blob).toContain(JSON.stringify(attr(observability, 'BrokerHosts')));
    expect(blob).not.toContain('{{resolve:');
  });

  it.each(ENVIRONMENTS)("%s: the scraper may send only to the brokers' exporter ports", (env) => {
    const { template } = byEnvStack(env, 'Observability');
    const scraper = Object.values(template.Resources).find((r) => r.Type === 'AWS::APS::Scraper')!;
    const groupId = ((scraper.Properties!.Source as Record<string, Record<string, Json[]>>).VpcConfiguration.SecurityGroupIds[0] as { 'Fn::GetAtt': string[] })[
      'Fn::GetAtt'
    ][0];
    const egress = template.Resources[groupId].Properties!.SecurityGroupEgress as Array<Record<string, Json>>;
    expect(egress.map((rule) => [rule.IpProtocol, rule.FromPort, rule.ToPort])).toEqual([
      ['tcp', 11001, 11001],
      ['tcp', 11002, 11002],
    ]);
    for (const rule of egress) expect(JSON.stringify(rule.DestinationSecurityGroupId)).toContain('Fn::ImportValue');
  });
});

describe('vended log groups', () => {
  /** Log groups a service writes to through CloudWatch Logs vended log delivery, by who references them. */
  function vendedLogGroupIds(template: TemplateJson): string[] {
    const ids = new Set<string>();
    const idOf = (value: Json) => {
      const getAtt = (value as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt'];
      const ref = (value as { Ref?: string } | undefined)?.Ref;
      const id = getAtt?.[0] ?? ref;
      if (id && template.Resources[id]?.Type === 'AWS::Logs::LogGroup') ids.add(id);
    };
    for (const resource of Object.values(template.Resources)) {
      const p = resource.Properties ?? {};
      if (resource.Type === 'AWS::StepFunctions::StateMachine') {
        for (const d of (p.LoggingConfiguration as { Destinations?: Array<{ CloudWatchLogsLogGroup: { LogGroupArn: Json } }> })?.Destinations ?? [])
          idOf(d.CloudWatchLogsLogGroup.LogGroupArn);
      }
      if (resource.Type === 'AWS::APS::Workspace') idOf((p.LoggingConfiguration as { LogGroupArn?: Json } | undefined)?.LogGroupArn);
      if (resource.Type === 'AWS::APS::Scraper')
        idOf((p.ScraperLoggingConfiguration as Record<string, Record<string, Record<string, Json>>>)?.LoggingDestination?.CloudWatchLogs?.LogGroupArn);
      if (resource.Type === 'AWS::MSK::Cluster')
        idOf((p.LoggingInfo as Record<string, Record<string, Record<string, Json>>>)?.BrokerLogs?.CloudWatchLogs?.LogGroup);
      if (resource.Type === 'AWS::KafkaConnect::Connector') idOf(JSON.parse(JSON.stringify(p)).LogDelivery?.WorkerLogDelivery?.CloudWatchLogs?.LogGroup);
    }
    return [...ids];
  }

  it('cover every Step Functions state machine, the Prometheus workspace and scraper, and the MSK broker logs', () => {
    for (const env of ENVIRONMENTS) {
      const count = (stack: string) => vendedLogGroupIds(templates.find((t) => t.env === env && t.stack === stack)!.template).length;
      expect({
        env,
        observability: count('Observability'),
        data: count('Data'),
        streaming: count('Streaming') >= 1,
        processing: count('Processing') >= 3,
      }).toEqual({
        env,
        observability: 2,
        data: 1,
        streaming: true,
        processing: true,
      });
    }
  });

  it('are named under /aws/vendedlogs/ with a deterministic name that carries the environment qualifier', () => {
    const problems: string[] = [];
    const seen = new Map<string, string>();
    for (const t of templates) {
      for (const id of vendedLogGroupIds(t.template)) {
        const name = t.template.Resources[id].Properties!.LogGroupName;
        const where = `${t.env}/${t.stack}/${id}`;
        if (typeof name !== 'string') problems.push(`${where}: generated name ${JSON.stringify(name)}`);
        else if (!name.startsWith('/aws/vendedlogs/') || !name.includes(t.qualifier)) problems.push(`${where}: ${name}`);
        else if (seen.has(name)) problems.push(`${where}: ${name} also used by ${seen.get(name)}`);
        else seen.set(name, where);
      }
    }
    expect(problems).toEqual([]);
    expect(seen.size).toBeGreaterThan(0);
  });
});

describe('cross-stack exports', () => {
  /** Exports whose value is an attribute of a resource of one of `types`, as `stack: output`. */
  function exportsOfAttributes(t: (typeof templates)[number], types: string[]): string[] {
    const outputs = (t.template as { Outputs?: Record<string, { Value: Json; Export?: Json }> }).Outputs ?? {};
    return Object.entries(outputs)
      .filter(([, output]) => output.Export !== undefined)
      .filter(([, output]) =>
        [...walk(output.Value)].some(
          ([path, v]) => path.at(-2) === 'Fn::GetAtt' && path.at(-1) === '0' && types.includes(t.template.Resources[v as string]?.Type),
        ),
      )
      .map(([id]) => `${t.env}/${t.stack}: ${id}`);
  }

  it('detects an export of a mirrored artifact key', () => {
    const template = {
      Resources: { M: { Type: 'Custom::ArtifactMirror' } },
      Outputs: { O: { Value: { 'Fn::GetAtt': ['M', 'x.Key'] }, Export: { Name: 'n' } } },
    };
    expect(exportsOfAttributes({ env: 'e', stack: 's', stackName: 'n', qualifier: 'q', template }, ['Custom::ArtifactMirror'])).toEqual(['e/s: O']);
  });

  // CloudFormation refuses to change or delete an export another stack imports. A mirrored key
  // carries its version, so a version bump (or turning Flink or the Spark streaming job off) would
  // fail the streaming stack's update.
  it('no stack exports a mirrored artifact key (its value changes with the version)', () => {
    expect(templates.flatMap((t) => exportsOfAttributes(t, ['Custom::ArtifactMirror']))).toEqual([]);
  });

  it.each(ENVIRONMENTS)('%s: the processing stack names the mirrored jars literally and deploys after the streaming stack', (env) => {
    const stage = result.stages.find((s) => s.stageName === env)!;
    const processing = stage.node.findChild('Processing') as Stack;
    expect(processing.dependencies.map((s) => s.node.id)).toContain('Streaming');
    const text = JSON.stringify(templates.find((t) => t.env === env && t.stack === 'Processing')!.template);
    for (const name of ['flink-connector-kafka', 'spark-sql-kafka', 'aws-msk-iam-auth']) {
      expect(text).toMatch(new RegExp(`artifacts/${name}/[^/"]+/${name}-`));
    }
  });
});
