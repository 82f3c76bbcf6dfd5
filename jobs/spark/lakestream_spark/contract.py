"""The login event contract and the validation of one raw record against it.

The contract is jobs/contracts/login-event.schema.json; every verdict comes from
lakestream_spark.contract_validator, the Python validator generated from that schema for every job
(the same verdicts as the TypeScript ingestion glue and the Flink job, checked by one fixture set
in test/contracts/cross-layer.test.ts). The constants below are read from the schema:
    event_id        a UUID, or "ga4:" and up to 250 non-blank characters
    user_id         1-128 characters (kept as sent: the Kafka key the glue used)
    event_time      RFC 3339 date-time in UTC ("...Z"), optional fraction of a second
    source          one of SOURCES
    schema_version  1 (CSV and string-typed readers give "1", accepted as the number, as the glue's CSV reader does)
Spark's own rule on top: event_time at most a skew bound ahead of a reference clock (the landing job's
clock with MAX_CLOCK_SKEW; in streaming, the record's Kafka timestamp with the Flink job's bound).
Fields outside the contract (e.g. `attributes`) are not carried into bronze.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Optional, Union

from lakestream_spark.contract_validator import SCHEMAS, explain_login_event, parse_json

_LOGIN_SCHEMA = SCHEMAS["login-event"]
_PROPERTIES = _LOGIN_SCHEMA["properties"]
LOGIN_FIELDS = tuple(_LOGIN_SCHEMA["required"])
SUPPORTED_SCHEMA_VERSIONS = frozenset({_PROPERTIES["schema_version"]["const"]})
SOURCES = tuple(_PROPERTIES["source"]["enum"])
USER_ID_MAX_LENGTH = _PROPERTIES["user_id"]["maxLength"]
EVENT_ID_PATTERNS = tuple(alternative["pattern"] for alternative in _PROPERTIES["event_id"]["anyOf"])
EVENT_TIME_PATTERN = _PROPERTIES["event_time"]["pattern"]
# Producers' clocks drift; anything further ahead than this is a bad timestamp, not skew.
MAX_CLOCK_SKEW = timedelta(hours=1)
# Spark's PERMISSIVE readers put a line they cannot parse into this column.
CORRUPT_RECORD_COLUMN = "_corrupt_record"

# Python 3.9 (EMR 7) datetime.fromisoformat rejects "Z" and nanoseconds, so parse explicitly.
_ISO_8601 = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[T ]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"(?P<zone>Z|z|[+-]\d{2}(?::?\d{2})?)$"
)


@dataclass(frozen=True)
class LoginEvent:
    """A record that satisfies the contract, normalised (event_time in UTC)."""

    event_id: str
    user_id: str
    event_time: datetime
    source: str
    schema_version: int


@dataclass(frozen=True)
class Rejection:
    """Why a record was quarantined: a stable code for queries and a detail for humans."""

    code: str
    detail: str

    @property
    def reason(self) -> str:
        return f"{self.code}: {self.detail}"


def parse_event_time(value: str) -> datetime:
    """Parses an ISO-8601 timestamp that carries a UTC offset and returns it in UTC.

    Raises ValueError naming the problem: a timestamp without an offset is ambiguous, so it is
    rejected rather than guessed.
    """
    match = _ISO_8601.match(value.strip())
    if match is None:
        raise ValueError(f"not an ISO-8601 timestamp with a UTC offset: {value!r}")
    parts = match.groupdict()
    fraction = (parts["fraction"] or "0").ljust(6, "0")[:6]
    zone = parts["zone"]
    if zone in ("Z", "z"):
        offset = timedelta(0)
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or "0")
        if hours > 23 or minutes > 59:
            raise ValueError(f"UTC offset out of range: {zone!r}")
        offset = sign * timedelta(hours=hours, minutes=minutes)
    local = datetime(
        int(parts["year"]),
        int(parts["month"]),
        int(parts["day"]),
        int(parts["hour"]),
        int(parts["minute"]),
        int(parts["second"] or "0"),
        int(fraction),
        tzinfo=timezone(offset),
    )
    return local.astimezone(timezone.utc)


def parse_schema_version(value: object) -> int:
    """Accepts an integer or a string of digits (CSV and string-typed JSON readers give strings)."""
    if isinstance(value, bool):
        raise ValueError(f"schema_version must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        return int(value)
    raise ValueError(f"schema_version must be an integer, got {value!r}")


# The contract field a violation names -> the quarantine code operators query by.
_VIOLATION_CODES = {
    "event_id": "invalid_event_id",
    "user_id": "invalid_user_id",
    "event_time": "invalid_event_time",
    "source": "invalid_source",
    "schema_version": "unsupported_schema_version",
    "attributes": "invalid_attributes",
}


def _violation(problem: str) -> Rejection:
    field = problem.split(":", 1)[0].split(".", 1)[0]
    if field == "user_id" and "at most" in problem:
        return Rejection("field_too_long", problem)
    if problem.startswith("unknown field"):
        return Rejection("unexpected_field", problem)
    return Rejection(_VIOLATION_CODES.get(field, "contract_violation"), problem)


def validate_login_event(document: Any, now: Optional[datetime], max_clock_skew: timedelta = MAX_CLOCK_SKEW) -> Union[LoginEvent, Rejection]:
    """Checks one parsed event (a JSON value) against the contract, then the clock-skew bound
    (event_time at most `max_clock_skew` after `now`; no bound when `now` is None)."""
    if not isinstance(document, dict):
        return Rejection("malformed_record", f"expected a JSON object, got {type(document).__name__}")
    missing = [field for field in LOGIN_FIELDS if document.get(field) is None]
    if missing:
        return Rejection("missing_field", ", ".join(missing))
    problem = explain_login_event(document)
    if problem is not None:
        return _violation(problem)
    event_time = parse_event_time(document["event_time"])
    if now is not None and event_time > now + max_clock_skew:
        return Rejection("event_time_in_future", f"{event_time.isoformat()} is after {now.isoformat()}")
    return LoginEvent(document["event_id"], document["user_id"], event_time, document["source"], int(document["schema_version"]))


def validate_login_json(text: str, now: Optional[datetime], max_clock_skew: timedelta = MAX_CLOCK_SKEW) -> Union[LoginEvent, Rejection]:
    """One JSON line as it was written: the verdict the glue and the Flink job give the same text.
    (Spark's JSON reader with a STRING schema turns 42 into "42", so typed checks need the text.)"""
    try:
        document = parse_json(text)
    except ValueError as error:
        return Rejection("malformed_record", f"not valid JSON: {str(error)[:200]}")
    return validate_login_event(document, now, max_clock_skew)


def validate_login_bytes(raw: Optional[bytes], now: Optional[datetime], max_clock_skew: timedelta = MAX_CLOCK_SKEW) -> Union[LoginEvent, Rejection]:
    """One record as the bytes that were sent (a Kafka value, a landing line): strict UTF-8, then
    validate_login_json. The glue and the Flink job reject invalid UTF-8 instead of replacing it
    with U+FFFD (which a contract check of the decoded text would let through)."""
    if raw is None or len(raw) == 0:
        return Rejection("malformed_record", "empty record (no value)")
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError as error:
        return Rejection("malformed_record", f"not valid UTF-8 ({error.reason} at byte {error.start})")
    return validate_login_json(text, now, max_clock_skew)


def validate_login_record(record: Mapping[str, object], now: datetime) -> Union[LoginEvent, Rejection]:
    """Checks one raw record (field name -> value as a string-typed reader gives it, e.g. CSV).

    Empty values count as absent, and a schema_version of digits is the number, exactly as the
    glue's CSV reader maps a row (lib/functions/file-replay/csv.ts); the rest is the contract.
    `now` bounds how far in the future an event may claim to be (MAX_CLOCK_SKEW).
    """
    corrupt = record.get(CORRUPT_RECORD_COLUMN)
    if corrupt is not None:
        return Rejection("malformed_record", f"the reader could not parse the line: {str(corrupt)[:200]!r}")
    document = {}
    for field, value in record.items():
        if field == CORRUPT_RECORD_COLUMN or value is None or value == "":
            continue
        if field == "schema_version" and isinstance(value, str) and re.fullmatch(r"[0-9]+", value):
            value = int(value)
        document[field] = value
    return validate_login_event(document, now)


def raw_record_json(record: Mapping[str, object]) -> str:
    """The raw record as JSON for the quarantine, so an operator sees exactly what arrived."""
    return json.dumps({key: record[key] for key in sorted(record) if record[key] is not None}, default=str, sort_keys=True)
