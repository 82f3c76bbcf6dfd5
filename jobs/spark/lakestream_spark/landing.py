"""Landing files -> bronze rows: which files are read with which reader, and what each row becomes."""
from __future__ import annotations

import fnmatch
import re
from datetime import date, datetime, timedelta
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

from lakestream_spark.contract import CORRUPT_RECORD_COLUMN, LOGIN_FIELDS, LoginEvent, raw_record_json, validate_login_record
from lakestream_spark.layout import partition_values

# Spark and Hadoop decompress `.gz` transparently, so gzip or plain only changes the extension.
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
# Bronze and quarantine partitions start with the day the files landed, so re-running one day
# (with dynamic partition overwrite) replaces exactly that day's output instead of duplicating it.
BRONZE_PARTITIONS: Tuple[str, ...] = ("landed_on", "dt", "hr")
QUARANTINE_PARTITIONS: Tuple[str, ...] = ("landed_on",)
BRONZE_COLUMNS: Tuple[str, ...] = ("event_id", "user_id", "event_time", "source", "schema_version", "source_file")
QUARANTINE_COLUMNS: Tuple[str, ...] = ("reject_code", "reject_detail", "raw_record", "source_file")

ProcessedRow = Tuple[object, ...]


def glob_filter(file_format: str) -> str:
    """Hadoop glob for Spark's `pathGlobFilter` option selecting the files of one format."""
    extensions = LANDING_EXTENSIONS[file_format]
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
    name = key.rsplit("/", 1)[-1].lower()
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
