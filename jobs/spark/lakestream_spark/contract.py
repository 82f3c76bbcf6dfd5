"""The login event contract and the validation of one raw record against it.

Contract (schema_version 1), one JSON object or CSV row per event:
    event_id        non-empty string, unique per login
    user_id         non-empty string
    event_time      ISO-8601 timestamp with a UTC offset ("Z" or "+hh:mm")
    source          non-empty string naming the producer (ga4, debezium, replay, ...)
    schema_version  integer, one of SUPPORTED_SCHEMA_VERSIONS
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Mapping, Optional, Union

LOGIN_FIELDS = ("event_id", "user_id", "event_time", "source", "schema_version")
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})
MAX_IDENTIFIER_LENGTH = 256
MAX_SOURCE_LENGTH = 64
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
    for name, value, limit in (
        ("event_id", event_id, MAX_IDENTIFIER_LENGTH),
        ("user_id", user_id, MAX_IDENTIFIER_LENGTH),
        ("source", source, MAX_SOURCE_LENGTH),
    ):
        if len(value) > limit:
            return Rejection("field_too_long", f"{name} has {len(value)} characters, the limit is {limit}")

    try:
        event_time = parse_event_time(str(record["event_time"]))
    except ValueError as error:
        return Rejection("invalid_event_time", str(error))
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
