import { csvRowToLoginEvent, parseCsvHeader, splitCsvLine } from '../../lib/functions/file-replay/csv';
import { detectCompression, detectFormat, firstLineOf, planRanges } from '../../lib/functions/file-replay/plan';
import { summarizeRun } from '../../lib/functions/file-replay/summary';
import { checkpointKey, normalizeEtag, quarantineKey } from '../../lib/functions/file-replay/storage-keys';

describe('splitCsvLine', () => {
  it.each<[string, string[] | string]>([
    ['a,b,c', ['a', 'b', 'c']],
    ['a,,c', ['a', '', 'c']],
    [',', ['', '']],
    ['"a,b",c', ['a,b', 'c']],
    ['"say ""hi""",x', ['say "hi"', 'x']],
    ['x,""', ['x', '']],
    ['"a"b,c', 'unexpected character after closing quote at column 4'],
    ['"abc', 'unterminated quoted field'],
    ['ab"c,d', 'quote inside unquoted field at column 1'],
  ])('%j', (line, expected) => {
    expect(splitCsvLine(line)).toEqual(expected);
  });
});

describe('parseCsvHeader', () => {
  it('accepts the required, optional and attribute columns, in any order', () => {
    expect(parseCsvHeader('\uFEFFuser_id, event_id ,event_time,attributes.country,source')).toEqual([
      'user_id',
      'event_id',
      'event_time',
      'attributes.country',
      'source',
    ]);
  });

  it.each([
    ['event_id,user_id', 'missing column(s) event_time'],
    ['event_id,user_id,event_time,email', 'unknown column(s) email'],
    ['event_id,user_id,event_time,attributes.', 'unknown column(s) attributes.'],
    ['event_id,user_id,event_time,user_id', 'duplicate column(s) user_id'],
  ])('refuses %j', (header, message) => {
    expect(() => parseCsvHeader(header)).toThrow(message);
  });
});

describe('csvRowToLoginEvent', () => {
  const columns = ['event_id', 'user_id', 'event_time', 'schema_version', 'attributes.country', 'attributes.device'];

  it('maps columns, defaults source and version, and leaves empty attributes out', () => {
    expect(csvRowToLoginEvent(columns, ['e', 'u', 't', '', 'NL', ''])).toEqual({
      event_id: 'e',
      user_id: 'u',
      event_time: 't',
      source: 'replay',
      schema_version: 1,
      attributes: { country: 'NL' },
    });
    expect(csvRowToLoginEvent(columns, ['e', 'u', 't', '2', '', ''])).toEqual({
      event_id: 'e',
      user_id: 'u',
      event_time: 't',
      source: 'replay',
      schema_version: 2,
    });
  });

  it('keeps a non-numeric version as text for the contract to reject, and refuses a wrong field count', () => {
    expect(csvRowToLoginEvent(columns, ['e', 'u', 't', 'v1', '', ''])).toMatchObject({ schema_version: 'v1' });
    expect(csvRowToLoginEvent(columns, ['e'])).toBe('expected 6 fields, found 1');
  });
});

describe('planning helpers', () => {
  it('detects gzip by its magic bytes only', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(detectCompression(Buffer.from('{"a":1}'))).toBe('none');
  });

  it.each<[string, string | undefined, string, string]>([
    ['in/a.csv.gz', undefined, '{', 'csv'],
    ['in/a.ndjson', undefined, 'a,b', 'jsonl'],
    ['in/a.JSON', undefined, 'a,b', 'jsonl'],
    ['in/a', 'text/csv', '{', 'csv'],
    ['in/a', 'application/x-ndjson', 'a,b', 'jsonl'],
    ['in/a.txt', undefined, '\uFEFF  {"event_id":1}', 'jsonl'],
    ['in/a.txt', undefined, 'event_id,user_id', 'csv'],
  ])('format of %s (%s, first line %j) is %s', (key, contentType, firstLine, format) => {
    expect(detectFormat(key, contentType, firstLine)).toBe(format);
  });

  it('finds the first line, and says when it has not seen its end', () => {
    expect(firstLineOf(Buffer.from('h1,h2\r\nx'), false)).toEqual({ text: 'h1,h2', length: 7, terminated: true });
    expect(firstLineOf(Buffer.from('h1,h2'), true)).toEqual({ text: 'h1,h2', length: 5, terminated: false });
    expect(firstLineOf(Buffer.from('h1,h2'), false)).toBeUndefined();
  });

  it('cuts plain content into ranges from the first data byte, numbering only the first', () => {
    expect(planRanges({ compression: 'none', size: 250, contentStart: 20, firstLineNumber: 2, rangeSizeBytes: 100, maxRanges: 10 })).toEqual([
      { index: 0, start: 20, end: 120, firstLineNumber: 2 },
      { index: 1, start: 120, end: 220, firstLineNumber: null },
      { index: 2, start: 220, end: 250, firstLineNumber: null },
    ]);
    expect(planRanges({ compression: 'gzip', size: 250, contentStart: 20, firstLineNumber: 2, rangeSizeBytes: 100, maxRanges: 10 })).toEqual([
      { index: 0, start: 20, end: null, firstLineNumber: 2 },
    ]);
  });
});

describe('storage keys', () => {
  it('strips quotes and weak markers from ETags', () => {
    expect(normalizeEtag('W/"abc-3"')).toBe('abc-3');
  });

  it('keeps the source key readable, and hashes it only when S3 key length demands', () => {
    expect(quarantineKey({ key: 'incoming/a.jsonl', etag: 'e' }, { index: 2 }, 512)).toBe('quarantine/incoming/a.jsonl/e/range-2/512.jsonl');
    expect(checkpointKey({ key: 'incoming/a.jsonl.gz', etag: 'e' }, { start: 0, end: null })).toBe('_replay/checkpoints/incoming/a.jsonl.gz/e/0-eof.json');
    const long = checkpointKey({ key: `incoming/${'k'.repeat(1020)}`, etag: 'e' }, { start: 0, end: 10 });
    expect(long).toMatch(/^_replay\/checkpoints\/_by-hash\/[0-9a-f]{64}\/e\/0-10\.json$/);
  });
});

describe('summarizeRun', () => {
  it('adds up the ranges and measures from the execution start', () => {
    const summary = summarizeRun(
      {
        object: { bucket: 'b', key: 'k', etag: 'e', size: 10, format: 'jsonl', compression: 'none' },
        skippedReason: null,
        results: [
          { rangeIndex: 0, totals: { records: 3, rejected: 1, bytes: 5 } },
          { rangeIndex: 1, totals: { records: 2, rejected: 0, bytes: 5 } },
        ],
        startedAt: '2024-06-01T00:00:00.000Z',
      },
      new Date('2024-06-01T00:01:30.000Z'),
    );
    expect(summary).toEqual({ bucket: 'b', key: 'k', etag: 'e', ranges: 2, records: 5, rejected: 1, bytes: 10, durationSeconds: 90 });
  });

  it('reports a skipped run', () => {
    expect(summarizeRun({ object: null, skippedReason: 'empty object', results: [], startedAt: 'x' }, new Date())).toEqual({
      ranges: 0,
      records: 0,
      rejected: 0,
      bytes: 0,
      durationSeconds: 0,
      skippedReason: 'empty object',
    });
  });
});
