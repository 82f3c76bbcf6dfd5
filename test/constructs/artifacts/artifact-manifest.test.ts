import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyPins, loadArtifactLock, parseArtifactLock } from '../../../lib/constructs/artifacts/artifact-lock';
import {
  DEFAULT_ARTIFACT_MANIFEST_PATH,
  loadArtifactManifest,
  mavenUrl,
  parseArtifactManifest,
  parseMavenCoordinates,
} from '../../../lib/constructs/artifacts/artifact-manifest';
import { FLINK_RUNTIME } from '../../../lib/constructs/flink/flink-application';

const runtimes = { flink: '1.20', spark: '3.5.5', scala: '2.12' };
const manifest = (artifacts: unknown[], extra: Record<string, unknown> = {}) => ({ runtimes, artifacts, ...extra });
const maven = (name: string, coordinates: string, usedBy = ['flink']) => ({ name, maven: coordinates, usedBy, purpose: 'test' });

describe('the checked-in manifest (jobs/artifacts.json) and lock file', () => {
  const { artifacts, bundles, runtimes: declared } = loadArtifactManifest();
  const byName = new Map(artifacts.map((artifact) => [artifact.name, artifact]));

  it('is built for Managed Flink 1.20 and the Spark 3.5.5 / Scala 2.12 of EMR 7.9.0', () => {
    expect(DEFAULT_ARTIFACT_MANIFEST_PATH).toBe(path.resolve(__dirname, '..', '..', '..', 'jobs', 'artifacts.json'));
    expect(FLINK_RUNTIME).toBe(`FLINK-${declared.flink.replace('.', '_')}`);
    expect(declared).toEqual({ flink: '1.20', spark: '3.5.5', scala: '2.12' });
  });

  it('resolves Maven coordinates to Maven Central URLs and keys under artifacts/<name>/<version>/', () => {
    expect(byName.get('spark-sql-kafka')).toMatchObject({
      url: 'https://repo1.maven.org/maven2/org/apache/spark/spark-sql-kafka-0-10_2.12/3.5.5/spark-sql-kafka-0-10_2.12-3.5.5.jar',
      key: 'artifacts/spark-sql-kafka/3.5.5/spark-sql-kafka-0-10_2.12-3.5.5.jar',
      published: { kind: 'sidecar' },
      source: 'maven:org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.5',
    });
    expect(byName.get('debezium-connector-sqlserver')?.url).toBe(
      'https://repo1.maven.org/maven2/io/debezium/debezium-connector-sqlserver/2.7.3.Final/debezium-connector-sqlserver-2.7.3.Final-plugin.tar.gz',
    );
    for (const artifact of artifacts) {
      expect(new URL(artifact.url).protocol).toBe('https:');
      expect(artifact.key.startsWith(`artifacts/${artifact.name}/${artifact.version}/`)).toBe(true);
    }
  });

  it('reads the shaded aws-msk-iam-auth jar from its GitHub release and its digest from the REST API', () => {
    expect(byName.get('aws-msk-iam-auth')).toMatchObject({
      url: 'https://github.com/aws/aws-msk-iam-auth/releases/download/v2.3.6/aws-msk-iam-auth-2.3.6-all.jar',
      published: {
        kind: 'github-release',
        releaseUrl: 'https://api.github.com/repos/aws/aws-msk-iam-auth/releases/tags/v2.3.6',
        asset: 'aws-msk-iam-auth-2.3.6-all.jar',
      },
      usedBy: ['flink', 'spark-streaming'],
    });
  });

  it('lists the Flink jars connector first, then the kafka-clients it is built against', () => {
    expect(artifacts.filter((a) => a.usedBy.includes('flink')).map((a) => `${a.name}@${a.version}`)).toEqual([
      'flink-connector-kafka@3.4.0-1.20',
      'flink-kafka-clients@3.4.0',
      'aws-msk-iam-auth@2.3.6',
    ]);
    expect(artifacts.filter((a) => a.usedBy.includes('spark-streaming')).map((a) => `${a.name}@${a.version}`)).toEqual([
      'spark-sql-kafka@3.5.5',
      'spark-token-provider-kafka@3.5.5',
      'spark-kafka-clients@3.4.1',
      'commons-pool2@2.11.1',
      'aws-msk-iam-auth@2.3.6',
    ]);
  });

  it('assembles the Debezium plugin from the connector archive and the config providers, for Debezium only', () => {
    expect(bundles).toEqual([
      expect.objectContaining({
        name: 'debezium-sqlserver-plugin',
        key: 'artifacts/debezium-sqlserver-plugin/2.7.3.Final+0.4.0/debezium-sqlserver-plugin-2.7.3.Final+0.4.0.zip',
        parts: [
          { artifact: 'debezium-connector-sqlserver', unpack: 'tar.gz' },
          { artifact: 'msk-config-providers', directory: 'msk-config-providers/' },
        ],
        usedBy: ['debezium'],
      }),
    ]);
    expect(byName.get('msk-config-providers')?.usedBy).toEqual(['debezium']);
  });

  it('has a lock file whose pins (if any) match the manifest', () => {
    expect(() => applyPins(artifacts, loadArtifactLock())).not.toThrow();
  });
});

describe('Maven coordinates', () => {
  it('parses group:artifact:version[:classifier][@extension] into the Maven 2 repository layout', () => {
    const coordinates = parseMavenCoordinates('io.debezium:debezium-connector-sqlserver:2.7.3.Final:plugin@tar.gz');
    expect(coordinates).toEqual({
      groupId: 'io.debezium',
      artifactId: 'debezium-connector-sqlserver',
      version: '2.7.3.Final',
      classifier: 'plugin',
      extension: 'tar.gz',
    });
    expect(mavenUrl('https://nexus.example.com/maven/', coordinates).url).toBe(
      'https://nexus.example.com/maven/io/debezium/debezium-connector-sqlserver/2.7.3.Final/debezium-connector-sqlserver-2.7.3.Final-plugin.tar.gz',
    );
    expect(mavenUrl('https://r', parseMavenCoordinates('a.b:c:1')).fileName).toBe('c-1.jar');
  });

  it('rejects anything else, naming the entry', () => {
    expect(() => parseArtifactManifest(manifest([maven('bad', 'org.apache.kafka/kafka-clients/3.4.0')]))).toThrow(
      'artifacts[0] (bad).maven: must be Maven coordinates group:artifact:version[:classifier][@extension]',
    );
  });
});

describe('parseArtifactManifest', () => {
  it('fails when a Spark artifact is not built for the declared Spark and Scala versions', () => {
    expect(() => parseArtifactManifest(manifest([maven('s', 'org.apache.spark:spark-sql-kafka-0-10_2.13:3.5.4', ['spark-streaming'])]))).toThrow(
      /version 3\.5\.4 differs from runtimes\.spark 3\.5\.5[\s\S]*spark-sql-kafka-0-10_2\.13 is not built for Scala 2\.12/,
    );
  });

  it('fails when a Flink connector is not built for the declared Flink version', () => {
    expect(() => parseArtifactManifest(manifest([maven('f', 'org.apache.flink:flink-connector-kafka:3.4.0-1.19')]))).toThrow(
      'artifacts[0] (f).maven: version 3.4.0-1.19 is not built for Flink 1.20',
    );
  });

  it('rejects duplicate names, unknown bundle parts and a bundle part used by fewer parts of the platform', () => {
    const raw = manifest([maven('a', 'g:a:1'), maven('a', 'g:b:1'), maven('z', 'g:z:1@tar.gz', ['flink'])], {
      bundles: [{ name: 'b', parts: [{ artifact: 'missing' }, { artifact: 'z', unpack: 'tar.gz' }], usedBy: ['debezium'], purpose: 'test' }],
    });
    expect(() => parseArtifactManifest(raw)).toThrow(
      /duplicates 'a'[\s\S]*'missing' is not an artifact of the manifest[\s\S]*artifact z must be used by debezium too/,
    );
  });

  it('requires usedBy from the known parts of the platform', () => {
    expect(() => parseArtifactManifest(manifest([maven('a', 'g:a:1', ['nifi'])]))).toThrow('artifacts[0] (a).usedBy.0');
  });
});

describe('lock file', () => {
  const [artifact] = parseArtifactManifest(manifest([maven('a', 'g:a:1')])).artifacts;
  const pin = { source: 'maven:g:a:1', sha256: 'c'.repeat(64), verifiedWith: 'sha512 published at https://r/a-1.jar.sha512' };

  it('adds the pinned SHA-256 to the artifact', () => {
    expect(applyPins([artifact], parseArtifactLock({ pins: { a: pin } }))[0].sha256).toBe('c'.repeat(64));
  });

  it('fails on a pin recorded for another version, and on a pin for an artifact the manifest no longer has', () => {
    expect(() => applyPins([artifact], parseArtifactLock({ pins: { a: { ...pin, source: 'maven:g:a:0.9' }, gone: pin } }))).toThrow(
      /pins\.gone: the manifest has no artifact 'gone'[\s\S]*pins\.a: recorded for maven:g:a:0\.9, but the manifest now says maven:g:a:1[\s\S]*npm run artifacts:lock/,
    );
  });

  it('rejects a malformed pin', () => {
    expect(() => parseArtifactLock({ pins: { a: { ...pin, sha256: 'xyz' } } })).toThrow('pins.a.sha256: must be 64 lower-case hex characters');
  });

  it('reads a file and names it when it is not JSON', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lock-')), 'artifacts.lock.json');
    fs.writeFileSync(file, '{');
    expect(() => loadArtifactLock(file)).toThrow(`Artifact lock file ${file} is not valid JSON`);
  });
});
