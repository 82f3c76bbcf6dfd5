import { LOGIN_EVENT_SCHEMA_VERSION } from '../../contracts/versions';

/**
 * CSV login files: a header line naming the columns, then one event per line (RFC 4180 quoting,
 * comma separated). Because files are split by byte ranges at line boundaries, a quoted field must
 * not contain a raw newline: such a record shows up as an unterminated quote and is quarantined.
 *
 * Columns: event_id, user_id, event_time (required); source and schema_version (optional, default
 * 'replay' and the current version, since a CSV export rarely carries them); `attributes.<name>`
 * columns become the event's attributes (empty cells are left out).
 */
export const CSV_REQUIRED_COLUMNS = ['event_id', 'user_id', 'event_time'] as const;
export const CSV_OPTIONAL_COLUMNS = ['source', 'schema_version'] as const;
export const CSV_ATTRIBUTE_PREFIX = 'attributes.';

export type CsvFields = string[];

/** Parses and checks a header line; throws an Error naming what is missing or unknown. */
export function parseCsvHeader(line: string): string[] {
  const parsed = splitCsvLine(line.replace(/^\uFEFF/, ''));
  if (typeof parsed === 'string') throw new Error(`CSV header is malformed: ${parsed}`);
  const columns = parsed.map((column) => column.trim());
  const known = new Set<string>([...CSV_REQUIRED_COLUMNS, ...CSV_OPTIONAL_COLUMNS]);
  const unknown = columns.filter((column) => !known.has(column) && !(column.startsWith(CSV_ATTRIBUTE_PREFIX) && column.length > CSV_ATTRIBUTE_PREFIX.length));
  const missing = CSV_REQUIRED_COLUMNS.filter((column) => !columns.includes(column));
  const duplicates = columns.filter((column, index) => columns.indexOf(column) !== index);
  const problems = [
    missing.length > 0 ? `missing column(s) ${missing.join(', ')}` : '',
    unknown.length > 0 ? `unknown column(s) ${unknown.join(', ')}` : '',
    duplicates.length > 0 ? `duplicate column(s) ${[...new Set(duplicates)].join(', ')}` : '',
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new Error(
      `CSV header ${JSON.stringify(line.slice(0, 200))}: ${problems.join('; ')}. Allowed: ${[...CSV_REQUIRED_COLUMNS, ...CSV_OPTIONAL_COLUMNS].join(', ')}, ${CSV_ATTRIBUTE_PREFIX}<name>`,
    );
  }
  return columns;
}

/** Splits one CSV line into fields, or returns why it cannot. */
export function splitCsvLine(line: string): CsvFields | string {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let position = 0;
  while (true) {
    if (line.charCodeAt(position) === 0x22) {
      let value = '';
      let cursor = position + 1;
      while (true) {
        const quote = line.indexOf('"', cursor);
        if (quote === -1) return 'unterminated quoted field';
        value += line.slice(cursor, quote);
        if (line.charCodeAt(quote + 1) === 0x22) {
          value += '"';
          cursor = quote + 2;
          continue;
        }
        position = quote + 1;
        break;
      }
      fields.push(value);
      if (position === line.length) return fields;
      if (line.charCodeAt(position) !== 0x2c) return `unexpected character after closing quote at column ${position + 1}`;
      position += 1;
    } else {
      const comma = line.indexOf(',', position);
      const end = comma === -1 ? line.length : comma;
      const value = line.slice(position, end);
      if (value.includes('"')) return `quote inside unquoted field at column ${position + 1}`;
      fields.push(value);
      if (comma === -1) return fields;
      position = comma + 1;
    }
  }
}

/**
 * Turns one row into a login event object (not yet validated). Returns a reason when the row's
 * shape is wrong; the values themselves are judged by the contract.
 */
export function csvRowToLoginEvent(columns: readonly string[], fields: CsvFields): Record<string, unknown> | string {
  if (fields.length !== columns.length) return `expected ${columns.length} fields, found ${fields.length}`;
  const event: Record<string, unknown> = {};
  let attributes: Record<string, string> | undefined;
  for (let index = 0; index < columns.length; index++) {
    const column = columns[index];
    const value = fields[index];
    if (column.startsWith(CSV_ATTRIBUTE_PREFIX)) {
      if (value !== '') (attributes ??= {})[column.slice(CSV_ATTRIBUTE_PREFIX.length)] = value;
    } else if (column === 'schema_version') {
      if (value !== '') event.schema_version = /^\d+$/.test(value) ? Number(value) : value;
    } else if (column === 'source') {
      if (value !== '') event.source = value;
    } else {
      event[column] = value;
    }
  }
  // Fixed key order so the same row always serializes to the same bytes.
  return {
    event_id: event.event_id,
    user_id: event.user_id,
    event_time: event.event_time,
    source: event.source ?? 'replay',
    schema_version: event.schema_version ?? LOGIN_EVENT_SCHEMA_VERSION,
    ...(attributes ? { attributes } : {}),
  };
}
