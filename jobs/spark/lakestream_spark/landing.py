"""Landing files -> bronze rows: which files are read with which reader, and what each row becomes."""
from __future__ import annotations

import csv
import fnmatch
import gzip
import io
import re
import zlib
from datetime import date, datetime, timedelta
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from lakestream_spark.contract import (
    CORRUPT_RECORD_COLUMN,
    LOGIN_FIELDS,
    LoginEvent,
    Rejection,
    raw_record_json,
    validate_login_bytes,
    validate_login_record,
)
from lakestream_spark.contract_validator import _JS_WHITESPACE
from lakestream_spark.layout import partition_values

# Extensions (any letter case) of the files the job reads. Files are decoded here, not by Spark's
# CSV/JSON readers: Hadoop picks the gzip codec by a case-sensitive `.gz` suffix (so `x.CSV.GZ` would
# be read as raw bytes), and Spark's CSV reader maps every file by the first file's header. Gzip is
# recognised by its magic bytes instead.
LANDING_EXTENSIONS: Dict[str, Tuple[str, ...]] = {
    "csv": ("csv", "csv.gz"),
    "json": ("json", "jsonl", "ndjson", "json.gz", "jsonl.gz", "ndjson.gz"),
}

# Columns of one processed row, in order: a row is either a bronze event or a quarantined record.
PROCESSED_COLUMNS: Tuple[str, ...] = (
    "is_valid",
    "event_id",
    "user_id",
    "event_time",
    "source",
    "schema_version",
    "dt",
    "hr",
    "reject_code",
    "reject_detail",
    "raw_record",
    "source_file",
)
# Bronze and quarantine partitions start with the day the files landed: a run writes the folder
# landed_on=<day>/ of each output with a static overwrite, which replaces everything under it, so a
# re-run of a day also removes dt/hr partitions and quarantine rows that the new run no longer yields.
BRONZE_PARTITIONS: Tuple[str, ...] = ("landed_on", "dt", "hr")
QUARANTINE_PARTITIONS: Tuple[str, ...] = ("landed_on",)
DAY_PARTITION = "landed_on"
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
# A line the glue skips as blank: empty after JavaScript's String.prototype.trim, which strips
# ECMAScript WhiteSpace and LineTerminator, the set the validator translates `\s` to.
_JS_BLANK = re.compile(f"[{_JS_WHITESPACE}]*")
# What open_text's surrogateescape makes of a byte that is not UTF-8.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
BRONZE_COLUMNS: Tuple[str, ...] = ("event_id", "user_id", "event_time", "source", "schema_version", "source_file")
QUARANTINE_COLUMNS: Tuple[str, ...] = ("reject_code", "reject_detail", "raw_record", "source_file")

ProcessedRow = Tuple[object, ...]


def _any_case(text: str) -> str:
    """`csv.gz` -> `[cC][sS][vV].[gG][zZ]`: Hadoop's GlobFilter is case-sensitive and has no flag for it."""
    return "".join(f"[{char.lower()}{char.upper()}]" if char.isalpha() else char for char in text)


def glob_filter(*file_formats: str) -> str:
    """Hadoop glob for Spark's `pathGlobFilter` option selecting the files of the formats, any letter case."""
    extensions = [_any_case(extension) for file_format in file_formats for extension in LANDING_EXTENSIONS[file_format]]
    return "*.{" + ",".join(extensions) + "}"


def expand_braces(pattern: str) -> List[str]:
    """Expands one `{a,b}` group the way Hadoop's GlobFilter does (enough for glob_filter's output)."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [expanded for option in match.group(1).split(",") for expanded in expand_braces(head + option + tail)]


def landing_format(key: str) -> Optional[str]:
    """The reader for an object key (`csv` or `json`), or None when the job ignores the file."""
    name = key.rsplit("/", 1)[-1]
    for file_format in LANDING_EXTENSIONS:
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in expand_braces(glob_filter(file_format))):
            return file_format
    return None


def landed_window(landed_on: date) -> Tuple[str, str]:
    """Spark's `modifiedAfter`/`modifiedBefore` bounds (UTC, second precision) selecting the files whose
    last modification falls on `landed_on`. Both bounds are exclusive in Spark, so a file modified at
    exactly midnight would be skipped; S3 timestamps have millisecond precision, which makes that a
    one-in-86-million case per file that the next manual run with an earlier bound can pick up."""
    start = datetime(landed_on.year, landed_on.month, landed_on.day)
    end = start + timedelta(days=1)
    return start.strftime("%Y-%m-%dT%H:%M:%S"), end.strftime("%Y-%m-%dT%H:%M:%S")


def csv_column_mapping(header: Sequence[str]) -> List[Tuple[str, Optional[str]]]:
    """For a CSV header: each contract field and the header column holding it (matched by name,
    ignoring case and surrounding blanks), or None when the file lacks it. Absent fields become NULL
    and fail validation as missing, instead of the reader mapping columns by position."""
    by_name = {}
    for column in header:
        by_name.setdefault(column.strip().lower(), column)
    return [(field, by_name.get(field)) for field in LOGIN_FIELDS]


def open_bytes(content: bytes) -> io.BufferedIOBase:
    """The file's bytes, gunzipped when they start with the gzip magic bytes (whatever the file's name)."""
    return gzip.GzipFile(fileobj=io.BytesIO(content)) if content[:2] == GZIP_MAGIC else io.BytesIO(content)


def open_text(content: bytes) -> io.TextIOBase:
    """The file's text (for CSV): UTF-8 with or without a byte-order mark. Undecodable bytes become
    lone surrogates U+DC80-U+DCFF (surrogateescape), so the row holding them can be rejected, as the
    glue rejects a line with invalid UTF-8; replacing them with U+FFFD would let it pass."""
    return io.TextIOWrapper(open_bytes(content), encoding="utf-8-sig", errors="surrogateescape", newline="")


def _csv_records(text: io.TextIOBase) -> Iterator[Dict[str, object]]:
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        return
    mapping = csv_column_mapping(header)
    index = {column: position for position, column in enumerate(header)}
    for values in reader:
        if not values or all(not value.strip() for value in values):
            continue
        if any(_ESCAPED_BYTE.search(value) for value in values):
            yield {CORRUPT_RECORD_COLUMN: "not valid UTF-8: " + ",".join(values).encode("utf-8", "surrogateescape").decode("utf-8", "replace")}
            continue
        if len(values) != len(header):
            yield {CORRUPT_RECORD_COLUMN: f"{len(values)} values for {len(header)} header columns: " + ",".join(values)}
            continue
        yield {field: (values[index[column]] if column is not None else None) for field, column in mapping}


def json_lines(raw: io.BufferedIOBase) -> Iterator[bytes]:
    """The lines of a JSON-lines file as the glue splits them (lib/functions/file-replay): at "\n"
    only, one trailing "\r" removed, a UTF-8 byte-order mark removed at the start of the file."""
    for index, line in enumerate(raw):
        if line.endswith(b"\n"):
            line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
        if index == 0 and line.startswith(UTF8_BOM):
            line = line[len(UTF8_BOM) :]
        yield line


def process_json_line(line: bytes, source_file: str, now: datetime) -> Optional[ProcessedRow]:
    """One JSON line -> one processed row, or None for a blank line (skipped, as the glue skips it).

    The line's own text is validated (lakestream_spark.contract.validate_login_bytes: strict UTF-8,
    JSON with the glue's number and duplicate-key rules, the contract, nothing dropped or coerced),
    so a landed line gets the verdict the glue, the Flink job and the streaming job give it.
    """
    text = line.decode("utf-8", errors="replace")
    if _JS_BLANK.fullmatch(text):
        return None
    return processed_row(validate_login_bytes(line, now), text, source_file)


def rows_of_file(path: str, content: bytes, now: datetime) -> Iterator[ProcessedRow]:
    """Every processed row of one landing file (the job's flatMap body). CSV rows are mapped by this
    file's own header and checked like the glue's CSV reader (validate_login_record); JSON lines are
    checked as the text they are (process_json_line). A file that cannot be decompressed yields one
    quarantined row naming the error instead of failing the day."""
    file_format = landing_format(path)
    if file_format is None:
        return
    try:
        if file_format == "csv":
            for record in _csv_records(open_text(content)):
                yield process_record(record, path, now)
        else:
            for line in json_lines(open_bytes(content)):
                row = process_json_line(line, path, now)
                if row is not None:
                    yield row
    except (OSError, EOFError, zlib.error, csv.Error) as error:
        yield process_record({CORRUPT_RECORD_COLUMN: f"unreadable file: {error}"}, path, now)


def processed_row(outcome: Union[LoginEvent, Rejection], raw_record: str, source_file: str) -> ProcessedRow:
    """A validation outcome as a processed row (see PROCESSED_COLUMNS): a bronze event or a quarantined record."""
    if isinstance(outcome, LoginEvent):
        dt, hr = partition_values(outcome.event_time)
        return (
            True,
            outcome.event_id,
            outcome.user_id,
            outcome.event_time,
            outcome.source,
            outcome.schema_version,
            dt,
            hr,
            None,
            None,
            None,
            source_file,
        )
    return (False, None, None, None, None, None, None, None, outcome.code, outcome.detail, raw_record, source_file)


def process_record(record: Mapping[str, object], source_file: str, now: datetime) -> ProcessedRow:
    """One raw CSV record (contract fields as strings, or the corrupt-line column) -> one processed row."""
    return processed_row(validate_login_record(record, now), raw_record_json(record), source_file)
