import { Batcher, encodedRecordBytes } from '../../lib/functions/file-replay/batcher';
import { EnvelopeEncoder } from '../../lib/functions/file-replay/envelope';

const object = { bucket: 'landing', key: 'in/logins "2024".jsonl', etag: 'abc123' };
const replayedAt = new Date('2024-05-01T12:00:00.000Z');
const record = '{"event_id":"ga4:1","user_id":"u-\u00e9"}';

/** What the envelope must be: the schema's fields around the record's text, offset in plain decimal. */
function expectedEnvelope(offset: number): string {
  return (
    `{"source_bucket":"landing","source_key":${JSON.stringify(object.key)},"source_etag":"abc123","replayed_at":"2024-05-01T12:00:00.000Z",` +
    `"schema_version":1,"source_offset":${String(offset)},"record":${record}}`
  );
}

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

describe('EnvelopeEncoder', () => {
  const edges = [
    0,
    1,
    9,
    10,
    99,
    100,
    999,
    1000,
    1001,
    9999,
    10_000,
    100_007,
    999_999,
    1_000_000,
    1_000_001,
    1_000_999,
    1_001_000,
    1_999_999,
    2_000_000,
    123_456_789,
    1_000_000_000,
    2 ** 31,
    2 ** 40 + 17,
    Number.MAX_SAFE_INTEGER,
  ];

  it('renders every offset exactly as its decimal text, in any order of offsets', () => {
    const next = random(7);
    const offsets = [...edges, ...[...edges].reverse()];
    for (let i = 0; i < 5000; i++) offsets.push(Math.floor(next() * 10 ** Math.floor(next() * 16)));
    // Increasing runs inside one million (the common case) next to jumps back and forth.
    for (let offset = 4_999_990; offset < 5_001_010; offset += 7) offsets.push(offset);
    const encoder = new EnvelopeEncoder(object, replayedAt);
    const wrong = offsets.filter((offset) => encoder.wrap(offset, record) !== expectedEnvelope(offset));
    expect(wrong).toEqual([]);
  });

  it('predicts the UTF-8 size of every envelope it builds', () => {
    const encoder = new EnvelopeEncoder(object, replayedAt);
    const recordBytes = Buffer.byteLength(record);
    for (const offset of edges) expect(encoder.byteLength(offset, recordBytes)).toBe(Buffer.byteLength(encoder.wrap(offset, record)));
  });

  it('parses back to the envelope fields with the record untouched', () => {
    const envelope = JSON.parse(new EnvelopeEncoder(object, replayedAt).wrap(1_234_567, record)) as Record<string, unknown>;
    expect(envelope).toEqual({
      source_bucket: 'landing',
      source_key: object.key,
      source_etag: 'abc123',
      replayed_at: '2024-05-01T12:00:00.000Z',
      schema_version: 1,
      source_offset: 1_234_567,
      record: JSON.parse(record),
    });
  });
});

describe('Batcher', () => {
  it('keeps every batch intact while reusing its record slots', () => {
    const encoder = new EnvelopeEncoder(object, replayedAt);
    const batcher = new Batcher({ maxRecords: 3, maxBytes: 1_000_000, maxRejectBytes: 1_000_000 }, encoder, 0, 1);
    const texts = Array.from({ length: 8 }, (_, i) => `{"n":${i}}`);
    texts.forEach((text, i) => {
      batcher.addRecord(`k${i}`, text, text.length, i * 10, i * 10 + 10, i + 1);
    });
    batcher.seal();
    const batches = batcher.takeSealed();
    expect(batches.map((batch) => batch.records.map((r) => r.key))).toEqual([
      ['k0', 'k1', 'k2'],
      ['k3', 'k4', 'k5'],
      ['k6', 'k7'],
    ]);
    expect(batches.flatMap((batch) => batch.records.map((r) => r.value))).toEqual(texts.map((text, i) => encoder.wrap(i * 10, text)));
    expect(batches.map((batch) => [batch.nextOffset, batch.nextLineNumber])).toEqual([
      [30, 4],
      [60, 7],
      [80, 9],
    ]);
    // Encoded size: key, value and record framing of each record.
    expect(batches.map((batch) => batch.bytes)).toEqual(
      [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7],
      ].map((ids) => ids.reduce((sum, i) => sum + encodedRecordBytes(`k${i}`.length, encoder.byteLength(i * 10, texts[i].length)), 0)),
    );
  });

  it('seals a batch before the record that would take it past the byte limit', () => {
    const encoder = new EnvelopeEncoder(object, replayedAt);
    const texts = Array.from({ length: 5 }, (_, i) => `{"n":${i}}`);
    const one = encodedRecordBytes(2, encoder.byteLength(0, texts[0].length));
    const batcher = new Batcher({ maxRecords: 100, maxBytes: 2 * one + 1, maxRejectBytes: 1_000_000 }, encoder, 0, 1);
    for (const [i, text] of texts.entries()) batcher.addRecord(`k${i}`, text, text.length, i, i + 1, i + 1);
    batcher.seal();
    const batches = batcher.takeSealed();
    expect(batches.map((batch) => batch.records.length)).toEqual([2, 2, 1]);
    for (const batch of batches) expect(batch.bytes).toBeLessThanOrEqual(2 * one + 1);
    // The second batch starts at the line whose record did not fit the first.
    expect(batches.map((batch) => batch.nextOffset)).toEqual([2, 4, 5]);
  });
});
