/**
 * Handlers and jobs never log user ids or raw records (GDPR: logs are kept longer than the erasure
 * deadline and cannot be erased per person). Every logging call's arguments are read from the
 * sources and checked for identifiers that carry personal data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
/** Names whose values are personal data: ids, raw records and payloads, keys of per-user records. */
const PERSONAL = /\b(user_?ids?|userIds?|raw_?records?|rawRecord|payload|record\.value|message\.value)\b/i;

function files(dir: string, ext: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'tests' || e.name === '__pycache__' ? [] : files(full, ext);
    return e.name.endsWith(ext) ? [full] : [];
  });
}

/** The argument text of every call to one of `callees`, balanced over parentheses and lines. */
function loggingCalls(source: string, callees: RegExp): string[] {
  const calls: string[] = [];
  for (const match of source.matchAll(callees)) {
    let depth = 0;
    let i = match.index! + match[0].length - 1;
    const start = i;
    for (; i < source.length; i += 1) {
      if (source[i] === '(') depth += 1;
      else if (source[i] === ')' && --depth === 0) break;
    }
    calls.push(source.slice(start, i + 1));
  }
  return calls;
}

const TS_LOGGING = /\b(logger|console)\.(info|warn|error|debug|log|appendKeys|addContext)\(/g;
const PY_LOGGING = /\b(print|logger\.\w+|logging\.\w+|log\.\w+)\(/g;

function offenders(paths: string[], callees: RegExp): string[] {
  return paths.flatMap((file) =>
    loggingCalls(fs.readFileSync(file, 'utf8'), callees)
      .filter((call) => PERSONAL.test(call))
      .map((call) => `${path.relative(ROOT, file)}: ${call.replace(/\s+/g, ' ').slice(0, 160)}`),
  );
}

describe('no personal data in logs', () => {
  test('the detector finds a logged user id or raw record, across lines', () => {
    const bad = "logger.info('erasing', {\n  requestId,\n  userIds: request.userIds,\n});\nlogger.info('ok', { count });";
    expect(loggingCalls(bad, TS_LOGGING).filter((c) => PERSONAL.test(c))).toHaveLength(1);
    expect(loggingCalls('print(f"rejected {row.raw_record}")', PY_LOGGING).filter((c) => PERSONAL.test(c))).toHaveLength(1);
    expect(loggingCalls("logger.info('done', { requestId, subjects: result.subjectCount })", TS_LOGGING).filter((c) => PERSONAL.test(c))).toHaveLength(0);
  });

  test('Lambda handlers log no user id, record or payload', () => {
    expect(offenders(files(path.join(ROOT, 'lib', 'functions'), '.ts'), TS_LOGGING)).toEqual([]);
  });

  test('Spark and Flink jobs print no user id or raw record', () => {
    expect(offenders(files(path.join(ROOT, 'jobs'), '.py'), PY_LOGGING)).toEqual([]);
  });
});
