import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as cxapi from 'aws-cdk-lib/cx-api';
import { createApp } from '../../app/build-app';
import { LakestreamStage } from '../../app/lakestream-stage';
import { ConfigError, loadEnvironment, type ResolvedEnvironment } from '../../config/load-config';
import { UsageError } from './exit-codes';

/** The options every environment-scoped command takes. */
export interface EnvironmentOptions {
  /** `--env NAME`: an entry of lib/config/environments.ts. */
  readonly env: string;
  /** `--owner NAME`: the personal sandbox derived from the environment. */
  readonly owner?: string;
  /** `--region NAME`: used only when the environment entry names no region (as `-c region=`). */
  readonly region?: string;
}

/**
 * Loads one environment with the same loader and derived names the CDK app uses. The CDK CLI
 * hands the app CDK_DEFAULT_ACCOUNT/REGION from the active profile; a plain `node` process has
 * only the SDK's variables, so the region falls back to AWS_REGION / AWS_DEFAULT_REGION the way
 * `cdk deploy` with the same profile would resolve it.
 */
export function resolveEnvironment(options: EnvironmentOptions, processEnv: NodeJS.ProcessEnv = process.env): ResolvedEnvironment {
  if (options.env === 'all') throw new UsageError('--env all is not allowed here: name one environment');
  const region = processEnv.CDK_DEFAULT_REGION ?? processEnv.AWS_REGION ?? processEnv.AWS_DEFAULT_REGION;
  try {
    return loadEnvironment(options.env, {
      owner: options.owner,
      region: options.region,
      processEnv: { CDK_DEFAULT_ACCOUNT: processEnv.CDK_DEFAULT_ACCOUNT, CDK_DEFAULT_REGION: region },
    });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * Synthesizes the environment's stage in-process, without Lambda bundling (the templates do not
 * depend on it) and without credentials, into a temporary folder that is removed afterwards. What
 * the commands need from it (resource types, the bootstrap version each artifact requires) is read
 * before the folder goes.
 */
export function synthesizeEnvironment<T>(config: ResolvedEnvironment, read: (assembly: cxapi.CloudAssembly) => T): T {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-cli-'));
  try {
    const app = createApp({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stage = new LakestreamStage(app, config.stageName, { config });
    return read(stage.synth());
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
