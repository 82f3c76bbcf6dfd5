import * as zlib from 'node:zlib';

/**
 * Just enough of the ZIP format to repackage jars and code archives: read the central directory
 * (ZIP64 included), copy entries without recompressing them, and write a new archive, in memory
 * or streamed. Jars are ZIP files, so the same code merges the Flink connector jars, builds the
 * Flink application zip and assembles MSK Connect plugin ZIPs in the artifact mirror.
 */

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END_OF_CENTRAL_DIRECTORY = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EXTRA_FIELD = 0x0001;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_UTF8 = 0x0800;
const UINT16_MAX = 0xffff;
const UINT32_MAX = 0xffffffff;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

/** 2000-01-01 00:00 in MS-DOS format: generated entries get a fixed time so equal inputs give equal archives. */
const FIXED_DOS_TIME = 0;
const FIXED_DOS_DATE = ((2000 - 1980) << 9) | (1 << 5) | 1;

/** One archive member, with its data still compressed exactly as it was read. */
export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly compressedData: Buffer;
  readonly dosTime: number;
  readonly dosDate: number;
  readonly externalAttributes: number;
}

/** A malformed or unsupported archive; the message names the archive and what is wrong. */
export class ZipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

const nativeCrc32 = (zlib as unknown as { crc32?: (data: Buffer) => number }).crc32;

export function crc32(data: Buffer): number {
  if (nativeCrc32) return nativeCrc32(data) >>> 0;
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function findEndOfCentralDirectory(archive: Buffer, label: string): number {
  const earliest = Math.max(0, archive.length - 22 - UINT16_MAX);
  for (let offset = archive.length - 22; offset >= earliest; offset--) {
    if (archive.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY) return offset;
  }
  throw new ZipFormatError(`${label} is not a ZIP archive (no end-of-central-directory record)`);
}

function checkBounds(archive: Buffer, offset: number, length: number, label: string, what: string): void {
  if (offset < 0 || offset + length > archive.length) {
    throw new ZipFormatError(`${label} is truncated or corrupt: ${what} lies outside the file`);
  }
}

/** Reads every entry of an archive; fails on encryption, unknown compression or inconsistent offsets. */
export function readZip(archive: Buffer, label: string): ZipEntry[] {
  if (archive.length < 22) throw new ZipFormatError(`${label} is not a ZIP archive (${archive.length} bytes)`);
  const eocd = findEndOfCentralDirectory(archive, label);
  let entryCount = archive.readUInt16LE(eocd + 10);
  let directorySize = archive.readUInt32LE(eocd + 12);
  let directoryOffset = archive.readUInt32LE(eocd + 16);

  if (entryCount === UINT16_MAX || directorySize === UINT32_MAX || directoryOffset === UINT32_MAX) {
    const locator = eocd - 20;
    if (locator < 0 || archive.readUInt32LE(locator) !== ZIP64_LOCATOR) {
      throw new ZipFormatError(`${label} needs ZIP64 but has no ZIP64 locator`);
    }
    const zip64 = Number(archive.readBigUInt64LE(locator + 8));
    checkBounds(archive, zip64, 56, label, 'the ZIP64 end record');
    if (archive.readUInt32LE(zip64) !== ZIP64_END_OF_CENTRAL_DIRECTORY) {
      throw new ZipFormatError(`${label} has a ZIP64 locator that points to no ZIP64 end record`);
    }
    entryCount = Number(archive.readBigUInt64LE(zip64 + 32));
    directorySize = Number(archive.readBigUInt64LE(zip64 + 40));
    directoryOffset = Number(archive.readBigUInt64LE(zip64 + 48));
  }
  checkBounds(archive, directoryOffset, directorySize, label, 'the central directory');

  const entries: ZipEntry[] = [];
  let cursor = directoryOffset;
  for (let i = 0; i < entryCount; i++) {
    checkBounds(archive, cursor, 46, label, `central directory entry ${i}`);
    if (archive.readUInt32LE(cursor) !== CENTRAL_HEADER) {
      throw new ZipFormatError(`${label} has a corrupt central directory at entry ${i}`);
    }
    const flags = archive.readUInt16LE(cursor + 8);
    const method = archive.readUInt16LE(cursor + 10);
    const dosTime = archive.readUInt16LE(cursor + 12);
    const dosDate = archive.readUInt16LE(cursor + 14);
    const crc = archive.readUInt32LE(cursor + 16);
    let compressedSize = archive.readUInt32LE(cursor + 20);
    let uncompressedSize = archive.readUInt32LE(cursor + 24);
    const nameLength = archive.readUInt16LE(cursor + 28);
    const extraLength = archive.readUInt16LE(cursor + 30);
    const commentLength = archive.readUInt16LE(cursor + 32);
    const externalAttributes = archive.readUInt32LE(cursor + 38);
    let localOffset = archive.readUInt32LE(cursor + 42);
    checkBounds(archive, cursor + 46, nameLength + extraLength + commentLength, label, `central directory entry ${i}`);
    const nameBytes = archive.subarray(cursor + 46, cursor + 46 + nameLength);
    const name = nameBytes.toString(flags & FLAG_UTF8 ? 'utf8' : 'latin1');

    const extra = archive.subarray(cursor + 46 + nameLength, cursor + 46 + nameLength + extraLength);
    for (let e = 0; e + 4 <= extra.length; ) {
      const id = extra.readUInt16LE(e);
      const size = extra.readUInt16LE(e + 2);
      if (id === ZIP64_EXTRA_FIELD) {
        let field = e + 4;
        if (uncompressedSize === UINT32_MAX) {
          uncompressedSize = Number(extra.readBigUInt64LE(field));
          field += 8;
        }
        if (compressedSize === UINT32_MAX) {
          compressedSize = Number(extra.readBigUInt64LE(field));
          field += 8;
        }
        if (localOffset === UINT32_MAX) {
          localOffset = Number(extra.readBigUInt64LE(field));
        }
      }
      e += 4 + size;
    }

    if (flags & FLAG_ENCRYPTED) throw new ZipFormatError(`${label}: entry ${name} is encrypted`);
    if (method !== METHOD_STORED && method !== METHOD_DEFLATED) {
      throw new ZipFormatError(`${label}: entry ${name} uses compression method ${method}; only stored (0) and deflated (8) are supported`);
    }
    checkBounds(archive, localOffset, 30, label, `the local header of ${name}`);
    if (archive.readUInt32LE(localOffset) !== LOCAL_HEADER) {
      throw new ZipFormatError(`${label}: the local header of ${name} is missing`);
    }
    const dataStart = localOffset + 30 + archive.readUInt16LE(localOffset + 26) + archive.readUInt16LE(localOffset + 28);
    checkBounds(archive, dataStart, compressedSize, label, `the data of ${name}`);

    entries.push({
      name,
      method,
      crc32: crc,
      compressedSize,
      uncompressedSize,
      compressedData: archive.subarray(dataStart, dataStart + compressedSize),
      dosTime,
      dosDate,
      externalAttributes,
    });
    cursor += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The uncompressed content of an entry, checked against its CRC. */
export function entryContent(entry: ZipEntry, label: string): Buffer {
  const content = entry.method === METHOD_STORED ? entry.compressedData : zlib.inflateRawSync(entry.compressedData);
  if (content.length !== entry.uncompressedSize || crc32(content) !== entry.crc32) {
    throw new ZipFormatError(`${label}: entry ${entry.name} fails its size or CRC check`);
  }
  return content;
}

/** A new entry from content: deflated when that is smaller, stored otherwise. */
export function newEntry(name: string, content: Buffer, options: { compress?: boolean } = {}): ZipEntry {
  const deflated = options.compress === false ? undefined : zlib.deflateRawSync(content, { level: 6 });
  const useDeflate = deflated !== undefined && deflated.length < content.length;
  return {
    name,
    method: useDeflate ? METHOD_DEFLATED : METHOD_STORED,
    crc32: crc32(content),
    compressedSize: useDeflate ? deflated.length : content.length,
    uncompressedSize: content.length,
    compressedData: useDeflate ? deflated : content,
    dosTime: FIXED_DOS_TIME,
    dosDate: FIXED_DOS_DATE,
    // Unix mode 0644 (files) or 0755 (directories) in the high 16 bits, MS-DOS directory bit in the low.
    externalAttributes: name.endsWith('/') ? ((0o40755 << 16) | 0x10) >>> 0 : (0o100644 << 16) >>> 0,
  };
}

export function directoryEntry(name: string): ZipEntry {
  return newEntry(name.endsWith('/') ? name : `${name}/`, Buffer.alloc(0), { compress: false });
}

/** An entry under a new name, data untouched. */
export function renamed(entry: ZipEntry, name: string): ZipEntry {
  return { ...entry, name };
}

/**
 * The fields local and central headers share, in the same order: version needed, flags, method,
 * time, date, CRC, sizes and name length (the extra-field length after them stays 0).
 */
function writeEntryFields(header: Buffer, at: number, entry: ZipEntry, nameLength: number): void {
  header.writeUInt16LE(20, at);
  header.writeUInt16LE(FLAG_UTF8, at + 2);
  header.writeUInt16LE(entry.method, at + 4);
  header.writeUInt16LE(entry.dosTime, at + 6);
  header.writeUInt16LE(entry.dosDate, at + 8);
  header.writeUInt32LE(entry.crc32, at + 10);
  header.writeUInt32LE(entry.compressedSize, at + 14);
  header.writeUInt32LE(entry.uncompressedSize, at + 18);
  header.writeUInt16LE(nameLength, at + 22);
}

/**
 * Writes a ZIP archive one entry at a time, so that an archive can be streamed out while only
 * the current entry is in memory. Entries keep their compressed data; names are written as
 * UTF-8. Uses a ZIP64 end record when there are more than 65,535 entries (merged jars can have
 * that many); archives over 4 GiB are refused.
 */
export class ZipWriter {
  private offset = 0;
  private readonly central: Buffer[] = [];
  private count = 0;

  /** The local header and data of one entry, to be written next. */
  public add(entry: ZipEntry): Buffer[] {
    if (entry.compressedSize > UINT32_MAX - 1 || entry.uncompressedSize > UINT32_MAX - 1 || this.offset > UINT32_MAX - 1) {
      throw new ZipFormatError(`entry ${entry.name} would need ZIP64 sizes (archives over 4 GiB are not supported)`);
    }
    const name = Buffer.from(entry.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    writeEntryFields(local, 4, entry, name.length);

    const header = Buffer.alloc(46);
    header.writeUInt32LE(CENTRAL_HEADER, 0);
    header.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, so the mode bits in the external attributes apply
    writeEntryFields(header, 6, entry, name.length);
    header.writeUInt32LE(entry.externalAttributes >>> 0, 38);
    header.writeUInt32LE(this.offset, 42);
    this.central.push(header, name);
    this.count++;
    this.offset += local.length + name.length + entry.compressedData.length;
    return [local, name, entry.compressedData];
  }

  /** The central directory and end records, written last. */
  public finish(): Buffer[] {
    const directorySize = this.central.reduce((sum, chunk) => sum + chunk.length, 0);
    const directoryOffset = this.offset;
    if (directoryOffset + directorySize > UINT32_MAX - 1) {
      throw new ZipFormatError('the archive would exceed 4 GiB, which needs ZIP64 offsets (not supported)');
    }
    const trailer: Buffer[] = [];
    const needsZip64 = this.count >= UINT16_MAX;
    if (needsZip64) {
      const zip64 = Buffer.alloc(56);
      zip64.writeUInt32LE(ZIP64_END_OF_CENTRAL_DIRECTORY, 0);
      zip64.writeBigUInt64LE(44n, 4);
      zip64.writeUInt16LE((3 << 8) | 45, 12);
      zip64.writeUInt16LE(45, 14);
      zip64.writeBigUInt64LE(BigInt(this.count), 24);
      zip64.writeBigUInt64LE(BigInt(this.count), 32);
      zip64.writeBigUInt64LE(BigInt(directorySize), 40);
      zip64.writeBigUInt64LE(BigInt(directoryOffset), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(ZIP64_LOCATOR, 0);
      locator.writeBigUInt64LE(BigInt(directoryOffset + directorySize), 8);
      locator.writeUInt32LE(1, 16);
      trailer.push(zip64, locator);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
    end.writeUInt16LE(needsZip64 ? UINT16_MAX : this.count, 8);
    end.writeUInt16LE(needsZip64 ? UINT16_MAX : this.count, 10);
    end.writeUInt32LE(directorySize, 12);
    end.writeUInt32LE(directoryOffset, 16);
    trailer.push(end);
    return [...this.central, ...trailer];
  }
}

/** Writes a whole ZIP archive in memory (see ZipWriter). */
export function writeZip(entries: readonly ZipEntry[]): Buffer {
  const writer = new ZipWriter();
  const chunks = entries.flatMap((entry) => writer.add(entry));
  return Buffer.concat([...chunks, ...writer.finish()]);
}
