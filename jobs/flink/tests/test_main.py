import json
import unittest
from datetime import datetime

from jobs.flink.login_counts import main


class MainHelpersTest(unittest.TestCase):
    def test_properties_path_defaults_to_the_managed_flink_file(self):
        self.assertEqual(main.properties_path({}), "/etc/flink/application_properties.json")
        self.assertFalse(main.is_local_run({}))

    def test_a_local_properties_file_makes_a_local_run(self):
        environ = {main.PROPERTIES_PATH_VARIABLE: "/tmp/props.json"}
        self.assertEqual(main.properties_path(environ), "/tmp/props.json")
        self.assertTrue(main.is_local_run(environ))

    def test_the_udf_body_applies_the_configured_skew_bound(self):
        payload = json.dumps({"event_id": "ga4:e", "user_id": "u", "source": "ga4", "schema_version": 1, "event_time": "2024-05-01T12:02:00Z"}).encode("utf-8")
        broker = datetime(2024, 5, 1, 12, 0, 0)
        self.assertIsNone(main.make_rejection_function(300)(payload, broker))
        self.assertIn("120s ahead", main.make_rejection_function(60)(payload, broker))
        self.assertEqual(main.make_rejection_function(60)(None, broker), "empty record (no value)")

    def test_pyflink_is_not_needed_to_import_the_entry_point(self):
        self.assertTrue(callable(main.main))


if __name__ == "__main__":
    unittest.main()
