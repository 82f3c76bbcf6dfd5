"""Verdicts of the Python layers on the cross-layer fixture set, for test/contracts/cross-layer.test.ts.

    python3 -m jobs.contracts.cross_layer_verdicts <fixtures.json>
prints {"<fixture name>": {"flink": true|false, "spark": true|false}, ...}: whether the Flink
record logic (login_records.parse_login, what the job's UDF runs) and the Spark parsing
(lakestream_spark.contract.validate_login_json) accept the fixture's raw text.
"""
from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from typing import Dict

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "spark"))

from jobs.flink.login_counts.login_records import Login, parse_login  # noqa: E402
from lakestream_spark.contract import LoginEvent, validate_login_json  # noqa: E402

# After every fixture's event time, so the layers' future-skew rules never decide a verdict.
CLOCK = datetime(2024, 6, 1, tzinfo=timezone.utc)


def verdicts(fixtures: list) -> Dict[str, Dict[str, bool]]:
    return {
        fixture["name"]: {
            "flink": isinstance(parse_login(fixture["text"].encode("utf-8", "surrogatepass"), CLOCK), Login),
            "spark": isinstance(validate_login_json(fixture["text"], CLOCK), LoginEvent),
        }
        for fixture in fixtures
    }


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        print(json.dumps(verdicts(json.load(handle)["fixtures"])))
