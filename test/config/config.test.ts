import { ENVIRONMENTS, deepMerge, type EnvironmentEntry } from '../../lib/config/environments';
import { ConfigError, loadEnvironment, selectEnvironmentNames, validateEnvironment } from '../../lib/config/load-config';
import { DEV_PROFILE, PROD_PROFILE } from '../../lib/config/profiles';
import { peakFootprint, type SparkJobSize } from '../../lib/constructs/spark/spark-job-size';

import { setPath, validDev } from '../helpers/config-fixtures';

const noEnv = { processEnv: {} };

describe('environment defaults', () => {
  test('dev is cheap and destroyable', () => {
    const dev = loadEnvironment('dev', noEnv);
    expect(dev).toMatchObject({
      name: 'dev',
      tier: 'dev',
      region: 'eu-west-1',
      qualifier: 'lakestream-dev',
      removalPolicy: 'destroy',
      autoDeleteObjects: true,
      terminationProtection: false,
      network: { mode: 'create', azCount: 2, natGateways: 1 },
      kafka: { brokerCount: 2, instanceType: 'kafka.t3.small', allowTopicDeletion: true },
    });
    expect(dev.emr.preInitialized).toBeUndefined();
    expect(dev.debezium).toBeUndefined();
    expect(dev.ga4).toBeUndefined();
  });

  test('staging is production-shaped but smaller', () => {
    const staging = loadEnvironment('staging', noEnv);
    expect(staging).toMatchObject({
      tier: 'prod',
      removalPolicy: 'retain',
      autoDeleteObjects: false,
      terminationProtection: false,
      network: { mode: 'create', azCount: 3, natGateways: 1, cidr: '10.41.0.0/16' },
      kafka: { brokerCount: 3, ebsVolumeGiB: 100, defaultReplicationFactor: 3 },
      logRetentionDays: 90,
    });
    expect(staging.emr.preInitialized).toBeUndefined();
  });

  test('prod is highly available and retained', () => {
    const prod = loadEnvironment('prod', noEnv);
    expect(prod).toMatchObject({
      tier: 'prod',
      removalPolicy: 'retain',
      autoDeleteObjects: false,
      terminationProtection: true,
      network: { mode: 'create', azCount: 3, natGateways: 3 },
      kafka: { brokerCount: 3, instanceType: 'kafka.m7g.large', defaultReplicationFactor: 3, allowTopicDeletion: false },
      flink: { autoScaling: true },
      logRetentionDays: 365,
    });
    expect(prod.emr.preInitialized).toEqual({ driverCount: 1, executorCount: 2 });
  });

  test('every declared environment validates', () => {
    for (const name of Object.keys(ENVIRONMENTS)) expect(() => loadEnvironment(name, noEnv)).not.toThrow();
  });
});

describe('environment selection', () => {
  test('dev is the default', () => expect(selectEnvironmentNames(undefined)).toEqual(['dev']));
  test('all selects every environment', () => expect(selectEnvironmentNames('all')).toEqual(['dev', 'staging', 'prod']));
  test('an unknown environment lists the known ones', () => {
    expect(() => selectEnvironmentNames('qa')).toThrow(ConfigError);
    expect(() => selectEnvironmentNames('qa')).toThrow('Unknown environment "qa" (from -c env=qa). Known environments: dev, staging, prod, or "all".');
  });
});

describe('account and region', () => {
  test('come from context when the entry has none', () => {
    const dev = loadEnvironment('dev', { account: '222222222222', region: 'us-east-2', processEnv: {} });
    expect(dev.account).toBe('222222222222');
    expect(dev.region).toBe('us-east-2');
  });
  test('fall back to the CDK default environment variables', () => {
    const dev = loadEnvironment('dev', { processEnv: { CDK_DEFAULT_ACCOUNT: '333333333333', CDK_DEFAULT_REGION: 'ap-southeast-2' } });
    expect(dev.account).toBe('333333333333');
    expect(dev.region).toBe('ap-southeast-2');
  });
  test('the entry wins over the process environment', () => {
    const environments: Record<string, EnvironmentEntry> = { pinned: { tier: 'dev', account: '444444444444', overrides: { region: 'eu-central-1' } } };
    const pinned = loadEnvironment('pinned', { environments, processEnv: { CDK_DEFAULT_ACCOUNT: '333333333333', CDK_DEFAULT_REGION: 'us-west-2' } });
    expect(pinned.account).toBe('444444444444');
    expect(pinned.region).toBe('eu-central-1');
  });
  test('no account at all means an environment-agnostic synth', () => {
    expect(loadEnvironment('dev', noEnv).account).toBeUndefined();
  });
});

describe('personal sandboxes', () => {
  test('an owner suffixes the stage and every name', () => {
    const sandbox = loadEnvironment('dev', { owner: 'alice', processEnv: {} });
    expect(sandbox.stageName).toBe('dev-alice');
    expect(sandbox.qualifier).toBe('lakestream-dev-alice');
    expect(sandbox.owner).toBe('alice');
  });
  test('an invalid owner is rejected with the field and value', () => {
    expect(() => loadEnvironment('dev', { owner: 'Alice Smith', processEnv: {} })).toThrow(/owner = "Alice Smith": must be 1-12 lowercase letters and digits/);
  });
});

describe('deriving environments', () => {
  test('overrides merge deeply and arrays replace', () => {
    const merged = deepMerge(DEV_PROFILE, { kafka: { brokerCount: 4 }, observability: { alertEmails: ['ops@example.com'] } });
    expect(merged.kafka.brokerCount).toBe(4);
    expect(merged.kafka.instanceType).toBe(DEV_PROFILE.kafka.instanceType);
    expect(merged.observability.alertEmails).toEqual(['ops@example.com']);
    expect(merged.observability.thresholds).toEqual(DEV_PROFILE.observability.thresholds);
  });
  test('switching network mode replaces the whole network block', () => {
    const merged = deepMerge(PROD_PROFILE, {
      network: {
        mode: 'import',
        vpcId: 'vpc-0123456789abcdef0',
        vpcCidrBlock: '10.0.0.0/16',
        availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
        privateSubnetIds: ['subnet-0000000a', 'subnet-0000000b', 'subnet-0000000c'],
        privateSubnetRouteTableIds: ['rtb-0000000a', 'rtb-0000000b', 'rtb-0000000c'],
        createEndpoints: false,
        createFlowLogs: true,
      },
    });
    expect(merged.network).not.toHaveProperty('cidr');
    expect(merged.network.mode).toBe('import');
  });
});

/** Each case breaks one thing; the error must name the field, show the value and say what is allowed. */
const invalidCases: Array<[string, (c: Record<string, unknown>) => Record<string, unknown>, RegExp]> = [
  ['environment name with capitals', (c) => setPath(c, 'name', 'Dev'), /name = "Dev": must be lowercase letters/],
  ['unknown tier', (c) => setPath(c, 'tier', 'qa'), /tier = "qa": .*"dev"\|"prod"/],
  ['account not 12 digits', (c) => setPath(c, 'account', '1234'), /account = "1234": must be a 12-digit AWS account id/],
  ['malformed region', (c) => setPath(c, 'region', 'Europe'), /region = "Europe": must be an AWS region/],
  [
    'VPC CIDR too large',
    (c) => setPath(c, 'network.cidr', '10.0.0.0/8'),
    /network.cidr = "10.0.0.0\/8": has prefix \/8: a VPC CIDR block must be \/16 to \/28/,
  ],
  ['one AZ', (c) => setPath(c, 'network.azCount', 1), /network.azCount = 1: .*>=2/],
  ['more NAT gateways than AZs', (c) => setPath(c, 'network.natGateways', 3), /network.natGateways = 3: must not exceed azCount \(2\)/],
  ['brokers not a multiple of AZs', (c) => setPath(c, 'kafka.brokerCount', 3), /kafka.brokerCount = 3: must be a multiple of the AZ count \(2\)/],
  ['unknown broker type', (c) => setPath(c, 'kafka.instanceType', 'm5.large'), /kafka.instanceType = "m5.large": must be an MSK broker type/],
  [
    'storage ceiling below volume',
    (c) => setPath(c, 'kafka.storageAutoScalingMaxGiB', 10),
    /kafka.storageAutoScalingMaxGiB = 10: must be greater than ebsVolumeGiB \(20\)/,
  ],
  [
    'replication above brokers',
    (c) => setPath(c, 'kafka.defaultReplicationFactor', 3),
    /kafka.defaultReplicationFactor = 3: must not exceed brokerCount \(2\)/,
  ],
  [
    'log retention CloudWatch does not offer',
    (c) => setPath(c, 'logRetentionDays', 10),
    /logRetentionDays = 10: must be one of the CloudWatch Logs retention periods: 1, 3, 5, 7, 14/,
  ],
  ['EMR 6 release', (c) => setPath(c, 'emr.releaseLabel', 'emr-6.15.0'), /emr.releaseLabel = "emr-6.15.0": must be an EMR 7 release label/],
  [
    'bad schedule expression',
    (c) => setPath(c, 'emr.dailyReportSchedule', '0 3 * * *'),
    /emr.dailyReportSchedule = "0 3 \* \* \*": must be cron\(minutes hours day-of-month month day-of-week year\) or rate\(value unit\)/,
  ],
  ['too little memory per vCPU', (c) => setPath(c, 'emr.maxMemoryGb', 16), /emr.maxMemoryGb = 16: must be at least 2 GB per vCPU \(32\)/],
  [
    'Spark worker with an unsupported vCPU count',
    (c) => setPath(c, 'emr.jobs.dailyReport.executor.cpu', 3),
    /emr.jobs.dailyReport.executor.cpu = 3: must be one of 1, 2, 4, 8, 16 vCPU/,
  ],
  [
    'Spark worker memory outside its vCPU range',
    (c) => setPath(c, 'emr.jobs.streaming.driver.memoryGb', 12),
    /emr.jobs.streaming.driver.memoryGb = 12: a 1-vCPU worker takes 2-8 GB in steps of 1 GB/,
  ],
  [
    '8-vCPU worker memory off its 4 GB step',
    (c) => setPath(c, 'emr.jobs.landingToBronze.executor', { cpu: 8, memoryGb: 18, diskGb: 20 }),
    /emr.jobs.landingToBronze.executor.memoryGb = 18: a 8-vCPU worker takes 16-60 GB in steps of 4 GB/,
  ],
  [
    'Spark worker disk below 20 GB',
    (c) => setPath(c, 'emr.jobs.streaming.executor.diskGb', 10),
    /emr.jobs.streaming.executor.diskGb = 10: must be 20-200 GB per worker/,
  ],
  [
    'initial executors above the cap',
    (c) => setPath(c, 'emr.jobs.dailyReport.initialExecutors', 5),
    /emr.jobs.dailyReport.initialExecutors = 5: needs minExecutors \(0\) <= initialExecutors <= maxExecutors \(2\)/,
  ],
  ['late days beyond a month', (c) => setPath(c, 'emr.reportLateDays', 40), /emr.reportLateDays = 40: .*<=31/],
  ['Flink parallelism zero', (c) => setPath(c, 'flink.parallelism', 0), /flink.parallelism = 0: .*>=1/],
  ['Flink window that would straddle UTC midnight', (c) => setPath(c, 'flink.windowMinutes', 7), /flink.windowMinutes = 7: must divide a day \(1440 minutes\)/],
  [
    'speed view over its latency budget',
    (c) => setPath(c, 'flink.windowMinutes', 5),
    /flink.windowMinutes = 5: with emr.streamingTriggerSeconds = 30 the speed view's worst-case latency is .* = 356 s, above serving.maxLatencySeconds \(120\)/,
  ],
  ['streaming trigger above a minute', (c) => setPath(c, 'emr.streamingTriggerSeconds', 90), /emr.streamingTriggerSeconds = 90: .*<=60/],
  [
    'transition after expiry',
    (c) => setPath(c, 'lake.bronze', { transitionToIntelligentTieringDays: 40, expirationDays: 30 }),
    /lake.bronze.transitionToIntelligentTieringDays = 40: must be less than expirationDays \(30\)/,
  ],
  ['not an email', (c) => setPath(c, 'observability.alertEmails', ['ops-at-example']), /observability.alertEmails.0 = "ops-at-example": Invalid email/],
  [
    'account-wide catalog encryption in an environment that destroys its keys',
    (c) => setPath(setPath(c, 'removalPolicy', 'destroy'), 'lake.catalogEncryption', true),
    /lake.catalogEncryption = true: must be false when removalPolicy is destroy: the catalog setting is account-wide/,
  ],
  [
    'auto-delete with retain',
    (c) => setPath(setPath(c, 'removalPolicy', 'retain'), 'autoDeleteObjects', true),
    /autoDeleteObjects = true: must be false when removalPolicy is retain/,
  ],
  [
    'prod tier that is destroyable',
    (c) => setPath(setPath(c, 'tier', 'prod'), 'autoDeleteObjects', false),
    /removalPolicy = "destroy": must be retain for a prod-tier environment/,
  ],
  [
    'permissions boundary not a policy ARN',
    (c) => setPath(c, 'permissionsBoundaryArn', 'arn:aws:iam::111111111111:role/x'),
    /permissionsBoundaryArn = "arn:aws:iam::111111111111:role\/x": must be an IAM managed policy ARN/,
  ],
  ['misspelled field', (c) => setPath(c, 'kafka.brokerCnt', 2), /kafka.brokerCnt = 2: unknown field/],
  [
    'Debezium secret not an ARN',
    (c) =>
      setPath(c, 'debezium', {
        hostname: 'db',
        port: 1433,
        databaseNames: ['app'],
        tableIncludeList: ['dbo.logins'],
        credentialsSecretArn: 'my-secret',
        minWorkers: 1,
        maxWorkers: 2,
        mcuCount: 1,
      }),
    /debezium.credentialsSecretArn = "my-secret": must be a Secrets Manager secret ARN/,
  ],
  [
    'GA4 property not numeric',
    (c) =>
      setPath(c, 'ga4', {
        propertyId: 'G-ABC',
        credentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:ga4-abc',
        scheduleMinutes: 15,
        loginEventName: 'login',
        userIdDimension: 'customUser:user_id',
      }),
    /ga4.propertyId = "G-ABC": must be the numeric GA4 property id/,
  ],
  [
    'GA4 user id as the reserved user property user_id',
    (c) =>
      setPath(c, 'ga4', {
        propertyId: '123456789',
        credentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:ga4-abc',
        scheduleMinutes: 15,
        loginEventName: 'login',
        userIdDimension: 'customUser:user_id',
        userIdMaxLength: 36,
      }),
    /ga4.userIdDimension = .*'user_id' is a reserved user-property name/,
  ],
  [
    'GA4 user ids longer than GA4 keeps',
    (c) =>
      setPath(c, 'ga4', {
        propertyId: '123456789',
        credentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:ga4-abc',
        scheduleMinutes: 15,
        loginEventName: 'login',
        userIdDimension: 'customUser:app_user_id',
      }),
    /ga4.userIdMaxLength = .*truncates user property values to 36 characters/,
  ],
  [
    'GA4 without internet egress',
    (c) =>
      setPath(setPath(c, 'network.natGateways', 0), 'ga4', {
        propertyId: '123456789',
        credentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:ga4-abc',
        scheduleMinutes: 15,
        loginEventName: 'login',
        userIdDimension: 'customEvent:login_user_id',
      }),
    /ga4 = .*needs internet egress/,
  ],
  [
    'imported VPC with a subnet per AZ missing',
    (c) =>
      setPath(c, 'network', {
        mode: 'import',
        vpcId: 'vpc-0123456789abcdef0',
        vpcCidrBlock: '10.0.0.0/16',
        availabilityZones: ['eu-west-1a', 'eu-west-1b'],
        privateSubnetIds: ['subnet-0000000a', 'subnet-0000000b', 'subnet-0000000c'],
        privateSubnetRouteTableIds: ['rtb-0000000a', 'rtb-0000000b'],
        createEndpoints: true,
        createFlowLogs: true,
      }),
    /network.privateSubnetIds = .*must list one entry per availability zone \(2\)/,
  ],
  [
    'SAML without its settings',
    (c) => setPath(c, 'observability.grafanaAuthentication', 'SAML'),
    /observability.grafanaSaml = \(missing\): is required when grafanaAuthentication is SAML/,
  ],
  ['threshold out of range', (c) => setPath(c, 'observability.thresholds.brokerDiskUsedRatio', 85), /observability.thresholds.brokerDiskUsedRatio = 85: .*<1/],
  // Removed with its alert (Spark commits no offsets to Kafka, so MSK publishes no lag for it): a leftover override fails by name.
  [
    'removed Spark lag threshold',
    (c) => setPath(c, 'observability.thresholds.sparkConsumerLagMessages', 50000),
    /observability.thresholds.sparkConsumerLagMessages = 50000: unknown field/,
  ],
];

describe('invalid configuration fails with field, value and what is allowed', () => {
  test('there are at least 15 distinct cases', () => expect(invalidCases.length).toBeGreaterThanOrEqual(15));

  test.each(invalidCases)('%s', (_title, breakIt, expected) => {
    const broken = breakIt(validDev());
    let message = '';
    try {
      validateEnvironment(broken, 'dev');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain('Invalid configuration for environment "dev"');
    expect(message).toMatch(expected);
  });

  test('several problems are all reported at once', () => {
    const broken = setPath(setPath(validDev(), 'region', 'nowhere'), 'network.azCount', 9);
    expect(() => validateEnvironment(broken, 'dev')).toThrow(/region = "nowhere"[\s\S]*network.azCount = 9/);
  });
});

describe('EMR Serverless capacity: the streaming job at its peak plus the largest batch job fit under the maximum', () => {
  const peak = (size: SparkJobSize) => peakFootprint(size);

  test.each(['dev', 'staging', 'prod'])('%s fits, with the sum checked field by field', (name) => {
    const { emr } = loadEnvironment(name, { processEnv: {}, account: '111111111111' });
    const streaming = peak(emr.jobs.streaming);
    const batch = [peak(emr.jobs.landingToBronze), peak(emr.jobs.dailyReport)];
    expect(streaming.cpuVcpu + Math.max(...batch.map((b) => b.cpuVcpu))).toBeLessThanOrEqual(emr.maxCpuVcpu);
    expect(streaming.memoryGb + Math.max(...batch.map((b) => b.memoryGb))).toBeLessThanOrEqual(emr.maxMemoryGb);
    expect(streaming.diskGb + Math.max(...batch.map((b) => b.diskGb))).toBeLessThanOrEqual(emr.maxDiskGb);
    // Every job has an executor cap: none may take what is left.
    for (const size of Object.values(emr.jobs)) expect(size.maxExecutors).toBeLessThan(emr.maxCpuVcpu / size.executor.cpu);
  });

  test('the old streaming defaults (4-vCPU driver, 3 executors of 4 vCPU) leave the dev batch jobs no room', () => {
    const broken = setPath(validDev(), 'emr.jobs.streaming', {
      driver: { cpu: 4, memoryGb: 16, diskGb: 20 },
      executor: { cpu: 4, memoryGb: 16, diskGb: 20 },
      minExecutors: 3,
      initialExecutors: 3,
      maxExecutors: 3,
    });
    expect(() => validateEnvironment(broken, 'dev')).toThrow(/- emr\.jobs = \{"streaming":\{"driver":\{"cpu":4,.*: the streaming job at its peak/);
    expect(() => validateEnvironment(broken, 'dev')).toThrow(
      'the streaming job at its peak (emr.jobs.streaming: driver + maxExecutors 3 executors = 16 vCPU, 64 GB memory, 80 GB disk) ' +
        'plus the largest batch job (emr.jobs.landingToBronze: driver + maxExecutors 2 executors = 10 vCPU, 40 GB memory, 60 GB disk) ' +
        'need 26 vCPU, 104 GB memory, 140 GB disk, more than emr.maxCpuVcpu = 16 vCPU, emr.maxMemoryGb = 64 GB memory',
    );
  });

  test('disk counts too', () => {
    const broken = setPath(validDev(), 'emr.maxDiskGb', 100);
    expect(() => validateEnvironment(broken, 'dev')).toThrow(/need 13 vCPU, 52 GB memory, 120 GB disk, more than emr.maxDiskGb = 100 GB disk/);
  });
});
