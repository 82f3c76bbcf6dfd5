"""Erasure of data subjects from the lake's Parquet datasets: which datasets hold personal data, how a
row is matched to a subject, and the request and report documents of one erasure.

Matching happens in SQL (../sql/erase_*.sql) against a relation `erasure_subjects(user_id,
user_id_json)` built from the request file, so the ids never appear in SQL text, job arguments or
logs. The same rendered text runs on Spark (erase_subjects.py) and on DuckDB (the jest test on Parquet
files), like the report SQL.

Predicates per dataset:
- parsed user_id column: equality (NULL ids never match, so rows without an id stay);
- Kafka key of the counts topic: `user_id` (running count) or `user_id|window_start` (window count),
  compared by prefix length, not LIKE, so '%' or '_' in an id mean nothing;
- raw JSON text (the Kafka value, a quarantined record): contains the id as a JSON string,
  `"<id>"` with JSON escaping, whichever field carries it. This errs towards erasing: a record that
  mentions the id in another field is erased too, which for raw and rejected records is intended.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from lakestream_spark.layout import normalize_prefix_uri
from lakestream_spark.report_sql import read_packaged_text

# The contract's user id (lib/contracts/common.ts): 1-128 characters.
MAX_USER_ID_LENGTH = 128
# One request erases a handful of people; a bulk purge is a different operation.
MAX_SUBJECTS = 100
REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")
# Bronze prefix of the workflow's documents (lib/constructs/lake/lake-storage.ts ERASURE_WORK_PREFIX).
WORK_PREFIX = "_erasure/"

_USER_ID = "s.user_id = t.user_id"


def _raw_text(column: str) -> str:
    return f"instr(t.{column}, s.user_id_json) > 0"


_COUNTS_KEY = "(t.key = s.user_id OR substr(t.key, 1, length(s.user_id) + 1) = concat(s.user_id, '|'))"


@dataclass(frozen=True)
class ErasureTarget:
    """One dataset holding personal data: its tier, its prefix in the tier's bucket, its match predicate."""

    name: str
    tier: str
    prefix: str
    match: str


TARGETS: Tuple[ErasureTarget, ...] = (
    ErasureTarget("kafka_logins_raw", "bronze", "kafka/logins_raw/", f"({_USER_ID} OR {_raw_text('value')})"),
    ErasureTarget("kafka_logins_counts", "silver", "kafka/logins_counts/", f"({_COUNTS_KEY} OR {_raw_text('value')})"),
    ErasureTarget("landing_logins", "bronze", "landing/logins/", _USER_ID),
    ErasureTarget("quarantine_landing_logins", "bronze", "quarantine/landing/logins/", _raw_text("raw_record")),
    ErasureTarget("logins_per_user_per_day", "gold", "reports/logins_per_user_per_day/", _USER_ID),
    ErasureTarget("top_users", "gold", "reports/top_users/", _USER_ID),
)
TARGETS_BY_NAME: Dict[str, ErasureTarget] = {t.name: t for t in TARGETS}

MATCHING_SQL = "erase_matching_rows.sql"
KEPT_SQL = "erase_kept_rows.sql"


def render_erasure_sql(sql_file: str, target: ErasureTarget) -> str:
    """The SQL file with the target's predicate in place of :match."""
    template = read_packaged_text(f"sql/{sql_file}")
    if template.count(":match") != 1:
        raise ValueError(f"{sql_file} must use :match exactly once")
    return template.replace(":match", target.match)


def subject_rows(user_ids: Sequence[str]) -> List[Tuple[str, str]]:
    """(user_id, user_id_json) for erasure_subjects: the id and the id as a JSON string literal."""
    return [(uid, json.dumps(uid, ensure_ascii=False)) for uid in user_ids]


def parse_request(text: str, expected_request_id: str) -> List[str]:
    """The user ids of a request document `{"requestId": ..., "userIds": [...]}`, validated."""
    document = json.loads(text)
    if not isinstance(document, dict) or document.get("requestId") != expected_request_id:
        raise ValueError("the request document does not belong to this request id")
    ids = document.get("userIds")
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_SUBJECTS:
        raise ValueError(f"userIds must be a list of 1 to {MAX_SUBJECTS} ids")
    for uid in ids:
        if not isinstance(uid, str) or not 1 <= len(uid) <= MAX_USER_ID_LENGTH:
            raise ValueError(f"every user id must be a string of 1 to {MAX_USER_ID_LENGTH} characters")
    return sorted(set(ids))


def request_id(text: str) -> str:
    if not REQUEST_ID.match(text):
        raise argparse.ArgumentTypeError("request id: 1-80 letters, digits, '_' or '-', starting with a letter or digit")
    return text


def work_uri(bronze_uri: str, request: str) -> str:
    return f"{normalize_prefix_uri(bronze_uri)}{WORK_PREFIX}{request}/"


def dataset_uri(target: ErasureTarget, tier_uris: Mapping[str, str]) -> str:
    return f"{normalize_prefix_uri(tier_uris[target.tier])}{target.prefix}"


@dataclass(frozen=True)
class FileOutcome:
    """What erasure did to one Parquet object (an s3:// URI, key without the bucket in the report)."""

    uri: str
    rows_before: int
    rows_removed: int

    @property
    def action(self) -> str:
        return "deleted" if self.rows_removed == self.rows_before else "rewritten"


def report_document(request: str, outcomes: Mapping[str, Sequence[FileOutcome]], finished_at: str) -> Dict[str, object]:
    """The Spark job's report: per dataset, the files rewritten or deleted and the rows removed.
    Carries no user id: the receipt and the version cleanup are built from it."""
    datasets = []
    for target in TARGETS:
        files = list(outcomes.get(target.name, ()))
        datasets.append(
            {
                "dataset": target.name,
                "tier": target.tier,
                "rowsRemoved": sum(f.rows_removed for f in files),
                "files": [{"uri": f.uri, "action": f.action, "rowsBefore": f.rows_before, "rowsRemoved": f.rows_removed} for f in files],
            }
        )
    return {"requestId": request, "finishedAt": finished_at, "datasets": datasets}


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Print the rendered erasure SQL of every dataset as JSON {dataset: {matching, kept, tier, prefix}}.")
    parser.add_argument("--dataset", choices=sorted(TARGETS_BY_NAME), default=None)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parse_args(argv)
    targets = [TARGETS_BY_NAME[args.dataset]] if args.dataset else list(TARGETS)
    output = {
        t.name: {"tier": t.tier, "prefix": t.prefix, "matching": render_erasure_sql(MATCHING_SQL, t), "kept": render_erasure_sql(KEPT_SQL, t)} for t in targets
    }
    json.dump(output, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
