"""argparse value types shared by the Spark jobs' command lines (clear messages on bad input)."""

from __future__ import annotations

import argparse
from datetime import date, datetime, timedelta, timezone

from lakestream_spark.layout import normalize_prefix_uri


def prefix_uri(text: str) -> str:
    """An s3://bucket/prefix/ URI, normalized to end in a slash."""
    try:
        return normalize_prefix_uri(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def iso_date(text: str) -> date:
    """A calendar day written YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from error


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}") from error
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def bounded_int(low: int, high: int):
    """argparse type: a whole number from `low` to `high` (the bounds the SQL grammar test renders)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"must be an integer from {low} to {high}, got {text}") from error
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be an integer from {low} to {high}, got {text}")
        return value

    return parse


def yesterday_utc(now: datetime) -> date:
    """The UTC day before `now`: what a daily job processes by default."""
    return (now.astimezone(timezone.utc) - timedelta(days=1)).date()
