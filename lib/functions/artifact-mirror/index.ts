import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { createLogger } from '../shared/logger';
import { CustomResourceEvent, CustomResourceResult, parseProperties } from '../shared/custom-resource';
import { loadConfig } from './config';
import { Deadline } from './deadline';
import { MirrorContext, MirrorTarget, mirrorArtifact, removeArtifact } from './mirror';
import { MirrorProperties, mirrorPropertiesSchema } from './properties';

const config = loadConfig(process.env);
const logger = createLogger('artifact-mirror');
const s3 = new S3Client({});

const TIMEOUT_HINT = 'raise the function timeout, or mirror from an S3 copy (sourceBucketUri) in the same region';

function physicalIdFor(properties: MirrorProperties): string {
  return `artifact-mirror:${properties.Bucket}`;
}

function contextFor(deadline: Deadline): MirrorContext {
  return {
    s3,
    deadline,
    download: { allowInsecureHttp: config.allowInsecureHttp, maxRedirects: config.maxRedirects, responseTimeoutMs: config.responseTimeoutMs },
  };
}

async function onDelete(event: CustomResourceEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<CustomResourceResult> {
  let properties: MirrorProperties;
  try {
    properties = parseProperties(mirrorPropertiesSchema, event.ResourceProperties);
  } catch (error) {
    // Properties that never parsed never mirrored anything; failing here would wedge the stack in DELETE_FAILED.
    logger.warn('Delete with unparseable properties: nothing to remove', { error: (error as Error).message });
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const physicalResourceId = event.PhysicalResourceId ?? physicalIdFor(properties);
  if (!properties.DeleteOnRemove) {
    logger.info('Leaving mirrored artifacts in the retained bucket', { bucket: properties.Bucket, keys: properties.Artifacts.map((a) => a.key) });
    return { PhysicalResourceId: physicalResourceId };
  }
  const deadline = new Deadline(context.getRemainingTimeInMillis() - config.deadlineSafetyMarginMs, TIMEOUT_HINT);
  const target: MirrorTarget = { bucket: properties.Bucket, kmsKeyArn: properties.KmsKeyArn };
  try {
    for (const artifact of properties.Artifacts) {
      await removeArtifact(artifact, target, contextFor(deadline));
      logger.info('Removed mirrored artifact', { name: artifact.name, key: artifact.key });
    }
  } catch (error) {
    throw deadline.expired ? deadline.error : error;
  } finally {
    deadline.dispose();
  }
  return { PhysicalResourceId: physicalResourceId };
}

async function onCreateOrUpdate(event: CustomResourceEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<CustomResourceResult> {
  const properties = parseProperties(mirrorPropertiesSchema, event.ResourceProperties);
  const target: MirrorTarget = { bucket: properties.Bucket, kmsKeyArn: properties.KmsKeyArn };
  const deadline = new Deadline(context.getRemainingTimeInMillis() - config.deadlineSafetyMarginMs, TIMEOUT_HINT);
  const data: Record<string, string> = {};
  try {
    for (const artifact of properties.Artifacts) {
      const startedAt = Date.now();
      const outcome = await mirrorArtifact(artifact, target, contextFor(deadline));
      logger.info(outcome.action === 'mirrored' ? 'Mirrored artifact' : 'Artifact already mirrored with the pinned checksum', {
        name: outcome.name,
        key: outcome.key,
        bytes: outcome.bytes,
        durationMs: Date.now() - startedAt,
      });
      data[`${artifact.name}.Key`] = artifact.key;
      data[`${artifact.name}.S3Uri`] = `s3://${properties.Bucket}/${artifact.key}`;
    }
  } catch (error) {
    // An S3 call cut off by the deadline fails with a bare AbortError; report what ran out of time instead.
    throw deadline.expired ? deadline.error : error;
  } finally {
    deadline.dispose();
  }
  return { PhysicalResourceId: physicalIdFor(properties), Data: data };
}

/**
 * Custom resource (behind the CDK Provider framework) that puts pinned third-party artifacts into
 * the artifacts bucket, verified against their checksums. Create and Update mirror whatever is
 * missing or stale and skip objects already verified against the same pins, so retries and
 * unrelated stack updates cost one HeadObject per artifact.
 */
export async function handler(event: CustomResourceEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<CustomResourceResult> {
  logger.info('Artifact mirror request', { requestType: event.RequestType, logicalResourceId: event.LogicalResourceId });
  if (event.RequestType === 'Delete') return onDelete(event, context);
  return onCreateOrUpdate(event, context);
}
