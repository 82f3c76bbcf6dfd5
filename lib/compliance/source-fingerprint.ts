import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

const PROJECT_ROOT = path.join(__dirname, '..', '..');

/** Folders the app reads while it is constructed (code, jobs, SQL, rules, dashboards). */
const SOURCE_FOLDERS = ['bin', 'lib', 'jobs', 'dashboards'];

/** Single files that change what the app builds: its command, compiler settings, installed packages. */
const SOURCE_FILES = ['cdk.json', 'tsconfig.json', 'package-lock.json', path.join('node_modules', '.package-lock.json')];

/** Environment variables that reach the app: the CLI's context and account/region, and Lakestream's switches. */
function relevantEnvironment(environment: NodeJS.ProcessEnv): string[] {
  return Object.keys(environment)
    .filter(
      (name) => (name.startsWith('CDK_') || name.startsWith('LAKESTREAM_') || name === 'AWS_REGION' || name === 'AWS_DEFAULT_REGION') && name !== 'CDK_OUTDIR',
    )
    .sort()
    .map((name) => `${name}=${environment[name]}`);
}

function statTree(root: string, folder: string, into: string[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(folder, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== '__pycache__' && entry.name !== 'node_modules') statTree(root, full, into);
    } else {
      statFile(root, full, into);
    }
  }
}

function statFile(root: string, file: string, into: string[]): void {
  try {
    const stat = fs.statSync(file);
    into.push(`${path.relative(root, file)}\0${stat.size}\0${stat.mtimeMs}`);
  } catch {
    into.push(`${path.relative(root, file)}\0absent`);
  }
}

/**
 * A cheap digest (~280 stat calls, a few milliseconds) of what decides the app's templates: the size
 * and modification time of every source file, the installed packages, the command line and the
 * environment the CDK CLI passes (context, account, region). Two runs with the same fingerprint
 * almost always produce the same templates; it only predicts, so a wrong guess costs speed, never
 * correctness (see ParallelTemplateValidation).
 */
export function sourceFingerprint(argv: readonly string[] = process.argv, environment: NodeJS.ProcessEnv = process.env, root: string = PROJECT_ROOT): string {
  const parts: string[] = [];
  for (const folder of SOURCE_FOLDERS) statTree(root, path.join(root, folder), parts);
  for (const file of SOURCE_FILES) statFile(root, path.join(root, file), parts);
  const hash = createHash('sha256');
  for (const part of [...parts, '\u0001', ...argv.slice(1), '\u0001', ...relevantEnvironment(environment)]) hash.update(part).update('\n');
  return hash.digest('hex');
}
