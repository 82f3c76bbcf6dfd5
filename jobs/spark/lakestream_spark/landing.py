"""Landing files -> bronze rows: which files are read with which reader, and what each row becomes."""
from __future__ import annotations

import csv
import fnmatch
import gzip
import io
import json
import re
import zlib
from datetime import date, datetime, timedelta
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

from lakestream_spark.contract import CORRUPT_RECORD_COLUMN, LOGIN_FIELDS, LoginEvent, raw_record_json, validate_login_record
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


def open_text(content: bytes) -> io.TextIOBase:
    """The file's text: gunzipped when it starts with the gzip magic bytes (whatever its name), UTF-8
    with or without a byte-order mark, undecodable bytes replaced (the row then fails validation)."""
    raw = gzip.GzipFile(fileobj=io.BytesIO(content)) if content[:2] == GZIP_MAGIC else io.BytesIO(content)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")


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
        if len(values) != len(header):
            yield {CORRUPT_RECORD_COLUMN: f"{len(values)} values for {len(header)} header columns: " + ",".join(values)}
            continue
        yield {field: (values[index[column]] if column is not None else None) for field, column in mapping}


def _json_records(text: io.TextIOBase) -> Iterator[Dict[str, object]]:
    for line in text:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            yield {CORRUPT_RECORD_COLUMN: line.rstrip("\r\n")}
            continue
        if not isinstance(value, dict):
            yield {CORRUPT_RECORD_COLUMN: line.rstrip("\r\n")}
            continue
        # Values stay as they arrived (a number stays a number), as Spark's string-typed reader would not.
        yield {field: value.get(field) for field in LOGIN_FIELDS}


def records_of_file(path: str, content: bytes) -> Iterator[Dict[str, object]]:
    """Every raw record of one landing file (contract fields or the corrupt-line column), with
    source_file. CSV columns are matched by this file's own header. A file that cannot be decompressed
    yields one corrupt record naming the error, so it is quarantined instead of failing the day."""
    file_format = landing_format(path)
    if file_format is None:
        return
    parse = _csv_records if file_format == "csv" else _json_records
    try:
        for record in parse(open_text(content)):
            yield {**record, "source_file": path}
    except (OSError, EOFError, zlib.error, csv.Error) as error:
        yield {CORRUPT_RECORD_COLUMN: f"unreadable file: {error}", "source_file": path}


def process_record(record: Mapping[str, object], source_file: str, now: datetime) -> ProcessedRow:
    """One raw landing record -> one processed row (see PROCESSED_COLUMNS)."""
    outcome = validate_login_record(record, now)
    if isinstance(outcome, LoginEvent):
        dt, hr = partition_values(outcome.event_time)
        return (
            True, outcome.event_id, outcome.user_id, outcome.event_time, outcome.source, outcome.schema_version,
            dt, hr, None, None, None, source_file,
        )
    return (False, None, None, None, None, None, None, None, outcome.code, outcome.detail, raw_record_json(record), source_file)


def process_partition(rows: Iterable[Mapping[str, object]], now: datetime) -> Iterator[ProcessedRow]:
    """mapPartitions body: rows carry the contract fields, the corrupt-record column and source_file."""
    for row in rows:
        record = {field: row.get(field) for field in (*LOGIN_FIELDS, CORRUPT_RECORD_COLUMN)}
        yield process_record(record, str(row.get("source_file") or ""), now)
