import type { ResolvedEnvironment } from '../config/load-config';
import { createAwsClients, type AwsClients, type ClientRegions } from './common/aws-clients';
import type { TemplateLike } from './cost/estimate';
import type { DeploymentMap } from './common/deployment';
import type { OpsClients } from './common/ops-clients';
import type { PreflightRequirements } from './preflight/requirements';

/** The CLI's I/O, injected so tests run every command against mocks and capture its output. */
export interface CliDependencies {
  readonly createAwsClients: (regions: ClientRegions) => AwsClients;
  readonly synthesizeRequirements: (config: ResolvedEnvironment) => PreflightRequirements;
  readonly stdout: (text: string) => void;
  /** Where progress and errors go. */
  readonly stderr: NodeJS.WriteStream;
  readonly processEnv: NodeJS.ProcessEnv;
  /** Suppress the progress display even without --json. @default false */
  readonly quiet?: boolean;
  /** Clients of status, smoke and replay. @default real clients with the default credential chain */
  readonly createOpsClients?: (region: string) => OpsClients;
  /** Names and logical ids of the deployed stage. @default constructs the stage in-process */
  readonly describeDeployment?: (config: ResolvedEnvironment) => DeploymentMap;
  /** Templates of the stage, for `cost`. @default synthesizes the stage in-process */
  readonly synthesizeTemplates?: (config: ResolvedEnvironment) => TemplateLike[];
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** How polling waits. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export function defaultDependencies(): CliDependencies {
  return {
    createAwsClients,
    // Loaded on first use: synthesizing pulls in the whole CDK app, which `--help` does not need.
    synthesizeRequirements: (config) => (require('./preflight/command') as typeof import('./preflight/command')).synthesizeRequirements(config),
    stdout: (text) => process.stdout.write(text),
    stderr: process.stderr,
    processEnv: process.env,
  };
}
