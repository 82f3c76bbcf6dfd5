import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';
import { createLogger } from '../shared/logger';
import { parseProperties, PermanentError, type CustomResourceEvent, type CustomResourceResult } from '../shared/custom-resource';
import { buildApplicationZip, mergeJars } from './application-package';
import { ZipFormatError } from '../shared/zip-archive';

/**
 * Flink application packager custom resource (its own function: the starter's cold start must
 * not pay for the S3 client and the ZIP code). Managed Flink runs a Python application from ONE
 * zip holding the Python code and ONE jar; the code comes from a CDK asset and the connector jars
 * from the artifact mirror's bucket, both only available at deploy time. This resource reads
 * them, merges the jars, writes the application zip under TargetPrefix and reports the key. It
 * runs before the application is created or updated (the application reads the key from its Data).
 *
 * The key is a hash of the resolved inputs (the jar keys may be references to the artifact
 * mirror, unknown at synth), so new inputs give a new key, which makes CloudFormation update the
 * application's code, and a new physical id, so CloudFormation deletes the previous package once
 * the update has succeeded. Equal inputs give the same key and the same bytes: retries are safe.
 */

const s3 = new S3Client({});
const logger = createLogger('flink-packager');

// zod/mini has no English messages built in: every check says what is allowed.
const S3_KEY = 'must be an S3 object key of 1 to 1024 characters';
const s3Key = z.string(S3_KEY).check(z.minLength(1, S3_KEY), z.maxLength(1024, S3_KEY));
const bucketName = z.string('must be a bucket name').check(z.minLength(3, 'must be a bucket name'));
const matching = (pattern: RegExp, allowed: string) => z.string(allowed).check(z.regex(pattern, allowed));
const TARGET_PREFIX = "must be empty or a key prefix ending with '/'";

const PackagerProperties = z.object({
  CodeBucket: bucketName,
  CodeKey: s3Key,
  CodeFolder: matching(/^[A-Za-z0-9_.-]+$/, 'must be a single folder name'),
  EntryPoint: matching(/^[A-Za-z0-9_./-]+\.py$/, 'must be a .py file inside the code asset'),
  JarBucket: bucketName,
  JarKeys: z.array(s3Key, 'must be a list of S3 object keys').check(z.minLength(1, 'needs at least one connector jar')),
  JarPath: matching(/^[A-Za-z0-9_./-]+\.jar$/, 'must be a .jar path inside the application zip'),
  TargetBucket: bucketName,
  TargetPrefix: z
    .string(TARGET_PREFIX)
    .check(z.maxLength(900, 'must be at most 900 characters, leaving room for the package name'), z.regex(/^(?:[A-Za-z0-9_.=-]+\/)*$/, TARGET_PREFIX)),
});
type PackagerProperties = z.infer<typeof PackagerProperties>;

/** Bump when the package layout changes, so existing inputs get a fresh package. */
const PACKAGE_FORMAT = 1;

export function packageKey(props: PackagerProperties): string {
  const inputs = [PACKAGE_FORMAT, props.CodeBucket, props.CodeKey, props.CodeFolder, props.EntryPoint, props.JarBucket, props.JarKeys, props.JarPath];
  const digest = createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 32);
  return `${props.TargetPrefix}${digest}.zip`;
}

const PHYSICAL_ID = /^s3:\/\/([^/]+)\/(.+)$/;

async function readObject(bucket: string, key: string): Promise<Buffer> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) throw new Error(`s3://${bucket}/${key} has no body`);
    return Buffer.from(await out.Body.transformToByteArray());
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') {
      throw new PermanentError(`s3://${bucket}/${key} does not exist (has the artifact mirror or the asset upload run?)`);
    }
    throw error;
  }
}

export async function handler(event: CustomResourceEvent): Promise<CustomResourceResult> {
  if (event.RequestType === 'Delete') {
    const match = PHYSICAL_ID.exec(event.PhysicalResourceId ?? '');
    // A Create that failed before writing anything has a request id, not an s3:// location.
    if (!match) return { PhysicalResourceId: event.PhysicalResourceId };
    await s3.send(new DeleteObjectCommand({ Bucket: match[1], Key: match[2] }));
    logger.info('Deleted application package', { bucket: match[1], key: match[2] });
    return { PhysicalResourceId: event.PhysicalResourceId };
  }

  const props = parseProperties(PackagerProperties, event.ResourceProperties);
  const [code, ...jars] = await Promise.all([readObject(props.CodeBucket, props.CodeKey), ...props.JarKeys.map((key) => readObject(props.JarBucket, key))]);

  let archive: Buffer;
  try {
    const merged = mergeJars(jars.map((jar, i) => ({ label: `s3://${props.JarBucket}/${props.JarKeys[i]}`, archive: jar })));
    logger.info('Merged connector jars', {
      jars: props.JarKeys,
      entryCount: merged.report.entryCount,
      duplicatesKept: merged.report.duplicatesKept.length,
      servicesMerged: merged.report.servicesMerged,
      dropped: merged.report.dropped,
    });
    archive = buildApplicationZip({
      code,
      codeLabel: `s3://${props.CodeBucket}/${props.CodeKey}`,
      codeFolder: props.CodeFolder,
      entryPoint: props.EntryPoint,
      jarPath: props.JarPath,
      jar: merged.jar,
    });
  } catch (error) {
    // A bad archive stays bad on retry: say which one and why.
    if (error instanceof ZipFormatError) throw new PermanentError(`Cannot package the Flink application: ${error.message}`);
    throw error;
  }

  const key = packageKey(props);
  await s3.send(new PutObjectCommand({ Bucket: props.TargetBucket, Key: key, Body: archive, ContentType: 'application/zip' }));
  logger.info('Wrote application package', { bucket: props.TargetBucket, key, bytes: archive.length });
  return {
    PhysicalResourceId: `s3://${props.TargetBucket}/${key}`,
    Data: { Bucket: props.TargetBucket, Key: key, Bytes: String(archive.length) },
  };
}
