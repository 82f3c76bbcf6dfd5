import { GetRoleCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ListAWSDefaultServiceQuotasCommand,
  ListServiceQuotasCommand,
  NoSuchResourceException,
} from '@aws-sdk/client-service-quotas';
import { GetParameterCommand, GetParametersCommand, ParameterNotFound } from '@aws-sdk/client-ssm';
import { AccessDeniedException, ListInstancesCommand } from '@aws-sdk/client-sso-admin';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { runCli } from '../../lib/cli/main';
import { DescribeRouteTablesCommand } from '@aws-sdk/client-ec2';
import { identityCenterCheck } from '../../lib/cli/preflight/checks/identity-center';
import { defaultRouteTarget, internetEgressCheck } from '../../lib/cli/preflight/checks/internet-egress';
import { QUOTA_REQUIREMENTS, quotaCheck } from '../../lib/cli/preflight/checks/quotas';
import { servicesFor } from '../../lib/cli/preflight/checks/region-services';
import type { PreflightContext } from '../../lib/cli/preflight/types';
import { loadEnvironment } from '../../lib/config/load-config';
import { ACCOUNT, DEV_REQUIREMENTS, harness, mockedClients } from './preflight-fixtures';

type Mocks = ReturnType<typeof mockedClients>['mocks'];

/** An account where everything the dev stage needs is in place. */
function healthy(mocks: Mocks): void {
  mocks.sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/ops` });
  mocks.ssoAdmin
    .on(ListInstancesCommand)
    .resolves({ Instances: [{ InstanceArn: 'arn:aws:sso:::instance/ssoins-1', OwnerAccountId: ACCOUNT, Status: 'ACTIVE' }] });
  mocks.ssm
    .on(GetParameterCommand, { Name: '/cdk-bootstrap/hnb659fds/version' })
    .resolves({ Parameter: { Name: '/cdk-bootstrap/hnb659fds/version', Value: '21' } });
  mocks.iam.on(GetRoleCommand).callsFake((input: { RoleName: string }) => ({ Role: { RoleName: input.RoleName } }));
  mocks.globalInfrastructureSsm
    .on(GetParametersCommand)
    .callsFake((input: { Names: string[] }) => ({ Parameters: input.Names.map((Name) => ({ Name, Value: Name.split('/').at(-1) })), InvalidParameters: [] }));
  mocks.serviceQuotas
    .on(ListServiceQuotasCommand, { ServiceCode: 'kafka' })
    .resolves({ Quotas: [{ QuotaName: 'Number of brokers per account', QuotaCode: 'L-MSKBROKERS', Value: 90 }] });
  mocks.serviceQuotas
    .on(ListServiceQuotasCommand, { ServiceCode: 'kinesisanalytics' })
    .resolves({ Quotas: [{ QuotaName: 'Number of KPUs per application', QuotaCode: 'L-FLINKKPU', Value: 64 }] });
  mocks.serviceQuotas
    .on(GetServiceQuotaCommand, { ServiceCode: 'emr-serverless', QuotaCode: 'L-D05C8A75' })
    .resolves({ Quota: { QuotaName: 'Max concurrent vCPUs per account', QuotaCode: 'L-D05C8A75', Value: 64 } });
}

async function run(args: string[], setup: (mocks: Mocks) => void = healthy, options: { requirements?: typeof DEV_REQUIREMENTS; env?: NodeJS.ProcessEnv } = {}) {
  const { clients, mocks } = mockedClients();
  setup(mocks);
  const h = harness(clients, options.requirements, options.env);
  const code = await runCli(args, h.deps);
  return { code, out: h.output(), err: h.errors(), mocks, regions: h.regions };
}

async function runJson(args: string[], setup?: (mocks: Mocks) => void) {
  const result = await run([...args, '--json'], setup);
  return {
    ...result,
    json: JSON.parse(result.out) as { exitCode: number; result: { checks: Array<{ id: string; status: string; detail: string; remedy: string | null }> } },
  };
}

const check = (json: Awaited<ReturnType<typeof runJson>>['json'], id: string) => json.result.checks.find((c) => c.id === id);

describe('lakestream preflight against a ready account', () => {
  it('passes every check and exits 0', async () => {
    const { code, out } = await run(['preflight', '--env', 'dev']);
    expect(code).toBe(0);
    expect(out).toContain(`Preflight for dev (stacks lakestream-dev-*) in account ${ACCOUNT}, region eu-west-1`);
    expect(out).toMatch(/^PASS\s+IAM Identity Center for Grafana\s+arn:aws:sso:::instance\/ssoins-1 \(account instance, eu-west-1\)$/m);
    expect(out).toMatch(/^PASS\s+CDK bootstrap version\s+version 21 \(needs 6 or later\)$/m);
    expect(out).toMatch(
      /^PASS\s+Quota: EMR Serverless concurrent vCPUs\s+needs 16 \(emr\.maxCpuVcpu = 16\); quota 64 from Max concurrent vCPUs per account \(L-D05C8A75\)$/m,
    );
    expect(out).toContain('8 passed, 0 warnings, 0 failed, 0 errors: ready to deploy');
  });

  it('prints a stable JSON document with --json', async () => {
    const { code, json, out } = await runJson(['preflight', '--env', 'dev', '--owner', 'alice']);
    expect(code).toBe(0);
    expect(Object.keys(json)).toEqual(['command', 'environment', 'ok', 'exitCode', 'result']);
    expect(json).toMatchObject({
      command: 'preflight',
      environment: { name: 'dev', stage: 'dev-alice', qualifier: 'lakestream-dev-alice', account: ACCOUNT, region: 'eu-west-1' },
      ok: true,
      exitCode: 0,
      result: { summary: { pass: 8, warn: 0, fail: 0, error: 0 } },
    });
    expect(json.result.checks.map((c) => c.id)).toEqual([
      'identity-center',
      'bootstrap-version',
      'service-linked-roles',
      'region-services',
      'internet-egress',
      'quota-msk-brokers',
      'quota-flink-kpus',
      'quota-emr-serverless-vcpus',
    ]);
    for (const c of json.result.checks) expect(Object.keys(c)).toEqual(['id', 'title', 'status', 'detail', 'remedy']);
    expect(out.endsWith('\n')).toBe(true);
  });

  it('looks the region up the way cdk deploy does and checks SSM in that region', async () => {
    const { json, regions, mocks } = await runJson(['preflight', '--env', 'dev', '--identity-center-region', 'us-east-1']);
    expect(regions).toEqual([{ region: 'eu-west-1', identityCenterRegion: 'us-east-1' }]);
    const names = mocks.globalInfrastructureSsm.commandCalls(GetParametersCommand).flatMap((c) => c.args[0].input.Names ?? []);
    expect(names).toContain('/aws/service/global-infrastructure/regions/eu-west-1/services/kafka');
    expect(names).toContain('/aws/service/global-infrastructure/regions/eu-west-1/services/emr-serverless');
    expect(check(json, 'region-services')).toMatchObject({ status: 'pass', detail: '5 services available in eu-west-1' });
  });
});

describe('lakestream preflight failures say what to do', () => {
  it('fails without IAM Identity Center and names the SAML alternative', async () => {
    const { code, json } = await runJson(['preflight', '--env', 'dev'], (m) => {
      healthy(m);
      m.ssoAdmin.on(ListInstancesCommand).resolves({ Instances: [] });
    });
    expect(code).toBe(1);
    expect(check(json, 'identity-center')).toMatchObject({
      status: 'fail',
      detail: 'no active IAM Identity Center instance visible in eu-west-1; Grafana uses AWS_SSO (observability.grafanaAuthentication)',
      remedy: expect.stringContaining('or set observability.grafanaAuthentication to SAML with observability.grafanaSaml'),
    });
  });

  it('fails when the account is not bootstrapped, with the bootstrap command for its account and region', async () => {
    const { code, json } = await runJson(['preflight', '--env', 'dev'], (m) => {
      healthy(m);
      m.ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    });
    expect(code).toBe(1);
    expect(check(json, 'bootstrap-version')).toMatchObject({
      status: 'fail',
      detail: 'not bootstrapped: /cdk-bootstrap/hnb659fds/version does not exist in eu-west-1',
      remedy: `run npx cdk bootstrap aws://${ACCOUNT}/eu-west-1`,
    });
  });

  it('fails when the bootstrap stack is older than the synthesized stage requires', async () => {
    const { code, json } = await runJson(['preflight', '--env', 'dev'], (m) => {
      healthy(m);
      m.ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '5' } });
    });
    expect(code).toBe(1);
    expect(check(json, 'bootstrap-version')).toMatchObject({
      status: 'fail',
      detail: 'bootstrap version 5 in eu-west-1; the stage needs 6 or later (/cdk-bootstrap/hnb659fds/version)',
      remedy: `run npx cdk bootstrap aws://${ACCOUNT}/eu-west-1 to update the bootstrap stack`,
    });
  });

  it('warns about missing service-linked roles with the commands to create them, without failing', async () => {
    const { code, json } = await runJson(['preflight', '--env', 'dev'], (m) => {
      healthy(m);
      m.iam
        .on(GetRoleCommand, { RoleName: 'AWSServiceRoleForApplicationAutoScaling_KafkaCluster' })
        .rejects(new NoSuchEntityException({ message: 'no role', $metadata: {} }));
      m.iam.on(GetRoleCommand, { RoleName: 'AWSServiceRoleForKafka' }).rejects(new NoSuchEntityException({ message: 'no role', $metadata: {} }));
    });
    expect(code).toBe(0);
    const row = check(json, 'service-linked-roles');
    expect(row?.status).toBe('warn');
    expect(row?.detail).toMatch(/^missing: AWSServiceRoleForApplicationAutoScaling_KafkaCluster, AWSServiceRoleForKafka\./);
    expect(row?.remedy).toBe(
      'with a restricted execution policy, create them first: aws iam create-service-linked-role --aws-service-name kafka.application-autoscaling.amazonaws.com; ' +
        'aws iam create-service-linked-role --aws-service-name kafka.amazonaws.com',
    );
  });

  it('fails when a service is not offered in the region', async () => {
    const { code, json } = await runJson(['preflight', '--env', 'dev'], (m) => {
      healthy(m);
      m.globalInfrastructureSsm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({
        Parameters: input.Names.filter((n) => !n.endsWith('/regions/eu-west-1/services/emr-serverless')).map((Name) => ({ Name })),
      }));
    });
    expect(code).toBe(1);
    expect(check(json, 'region-services')).toMatchObject({
      status: 'fail',
      detail: 'not available in eu-west-1: emr-serverless',
      remedy: expect.stringContaining('set region on the environment entry in lib/config/environments.ts'),
    });
  });

  it('reports a service id that AWS does not publish as unchecked, never as missing', async () => {
    const { code, json } = await runJson(['preflight', '--env', 'dev'], (m) => {
      healthy(m);
      m.globalInfrastructureSsm
        .on(GetParametersCommand)
        .callsFake((input: { Names: string[] }) => ({ Parameters: input.Names.filter((n) => !n.endsWith('/aps')).map((Name) => ({ Name })) }));
    });
    expect(code).toBe(0);
    expect(check(json, 'region-services')).toMatchObject({ status: 'warn', detail: '4 services available in eu-west-1; not checked (id not published): aps' });
  });

  it('fails a quota below what the config needs, naming the setting and the quota code', async () => {
    const { code, json } = await runJson(['preflight', '--env', 'dev'], (m) => {
      healthy(m);
      m.serviceQuotas.on(GetServiceQuotaCommand).resolves({ Quota: { QuotaName: 'Max concurrent vCPUs per account', QuotaCode: 'L-D05C8A75', Value: 8 } });
    });
    expect(code).toBe(1);
    expect(check(json, 'quota-emr-serverless-vcpus')).toEqual({
      id: 'quota-emr-serverless-vcpus',
      title: 'Quota: EMR Serverless concurrent vCPUs',
      status: 'fail',
      detail: 'needs 16 (emr.maxCpuVcpu = 16); quota 8 from Max concurrent vCPUs per account (L-D05C8A75)',
      remedy:
        'request an increase to at least 16 in Service Quotas (service emr-serverless, quota L-D05C8A75) in eu-west-1, or lower the setting in lib/config',
    });
  });

  it('prints the remedy under the failing row in the table', async () => {
    const { out } = await run(['preflight', '--env', 'dev'], (m) => {
      healthy(m);
      m.ssoAdmin.on(ListInstancesCommand).resolves({});
    });
    expect(out).toMatch(
      /^FAIL\s+IAM Identity Center for Grafana\s+no active IAM Identity Center instance visible in eu-west-1.*\n\s+-> enable IAM Identity Center/m,
    );
    expect(out).toContain('7 passed, 0 warnings, 1 failed, 0 errors: not ready to deploy');
  });
});

describe('lakestream preflight without credentials or permissions exits 2', () => {
  it('stops before any check when no credentials resolve', async () => {
    const { code, err, mocks } = await run(['preflight', '--env', 'dev'], (m) => {
      m.sts
        .on(GetCallerIdentityCommand)
        .rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    });
    expect(code).toBe(2);
    expect(err).toContain(
      'lakestream: AWS credentials are missing or invalid (sts:GetCallerIdentity): CredentialsProviderError: Could not load credentials from any providers',
    );
    expect(mocks.ssoAdmin.calls()).toHaveLength(0);
  });

  it('refuses credentials for another account than the environment names', async () => {
    const { code, err } = await run(['preflight', '--env', 'dev'], healthy, { env: { CDK_DEFAULT_ACCOUNT: '999999999999' } });
    expect(code).toBe(2);
    expect(err).toContain(`the credentials are for account ${ACCOUNT}, but environment dev deploys to 999999999999`);
  });

  it('marks a check it may not run as an error naming the permission, runs the others, and exits 2', async () => {
    const { code, json } = await runJson(['preflight', '--env', 'dev'], (m) => {
      healthy(m);
      m.ssoAdmin.on(ListInstancesCommand).rejects(new AccessDeniedException({ message: 'User is not authorized to perform sso:ListInstances', $metadata: {} }));
    });
    expect(code).toBe(2);
    expect(check(json, 'identity-center')).toMatchObject({
      status: 'error',
      detail: 'access denied: AccessDeniedException: User is not authorized to perform sso:ListInstances',
      remedy: 'allow sso:ListInstances for the identity running preflight',
    });
    expect(check(json, 'bootstrap-version')?.status).toBe('pass');
  });

  it('exits 2 for an unknown environment and for a missing --env', async () => {
    const unknown = await run(['preflight', '--env', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('Unknown environment "nope"');
    const missing = await run(['preflight']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("required option '--env <name>' not specified");
  });
});

describe('preflight checks in isolation', () => {
  const clientsFor = () => mockedClients();
  const contextFor = (config: PreflightContext['config'], clients: PreflightContext['clients']): PreflightContext => ({
    config,
    clients,
    account: ACCOUNT,
    requirements: DEV_REQUIREMENTS,
  });

  describe('internet egress of an imported VPC', () => {
    const ga4 = {
      propertyId: '123456789',
      credentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:ga4-AbCdEf',
      scheduleMinutes: 15,
      loginEventName: 'login',
      userIdDimension: 'customEvent:login_user_id',
    };
    const imported = {
      mode: 'import',
      vpcId: 'vpc-0123456789abcdef0',
      vpcCidrBlock: '10.7.0.0/16',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0000000a', 'subnet-0000000b'],
      privateSubnetRouteTableIds: ['rtb-0000000a', 'rtb-0000000b'],
      createEndpoints: true,
      createFlowLogs: true,
    };
    const configWith = (overrides: Record<string, unknown>) =>
      loadEnvironment('x', { processEnv: {}, account: ACCOUNT, environments: { x: { tier: 'dev', overrides } } });

    it('fails when a private route table has no default route to an egress target, naming it and what to do', async () => {
      const { clients, mocks } = clientsFor();
      mocks.ec2.on(DescribeRouteTablesCommand).resolves({
        RouteTables: [
          { RouteTableId: 'rtb-0000000a', Routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1' }] },
          // A gateway endpoint route is not a way to the internet.
          {
            RouteTableId: 'rtb-0000000b',
            Routes: [
              { DestinationCidrBlock: '10.7.0.0/16', GatewayId: 'local' },
              { DestinationPrefixListId: 'pl-1', GatewayId: 'vpce-1' },
            ],
          },
        ],
      });
      const row = await internetEgressCheck.run(contextFor(configWith({ network: imported, ga4 }), clients));
      expect(row.status).toBe('fail');
      expect(row.detail).toContain('route table(s) rtb-0000000b have no 0.0.0.0/0 route');
      expect(row.remedy).toContain('network.privateSubnetRouteTableIds');
      expect(mocks.ec2.commandCalls(DescribeRouteTablesCommand)[0]!.args[0].input).toEqual({ RouteTableIds: ['rtb-0000000a', 'rtb-0000000b'] });
    });

    it('passes with a NAT, transit gateway or appliance route in every table, and names each target', async () => {
      const { clients, mocks } = clientsFor();
      mocks.ec2.on(DescribeRouteTablesCommand).resolves({
        RouteTables: [
          { RouteTableId: 'rtb-0000000a', Routes: [{ DestinationCidrBlock: '0.0.0.0/0', TransitGatewayId: 'tgw-1' }] },
          { RouteTableId: 'rtb-0000000b', Routes: [{ DestinationCidrBlock: '0.0.0.0/0', NetworkInterfaceId: 'eni-1' }] },
        ],
      });
      const row = await internetEgressCheck.run(contextFor(configWith({ network: imported, ga4 }), clients));
      expect(row).toMatchObject({ status: 'pass', detail: 'rtb-0000000a → transit gateway tgw-1, rtb-0000000b → network interface eni-1' });
    });

    it('asks nothing when nothing in the VPC needs the internet, or when the VPC is created with NAT', async () => {
      const { clients, mocks } = clientsFor();
      expect((await internetEgressCheck.run(contextFor(configWith({ network: imported }), clients))).status).toBe('pass');
      expect((await internetEgressCheck.run(contextFor(configWith({ ga4 }), clients))).detail).toContain('created VPC with 1 NAT gateway(s)');
      expect(mocks.ec2.calls()).toHaveLength(0);
    });

    it('treats only internet-bound targets of an active default route as egress', () => {
      expect(defaultRouteTarget([{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1' }])).toBe('internet gateway igw-1');
      expect(defaultRouteTarget([{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'vpce-1' }])).toBeUndefined();
      expect(defaultRouteTarget([{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'blackhole' }])).toBeUndefined();
      expect(defaultRouteTarget([{ DestinationCidrBlock: '10.0.0.0/8', NatGatewayId: 'nat-1' }])).toBeUndefined();
    });
  });

  it('does not need IAM Identity Center when Grafana uses SAML', async () => {
    const config = loadEnvironment('dev', {
      processEnv: {},
      environments: {
        dev: {
          tier: 'dev',
          overrides: {
            observability: {
              grafanaAuthentication: 'SAML',
              grafanaSaml: { idpMetadataUrl: 'https://idp.example.com/metadata', roleAttribute: 'role', adminRoleValues: ['admin'] },
            },
          },
        },
      },
    });
    const { clients, mocks } = clientsFor();
    const row = await identityCenterCheck.run(contextFor(config, clients));
    expect(row).toMatchObject({ status: 'pass', detail: 'not needed: Grafana uses SAML (observability.grafanaSaml)' });
    expect(mocks.ssoAdmin.calls()).toHaveLength(0);
  });

  it('computes Flink KPUs as parallelism over parallelism per KPU, rounded up, and fails prod against a 2-KPU quota', async () => {
    const config = loadEnvironment('prod', { processEnv: {}, account: ACCOUNT });
    const { clients, mocks } = clientsFor();
    mocks.serviceQuotas.on(ListServiceQuotasCommand).resolves({ Quotas: [{ QuotaName: 'Number of KPUs per application', QuotaCode: 'L-FLINKKPU', Value: 2 }] });
    const flink = QUOTA_REQUIREMENTS.find((q) => q.id === 'quota-flink-kpus')!;
    expect(flink.need({ ...config, flink: { ...config.flink, parallelism: 5, parallelismPerKpu: 2 } }).amount).toBe(3);
    const row = await quotaCheck(flink).run(contextFor(config, clients));
    expect(row).toMatchObject({
      status: 'fail',
      detail: 'needs 4 (ceil(flink.parallelism 4 / flink.parallelismPerKpu 1)); quota 2 from Number of KPUs per application (L-FLINKKPU)',
    });
  });

  it('falls back to the AWS default, then to the documented default with a warning, when the account has no applied value', async () => {
    const config = loadEnvironment('dev', { processEnv: {} });
    const { clients, mocks } = clientsFor();
    mocks.serviceQuotas.on(GetServiceQuotaCommand).rejects(new NoSuchResourceException({ message: 'none', $metadata: {} }));
    mocks.serviceQuotas
      .on(GetAWSDefaultServiceQuotaCommand)
      .resolves({ Quota: { QuotaName: 'Max concurrent vCPUs per account', QuotaCode: 'L-D05C8A75', Value: 16 } });
    mocks.serviceQuotas.on(ListServiceQuotasCommand).resolves({ Quotas: [] });
    mocks.serviceQuotas.on(ListAWSDefaultServiceQuotasCommand).resolves({ Quotas: [] });
    const emr = await quotaCheck(QUOTA_REQUIREMENTS.find((q) => q.id === 'quota-emr-serverless-vcpus')!).run(contextFor(config, clients));
    expect(emr).toMatchObject({ status: 'pass', detail: expect.stringContaining('quota 16 from Max concurrent vCPUs per account (L-D05C8A75) (no headroom') });
    const msk = await quotaCheck(QUOTA_REQUIREMENTS.find((q) => q.id === 'quota-msk-brokers')!).run(contextFor(config, clients));
    expect(msk).toMatchObject({ status: 'warn', detail: 'needs 2 (kafka.brokerCount = 2); quota 90 from documented default (not listed in Service Quotas)' });
  });

  it('skips a quota whose service the environment does not deploy', async () => {
    const config = loadEnvironment('dev', { processEnv: {} });
    const { clients, mocks } = clientsFor();
    const row = await quotaCheck(QUOTA_REQUIREMENTS.find((q) => q.id === 'quota-flink-kpus')!).run({
      ...contextFor(config, clients),
      requirements: { ...DEV_REQUIREMENTS, resourceTypes: ['AWS::MSK::Cluster'] },
    });
    expect(row).toMatchObject({ status: 'pass', detail: 'not needed: this environment has no AWS::KinesisAnalyticsV2::Application' });
    expect(mocks.serviceQuotas.calls()).toHaveLength(0);
  });

  it('maps resource types to published service ids and lists namespaces it does not know', () => {
    expect(servicesFor(['AWS::MSK::Cluster', 'AWS::IAM::Role', 'Custom::KafkaTopics', 'AWS::Pipes::Pipe', 'AWS::KinesisAnalyticsV2::Application'])).toEqual({
      ids: ['kafka', 'kinesisanalytics'],
      unmapped: ['AWS::Pipes'],
    });
  });
});
