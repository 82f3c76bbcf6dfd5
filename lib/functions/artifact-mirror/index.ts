import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { createLogger } from '../shared/logger';
import { CustomResourceEvent, CustomResourceResult, parseProperties } from '../shared/custom-resource';
import { loadConfig } from './config';
import { Deadline } from './deadline';
import { assembleBundle } from './bundle';
import { MirrorContext, MirrorOutcome, MirrorTarget, mirrorArtifact, removeObject } from './mirror';
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
    logger.info('Leaving mirrored artifacts in the retained bucket', {
      bucket: properties.Bucket,
      keys: [...properties.Artifacts, ...properties.Bundles].map((a) => a.key),
    });
    return { PhysicalResourceId: physicalResourceId };
  }
  const deadline = new Deadline(context.getRemainingTimeInMillis() - config.deadlineSafetyMarginMs, TIMEOUT_HINT);
  const target: MirrorTarget = { bucket: properties.Bucket, kmsKeyArn: properties.KmsKeyArn };
  try {
    for (const entry of [...properties.Bundles, ...properties.Artifacts]) {
      await removeObject(entry.key, target, contextFor(deadline));
      logger.info('Removed mirrored artifact', { name: entry.name, key: entry.key });
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
  const outcomes = new Map<string, MirrorOutcome>();
  const mirrorContext = contextFor(deadline);
  try {
    for (const artifact of properties.Artifacts) {
      const startedAt = Date.now();
      const outcome = await mirrorArtifact(artifact, target, mirrorContext);
      outcomes.set(artifact.name, outcome);
      if (!artifact.sha256)
        logger.warn('Artifact has no pin in jobs/artifacts.lock.json; verified against its published checksum only', { name: artifact.name });
      if (!outcome.verifiedWith.some((digest) => digest.origin === 'published')) {
        logger.warn('Publisher publishes no checksum for this artifact; verified against its pin only', { name: artifact.name });
      }
      logger.info(outcome.action === 'mirrored' ? 'Mirrored artifact' : 'Artifact already mirrored with the verified checksum', {
        name: outcome.name,
        key: outcome.key,
        bytes: outcome.bytes,
        verifiedWith: outcome.verifiedWith.map((digest) => `${digest.algorithm} ${digest.source}`),
        durationMs: Date.now() - startedAt,
      });
    }
    const artifactsByName = new Map(properties.Artifacts.map((artifact) => [artifact.name, artifact]));
    for (const bundle of properties.Bundles) {
      const startedAt = Date.now();
      const outcome = await assembleBundle(bundle, artifactsByName, outcomes, target, mirrorContext);
      logger.info(outcome.action === 'assembled' ? 'Assembled bundle' : 'Bundle already assembled from the same verified parts', {
        name: outcome.name,
        key: outcome.key,
        entries: outcome.entries,
        durationMs: Date.now() - startedAt,
      });
    }
    for (const entry of [...properties.Artifacts, ...properties.Bundles]) {
      data[`${entry.name}.Key`] = entry.key;
      data[`${entry.name}.S3Uri`] = `s3://${properties.Bucket}/${entry.key}`;
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
 * Custom resource (behind the CDK Provider framework) that puts third-party artifacts into the
 * artifacts bucket, each verified against the checksum its publisher publishes and against its
 * pin where the lock file has one, then assembles bundles (ZIPs) from them. Create and Update
 * mirror whatever is missing or stale and skip objects already verified against the same
 * digests, so retries and unrelated stack updates cost a checksum read and a HeadObject per artifact.
 */
export async function handler(event: CustomResourceEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<CustomResourceResult> {
  logger.info('Artifact mirror request', { requestType: event.RequestType, logicalResourceId: event.LogicalResourceId });
  if (event.RequestType === 'Delete') return onDelete(event, context);
  return onCreateOrUpdate(event, context);
}
