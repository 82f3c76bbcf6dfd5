import json
import os
import tempfile
import unittest

from jobs.flink.login_counts.job_config import (
    ConfigError,
    JobConfig,
    config_from_properties,
    load_application_properties,
    parse_application_properties,
)


def properties_document(group_map, group_id="lakestream", extra_groups=()):
    groups = [{"PropertyGroupId": group_id, "PropertyMap": group_map}, *extra_groups]
    return json.dumps(groups)


class ParseApplicationPropertiesTest(unittest.TestCase):
    def test_defaults_apply_when_only_the_brokers_are_given(self):
        config = parse_application_properties(properties_document({"bootstrap.servers": "b-1.msk.example:9098,b-2.msk.example:9098"}))
        self.assertEqual(config.bootstrap_servers, ("b-1.msk.example:9098", "b-2.msk.example:9098"))
        self.assertEqual(config.raw_topic, "logins.raw")
        self.assertEqual(config.counts_topic, "logins.counts")
        self.assertEqual(config.dlq_topic, "logins.raw.dlq")
        self.assertEqual((config.window_minutes, config.lateness_seconds, config.watermark_seconds), (5, 60, 10))
        self.assertEqual(config.bootstrap_servers_csv, "b-1.msk.example:9098,b-2.msk.example:9098")

    def test_every_property_is_read_from_the_lakestream_group_among_others(self):
        text = properties_document(
            {
                "bootstrap.servers": " b-1:9098 , b-2:9098 ",
                "topic.raw": "in.raw",
                "topic.counts": "out.counts",
                "topic.dlq": "in.raw.dlq",
                "consumer.group.id": "my-group",
                "window.minutes": "15",
                "lateness.seconds": "0",
                "watermark.seconds": "30",
                "idle.timeout.seconds": "120",
                "max.future.skew.seconds": "600",
            },
            extra_groups=[{"PropertyGroupId": "kinesis.analytics.flink.run.options", "PropertyMap": {"python": "job/main.py"}}],
        )
        self.assertEqual(
            parse_application_properties(text),
            JobConfig(
                bootstrap_servers=("b-1:9098", "b-2:9098"),
                raw_topic="in.raw",
                counts_topic="out.counts",
                dlq_topic="in.raw.dlq",
                consumer_group_id="my-group",
                window_minutes=15,
                lateness_seconds=0,
                watermark_seconds=30,
                idle_timeout_seconds=120,
                max_future_skew_seconds=600,
            ),
        )

    def assertConfigError(self, text, *fragments):
        with self.assertRaises(ConfigError) as caught:
            parse_application_properties(text)
        for fragment in fragments:
            self.assertIn(fragment, str(caught.exception))

    def test_missing_group_names_the_groups_present(self):
        self.assertConfigError(
            properties_document({"bootstrap.servers": "b:9098"}, group_id="other"),
            "'lakestream' not found",
            "other",
        )

    def test_missing_brokers_is_an_error(self):
        self.assertConfigError(properties_document({"window.minutes": "5"}), "missing required", "bootstrap.servers")

    def test_unknown_key_is_an_error_listing_the_allowed_keys(self):
        self.assertConfigError(
            properties_document({"bootstrap.servers": "b:9098", "window.minute": "5"}),
            "unknown lakestream properties: window.minute",
            "window.minutes",
        )

    def test_out_of_range_and_non_numeric_values_name_the_key(self):
        self.assertConfigError(properties_document({"bootstrap.servers": "b:9098", "window.minutes": "0"}), "lakestream.window.minutes", "between 1 and 1440")
        self.assertConfigError(properties_document({"bootstrap.servers": "b:9098", "lateness.seconds": "-5"}), "lakestream.lateness.seconds")
        self.assertConfigError(properties_document({"bootstrap.servers": "b:9098", "watermark.seconds": "ten"}), "lakestream.watermark.seconds", "'ten'")

    def test_bad_brokers_and_topics_are_reported(self):
        self.assertConfigError(properties_document({"bootstrap.servers": "b-1:9098,not a broker"}), "bad entries: not a broker")
        self.assertConfigError(properties_document({"bootstrap.servers": " , "}), "at least one host:port")
        self.assertConfigError(properties_document({"bootstrap.servers": "b:9098", "topic.raw": "logins raw"}), "lakestream.topic.raw", "Kafka topic name")

    def test_topics_must_differ(self):
        self.assertConfigError(
            properties_document({"bootstrap.servers": "b:9098", "topic.dlq": "logins.raw"}),
            "three different topics",
        )

    def test_values_must_be_strings(self):
        self.assertConfigError(properties_document({"bootstrap.servers": "b:9098", "window.minutes": 5}), "must be a string")

    def test_malformed_documents(self):
        self.assertConfigError("{not json", "not valid JSON")
        self.assertConfigError(json.dumps({"PropertyGroupId": "lakestream"}), "JSON list")
        self.assertConfigError(json.dumps([{"PropertyMap": {}}]), "PropertyGroupId")
        self.assertConfigError(json.dumps([{"PropertyGroupId": "lakestream"}]), "no PropertyMap")
        duplicated = [{"PropertyGroupId": "lakestream", "PropertyMap": {"bootstrap.servers": "b:9098"}}] * 2
        self.assertConfigError(json.dumps(duplicated), "appears 2 times")

    def test_config_from_properties_accepts_a_plain_mapping(self):
        self.assertEqual(config_from_properties({"bootstrap.servers": "b:9098"}).bootstrap_servers, ("b:9098",))


class LoadApplicationPropertiesTest(unittest.TestCase):
    def test_reads_the_file(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "application_properties.json")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(properties_document({"bootstrap.servers": "b:9098", "window.minutes": "10"}))
            self.assertEqual(load_application_properties(path).window_minutes, 10)

    def test_missing_file_names_the_path(self):
        with self.assertRaises(ConfigError) as caught:
            load_application_properties("/nonexistent/application_properties.json")
        self.assertIn("/nonexistent/application_properties.json", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
