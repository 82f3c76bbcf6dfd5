import { createHash } from 'node:crypto';
import type { ReplayObject, ReplayRange } from './types';

/**
 * Where replay keeps its own objects in the landing bucket. Both prefixes sit outside the
 * replay trigger's prefix, so writing them never starts another replay.
 */
export const CHECKPOINT_PREFIX = '_replay/checkpoints/';
export const QUARANTINE_PREFIX = 'quarantine/';
/** Decompressed copies of gzip files, replayed in parallel plain ranges (stage.ts). */
export const STAGING_PREFIX = '_replay/staging/';

const MAX_S3_KEY_BYTES = 1024;

export function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '');
}

/** `_replay/checkpoints/<source key>/<etag>/<start>-<end>.json`: one per range of one object version. */
export function checkpointKey(object: Pick<ReplayObject, 'key' | 'etag'>, range: Pick<ReplayRange, 'start' | 'end'>): string {
  return readableKey(CHECKPOINT_PREFIX, object.key, `${object.etag}/${range.start}-${range.end ?? 'eof'}.json`);
}

/**
 * `quarantine/<source key>/<etag>/range-<index>/<first offset>.jsonl`: one object per commit that
 * had rejects, named by the first rejected line's offset so that a retried commit overwrites
 * itself instead of adding a second copy.
 */
export function quarantineKey(object: Pick<ReplayObject, 'key' | 'etag'>, range: Pick<ReplayRange, 'index'>, firstOffset: number): string {
  return readableKey(QUARANTINE_PREFIX, object.key, `${object.etag}/range-${range.index}/${firstOffset}.jsonl`);
}

/** `_replay/staging/<source key>/<etag>.plain`: the decompressed content of one gzip object version. */
export function stagingKey(object: Pick<ReplayObject, 'key' | 'etag'>): string {
  return readableKey(STAGING_PREFIX, object.key, `${object.etag}.plain`);
}

/** Keeps the source key readable in the path unless the result would exceed S3's key limit. */
function readableKey(prefix: string, sourceKey: string, suffix: string): string {
  const readable = `${prefix}${sourceKey}/${suffix}`;
  if (Buffer.byteLength(readable) <= MAX_S3_KEY_BYTES) return readable;
  const digest = createHash('sha256').update(sourceKey).digest('hex');
  return `${prefix}_by-hash/${digest}/${suffix}`;
}
