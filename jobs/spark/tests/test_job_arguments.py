import contextlib
import io
import unittest
from datetime import date, datetime, timezone

import daily_report
import landing_to_bronze
import streaming_bronze
from lakestream_spark.kafka_source import LOGIN_JSON_SCHEMA_DDL, MSK_IAM_OPTIONS, contract_check_sql, finishing_columns, kafka_source_options


def fails(parse, argv):
    with contextlib.redirect_stderr(io.StringIO()) as stderr, unittest.TestCase().assertRaises(SystemExit):
        parse(argv)
    return stderr.getvalue()


class StreamingBronzeArgumentsTest(unittest.TestCase):
    BASE = ["--bootstrap-servers", "b-1:9098,b-2:9098", "--bronze-uri", "s3://lake-bronze"]

    def test_defaults(self):
        args = streaming_bronze.parse_args(self.BASE)
        self.assertEqual(args.bronze_uri, "s3://lake-bronze/")
        self.assertEqual(args.checkpoint_uri, "s3://lake-bronze/_checkpoints/")
        self.assertEqual((args.logins_topic, args.record_topic), ("logins.raw", ["logins.counts"]))
        self.assertEqual((args.trigger_seconds, args.starting_offsets, args.max_offsets_per_trigger), (60, "earliest", None))
        self.assertFalse(args.fail_on_data_loss)

    def test_overrides(self):
        args = streaming_bronze.parse_args(
            self.BASE
            + ["--checkpoint-uri", "s3://lake-ckpt/x", "--record-topic", "a.b", "--record-topic", "c", "--trigger-seconds", "30",
               "--max-offsets-per-trigger", "5000", "--starting-offsets", "latest", "--fail-on-data-loss"]
        )
        self.assertEqual(args.checkpoint_uri, "s3://lake-ckpt/x/")
        self.assertEqual(args.record_topic, ["a.b", "c"])
        self.assertEqual((args.trigger_seconds, args.max_offsets_per_trigger, args.starting_offsets), (30, 5000, "latest"))
        self.assertTrue(args.fail_on_data_loss)

    def test_rejections(self):
        self.assertIn("--bootstrap-servers", fails(streaming_bronze.parse_args, ["--bronze-uri", "s3://lake-bronze"]))
        self.assertIn("not a valid S3 URI", fails(streaming_bronze.parse_args, ["--bootstrap-servers", "b:9098", "--bronze-uri", "s3://X"]))
        self.assertIn("positive integer", fails(streaming_bronze.parse_args, self.BASE + ["--trigger-seconds", "0"]))
        self.assertIn("invalid choice", fails(streaming_bronze.parse_args, self.BASE + ["--starting-offsets", "now"]))
        self.assertIn("listed once", fails(streaming_bronze.parse_args, self.BASE + ["--record-topic", "logins.raw"]))

    def test_plans_one_query_per_topic(self):
        plans = streaming_bronze.plan_streams(streaming_bronze.parse_args(self.BASE))
        self.assertEqual([p.topic for p in plans], ["logins.raw", "logins.counts"])
        self.assertEqual([p.query_name for p in plans], ["bronze_logins_raw", "bronze_logins_counts"])
        self.assertEqual([p.output_uri for p in plans], ["s3://lake-bronze/kafka/logins_raw/", "s3://lake-bronze/kafka/logins_counts/"])
        self.assertEqual(
            [p.checkpoint_uri for p in plans],
            ["s3://lake-bronze/_checkpoints/kafka/logins_raw/", "s3://lake-bronze/_checkpoints/kafka/logins_counts/"],
        )
        self.assertEqual([p.has_login_contract for p in plans], [True, False])
        self.assertIn(f"from_json(CAST(value AS STRING), '{LOGIN_JSON_SCHEMA_DDL}') AS login", plans[0].projection.parse)
        self.assertIn("CAST(login.schema_version AS INT) AS schema_version", plans[0].projection.project)
        self.assertNotIn("login", " ".join(plans[1].projection.parse))

    def test_validity_column_only_for_the_contract_topic(self):
        self.assertIn(f"({contract_check_sql()}) AS is_valid", finishing_columns(True))
        self.assertEqual(
            contract_check_sql(),
            "coalesce(event_id IS NOT NULL AND user_id IS NOT NULL AND parsed_event_time IS NOT NULL"
            " AND length(user_id) BETWEEN 1 AND 128 AND source IN ('ga4', 'replay', 'cdc', 'test') AND schema_version IN (1), false)",
        )
        self.assertFalse(any("AS is_valid" in c for c in finishing_columns(False)))
        self.assertIn("coalesce(parsed_event_time, kafka_timestamp) AS event_time", finishing_columns(False))


class KafkaOptionsTest(unittest.TestCase):
    def test_msk_iam_options(self):
        options = kafka_source_options(" b-1:9098 ", "logins.raw", "earliest", 1000, False)
        self.assertEqual(options["kafka.bootstrap.servers"], "b-1:9098")
        self.assertEqual(options["subscribe"], "logins.raw")
        self.assertEqual(options["kafka.security.protocol"], "SASL_SSL")
        self.assertEqual(options["kafka.sasl.mechanism"], "AWS_MSK_IAM")
        self.assertEqual(options["kafka.sasl.jaas.config"], "software.amazon.msk.auth.iam.IAMLoginModule required;")
        self.assertEqual(options["kafka.sasl.client.callback.handler.class"], "software.amazon.msk.auth.iam.IAMClientCallbackHandler")
        self.assertEqual((options["maxOffsetsPerTrigger"], options["failOnDataLoss"]), ("1000", "false"))
        self.assertTrue(set(MSK_IAM_OPTIONS.items()) <= set(options.items()))

    def test_optional_bound_and_empty_brokers(self):
        self.assertNotIn("maxOffsetsPerTrigger", kafka_source_options("b:9098", "t", "latest", None, True))

    def test_consumer_groups_carry_the_granted_prefix(self):
        self.assertEqual(kafka_source_options("b:9098", "t", "latest", None, True)["groupIdPrefix"], "lakestream-spark-bronze")
        self.assertEqual(kafka_source_options("b:9098", "t", "latest", None, True, "team-x")["groupIdPrefix"], "team-x")
        with self.assertRaises(ValueError):
            kafka_source_options("b:9098", "t", "latest", None, True, "bad prefix*")
        with self.assertRaisesRegex(ValueError, "bootstrap servers"):
            kafka_source_options("  ", "t", "latest", None, True)


class LandingToBronzeArgumentsTest(unittest.TestCase):
    NOW = datetime(2024, 1, 8, 0, 30, tzinfo=timezone.utc)

    def test_defaults_to_yesterday_and_all_formats(self):
        args = landing_to_bronze.parse_args(["--landing-uri", "s3://lake-landing/logins", "--bronze-uri", "s3://lake-bronze"], now=self.NOW)
        self.assertEqual(args.landed_on, date(2024, 1, 7))
        self.assertEqual(args.formats, ["csv", "json"])
        self.assertEqual((args.landing_uri, args.dataset), ("s3://lake-landing/logins/", "logins"))

    def test_explicit_day_and_format(self):
        args = landing_to_bronze.parse_args(
            ["--landing-uri", "s3://lake-landing/x", "--bronze-uri", "s3://lake-bronze", "--landed-on", "2023-12-31", "--format", "json"]
        )
        self.assertEqual((args.landed_on, args.formats), (date(2023, 12, 31), ["json"]))

    def test_rejections(self):
        base = ["--landing-uri", "s3://lake-landing/x", "--bronze-uri", "s3://lake-bronze"]
        self.assertIn("expected a date", fails(landing_to_bronze.parse_args, base + ["--landed-on", "07/01/2024"]))
        self.assertIn("invalid choice", fails(landing_to_bronze.parse_args, base + ["--format", "xml"]))


class DailyReportArgumentsTest(unittest.TestCase):
    def test_defaults(self):
        args = daily_report.parse_args(["--bronze-uri", "s3://lake-bronze", "--gold-uri", "s3://lake-gold"], now=datetime(2024, 3, 1, 3, 0, tzinfo=timezone.utc))
        self.assertEqual(args.report_date, date(2024, 2, 29))
        self.assertEqual((args.top_n, args.trend_days), (10, 7))
        self.assertEqual(
            daily_report.bronze_sources(args),
            {"bronze_logins_kafka": "s3://lake-bronze/kafka/logins_raw/", "bronze_logins_landing": "s3://lake-bronze/landing/logins/"},
        )

    def test_rejections(self):
        base = ["--bronze-uri", "s3://lake-bronze", "--gold-uri", "s3://lake-gold"]
        self.assertIn("positive integer", fails(daily_report.parse_args, base + ["--top-n", "0"]))
        self.assertIn("expected a date", fails(daily_report.parse_args, base + ["--report-date", "2024-13-01"]))
        self.assertIn("--gold-uri", fails(daily_report.parse_args, ["--bronze-uri", "s3://lake-bronze"]))

    def test_empty_relations_offer_every_column_the_view_reads(self):
        for relation, ddl in daily_report.EMPTY_RELATION_DDL.items():
            columns = {part.strip().split(" ")[0] for part in ddl.split(",")}
            with self.subTest(relation=relation):
                self.assertTrue({"event_id", "user_id", "event_time", "source", "dt"} <= columns)
        self.assertIn("is_valid", daily_report.EMPTY_RELATION_DDL["bronze_logins_kafka"])


if __name__ == "__main__":
    unittest.main()
