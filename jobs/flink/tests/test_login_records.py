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
UUID = "3b241101-e2bb-4255-8caf-4136c566a962"
_ABSENT = object()


def login_payload(**overrides):
    event = {"event_id": UUID, "user_id": "u-42", "event_time": "2024-05-01T11:59:30Z", "source": "ga4", "schema_version": 1}
    event.update(overrides)
    return json.dumps({key: value for key, value in event.items() if value is not _ABSENT}).encode("utf-8")


class ParseLoginAcceptsTest(unittest.TestCase):
    def test_a_contract_valid_event_becomes_a_login_in_utc(self):
        self.assertEqual(
            parse_login(login_payload(), BROKER_TIME),
            Login(UUID, "u-42", datetime(2024, 5, 1, 11, 59, 30, tzinfo=timezone.utc), "ga4", 1),
        )

    def test_text_payloads_ga4_ids_fractions_and_attributes(self):
        payload = login_payload(event_id="ga4:123:202405011159:u-42:1", event_time="2024-05-01T11:00:00.123456789Z", attributes={"c": "NL"})
        result = parse_login(payload.decode("utf-8"), BROKER_TIME)
        self.assertIsInstance(result, Login)
        self.assertEqual(result.event_time, datetime(2024, 5, 1, 11, 0, 0, 123456, tzinfo=timezone.utc))

    def test_identifiers_are_kept_as_sent(self):
        # The contract does not trim; the glue keyed the raw record by this exact user_id.
        self.assertEqual(parse_login(login_payload(user_id=" u-42 "), BROKER_TIME).user_id, " u-42 ")

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

    def test_empty_oversized_and_invalid_utf8_records(self):
        self.assertRejected(None, "empty record")
        self.assertRejected(b"", "empty record")
        self.assertRejected(b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", "the limit is 65536")
        self.assertRejected(b'{"user_id": "\xff"}', "not valid UTF-8")

    def test_a_replacement_character_sent_as_such_is_ordinary_text(self):
        self.assertIsInstance(parse_login(login_payload(user_id="u\ufffd"), BROKER_TIME), Login)

    def test_non_json_non_objects_and_javascript_incompatible_constants(self):
        self.assertRejected(b"not json", "not valid JSON")
        self.assertRejected(b"[1, 2]", "contract violation: expected object")
        self.assertRejected(login_payload().replace(b'"schema_version": 1', b'"schema_version": NaN'), "not valid JSON")

    def test_contract_rules_name_the_field(self):
        cases = {
            "event_id": login_payload(event_id="e-1"),
            "user_id": login_payload(user_id="u" * 129),
            "source": login_payload(source="email"),
            "schema_version": login_payload(schema_version=2),
            "tenant": login_payload(tenant="x"),
        }
        for field, payload in cases.items():
            with self.subTest(field=field):
                self.assertRejected(payload, "contract violation", field)
        self.assertRejected(login_payload(event_id=_ABSENT), "missing field event_id")

    def test_event_time_must_be_utc_with_z(self):
        for text in ["2024-05-01T12:00:00", "2024-05-01T14:00:00+02:00", "2024-05-01 12:00:00Z", "2024-02-30T12:00:00Z", "2024-05-01T24:00:00Z"]:
            with self.subTest(text=text):
                self.assertRejected(login_payload(event_time=text), "contract violation: event_time")

    def test_events_too_far_ahead_of_the_broker_clock(self):
        result = self.assertRejected(login_payload(event_time="2024-05-01T12:10:00Z"), "600s ahead", "the limit is 300s")
        self.assertTrue(result.reason.startswith("event_time 2024-05-01T12:10:00Z"))
        self.assertIsInstance(parse_login(login_payload(event_time="2024-05-01T12:05:00Z"), BROKER_TIME), Login)
        self.assertIsInstance(parse_login(login_payload(event_time="2024-05-01T12:10:00Z"), BROKER_TIME, timedelta(minutes=10)), Login)


class ParseEventTimeTest(unittest.TestCase):
    def test_fraction_is_kept_to_microseconds(self):
        self.assertEqual(parse_event_time("2024-05-01T12:00:00.1234567Z").microsecond, 123456)
        self.assertEqual(parse_event_time("2024-05-01T12:00:00Z").microsecond, 0)

    def test_anything_but_utc_is_refused(self):
        with self.assertRaises(ValueError):
            parse_event_time("2024-05-01T12:00:00+02:00")


class RejectionReasonTest(unittest.TestCase):
    def test_routes_accepted_records_to_none_and_rejected_ones_to_their_reason(self):
        self.assertIsNone(rejection_reason(login_payload(), BROKER_TIME))
        self.assertEqual(rejection_reason(b"[]", BROKER_TIME), "contract violation: expected object")


if __name__ == "__main__":
    unittest.main()
