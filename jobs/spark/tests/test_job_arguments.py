import contextlib
import io
import unittest
from datetime import date, datetime, timezone

import daily_report
import landing_to_bronze
import streaming_bronze
from lakestream_spark.kafka_source import (
    LOGIN_PARSE_FIELDS,
    LOGIN_PARSE_TYPE,
    LOGIN_UDF_NAME,
    MSK_IAM_OPTIONS,
    finishing_columns,
    kafka_source_options,
)
from lakestream_spark.schemas import KAFKA_LOGIN_COLUMNS


def fails(parse, argv):
    with contextlib.redirect_stderr(io.StringIO()) as stderr, unittest.TestCase().assertRaises(SystemExit):
        parse(argv)
    return stderr.getvalue()


class StreamingBronzeArgumentsTest(unittest.TestCase):
    BASE = ["--bootstrap-servers", "b-1:9098,b-2:9098", "--bronze-uri", "s3://lake-bronze", "--silver-uri", "s3://lake-silver"]

    def test_defaults(self):
        args = streaming_bronze.parse_args(self.BASE)
        self.assertEqual(args.bronze_uri, "s3://lake-bronze/")
        self.assertEqual(args.checkpoint_uri, "s3://lake-bronze/_checkpoints/")
        self.assertEqual((args.logins_topic, args.record_topic), ("logins.raw", ["logins.counts"]))
        self.assertEqual((args.trigger_seconds, args.starting_offsets), (60, "earliest"))
        # A new checkpoint starts at the earliest retained offset: the first batch must be bounded.
        self.assertEqual(args.max_offsets_per_trigger, streaming_bronze.DEFAULT_MAX_OFFSETS_PER_TRIGGER)
        self.assertEqual(args.max_future_skew_seconds, 300)
        self.assertFalse(args.fail_on_data_loss)

    def test_overrides(self):
        args = streaming_bronze.parse_args(
            self.BASE
            + [
                "--checkpoint-uri",
                "s3://lake-ckpt/x",
                "--record-topic",
                "a.b",
                "--record-topic",
                "c",
                "--trigger-seconds",
                "30",
                "--max-offsets-per-trigger",
                "5000",
                "--starting-offsets",
                "latest",
                "--fail-on-data-loss",
            ]
        )
        self.assertEqual(args.checkpoint_uri, "s3://lake-ckpt/x/")
        self.assertEqual(args.record_topic, ["a.b", "c"])
        self.assertEqual((args.trigger_seconds, args.max_offsets_per_trigger, args.starting_offsets), (30, 5000, "latest"))
        self.assertTrue(args.fail_on_data_loss)

    def test_rejections(self):
        self.assertIn("--bootstrap-servers", fails(streaming_bronze.parse_args, ["--bronze-uri", "s3://lake-bronze", "--silver-uri", "s3://lake-silver"]))
        # The counts must never fall back to bronze: without a silver root the job does not start.
        self.assertIn("--silver-uri", fails(streaming_bronze.parse_args, ["--bootstrap-servers", "b:9098", "--bronze-uri", "s3://lake-bronze"]))
        self.assertIn(
            "not a valid S3 URI",
            fails(streaming_bronze.parse_args, ["--bootstrap-servers", "b:9098", "--bronze-uri", "s3://X", "--silver-uri", "s3://lake-silver"]),
        )
        self.assertIn("positive integer", fails(streaming_bronze.parse_args, self.BASE + ["--trigger-seconds", "0"]))
        self.assertIn("invalid choice", fails(streaming_bronze.parse_args, self.BASE + ["--starting-offsets", "now"]))
        self.assertIn("listed once", fails(streaming_bronze.parse_args, self.BASE + ["--record-topic", "logins.raw"]))
        self.assertIn("from 0 to 86400", fails(streaming_bronze.parse_args, self.BASE + ["--max-future-skew-seconds", "86401"]))
        self.assertIn("from 0 to 86400", fails(streaming_bronze.parse_args, self.BASE + ["--max-future-skew-seconds", "-1"]))

    def test_plans_one_query_per_topic(self):
        plans = streaming_bronze.plan_streams(streaming_bronze.parse_args(self.BASE))
        self.assertEqual([p.topic for p in plans], ["logins.raw", "logins.counts"])
        self.assertEqual([p.query_name for p in plans], ["bronze_logins_raw", "silver_logins_counts"])
        # Raw events in bronze; Flink's aggregates in silver, the tier Grafana may read.
        self.assertEqual([p.output_uri for p in plans], ["s3://lake-bronze/kafka/logins_raw/", "s3://lake-silver/kafka/logins_counts/"])
        self.assertEqual(
            [p.checkpoint_uri for p in plans],
            ["s3://lake-bronze/_checkpoints/kafka/logins_raw/", "s3://lake-bronze/_checkpoints/kafka/logins_counts/"],
        )
        self.assertEqual([p.has_login_contract for p in plans], [True, False])
        # The contract UDF gets the Kafka value's bytes and the record's timestamp in epoch milliseconds.
        self.assertEqual(plans[0].projection.parse, ("*", "lakestream_login_contract(value, unix_millis(timestamp)) AS login"))
        self.assertIn("timestamp_micros(login.event_time_micros) AS parsed_event_time", plans[0].projection.project)
        self.assertIn("login.reject_code AS reject_code", plans[0].projection.project)
        self.assertIn("CAST(value AS STRING) AS value", plans[0].projection.project)
        self.assertEqual(plans[1].projection.parse, ("*",))
        self.assertNotIn("login", " ".join(plans[1].projection.project))

    def test_kafka_source_receives_the_per_trigger_bound(self):
        # The exact options main() passes to spark.readStream.format("kafka").options(...).
        for argv, bound in ((self.BASE, "200000"), (self.BASE + ["--max-offsets-per-trigger", "5000"], "5000")):
            args = streaming_bronze.parse_args(argv)
            with self.subTest(argv=argv):
                for plan in streaming_bronze.plan_streams(args):
                    self.assertEqual(streaming_bronze.source_options(args, plan)["maxOffsetsPerTrigger"], bound)
        self.assertIn("positive integer", fails(streaming_bronze.parse_args, self.BASE + ["--max-offsets-per-trigger", "0"]))

    def test_writers_cast_to_the_shared_bronze_schema(self):
        logins, counts = streaming_bronze.plan_streams(streaming_bronze.parse_args(self.BASE))
        self.assertEqual(
            streaming_bronze.output_expressions(logins)[:3],
            ("CAST(topic AS STRING) AS topic", "CAST(kafka_partition AS INT) AS kafka_partition", "CAST(kafka_offset AS BIGINT) AS kafka_offset"),
        )
        self.assertEqual(
            streaming_bronze.output_expressions(logins)[-3:],
            ("CAST(reject_detail AS STRING) AS reject_detail", "date_format(event_time, 'yyyy-MM-dd') AS dt", "date_format(event_time, 'HH') AS hr"),
        )
        self.assertEqual(
            [c for c, _ in counts.columns],
            ["topic", "kafka_partition", "kafka_offset", "kafka_timestamp", "key", "value", "event_time", "ingested_at", "user_ref"],
        )
        self.assertEqual(logins.columns, KAFKA_LOGIN_COLUMNS)

    def test_micro_batches_overwrite_their_own_folder(self):
        # Idempotent re-runs: a failed batch re-runs with the same id and offsets and replaces exactly
        # the dt/hr/batch_id folders its failed attempt wrote; other batches' folders are untouched.
        write = streaming_bronze.MICRO_BATCH_WRITE
        self.assertEqual(write.mode, "overwrite")
        self.assertEqual(write.partition_by, ("dt", "hr", "batch_id"))
        self.assertEqual(dict(write.options), {"partitionOverwriteMode": "dynamic"})

        calls = []

        class Recorder:
            def __getattr__(self, name):
                if name == "write":
                    calls.append(("write", ()))
                    return self

                def method(*args):
                    calls.append((name, args))
                    return self

                return method

        plan = streaming_bronze.plan_streams(streaming_bronze.parse_args(self.BASE))[0]
        streaming_bronze.batch_writer(plan)(Recorder(), 42)
        self.assertEqual(
            calls,
            [
                ("selectExpr", ("*", "CAST(42 AS BIGINT) AS batch_id")),
                ("write", ()),
                ("mode", ("overwrite",)),
                ("option", ("partitionOverwriteMode", "dynamic")),
                ("partitionBy", ("dt", "hr", "batch_id")),
                ("parquet", ("s3://lake-bronze/kafka/logins_raw/",)),
            ],
        )

    def test_validity_column_only_for_the_contract_topic(self):
        self.assertIn("(reject_code IS NULL AND event_id IS NOT NULL) AS is_valid", finishing_columns(True))
        self.assertFalse(any("AS is_valid" in c for c in finishing_columns(False)))
        self.assertIn("coalesce(parsed_event_time, kafka_timestamp) AS event_time", finishing_columns(False))

    def test_the_contract_udf_main_registers(self):
        # main(): spark.udf.register(name, udf(function, return_type, useArrow=use_arrow)).
        registration = streaming_bronze.login_udf(streaming_bronze.parse_args(self.BASE + ["--max-future-skew-seconds", "60"]))
        self.assertEqual(registration.name, LOGIN_UDF_NAME)
        self.assertFalse(registration.use_arrow)
        self.assertEqual(
            registration.return_type,
            "STRUCT<event_id: STRING, user_id: STRING, event_time_micros: BIGINT, source: STRING, schema_version: INT, "
            "reject_code: STRING, reject_detail: STRING>",
        )
        self.assertEqual(registration.return_type, LOGIN_PARSE_TYPE)
        # The registered function is the pure per-record check, bound to the configured skew bound,
        # and takes what a pickled UDF receives: the value as a bytearray, the timestamp as an int.
        sent_at = 1704621600000  # 2024-01-07T10:00:00Z
        event = (
            b'{"event_id": "0b5c7a52-2f1e-4c43-9a7e-3d6a1e9b8c10", "user_id": "u", "event_time": "2024-01-07T10:01:00Z", "source": "ga4", "schema_version": 1}'
        )
        accepted = dict(zip((n for n, _ in LOGIN_PARSE_FIELDS), registration.function(bytearray(event), sent_at)))
        self.assertEqual(accepted["reject_code"], None)
        self.assertEqual(accepted["event_time_micros"], (sent_at + 60_000) * 1000)
        early = dict(zip((n for n, _ in LOGIN_PARSE_FIELDS), registration.function(bytearray(event), sent_at - 1)))
        self.assertEqual(early["reject_code"], "event_time_in_future")
        # Every field the projection reads from the UDF's struct is one the struct declares.
        plan = streaming_bronze.plan_streams(streaming_bronze.parse_args(self.BASE))[0]
        read = {expression.split(".", 1)[1].split(" ", 1)[0].rstrip(")") for expression in plan.projection.project if "login." in expression}
        self.assertEqual(read, {n for n, _ in LOGIN_PARSE_FIELDS})


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
    BASE = ["--bronze-uri", "s3://lake-bronze", "--gold-uri", "s3://lake-gold"]

    def test_defaults(self):
        args = daily_report.parse_args(self.BASE, now=datetime(2024, 3, 1, 3, 0, tzinfo=timezone.utc))
        self.assertEqual(args.report_date, date(2024, 2, 29))
        self.assertEqual((args.top_n, args.trend_days, args.late_days), (10, 7, 2))
        self.assertEqual(
            [(r.relation, r.uri) for r in daily_report.bronze_reads(args)],
            [("bronze_logins_kafka", "s3://lake-bronze/kafka/logins_raw/"), ("bronze_logins_landing", "s3://lake-bronze/landing/logins/")],
        )

    def test_rejections(self):
        self.assertIn("from 1 to 1000", fails(daily_report.parse_args, self.BASE + ["--top-n", "0"]))
        self.assertIn("from 1 to 366", fails(daily_report.parse_args, self.BASE + ["--trend-days", "367"]))
        self.assertIn("from 0 to 31", fails(daily_report.parse_args, self.BASE + ["--late-days", "-1"]))
        self.assertIn("expected a date", fails(daily_report.parse_args, self.BASE + ["--report-date", "2024-13-01"]))
        self.assertIn("--gold-uri", fails(daily_report.parse_args, ["--bronze-uri", "s3://lake-bronze"]))

    def test_reads_with_the_writers_schemas(self):
        # Explicit schemas: an empty streaming folder (no Parquet file yet) reads as empty instead of
        # failing with "Unable to infer schema", and a folder that does not exist becomes an empty
        # relation with the same columns.
        kafka, landing = daily_report.bronze_reads(daily_report.parse_args(self.BASE))
        self.assertEqual(
            kafka.schema_ddl,
            "topic STRING, kafka_partition INT, kafka_offset BIGINT, kafka_timestamp TIMESTAMP, key STRING, value STRING, "
            "event_id STRING, user_id STRING, source STRING, schema_version INT, event_time TIMESTAMP, ingested_at TIMESTAMP, "
            "is_valid BOOLEAN, reject_code STRING, reject_detail STRING, dt STRING, hr STRING, batch_id BIGINT",
        )
        self.assertEqual(
            landing.schema_ddl,
            "event_id STRING, user_id STRING, event_time TIMESTAMP, source STRING, schema_version INT, source_file STRING, "
            "ingested_at TIMESTAMP, landed_on STRING, dt STRING, hr STRING",
        )
        for read in (kafka, landing):
            columns = {part.strip().split(" ")[0] for part in read.schema_ddl.split(",")}
            with self.subTest(relation=read.relation):
                self.assertTrue({"event_id", "user_id", "event_time", "source", "dt"} <= columns)

    def test_only_a_missing_folder_counts_as_empty(self):
        missing = Exception("[PATH_NOT_FOUND] Path does not exist: s3://lake-bronze/kafka/logins_raw.")
        denied = Exception("java.nio.file.AccessDeniedException: s3://lake-bronze/kafka/logins_raw: getFileStatus on ...: 403 Forbidden")
        self.assertTrue(daily_report.is_missing_path(missing))
        self.assertFalse(daily_report.is_missing_path(denied))

    def test_a_run_replaces_each_reported_day_folder_including_late_days(self):
        args = daily_report.parse_args(self.BASE + ["--report-date", "2024-03-01"])
        writes = daily_report.report_writes(args)
        self.assertEqual(sorted({w.report_date for w in writes}), [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)])
        self.assertEqual(len(writes), 3 * 4)
        self.assertEqual(writes[0].uri, "s3://lake-gold/reports/logins_per_user_per_day/report_date=2024-02-28/")
        self.assertEqual(writes[-1].uri, "s3://lake-gold/reports/login_trends/report_date=2024-03-01/")
        only_today = daily_report.report_writes(daily_report.parse_args(self.BASE + ["--report-date", "2024-03-01", "--late-days", "0"]))
        self.assertEqual({w.report_date for w in only_today}, {date(2024, 3, 1)})


class LandingOutputsTest(unittest.TestCase):
    ARGS = ["--landing-uri", "s3://lake-landing/logins", "--bronze-uri", "s3://lake-bronze", "--landed-on", "2024-01-07"]

    def test_each_output_replaces_its_whole_day_folder(self):
        # A static overwrite of landed_on=<day>/ removes every dt/hr partition and quarantine file a
        # previous run of the day wrote, also when this run yields none of them.
        bronze, quarantine = landing_to_bronze.day_outputs(landing_to_bronze.parse_args(self.ARGS))
        self.assertEqual(bronze.uri, "s3://lake-bronze/landing/logins/landed_on=2024-01-07/")
        self.assertEqual((bronze.mode, dict(bronze.options), bronze.partition_by), ("overwrite", {"partitionOverwriteMode": "static"}, ("dt", "hr")))
        self.assertEqual(bronze.columns, ("event_id", "user_id", "event_time", "source", "schema_version", "source_file", "ingested_at", "dt", "hr"))
        self.assertEqual(quarantine.uri, "s3://lake-bronze/quarantine/landing/logins/landed_on=2024-01-07/")
        self.assertEqual((quarantine.mode, dict(quarantine.options), quarantine.partition_by), ("overwrite", {"partitionOverwriteMode": "static"}, ()))
        self.assertEqual((bronze.valid, quarantine.valid), (True, False))

    def test_file_source_options(self):
        options = dict(landing_to_bronze.file_source_options(landing_to_bronze.parse_args(self.ARGS + ["--format", "csv"])))
        self.assertEqual(
            options,
            {
                "pathGlobFilter": "*.{[cC][sS][vV],[cC][sS][vV].[gG][zZ]}",
                "recursiveFileLookup": "true",
                "modifiedAfter": "2024-01-07T00:00:00",
                "modifiedBefore": "2024-01-08T00:00:00",
            },
        )


if __name__ == "__main__":
    unittest.main()
