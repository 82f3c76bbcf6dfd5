import * as z from 'zod/mini';
import { cfnBoolean } from '../shared/custom-resource';

// zod/mini has no English messages built in: every check says what is allowed.
const nonEmptyString = (allowed = 'must be a non-empty string') => z.string(allowed).check(z.minLength(1, allowed));
const hexDigest = (length: number) =>
  z.optional(z.string(`must be ${length} lower-case hex characters`).check(z.regex(new RegExp(`^[0-9a-f]{${length}}$`), `must be ${length} lower-case hex characters`)));

const ARTIFACT_FIELDS = 'name, key, url, sourceS3Uri, sha256, sha512';

const artifactSchema = z
  .strictObject(
    {
      name: nonEmptyString(),
      key: nonEmptyString().check(z.refine((key) => !key.startsWith('/'), 'must be a relative object key')),
      url: z.optional(nonEmptyString()),
      sourceS3Uri: z.optional(z.string("must be an s3:// URI").check(z.startsWith('s3://', "must be an s3:// URI"))),
      sha256: hexDigest(64),
      sha512: hexDigest(128),
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
    z.refine((artifact) => artifact.sha256 !== undefined || artifact.sha512 !== undefined, 'needs a pinned sha256 or sha512'),
  );

export type MirroredArtifact = z.infer<typeof artifactSchema>;

const ARTIFACT_LIST = 'must be a JSON list of artifacts';

const artifactListSchema = z.pipe(
  z.pipe(
    z.string(ARTIFACT_LIST),
    z.transform((text: string, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.issues.push({ code: 'custom', message: 'is not valid JSON', input: text });
        return z.NEVER;
      }
    }),
  ),
  z.array(artifactSchema, ARTIFACT_LIST).check(
    z.minLength(1, 'must list at least one artifact'),
    z.superRefine((artifacts, ctx) => {
      for (const field of ['name', 'key'] as const) {
        const values = artifacts.map((artifact) => artifact[field]);
        const duplicates = [...new Set(values.filter((value, index) => values.indexOf(value) !== index))];
        if (duplicates.length > 0) ctx.addIssue({ code: 'custom', message: `duplicate ${field}: ${duplicates.join(', ')}` });
      }
    }),
  ),
);

/** What the ArtifactMirror construct passes (CloudFormation turns every value into a string). */
export const mirrorPropertiesSchema = z.object({
  Bucket: nonEmptyString('must be a bucket name'),
  KmsKeyArn: z.string('must be a KMS key ARN').check(z.startsWith('arn:', 'must be a KMS key ARN')),
  Artifacts: artifactListSchema,
  DeleteOnRemove: z.optional(cfnBoolean),
});

export type MirrorProperties = z.infer<typeof mirrorPropertiesSchema>;
