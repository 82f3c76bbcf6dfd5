import type { ResolvedEnvironment } from '../../config/load-config';
import type { ExitCodeValue } from './exit-codes';

/**
 * What every command prints with `--json`: the same envelope, so scripts read `ok` and
 * `exitCode` the same way for preflight and for the commands that follow it. Field order is
 * fixed by construction; fields are only ever added.
 */
export interface JsonEnvelope<T> {
  readonly command: string;
  readonly environment: {
    readonly name: string;
    readonly stage: string;
    readonly qualifier: string;
    readonly account: string | null;
    readonly region: string;
  };
  readonly ok: boolean;
  readonly exitCode: ExitCodeValue;
  readonly result: T;
}

export function jsonEnvelope<T>(command: string, config: ResolvedEnvironment, exitCode: ExitCodeValue, result: T, account?: string): JsonEnvelope<T> {
  return {
    command,
    environment: {
      name: config.name,
      stage: config.stageName,
      qualifier: config.qualifier,
      account: account ?? config.account ?? null,
      region: config.region,
    },
    ok: exitCode === 0,
    exitCode,
    result,
  };
}

/**
 * A plain aligned text table. Cells may hold several lines; the last column is not padded so
 * long remedies wrap in the terminal instead of stretching every row.
 */
export function renderTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const all = [header, ...rows];
  const columns = header.length;
  const widths = Array.from({ length: columns - 1 }, (_, c) => Math.max(...all.map((row) => Math.max(...(row[c] ?? '').split('\n').map((l) => l.length)))));
  const lines: string[] = [];
  const emit = (row: readonly string[]) => {
    const cells = row.map((cell) => cell.split('\n'));
    const height = Math.max(...cells.map((c) => c.length));
    for (let i = 0; i < height; i += 1) {
      const parts = cells.map((c, col) => {
        const text = c[i] ?? '';
        return col < columns - 1 ? text.padEnd(widths[col] ?? 0) : text;
      });
      lines.push(parts.join('  ').trimEnd());
    }
  };
  emit(header);
  lines.push(
    widths
      .map((w) => '-'.repeat(w))
      .concat('-'.repeat(Math.max(6, header[columns - 1]?.length ?? 0)))
      .join('  '),
  );
  for (const row of rows) emit(row);
  return lines.join('\n');
}
