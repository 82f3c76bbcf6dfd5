import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { synthesizeRequirements } from '../../lib/cli/preflight/command';
import { neededServiceLinkedRoles } from '../../lib/cli/preflight/checks/service-linked-roles';
import { synthesizeEnvironment } from '../../lib/cli/common/environment';
import { loadEnvironment } from '../../lib/config/load-config';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');

describe('requirements read from the synthesized stage', () => {
  const config = loadEnvironment('dev', { processEnv: {} });
  const requirements = synthesizeRequirements(config);

  it('takes the minimum bootstrap version from the assembly, the same number the templates check', () => {
    // Independent source: each template's CheckBootstrapVersion rule refuses the versions below the minimum.
    const refused = synthesizeEnvironment(config, (assembly) =>
      assembly.stacks.map((stack) => {
        const rule = (stack.template as { Rules?: Record<string, { Assertions: Array<{ Assert: { 'Fn::Not': [{ 'Fn::Contains': [number[], unknown] }] } }> }> })
          .Rules?.CheckBootstrapVersion;
        return Math.max(...(rule?.Assertions[0]?.Assert['Fn::Not'][0]['Fn::Contains'][0] ?? [0]));
      }),
    );
    expect(requirements.bootstrap).toHaveLength(1);
    expect(requirements.bootstrap[0]?.parameterName).toBe('/cdk-bootstrap/hnb659fds/version');
    expect(requirements.bootstrap[0]?.minVersion).toBe(Math.max(...refused) + 1);
    expect(requirements.bootstrap[0]?.artifacts.length).toBeGreaterThanOrEqual(6);
  });

  it('lists the resource types and the service-linked roles the stage needs', () => {
    expect(requirements.resourceTypes).toEqual(expect.arrayContaining(['AWS::MSK::Cluster', 'AWS::APS::Scraper', 'AWS::Grafana::Workspace']));
    expect(requirements.referencedServiceLinkedRoles).toContainEqual({
      roleName: 'AWSServiceRoleForApplicationAutoScaling_KafkaCluster',
      awsServiceName: 'kafka.application-autoscaling.amazonaws.com',
    });
    expect(neededServiceLinkedRoles(requirements.resourceTypes, requirements.referencedServiceLinkedRoles).map((r) => r.roleName)).toEqual(
      expect.arrayContaining(['AWSServiceRoleForKafka', 'AWSServiceRoleForAmazonPrometheusScraper', 'AWSServiceRoleForApplicationAutoScaling_KafkaCluster']),
    );
  });
});

describe('bin/lakestream.js from a fresh clone', () => {
  it('prints help through the exact command the README shows and exits 0', async () => {
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'bin', 'lakestream.js'), '--help'], { cwd: ROOT });
    expect(stdout).toContain('Usage: lakestream [options] [command]');
    expect(stdout).toMatch(/preflight \[options\]\s+Check the target account before the first deploy/);
  });

  it('exits 2 with the config error for an unknown environment', async () => {
    const failure = await run(process.execPath, [path.join(ROOT, 'bin', 'lakestream.js'), 'preflight', '--env', 'nope'], { cwd: ROOT }).catch(
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain('lakestream: Unknown environment "nope". Known environments: dev, staging, prod.');
  });
});
