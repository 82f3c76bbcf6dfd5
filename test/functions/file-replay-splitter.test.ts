import { LineSplitter, type LineSplitterOptions } from '../../lib/functions/file-replay/line-splitter';

interface Seen {
  readonly text: string;
  readonly offset: number;
  readonly nextOffset: number;
  readonly index: number;
  readonly oversized?: boolean;
}

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** Feeds `content[readFrom..readTo)` in chunks of the given sizes, as a ranged read would. */
function split(
  content: Buffer,
  options: Omit<LineSplitterOptions, 'baseOffset'> & { readFrom: number; readTo: number },
  chunkSizes: () => number,
): { lines: Seen[]; stopped: boolean } {
  const lines: Seen[] = [];
  const splitter = new LineSplitter(
    { ...options, baseOffset: options.readFrom },
    (buffer, start, end, offset, nextOffset, index) => lines.push({ text: buffer.toString('utf8', start, end), offset, nextOffset, index }),
    (preview, offset, nextOffset, index) => lines.push({ text: preview.toString('utf8'), offset, nextOffset, index, oversized: true }),
  );
  for (let position = options.readFrom; position < options.readTo && !splitter.stopped; ) {
    const size = Math.max(1, chunkSizes());
    splitter.push(content.subarray(position, Math.min(options.readTo, position + size)));
    position += size;
  }
  splitter.end();
  return { lines, stopped: splitter.stopped };
}

function linesOf(text: string): Array<{ text: string; offset: number }> {
  const result: Array<{ text: string; offset: number }> = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    result.push({ text: line, offset });
    offset += Buffer.byteLength(line) + 1;
  }
  if (text.endsWith('\n')) result.pop();
  return result;
}

describe('LineSplitter', () => {
  it('hands out every line of a whole file with offsets, whatever the chunking', () => {
    const text = 'alpha\nbeta\n\ngamma délta\nlast-without-newline';
    const content = Buffer.from(text);
    for (const chunk of [1, 2, 3, 5, 64]) {
      const { lines } = split(content, { readFrom: 0, readTo: content.length, firstLineStart: 0, endOffset: Infinity, maxLineBytes: 100 }, () => chunk);
      expect(lines.map((l) => [l.text, l.offset])).toEqual(linesOf(text).map((l) => [l.text, l.offset]));
      expect(lines.map((l) => l.index)).toEqual([0, 1, 2, 3, 4]);
      expect(lines[lines.length - 1].nextOffset).toBe(content.length);
    }
  });

  it('across any partition into ranges, each line is handed out once: by the range it starts in', () => {
    const next = random(3);
    for (let trial = 0; trial < 200; trial++) {
      const lineCount = 1 + Math.floor(next() * 30);
      const texts = Array.from({ length: lineCount }, () => 'x'.repeat(Math.floor(next() * 40)));
      const text = texts.join('\n') + (next() < 0.5 ? '\n' : '');
      const content = Buffer.from(text);
      const cuts = [0, ...Array.from({ length: Math.floor(next() * 8) }, () => Math.floor(next() * content.length)), content.length].sort((a, b) => a - b);
      const seen: Seen[] = [];
      for (let i = 0; i < cuts.length - 1; i++) {
        const [start, end] = [cuts[i], cuts[i + 1]];
        if (start >= end) continue;
        // As the worker reads a plain range: from one byte before its start, up to a line's length past its end.
        const readFrom = start > 0 ? start - 1 : 0;
        const readTo = Math.min(content.length, end + 100 + 1);
        seen.push(...split(content, { readFrom, readTo, firstLineStart: start, endOffset: end, maxLineBytes: 100 }, () => 1 + Math.floor(next() * 16)).lines);
      }
      expect(seen.map((l) => [l.text, l.offset])).toEqual(linesOf(text).map((l) => [l.text, l.offset]));
    }
  });

  it('drops the partial line at a range start and finishes its last line past the range end', () => {
    const content = Buffer.from('aaaa\nbbbb\ncccc\n');
    // Range [2, 7): starts inside "aaaa", "bbbb" starts at 5 and ends past 7.
    const { lines, stopped } = split(content, { readFrom: 1, readTo: content.length, firstLineStart: 2, endOffset: 7, maxLineBytes: 10 }, () => 3);
    expect(lines.map((l) => l.text)).toEqual(['bbbb']);
    expect(stopped).toBe(true);
  });

  it('takes a line that starts exactly at the range start', () => {
    const content = Buffer.from('aaaa\nbbbb\ncccc\n');
    const { lines } = split(content, { readFrom: 4, readTo: content.length, firstLineStart: 5, endOffset: 10, maxLineBytes: 10 }, () => 2);
    expect(lines.map((l) => [l.text, l.offset])).toEqual([['bbbb', 5]]);
  });

  it('reports a line over the limit once, with a preview, and carries on after it', () => {
    const long = 'y'.repeat(50);
    const content = Buffer.from(`ok\n${long}\nafter\n`);
    for (const chunk of [1, 7, 1000]) {
      const { lines } = split(
        content,
        { readFrom: 0, readTo: content.length, firstLineStart: 0, endOffset: Infinity, maxLineBytes: 20, previewBytes: 8 },
        () => chunk,
      );
      expect(lines).toEqual([
        expect.objectContaining({ text: 'ok', offset: 0 }),
        expect.objectContaining({ text: 'yyyyyyyy', offset: 3, nextOffset: 54, index: 1, oversized: true }),
        expect.objectContaining({ text: 'after', offset: 54, index: 2 }),
      ]);
    }
  });

  it('reports an oversized last line cut off by the read limit', () => {
    const content = Buffer.from(`ok\n${'z'.repeat(40)}`);
    const { lines } = split(content, { readFrom: 0, readTo: 30, firstLineStart: 0, endOffset: 10, maxLineBytes: 20 }, () => 4);
    expect(lines.map((l) => l.oversized ?? false)).toEqual([false, true]);
  });

  it('skips lines before firstLineStart without handing them out (resuming mid-range)', () => {
    const content = Buffer.from('one\ntwo\nthree\nfour\n');
    const { lines } = split(content, { readFrom: 0, readTo: content.length, firstLineStart: 8, endOffset: Infinity, maxLineBytes: 20 }, () => 3);
    expect(lines.map((l) => [l.text, l.index])).toEqual([
      ['three', 2],
      ['four', 3],
    ]);
  });
});
