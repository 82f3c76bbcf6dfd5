import { Template } from 'aws-cdk-lib/assertions';
import { Stack } from 'aws-cdk-lib';
import { createApp } from '../../lib/app/build-app';
import { LakestreamStage } from '../../lib/app/lakestream-stage';
import { deploymentMapFromStage, type ResourceRef } from '../../lib/cli/common/deployment';
import { loadEnvironment } from '../../lib/config/load-config';

describe('deployment map of the real dev stage', () => {
  const config = loadEnvironment('dev', { processEnv: {} });
  const app = createApp({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stage = new LakestreamStage(app, config.stageName, { config });
  const map = deploymentMapFromStage(stage);
  const templates = new Map(
    stage.node.children.filter(Stack.isStack).map((s) => [s.stackName, Template.fromStack(s).toJSON() as { Resources: Record<string, { Type: string }> }]),
  );

  const refs: Array<[string, ResourceRef]> = [
    ['kafkaCluster', map.kafkaCluster],
    ['topics', map.topics],
    ['flinkApplication', map.flinkApplication!],
    ['sparkApplication', map.sparkApplication],
    ['supervisor', map.streaming!.supervisorFunction],
    ['dailyPipeline', map.dailyPipeline],
    ['replayStateMachine', map.replayStateMachine],
    ['landingBucket', map.landingBucket],
    ['prometheusWorkspace', map.prometheusWorkspace],
    ['scraper', map.scraper],
    ['grafanaWorkspace', map.grafanaWorkspace],
    ...map.ruleGroupsNamespaces.map((r): [string, ResourceRef] => ['ruleGroups', r]),
  ];

  it.each(refs)('%s names a resource of its type in the synthesized template of its stack', (_name, ref) => {
    const template = templates.get(ref.stackName);
    expect(template).toBeDefined();
    expect(template?.Resources[ref.logicalId]?.Type).toBe(ref.resourceType);
  });

  it('uses the stack names, resource names and config the app uses', () => {
    expect(map.stackNames).toEqual(['security', 'network', 'data', 'streaming', 'processing', 'observability'].map((s) => `lakestream-dev-${s}`));
    expect(map.kafkaCluster.resourceType).toBe('AWS::MSK::Cluster');
    expect(map.streaming?.jobName).toBe('streaming-bronze');
    expect(map.streaming?.checkIntervalMinutes).toBe(config.emr.supervisorIntervalMinutes);
    expect(map.landingPrefix).toBe('incoming/');
    expect(map.topicNames).toEqual(expect.arrayContaining([map.rawTopic, map.countsTopic]));
    expect(map.athena.workgroup).toBe('lakestream-dev-analytics');
    expect(map.windowMinutes).toBe(config.flink.windowMinutes);
    expect(map.ga4).toBeUndefined();
  });

  it('lists every CloudWatch alarm of the stage', () => {
    const count = [...templates.values()].reduce((n, t) => n + Object.values(t.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').length, 0);
    expect(count).toBeGreaterThan(0);
    expect(map.alarms).toHaveLength(count);
  });
});
