"""The login event contract and the validation of one raw record against it.

The contract is jobs/contracts/login-event.schema.json (schema_version 1); the constants below
restate it for code that runs without a JSON Schema library, and a unit test fails when they drift:
    event_id        a UUID, or "ga4:" and up to 250 non-blank characters
    user_id         1-128 characters
    event_time      RFC 3339 date-time in UTC ("...Z"), optional fraction of a second
    source          one of SOURCES
    schema_version  1 (CSV and string-typed readers give "1", accepted as the number)
Fields outside the contract (e.g. `attributes`) are not carried into bronze.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Mapping, Optional, Union

LOGIN_FIELDS = ("event_id", "user_id", "event_time", "source", "schema_version")
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})
SOURCES = ("ga4", "replay", "cdc", "test")
USER_ID_MAX_LENGTH = 128
EVENT_ID_PATTERNS = (
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
    r"|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$",
    r"^ga4:\S{1,250}$",
)
# The contract's own pattern: calendar-valid dates (leap years included), UTC only.
EVENT_TIME_PATTERN = (
    r"^(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29"
    r"|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))"
    r"T(?:(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z))$"
)
_EVENT_ID = tuple(re.compile(p) for p in EVENT_ID_PATTERNS)
_EVENT_TIME = re.compile(EVENT_TIME_PATTERN)
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


def _text(value: object) -> Optional[str]:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def validate_login_record(record: Mapping[str, object], now: datetime) -> Union[LoginEvent, Rejection]:
    """Checks one raw record (field name -> raw value) against the login contract.

    Returns the normalised event, or the first reason it cannot be accepted. `now` bounds how far in
    the future an event may claim to be (MAX_CLOCK_SKEW).
    """
    corrupt = record.get(CORRUPT_RECORD_COLUMN)
    if corrupt is not None:
        return Rejection("malformed_record", f"the reader could not parse the line: {str(corrupt)[:200]!r}")

    missing = [field for field in LOGIN_FIELDS if _text(record.get(field)) is None]
    if missing:
        return Rejection("missing_field", ", ".join(missing))

    event_id = _text(record["event_id"]) or ""
    user_id = _text(record["user_id"]) or ""
    source = _text(record["source"]) or ""
    if not any(pattern.match(event_id) for pattern in _EVENT_ID):
        return Rejection("invalid_event_id", f"{event_id[:80]!r} is neither a UUID nor ga4:<id>")
    if len(user_id) > USER_ID_MAX_LENGTH:
        return Rejection("field_too_long", f"user_id has {len(user_id)} characters, the limit is {USER_ID_MAX_LENGTH}")
    if source not in SOURCES:
        return Rejection("invalid_source", f"{source[:80]!r} is not one of {', '.join(SOURCES)}")

    event_time_text = str(record["event_time"]).strip()
    if not _EVENT_TIME.match(event_time_text):
        return Rejection("invalid_event_time", f"{event_time_text[:80]!r} is not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SS[.fff]Z)")
    event_time = parse_event_time(event_time_text)
    if event_time > now + MAX_CLOCK_SKEW:
        return Rejection("event_time_in_future", f"{event_time.isoformat()} is after {now.isoformat()}")

    try:
        schema_version = parse_schema_version(record["schema_version"])
    except ValueError as error:
        return Rejection("invalid_schema_version", str(error))
    if schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        supported = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
        return Rejection("unsupported_schema_version", f"{schema_version} (supported: {supported})")

    return LoginEvent(event_id, user_id, event_time, source, schema_version)


def raw_record_json(record: Mapping[str, object]) -> str:
    """The raw record as JSON for the quarantine, so an operator sees exactly what arrived."""
    return json.dumps({key: record[key] for key in sorted(record) if record[key] is not None}, default=str, sort_keys=True)
