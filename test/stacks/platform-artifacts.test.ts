import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadEnvironment, type ResolvedEnvironment } from '../../lib/config/load-config';
import { loadArtifactManifest } from '../../lib/constructs/artifacts/artifact-manifest';
import { artifactUsesOf, platformArtifacts } from '../../lib/stacks/platform-artifacts';

const ACCOUNT = '111111111111';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:sqlserver-AbCdEf';
const debezium = {
  hostname: 'sql.example.com',
  port: 1433,
  databaseNames: ['app'],
  tableIncludeList: ['dbo.logins'],
  credentialsSecretArn: SECRET,
  minWorkers: 1,
  maxWorkers: 2,
  mcuCount: 1 as const,
};

function environment(overrides: Record<string, unknown> = {}): ResolvedEnvironment {
  return loadEnvironment('test', { processEnv: {}, account: ACCOUNT, environments: { test: { tier: 'dev', overrides } } });
}

function lockFile(pins: Record<string, unknown>): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lock-')), 'artifacts.lock.json');
  fs.writeFileSync(file, JSON.stringify({ pins }));
  return file;
}

const manifestPath = path.join(__dirname, '..', '..', 'jobs', 'artifacts.json');
const names = (config: ResolvedEnvironment, lock = lockFile({})) => platformArtifacts(config, { manifest: manifestPath, lock }).artifacts.map((a) => a.name);

describe('mirror only what an environment uses', () => {
  test('by default: Flink and Spark streaming jars, nothing for Debezium', () => {
    const config = environment();
    expect([...artifactUsesOf(config)]).toEqual(['flink', 'spark-streaming']);
    expect(names(config)).toEqual([
      'flink-connector-kafka',
      'flink-kafka-clients',
      'spark-sql-kafka',
      'spark-token-provider-kafka',
      'spark-kafka-clients',
      'commons-pool2',
      'aws-msk-iam-auth',
    ]);
    expect(platformArtifacts(config).bundles).toEqual([]);
  });

  test('Debezium adds its connector archive, the config providers and the plugin bundle', () => {
    const result = platformArtifacts(environment({ debezium }), { manifest: manifestPath, lock: lockFile({}) });
    expect(result.artifacts.map((a) => a.name)).toEqual(expect.arrayContaining(['debezium-connector-sqlserver', 'msk-config-providers']));
    expect(result.bundles.map((b) => b.name)).toEqual(['debezium-sqlserver-plugin']);
  });

  test('switching Flink or the streaming job off drops the jars only they use', () => {
    expect(names(environment({ flink: { enabled: false } }))).toEqual([
      'spark-sql-kafka',
      'spark-token-provider-kafka',
      'spark-kafka-clients',
      'commons-pool2',
      'aws-msk-iam-auth',
    ]);
    expect(names(environment({ emr: { streamingJobEnabled: false } }))).toEqual(['flink-connector-kafka', 'flink-kafka-clients', 'aws-msk-iam-auth']);
    expect(names(environment({ flink: { enabled: false }, emr: { streamingJobEnabled: false } }))).toEqual([]);
  });

  test('a custom Maven repository replaces Maven Central in every Maven URL', () => {
    const config = environment({ artifacts: { requirePins: false, mavenRepositoryUrl: 'https://nexus.corp.example/maven' } });
    const spark = platformArtifacts(config, { manifest: manifestPath, lock: lockFile({}) }).artifacts.find((a) => a.name === 'spark-sql-kafka');
    expect(spark?.url).toBe('https://nexus.corp.example/maven/org/apache/spark/spark-sql-kafka-0-10_2.12/3.5.5/spark-sql-kafka-0-10_2.12-3.5.5.jar');
  });
});

describe('the EMR release must run the Spark the jars are built for', () => {
  test('a known release with another Spark version fails, naming the field, the value and what is allowed', () => {
    expect(() => names(environment({ emr: { releaseLabel: 'emr-7.8.0' } }))).toThrow(
      'emr.releaseLabel = "emr-7.8.0" runs Spark 3.5.4 with Scala 2.12, but the Spark streaming job\'s connector jars',
    );
    expect(() => names(environment({ emr: { releaseLabel: 'emr-7.8.0' } }))).toThrow('(allowed: emr-7.9.0, emr-7.10.0;');
  });

  test('an unknown release fails and says where to add it', () => {
    expect(() => names(environment({ emr: { releaseLabel: 'emr-7.99.0' } }))).toThrow(
      /emr\.releaseLabel = "emr-7\.99\.0" is not a release whose Spark and Scala versions the project knows.*lib\/config\/emr-releases\.ts/,
    );
  });

  test('does not matter when the streaming job is off', () => {
    expect(() => names(environment({ emr: { releaseLabel: 'emr-7.8.0', streamingJobEnabled: false } }))).not.toThrow();
  });
});

describe('artifacts.requirePins', () => {
  const pinsFor = (config: ResolvedEnvironment) =>
    Object.fromEntries(
      loadArtifactManifest()
        .artifacts.filter((a) => a.usedBy.some((use) => artifactUsesOf(config).has(use)))
        .map((a) => [a.name, { source: a.source, sha256: 'd'.repeat(64), verifiedWith: 'test fixture' }]),
    );

  test('refuses unpinned artifacts at synth, listing them', () => {
    const config = environment({ artifacts: { requirePins: true } });
    const { 'commons-pool2': _left, ...allButOne } = pinsFor(config);
    expect(() => names(config, lockFile(allButOne))).toThrow(
      /artifacts\.requirePins is true, but .* has no pin for commons-pool2 \(maven:org\.apache\.commons:commons-pool2:2\.11\.1\); run `npm run artifacts:lock`/,
    );
  });

  test('passes with every used artifact pinned, and hands the pins to the mirror', () => {
    const config = environment({ artifacts: { requirePins: true } });
    const result = platformArtifacts(config, { manifest: manifestPath, lock: lockFile(pinsFor(config)) });
    expect(result.artifacts.every((a) => a.sha256 === 'd'.repeat(64))).toBe(true);
  });

  test('is off by default', () => {
    expect(environment().artifacts.requirePins).toBe(false);
  });
});
