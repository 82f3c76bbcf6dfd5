import hashlib
import hmac
import unittest

from lakestream_spark.user_ref import USER_REF_HEX_LENGTH, USER_REF_KEY_PROPERTY, check_key, user_ref, user_ref_function

KEY = b"k" * 64
OTHER_KEY = b"o" * 64


class UserRefTest(unittest.TestCase):
    def test_is_the_truncated_hmac_sha256_of_the_id(self):
        expected = hmac.new(KEY, "user-1".encode("utf-8"), hashlib.sha256).hexdigest()[:32]
        self.assertEqual(user_ref(KEY, "user-1"), expected)
        self.assertEqual(len(user_ref(KEY, "user-1")), USER_REF_HEX_LENGTH)

    def test_deterministic_per_key_and_distinct_per_user(self):
        self.assertEqual(user_ref(KEY, "user-1"), user_ref(KEY, "user-1"))
        self.assertNotEqual(user_ref(KEY, "user-1"), user_ref(KEY, "user-2"))

    def test_another_key_gives_other_references(self):
        self.assertNotEqual(user_ref(KEY, "user-1"), user_ref(OTHER_KEY, "user-1"))

    def test_not_the_unkeyed_hash_and_does_not_contain_the_id(self):
        ref = user_ref(KEY, "alice@example.com")
        self.assertNotEqual(ref, hashlib.sha256(b"alice@example.com").hexdigest()[:32])
        self.assertNotIn("alice", ref)

    def test_missing_id_stays_missing(self):
        self.assertIsNone(user_ref(KEY, None))
        self.assertIsNone(user_ref_function(KEY)(None))

    def test_non_ascii_ids_are_hashed_as_utf8(self):
        expected = hmac.new(KEY, "usér".encode("utf-8"), hashlib.sha256).hexdigest()[:32]
        self.assertEqual(user_ref_function(KEY)("usér"), expected)


class CheckKeyTest(unittest.TestCase):
    def test_missing_key_names_the_property(self):
        with self.assertRaisesRegex(ValueError, USER_REF_KEY_PROPERTY.replace(".", r"\.")):
            check_key(None)

    def test_unresolved_annotation_is_refused(self):
        with self.assertRaisesRegex(ValueError, "not resolved"):
            check_key("EMR.secret@lakestream-dev-user-ref")

    def test_short_key_is_refused(self):
        with self.assertRaisesRegex(ValueError, "at least 32"):
            check_key("short")

    def test_generated_key_is_accepted(self):
        self.assertEqual(check_key("a" * 64), b"a" * 64)


class JobsWriteUserRefTest(unittest.TestCase):
    def test_per_user_reports_get_user_ref_and_aggregates_do_not(self):
        from daily_report import report_columns
        from lakestream_spark.report_sql import REPORTS

        per_user = {report.name for report in REPORTS if report.per_user}
        self.assertEqual(per_user, {"logins_per_user_per_day", "top_users"})
        for report in REPORTS:
            columns = report_columns(report)
            if report.per_user:
                self.assertIn("lakestream_user_ref(user_id) AS user_ref", columns)
            else:
                self.assertEqual(columns, ["*"])

    def test_record_topics_carry_user_ref_of_the_value_user_id(self):
        from lakestream_spark.kafka_source import record_projection
        from lakestream_spark.schemas import KAFKA_RECORD_COLUMNS

        self.assertIn("lakestream_user_ref(get_json_object(CAST(value AS STRING), '$.user_id')) AS user_ref", record_projection().project)
        self.assertIn(("user_ref", "STRING"), KAFKA_RECORD_COLUMNS)


if __name__ == "__main__":
    unittest.main()
