import * as z from 'zod/mini';
import { cfnBoolean } from '../shared/custom-resource';

// zod/mini has no English messages built in: every check says what is allowed.
const nonEmptyString = (allowed = 'must be a non-empty string') => z.string(allowed).check(z.minLength(1, allowed));
const SHA256 = 'must be 64 lower-case hex characters';

const ARTIFACT_FIELDS = 'name, key, url, sourceS3Uri, published, releaseUrl, asset, sha256';

const artifactSchema = z
  .strictObject(
    {
      name: nonEmptyString(),
      key: nonEmptyString().check(z.refine((key) => !key.startsWith('/'), 'must be a relative object key')),
      url: z.optional(nonEmptyString()),
      sourceS3Uri: z.optional(z.string('must be an s3:// URI').check(z.startsWith('s3://', 'must be an s3:// URI'))),
      /** sidecar: <url>.sha512/.sha256/.sha1 (or <sourceS3Uri>.sha512/...); github-release: the asset's digest. */
      published: z.enum(['sidecar', 'github-release'], "must be 'sidecar' or 'github-release'"),
      releaseUrl: z.optional(nonEmptyString()),
      asset: z.optional(nonEmptyString()),
      sha256: z.optional(z.string(SHA256).check(z.regex(/^[0-9a-f]{64}$/, SHA256))),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `has unknown field(s) ${issue.keys.join(', ')}; allowed: ${ARTIFACT_FIELDS}`
          : `must be an object with the fields ${ARTIFACT_FIELDS}`,
    },
  )
  .check(
    z.refine((artifact) => (artifact.url === undefined) !== (artifact.sourceS3Uri === undefined), 'needs exactly one of url or sourceS3Uri'),
    z.refine(
      (artifact) =>
        artifact.published !== 'github-release' || artifact.sourceS3Uri !== undefined || (artifact.releaseUrl !== undefined && artifact.asset !== undefined),
      'needs releaseUrl and asset to read a GitHub release digest',
    ),
  );

export type MirroredArtifact = z.infer<typeof artifactSchema>;

const bundleSchema = z.strictObject({
  name: nonEmptyString(),
  key: nonEmptyString().check(z.refine((key) => !key.startsWith('/'), 'must be a relative object key')),
  parts: z
    .array(
      z.strictObject({
        artifact: nonEmptyString(),
        unpack: z.optional(z.literal('tar.gz', "must be 'tar.gz'")),
        directory: z.optional(z.string("must be a folder ending in '/'").check(z.regex(/^(?:[A-Za-z0-9._+-]+\/)+$/, "must be a folder ending in '/'"))),
      }),
      'must be a list of parts',
    )
    .check(z.minLength(1, 'must list at least one part')),
});

export type MirroredBundle = z.infer<typeof bundleSchema>;

const jsonList = <T extends z.core.$ZodType>(item: T, allowed: string) =>
  z.pipe(
    z.pipe(
      z.string(allowed),
      z.transform((text: string, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.issues.push({ code: 'custom', message: 'is not valid JSON', input: text });
          return z.NEVER;
        }
      }),
    ),
    z.array(item, allowed),
  );

function duplicates(values: string[]): string[] {
  return [...new Set(values.filter((value, index) => values.indexOf(value) !== index))];
}

/** What the ArtifactMirror construct passes (CloudFormation turns every value into a string). */
export const mirrorPropertiesSchema = z
  .object({
    Bucket: nonEmptyString('must be a bucket name'),
    KmsKeyArn: z.string('must be a KMS key ARN').check(z.startsWith('arn:', 'must be a KMS key ARN')),
    Artifacts: jsonList(artifactSchema, 'must be a JSON list of artifacts'),
    Bundles: z._default(jsonList(bundleSchema, 'must be a JSON list of bundles'), []),
    DeleteOnRemove: z.optional(cfnBoolean),
  })
  .check(
    z.superRefine((properties, ctx) => {
      if (properties.Artifacts.length === 0)
        ctx.addIssue({ code: 'custom', path: ['Artifacts'], message: 'must list at least one artifact', input: undefined });
      const all = [...properties.Artifacts, ...properties.Bundles];
      for (const field of ['name', 'key'] as const) {
        const repeated = duplicates(all.map((entry) => entry[field]));
        if (repeated.length > 0) ctx.addIssue({ code: 'custom', path: ['Artifacts'], message: `duplicate ${field}: ${repeated.join(', ')}`, input: undefined });
      }
      const names = new Set(properties.Artifacts.map((artifact) => artifact.name));
      for (const bundle of properties.Bundles) {
        const unknown = bundle.parts.filter((part) => !names.has(part.artifact)).map((part) => part.artifact);
        if (unknown.length > 0)
          ctx.addIssue({ code: 'custom', path: ['Bundles'], message: `${bundle.name} needs unknown artifact(s) ${unknown.join(', ')}`, input: undefined });
      }
    }),
  );

export type MirrorProperties = z.infer<typeof mirrorPropertiesSchema>;
