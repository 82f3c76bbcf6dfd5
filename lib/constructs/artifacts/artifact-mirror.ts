import { Aws, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LakestreamFunction } from '../core/lakestream-function';
import { LakestreamProvider } from '../core/lakestream-provider';
import type { ArtifactSpec, ArtifactUse, BundleSpec } from './artifact-manifest';

/** Checksum files the mirror reads next to an S3 copy, strongest first (as in a Maven repository). */
const SIDECAR_SUFFIXES = ['.sha512', '.sha256', '.sha1'];

export interface ArtifactMirrorProps {
  /** The artifacts bucket (versioned and retained) that receives the artifacts. */
  readonly bucket: s3.IBucket;
  /** The KMS key of `bucket`; objects are written with SSE-KMS under it. */
  readonly bucketKey: kms.IKey;
  /** Artifacts to mirror, from `loadArtifactManifest()` (with pins from `applyPins()`), only those the environment uses. */
  readonly artifacts: readonly ArtifactSpec[];
  /** ZIPs to assemble from mirrored artifacts after they are verified; every part must be in `artifacts`. @default none */
  readonly bundles?: readonly BundleSpec[];
  /**
   * For accounts without internet access: an S3 location holding the same files under the same
   * keys, e.g. `s3://corp-mirror/lakestream`; each artifact is copied from `<sourceBucketUri>/<key>`
   * instead of downloaded, and verified against the checksum files next to it
   * (`<key>.sha512`, `.sha256` or `.sha1`, copied from the repository with the file) and its pin.
   * @default download from each artifact's URL
   */
  readonly sourceBucketUri?: string;
  /** KMS key that encrypts the objects under `sourceBucketUri`, if it is a customer-managed key. @default none */
  readonly sourceEncryptionKey?: kms.IKey;
  /** Key for the function's logs and environment (the environment's logs key). */
  readonly encryptionKey: kms.IKey;
  /** Retention of the function's logs. */
  readonly logRetention: logs.RetentionDays;
  /** VPC to run in; it needs a route to the artifact URLs (NAT) or to S3 (gateway endpoint) for copies. @default not in a VPC */
  readonly vpc?: ec2.IVpc;
  /** Subnets in `vpc`. @default private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Delete the mirrored objects when this resource is removed. The bucket is versioned and
   * retained, and other stacks' custom plugins may still point at the objects.
   * @default false
   */
  readonly deleteOnRemove?: boolean;
  /** Function timeout, 1 to 14 minutes; the handler stops 30 s before it with a message naming the artifact in progress. @default Duration.minutes(10) */
  readonly timeout?: Duration;
}

/**
 * Puts third-party artifacts (connector jars and plugin archives) into the artifacts bucket at
 * deploy time, from their URLs or from an S3 copy, each verified against the checksum its
 * publisher publishes (the strongest of SHA-512, SHA-256, SHA-1) and against its SHA-256 pin where
 * the lock file has one; a mismatch fails the deployment naming the artifact, the expected and the
 * actual checksum, and nothing is written. Then assembles bundles (ZIPs, e.g. the Debezium MSK
 * Connect plugin) from the verified artifacts. Nothing is downloaded at synth time.
 *
 * Consumers read keys with `objectKey(name)`, which is an attribute of the custom resource, so
 * CloudFormation creates the consumer only after the artifact is in place.
 */
export class ArtifactMirror extends Construct {
  /** The custom resource; depend on it (`node.addDependency(mirror.resource)`) where no key is read. */
  public readonly resource: CustomResource;
  public readonly handler: LakestreamFunction;
  public readonly bucket: s3.IBucket;
  private readonly artifactsByName: Map<string, ArtifactSpec | BundleSpec>;

  constructor(scope: Construct, id: string, props: ArtifactMirrorProps) {
    super(scope, id);
    this.bucket = props.bucket;
    this.artifactsByName = indexArtifacts(props.artifacts, props.bundles ?? []);
    const bundles = props.bundles ?? [];
    const source = props.sourceBucketUri === undefined ? undefined : parseSourceBucketUri(props.sourceBucketUri);
    const timeout = props.timeout ?? Duration.minutes(10);
    // The handler keeps 30 s back for reporting; the Provider framework waits for it at most 15 minutes.
    if (timeout.toSeconds() < 60 || timeout.toSeconds() > 14 * 60) {
      throw new Error(`ArtifactMirror timeout = ${timeout.toHumanString()} is not allowed (allowed: 1 to 14 minutes)`);
    }

    this.handler = new LakestreamFunction(this, 'Handler', {
      handlerDir: 'artifact-mirror',
      description: 'Mirrors third-party artifacts into the artifacts bucket, verifying their published checksums and pins',
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      timeout,
      // Throughput of hashing and of the two 8 MiB upload buffers; memory use does not grow with artifact
      // size (a bundle holds one member at a time).
      memorySize: 512,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      outsideVpcReason:
        'The artifact mirror downloads from public repositories on the internet (Maven, GitHub) and writes to S3; outside the VPC it needs no NAT path, and it reaches no VPC-only resource.',
    });

    const objectArns = [...props.artifacts, ...bundles].map((entry) => props.bucket.arnForObjects(entry.key));
    this.handler.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WriteMirroredArtifacts',
        // GetObject backs HeadObject (the already-mirrored check) and bundle assembly; multipart uploads need AbortMultipartUpload.
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', ...(props.deleteOnRemove ? ['s3:DeleteObject'] : [])],
        resources: objectArns,
      }),
    );
    props.bucketKey.grant(this.handler.function, 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey');

    if (source) {
      this.handler.function.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ReadArtifactSourceCopies',
          actions: ['s3:GetObject'],
          resources: props.artifacts.flatMap((artifact) =>
            ['', ...SIDECAR_SUFFIXES].map((suffix) => `arn:${Aws.PARTITION}:s3:::${source.bucket}/${source.prefix}${artifact.key}${suffix}`),
          ),
        }),
      );
      props.sourceEncryptionKey?.grantDecrypt(this.handler.function);
    }

    const provider = new LakestreamProvider(this, 'Provider', {
      onEvent: this.handler,
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ArtifactMirror',
      properties: {
        Bucket: props.bucket.bucketName,
        KmsKeyArn: props.bucketKey.keyArn,
        DeleteOnRemove: props.deleteOnRemove ? 'true' : 'false',
        Artifacts: JSON.stringify(
          props.artifacts.map((artifact) => ({
            name: artifact.name,
            key: artifact.key,
            ...(source ? { sourceS3Uri: `s3://${source.bucket}/${source.prefix}${artifact.key}` } : { url: artifact.url }),
            published: artifact.published.kind,
            ...(artifact.published.kind === 'github-release' ? { releaseUrl: artifact.published.releaseUrl, asset: artifact.published.asset } : {}),
            ...(artifact.sha256 ? { sha256: artifact.sha256 } : {}),
          })),
        ),
        Bundles: JSON.stringify(bundles.map((bundle) => ({ name: bundle.name, key: bundle.key, parts: bundle.parts }))),
      },
    });
  }

  /** The spec of one artifact or bundle. */
  public artifact(name: string): ArtifactSpec | BundleSpec {
    const artifact = this.artifactsByName.get(name);
    if (!artifact) {
      throw new Error(`ArtifactMirror ${this.node.path} does not mirror '${name}'; it mirrors ${[...this.artifactsByName.keys()].join(', ')}`);
    }
    return artifact;
  }

  /** Names of the mirrored artifacts (not bundles) a part of the platform uses, in manifest order. */
  public artifactsUsedBy(use: ArtifactUse): string[] {
    const names = [...this.artifactsByName.values()].filter((entry) => 'source' in entry && entry.usedBy.includes(use)).map((entry) => entry.name);
    if (names.length === 0) throw new Error(`ArtifactMirror ${this.node.path} mirrors no artifact used by ${use}`);
    return names;
  }

  /** Object key of an artifact, as a reference to the custom resource so that readers wait for the copy. */
  public objectKey(name: string): string {
    this.artifact(name);
    return this.resource.getAttString(`${name}.Key`);
  }

  /** `s3://bucket/key` of an artifact (also waits for the copy). */
  public s3Uri(name: string): string {
    return `s3://${this.bucket.bucketName}/${this.objectKey(name)}`;
  }

  /**
   * Object key of an artifact as a construct in `scope` must read it. In the mirror's own stack it
   * is `objectKey(name)`. In another stack it is the literal key plus a dependency on the mirror's
   * stack: an attribute read across stacks becomes an export, and CloudFormation refuses to update
   * or delete an export while another stack imports it, so a version bump (the key carries the
   * version) or turning a component off would fail the mirror's stack update. The dependency keeps
   * the order (the mirror's stack, and so the copy, completes first); Update never deletes old keys.
   */
  public objectKeyFor(scope: Construct, name: string): string {
    const consumer = Stack.of(scope);
    const own = Stack.of(this);
    if (consumer === own) return this.objectKey(name);
    consumer.addStackDependency(own, `reads mirrored artifact ${name}`);
    return this.artifact(name).key;
  }

  /** `s3://bucket/key` of an artifact as a construct in `scope` must read it (see `objectKeyFor`). */
  public s3UriFor(scope: Construct, name: string): string {
    return `s3://${this.bucket.bucketName}/${this.objectKeyFor(scope, name)}`;
  }

  /** ARN of the artifact's object, for IAM statements of its readers. */
  public objectArn(name: string): string {
    return this.bucket.arnForObjects(this.artifact(name).key);
  }
}

function indexArtifacts(artifacts: readonly ArtifactSpec[], bundles: readonly BundleSpec[]): Map<string, ArtifactSpec | BundleSpec> {
  if (artifacts.length === 0) {
    throw new Error('ArtifactMirror needs at least one artifact');
  }
  const byName = new Map<string, ArtifactSpec | BundleSpec>();
  const keys = new Set<string>();
  for (const entry of [...artifacts, ...bundles]) {
    if (byName.has(entry.name)) throw new Error(`Artifact name ${entry.name} is listed twice`);
    if (keys.has(entry.key)) throw new Error(`Artifact key ${entry.key} is used twice`);
    byName.set(entry.name, entry);
    keys.add(entry.key);
  }
  const artifactNames = new Set(artifacts.map((artifact) => artifact.name));
  for (const bundle of bundles) {
    const missing = bundle.parts.map((part) => part.artifact).filter((name) => !artifactNames.has(name));
    if (missing.length > 0) throw new Error(`Bundle ${bundle.name} needs artifact(s) ${missing.join(', ')}, which this mirror does not mirror`);
  }
  return byName;
}

interface SourceBucket {
  readonly bucket: string;
  /** Empty, or ending with '/'. */
  readonly prefix: string;
}

function parseSourceBucketUri(uri: string): SourceBucket {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*?))?\/?$/.exec(uri);
  if (!match) {
    throw new Error(`sourceBucketUri must look like s3://bucket or s3://bucket/prefix, got '${uri}'`);
  }
  const prefix = match[2] ?? '';
  return { bucket: match[1], prefix: prefix === '' ? '' : `${prefix}/` };
}
