import json
import os
import unittest
from datetime import datetime, timedelta, timezone

from lakestream_spark.contract import (
    EVENT_ID_PATTERNS,
    EVENT_TIME_PATTERN,
    LOGIN_FIELDS,
    SOURCES,
    SUPPORTED_SCHEMA_VERSIONS,
    USER_ID_MAX_LENGTH,
    LoginEvent,
    Rejection,
    parse_event_time,
    parse_schema_version,
    raw_record_json,
    validate_login_json,
    validate_login_record,
)
from lakestream_spark.kafka_source import LOGIN_PARSE_FIELDS, MAX_REJECT_DETAIL_CHARS, parse_login_value

NOW = datetime(2024, 1, 7, 12, 0, tzinfo=timezone.utc)
UUID = "0b5c7a52-2f1e-4c43-9a7e-3d6a1e9b8c10"
CONTRACT = os.path.join(os.path.dirname(__file__), "..", "..", "contracts", "login-event.schema.json")


def record(**overrides):
    base = {"event_id": UUID, "user_id": "alice", "event_time": "2024-01-07T10:15:30Z", "source": "ga4", "schema_version": "1"}
    base.update(overrides)
    return base


class ContractDriftTest(unittest.TestCase):
    """The constants restate jobs/contracts/login-event.schema.json; this fails when the two disagree."""

    @classmethod
    def setUpClass(cls):
        with open(CONTRACT, encoding="utf-8") as handle:
            cls.schema = json.load(handle)

    def test_required_fields(self):
        self.assertEqual(tuple(self.schema["required"]), LOGIN_FIELDS)

    def test_field_rules(self):
        properties = self.schema["properties"]
        self.assertEqual(tuple(p["pattern"] for p in properties["event_id"]["anyOf"]), EVENT_ID_PATTERNS)
        self.assertEqual(properties["user_id"]["maxLength"], USER_ID_MAX_LENGTH)
        self.assertEqual(properties["event_time"]["pattern"], EVENT_TIME_PATTERN)
        self.assertEqual(tuple(properties["source"]["enum"]), SOURCES)
        self.assertEqual({properties["schema_version"]["const"]}, set(SUPPORTED_SCHEMA_VERSIONS))


class ParseEventTimeTest(unittest.TestCase):
    def test_accepts_zulu_and_normalises_to_utc(self):
        self.assertEqual(parse_event_time("2024-01-07T10:15:30Z"), datetime(2024, 1, 7, 10, 15, 30, tzinfo=timezone.utc))

    def test_converts_offsets_to_utc(self):
        self.assertEqual(parse_event_time("2024-01-07T01:30:00+02:00"), datetime(2024, 1, 6, 23, 30, tzinfo=timezone.utc))
        self.assertEqual(parse_event_time("2024-01-06T22:00:00-0130"), datetime(2024, 1, 6, 23, 30, tzinfo=timezone.utc))

    def test_keeps_microseconds_and_truncates_nanoseconds(self):
        self.assertEqual(parse_event_time("2024-01-07T10:15:30.5Z").microsecond, 500000)
        self.assertEqual(parse_event_time("2024-01-07T10:15:30.123456789Z").microsecond, 123456)

    def test_rejects_timestamps_without_offset_and_impossible_values(self):
        for value in ("2024-01-07T10:15:30", "2024-02-30T10:00:00Z", "2024-01-07T25:00:00Z", "2024-01-07T10:00:00+24:00", "yesterday"):
            with self.subTest(value=value), self.assertRaises(ValueError):
                parse_event_time(value)


class ParseSchemaVersionTest(unittest.TestCase):
    def test_accepts_integers_and_digit_strings(self):
        self.assertEqual(parse_schema_version(1), 1)
        self.assertEqual(parse_schema_version(" 2 "), 2)

    def test_rejects_other_values(self):
        for value in (True, 1.0, "1.0", "v1", None):
            with self.subTest(value=value), self.assertRaises(ValueError):
                parse_schema_version(value)


class ValidateLoginRecordTest(unittest.TestCase):
    def test_valid_record_is_normalised(self):
        event = validate_login_record(record(schema_version=1), NOW)
        self.assertEqual(event, LoginEvent(UUID, "alice", datetime(2024, 1, 7, 10, 15, 30, tzinfo=timezone.utc), "ga4", 1))

    def test_values_are_kept_as_sent_like_the_glue_keeps_them(self):
        self.assertEqual(validate_login_record(record(user_id="  alice  "), NOW).user_id, "  alice  ")

    def test_ga4_event_ids(self):
        self.assertIsInstance(validate_login_record(record(event_id="ga4:1704622530.123-abc"), NOW), LoginEvent)
        self.assertEqual(validate_login_record(record(event_id="ga4:has space"), NOW).code, "invalid_event_id")
        self.assertEqual(validate_login_record(record(event_id="e-1"), NOW).code, "invalid_event_id")

    def test_lists_every_missing_or_empty_field(self):
        outcome = validate_login_record(record(event_id=None, user_id="", source=""), NOW)
        self.assertEqual(outcome, Rejection("missing_field", "event_id, user_id, source"))
        self.assertEqual(outcome.reason, "missing_field: event_id, user_id, source")

    def test_absent_keys_count_as_missing(self):
        outcome = validate_login_record({"event_id": UUID}, NOW)
        self.assertEqual(outcome, Rejection("missing_field", "user_id, event_time, source, schema_version"))

    def test_corrupt_line_is_rejected_before_anything_else(self):
        outcome = validate_login_record({"_corrupt_record": "{not json"}, NOW)
        self.assertEqual(outcome.code, "malformed_record")
        self.assertIn("{not json", outcome.detail)

    def test_event_time_must_be_utc_rfc3339(self):
        for value in ("07/01/2024 10:00", "2024-01-07T11:15:30+01:00", "2024-01-07 10:15:30Z", "2023-02-29T10:00:00Z"):
            with self.subTest(value=value):
                self.assertEqual(validate_login_record(record(event_time=value), NOW).code, "invalid_event_time")
        self.assertIsInstance(validate_login_record(record(event_time="2024-02-29T23:59:59.999Z"), datetime(2024, 3, 1, tzinfo=timezone.utc)), LoginEvent)

    def test_event_time_beyond_clock_skew(self):
        in_skew = (NOW + timedelta(minutes=59)).strftime("%Y-%m-%dT%H:%M:%SZ")
        too_late = (NOW + timedelta(minutes=61)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.assertIsInstance(validate_login_record(record(event_time=in_skew), NOW), LoginEvent)
        self.assertEqual(validate_login_record(record(event_time=too_late), NOW).code, "event_time_in_future")

    def test_source_must_be_a_known_producer(self):
        self.assertEqual(
            validate_login_record(record(source="crm"), NOW),
            Rejection("invalid_source", 'source: must be one of ["ga4", "replay", "cdc", "test"]'),
        )

    def test_schema_version_checks(self):
        self.assertEqual(validate_login_record(record(schema_version="one"), NOW).code, "unsupported_schema_version")
        self.assertEqual(validate_login_record(record(schema_version="2"), NOW), Rejection("unsupported_schema_version", "schema_version: must be 1"))
        self.assertEqual(validate_login_record(record(schema_version=" 1"), NOW).code, "unsupported_schema_version")

    def test_user_id_length_limit(self):
        self.assertIsInstance(validate_login_record(record(user_id="u" * 128), NOW), LoginEvent)
        self.assertEqual(
            validate_login_record(record(user_id="u" * 129), NOW),
            Rejection("field_too_long", "user_id: must be at most 128 characters"),
        )

    def test_unknown_fields_are_refused_like_the_glue_refuses_them(self):
        self.assertEqual(validate_login_record({**record(), "tenant": "x"}, NOW).code, "unexpected_field")


class ValidateLoginJsonTest(unittest.TestCase):
    def test_types_count_for_json_lines(self):
        line = '{"event_id": "%s", "user_id": "alice", "event_time": "2024-01-07T10:15:30Z", "source": "ga4", "schema_version": 1}' % UUID
        self.assertIsInstance(validate_login_json(line, NOW), LoginEvent)
        self.assertEqual(validate_login_json(line.replace('"alice"', "42"), NOW).code, "invalid_user_id")
        self.assertEqual(validate_login_json(line.replace(": 1}", ': "1"}'), NOW).code, "unsupported_schema_version")
        self.assertEqual(validate_login_json("{not json", NOW).code, "malformed_record")
        self.assertEqual(validate_login_json("[]", NOW).code, "malformed_record")


class StreamingParseTest(unittest.TestCase):
    """lakestream_spark.kafka_source.parse_login_value: the streaming job's UDF body."""

    FIELDS = tuple(name for name, _ in LOGIN_PARSE_FIELDS)
    SENT = int(datetime(2024, 1, 7, 10, 15, 30, tzinfo=timezone.utc).timestamp() * 1000)

    def parse(self, value, millis=SENT):
        result = parse_login_value(value, millis)
        self.assertEqual(len(result), len(self.FIELDS))
        return dict(zip(self.FIELDS, result))

    def test_accepted_record_carries_its_fields_and_event_time_in_microseconds(self):
        value = json.dumps({**record(schema_version=1), "event_time": "2024-01-07T10:15:30.1234567Z"}).encode()
        parsed = self.parse(bytearray(value))
        self.assertEqual(
            parsed,
            {
                "event_id": UUID,
                "user_id": "alice",
                "event_time_micros": 1704622530123456,
                "source": "ga4",
                "schema_version": 1,
                "reject_code": None,
                "reject_detail": None,
            },
        )

    def test_rejected_record_carries_only_the_reason(self):
        parsed = self.parse(json.dumps(record(schema_version=1, source="email")).encode())
        self.assertEqual(parsed["reject_code"], "invalid_source")
        self.assertEqual({k: v for k, v in parsed.items() if not k.startswith("reject_")}, dict.fromkeys(self.FIELDS[:5]))
        long_value = json.dumps(record(schema_version=1, user_id="u" * 100_000)).encode()
        self.assertLessEqual(len(self.parse(long_value)["reject_detail"]), MAX_REJECT_DETAIL_CHARS)

    def test_tombstones_and_empty_values_are_rejected(self):
        for value in (None, b"", bytearray()):
            with self.subTest(value=value):
                self.assertEqual(self.parse(value)["reject_code"], "malformed_record")

    def test_skew_is_measured_from_the_kafka_timestamp(self):
        value = json.dumps(record(schema_version=1)).encode()
        five_minutes = 300_000
        self.assertIsNone(self.parse(value, self.SENT - five_minutes)["reject_code"])
        self.assertEqual(self.parse(value, self.SENT - five_minutes - 1)["reject_code"], "event_time_in_future")
        self.assertIsNone(self.parse(value, None)["reject_code"])
        self.assertEqual(parse_login_value(value, self.SENT - 2000, 1)[5], "event_time_in_future")


class RawRecordJsonTest(unittest.TestCase):
    def test_sorted_and_without_nulls(self):
        self.assertEqual(raw_record_json({"user_id": "bob", "event_id": None, "_corrupt_record": None, "a": 1}), '{"a": 1, "user_id": "bob"}')


if __name__ == "__main__":
    unittest.main()
