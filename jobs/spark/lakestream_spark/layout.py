"""Where each dataset lives in the lake, and how rows map to partitions.

Bronze bucket layout (Hive-style partitions, so Glue/Athena partition projection works):
    kafka/<topic_dataset>/dt=YYYY-MM-DD/hr=HH/batch_id=N/   streaming job, one dataset per Kafka topic,
                                                            one folder per micro-batch (streaming_bronze.py)
    landing/<dataset>/landed_on=YYYY-MM-DD/dt=YYYY-MM-DD/hr=HH/   landing-to-bronze batch job
    quarantine/landing/<dataset>/landed_on=YYYY-MM-DD/      rows the batch job rejected, with the reason
    _checkpoints/kafka/<topic_dataset>/                     Structured Streaming checkpoints (not a table),
                                                            of every streamed topic (Kafka offsets only)
Silver bucket layout:
    kafka/<topic_dataset>/dt=YYYY-MM-DD/hr=HH/batch_id=N/   streaming job, topics of aggregates (logins.counts)
Gold bucket layout:
    reports/<report>/report_date=YYYY-MM-DD/

dt and hr are the UTC date and hour of the event time, so a late event lands in its own day's
partition whenever it arrives. Batch jobs replace whole day folders (landed_on=, report_date=).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Tuple

PARTITION_DATE_FORMAT = "%Y-%m-%d"
# The same partition values as Spark SQL expressions (session time zone set to UTC by the jobs).
SPARK_PARTITION_EXPRESSIONS = {
    "dt": "date_format(event_time, 'yyyy-MM-dd')",
    "hr": "date_format(event_time, 'HH')",
}
_S3_URI = re.compile(r"^s3a?://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$")


def normalize_prefix_uri(uri: str) -> str:
    """Validates an S3 (or local, for tests) prefix URI and gives it exactly one trailing slash."""
    stripped = uri.strip()
    if stripped.startswith(("s3://", "s3a://")):
        if not _S3_URI.match(stripped):
            raise ValueError(f"not a valid S3 URI: {uri!r}")
    elif not stripped.startswith(("file:/", "/")):
        raise ValueError(f"expected an s3:// URI (or a local path in tests), got {uri!r}")
    return stripped.rstrip("/") + "/"


def dataset_name(name: str) -> str:
    """A Glue-safe dataset name: lower case, letters, digits and underscores (`logins.raw` -> `logins_raw`)."""
    cleaned = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
    if not cleaned:
        raise ValueError(f"cannot derive a dataset name from {name!r}")
    return cleaned


def kafka_dataset_uri(bronze_uri: str, topic: str) -> str:
    return f"{normalize_prefix_uri(bronze_uri)}kafka/{dataset_name(topic)}/"


def landing_dataset_uri(bronze_uri: str, dataset: str) -> str:
    return f"{normalize_prefix_uri(bronze_uri)}landing/{dataset_name(dataset)}/"


def quarantine_uri(bronze_uri: str, dataset: str) -> str:
    return f"{normalize_prefix_uri(bronze_uri)}quarantine/landing/{dataset_name(dataset)}/"


def checkpoint_uri(checkpoint_root_uri: str, topic: str) -> str:
    return f"{normalize_prefix_uri(checkpoint_root_uri)}kafka/{dataset_name(topic)}/"


def gold_report_uri(gold_uri: str, report: str) -> str:
    return f"{normalize_prefix_uri(gold_uri)}reports/{dataset_name(report)}/"


def day_folder_uri(dataset_uri: str, key: str, day: date) -> str:
    """The Hive-style folder of one day (`<dataset>/<key>=YYYY-MM-DD/`) that a batch run replaces whole."""
    return f"{normalize_prefix_uri(dataset_uri)}{key}={day.isoformat()}/"


def gold_report_day_uri(gold_uri: str, report: str, day: date) -> str:
    return day_folder_uri(gold_report_uri(gold_uri, report), "report_date", day)


def partition_values(event_time: datetime) -> Tuple[str, str]:
    """(dt, hr) of an event: its UTC date and zero-padded UTC hour, matching SPARK_PARTITION_EXPRESSIONS."""
    if event_time.tzinfo is None:
        raise ValueError("event_time must be timezone-aware")
    utc = event_time.astimezone(timezone.utc)
    return utc.strftime(PARTITION_DATE_FORMAT), utc.strftime("%H")
