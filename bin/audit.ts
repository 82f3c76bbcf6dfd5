/**
 * `npm run audit`: synthesizes every environment offline and writes the security report to
 * .audit/report.md and .audit/report.json, then compares it with the committed baseline
 * (audit/baseline.json) and exits 1 when they differ, listing widened access and weakened
 * encryption first.
 *
 * `npm run audit -- --update-baseline` writes the report to audit/baseline.json and
 * audit/baseline.md instead: commit them with the change that caused the difference, so the
 * reviewer sees it in the diff.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BASELINE_JSON, BASELINE_MARKDOWN, diffBaseline, formatDiff } from '../lib/audit/baseline';
import { reportJson, reportMarkdown, runAudit, type AuditReport } from '../lib/audit/report';

const ROOT = path.join(__dirname, '..');

async function main(args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== '--update-baseline');
  if (unknown.length > 0) {
    console.error(`npm run audit: unknown option(s) ${unknown.join(' ')}; allowed: --update-baseline`);
    return 2;
  }
  const report = await runAudit();
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(ROOT, file)), { recursive: true });
    fs.writeFileSync(path.join(ROOT, file), text);
    console.log(`wrote ${file}`);
  };
  if (args.includes('--update-baseline')) {
    write(BASELINE_JSON, reportJson(report));
    write(BASELINE_MARKDOWN, reportMarkdown(report));
    return 0;
  }
  write('.audit/report.json', reportJson(report));
  write('.audit/report.md', reportMarkdown(report));
  const baselinePath = path.join(ROOT, BASELINE_JSON);
  if (!fs.existsSync(baselinePath)) {
    console.error(`no baseline at ${BASELINE_JSON}: run npm run audit -- --update-baseline and commit it`);
    return 1;
  }
  const diff = formatDiff(diffBaseline(JSON.parse(fs.readFileSync(baselinePath, 'utf8')) as AuditReport, report));
  if (diff === '') {
    console.log(`the report matches ${BASELINE_JSON}`);
    return 0;
  }
  console.error(
    `${diff}\n\nIf these changes are intended, run npm run audit -- --update-baseline and commit ${BASELINE_JSON} and ${BASELINE_MARKDOWN} with them.`,
  );
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
