import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ArtifactSpec,
  DEFAULT_ARTIFACT_MANIFEST_PATH,
  loadArtifactManifest,
  parseArtifactManifest,
  selectArtifacts,
} from '../../../lib/constructs/artifacts/artifact-manifest';

const entry = (overrides: Record<string, unknown> = {}) => ({
  name: 'flink-sql-connector-kafka',
  version: '3.3.0-1.20',
  url: 'https://repo1.maven.org/maven2/org/apache/flink/flink-sql-connector-kafka/3.3.0-1.20/flink-sql-connector-kafka-3.3.0-1.20.jar',
  sha512: 'f'.repeat(128),
  checksumSource: 'test fixture',
  key: 'artifacts/flink-sql-connector-kafka/3.3.0-1.20/flink-sql-connector-kafka-3.3.0-1.20.jar',
  purpose: 'Flink Kafka source and sink',
  ...overrides,
});

describe('the checked-in manifest (jobs/artifacts.json)', () => {
  const artifacts = loadArtifactManifest();

  it('loads, and every entry is pinned by a checksum and says where the checksum came from', () => {
    expect(DEFAULT_ARTIFACT_MANIFEST_PATH).toBe(path.resolve(__dirname, '..', '..', '..', 'jobs', 'artifacts.json'));
    expect(artifacts.length).toBeGreaterThan(0);
    for (const artifact of artifacts) {
      expect(artifact.sha256 ?? artifact.sha512).toMatch(/^[0-9a-f]{64}([0-9a-f]{64})?$/);
      expect(artifact.checksumSource.length).toBeGreaterThan(20);
      expect(new URL(artifact.url).protocol).toBe('https:');
      expect(artifact.key.startsWith(`artifacts/${artifact.name}/${artifact.version}/`)).toBe(true);
    }
  });

  it('pins the MSK config provider that resolves ${secretsmanager:...} in connector configurations', () => {
    expect(selectArtifacts(artifacts, ['msk-config-providers'])[0]).toMatchObject({
      version: '0.4.0',
      url: 'https://github.com/aws-samples/msk-config-providers/releases/download/r0.4.0/msk-config-providers-0.4.0-all.jar',
      key: 'artifacts/msk-config-providers/0.4.0/msk-config-providers-0.4.0-all.jar',
    });
  });
});

describe('parseArtifactManifest', () => {
  it('returns the entries without null checksums', () => {
    const [artifact] = parseArtifactManifest({ artifacts: [entry({ sha256: null })] });
    expect(artifact).toEqual<ArtifactSpec>({
      name: 'flink-sql-connector-kafka',
      version: '3.3.0-1.20',
      url: entry().url,
      sha512: 'f'.repeat(128),
      checksumSource: 'test fixture',
      key: entry().key,
      purpose: 'Flink Kafka source and sink',
    });
  });

  it('rejects an entry without any checksum, naming it', () => {
    expect(() => parseArtifactManifest({ artifacts: [entry({ sha512: undefined, sha256: null })] }, 'jobs/artifacts.json')).toThrow(
      'Invalid jobs/artifacts.json:\n  - artifacts[0] (flink-sql-connector-kafka).sha256: has no sha256 or sha512: pin the checksum its publisher publishes',
    );
  });

  it.each([
    [{ sha256: 'ABC' }, 'artifacts[0] (flink-sql-connector-kafka).sha256: must be 64 lower-case hex characters'],
    [{ sha512: 'F'.repeat(128) }, 'artifacts[0] (flink-sql-connector-kafka).sha512: must be 128 lower-case hex characters'],
    [{ url: 'http://repo1.maven.org/x.jar' }, 'artifacts[0] (flink-sql-connector-kafka).url: must be an https:// URL'],
    [{ key: '/artifacts/x.jar' }, 'artifacts[0] (flink-sql-connector-kafka).key: must be a relative object key under artifacts/'],
    [{ key: 'artifacts/../secrets/x.jar' }, 'artifacts[0] (flink-sql-connector-kafka).key: must not contain . or .. segments'],
    [{ name: 'Flink_Kafka' }, 'artifacts[0] (Flink_Kafka).name: must be kebab-case'],
    [{ checksumSource: '' }, 'artifacts[0] (flink-sql-connector-kafka).checksumSource: must say where the checksum was published'],
    [{ extra: true }, 'Unrecognized key'],
  ])('rejects %j', (overrides, message) => {
    expect(() => parseArtifactManifest({ artifacts: [entry(overrides)] })).toThrow(message);
  });

  it('rejects duplicate names and keys', () => {
    expect(() => parseArtifactManifest({ artifacts: [entry(), entry({ version: 'other' })] })).toThrow(
      /artifacts\[1\] \(flink-sql-connector-kafka\)\.name: duplicates artifacts\[0\]\.name 'flink-sql-connector-kafka'[\s\S]*artifacts\[1\] \(flink-sql-connector-kafka\)\.key: duplicates artifacts\[0\]\.key/,
    );
  });
});

describe('loadArtifactManifest', () => {
  const write = (content: string) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'manifest-')), 'artifacts.json');
    fs.writeFileSync(file, content);
    return file;
  };

  it('names the file when it is not JSON', () => {
    const file = write('{ "artifacts": [ }');
    expect(() => loadArtifactManifest(file)).toThrow(`Artifact manifest ${file} is not valid JSON`);
  });

  it('names the file when it is missing', () => {
    expect(() => loadArtifactManifest('/nonexistent/artifacts.json')).toThrow('Cannot read artifact manifest /nonexistent/artifacts.json');
  });

  it('validates what it reads', () => {
    const file = write(JSON.stringify({ artifacts: [entry({ sha512: null })] }));
    expect(() => loadArtifactManifest(file)).toThrow(`Invalid artifact manifest ${file}:`);
  });
});

describe('selectArtifacts', () => {
  const artifacts = parseArtifactManifest({ artifacts: [entry(), entry({ name: 'other', key: 'artifacts/other/1/o.jar' })] });

  it('returns the named artifacts in the order asked', () => {
    expect(selectArtifacts(artifacts, ['other', 'flink-sql-connector-kafka']).map((a) => a.name)).toEqual(['other', 'flink-sql-connector-kafka']);
  });

  it('fails on an unknown name with the list of known ones', () => {
    expect(() => selectArtifacts(artifacts, ['debezium-connector-sqlserver'])).toThrow(
      'Unknown artifact(s) debezium-connector-sqlserver: the manifest pins flink-sql-connector-kafka, other',
    );
  });
});
