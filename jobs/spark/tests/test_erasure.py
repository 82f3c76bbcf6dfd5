import argparse
import json
import unittest

import erase_subjects
from lakestream_spark.erasure import (
    KEPT_SQL,
    MATCHING_SQL,
    TARGETS,
    TARGETS_BY_NAME,
    FileOutcome,
    dataset_uri,
    parse_request,
    render_erasure_sql,
    report_document,
    request_id,
    subject_rows,
    work_uri,
)
from lakestream_spark.schemas import KAFKA_LOGIN_COLUMNS, LANDING_COLUMNS, QUARANTINE_COLUMNS


class ErasureTest(unittest.TestCase):
    def test_every_dataset_with_a_user_column_or_raw_record_is_a_target(self):
        names = {t.name for t in TARGETS}
        self.assertEqual(
            names,
            {"kafka_logins_raw", "kafka_logins_counts", "landing_logins", "quarantine_landing_logins", "logins_per_user_per_day", "top_users"},
        )
        columns = {"kafka_logins_raw": KAFKA_LOGIN_COLUMNS, "landing_logins": LANDING_COLUMNS, "quarantine_landing_logins": QUARANTINE_COLUMNS}
        for name, cols in columns.items():
            target = next(t for t in TARGETS if t.name == name)
            referenced = {c for c, _ in cols if f"t.{c}" in target.match}
            self.assertTrue(referenced, f"{name} predicate references none of its columns")

    def test_rendered_sql_has_the_predicate_once_and_no_placeholder(self):
        for target in TARGETS:
            for sql_file in (MATCHING_SQL, KEPT_SQL):
                sql = render_erasure_sql(sql_file, target)
                self.assertNotIn(":match", sql)
                self.assertEqual(sql.count(target.match), 1)
        self.assertIn("NOT EXISTS", render_erasure_sql(KEPT_SQL, TARGETS[0]))

    def test_subject_rows_carry_the_json_form_of_the_id(self):
        self.assertEqual(subject_rows(['a"b', "é"]), [('a"b', '"a\\"b"'), ("é", '"é"')])

    def test_request_document_is_validated_and_deduplicated(self):
        self.assertEqual(parse_request(json.dumps({"requestId": "R1", "userIds": ["b", "a", "b"]}), "R1"), ["a", "b"])
        for bad in (
            {"requestId": "R2", "userIds": ["a"]},
            {"requestId": "R1", "userIds": []},
            {"requestId": "R1", "userIds": [""]},
            {"requestId": "R1", "userIds": ["x" * 129]},
        ):
            with self.assertRaises(ValueError):
                parse_request(json.dumps(bad), "R1")

    def test_request_ids_are_safe_path_segments(self):
        self.assertEqual(request_id("req-2024_01"), "req-2024_01")
        for bad in ("../x", "", "a/b", "-lead", "x" * 81):
            with self.assertRaises(argparse.ArgumentTypeError):
                request_id(bad)

    def test_locations(self):
        self.assertEqual(work_uri("s3://bronze", "R1"), "s3://bronze/_erasure/R1/")
        self.assertEqual(dataset_uri(TARGETS[0], {"bronze": "s3://bronze-b/", "gold": "s3://gold-g"}), "s3://bronze-b/kafka/logins_raw/")
        self.assertEqual(dataset_uri(TARGETS[-1], {"bronze": "s3://bronze-b/", "gold": "s3://gold-g"}), "s3://gold-g/reports/top_users/")
        # The streamed counts are aggregates: they live in silver, where the speed view reads them.
        counts = TARGETS_BY_NAME["kafka_logins_counts"]
        self.assertEqual(dataset_uri(counts, {"bronze": "s3://b/", "silver": "s3://silver-s", "gold": "s3://g/"}), "s3://silver-s/kafka/logins_counts/")
        self.assertEqual({t.tier for t in TARGETS}, {"bronze", "silver", "gold"})

    def test_report_counts_rows_and_names_no_person(self):
        report = report_document(
            "R1",
            {"landing_logins": [FileOutcome("s3://b/landing/logins/x.parquet", 5, 2), FileOutcome("s3://b/landing/logins/y.parquet", 1, 1)]},
            "2024-01-01T00:00:00Z",
        )
        landing = next(d for d in report["datasets"] if d["dataset"] == "landing_logins")
        self.assertEqual(landing["rowsRemoved"], 3)
        self.assertEqual([f["action"] for f in landing["files"]], ["rewritten", "deleted"])
        self.assertEqual(len(report["datasets"]), len(TARGETS))

    def test_job_arguments(self):
        args = erase_subjects.parse_args(["--bronze-uri", "s3://bronze", "--silver-uri", "s3://silver", "--gold-uri", "s3://gold", "--request-id", "R1"])
        self.assertEqual((args.bronze_uri, args.silver_uri, args.gold_uri, args.request_id), ("s3://bronze/", "s3://silver/", "s3://gold/", "R1"))
        with self.assertRaises(SystemExit):
            erase_subjects.parse_args(["--bronze-uri", "s3://bronze", "--silver-uri", "s3://silver", "--gold-uri", "s3://gold", "--request-id", "../etc"])


if __name__ == "__main__":
    unittest.main()
