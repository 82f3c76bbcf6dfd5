import re
import unittest
from datetime import datetime, timezone

from jobs.flink.login_counts.job_config import JobConfig
from jobs.flink.login_counts.login_records import Login, parse_login
from jobs.flink.login_counts.login_sql import (
    DLQ_SINK,
    RAW_TABLE,
    REJECTION_UDF,
    RUNNING_SINK,
    WINDOW_SINK,
    build_plan,
    build_statements,
    build_table_config,
    event_time_expression,
    sql_string,
)

CONFIG = JobConfig(
    bootstrap_servers=("b-1.msk.example:9098", "b-2.msk.example:9098"),
    raw_topic="logins.raw",
    counts_topic="logins.counts",
    dlq_topic="logins.raw.dlq",
    consumer_group_id="lakestream-login-counts",
    window_minutes=15,
    lateness_seconds=120,
    watermark_seconds=20,
    idle_timeout_seconds=45,
    max_future_skew_seconds=300,
)


def split_top_level(text, separator=","):
    """Splits SQL on a separator outside parentheses and string literals."""
    parts, depth, in_string, current = [], 0, False, []
    for char in text:
        if char == "'":
            in_string = not in_string
        elif not in_string and char == "(":
            depth += 1
        elif not in_string and char == ")":
            depth -= 1
        if char == separator and depth == 0 and not in_string:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def with_options(statement):
    """The WITH ('k' = 'v', ...) options of a CREATE TABLE statement as a dict."""
    clause = statement[statement.index(") WITH (") + len(") WITH (") : statement.rindex(")")]
    options = {}
    for entry in split_top_level(clause):
        key, value = re.fullmatch(r"'((?:[^']|'')*)' = '((?:[^']|'')*)'", entry).groups()
        options[key.replace("''", "'")] = value.replace("''", "'")
    return options


def table_columns(statement):
    body = statement[statement.index("(") + 1 : statement.index(") WITH (")]
    return [part.split()[0].strip("`") for part in split_top_level(body) if part.startswith("`")]


def statement_named(statements, prefix):
    matches = [statement for statement in statements if statement.startswith(prefix)]
    if len(matches) != 1:
        raise AssertionError(f"expected one statement starting with {prefix!r}, found {len(matches)}")
    return matches[0]


class StatementShapeTest(unittest.TestCase):
    def setUp(self):
        self.statements = build_statements(CONFIG)

    def test_ddl_comes_before_the_three_inserts(self):
        kinds = [statement.split()[0] for statement in self.statements]
        self.assertEqual(kinds, ["CREATE"] * 6 + ["INSERT"] * 3)
        plan = build_plan(CONFIG)
        self.assertEqual(list(plan.ddl) + list(plan.inserts), self.statements)

    def test_every_statement_has_balanced_parentheses_and_quotes(self):
        for statement in self.statements:
            with self.subTest(statement=statement[:60]):
                self.assertEqual(statement.count("'") % 2, 0)
                depth = 0
                in_string = False
                for char in statement:
                    if char == "'":
                        in_string = not in_string
                    elif not in_string:
                        depth += {"(": 1, ")": -1}.get(char, 0)
                        self.assertGreaterEqual(depth, 0)
                self.assertEqual(depth, 0)

    def test_each_insert_selects_as_many_columns_as_its_sink_has(self):
        for sink in (RUNNING_SINK, WINDOW_SINK, DLQ_SINK):
            with self.subTest(sink=sink):
                ddl = statement_named(self.statements, f"CREATE TEMPORARY TABLE {sink} ")
                insert = statement_named(self.statements, f"INSERT INTO {sink}\n")
                select_list = insert[insert.index("SELECT ") + len("SELECT ") : insert.index("\nFROM ")]
                self.assertEqual(len(split_top_level(select_list)), len(table_columns(ddl)))


class SourceTableTest(unittest.TestCase):
    def setUp(self):
        self.ddl = statement_named(build_statements(CONFIG), f"CREATE TEMPORARY TABLE {RAW_TABLE} ")

    def test_reads_the_raw_topic_as_bytes_with_msk_iam_from_the_earliest_offset_without_state(self):
        self.assertEqual(
            with_options(self.ddl),
            {
                "connector": "kafka",
                "topic": "logins.raw",
                "properties.group.id": "lakestream-login-counts",
                "scan.startup.mode": "earliest-offset",
                "format": "raw",
                "properties.bootstrap.servers": "b-1.msk.example:9098,b-2.msk.example:9098",
                "properties.security.protocol": "SASL_SSL",
                "properties.sasl.mechanism": "AWS_MSK_IAM",
                "properties.sasl.jaas.config": "software.amazon.msk.auth.iam.IAMLoginModule required;",
                "properties.sasl.client.callback.handler.class": "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
            },
        )

    def test_exposes_kafka_metadata_and_a_watermarked_event_time(self):
        self.assertEqual(
            table_columns(self.ddl),
            ["payload", "kafka_topic", "kafka_partition", "kafka_offset", "kafka_timestamp", "event_time"],
        )
        self.assertIn("`kafka_timestamp` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL", self.ddl)
        self.assertIn("`payload` BYTES", self.ddl)
        self.assertIn("WATERMARK FOR `event_time` AS `event_time` - INTERVAL '20' SECOND", self.ddl)
        self.assertIn(f"`event_time` AS {event_time_expression(300)}", self.ddl)

    def test_event_time_falls_back_to_the_broker_time_beyond_the_skew_bound(self):
        expression = event_time_expression(90)
        self.assertTrue(expression.startswith("CASE WHEN TO_TIMESTAMP(CONCAT(SUBSTR(JSON_VALUE(CAST(`payload` AS STRING)"))
        self.assertIn("> CAST(`kafka_timestamp` AS TIMESTAMP(3)) + INTERVAL '90' SECOND THEN CAST(`kafka_timestamp` AS TIMESTAMP(3))", expression)
        self.assertIn("+ INTERVAL '5' MINUTE THEN", event_time_expression(300))


class EventTimeAgreementTest(unittest.TestCase):
    """The SQL slices the event_time text by position; check those positions against the Python
    parser on contract-valid values, interpreting SUBSTR the way SQL does (1-based)."""

    def test_sql_positions_give_the_python_instant_truncated_to_the_second(self):
        positions = [(int(start), int(length)) for start, length in re.findall(r"ERROR\), (\d+), (\d+)\)", event_time_expression(300))]
        (date_start, date_length), (time_start, time_length) = positions[:2]
        broker = datetime(2024, 5, 1, 13, 0, tzinfo=timezone.utc)
        for text in ["2024-05-01T12:00:00Z", "2024-05-01T12:00:59.999Z", "2024-02-29T23:59:59.123456789Z", "2024-05-01T00:00:00.5Z"]:
            with self.subTest(text=text):
                login = parse_login('{"event_id":"ga4:e","user_id":"u","source":"ga4","schema_version":1,"event_time":"%s"}' % text, broker)
                self.assertIsInstance(login, Login)
                date = text[date_start - 1 : date_start - 1 + date_length]
                time = text[time_start - 1 : time_start - 1 + time_length]
                sql_instant = datetime.strptime(f"{date} {time}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
                self.assertEqual(sql_instant, login.event_time.replace(microsecond=0))


class SinkTableTest(unittest.TestCase):
    def setUp(self):
        self.statements = build_statements(CONFIG)

    def test_counts_sinks_upsert_into_the_compacted_topic_keyed_by_record_key(self):
        for sink in (RUNNING_SINK, WINDOW_SINK):
            with self.subTest(sink=sink):
                ddl = statement_named(self.statements, f"CREATE TEMPORARY TABLE {sink} ")
                options = with_options(ddl)
                self.assertEqual(options["connector"], "upsert-kafka")
                self.assertEqual(options["topic"], "logins.counts")
                self.assertEqual(options["key.format"], "raw")
                self.assertEqual(options["value.format"], "json")
                self.assertEqual(options["value.fields-include"], "EXCEPT_KEY")
                self.assertEqual(options["properties.sasl.mechanism"], "AWS_MSK_IAM")
                self.assertIn("PRIMARY KEY (`record_key`) NOT ENFORCED", ddl)

    def test_output_event_fields(self):
        running = statement_named(self.statements, f"CREATE TEMPORARY TABLE {RUNNING_SINK} ")
        window = statement_named(self.statements, f"CREATE TEMPORARY TABLE {WINDOW_SINK} ")
        self.assertEqual(table_columns(running), ["record_key", "user_id", "login_count", "kind", "emitted_at", "schema_version", "record_time"])
        self.assertEqual(
            table_columns(window),
            ["record_key", "user_id", "login_count", "kind", "window_start", "window_end", "emitted_at", "schema_version", "record_time"],
        )

    def test_the_record_timestamp_is_written_through_kafka_metadata(self):
        for sink in (RUNNING_SINK, WINDOW_SINK):
            with self.subTest(sink=sink):
                ddl = statement_named(self.statements, f"CREATE TEMPORARY TABLE {sink} ")
                # Writable (not VIRTUAL): the connector sets the Kafka record timestamp from it.
                self.assertIn("`record_time` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',\n", ddl)

    def test_dead_letters_go_to_the_dlq_topic_with_provenance(self):
        ddl = statement_named(self.statements, f"CREATE TEMPORARY TABLE {DLQ_SINK} ")
        options = with_options(ddl)
        self.assertEqual((options["connector"], options["topic"], options["value.format"]), ("kafka", "logins.raw.dlq", "json"))
        self.assertEqual(options["properties.security.protocol"], "SASL_SSL")
        self.assertEqual(
            table_columns(ddl),
            ["reason", "payload", "source_topic", "source_partition", "source_offset", "broker_timestamp", "rejected_at"],
        )


class RoutingAndAggregationTest(unittest.TestCase):
    def setUp(self):
        self.statements = build_statements(CONFIG)

    def test_the_udf_classifies_every_record_once_and_splits_accepted_from_rejected(self):
        checked = statement_named(self.statements, "CREATE TEMPORARY VIEW checked_logins ")
        accepted = statement_named(self.statements, "CREATE TEMPORARY VIEW accepted_logins ")
        dlq = statement_named(self.statements, f"INSERT INTO {DLQ_SINK}\n")
        self.assertIn(f"{REJECTION_UDF}(`payload`, `kafka_timestamp`) AS `rejection`", checked)
        self.assertTrue(accepted.endswith("WHERE `rejection` IS NULL"))
        self.assertTrue(dlq.endswith("FROM checked_logins\nWHERE `rejection` IS NOT NULL"))
        self.assertIn("SELECT `rejection`, CAST(`payload` AS STRING)", dlq)

    def test_running_count_groups_by_user(self):
        running = statement_named(self.statements, f"INSERT INTO {RUNNING_SINK}\n")
        self.assertIn("FROM accepted_logins", running)
        self.assertTrue(running.endswith("GROUP BY `user_id`"))

    def test_window_count_uses_a_tumbling_event_time_window_of_the_configured_length(self):
        window = statement_named(self.statements, f"INSERT INTO {WINDOW_SINK}\n")
        self.assertTrue(window.endswith("GROUP BY `user_id`, TUMBLE(`event_time`, INTERVAL '15' MINUTE)"))
        self.assertIn("TUMBLE_START(`event_time`, INTERVAL '15' MINUTE)", window)
        self.assertIn("TUMBLE_END(`event_time`, INTERVAL '15' MINUTE)", window)

    def test_user_id_is_the_contract_value_untrimmed(self):
        accepted = statement_named(self.statements, "CREATE TEMPORARY VIEW accepted_logins ")
        self.assertIn("SELECT JSON_VALUE(CAST(`payload` AS STRING), '$.user_id' NULL ON EMPTY NULL ON ERROR) AS `user_id`", accepted)


class TableConfigTest(unittest.TestCase):
    def test_lateness_idle_timeout_and_utc(self):
        settings = build_table_config(CONFIG)
        self.assertEqual(settings["table.exec.state.ttl"], f"{CONFIG.state_ttl_hours} h")
        self.assertEqual(settings["table.local-time-zone"], "UTC")
        self.assertEqual(settings["table.exec.emit.allow-lateness"], "120 s")
        self.assertEqual(settings["table.exec.emit.late-fire.enabled"], "true")
        self.assertEqual(settings["table.exec.emit.late-fire.delay"], "0 s")
        self.assertEqual(settings["table.exec.source.idle-timeout"], "45 s")
        self.assertEqual(settings["table.exec.sink.upsert-materialize"], "NONE")

    def test_zero_lateness_and_idle_timeout_turn_the_features_off(self):
        settings = build_table_config(JobConfig(bootstrap_servers=("b:9098",), lateness_seconds=0, idle_timeout_seconds=0))
        self.assertNotIn("table.exec.emit.allow-lateness", settings)
        self.assertNotIn("table.exec.emit.late-fire.enabled", settings)
        self.assertNotIn("table.exec.source.idle-timeout", settings)


class SqlStringTest(unittest.TestCase):
    def test_doubles_single_quotes(self):
        self.assertEqual(sql_string("it's"), "'it''s'")


if __name__ == "__main__":
    unittest.main()
