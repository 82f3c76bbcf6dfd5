"""Validation of one raw login record, shared by the job (as a Python UDF) and its tests.

A record is accepted when it is UTF-8 JSON that satisfies the login-event contract
(jobs/contracts/login-event.schema.json), checked by contract_validator, the validator every
Python job shares with the same verdicts as the TypeScript ingestion glue, plus one rule of this
job: event_time at most max_future_skew ahead of the broker's timestamp for the record.

The contract's event_time is "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (UTC only), which is exactly what
the job's SQL computes the event-time column from (login_sql.event_time_expression): every
accepted record gets the same instant in both places, truncated to the second in SQL, which never
moves it across a window boundary.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional, Union

if __package__:
    from .contract_validator import SCHEMAS, explain_login_event, parse_json
else:  # run as a script by Managed Flink: the job folder is on sys.path
    from contract_validator import SCHEMAS, explain_login_event, parse_json  # type: ignore[no-redef]

SUPPORTED_SCHEMA_VERSIONS = frozenset({SCHEMAS["login-event"]["properties"]["schema_version"]["const"]})
MAX_PAYLOAD_BYTES = 64 * 1024
DEFAULT_MAX_FUTURE_SKEW = timedelta(minutes=5)


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
    """The instant of a contract-valid event_time ("...Z"), in UTC; ValueError for anything else."""
    if not value.endswith("Z") or len(value) < 20:
        raise ValueError(f"event_time must be a UTC time like 2024-05-01T12:00:00Z, got {value[:64]!r}")
    whole, _, fraction = value[:-1].partition(".")
    local = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S")
    return local.replace(microsecond=int(fraction.ljust(6, "0")[:6] or "0"), tzinfo=timezone.utc)


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
        # The job hands the UDF the record's bytes (a decoded string could hide invalid UTF-8
        # behind U+FFFD); text is for callers that already hold a decoded value.
        if len(text.encode("utf-8", errors="surrogatepass")) > MAX_PAYLOAD_BYTES:
            return Rejection(f"payload is larger than {MAX_PAYLOAD_BYTES} bytes")

    try:
        document = parse_json(text)
    except ValueError as error:
        return Rejection(f"payload is not valid JSON: {error}")
    violation = explain_login_event(document)
    if violation is not None:
        return Rejection(f"contract violation: {violation}")
    raw_time = document["event_time"]
    event_time = parse_event_time(raw_time)

    if broker_time is not None:
        broker_utc = broker_time.replace(tzinfo=timezone.utc) if broker_time.tzinfo is None else broker_time.astimezone(timezone.utc)
        if event_time > broker_utc + max_future_skew:
            ahead = event_time - broker_utc
            return Rejection(
                f"event_time {raw_time} is {int(ahead.total_seconds())}s ahead of the broker timestamp; "
                f"the limit is {int(max_future_skew.total_seconds())}s"
            )

    return Login(
        event_id=document["event_id"],
        user_id=document["user_id"],
        event_time=event_time,
        source=document["source"],
        schema_version=int(document["schema_version"]),
    )


def rejection_reason(
    raw: Union[bytes, str, None],
    broker_time: Optional[datetime] = None,
    max_future_skew: timedelta = DEFAULT_MAX_FUTURE_SKEW,
) -> Optional[str]:
    """The job's UDF body: None for an accepted record, else the reason written to the dead-letter topic."""
    result = parse_login(raw, broker_time, max_future_skew)
    return result.reason if isinstance(result, Rejection) else None
