import fnmatch
import gzip
import unittest
from datetime import date, datetime, timezone

from lakestream_spark.landing import (
    PROCESSED_COLUMNS,
    records_of_file,
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
        self.assertEqual(glob_filter("csv"), "*.{[cC][sS][vV],[cC][sS][vV].[gG][zZ]}")
        self.assertEqual(expand_braces(glob_filter("csv")), ["*.[cC][sS][vV]", "*.[cC][sS][vV].[gG][zZ]"])
        self.assertEqual(expand_braces("a{b,c}d{e,f}"), ["abde", "abdf", "acde", "acdf"])
        self.assertEqual(len(expand_braces(glob_filter("csv", "json"))), 8)

    def test_glob_filter_matches_any_letter_case(self):
        # Spark's pathGlobFilter (Hadoop GlobFilter) is case-sensitive, like fnmatchcase.
        def selected(name, *formats):
            return any(fnmatch.fnmatchcase(name, pattern) for pattern in expand_braces(glob_filter(*formats)))

        for name in ("part-1.CSV.GZ", "part-1.csv", "Part.Csv.Gz", "events.JSONL", "events.NDJSON.gz"):
            with self.subTest(name=name):
                self.assertTrue(selected(name, "csv", "json"))
        for name in ("part-1.csv.zip", "_SUCCESS", "events.parquet", "csv"):
            with self.subTest(name=name):
                self.assertFalse(selected(name, "csv", "json"))
        self.assertFalse(selected("events.json", "csv"))

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


class RecordsOfFileTest(unittest.TestCase):
    HEADER_A = "event_id,user_id,event_time,source,schema_version\n"
    ROW_A = f"{UUID},alice,2024-01-07T10:00:00Z,ga4,1\n"

    def test_each_csv_file_is_mapped_by_its_own_header(self):
        # Two files with their columns in a different order: Spark's CSV reader would map the second
        # by the first file's header (by position); here each file's header decides.
        first = list(records_of_file("s3://l/a.csv", (self.HEADER_A + self.ROW_A).encode()))
        second = list(records_of_file("s3://l/b.csv", f"schema_version,source,event_time,user_id,event_id\n1,cdc,2024-01-07T11:00:00Z,bob,{UUID}\n".encode()))
        self.assertEqual(first[0]["user_id"], "alice")
        self.assertEqual(
            second,
            [{"event_id": UUID, "user_id": "bob", "event_time": "2024-01-07T11:00:00Z", "source": "cdc", "schema_version": "1", "source_file": "s3://l/b.csv"}],
        )
        missing = list(records_of_file("s3://l/c.csv", b"USER_ID,event_id\ncarol,x\n"))
        self.assertEqual(missing[0]["user_id"], "carol")
        self.assertIsNone(missing[0]["event_time"])

    def test_upper_case_gzip_extension_is_decompressed(self):
        content = gzip.compress((self.HEADER_A + self.ROW_A).encode("utf-8-sig"))
        records = list(records_of_file("s3://l/part-1.CSV.GZ", content))
        self.assertEqual([r["user_id"] for r in records], ["alice"])
        self.assertEqual(records[0]["source_file"], "s3://l/part-1.CSV.GZ")
        rows = [dict(zip(PROCESSED_COLUMNS, row)) for row in process_partition(records, NOW)]
        self.assertEqual([r["is_valid"] for r in rows], [True])

    def test_malformed_lines_and_files_become_corrupt_records(self):
        csv_records = list(records_of_file("a.csv", (self.HEADER_A + "only,three,values\n\n" + self.ROW_A).encode()))
        self.assertEqual(len(csv_records), 2)
        self.assertIn("3 values for 5 header columns", csv_records[0]["_corrupt_record"])
        json_records = list(records_of_file("b.jsonl", b'{"event_id": "x", "schema_version": 1}\n[1, 2]\n{oops\n\n'))
        self.assertEqual(json_records[0]["schema_version"], 1)
        self.assertEqual([r.get("_corrupt_record") for r in json_records[1:]], ["[1, 2]", "{oops"])
        broken = list(records_of_file("c.json.gz", gzip.compress(b'{"a": 1}\n')[:-6]))
        self.assertIn("unreadable file", broken[-1]["_corrupt_record"])

    def test_empty_and_ignored_files_yield_nothing(self):
        self.assertEqual(list(records_of_file("a.csv", b"")), [])
        self.assertEqual(list(records_of_file("a.csv", b"event_id,user_id\n")), [])
        self.assertEqual(list(records_of_file("a.parquet", b"PAR1")), [])


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
