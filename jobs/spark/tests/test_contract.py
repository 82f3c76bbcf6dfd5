import unittest
from datetime import datetime, timedelta, timezone

from lakestream_spark.contract import (
    LoginEvent,
    Rejection,
    parse_event_time,
    parse_schema_version,
    raw_record_json,
    validate_login_record,
)

NOW = datetime(2024, 1, 7, 12, 0, tzinfo=timezone.utc)


def record(**overrides):
    base = {
        "event_id": "e-1",
        "user_id": "alice",
        "event_time": "2024-01-07T10:15:30Z",
        "source": "ga4",
        "schema_version": "1",
    }
    base.update(overrides)
    return base


class ParseEventTimeTest(unittest.TestCase):
    def test_accepts_zulu_and_normalises_to_utc(self):
        self.assertEqual(parse_event_time("2024-01-07T10:15:30Z"), datetime(2024, 1, 7, 10, 15, 30, tzinfo=timezone.utc))

    def test_converts_offsets_to_utc(self):
        self.assertEqual(parse_event_time("2024-01-07T01:30:00+02:00"), datetime(2024, 1, 6, 23, 30, tzinfo=timezone.utc))
        self.assertEqual(parse_event_time("2024-01-06T22:00:00-0130"), datetime(2024, 1, 6, 23, 30, tzinfo=timezone.utc))
        self.assertEqual(parse_event_time("2024-01-07 10:15+01"), datetime(2024, 1, 7, 9, 15, tzinfo=timezone.utc))

    def test_keeps_microseconds_and_truncates_nanoseconds(self):
        self.assertEqual(parse_event_time("2024-01-07T10:15:30.5Z").microsecond, 500000)
        self.assertEqual(parse_event_time("2024-01-07T10:15:30.123456789Z").microsecond, 123456)

    def test_rejects_timestamps_without_offset(self):
        with self.assertRaisesRegex(ValueError, "UTC offset"):
            parse_event_time("2024-01-07T10:15:30")

    def test_rejects_impossible_values(self):
        for value in ("2024-02-30T10:00:00Z", "2024-01-07T25:00:00Z", "2024-01-07T10:00:00+24:00", "yesterday"):
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
        event = validate_login_record(record(user_id="  alice  ", schema_version=1), NOW)
        self.assertEqual(
            event,
            LoginEvent("e-1", "alice", datetime(2024, 1, 7, 10, 15, 30, tzinfo=timezone.utc), "ga4", 1),
        )

    def test_lists_every_missing_or_blank_field(self):
        outcome = validate_login_record(record(event_id=None, user_id="   ", source=""), NOW)
        self.assertEqual(outcome, Rejection("missing_field", "event_id, user_id, source"))
        self.assertEqual(outcome.reason, "missing_field: event_id, user_id, source")

    def test_absent_keys_count_as_missing(self):
        outcome = validate_login_record({"event_id": "e-1"}, NOW)
        self.assertEqual(outcome.code, "missing_field")
        self.assertEqual(outcome.detail, "user_id, event_time, source, schema_version")

    def test_corrupt_line_is_rejected_before_anything_else(self):
        outcome = validate_login_record({"_corrupt_record": "{not json"}, NOW)
        self.assertEqual(outcome.code, "malformed_record")
        self.assertIn("{not json", outcome.detail)

    def test_bad_event_time(self):
        outcome = validate_login_record(record(event_time="07/01/2024 10:00"), NOW)
        self.assertEqual(outcome.code, "invalid_event_time")

    def test_event_time_beyond_clock_skew(self):
        in_skew = (NOW + timedelta(minutes=59)).isoformat()
        too_late = (NOW + timedelta(minutes=61)).isoformat()
        self.assertIsInstance(validate_login_record(record(event_time=in_skew), NOW), LoginEvent)
        self.assertEqual(validate_login_record(record(event_time=too_late), NOW).code, "event_time_in_future")

    def test_schema_version_checks(self):
        self.assertEqual(validate_login_record(record(schema_version="one"), NOW).code, "invalid_schema_version")
        outcome = validate_login_record(record(schema_version="2"), NOW)
        self.assertEqual(outcome, Rejection("unsupported_schema_version", "2 (supported: 1)"))

    def test_field_length_limits(self):
        self.assertIsInstance(validate_login_record(record(user_id="u" * 256), NOW), LoginEvent)
        self.assertEqual(
            validate_login_record(record(user_id="u" * 257), NOW),
            Rejection("field_too_long", "user_id has 257 characters, the limit is 256"),
        )
        self.assertEqual(validate_login_record(record(source="s" * 65), NOW).code, "field_too_long")


class RawRecordJsonTest(unittest.TestCase):
    def test_sorted_and_without_nulls(self):
        self.assertEqual(raw_record_json({"user_id": "bob", "event_id": None, "_corrupt_record": None, "a": 1}), '{"a": 1, "user_id": "bob"}')


if __name__ == "__main__":
    unittest.main()
