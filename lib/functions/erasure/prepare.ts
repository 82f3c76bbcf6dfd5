import { GenerateMacCommand, type KMSClient } from '@aws-sdk/client-kms';
import { HeadObjectCommand, NotFound, type S3Client } from '@aws-sdk/client-s3';
import { parseDocument, receiptKey, requestDocumentSchema, requestIdSchema, requestKey, type RequestDocument } from './model';
import { readJson } from './s3-documents';

export interface PrepareConfig {
  readonly workBucket: string;
  readonly receiptsBucket: string;
  /** KMS HMAC key (HMAC_256) that turns ids into digests for the receipt. */
  readonly hmacKeyId: string;
}

export interface PrepareResult {
  readonly requestId: string;
  readonly requestedAt: string;
  readonly subjectCount: number;
  /** HMAC-SHA-256 of each id under the environment's KMS HMAC key, hex, sorted. */
  readonly subjectDigests: string[];
  /** A final receipt exists already: the request was fully erased before. */
  readonly alreadyErased: boolean;
}

/** Loads and validates the request document. */
export async function loadRequest(s3: S3Client, workBucket: string, requestId: string): Promise<RequestDocument> {
  const raw = await readJson(s3, workBucket, requestKey(requestId));
  if (raw === undefined)
    throw new Error(`request ${requestId}: no request document at s3://${workBucket}/${requestKey(requestId)} (write it with lakestream erase)`);
  const request = parseDocument(requestDocumentSchema, raw, `request ${requestId}`);
  if (request.requestId !== requestId) throw new Error(`request ${requestId}: the request document names another request id`);
  return request;
}

/**
 * Digests for the receipt: a receipt is write-once and outlives the erasure, so it must not hold
 * the ids themselves; a keyed digest lets an auditor with kms:VerifyMac check that a given id was
 * erased, and cannot be reversed by hashing guessed ids without the key.
 */
export async function digestIds(kms: KMSClient, keyId: string, ids: readonly string[]): Promise<string[]> {
  const digests = await Promise.all(
    ids.map(async (id) => {
      const response = await kms.send(new GenerateMacCommand({ KeyId: keyId, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from(id, 'utf-8') }));
      return Buffer.from(response.Mac!).toString('hex');
    }),
  );
  return digests.sort();
}

async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return false;
    throw error;
  }
}

export async function prepare(input: { requestId: unknown }, clients: { s3: S3Client; kms: KMSClient }, config: PrepareConfig): Promise<PrepareResult> {
  const requestId = parseDocument(requestIdSchema, input.requestId, 'requestId');
  if (await exists(clients.s3, config.receiptsBucket, receiptKey(requestId, 'final'))) {
    return { requestId, requestedAt: '', subjectCount: 0, subjectDigests: [], alreadyErased: true };
  }
  const request = await loadRequest(clients.s3, config.workBucket, requestId);
  const ids = [...new Set(request.userIds)];
  return {
    requestId,
    requestedAt: request.requestedAt,
    subjectCount: ids.length,
    subjectDigests: await digestIds(clients.kms, config.hmacKeyId, ids),
    alreadyErased: false,
  };
}
