import { App, AppProps } from 'aws-cdk-lib';
import featureFlags from './feature-flags.json';
import { applyCompliance, type ApplyComplianceOptions } from '../compliance/apply-compliance';
import { loadEnvironment, selectEnvironmentNames, type LoadOptions } from '../config/load-config';
import { LakestreamStage } from './lakestream-stage';

function contextString(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

/** Options of buildApp: how environments load, plus what applyCompliance takes. */
export interface BuildAppOptions extends Omit<LoadOptions, 'owner' | 'account' | 'region'>, ApplyComplianceOptions {}

/**
 * Adds one LakestreamStage per selected environment to the app, with the compliance packs on.
 * Context: `env` (a name or `all`), `owner` (sandbox suffix), `account`, `region`.
 */
export function buildApp(app: App, options: BuildAppOptions = {}): LakestreamStage[] {
  const { sourceFingerprint, ...environmentOptions } = options;
  const names = selectEnvironmentNames(contextString(app, 'env'), environmentOptions.environments);
  const loadOptions: LoadOptions = {
    ...environmentOptions,
    owner: contextString(app, 'owner'),
    account: contextString(app, 'account'),
    region: contextString(app, 'region'),
  };
  const configs = names.map((name) => loadEnvironment(name, loadOptions));
  // Before the stages: template validation starts its engines now, alongside construction.
  applyCompliance(app, { sourceFingerprint });
  return configs.map((config) => new LakestreamStage(app, config.stageName, { config }));
}

/**
 * An App with the project's pinned feature flags as default context (CLI `-c` values still win).
 * Pinned rather than read from aws-cdk-lib at run time, so an upgrade never flips a flag silently.
 */
export function createApp(props: AppProps = {}): App {
  return new App({
    ...props,
    context: { ...featureFlags, ...props.context },
    // The CDK CLI asks apps to only report validation errors; Lakestream fails synth on them instead.
    postCliContext: { '@aws-cdk/core:failSynthOnValidationErrors': true, ...props.postCliContext },
  });
}
