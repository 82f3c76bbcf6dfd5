import json
import unittest
from datetime import datetime, timedelta, timezone

from jobs.flink.login_counts.login_records import (
    MAX_PAYLOAD_BYTES,
    Login,
    Rejection,
    parse_event_time,
    parse_login,
    rejection_reason,
)

BROKER_TIME = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def login_payload(**overrides):
    event = {
        "event_id": "e-1",
        "user_id": "u-42",
        "event_time": "2024-05-01T11:59:30Z",
        "source": "ga4",
        "schema_version": 1,
    }
    event.update(overrides)
    return json.dumps({key: value for key, value in event.items() if value is not _ABSENT}).encode("utf-8")


_ABSENT = object()


class ParseLoginAcceptsTest(unittest.TestCase):
    def test_a_well_formed_event_becomes_a_login_in_utc(self):
        result = parse_login(login_payload(), BROKER_TIME)
        self.assertEqual(
            result,
            Login(
                event_id="e-1",
                user_id="u-42",
                event_time=datetime(2024, 5, 1, 11, 59, 30, tzinfo=timezone.utc),
                source="ga4",
                schema_version=1,
            ),
        )

    def test_text_payloads_from_the_raw_format_are_accepted(self):
        self.assertIsInstance(parse_login(login_payload().decode("utf-8"), BROKER_TIME), Login)

    def test_offsets_fractions_and_space_separator_are_normalised_to_utc(self):
        cases = {
            "2024-05-01T14:00:00+02:00": datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc),
            "2024-05-01T06:30:00.5-05:30": datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=timezone.utc),
            "2024-05-01 11:00:00.123456789Z": datetime(2024, 5, 1, 11, 0, 0, 123456, tzinfo=timezone.utc),
        }
        for text, expected in cases.items():
            with self.subTest(text=text):
                result = parse_login(login_payload(event_time=text), BROKER_TIME)
                self.assertIsInstance(result, Login)
                self.assertEqual(result.event_time, expected)

    def test_spaces_around_identifiers_are_ignored_and_extra_fields_allowed(self):
        result = parse_login(login_payload(user_id="  u-42 ", extra={"campaign": "spring"}), BROKER_TIME)
        self.assertIsInstance(result, Login)
        self.assertEqual(result.user_id, "u-42")

    def test_old_events_are_accepted_and_the_skew_check_needs_a_broker_time(self):
        self.assertIsInstance(parse_login(login_payload(event_time="2019-01-01T00:00:00Z"), BROKER_TIME), Login)
        self.assertIsInstance(parse_login(login_payload(event_time="2030-01-01T00:00:00Z"), None), Login)

    def test_naive_broker_times_are_taken_as_utc(self):
        naive = BROKER_TIME.replace(tzinfo=None)
        self.assertIsInstance(parse_login(login_payload(event_time="2024-05-01T12:04:59Z"), naive), Login)
        self.assertIsInstance(parse_login(login_payload(event_time="2024-05-01T12:05:01Z"), naive), Rejection)


class ParseLoginRejectsTest(unittest.TestCase):
    def assertRejected(self, raw, *fragments, broker_time=BROKER_TIME):
        result = parse_login(raw, broker_time)
        self.assertIsInstance(result, Rejection, f"expected a rejection for {raw!r}")
        for fragment in fragments:
            self.assertIn(fragment, result.reason)
        return result

    def test_empty_and_oversized_records(self):
        self.assertRejected(None, "empty record")
        self.assertRejected(b"", "empty record")
        self.assertRejected(b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", "the limit is 65536")

    def test_invalid_utf8_and_replacement_characters(self):
        self.assertRejected(b'{"user_id": "\xff"}', "not valid UTF-8")
        self.assertRejected('{"user_id": "\ufffd"}', "replacement characters")

    def test_non_json_and_non_objects(self):
        self.assertRejected(b"not json", "not valid JSON")
        self.assertRejected(b"[1, 2]", "JSON object", "array")
        self.assertRejected(b'"text"', "JSON object", "string")

    def test_duplicate_keys(self):
        self.assertRejected(b'{"user_id": "a", "user_id": "b"}', "duplicate key 'user_id'")

    def test_schema_version(self):
        self.assertRejected(login_payload(schema_version=_ABSENT), "schema_version must be an integer", "nothing")
        self.assertRejected(login_payload(schema_version="1"), "schema_version must be an integer", "str")
        self.assertRejected(login_payload(schema_version=True), "schema_version must be an integer", "boolean")
        self.assertRejected(login_payload(schema_version=2), "unsupported schema_version 2", "supported: 1")

    def test_identifiers(self):
        self.assertRejected(login_payload(event_id=_ABSENT), "event_id must be a string")
        self.assertRejected(login_payload(user_id=42), "user_id must be a string, got int")
        self.assertRejected(login_payload(user_id="   "), "user_id must not be empty")
        self.assertRejected(login_payload(user_id="u" * 257), "user_id is 257 characters")
        self.assertRejected(login_payload(user_id="u\t1"), "user_id contains control characters")
        self.assertRejected(login_payload(source="s" * 65), "source is 65 characters; the limit is 64")

    def test_event_time_grammar(self):
        for text in [
            "2024-05-01T12:00:00",  # no zone: ambiguous
            "2024-05-01T12:00Z",  # no seconds
            "2024-05-01T12:00:00z",
            "2024-05-01T12:00:00+0200",
            "2024-05-01T12:00:00,5Z",
            "1714564800",
            "2024-5-1T12:00:00Z",
        ]:
            with self.subTest(text=text):
                self.assertRejected(login_payload(event_time=text), "event_time must look like")
        self.assertRejected(login_payload(event_time=1714564800), "event_time must be a string, got int")

    def test_impossible_dates_and_offsets(self):
        self.assertRejected(login_payload(event_time="2024-02-30T12:00:00Z"), "not a real calendar date")
        self.assertRejected(login_payload(event_time="2024-05-01T24:00:00Z"), "not a real calendar date")
        self.assertRejected(login_payload(event_time="2024-05-01T12:00:00+24:00"), "out-of-range UTC offset")

    def test_events_too_far_ahead_of_the_broker_clock(self):
        result = self.assertRejected(login_payload(event_time="2024-05-01T12:10:00Z"), "600s ahead", "the limit is 300s")
        self.assertTrue(result.reason.startswith("event_time 2024-05-01T12:10:00Z"))
        # The limit is inclusive and configurable.
        self.assertIsInstance(parse_login(login_payload(event_time="2024-05-01T12:05:00Z"), BROKER_TIME), Login)
        self.assertIsInstance(
            parse_login(login_payload(event_time="2024-05-01T12:10:00Z"), BROKER_TIME, timedelta(minutes=10)), Login
        )


class ParseEventTimeTest(unittest.TestCase):
    def test_fraction_is_kept_to_microseconds(self):
        self.assertEqual(parse_event_time("2024-05-01T12:00:00.1234567Z").microsecond, 123456)

    def test_error_message_shows_the_expected_form(self):
        with self.assertRaises(ValueError) as caught:
            parse_event_time("yesterday")
        self.assertIn("2024-05-01T12:00:00Z", str(caught.exception))


class RejectionReasonTest(unittest.TestCase):
    def test_routes_accepted_records_to_none_and_rejected_ones_to_their_reason(self):
        self.assertIsNone(rejection_reason(login_payload(), BROKER_TIME))
        self.assertEqual(rejection_reason(b"[]", BROKER_TIME), "payload must be a JSON object, got a JSON array")


if __name__ == "__main__":
    unittest.main()
