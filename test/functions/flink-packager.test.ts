import { execFileSync } from 'node:child_process';
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { CustomResourceEvent } from '../../lib/functions/shared/custom-resource';
import { entryContent, newEntry, readZip, writeZip, ZipFormatError } from '../../lib/functions/shared/zip-archive';
import { mergeJars } from '../../lib/functions/flink-packager/application-package';

process.env.LOG_LEVEL = 'SILENT';
// Loaded after LOG_LEVEL is set: the handler creates its logger at module scope.
const { handler: packageHandler, packageKey } = require('../../lib/functions/flink-packager') as typeof import('../../lib/functions/flink-packager');

const s3 = mockClient(S3Client);

const metadata = { $metadata: {} };
const base = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider',
  ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x',
  StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/Processing/1',
  RequestId: 'request-1',
  LogicalResourceId: 'Package',
  ResourceType: 'Custom::FlinkApplicationPackage',
};

type Props = Record<string, unknown>;

beforeEach(() => {
  s3.reset();
});

/** Builds ZIP archives with Python's zipfile, an implementation independent of the one under test. */
function pythonZip(files: Array<{ name: string; text?: string; size?: number; deflate?: boolean; zip64?: boolean }>): Buffer {
  const script = `
import base64, io, json, sys, zipfile
spec = json.load(sys.stdin)
out = io.BytesIO()
with zipfile.ZipFile(out, "w") as archive:
    for f in spec:
        data = f["text"].encode() if "text" in f else bytes(i % 251 for i in range(f.get("size", 0)))
        info = zipfile.ZipInfo(f["name"], (2020, 1, 2, 3, 4, 6))
        info.compress_type = zipfile.ZIP_DEFLATED if f.get("deflate", True) else zipfile.ZIP_STORED
        with archive.open(info, "w", force_zip64=f.get("zip64", False)) as handle:
            handle.write(data)
sys.stdout.write(base64.b64encode(out.getvalue()).decode())
`;
  return Buffer.from(execFileSync('python3', ['-c', script], { input: JSON.stringify(files) }).toString(), 'base64');
}

/** Reads an archive with Python's zipfile: CRC-checked names and texts of the listed members. */
function pythonRead(
  archive: Buffer,
  textMembers: string[] = [],
  nested?: { member: string; textMembers: string[] },
): { names: string[]; texts: Record<string, string>; nested?: { names: string[]; texts: Record<string, string> } } {
  const script = `
import base64, io, json, sys, zipfile
request = json.load(sys.stdin)
def read(data, members):
    archive = zipfile.ZipFile(io.BytesIO(data))
    bad = archive.testzip()
    if bad: raise SystemExit("bad CRC in " + bad)
    return {"names": archive.namelist(), "texts": {m: archive.read(m).decode() for m in members}}, archive
result, archive = read(base64.b64decode(request["archive"]), request["texts"])
if request.get("nested"):
    result["nested"], _ = read(archive.read(request["nested"]), request["nestedTexts"])
print(json.dumps(result))
`;
  const input = JSON.stringify({ archive: archive.toString('base64'), texts: textMembers, nested: nested?.member, nestedTexts: nested?.textMembers ?? [] });
  return JSON.parse(execFileSync('python3', ['-c', script], { input, maxBuffer: 64 * 1024 * 1024 }).toString());
}

const kafkaConnectorJar = () =>
  pythonZip([
    { name: 'META-INF/MANIFEST.MF', text: 'Manifest-Version: 1.0\r\nMain-Class: x\r\n' },
    {
      name: 'META-INF/services/org.apache.flink.table.factories.Factory',
      text: 'org.apache.flink.streaming.connectors.kafka.table.KafkaDynamicTableFactory\norg.apache.flink.streaming.connectors.kafka.table.UpsertKafkaDynamicTableFactory\n',
    },
    { name: 'org/apache/flink/connector/kafka/KafkaSource.class', size: 5000 },
    { name: 'LICENSE', text: 'connector licence' },
  ]);
const mskIamJar = () =>
  pythonZip([
    { name: 'META-INF/MANIFEST.MF', text: 'Manifest-Version: 1.0\r\n' },
    { name: 'META-INF/SIGNER.SF', text: 'signature' },
    { name: 'META-INF/SIGNER.RSA', text: 'signature' },
    {
      name: 'META-INF/services/org.apache.flink.table.factories.Factory',
      text: '# comment\norg.apache.flink.streaming.connectors.kafka.table.KafkaDynamicTableFactory\ncom.example.OtherFactory\n',
    },
    { name: 'software/amazon/msk/auth/iam/IAMLoginModule.class', size: 3000, deflate: false },
    { name: 'LICENSE', text: 'iam licence' },
  ]);
const codeAsset = () =>
  pythonZip([
    { name: '__init__.py', text: '' },
    { name: 'main.py', text: 'print("login counts")\n' },
    { name: 'login_sql.py', text: 'STATEMENTS = []\n' },
    { name: '__pycache__/main.cpython-311.pyc', size: 100 },
  ]);

const packagerProps: Props = {
  CodeBucket: 'cdk-assets-111111111111-eu-west-1',
  CodeKey: 'abc123.zip',
  CodeFolder: 'job',
  EntryPoint: 'main.py',
  JarBucket: 'lakestream-dev-artifacts',
  JarKeys: ['jars/flink-connector-kafka-3.4.0-1.20.jar', 'jars/aws-msk-iam-auth-2.3.2-all.jar'],
  JarPath: 'lib/lakestream-connectors.jar',
  TargetBucket: 'lakestream-dev-artifacts',
  TargetPrefix: 'flink-applications/login-counts/',
};
const EXPECTED_KEY = packageKey(packagerProps as never);

function packagerEvent(requestType: 'Create' | 'Update' | 'Delete', physicalId?: string, properties: Props = packagerProps): CustomResourceEvent {
  return {
    ...base,
    LogicalResourceId: 'Package',
    RequestType: requestType,
    ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
    ...(requestType === 'Update' ? { OldResourceProperties: { ServiceToken: base.ServiceToken } } : {}),
    ResourceProperties: { ServiceToken: base.ServiceToken, ...properties },
  } as CustomResourceEvent;
}

function s3Object(content: Buffer) {
  return { ...metadata, Body: { transformToByteArray: async () => new Uint8Array(content) } as never };
}

describe('packager', () => {
  it('writes one zip with the code under its folder and the connector jars merged into one jar', async () => {
    s3.on(GetObjectCommand, { Bucket: 'cdk-assets-111111111111-eu-west-1', Key: 'abc123.zip' }).resolves(s3Object(codeAsset()));
    s3.on(GetObjectCommand, { Bucket: 'lakestream-dev-artifacts', Key: 'jars/flink-connector-kafka-3.4.0-1.20.jar' }).resolves(s3Object(kafkaConnectorJar()));
    s3.on(GetObjectCommand, { Bucket: 'lakestream-dev-artifacts', Key: 'jars/aws-msk-iam-auth-2.3.2-all.jar' }).resolves(s3Object(mskIamJar()));
    s3.on(PutObjectCommand).resolves({ ...metadata });

    const result = await packageHandler(packagerEvent('Create'));

    expect(EXPECTED_KEY).toMatch(/^flink-applications\/login-counts\/[0-9a-f]{32}\.zip$/);
    expect(result.PhysicalResourceId).toBe(`s3://lakestream-dev-artifacts/${EXPECTED_KEY}`);
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put).toMatchObject({ Bucket: 'lakestream-dev-artifacts', Key: EXPECTED_KEY, ContentType: 'application/zip' });
    const archive = Buffer.from(put.Body as Buffer);
    expect(result.Data).toEqual({ Bucket: 'lakestream-dev-artifacts', Key: EXPECTED_KEY, Bytes: String(archive.length) });

    const factory = 'META-INF/services/org.apache.flink.table.factories.Factory';
    const read = pythonRead(archive, ['job/main.py'], { member: 'lib/lakestream-connectors.jar', textMembers: ['META-INF/MANIFEST.MF', factory, 'LICENSE'] });
    expect(read.names).toEqual(['job/', 'job/__init__.py', 'job/main.py', 'job/login_sql.py', 'lib/', 'lib/lakestream-connectors.jar']);
    expect(read.texts['job/main.py']).toBe('print("login counts")\n');
    const jar = read.nested!;
    expect(jar.names.slice(0, 2)).toEqual(['META-INF/', 'META-INF/MANIFEST.MF']);
    expect(jar.names).toEqual(
      expect.arrayContaining(['org/apache/flink/connector/kafka/KafkaSource.class', 'software/amazon/msk/auth/iam/IAMLoginModule.class', factory]),
    );
    expect(jar.names.filter((name) => name.endsWith('.SF') || name.endsWith('.RSA'))).toEqual([]);
    expect(jar.texts['META-INF/MANIFEST.MF']).not.toContain('Main-Class');
    expect(jar.texts[factory].split('\n')).toEqual([
      'org.apache.flink.streaming.connectors.kafka.table.KafkaDynamicTableFactory',
      'org.apache.flink.streaming.connectors.kafka.table.UpsertKafkaDynamicTableFactory',
      'com.example.OtherFactory',
      '',
    ]);
    expect(jar.texts.LICENSE).toBe('connector licence');
  });

  it('derives the key from the inputs: another jar version or code asset gives another key', () => {
    const otherJar = { ...packagerProps, JarKeys: ['jars/flink-connector-kafka-3.4.1-1.20.jar', 'jars/aws-msk-iam-auth-2.3.2-all.jar'] };
    const otherCode = { ...packagerProps, CodeKey: 'def456.zip' };
    const keys = new Set([EXPECTED_KEY, packageKey(otherJar as never), packageKey(otherCode as never)]);
    expect(keys.size).toBe(3);
    expect(packageKey({ ...packagerProps } as never)).toBe(EXPECTED_KEY);
  });

  it('produces the same bytes for the same inputs, so a retried Create writes the same object', async () => {
    s3.on(GetObjectCommand, { Key: 'abc123.zip' }).resolves(s3Object(codeAsset()));
    s3.on(GetObjectCommand, { Key: 'jars/flink-connector-kafka-3.4.0-1.20.jar' }).resolves(s3Object(kafkaConnectorJar()));
    s3.on(GetObjectCommand, { Key: 'jars/aws-msk-iam-auth-2.3.2-all.jar' }).resolves(s3Object(mskIamJar()));
    s3.on(PutObjectCommand).resolves({ ...metadata });
    await packageHandler(packagerEvent('Create'));
    await packageHandler(packagerEvent('Update', `s3://lakestream-dev-artifacts/${EXPECTED_KEY}`));
    const [first, second] = s3.commandCalls(PutObjectCommand).map((call) => Buffer.from(call.args[0].input.Body as Buffer));
    expect(first.equals(second)).toBe(true);
  });

  it('fails permanently, naming the object, when an input is missing or not an archive', async () => {
    s3.on(GetObjectCommand).resolves(s3Object(kafkaConnectorJar()));
    s3.on(GetObjectCommand, { Key: 'jars/aws-msk-iam-auth-2.3.2-all.jar' }).rejects(new NoSuchKey({ message: 'NoSuchKey', $metadata: {} }));
    await expect(packageHandler(packagerEvent('Create'))).rejects.toThrow('s3://lakestream-dev-artifacts/jars/aws-msk-iam-auth-2.3.2-all.jar does not exist');

    s3.reset();
    s3.on(GetObjectCommand).resolves(s3Object(kafkaConnectorJar()));
    s3.on(GetObjectCommand, { Key: 'jars/aws-msk-iam-auth-2.3.2-all.jar' }).resolves(s3Object(Buffer.from('<html>proxy error</html>')));
    await expect(packageHandler(packagerEvent('Create'))).rejects.toThrow(
      'Cannot package the Flink application: s3://lakestream-dev-artifacts/jars/aws-msk-iam-auth-2.3.2-all.jar is not a ZIP archive',
    );
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('fails when the code asset has no entry point', async () => {
    s3.on(GetObjectCommand).resolves(s3Object(kafkaConnectorJar()));
    s3.on(GetObjectCommand, { Key: 'abc123.zip' }).resolves(s3Object(pythonZip([{ name: 'app.py', text: '' }])));
    await expect(packageHandler(packagerEvent('Create'))).rejects.toThrow('has no entry point main.py at its root (entries: app.py)');
  });

  it('rejects invalid properties', async () => {
    await expect(packageHandler(packagerEvent('Create', undefined, { ...packagerProps, JarKeys: [], CodeFolder: 'a/b' }))).rejects.toThrow(
      /Invalid ResourceProperties: .*CodeFolder: must be a single folder name.*JarKeys: needs at least one connector jar/,
    );
    await expect(packageHandler(packagerEvent('Create', undefined, { ...packagerProps, TargetPrefix: 'no-trailing-slash' }))).rejects.toThrow(
      `TargetPrefix: must be empty or a key prefix ending with '/' (got "no-trailing-slash")`,
    );
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('deletes the package it wrote, and nothing when a failed Create left no package', async () => {
    s3.on(DeleteObjectCommand).resolves({ ...metadata });
    await packageHandler(packagerEvent('Delete', 's3://lakestream-dev-artifacts/flink-applications/login-counts/old.zip'));
    expect(s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'lakestream-dev-artifacts', Key: 'flink-applications/login-counts/old.zip' },
    ]);
    await expect(packageHandler(packagerEvent('Delete', 'request-1'))).resolves.toEqual({ PhysicalResourceId: 'request-1' });
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(1);
  });
});

describe('zip archive', () => {
  it('reads ZIP64 members written by another implementation', () => {
    const archive = pythonZip([
      { name: 'big.bin', size: 70_000, zip64: true },
      { name: 'small.txt', text: 'hi' },
    ]);
    const entries = readZip(archive, 'python.zip');
    expect(entries.map((entry) => [entry.name, entry.uncompressedSize])).toEqual([
      ['big.bin', 70_000],
      ['small.txt', 2],
    ]);
    expect(entryContent(entries[1], 'python.zip').toString()).toBe('hi');
  });

  it('writes a ZIP64 end record that other readers accept when there are more than 65,535 entries', () => {
    const entries = Array.from({ length: 65_540 }, (_, i) => newEntry(`c/${i}.class`, Buffer.from(String(i)), { compress: false }));
    const archive = writeZip(entries);
    expect(readZip(archive, 'many.jar')).toHaveLength(65_540);
    const read = pythonRead(archive, ['c/65539.class']);
    expect(read.names).toHaveLength(65_540);
    expect(read.texts['c/65539.class']).toBe('65539');
  });

  it('detects corrupted member data', () => {
    const [entry] = readZip(pythonZip([{ name: 'a.txt', text: 'hello world', deflate: false }]), 'a.zip');
    const corrupted = { ...entry, compressedData: Buffer.from('hellO world') };
    expect(() => entryContent(corrupted, 'a.zip')).toThrow('a.zip: entry a.txt fails its size or CRC check');
  });

  it('refuses jars with entries that escape their folder', () => {
    const evil = pythonZip([{ name: '../../etc/cron.d/x', text: 'x' }]);
    expect(() => mergeJars([{ label: 'evil.jar', archive: evil }])).toThrow(ZipFormatError);
  });
});
