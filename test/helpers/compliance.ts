import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { createApp } from '../../lib/app/build-app';
import { applyCompliance } from '../../lib/compliance/apply-compliance';

export interface Finding {
  readonly plugin: string;
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
}

/**
 * A test App wired like the real one: the cdk-nag packs of applyCompliance, writing to a
 * throwaway directory. Construct tests skip esbuild bundling (templates and findings do not depend on
 * bundle contents) and, unless asked, CloudFormation's built-in template validation, whose WASM engine
 * costs ~1.5 s to start in every test file: the stage-level tests (test/app, test/stacks) run it over
 * every construct as the app wires it. Pass `{ 'aws:cdk:bundling-stacks': ['**'] }` to bundle here too.
 */
export function newCompliantTestApp(context: Record<string, unknown> = {}, options: { templateValidation?: boolean } = {}): App {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-test-'));
  const app = createApp({
    outdir,
    context: { 'aws:cdk:bundling-stacks': [], ...context },
    builtinCloudFormationValidation: options.templateValidation ?? false,
  });
  applyCompliance(app);
  return app;
}

/** Synthesizes the app and returns every unacknowledged finding (empty when compliant). */
export function synthFindings(app: App): Finding[] {
  try {
    app.synth({ force: true });
    return [];
  } catch (error) {
    const reportPath = path.join(app.outdir, 'validation-report.json');
    if (!fs.existsSync(reportPath)) throw error;
    const report = JSON.parse(fs.readFileSync(reportPath, 'utf8')) as {
      pluginReports: Array<{
        pluginName: string;
        violations: Array<{ ruleName: string; severity: string; violatingConstructs: Array<{ constructPath: string }> }>;
      }>;
    };
    return report.pluginReports.flatMap((r) =>
      r.violations.flatMap((v) => v.violatingConstructs.map((c) => ({ plugin: r.pluginName, rule: v.ruleName, severity: v.severity, path: c.constructPath }))),
    );
  }
}

/** Human-readable list of findings for a failing assertion. */
export function formatFindings(findings: Finding[]): string {
  return findings.map((f) => `${f.severity} ${f.rule} at ${f.path}`).join('\n');
}
