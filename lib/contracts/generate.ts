import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkContractEvolution } from './compatibility';
import { CONTRACT_NAMES, contractIndex, contractJsonSchema, contractSchemaPath, type ContractName } from './index';
import type { JsonSchema } from './json-schema';

/**
 * Writes the contracts' JSON Schemas to jobs/contracts/ for the Python jobs:
 *   npx tsx lib/contracts/generate.ts          write (refuses a breaking change without a version bump)
 *   npx tsx lib/contracts/generate.ts --check  only report what would change; exit 1 if anything would
 * The refusal matters: the contract test compares the code with the committed files, so letting
 * the generator overwrite them would also erase the evidence of the break.
 */
const REPOSITORY_ROOT = path.join(__dirname, '..', '..');

export interface GenerationResult {
  readonly written: string[];
  readonly unchanged: string[];
  readonly problems: string[];
}

export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function generateContracts(root: string, options: { write: boolean }): GenerationResult {
  const written: string[] = [];
  const unchanged: string[] = [];
  const problems: string[] = [];
  const files: Array<[string, string]> = [];
  for (const name of CONTRACT_NAMES) {
    const file = path.join(root, contractSchemaPath(name));
    const generated = contractJsonSchema(name);
    const committed = readCommitted(file);
    if (committed !== undefined) problems.push(...checkContractEvolution(name, committed, generated));
    files.push([file, renderJson(generated)]);
  }
  files.push([path.join(root, 'jobs/contracts/contracts.json'), renderJson(contractIndex())]);
  for (const [file, content] of files) {
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    if (current === content) unchanged.push(file);
    else written.push(file);
  }
  if (options.write && problems.length === 0) {
    for (const [file, content] of files) {
      if (!written.includes(file)) continue;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
    }
  }
  return { written, unchanged, problems };
}

function readCommitted(file: string): JsonSchema | undefined {
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as JsonSchema;
}

export function isContractName(name: string): name is ContractName {
  return (CONTRACT_NAMES as string[]).includes(name);
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  const result = generateContracts(REPOSITORY_ROOT, { write: !check });
  const relative = (file: string) => path.relative(REPOSITORY_ROOT, file);
  if (result.problems.length > 0) {
    console.error(`Refusing to publish contracts with breaking changes:\n  ${result.problems.join('\n  ')}`);
    process.exit(1);
  }
  if (check && result.written.length > 0) {
    console.error(`Out of date (run npx tsx lib/contracts/generate.ts): ${result.written.map(relative).join(', ')}`);
    process.exit(1);
  }
  console.log(`${check ? 'Up to date' : 'Written'}: ${(check ? result.unchanged : result.written).map(relative).join(', ') || 'nothing changed'}`);
}
