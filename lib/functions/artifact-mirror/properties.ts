import * as z from 'zod';
import { cfnBoolean } from '../shared/custom-resource';

const artifactSchema = z
  .strictObject({
    name: z.string().min(1),
    key: z.string().min(1).refine((key) => !key.startsWith('/'), 'must be a relative object key'),
    url: z.string().min(1).optional(),
    sourceS3Uri: z.string().startsWith('s3://').optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters').optional(),
    sha512: z.string().regex(/^[0-9a-f]{128}$/, 'must be 128 lower-case hex characters').optional(),
  })
  .refine((artifact) => (artifact.url === undefined) !== (artifact.sourceS3Uri === undefined), {
    message: 'needs exactly one of url or sourceS3Uri',
  })
  .refine((artifact) => artifact.sha256 !== undefined || artifact.sha512 !== undefined, {
    message: 'needs a pinned sha256 or sha512',
  });

export type MirroredArtifact = z.infer<typeof artifactSchema>;

const artifactListSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.array(artifactSchema).min(1, 'must list at least one artifact'))
  .superRefine((artifacts, ctx) => {
    for (const field of ['name', 'key'] as const) {
      const values = artifacts.map((artifact) => artifact[field]);
      const duplicates = [...new Set(values.filter((value, index) => values.indexOf(value) !== index))];
      if (duplicates.length > 0) ctx.addIssue({ code: 'custom', message: `duplicate ${field}: ${duplicates.join(', ')}` });
    }
  });

/** What the ArtifactMirror construct passes (CloudFormation turns every value into a string). */
export const mirrorPropertiesSchema = z.object({
  Bucket: z.string().min(1),
  KmsKeyArn: z.string().startsWith('arn:'),
  Artifacts: artifactListSchema,
  DeleteOnRemove: cfnBoolean.optional(),
});

export type MirrorProperties = z.infer<typeof mirrorPropertiesSchema>;
