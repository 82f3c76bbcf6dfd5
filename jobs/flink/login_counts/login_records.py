"""Validation of one raw login record, shared by the job (as a Python UDF) and its tests.

A record is accepted when it is a UTF-8 JSON object with:
    event_id        non-empty string (spaces at the ends ignored), at most 256 characters, no control characters
    user_id         same rules as event_id; it becomes the Kafka key of the running count
    event_time      "YYYY-MM-DD[T ]HH:MM:SS[.fraction]" followed by "Z" or "+hh:mm"/"-hh:mm",
                    at most max_future_skew ahead of the broker's timestamp for the record
    source          non-empty string, at most 64 characters (ga4, replay, debezium, ...)
    schema_version  the integer 1
Extra fields are allowed so producers can add fields without breaking the job.

The event-time grammar is deliberately exactly what the job's SQL computes the event-time
column from (login_sql.event_time_expression): every accepted record gets the same instant in
both places, truncated to the second in SQL, which never moves it across a window boundary.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional, Union

SUPPORTED_SCHEMA_VERSIONS = frozenset({1})
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_IDENTIFIER_LENGTH = 256
MAX_SOURCE_LENGTH = 64
DEFAULT_MAX_FUTURE_SKEW = timedelta(minutes=5)

_EVENT_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d{1,9}))?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})$"
)


@dataclass(frozen=True)
class Login:
    """An accepted login event, event_time in UTC."""

    event_id: str
    user_id: str
    event_time: datetime
    source: str
    schema_version: int


@dataclass(frozen=True)
class Rejection:
    """Why a record goes to the dead-letter topic instead of being counted."""

    reason: str


def parse_event_time(value: str) -> datetime:
    """Parses the accepted event-time grammar and returns the instant in UTC; ValueError otherwise."""
    match = _EVENT_TIME.match(value)
    if match is None:
        raise ValueError(
            f"event_time must look like 2024-05-01T12:00:00Z or 2024-05-01T14:00:00.250+02:00, got {value[:64]!r}"
        )
    fraction = (match.group("fraction") or "").ljust(6, "0")[:6]
    zone = match.group("zone")
    if zone == "Z":
        offset = timedelta(0)
    else:
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"event_time has an out-of-range UTC offset {zone!r}")
        offset = (-1 if zone[0] == "-" else 1) * timedelta(hours=hours, minutes=minutes)
    try:
        local = datetime.strptime(f"{match.group('date')} {match.group('time')}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ValueError(f"event_time is not a real calendar date and time: {value[:64]!r}") from None
    return local.replace(microsecond=int(fraction), tzinfo=timezone(offset)).astimezone(timezone.utc)


def _identifier(document: dict, field: str, max_length: int) -> Union[str, Rejection]:
    value = document.get(field)
    if not isinstance(value, str):
        return Rejection(f"{field} must be a string, got {_describe(value)}")
    # The SQL side trims with TRIM(BOTH ' ' ...), so only plain spaces are ignored here too.
    text = value.strip(" ")
    if not text:
        return Rejection(f"{field} must not be empty")
    if len(text) > max_length:
        return Rejection(f"{field} is {len(text)} characters; the limit is {max_length}")
    if any(unicodedata.category(char) == "Cc" for char in text):
        return Rejection(f"{field} contains control characters")
    return text


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    return type(value).__name__ if not isinstance(value, bool) else "a boolean"


def _reject_duplicate_keys(pairs: list) -> dict:
    document: dict = {}
    for key, value in pairs:
        if key in document:
            # Readers disagree on which duplicate wins; refusing the record keeps every layer consistent.
            raise ValueError(f"duplicate key {key!r}")
        document[key] = value
    return document


def parse_login(
    raw: Union[bytes, str, None],
    broker_time: Optional[datetime] = None,
    max_future_skew: timedelta = DEFAULT_MAX_FUTURE_SKEW,
) -> Union[Login, Rejection]:
    """Validates one raw Kafka record value.

    `broker_time` is the record's Kafka timestamp (naive values are taken as UTC); an event that
    claims to happen more than `max_future_skew` after it is rejected, because a single
    far-future timestamp would drag the watermark forward and make every other event late.
    """
    if raw is None or len(raw) == 0:
        return Rejection("empty record (no value)")
    if isinstance(raw, bytes):
        if len(raw) > MAX_PAYLOAD_BYTES:
            return Rejection(f"payload is {len(raw)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            return Rejection(f"payload is not valid UTF-8 ({error.reason} at byte {error.start})")
    else:
        text = raw
        if len(text.encode("utf-8", errors="replace")) > MAX_PAYLOAD_BYTES:
            return Rejection(f"payload is larger than {MAX_PAYLOAD_BYTES} bytes")
        # Flink's raw format decodes bytes leniently: invalid UTF-8 arrives as U+FFFD.
        if "\ufffd" in text:
            return Rejection("payload is not valid UTF-8 (it contains replacement characters)")

    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except ValueError as error:
        return Rejection(f"payload is not valid JSON: {error}")
    if not isinstance(document, dict):
        return Rejection(f"payload must be a JSON object, got a JSON {_json_kind(document)}")

    version = document.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        return Rejection(f"schema_version must be an integer, got {_describe(version)}")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        supported = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
        return Rejection(f"unsupported schema_version {version} (supported: {supported})")

    event_id = _identifier(document, "event_id", MAX_IDENTIFIER_LENGTH)
    if isinstance(event_id, Rejection):
        return event_id
    user_id = _identifier(document, "user_id", MAX_IDENTIFIER_LENGTH)
    if isinstance(user_id, Rejection):
        return user_id
    source = _identifier(document, "source", MAX_SOURCE_LENGTH)
    if isinstance(source, Rejection):
        return source

    raw_time = document.get("event_time")
    if not isinstance(raw_time, str):
        return Rejection(f"event_time must be a string, got {_describe(raw_time)}")
    try:
        event_time = parse_event_time(raw_time)
    except ValueError as error:
        return Rejection(str(error))

    if broker_time is not None:
        broker_utc = broker_time.replace(tzinfo=timezone.utc) if broker_time.tzinfo is None else broker_time.astimezone(timezone.utc)
        if event_time > broker_utc + max_future_skew:
            ahead = event_time - broker_utc
            return Rejection(
                f"event_time {raw_time} is {int(ahead.total_seconds())}s ahead of the broker timestamp; "
                f"the limit is {int(max_future_skew.total_seconds())}s"
            )

    return Login(event_id=event_id, user_id=user_id, event_time=event_time, source=source, schema_version=version)


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def rejection_reason(
    raw: Union[bytes, str, None],
    broker_time: Optional[datetime] = None,
    max_future_skew: timedelta = DEFAULT_MAX_FUTURE_SKEW,
) -> Optional[str]:
    """The job's UDF body: None for an accepted record, else the reason written to the dead-letter topic."""
    result = parse_login(raw, broker_time, max_future_skew)
    return result.reason if isinstance(result, Rejection) else None
