"""The cross-layer fixture set (test/contracts/fixtures/login-event-verdicts.json) through the per-record
functions of the Flink job, the Spark streaming job and the Spark landing job;
test/contracts/cross-layer.test.ts runs the same set through the TypeScript glue and compares all
layers directly. Also: raw-byte cases the JSON fixture file cannot hold, whole landing files made of
the fixtures, and the future-skew rule the two streaming jobs share."""
import gzip
import json
import os
import unittest
from datetime import datetime, timedelta, timezone

from jobs.contracts.cross_layer_verdicts import CLOCK, LAYERS, STREAMING_FIELDS, layer_verdicts, raw_bytes, verdicts
from jobs.flink.login_counts.job_config import JobConfig
from jobs.flink.login_counts.login_records import Login, parse_login
from lakestream_spark.kafka_source import DEFAULT_MAX_FUTURE_SKEW_SECONDS, parse_login_value
from lakestream_spark.landing import PROCESSED_COLUMNS, rows_of_file

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "test", "contracts", "fixtures", "login-event-verdicts.json")
VALID = b'{"event_id": "3b241101-e2bb-4255-8caf-4136c566a962", "user_id": "u-42", "event_time": "2024-05-01T11:59:30Z", "source": "ga4", "schema_version": 1}'


def load_fixtures():
    with open(FIXTURES, encoding="utf-8") as handle:
        return json.load(handle)["fixtures"]


class CrossLayerFixturesTest(unittest.TestCase):
    def test_every_job_gives_the_contract_verdict_on_every_fixture(self):
        fixtures = load_fixtures()
        self.assertGreater(len(fixtures), 40)
        results = verdicts(fixtures)
        wrong = {fixture["name"]: results[fixture["name"]] for fixture in fixtures if results[fixture["name"]] != {layer: fixture["valid"] for layer in LAYERS}}
        self.assertEqual(wrong, {})

    def test_raw_bytes_get_one_verdict_in_every_job(self):
        # The glue rejects invalid UTF-8 lines (line-processor.ts isUtf8); no job may replace the bytes
        # with U+FFFD and accept the text.
        invalid_utf8 = VALID.replace(b'"u-42"', b'"u-\xff"')
        lone_surrogate = VALID.replace(b'"u-42"', '"u-\ud800"'.encode("utf-8", "surrogatepass"))
        overlong = VALID.replace(b'"u-42"', b'"u-\xc0\xaf"')
        for name, raw in (("invalid byte", invalid_utf8), ("lone surrogate", lone_surrogate), ("overlong encoding", overlong)):
            with self.subTest(name=name):
                self.assertEqual(layer_verdicts(raw), {layer: False for layer in LAYERS})
        self.assertEqual(layer_verdicts(VALID.replace(b'"u-42"', '"u-\u00e9"'.encode())), {layer: True for layer in LAYERS})

    def test_landing_files_of_the_fixtures_give_the_same_verdicts(self):
        # The landing job's file handling (line splitting, CRLF, BOM, gzip) changes no verdict.
        fixtures = load_fixtures()
        lines = [raw_bytes(fixture) for fixture in fixtures]
        expected = [fixture["valid"] for fixture in fixtures]
        files = {
            "plain LF": ("s3://l/f.jsonl", b"\n".join(lines) + b"\n"),
            "CRLF with a BOM": ("s3://l/f.JSON", b"\xef\xbb\xbf" + b"\r\n".join(lines)),
            "gzip": ("s3://l/f.ndjson.gz", gzip.compress(b"\n".join(lines))),
        }
        for name, (path, content) in files.items():
            with self.subTest(file=name):
                processed = [dict(zip(PROCESSED_COLUMNS, row)) for row in rows_of_file(path, content, CLOCK)]
                self.assertEqual([row["is_valid"] for row in processed], expected)

    def test_the_streaming_jobs_share_the_future_skew_rule(self):
        # Both measure from the record's Kafka timestamp with the same default bound, so Flink counts
        # exactly the records streaming bronze marks valid.
        self.assertEqual(DEFAULT_MAX_FUTURE_SKEW_SECONDS, JobConfig(bootstrap_servers=("b-1:9098",)).max_future_skew_seconds)
        event_time = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
        raw = VALID.replace(b"2024-05-01T11:59:30Z", b"2024-05-01T12:00:00Z")
        for ahead, valid in ((DEFAULT_MAX_FUTURE_SKEW_SECONDS, True), (DEFAULT_MAX_FUTURE_SKEW_SECONDS + 1, False)):
            broker_time = event_time - timedelta(seconds=ahead)
            millis = int(broker_time.timestamp() * 1000)
            streaming = dict(zip(STREAMING_FIELDS, parse_login_value(raw, millis)))
            with self.subTest(ahead=ahead):
                self.assertEqual(isinstance(parse_login(raw, broker_time), Login), valid)
                self.assertEqual(streaming["reject_code"] is None, valid)


if __name__ == "__main__":
    unittest.main()
