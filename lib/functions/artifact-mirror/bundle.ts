import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import * as tar from 'tar-stream';
import { ZipWriter, newEntry } from '../shared/zip-archive';
import { digestIdentity } from './checksum';
import { MirrorContext, MirrorOutcome, MirrorTarget, headMetadata, uploadStream } from './mirror';
import type { MirroredArtifact, MirroredBundle } from './properties';

/** Bump when the bundle layout changes, so existing bundles are rebuilt. */
const BUNDLE_FORMAT = 1;
/** One member is held in memory while it is written; connector jars are a few MiB. */
export const MAX_BUNDLE_MEMBER_BYTES = 256 * 1024 * 1024;

export interface BundleOutcome {
  readonly name: string;
  readonly key: string;
  readonly action: 'already-present' | 'assembled';
  readonly entries?: number;
}

/** Names the inputs: the verified digests of every part and how it is laid out. */
export function bundleFingerprint(bundle: MirroredBundle, outcomes: ReadonlyMap<string, MirrorOutcome>): string {
  const inputs = bundle.parts.map((part) => [
    part.artifact,
    part.unpack ?? null,
    part.directory ?? null,
    digestIdentity(outcomes.get(part.artifact)?.verifiedWith ?? []),
  ]);
  return createHash('sha256')
    .update(JSON.stringify([BUNDLE_FORMAT, inputs]))
    .digest('hex');
}

function memberName(raw: string, bundleName: string): string {
  const name = raw.replace(/^(\.\/)+/, '');
  if (!name || name.startsWith('/') || name.includes('\\') || name.split('/').includes('..')) {
    throw new Error(`bundle ${bundleName}: unsafe member path ${JSON.stringify(raw)}`);
  }
  return name;
}

async function readAll(stream: Readable, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > MAX_BUNDLE_MEMBER_BYTES) throw new Error(`${what} is larger than ${MAX_BUNDLE_MEMBER_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function openObject(bucket: string, key: string, context: MirrorContext): Promise<Readable> {
  const response = await context.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: context.deadline.signal });
  if (!(response.Body instanceof Readable)) throw new Error(`s3://${bucket}/${key} has no readable body`);
  return response.Body;
}

/** Members of a .tar.gz, one at a time (only regular files; folders are implied by the paths). */
async function* tarMembers(archive: Readable, label: string): AsyncGenerator<{ name: string; content: Buffer }> {
  const extract = tar.extract();
  pipeline(archive, createGunzip(), extract as unknown as NodeJS.WritableStream, () => undefined);
  const entries = extract[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<{ header: tar.Header; resume(): unknown }>;
    try {
      next = await entries.next();
    } catch (error) {
      // gzip and tar errors ("incorrect header check") say nothing about which file was at fault.
      throw new Error(`${label} is not a readable .tar.gz: ${(error as Error).message}`);
    }
    if (next.done) return;
    const entry = next.value;
    const type = entry.header.type;
    if (type === 'directory') {
      entry.resume();
      continue;
    }
    if (type !== 'file' && type !== 'contiguous-file') {
      throw new Error(`${label}: member ${entry.header.name} is a ${type}; only files and folders are supported`);
    }
    yield { name: entry.header.name, content: await readAll(entry as unknown as Readable, `${label}: ${entry.header.name}`) };
  }
}

/**
 * Assembles one ZIP from mirrored artifacts in the bucket: a .tar.gz part is unpacked into it
 * (its folders kept), any other part is copied in as a file. The ZIP streams into a multipart
 * upload; only the current member is in memory. Jars are stored as they are (already
 * compressed); the fixed entry times make equal inputs give equal bytes. A bundle whose
 * `inputs` metadata equals the fingerprint of its verified parts is left alone.
 */
export async function assembleBundle(
  bundle: MirroredBundle,
  artifacts: ReadonlyMap<string, MirroredArtifact>,
  outcomes: ReadonlyMap<string, MirrorOutcome>,
  target: MirrorTarget,
  context: MirrorContext,
): Promise<BundleOutcome> {
  const fingerprint = bundleFingerprint(bundle, outcomes);
  context.deadline.activity = `checking s3://${target.bucket}/${bundle.key} for ${bundle.name}`;
  const existing = await headMetadata(target.bucket, bundle.key, context);
  if (existing?.inputs === fingerprint) return { name: bundle.name, key: bundle.key, action: 'already-present' };

  const output = new PassThrough();
  const writer = new ZipWriter();
  const names = new Set<string>();
  const write = async (chunks: Buffer[]) => {
    for (const chunk of chunks) {
      if (!output.write(chunk)) await once(output, 'drain');
    }
  };
  const add = async (name: string, content: Buffer) => {
    if (names.has(name)) throw new Error(`bundle ${bundle.name}: two parts contain ${name}`);
    names.add(name);
    await write(writer.add(newEntry(name, content, { compress: !/\.(jar|zip)$/i.test(name) })));
  };
  const produce = async () => {
    for (const part of bundle.parts) {
      const artifact = artifacts.get(part.artifact) as MirroredArtifact;
      context.deadline.activity = `adding ${artifact.name} to ${bundle.name}`;
      const body = await openObject(target.bucket, artifact.key, context);
      if (part.unpack === 'tar.gz') {
        for await (const member of tarMembers(body, artifact.name)) await add(memberName(member.name, bundle.name), member.content);
      } else {
        const fileName = artifact.key.slice(artifact.key.lastIndexOf('/') + 1);
        await add(memberName(`${part.directory ?? ''}${fileName}`, bundle.name), await readAll(body, artifact.name));
      }
    }
    await write(writer.finish());
    output.end();
  };
  const [produced, uploaded] = await Promise.allSettled([
    produce().catch((error: unknown) => {
      output.destroy(error as Error);
      throw error;
    }),
    uploadStream(output, bundle.key, { inputs: fingerprint }, target, context),
  ]);
  if (produced.status === 'rejected') throw context.deadline.expired ? context.deadline.error : produced.reason;
  if (uploaded.status === 'rejected') throw uploaded.reason;
  return { name: bundle.name, key: bundle.key, action: 'assembled', entries: names.size };
}
