import fnmatch
import gzip
import io
import json
import unittest
from datetime import date, datetime, timezone

import landing_to_bronze
from lakestream_spark.landing import (
    PROCESSED_COLUMNS,
    csv_column_mapping,
    expand_braces,
    glob_filter,
    json_lines,
    landed_window,
    landing_format,
    process_json_line,
    process_record,
    rows_of_file,
)

NOW = datetime(2024, 1, 8, 1, 0, tzinfo=timezone.utc)
UUID = "0b5c7a52-2f1e-4c43-9a7e-3d6a1e9b8c10"


def rows(path, content):
    """The processed rows the job makes of one file, as dicts."""
    return [dict(zip(PROCESSED_COLUMNS, row)) for row in rows_of_file(path, content, NOW)]


def event_line(**overrides):
    event = {"event_id": UUID, "user_id": "alice", "event_time": "2024-01-07T10:00:00Z", "source": "ga4", "schema_version": 1}
    event.update(overrides)
    return json.dumps(event).encode()


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


class RowsOfFileTest(unittest.TestCase):
    HEADER_A = "event_id,user_id,event_time,source,schema_version\n"
    ROW_A = f"{UUID},alice,2024-01-07T10:00:00Z,ga4,1\n"

    def test_each_csv_file_is_mapped_by_its_own_header(self):
        # Two files with their columns in a different order: Spark's CSV reader would map the second
        # by the first file's header (by position); here each file's header decides.
        first = rows("s3://l/a.csv", (self.HEADER_A + self.ROW_A).encode())
        second = rows("s3://l/b.csv", f"schema_version,source,event_time,user_id,event_id\n1,cdc,2024-01-07T11:00:00Z,bob,{UUID}\n".encode())
        self.assertEqual([(r["is_valid"], r["user_id"]) for r in first], [(True, "alice")])
        self.assertEqual(
            [(r["is_valid"], r["user_id"], r["source"], r["schema_version"], r["source_file"]) for r in second],
            [(True, "bob", "cdc", 1, "s3://l/b.csv")],
        )
        missing = rows("s3://l/c.csv", b"USER_ID,event_id\ncarol,x\n")
        self.assertEqual((missing[0]["reject_code"], missing[0]["reject_detail"]), ("missing_field", "event_time, source, schema_version"))
        self.assertIn('"user_id": "carol"', missing[0]["raw_record"])

    def test_upper_case_gzip_extension_is_decompressed(self):
        content = gzip.compress((self.HEADER_A + self.ROW_A).encode("utf-8-sig"))
        processed = rows("s3://l/part-1.CSV.GZ", content)
        self.assertEqual([(r["is_valid"], r["user_id"], r["source_file"]) for r in processed], [(True, "alice", "s3://l/part-1.CSV.GZ")])

    def test_malformed_lines_and_files_are_quarantined(self):
        csv_rows = rows("a.csv", (self.HEADER_A + "only,three,values\n\n" + self.ROW_A).encode())
        self.assertEqual([r["is_valid"] for r in csv_rows], [False, True])
        self.assertIn("3 values for 5 header columns", csv_rows[0]["reject_detail"])
        json_rows = rows("b.jsonl", b'{"event_id": "x", "schema_version": 1}\n[1, 2]\n{oops\n\n')
        self.assertEqual([r["reject_code"] for r in json_rows], ["missing_field", "malformed_record", "malformed_record"])
        self.assertEqual([r["raw_record"] for r in json_rows], ['{"event_id": "x", "schema_version": 1}', "[1, 2]", "{oops"])
        broken = rows("c.json.gz", gzip.compress(b'{"a": 1}\n')[:-6])
        self.assertIn("unreadable file", broken[-1]["reject_detail"])

    def test_empty_and_ignored_files_yield_nothing(self):
        self.assertEqual(rows("a.csv", b""), [])
        self.assertEqual(rows("a.csv", b"event_id,user_id\n"), [])
        self.assertEqual(rows("a.jsonl", b""), [])
        self.assertEqual(rows("a.parquet", b"PAR1"), [])

    def test_json_lines_are_checked_as_the_text_they_are(self):
        # A string-typed reader turned 42 into "42" and let it pass; the glue, Flink and the streaming
        # job reject it. So does the landing job, and equally "1" for schema_version, unknown
        # fields (the contract is closed) and an empty user_id (no "empty means absent" for JSON).
        cases = {
            event_line(user_id=42): "invalid_user_id",
            event_line(schema_version="1"): "unsupported_schema_version",
            event_line(extra="x"): "unexpected_field",
            event_line(user_id=""): "invalid_user_id",
            event_line(attributes={"country": 1}): "invalid_attributes",
            b'{"event_id": "x", "event_id": "'
            + UUID.encode()
            + b'", "user_id": "a", "event_time": "2024-01-07T10:00:00Z", "source": "ga4", "schema_version": 1}': None,
        }
        processed = rows("s3://l/e.jsonl", b"\n".join(cases))
        self.assertEqual([r["reject_code"] for r in processed], list(cases.values()))
        self.assertEqual(processed[0]["raw_record"], event_line(user_id=42).decode())
        self.assertEqual(processed[-1]["event_id"], UUID)  # duplicate keys: the last one wins, as in JSON.parse

    def test_invalid_utf8_is_rejected_not_replaced(self):
        # The glue rejects a line with invalid UTF-8; decoding with replacement would have accepted
        # a user_id holding U+FFFD.
        line = event_line(user_id="al\u00e9").replace("al\\u00e9".encode(), b"al\xe9")
        [row] = rows("s3://l/e.jsonl", line)
        self.assertEqual(row["reject_code"], "malformed_record")
        self.assertIn("not valid UTF-8", row["reject_detail"])
        self.assertIn("al\ufffd", row["raw_record"])

    def test_csv_rows_with_invalid_utf8_are_rejected_not_replaced(self):
        content = (self.HEADER_A + self.ROW_A).encode() + f"{UUID},al".encode() + b"\xe9" + b",2024-01-07T10:00:00Z,ga4,1\n"
        processed = rows("s3://l/a.csv", content)
        self.assertEqual([r["is_valid"] for r in processed], [True, False])
        self.assertEqual(processed[1]["reject_code"], "malformed_record")
        self.assertIn("not valid UTF-8", processed[1]["reject_detail"])
        self.assertIn("al\ufffd", json.loads(processed[1]["raw_record"])["_corrupt_record"])
        # A real U+FFFD that was sent as valid UTF-8 is just a character.
        genuine = rows("s3://l/b.csv", (self.HEADER_A + f"{UUID},al\ufffd,2024-01-07T10:00:00Z,ga4,1\n").encode())
        self.assertEqual([(r["is_valid"], r["user_id"]) for r in genuine], [(True, "al\ufffd")])

    def test_lines_are_split_like_the_glue_splits_them(self):
        # "\n" only: a lone "\r" between JSON tokens stays inside the line; CRLF loses its "\r"; a BOM
        # is dropped at the start of the file; blank lines (JavaScript trim) are skipped.
        content = b"\xef\xbb\xbf" + event_line() + b"\r\n \t\n\xc2\xa0\n" + event_line(user_id="bob").replace(b", ", b",\r ") + b"\n"
        self.assertEqual(len(list(json_lines(io.BytesIO(content)))), 4)
        processed = rows("s3://l/e.JSONL", content)
        self.assertEqual([(r["is_valid"], r["user_id"]) for r in processed], [(True, "alice"), (True, "bob")])
        self.assertIsNone(process_json_line(b"\xef\xbb\xbf", "f", NOW))  # a BOM alone is blank to JavaScript's trim
        self.assertEqual(process_json_line(b"\x1c", "f", NOW)[8], "malformed_record")  # Python's isspace, not JavaScript's

    def test_job_wiring_passes_each_binary_file_to_rows_of_file(self):
        # landing_to_bronze.main: files.rdd.flatMap(file_rows(now)) over binaryFile rows, whose content is a bytearray.
        body = landing_to_bronze.file_rows(NOW)
        processed = list(body({"path": "s3://l/x.ndjson.gz", "content": bytearray(gzip.compress(event_line() + b"\n" + event_line(source="email")))}))
        self.assertEqual([row[0] for row in processed], [True, False])
        self.assertEqual([row[-1] for row in processed], ["s3://l/x.ndjson.gz"] * 2)


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

    def test_corrupt_csv_record_is_quarantined_with_its_text(self):
        values = dict(zip(PROCESSED_COLUMNS, process_record({"_corrupt_record": "{oops"}, "b", NOW)))
        self.assertEqual((values["is_valid"], values["reject_code"]), (False, "malformed_record"))
        self.assertEqual(values["raw_record"], '{"_corrupt_record": "{oops"}')
        self.assertEqual(values["source_file"], "b")


if __name__ == "__main__":
    unittest.main()
