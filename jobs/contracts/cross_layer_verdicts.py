"""Verdicts of the Python layers on the cross-layer fixture set, for test/contracts/cross-layer.test.ts.

    python3 -m jobs.contracts.cross_layer_verdicts <fixtures.json>
prints {"<fixture name>": {"flink": bool, "spark_streaming": bool, "spark_landing": bool}, ...}:
whether each job's per-record function accepts the fixture's raw text, given as the bytes the job
receives:
    flink            login_records.parse_login (the Flink job's UDF) on the Kafka value
    spark_streaming  lakestream_spark.kafka_source.parse_login_value (the streaming job's UDF) on
                     the Kafka value, with the fixture clock as the record's Kafka timestamp
    spark_landing    lakestream_spark.landing.process_json_line (the landing job, per JSON line)
"""
from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from typing import Dict

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "spark"))

from jobs.flink.login_counts.login_records import Login, parse_login  # noqa: E402
from lakestream_spark.kafka_source import LOGIN_PARSE_FIELDS, parse_login_value  # noqa: E402
from lakestream_spark.landing import process_json_line  # noqa: E402

# After every fixture's event time, so the layers' future-skew rules never decide a verdict.
CLOCK = datetime(2024, 6, 1, tzinfo=timezone.utc)


CLOCK_MILLIS = int(CLOCK.timestamp() * 1000)
LAYERS = ("flink", "spark_streaming", "spark_landing")
STREAMING_FIELDS = tuple(name for name, _ in LOGIN_PARSE_FIELDS)


def raw_bytes(fixture: dict) -> bytes:
    """The fixture's text as sent: UTF-8 (a lone surrogate stays as its bytes, which are invalid UTF-8)."""
    return fixture["text"].encode("utf-8", "surrogatepass")


def layer_verdicts(raw: bytes) -> Dict[str, bool]:
    landing = process_json_line(raw, "fixtures.jsonl", CLOCK)
    return {
        "flink": isinstance(parse_login(raw, CLOCK), Login),
        "spark_streaming": dict(zip(STREAMING_FIELDS, parse_login_value(raw, CLOCK_MILLIS)))["reject_code"] is None,
        # None would mean a skipped (blank) line: no fixture is blank, so that counts as a wrong verdict.
        "spark_landing": landing is not None and landing[0] is True,
    }


def verdicts(fixtures: list) -> Dict[str, Dict[str, bool]]:
    return {fixture["name"]: layer_verdicts(raw_bytes(fixture)) for fixture in fixtures}


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        print(json.dumps(verdicts(json.load(handle)["fixtures"])))
