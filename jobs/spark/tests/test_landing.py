import unittest
from datetime import date, datetime, timezone

from lakestream_spark.landing import (
    PROCESSED_COLUMNS,
    csv_column_mapping,
    expand_braces,
    glob_filter,
    landed_window,
    landing_format,
    process_partition,
    process_record,
)

NOW = datetime(2024, 1, 8, 1, 0, tzinfo=timezone.utc)
UUID = "0b5c7a52-2f1e-4c43-9a7e-3d6a1e9b8c10"


class LandingFilesTest(unittest.TestCase):
    def test_glob_filters(self):
        self.assertEqual(glob_filter("csv"), "*.{csv,csv.gz}")
        self.assertEqual(expand_braces(glob_filter("csv")), ["*.csv", "*.csv.gz"])
        self.assertEqual(expand_braces("a{b,c}d{e,f}"), ["abde", "abdf", "acde", "acdf"])

    def test_landing_format_by_extension(self):
        cases = {
            "logins/2024/01/07/part-1.csv": "csv",
            "logins/part-1.CSV.GZ": "csv",
            "logins/events.jsonl": "json",
            "logins/events.ndjson.gz": "json",
            "logins/events.json": "json",
            "logins/events.json.gz": "json",
            "logins/_SUCCESS": None,
            "logins/events.parquet": None,
            "logins/events.csv.zip": None,
            "logins/csv": None,
        }
        for key, expected in cases.items():
            with self.subTest(key=key):
                self.assertEqual(landing_format(key), expected)

    def test_landed_window_covers_one_utc_day(self):
        self.assertEqual(landed_window(date(2024, 2, 29)), ("2024-02-29T00:00:00", "2024-03-01T00:00:00"))

    def test_csv_columns_are_matched_by_name(self):
        mapping = csv_column_mapping([" User_ID", "event_id", "EVENT_TIME", "extra", "source "])
        self.assertEqual(
            mapping,
            [("event_id", "event_id"), ("user_id", " User_ID"), ("event_time", "EVENT_TIME"), ("source", "source "), ("schema_version", None)],
        )


class ProcessRecordTest(unittest.TestCase):
    def test_valid_record_becomes_a_bronze_row(self):
        row = process_record(
            {"event_id": UUID, "user_id": "alice", "event_time": "2024-01-08T00:30:00.25Z", "source": "ga4", "schema_version": "1"},
            "s3://landing/logins/a.csv.gz",
            NOW,
        )
        self.assertEqual(len(row), len(PROCESSED_COLUMNS))
        values = dict(zip(PROCESSED_COLUMNS, row))
        self.assertTrue(values["is_valid"])
        self.assertEqual(values["event_time"], datetime(2024, 1, 8, 0, 30, 0, 250000, tzinfo=timezone.utc))
        self.assertEqual(values["event_id"], UUID)
        self.assertEqual((values["dt"], values["hr"]), ("2024-01-08", "00"))
        self.assertEqual(values["schema_version"], 1)
        self.assertIsNone(values["reject_code"])
        self.assertEqual(values["source_file"], "s3://landing/logins/a.csv.gz")

    def test_invalid_record_becomes_a_quarantine_row_with_its_raw_content(self):
        row = process_record({"event_id": "ga4:2", "user_id": None, "event_time": "bad", "source": "ga4", "schema_version": "1"}, "f.json", NOW)
        values = dict(zip(PROCESSED_COLUMNS, row))
        self.assertFalse(values["is_valid"])
        self.assertEqual((values["reject_code"], values["reject_detail"]), ("missing_field", "user_id"))
        self.assertEqual(values["raw_record"], '{"event_id": "ga4:2", "event_time": "bad", "schema_version": "1", "source": "ga4"}')
        self.assertIsNone(values["dt"])

    def test_partition_keeps_only_contract_fields_and_the_corrupt_line(self):
        rows = [
            {"event_id": UUID, "user_id": "u", "event_time": "2024-01-07T10:00:00Z", "source": "replay", "schema_version": "1", "source_file": "a", "noise": "x"},
            {"_corrupt_record": "{oops", "source_file": "b"},
        ]
        processed = [dict(zip(PROCESSED_COLUMNS, row)) for row in process_partition(rows, NOW)]
        self.assertEqual([p["is_valid"] for p in processed], [True, False])
        self.assertEqual(processed[1]["reject_code"], "malformed_record")
        self.assertEqual(processed[1]["raw_record"], '{"_corrupt_record": "{oops"}')
        self.assertEqual([p["source_file"] for p in processed], ["a", "b"])


if __name__ == "__main__":
    unittest.main()
