import type { EnvironmentConfig } from './schema';
import { PROFILES, type ProfileDefaults } from './profiles';

/** Deep-partial overrides an environment applies on top of its profile. Arrays replace, not merge. */
export type Overrides<T> = { [K in keyof T]?: T[K] extends Array<unknown> ? T[K] : T[K] extends object ? Overrides<T[K]> : T[K] };

/** One environment entry: a name, the profile it derives from, and what it changes. */
export interface EnvironmentEntry {
  readonly tier: EnvironmentConfig['tier'];
  readonly account?: string;
  readonly overrides?: Overrides<ProfileDefaults>;
}

/**
 * The environments of this deployment. Adding one is a few lines: pick a tier, set what differs.
 * Personal sandboxes need no entry: `cdk deploy -c env=dev -c owner=alice`.
 */
export const ENVIRONMENTS: Record<string, EnvironmentEntry> = {
  dev: {
    tier: 'dev',
  },
  staging: {
    tier: 'prod',
    overrides: {
      // Production-shaped but smaller: same HA topology, cheaper brokers, shorter retention.
      network: { mode: 'create', cidr: '10.41.0.0/16', azCount: 3, natGateways: 1 },
      logRetentionDays: 90,
      flowLogRetentionDays: 90,
      kafka: { instanceType: 'kafka.m7g.large', ebsVolumeGiB: 100, storageAutoScalingMaxGiB: 500, defaultPartitions: 6 },
      flink: { parallelism: 2 },
      emr: {
        maxCpuVcpu: 64,
        maxMemoryGb: 256,
        maxDiskGb: 1000,
        preInitialized: undefined,
        // Peak: streaming 18 vCPU / 72 GB + a batch job 36 / 144 = 54 / 216 of 64 / 256.
        jobs: {
          streaming: { maxExecutors: 4 },
          landingToBronze: { maxExecutors: 8 },
          dailyReport: { maxExecutors: 8 },
        },
      },
      terminationProtection: false,
    },
  },
  prod: {
    tier: 'prod',
  },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merges overrides into a base; explicit `undefined` removes an optional field. */
export function deepMerge<T>(base: T, overrides: Overrides<T> | undefined): T {
  if (!overrides) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    const current = out[key];
    if (value === undefined) {
      delete out[key];
    } else if (isPlainObject(value) && isPlainObject(current) && !('mode' in value && value.mode !== current.mode)) {
      out[key] = deepMerge(current, value as Overrides<typeof current>);
    } else {
      out[key] = value;
    }
  }
  return out as T;
}

/** The profile defaults of a tier merged with an entry's overrides (not yet validated). */
export function expandEntry(name: string, entry: EnvironmentEntry): Record<string, unknown> {
  const profile = PROFILES[entry.tier];
  if (!profile) return { name, tier: entry.tier };
  return { name, tier: entry.tier, ...(entry.account ? { account: entry.account } : {}), ...deepMerge(profile, entry.overrides) };
}
