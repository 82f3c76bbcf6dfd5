import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, createApp } from '../../lib/app/build-app';
import type { LakestreamStage } from '../../lib/app/lakestream-stage';
import type { EnvironmentEntry } from '../../lib/config/environments';
import { synthFindings, type Finding } from './compliance';

export interface SynthOptions {
  /** `-c env=` value. @default 'dev' */
  readonly env?: string;
  /** `-c owner=` value. */
  readonly owner?: string;
  /** Replace the environment table (variants such as an imported VPC). */
  readonly environments?: Record<string, EnvironmentEntry>;
  /** Fixed account so templates are deterministic. @default '111111111111' */
  readonly account?: string;
  /** Run esbuild for every function, as `cdk synth` does. @default false (templates do not depend on it) */
  readonly bundle?: boolean;
}

export interface SynthResult {
  readonly app: App;
  readonly stages: LakestreamStage[];
  /** Every unacknowledged cdk-nag or template-validation finding, warnings included. */
  readonly findings: Finding[];
  /** Template of a stage's stack, e.g. template('dev', 'Data'). */
  template(stage: string, stack: string): Template;
}

/** Synthesizes the real app the way `cdk synth` does (compliance packs on, real bundling). */
export function synthApp(options: SynthOptions = {}): SynthResult {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-app-'));
  const context: Record<string, unknown> = { env: options.env ?? 'dev', account: options.account ?? '111111111111' };
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  if (options.owner) context.owner = options.owner;
  const app = createApp({ outdir, context });
  const stages = buildApp(app, { environments: options.environments, processEnv: {} });
  const findings = synthFindings(app);
  const templates = new Map<string, Template>();
  return {
    app,
    stages,
    findings,
    template(stageName: string, stackId: string): Template {
      const key = `${stageName}/${stackId}`;
      let t = templates.get(key);
      if (!t) {
        const stage = stages.find((s) => s.stageName === stageName);
        if (!stage) throw new Error(`no stage ${stageName}`);
        const stack = stage.node.findChild(stackId) as import('aws-cdk-lib').Stack;
        const artifact = stage.synth().getStackArtifact(stack.artifactId);
        t = Template.fromJSON(artifact.template as Record<string, unknown>);
        templates.set(key, t);
      }
      return t;
    },
  };
}

/** Replaces content hashes (asset keys) so snapshots change only when a template really does. */
export function normalizeTemplate(template: unknown): unknown {
  return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}/g, '<hash>'));
}
